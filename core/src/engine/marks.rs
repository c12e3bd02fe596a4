//! Outbox marks. Publishing into an outbox returns before samod has stored the change; a start
//! therefore published every contact's master again, loading every outbox (most of a start with
//! many contacts). Once a publication's state of the outbox is durable, a mark records the digest
//! of the projection it holds, the names of the outbox's stored chunks and the recordings of my
//! comments in it; a start whose projection has the same digest, and whose outbox has the same
//! chunks, skips that outbox. A mark is written only after a quiet moment, once the store holds
//! the chunks of the outbox's heads and no document write waits. Each publication takes a turn
//! before it writes, and a mark is written only by the latest turn, so its chunks are never a
//! later publication's; a later publication whose chunks become durable changes the chunks and
//! voids the mark even if the one after it (back to the marked projection) was lost. Whatever
//! changes the recordings (a voice comment added or removed) forgets the mark first. A missing
//! or stale mark only costs a load, never a skipped repair.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;

use backstory_crdt::Published;
use backstory_crdt::automerge::ChangeHash;
use backstory_crdt::feedback::{Feedback, read_feedback};
use samod::DocHandle;
use samod_core::DocumentId;

use super::device::Device;
use crate::contact::ContactId;
use crate::error::EngineError;
use crate::storage::{DocStorage, holds};
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

/// What a publication left in an outbox: the document and its heads.
pub(crate) struct Outboxed {
    pub(crate) handle: DocHandle,
    pub(crate) heads: Vec<ChangeHash>,
}

/// The marks of all outboxes; cheap to clone.
#[derive(Clone)]
pub(crate) struct Marks {
    device: Device,
    storage: DocStorage,
    /// The latest turn per contact: a mark is written only by the latest, under this lock.
    turns: Arc<tokio::sync::Mutex<HashMap<ContactId, u64>>>,
    /// The projection each contact's latest publication wrote, with its turn, until that turn's
    /// mark digests it (or gives up): one per contact however many publications wait.
    projections: Arc<std::sync::Mutex<HashMap<ContactId, (u64, Published)>>>,
}

impl Marks {
    pub(crate) fn new(device: Device, storage: DocStorage) -> Self {
        Self {
            device,
            storage,
            turns: Arc::default(),
            projections: Arc::default(),
        }
    }

    fn projections(&self) -> std::sync::MutexGuard<'_, HashMap<ContactId, (u64, Published)>> {
        self.projections.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the projection `turn` wrote, if no later publication replaced it.
    fn take_projection(&self, contact: &ContactId, turn: u64) -> Option<Published> {
        let mut projections = self.projections();
        match projections.get(contact) {
            Some((t, _)) if *t == turn => projections.remove(contact).map(|(_, p)| p),
            _ => None,
        }
    }

    /// The contact's mark, if it vouches for `outbox` holding the projection `projection`: made
    /// for that projection, with the outbox's stored chunks unchanged since.
    pub(crate) async fn vouches(
        &self,
        contact: &ContactId,
        outbox: &str,
        projection: &[u8; 32],
    ) -> Result<Option<OutboxMark>, EngineError> {
        let id = contact.clone();
        let doc = outbox.to_string();
        let (mark, chunks) = self
            .device
            .blocking(move |s| {
                Ok::<_, crate::store::StoreError>((s.outbox_mark(&id)?, s.doc_chunks(&doc)?))
            })
            .await?;
        Ok(
            mark.filter(|m| {
                m.outbox == outbox && m.projection == *projection && m.chunks == chunks
            }),
        )
    }

    /// Takes a new turn for a contact, before a publication writes into its outbox: every mark
    /// still waiting for it is superseded.
    pub(crate) async fn turn(&self, contact: &ContactId) -> u64 {
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

    /// Marks the outbox once what the publication of `turn` (the projection `projection`) left
    /// in it is durable (in the background).
    pub(crate) fn after(
        &self,
        contact: &ContactId,
        turn: u64,
        outboxed: Outboxed,
        projection: Published,
    ) {
        self.projections()
            .insert(contact.clone(), (turn, projection));
        let marks = self.clone();
        let contact = contact.clone();
        tokio::spawn(async move {
            let marked = marks.mark(&contact, turn, outboxed).await;
            // Whatever the outcome, the projection is not kept for a mark that will not come.
            drop(marks.take_projection(&contact, turn));
            if let Err(e) = marked {
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
        let chunks = loop {
            if !self.latest(contact, turn).await || *self.device.stopping().borrow() {
                return Ok(());
            }
            if self.storage.idle()
                && let Some(chunks) = self.durable(&doc, &published.heads).await?
            {
                break chunks;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(EngineError::StorageFailed(
                    "the outbox was not durable in time".into(),
                ));
            }
            tokio::time::sleep(LOOK).await;
        };
        let feedback = published
            .handle
            .with_document_async(|d| read_feedback(d))
            .await??;
        let Some(projection) = self.take_projection(contact, turn) else {
            return Ok(());
        };
        let projection = self
            .device
            .blocking(move |_| Ok::<_, crate::store::StoreError>(digest(&projection)))
            .await?;
        let mark = OutboxMark {
            outbox: doc.to_string(),
            projection,
            chunks,
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

    /// Whether the store holds the chunks samod wrote for these heads (see [`holds`]), and if
    /// so the digest of all the document's stored chunks.
    async fn durable(
        &self,
        doc: &DocumentId,
        heads: &[ChangeHash],
    ) -> Result<Option<[u8; 32]>, EngineError> {
        let (doc, heads) = (doc.clone(), heads.to_vec());
        self.device
            .blocking(move |s| {
                if !holds(s, &doc, &heads)? {
                    return Ok(None);
                }
                Ok::<_, crate::store::StoreError>(Some(s.doc_chunks(&doc.to_string())?))
            })
            .await
    }
}
