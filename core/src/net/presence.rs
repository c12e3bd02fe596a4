//! Who is connected, and who is mid-sync: the contact state the windows show, with an event on
//! every change of it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use iroh::endpoint::{Connection, VarInt};
use tokio::sync::broadcast;

use super::{NetEvent, PeerState};

/// Connections per peer and the peers whose documents are not yet in step.
#[derive(Clone, Debug)]
pub(crate) struct Presence {
    inner: Arc<Mutex<Inner>>,
    events: broadcast::Sender<NetEvent>,
}

#[derive(Debug, Default)]
struct Inner {
    connections: HashMap<String, Vec<Connection>>,
    syncing: HashSet<String>,
}

impl Inner {
    fn state(&self, peer: &str) -> PeerState {
        match self.connections.get(peer) {
            Some(c) if !c.is_empty() && self.syncing.contains(peer) => PeerState::Syncing,
            Some(c) if !c.is_empty() => PeerState::Online,
            _ => PeerState::Offline,
        }
    }
}

impl Presence {
    pub(crate) fn new(events: broadcast::Sender<NetEvent>) -> Self {
        Self {
            inner: Arc::default(),
            events,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `f` and reports the peer's new state if it changed.
    fn update(&self, peer: &str, f: impl FnOnce(&mut Inner)) {
        let (old, new) = {
            let mut inner = self.lock();
            let old = inner.state(peer);
            f(&mut inner);
            (old, inner.state(peer))
        };
        if old != new {
            let _no_receivers = self.events.send(NetEvent::PeerState {
                peer: peer.to_string(),
                state: new,
            });
        }
    }

    /// A sync connection with `peer` opened.
    pub(crate) fn connected(&self, peer: &str, conn: &Connection) {
        self.update(peer, |i| {
            i.connections
                .entry(peer.to_string())
                .or_default()
                .push(conn.clone());
        });
    }

    /// A sync connection with `peer` closed; the peer stays online while another is open.
    pub(crate) fn disconnected(&self, peer: &str, conn: &Connection) {
        let id = conn.stable_id();
        self.update(peer, |i| {
            if let Some(list) = i.connections.get_mut(peer) {
                list.retain(|c| c.stable_id() != id);
                if list.is_empty() {
                    i.connections.remove(peer);
                }
            }
        });
    }

    /// Closes every connection with `peer`, whichever side opened it.
    pub(crate) fn cut(&self, peer: &str) {
        let mut closed = Vec::new();
        self.update(peer, |i| {
            closed = i.connections.remove(peer).unwrap_or_default();
            i.syncing.remove(peer);
        });
        for conn in closed {
            conn.close(VarInt::from_u32(2), b"unpaired");
        }
    }

    /// Whether documents shared with `peer` are still being brought in step.
    pub(crate) fn set_syncing(&self, peer: &str, syncing: bool) {
        self.update(peer, |i| {
            if syncing {
                i.syncing.insert(peer.to_string());
            } else {
                i.syncing.remove(peer);
            }
        });
    }

    /// The peer's state now.
    pub(crate) fn state(&self, peer: &str) -> PeerState {
        self.lock().state(peer)
    }
}
