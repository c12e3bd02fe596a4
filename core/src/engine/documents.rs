//! The documents: samod's repository over the SQLite store, with the handles opened so far and the
//! store's health (while a document write waits to be made durable, no further changes are taken).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use samod::{DocHandle, DocumentId, Repo};

use super::device::Device;
use super::marks::Marks;
use crate::error::EngineError;
use crate::storage::DocStorage;

/// How long a find waits for peers to answer before the document counts as not there.
const FIND_PATIENCE: Duration = Duration::from_secs(20);

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

    /// Stops the repository, letting pending writes finish.
    pub(crate) async fn stop(&self) {
        self.repo.stop().await;
    }
}
