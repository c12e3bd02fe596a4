//! Accepting pairing connections from anyone (a joiner is not a contact yet), within bounds: a
//! few at a time, one per endpoint, and each step of the exchange on a deadline, so strangers can
//! neither pile up connections nor hold one open doing nothing.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use iroh::TransportAddr;
use iroh::endpoint::{Connection, VarInt};
use iroh::protocol::{AcceptError, ProtocolHandler};
use tokio::sync::Semaphore;

/// Pairing connections answered at once; more are closed at once with "busy".
pub const MAX_PAIRINGS: usize = 8;
/// How long a joiner may take to open its stream, and then to send its request.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(10);

/// What the network needs from the engine to answer pairing requests.
pub trait PairingHandler: Send + Sync + std::fmt::Debug + 'static {
    /// Answers a join from an authenticated peer on the given stream halves. `seen` holds the
    /// addresses the connection really comes from: the only ones worth dialing later.
    fn answer(
        &self,
        peer: String,
        seen: Vec<SocketAddr>,
        send: iroh::endpoint::SendStream,
        recv: iroh::endpoint::RecvStream,
    ) -> BoxFuture<'static, ()>;
}

#[derive(Debug)]
pub(super) struct PairProtocol<H: PairingHandler> {
    handler: Arc<H>,
    slots: Arc<Semaphore>,
    busy: Arc<Mutex<HashSet<String>>>,
}

impl<H: PairingHandler> PairProtocol<H> {
    pub(super) fn new(handler: Arc<H>) -> Self {
        Self {
            handler,
            slots: Arc::new(Semaphore::new(MAX_PAIRINGS)),
            busy: Arc::default(),
        }
    }
}

/// Releases an endpoint's place when its pairing connection ends, however it ends.
struct Place(Arc<Mutex<HashSet<String>>>, String);

impl Drop for Place {
    fn drop(&mut self) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.1);
    }
}

impl<H: PairingHandler> ProtocolHandler for PairProtocol<H> {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id().to_string();
        let Ok(_slot) = self.slots.clone().try_acquire_owned() else {
            conn.close(VarInt::from_u32(429), b"busy");
            return Ok(());
        };
        let fresh = self
            .busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(peer.clone());
        if !fresh {
            conn.close(VarInt::from_u32(429), b"one pairing at a time");
            return Ok(());
        }
        let _place = Place(self.busy.clone(), peer.clone());
        let Ok(streams) = tokio::time::timeout(STEP_TIMEOUT, conn.accept_bi()).await else {
            conn.close(VarInt::from_u32(408), b"too slow");
            return Ok(());
        };
        let (send, recv) = streams?;
        let seen = conn
            .paths()
            .iter()
            .filter_map(|p| match p.remote_addr() {
                TransportAddr::Ip(a) => Some(*a),
                _ => None,
            })
            .collect();
        self.handler.answer(peer, seen, send, recv).await;
        // Let the last answer reach the joiner before the connection goes.
        tokio::time::timeout(Duration::from_secs(5), conn.closed())
            .await
            .ok();
        Ok(())
    }
}

/// The addresses a joiner announced that the inviter will dial later: only those on a host the
/// connection really came from (a joiner cannot point the inviter at a third machine), at most
/// a handful, each a unicast address with a port.
pub fn dialable(announced: &[SocketAddr], seen: &[SocketAddr]) -> Vec<SocketAddr> {
    let mut out: Vec<SocketAddr> = Vec::new();
    for a in announced {
        let ip = a.ip();
        let usable =
            a.port() != 0 && !ip.is_unspecified() && !ip.is_multicast() && !is_broadcast(ip);
        if usable && seen.iter().any(|s| s.ip() == ip) && !out.contains(a) {
            out.push(*a);
        }
        if out.len() == 4 {
            break;
        }
    }
    out
}

fn is_broadcast(ip: std::net::IpAddr) -> bool {
    matches!(ip, std::net::IpAddr::V4(v4) if v4.is_broadcast())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_joiner_cannot_point_the_inviter_at_another_host() {
        let seen = [a("192.168.1.20:4100")];
        let announced = [
            a("192.168.1.20:4100"),
            a("192.168.1.20:4101"),
            a("10.0.0.1:22"),
            a("0.0.0.0:4100"),
            a("192.168.1.20:0"),
            a("255.255.255.255:9"),
            a("224.0.0.1:5353"),
            a("192.168.1.20:4100"),
        ];
        assert_eq!(
            dialable(&announced, &seen),
            [a("192.168.1.20:4100"), a("192.168.1.20:4101")]
        );
        assert!(
            dialable(&announced, &[]).is_empty(),
            "nothing seen, nothing kept"
        );
        let many: Vec<SocketAddr> = (1..100).map(|p| SocketAddr::new(seen[0].ip(), p)).collect();
        assert_eq!(dialable(&many, &seen).len(), 4);
    }
}
