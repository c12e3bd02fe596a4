//! samod's `Storage` on the SQLite store.
//!
//! samod's trait cannot return errors, so a write that fails is kept, in order with the writes
//! after it, and tried again until it is durable; meanwhile the store's health says why, and the
//! engine refuses further changes with that error instead of pretending. A full disk is the usual
//! cause: once space is freed the waiting writes go through and the engine takes changes again. A
//! read that fails cannot be tried again (samod went on without it), so only a restart clears it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backstory_crdt::automerge::ChangeHash;
use samod::storage::{Storage, StorageKey};
use samod_core::{CompactionHash, DocumentId};

use crate::store::{Store, StoreError};

/// How long waiting writes rest between tries.
const RETRY: Duration = Duration::from_millis(250);
/// How many of the latest durable chunks (changes and snapshots) are remembered by key.
const RECENT_KEPT: usize = 256;

/// Document storage for samod, backed by [`Store`].
#[derive(Clone, Debug)]
pub struct DocStorage {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    health: Mutex<Health>,
    /// Writes not yet durable, oldest first. Holding it keeps writes in order.
    waiting: tokio::sync::Mutex<Queue>,
    /// How many writes are durable so far (they become durable in the order they came).
    durable: tokio::sync::watch::Sender<u64>,
    /// The keys of the latest chunks of changes and snapshots made durable, oldest first: a
    /// write waiting for its change finds it here without a trip to the store.
    recent: Mutex<VecDeque<String>>,
}

/// The writes waiting, and how many came so far.
#[derive(Debug, Default)]
struct Queue {
    writes: VecDeque<Write>,
    came: u64,
}

#[derive(Debug, Default)]
struct Health {
    /// A read that failed: samod went on without its data.
    read: Option<String>,
    /// Why the oldest waiting write failed last, and whether the disk was full.
    write: Option<(String, bool)>,
}

/// One change to the stored chunks.
#[derive(Clone, Debug)]
enum Write {
    Put(String, Arc<Vec<u8>>),
    Delete(String),
}

impl Write {
    fn what(&self) -> String {
        match self {
            Self::Put(key, _) => format!("store document chunk {key}"),
            Self::Delete(key) => format!("delete document chunk {key}"),
        }
    }

    /// Changes and snapshots are synced to disk before the write returns. What a power cut may
    /// take back without harm is written without its own sync (still in order, and safe from a
    /// crash of the process): a peer's sync state (an older one only makes the next sync send
    /// more), and deletions (compaction's, after the snapshot that replaces them is durable: a
    /// chunk that comes back is merged again).
    fn apply(&self, store: &Store) -> Result<(), StoreError> {
        match self {
            Self::Put(key, data) if is_sync_state(key) => store.unsynced(|s| s.doc_put(key, data)),
            Self::Put(key, data) => store.doc_put(key, data),
            Self::Delete(key) => store.unsynced(|s| s.doc_delete(key)),
        }
    }
}

/// Whether a chunk key names a peer's sync state (`<doc>/sync-state/<peer>`).
fn is_sync_state(key: &str) -> bool {
    key.split('/').nth(1) == Some("sync-state")
}

/// A storage key as the store names its chunk.
pub(crate) fn key_string(key: &StorageKey) -> String {
    key.into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("/")
}

/// Whether the store holds the chunks samod writes for a document at these heads, in the step
/// right after the change that made them (see [`has_chunks_at`]).
pub fn holds(store: &Store, doc: &DocumentId, heads: &[ChangeHash]) -> Result<bool, StoreError> {
    has_chunks_at(doc, heads, |key| store.doc_has(key))
}

/// Whether `has` finds the chunks samod writes for a document at these heads: the document
/// compacted at exactly these heads, or each head's change.
fn has_chunks_at<E>(
    doc: &DocumentId,
    heads: &[ChangeHash],
    mut has: impl FnMut(&str) -> Result<bool, E>,
) -> Result<bool, E> {
    if has(&key_string(&StorageKey::snapshot_path(
        doc,
        &CompactionHash::new(heads),
    )))? {
        return Ok(true);
    }
    for head in heads {
        if !has(&key_string(&StorageKey::incremental_path(doc, *head)))? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn parse_key(s: &str) -> Option<StorageKey> {
    StorageKey::from_parts(s.split('/')).ok()
}

impl DocStorage {
    /// Storage over `store`.
    pub fn new(store: Store) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                health: Mutex::default(),
                waiting: tokio::sync::Mutex::default(),
                durable: tokio::sync::watch::Sender::new(0),
                recent: Mutex::default(),
            }),
        }
    }

    fn health(&self) -> std::sync::MutexGuard<'_, Health> {
        self.inner.health.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why no further changes can be accepted now, if they cannot: a read that failed (until a
    /// restart), or a write that is still waiting to be made durable.
    pub fn failure(&self) -> Option<String> {
        let health = self.health();
        health
            .read
            .clone()
            .or_else(|| health.write.as_ref().map(|(what, _)| what.clone()))
    }

    /// Whether the only thing in the way is a full disk: writes wait until space is freed.
    pub fn disk_full(&self) -> bool {
        let health = self.health();
        health.read.is_none() && health.write.as_ref().is_some_and(|(_, full)| *full)
    }

    /// Whether no document write is waiting or being made durable right now.
    pub fn idle(&self) -> bool {
        self.inner
            .waiting
            .try_lock()
            .is_ok_and(|waiting| waiting.writes.is_empty())
    }

    /// Changes each time a write becomes durable: whoever waits for a chunk looks again.
    pub fn written(&self) -> tokio::sync::watch::Receiver<u64> {
        self.inner.durable.subscribe()
    }

    /// Counts one more write durable, and remembers which chunk of changes it wrote.
    fn made_durable(&self, write: &Write) {
        if let Write::Put(key, _) = write
            && !is_sync_state(key)
        {
            let mut recent = self.inner.recent.lock().unwrap_or_else(|p| p.into_inner());
            if recent.len() == RECENT_KEPT {
                recent.pop_front();
            }
            recent.push_back(key.clone());
        }
        self.inner.durable.send_modify(|n| *n += 1);
        crate::stage::durable();
    }

    /// Whether one of the latest durable writes holds a document's chunks at these heads (as
    /// [`holds`] asks the store): true soon after a change's write returned; false does not
    /// mean the store lacks them.
    pub fn recently_wrote(&self, doc: &DocumentId, heads: &[ChangeHash]) -> bool {
        let recent = self.inner.recent.lock().unwrap_or_else(|p| p.into_inner());
        let found: Result<bool, std::convert::Infallible> =
            has_chunks_at(doc, heads, |key| Ok(recent.iter().any(|k| k == key)));
        found.unwrap_or_else(|never| match never {})
    }

    fn fail_read(&self, what: String) {
        tracing::error!("{what}");
        self.health().read = Some(what);
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, (String, bool)> {
        let store = self.inner.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err((e.to_string(), matches!(e, StoreError::Full { .. }))),
            Err(e) => Err((format!("storage task failed: {e}"), false)),
        }
    }

    async fn apply(&self, write: &Write) -> Result<(), (String, bool)> {
        let w = write.clone();
        self.blocking(move |s| w.apply(s))
            .await
            .map_err(|(e, full)| (format!("could not {}: {e}", write.what()), full))
    }

    /// Makes a write durable, after the writes still waiting, and returns once it is: samod
    /// sends a document's changes only once their writes returned. One that fails waits, and is
    /// tried again from time to time.
    async fn write(&self, write: Write) {
        let mut waiting = self.inner.waiting.lock().await;
        waiting.writes.push_back(write.clone());
        waiting.came += 1;
        let mine = waiting.came;
        if waiting.writes.len() == 1 {
            let mut last = (String::new(), false);
            for attempt in 0..3u32 {
                match self.apply(&write).await {
                    Ok(()) => {
                        waiting.writes.pop_front();
                        self.made_durable(&write);
                        return;
                    }
                    Err(e) => last = e,
                }
                tokio::time::sleep(Duration::from_millis(50 << attempt)).await;
            }
            tracing::error!("{}; it is kept and tried again", last.0);
            self.health().write = Some(last);
            self.retry_later();
        }
        drop(waiting);
        let mut durable = self.written();
        // The sender lives as long as this storage: the wait ends when the write is durable.
        let _ = durable.wait_for(|n| *n >= mine).await;
    }

    /// Tries the waiting writes again from time to time until all are durable, or the storage
    /// is dropped.
    fn retry_later(&self) {
        let weak = Arc::downgrade(&self.inner);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(RETRY).await;
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                if (Self { inner }).flush().await {
                    return;
                }
            }
        });
    }

    /// Writes what waits, oldest first; true once nothing waits.
    async fn flush(&self) -> bool {
        let mut waiting = self.inner.waiting.lock().await;
        while let Some(write) = waiting.writes.front().cloned() {
            if let Err(e) = self.apply(&write).await {
                self.health().write = Some(e);
                return false;
            }
            waiting.writes.pop_front();
            self.made_durable(&write);
        }
        if self.health().write.take().is_some() {
            tracing::info!("the document writes that waited are durable now");
        }
        true
    }
}

impl Storage for DocStorage {
    async fn load(&self, key: StorageKey) -> Option<Vec<u8>> {
        let k = key_string(&key);
        match self.blocking(move |s| s.doc_get(&k)).await {
            Ok(v) => v,
            Err((e, _)) => {
                self.fail_read(format!("could not read document chunk {key}: {e}"));
                None
            }
        }
    }

    async fn load_range(&self, prefix: StorageKey) -> HashMap<StorageKey, Vec<u8>> {
        let p = key_string(&prefix);
        match self.blocking(move |s| s.doc_range(&p)).await {
            Ok(rows) => rows
                .into_iter()
                .filter_map(|(k, v)| parse_key(&k).map(|k| (k, v)))
                .collect(),
            Err((e, _)) => {
                self.fail_read(format!(
                    "could not read document chunks under {prefix}: {e}"
                ));
                HashMap::new()
            }
        }
    }

    async fn put(&self, key: StorageKey, data: Vec<u8>) {
        self.write(Write::Put(key_string(&key), Arc::new(data)))
            .await
    }

    async fn delete(&self, key: StorageKey) {
        self.write(Write::Delete(key_string(&key))).await
    }
}
