//! Outbox marks. Publishing into an outbox returns before samod has stored the change; a start
//! therefore published every contact's master again, loading every outbox (most of a start with
//! many contacts). Once a publication's state of the outbox is durable, a mark records the digest
//! of the projection it holds and the recordings of my comments in it; a start whose projection
//! has the same digest skips that outbox. A mark is written only after a quiet moment, once the
//! store holds the chunks of the outbox's heads and no document write waits; whatever changes
//! what it vouches for (a newer publication, a voice comment added or removed) supersedes or
//! forgets it first, so a missing or stale mark only costs a load, never a skipped repair.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use backstory_crdt::Published;
use backstory_crdt::automerge::ChangeHash;
use backstory_crdt::feedback::{Feedback, read_feedback};
use samod::DocHandle;
use samod_core::{CompactionHash, DocumentId, StorageKey};

use super::device::Device;
use crate::contact::ContactId;
use crate::error::EngineError;
use crate::storage::{DocStorage, key_string};
use crate::store::OutboxMark;

/// A burst of publications makes one mark, this long after the last.
const QUIET: Duration = Duration::from_millis(300);
/// How often a waiting mark looks at the store again.
const LOOK: Duration = Duration::from_millis(50);
/// After this long without the chunks durable, no mark is made (the next start loads).
const PATIENCE: Duration = Duration::from_secs(20);

/// The digest of what a projection writes into an outbox.
pub(crate) fn digest(published: &Published) -> [u8; 32] {
    let bytes =
        serde_json::to_vec(&(&published.categories, &published.entries)).unwrap_or_default();
    blake3::hash(&bytes).into()
}

/// The recordings of my comments, by hash.
pub(crate) fn comment_audio(feedback: &Feedback) -> BTreeSet<String> {
    feedback
        .comments
        .iter()
        .filter_map(|c| c.audio.as_ref())
        .map(|m| m.hash.clone())
        .collect()
}

/// What a publication left in an outbox: the document, its heads, the projection's digest.
pub(crate) struct Outboxed {
    pub(crate) handle: DocHandle,
    pub(crate) heads: Vec<ChangeHash>,
    pub(crate) projection: [u8; 32],
}

/// The marks of all outboxes; cheap to clone.
#[derive(Clone)]
pub(crate) struct Marks {
    device: Device,
    storage: DocStorage,
    /// The latest turn per contact: a mark is written only by the latest, under this lock.
    turns: Arc<tokio::sync::Mutex<HashMap<ContactId, u64>>>,
}

impl Marks {
    pub(crate) fn new(device: Device, storage: DocStorage) -> Self {
        Self {
            device,
            storage,
            turns: Arc::default(),
        }
    }

    /// The contact's mark, if it vouches for `outbox` holding the projection `projection`.
    pub(crate) async fn vouches(
        &self,
        contact: &ContactId,
        outbox: &str,
        projection: &[u8; 32],
    ) -> Result<Option<OutboxMark>, EngineError> {
        let id = contact.clone();
        let mark = self.device.blocking(move |s| s.outbox_mark(&id)).await?;
        Ok(mark.filter(|m| m.outbox == outbox && m.projection == *projection))
    }

    /// Takes a new turn for a contact: every mark still waiting for it is superseded.
    async fn turn(&self, contact: &ContactId) -> u64 {
        let mut turns = self.turns.lock().await;
        let turn = turns.entry(contact.clone()).or_default();
        *turn += 1;
        *turn
    }

    /// Forgets a contact's mark (before and after a change to what it vouches for).
    pub(crate) async fn forget(&self, contact: &ContactId) -> Result<(), EngineError> {
        let mut turns = self.turns.lock().await;
        *turns.entry(contact.clone()).or_default() += 1;
        let id = contact.clone();
        self.device
            .blocking(move |s| s.forget_outbox_mark(&id))
            .await?;
        drop(turns);
        Ok(())
    }

    /// Marks the outbox once what a publication left in it is durable (in the background).
    pub(crate) async fn after(&self, contact: &ContactId, published: Outboxed) {
        let turn = self.turn(contact).await;
        let marks = self.clone();
        let contact = contact.clone();
        tokio::spawn(async move {
            if let Err(e) = marks.mark(&contact, turn, published).await {
                tracing::debug!("no outbox mark for {contact}: {e}");
            }
        });
    }

    async fn latest(&self, contact: &ContactId, turn: u64) -> bool {
        self.turns.lock().await.get(contact) == Some(&turn)
    }

    async fn mark(
        &self,
        contact: &ContactId,
        turn: u64,
        published: Outboxed,
    ) -> Result<(), EngineError> {
        tokio::time::sleep(QUIET).await;
        let deadline = tokio::time::Instant::now() + PATIENCE;
        let doc = published.handle.document_id().clone();
        loop {
            if !self.latest(contact, turn).await || *self.device.stopping().borrow() {
                return Ok(());
            }
            if self.storage.idle() && self.durable(&doc, &published.heads).await? {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(EngineError::StorageFailed(
                    "the outbox was not durable in time".into(),
                ));
            }
            tokio::time::sleep(LOOK).await;
        }
        let feedback = published
            .handle
            .with_document_async(|d| read_feedback(d))
            .await??;
        let mark = OutboxMark {
            outbox: doc.to_string(),
            projection: published.projection,
            comment_audio: comment_audio(&feedback).into_iter().collect(),
        };
        let turns = self.turns.lock().await;
        if turns.get(contact) != Some(&turn) {
            return Ok(());
        }
        let id = contact.clone();
        self.device
            .blocking(move |s| s.set_outbox_mark(&id, &mark))
            .await?;
        drop(turns);
        Ok(())
    }

    /// Whether the store holds the chunks samod wrote for these heads: each head's change, or
    /// the compacted document at exactly these heads.
    async fn durable(&self, doc: &DocumentId, heads: &[ChangeHash]) -> Result<bool, EngineError> {
        let snapshot = key_string(&StorageKey::snapshot_path(doc, &CompactionHash::new(heads)));
        let changes: Vec<String> = heads
            .iter()
            .map(|h| key_string(&StorageKey::incremental_path(doc, *h)))
            .collect();
        self.device
            .blocking(move |s| {
                if s.doc_has(&snapshot)? {
                    return Ok(true);
                }
                for c in &changes {
                    if !s.doc_has(c)? {
                        return Ok(false);
                    }
                }
                Ok::<_, crate::store::StoreError>(true)
            })
            .await
    }
}
