//! A knock: the side of a pair that waits to be dialed tells the dialing side that it is back.
//!
//! Of two contacts only the one with the smaller endpoint id dials (and redials with backoff, up
//! to seconds apart, while the other is away). When the other comes back it knocks: a connection
//! on its own ALPN that carries nothing and closes at once. The dialing side, if not connected,
//! then dials again at once instead of at its next backoff. Only contacts get through the
//! handshake hook, as on every ALPN but pairing's.

use std::time::Duration;

use iroh::endpoint::{Connection, VarInt};
use iroh::protocol::{AcceptError, ProtocolHandler};
use iroh::{Endpoint, EndpointAddr, EndpointId};
use tokio::sync::mpsc;

/// The ALPN of a knock.
pub const KNOCK_ALPN: &[u8] = b"backstory/knock/1";
/// How long a knock may take to get through: a contact that is away is simply not there.
const KNOCK_PATIENCE: Duration = Duration::from_secs(5);

/// How many knocks may wait to be heard; more are dropped (a knock only hastens a dial).
pub(crate) const KNOCKS_WAITING: usize = 64;

/// Receives knocks and passes on who knocked.
#[derive(Debug)]
pub(crate) struct KnockProtocol {
    pub(crate) knocked: mpsc::Sender<EndpointId>,
}

impl ProtocolHandler for KnockProtocol {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        // Dropped when many wait, or once the network stops: the knock is then moot.
        let _ = self.knocked.try_send(conn.remote_id());
        conn.close(VarInt::from_u32(0), b"heard");
        Ok(())
    }
}

/// Knocks on a contact's door, in the background; a contact that is away is not retried (it
/// dials when it comes back).
pub(crate) fn knock(endpoint: Endpoint, addr: EndpointAddr) {
    tokio::spawn(async move {
        let peer = addr.id;
        match tokio::time::timeout(KNOCK_PATIENCE, endpoint.connect(addr, KNOCK_ALPN)).await {
            Ok(Ok(conn)) => {
                // The other side closes once it has heard.
                conn.closed().await;
                tracing::debug!("knocked on {peer}'s door");
            }
            Ok(Err(e)) => tracing::debug!("cannot knock on {peer}'s door: {e}"),
            Err(_) => tracing::debug!("{peer} did not answer a knock"),
        }
    });
}
