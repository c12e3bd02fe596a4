//! Media blobs: an on-disk, BLAKE3-verified store served over iroh-blobs — but only to contacts,
//! and only the hashes that entries published to that contact reference.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use iroh::EndpointId;
use iroh_blobs::Hash;
use iroh_blobs::provider::events::{
    AbortReason, ConnectMode, EventMask, EventSender, ObserveMode, ProviderMessage, RequestMode,
    ThrottleMode,
};

/// Why a peer may fetch some hashes: the entries of my panel for them, or my voice comments on
/// theirs. Each is replaced on its own; a peer may fetch what either grants.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Grant {
    /// Media of the entries published to them.
    Panel,
    /// Recordings of my comments on their panel.
    Comments,
}

/// What one peer may fetch, by reason.
type PeerGrants = HashMap<Grant, HashSet<Hash>>;

/// Which (peer, hash) pairs may be served.
#[derive(Clone, Debug, Default)]
pub struct BlobGrants(Arc<RwLock<HashMap<EndpointId, PeerGrants>>>);

impl BlobGrants {
    /// Replaces what one peer may fetch for the entries of my panel.
    pub fn set(&self, peer: EndpointId, hashes: HashSet<Hash>) {
        self.set_for(peer, Grant::Panel, hashes);
    }

    /// Replaces what one peer may fetch for one reason.
    pub fn set_for(&self, peer: EndpointId, why: Grant, hashes: HashSet<Hash>) {
        let mut g = self.0.write().unwrap_or_else(|p| p.into_inner());
        let grants = g.entry(peer).or_default();
        if hashes.is_empty() {
            grants.remove(&why);
        } else {
            grants.insert(why, hashes);
        }
        if grants.is_empty() {
            g.remove(&peer);
        }
    }

    /// Forgets a peer entirely.
    pub fn revoke(&self, peer: &EndpointId) {
        self.0
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .remove(peer);
    }

    fn allows(&self, peer: Option<EndpointId>, hash: &Hash) -> bool {
        peer.is_some_and(|p| {
            self.0
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(&p)
                .is_some_and(|g| g.values().any(|h| h.contains(hash)))
        })
    }

    /// An event sender for `BlobsProtocol` that asks these grants about every request.
    pub fn gatekeeper(&self) -> EventSender {
        let mask = EventMask {
            connected: ConnectMode::Intercept,
            get: RequestMode::Intercept,
            // A many-hash request would bypass the per-hash check.
            get_many: RequestMode::Disabled,
            // Nobody writes into this store from outside: media arrive by our own fetch only.
            push: RequestMode::Disabled,
            // "Do you have X?" answers leak too.
            observe: ObserveMode::Intercept,
            throttle: ThrottleMode::None,
        };
        let (tx, mut rx) = EventSender::channel(32, mask);
        let grants = self.clone();
        tokio::spawn(async move {
            let mut conns: HashMap<u64, EndpointId> = HashMap::new();
            while let Some(msg) = rx.recv().await {
                match msg {
                    ProviderMessage::ClientConnected(msg) => {
                        if let Some(id) = msg.endpoint_id {
                            conns.insert(msg.connection_id, id);
                        }
                        msg.tx.send(Ok(())).await.ok();
                    }
                    ProviderMessage::ConnectionClosed(msg) => {
                        conns.remove(&msg.connection_id);
                    }
                    ProviderMessage::GetRequestReceived(msg) => {
                        let who = conns.get(&msg.connection_id).copied();
                        let ok =
                            msg.request.ranges.is_blob() && grants.allows(who, &msg.request.hash);
                        let answer = if ok {
                            Ok(())
                        } else {
                            Err(AbortReason::Permission)
                        };
                        msg.tx.send(answer).await.ok();
                    }
                    ProviderMessage::ObserveRequestReceived(msg) => {
                        let who = conns.get(&msg.connection_id).copied();
                        let answer = if grants.allows(who, &msg.request.hash) {
                            Ok(())
                        } else {
                            Err(AbortReason::Permission)
                        };
                        msg.tx.send(answer).await.ok();
                    }
                    _ => {}
                }
            }
        });
        tx
    }
}
