//! The documents: samod's repository over the SQLite store, with the handles opened so far and the
//! store's health (while a document write waits to be made durable, no further changes are taken).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backstory_crdt::automerge::{Automerge, ChangeHash};
use samod::{DocHandle, DocumentId, Repo};

use super::device::Device;
use super::marks::Marks;
use crate::error::EngineError;
use crate::storage::{DocStorage, holds};

/// How long a find waits for peers to answer before the document counts as not there.
const FIND_PATIENCE: Duration = Duration::from_secs(20);
/// How long a write waits for its change to be durable (a healthy disk takes milliseconds).
const SETTLE_PATIENCE: Duration = Duration::from_secs(30);
/// How often a write waiting to be durable looks at the store without being woken.
const SETTLE_LOOK: Duration = Duration::from_millis(100);
/// How long stopping waits for document writes that cannot be made (a full disk).
const STOP_PATIENCE: Duration = Duration::from_secs(5);

/// The repository and its open documents; cheap to clone.
#[derive(Clone)]
pub(crate) struct Documents {
    device: Device,
    repo: Repo,
    storage: DocStorage,
    handles: Arc<Mutex<BTreeMap<String, DocHandle>>>,
    /// Counts the documents found so far: whoever waits for one to arrive wakes at once.
    arrivals: Arc<tokio::sync::watch::Sender<u64>>,
    marks: Marks,
}

impl Documents {
    pub(crate) fn new(device: Device, repo: Repo, storage: DocStorage) -> Self {
        Self {
            marks: Marks::new(device.clone(), storage.clone()),
            device,
            repo,
            storage,
            handles: Arc::default(),
            arrivals: Arc::new(tokio::sync::watch::Sender::new(0)),
        }
    }

    /// What each outbox is known to hold durably.
    pub(crate) fn marks(&self) -> &Marks {
        &self.marks
    }

    /// The repository, for the network to sync.
    pub(crate) fn repo(&self) -> &Repo {
        &self.repo
    }

    /// Refuses new work while a document write waits to be made durable (on a full disk, until
    /// space is freed), or once a read failed.
    pub(crate) fn check_health(&self) -> Result<(), EngineError> {
        match self.storage.failure() {
            Some(_) if self.storage.disk_full() => Err(EngineError::DiskFull {
                path: self.device.store().path().to_path_buf(),
            }),
            Some(f) => Err(EngineError::StorageFailed(f)),
            None => Ok(()),
        }
    }

    fn cached(&self, id: &str) -> Option<DocHandle> {
        self.handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
    }

    fn remember(&self, id: String, handle: DocHandle) {
        self.handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, handle);
        self.arrivals.send_modify(|n| *n += 1);
    }

    /// Changes each time a document is found (by anyone): a task waiting for a document to
    /// arrive looks again then, instead of on its next round.
    pub(crate) fn arrivals(&self) -> tokio::sync::watch::Receiver<u64> {
        self.arrivals.subscribe()
    }

    /// The handle of a document already loaded, if it is.
    pub(crate) fn loaded(&self, id: &str) -> Option<DocHandle> {
        let handle = self.cached(id);
        if handle.is_some() {
            crate::stage::opened(id);
        }
        handle
    }

    /// The handle of a document the local store holds.
    pub(crate) async fn get(&self, id: &str) -> Result<DocHandle, EngineError> {
        self.find(id)
            .await?
            .ok_or_else(|| EngineError::MissingDocument {
                id: id.to_string(),
                store: self.device.store().path().to_path_buf(),
            })
    }

    /// The handle of a document, if it is in the local store or a connected peer has it.
    pub(crate) async fn find(&self, id: &str) -> Result<Option<DocHandle>, EngineError> {
        crate::stage::opened(id);
        if let Some(h) = self.cached(id) {
            return Ok(Some(h));
        }
        let doc_id: DocumentId = id
            .parse()
            .map_err(|_| EngineError::InvalidInput(format!("bad document id {id}")))?;
        // A peer drops requests for documents it does not share with this device, so a find
        // that has to ask may never hear back: after a while the document counts as not there
        // (callers that wait for it ask again).
        let Ok(found) = tokio::time::timeout(FIND_PATIENCE, self.repo.find(doc_id)).await else {
            tracing::debug!("document {id} not found in time");
            return Ok(None);
        };
        let Some(handle) = found? else {
            return Ok(None);
        };
        self.remember(id.to_string(), handle.clone());
        Ok(Some(handle))
    }

    /// Creates a document and waits until its first chunk is durable in the store.
    pub(crate) async fn create(
        &self,
        doc: backstory_crdt::automerge::Automerge,
    ) -> Result<DocHandle, EngineError> {
        let handle = self.repo.create(doc).await?;
        let id = handle.document_id().to_string();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let key = id.clone();
            if !self
                .device
                .blocking(move |s| s.doc_range(&key))
                .await?
                .is_empty()
            {
                break;
            }
            self.check_health()?;
            if tokio::time::Instant::now() > deadline {
                return Err(EngineError::StorageFailed(format!(
                    "document {id} was not written to the store in time"
                )));
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        self.remember(id, handle.clone());
        Ok(handle)
    }

    /// Deletes a document that was never shared with anyone.
    pub(crate) async fn forget(&self, id: &str) {
        self.handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        let id = id.to_string();
        if let Err(e) = self.device.blocking(move |s| s.doc_delete_all(&id)).await {
            tracing::warn!("could not remove an unshared document: {e}");
        }
    }

    /// Changes a document through `handle` and returns once the change is durable (see
    /// [`Documents::settled`]): for writes the document alone records, such as comments.
    pub(crate) async fn write_durably<T, E>(
        &self,
        handle: &DocHandle,
        f: impl FnOnce(&mut Automerge) -> Result<T, E> + Send + 'static,
    ) -> Result<T, EngineError>
    where
        T: Send + 'static,
        E: Send + 'static,
        EngineError: From<E>,
    {
        let (out, before, after) = handle
            .with_document_async(move |d| {
                let before = d.get_heads();
                let out = f(d);
                (out, before, d.get_heads())
            })
            .await?;
        let out = out?;
        if before != after {
            self.settled(handle, after).await?;
        }
        Ok(out)
    }

    /// Changes each time a document write becomes durable.
    pub(crate) fn written(&self) -> tokio::sync::watch::Receiver<u64> {
        self.storage.written()
    }

    /// Whether the store holds a document's chunks at these heads (see [`holds`]); the latest
    /// writes answer first, without a trip to the store.
    pub(crate) async fn holds(
        &self,
        doc: &DocumentId,
        heads: Vec<ChangeHash>,
    ) -> Result<bool, EngineError> {
        if self.storage.recently_wrote(doc, &heads) {
            return Ok(true);
        }
        let doc = doc.clone();
        self.device.blocking(move |s| holds(s, &doc, &heads)).await
    }

    /// Waits until the change that brought `handle`'s document to `heads` (just written
    /// through it) is durable in the store; on a full disk, says so at once (the change waits in
    /// memory, unsent, and is written as soon as space is freed).
    pub(crate) async fn settled(
        &self,
        handle: &DocHandle,
        heads: Vec<ChangeHash>,
    ) -> Result<(), EngineError> {
        let mut written = self.storage.written();
        let doc = handle.document_id().clone();
        let deadline = tokio::time::Instant::now() + SETTLE_PATIENCE;
        // A change just made is on its way to the store or was written a moment ago: the
        // latest writes answer; the store is asked only when no write came for a while.
        let mut woken = true;
        loop {
            written.borrow_and_update();
            let held = if woken {
                self.storage.recently_wrote(&doc, &heads)
            } else {
                self.holds(&doc, heads.clone()).await?
            };
            if held {
                return Ok(());
            }
            match self.check_health() {
                Err(EngineError::DiskFull { path }) => {
                    return Err(EngineError::WaitsForSpace { path });
                }
                other => other?,
            }
            if tokio::time::Instant::now() > deadline {
                return Err(EngineError::StorageFailed(format!(
                    "document {doc} was not written to disk in time"
                )));
            }
            // A wake-up each time a write becomes durable, and now and then regardless.
            woken = tokio::time::timeout(SETTLE_LOOK, written.changed())
                .await
                .is_ok();
        }
    }

    /// Stops the repository, letting pending writes finish; on a full disk it waits only so
    /// long (what was not written was not sent either, and the next start publishes again).
    pub(crate) async fn stop(&self) {
        if tokio::time::timeout(STOP_PATIENCE, self.repo.stop())
            .await
            .is_err()
        {
            tracing::warn!(
                "document writes still waiting at exit: {:?}",
                self.storage.failure()
            );
        }
    }
}
