//! Per-peer sync state that outlives a connection (Backstory patch).
//!
//! Automerge's sync protocol opens every session by sending a Bloom filter of
//! all changes since the heads both sides are known to share. A fresh
//! `sync::State` knows of no shared heads, so every reconnection costs a filter
//! over the whole history (about 1.25 bytes per change, in both directions).
//! This keeps the shared heads per (document, peer) in memory and in storage
//! under `<doc>/sync-state/<peer>`, and seeds new connections with them, the
//! way automerge-repo does: reconnecting with nothing new then costs a few
//! hundred bytes whatever the history's length.
//!
//! Only heads that are in the local document are used as a seed; if the peer
//! no longer has them, Automerge's reset handshake falls back to a full sync.

use std::collections::{HashMap, HashSet};

use automerge::{Automerge, ChangeHash, ReadDoc, sync};

use crate::actors::document::DocActorResult;
use crate::actors::document::peer_doc_connection::PeerDocConnection;
use crate::io::{IoTaskId, StorageResult};
use crate::{DocumentId, PeerId, StorageKey};

#[derive(Debug, Default)]
pub(super) struct SyncMemory {
    /// Whether the stored states have been read.
    loaded: bool,
    /// The latest shared heads known per peer.
    shared: HashMap<PeerId, Vec<ChangeHash>>,
    /// Writes of sync states not yet acknowledged by storage.
    running_puts: HashSet<IoTaskId>,
}

impl SyncMemory {
    pub(super) fn new() -> Self {
        Self::default()
    }

    /// Take in the states read from storage. Unreadable entries are skipped:
    /// the connection then starts from nothing, which is slower but correct.
    pub(super) fn load(&mut self, doc_id: &DocumentId, stored: HashMap<StorageKey, Vec<u8>>) {
        let prefix = StorageKey::sync_state_prefix(doc_id);
        for (key, bytes) in stored {
            let Some(peer) = key
                .onelevel_deeper(&prefix)
                .and_then(|k| k.into_iter().last())
            else {
                continue;
            };
            match sync::State::decode(&bytes) {
                Ok(state) => {
                    self.shared
                        .entry(PeerId::from(peer))
                        .or_insert(state.shared_heads);
                }
                Err(e) => tracing::warn!(err=?e, %key, "ignoring unreadable sync state"),
            }
        }
        self.loaded = true;
    }

    /// Seed a connection that has not synced yet with the heads shared with
    /// its peer before, once stored states are read and access is decided.
    pub(super) fn resume(&self, doc: &Automerge, conn: &mut PeerDocConnection) {
        if !self.loaded || !conn.is_fresh() || !conn.can_read() {
            return;
        }
        if let Some(heads) = self.seed(&conn.peer_id, doc) {
            tracing::debug!(peer_id=?conn.peer_id, ?heads, "resuming sync from shared heads");
            conn.resume_from(heads);
        }
    }

    /// Keep the heads each connected peer is known to share, for the next
    /// connection.
    pub(super) fn remember_all<'a>(
        &mut self,
        out: &mut DocActorResult,
        doc_id: &DocumentId,
        conns: impl Iterator<Item = &'a PeerDocConnection>,
    ) {
        for conn in conns {
            if !conn.is_fresh() && conn.can_read() {
                self.remember(out, doc_id, &conn.peer_id, &conn.sync_state.shared_heads);
            }
        }
    }

    /// The shared heads to resume from with `peer`, if all are in `doc`.
    fn seed(&self, peer: &PeerId, doc: &Automerge) -> Option<Vec<ChangeHash>> {
        let heads = self.shared.get(peer)?;
        (!heads.is_empty() && heads.iter().all(|h| doc.get_change_by_hash(h).is_some()))
            .then(|| heads.clone())
    }

    /// Record the heads shared with `peer`, writing them when they moved.
    fn remember(
        &mut self,
        out: &mut DocActorResult,
        doc_id: &DocumentId,
        peer: &PeerId,
        heads: &[ChangeHash],
    ) {
        if heads.is_empty() || self.shared.get(peer).is_some_and(|h| h == heads) {
            return;
        }
        self.shared.insert(peer.clone(), heads.to_vec());
        let Some(key) = StorageKey::sync_state_path(doc_id, peer) else {
            tracing::debug!(%peer, "peer id cannot name a storage key; sync state kept in memory");
            return;
        };
        let state = sync::State {
            shared_heads: heads.to_vec(),
            ..sync::State::new()
        };
        let task = out.put(key, state.encode());
        self.running_puts.insert(task);
    }

    pub(super) fn has_task(&self, task_id: IoTaskId) -> bool {
        self.running_puts.contains(&task_id)
    }

    pub(super) fn task_complete(&mut self, task_id: IoTaskId, result: StorageResult) {
        self.running_puts.remove(&task_id);
        if !matches!(result, StorageResult::Put) {
            tracing::warn!(?task_id, "unexpected storage result for a sync state write");
        }
    }

    pub(super) fn is_flushed(&self) -> bool {
        self.running_puts.is_empty()
    }
}
