//! The engine: one typed async API over the store, the documents and the scheduler.
//!
//! Writes to a master panel are serialized by one write gate and are durable (SQLite,
//! `synchronous=FULL`) before a call returns. The outbox documents are a projection of the masters:
//! after every write, and whenever a visibility rule's time comes, the engine publishes the master
//! and writes only the difference into the outbox. At start it publishes every panel again, which
//! both catches up rules that flipped while it was not running and repairs an outbox whose last
//! write was cut off by a crash.

mod contacts;
mod inspect;
mod network;
mod overview;
mod pairing;
mod panel;
mod scheduler;
mod settings;
mod syncing;
mod viewer;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use backstory_crdt::{Timestamp, apply_published, publish};
use iroh_base::SecretKey;
use samod::{DocHandle, DocumentId, PeerId, Repo};
use tokio::sync::{Notify, broadcast, watch};

use crate::contact::{Contact, ContactId};
use crate::error::EngineError;
use crate::event::Event;
use crate::paths::DirLock;
use crate::storage::DocStorage;
use crate::store::Store;

pub use contacts::ContactSummary;
pub use inspect::InspectedDoc;
pub use overview::{ContactCard, MineSummary, TheirsSummary};
pub use pairing::{Invite, Paired, PendingJoin};
pub use panel::{Content, EntryEdit, NewEntry};
pub use settings::{LANGUAGES, Preferences};
pub use viewer::{Fetched, ImportSummary, TheirPanel};

/// The current time, as documents take it.
pub fn now() -> Timestamp {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    Timestamp(ms)
}

/// Who I am.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Profile {
    /// My endpoint id (public key).
    pub id: String,
    /// My display name.
    pub name: String,
    /// The data directory.
    pub data_dir: PathBuf,
    /// The network mode in force.
    pub network: String,
    /// Where this device can be reached directly.
    pub addrs: Vec<std::net::SocketAddr>,
}

/// A running engine. Cheap to clone; [`Engine::shutdown`] stops it.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    dir: PathBuf,
    key: SecretKey,
    store: Store,
    storage: DocStorage,
    repo: Repo,
    events: broadcast::Sender<Event>,
    /// Serializes read-modify-write of master panels.
    writes: tokio::sync::Mutex<()>,
    /// Open document handles by document id.
    handles: Mutex<BTreeMap<String, DocHandle>>,
    /// When each contact's projection next changes.
    wakes: Mutex<BTreeMap<ContactId, Timestamp>>,
    wake: Notify,
    stop: watch::Sender<bool>,
    /// Who may sync which document; samod's share policy follows it.
    access: watch::Sender<Arc<crate::access::AccessTable>>,
    /// The network, once started.
    net: OnceLock<crate::net::Net>,
    /// Joins waiting for my approval.
    pending: pairing::Pending,
    /// Media blobs, BLAKE3-verified.
    blobs: iroh_blobs::store::fs::FsStore,
    /// Which peer may fetch which blob.
    grants: crate::net::blobs::BlobGrants,
    /// Whether windows show this engine (the desktop app), so links can be opened.
    front_end: std::sync::atomic::AtomicBool,
    _lock: DirLock,
}

impl Engine {
    /// Opens the engine on a data directory: takes its lock, loads the identity and the store,
    /// publishes every panel, and starts the scheduler.
    pub async fn open(dir: &Path) -> Result<Self, EngineError> {
        Self::open_with(dir, None).await
    }

    /// Like [`Engine::open`], with the network mode given instead of read from settings or
    /// `BACKSTORY_NETWORK` (tests and benchmarks use `local`).
    pub async fn open_with(
        dir: &Path,
        network: Option<crate::net::NetworkMode>,
    ) -> Result<Self, EngineError> {
        crate::paths::ensure(dir)?;
        let lock = DirLock::acquire(dir)?;
        let key = crate::identity::load_or_create(dir)?;
        let d = dir.to_path_buf();
        let store = tokio::task::spawn_blocking(move || Store::open(&d))
            .await
            .map_err(|e| EngineError::InvalidInput(format!("store task failed: {e}")))??;
        let storage = DocStorage::new(store.clone());
        let blob_dir = dir.join("blobs");
        let blobs = iroh_blobs::store::fs::FsStore::load(&blob_dir)
            .await
            .map_err(|e| EngineError::Io {
                path: blob_dir.clone(),
                source: std::io::Error::other(e.to_string()),
            })?;
        // Nothing is shared until the access table grants it, per document and peer.
        let (access, access_rx) = watch::channel(Arc::new(crate::access::AccessTable::new()));
        let repo = Repo::build_tokio()
            .with_storage(storage.clone())
            .with_peer_id(PeerId::from(key.public().to_string()))
            .with_share_policy(crate::access::Access::new(access_rx))
            .load()
            .await;
        let (events, _) = broadcast::channel(1024);
        let (stop, _) = watch::channel(false);
        let engine = Self {
            inner: Arc::new(Inner {
                dir: dir.to_path_buf(),
                key,
                store,
                storage,
                repo,
                events,
                writes: tokio::sync::Mutex::new(()),
                handles: Mutex::default(),
                wakes: Mutex::default(),
                wake: Notify::new(),
                stop,
                access,
                net: OnceLock::new(),
                pending: pairing::Pending::default(),
                blobs,
                grants: Default::default(),
                front_end: std::sync::atomic::AtomicBool::new(false),
                _lock: lock,
            }),
        };
        {
            let gate = engine.inner.writes.lock().await;
            for contact in engine.blocking(|s| s.contacts()).await? {
                engine.publish_contact(&gate, &contact).await?;
            }
        }
        tokio::spawn(scheduler::run(engine.clone()));
        engine.start_net(network).await?;
        Ok(engine)
    }

    /// Stops networking, the scheduler and the document repository, letting pending writes
    /// finish.
    pub async fn shutdown(&self) {
        self.inner.stop.send_replace(true);
        if let Some(net) = self.inner.net.get() {
            net.shutdown().await;
        }
        self.inner.repo.stop().await;
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.inner.dir
    }

    /// My endpoint id.
    pub fn id(&self) -> String {
        self.inner.key.public().to_string()
    }

    /// Subscribes to the event stream.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.events.subscribe()
    }

    /// Who I am.
    pub async fn profile(&self) -> Result<Profile, EngineError> {
        let name = self
            .blocking(|s| s.setting("name"))
            .await?
            .unwrap_or_default();
        let net = self.inner.net.get();
        Ok(Profile {
            id: self.id(),
            name,
            data_dir: self.inner.dir.clone(),
            network: net.map(|n| n.mode().to_string()).unwrap_or_default(),
            addrs: net.map(|n| n.direct_addresses()).unwrap_or_default(),
        })
    }

    /// Sets my display name.
    pub async fn set_name(&self, name: &str) -> Result<Profile, EngineError> {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(EngineError::InvalidInput(
                "a name must have 1 to 64 characters".into(),
            ));
        }
        let n = name.clone();
        self.blocking(move |s| s.set_setting("name", &n)).await?;
        self.emit(Event::NameChanged { name });
        self.profile().await
    }

    fn emit(&self, event: Event) {
        // No subscribers is fine: the event simply had no audience.
        let _no_receivers = self.inner.events.send(event);
    }

    /// Runs a store call off the async threads.
    async fn blocking<T: Send + 'static, E: Into<EngineError> + Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, EngineError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|_| EngineError::Stopped)?
            .map_err(Into::into)
    }

    /// Refuses new work once a document write could not be made durable.
    fn check_health(&self) -> Result<(), EngineError> {
        match self.inner.storage.failure() {
            Some(f) => Err(EngineError::StorageFailed(f)),
            None => Ok(()),
        }
    }

    /// The handle of a document in the local store.
    async fn doc(&self, id: &str) -> Result<DocHandle, EngineError> {
        self.find_doc(id)
            .await?
            .ok_or_else(|| EngineError::MissingDocument {
                id: id.to_string(),
                store: self.inner.store.path().to_path_buf(),
            })
    }

    /// The handle of a document, if it is in the local store or a connected peer has it.
    async fn find_doc(&self, id: &str) -> Result<Option<DocHandle>, EngineError> {
        if let Some(h) = self
            .inner
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
        {
            return Ok(Some(h.clone()));
        }
        let doc_id: DocumentId = id
            .parse()
            .map_err(|_| EngineError::InvalidInput(format!("bad document id {id}")))?;
        let Some(handle) = self.inner.repo.find(doc_id).await? else {
            return Ok(None);
        };
        self.inner
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), handle.clone());
        Ok(Some(handle))
    }

    /// Creates a document and waits until its first chunk is durable in the store.
    async fn create_doc(
        &self,
        doc: backstory_crdt::automerge::Automerge,
    ) -> Result<DocHandle, EngineError> {
        let handle = self.inner.repo.create(doc).await?;
        let id = handle.document_id().to_string();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let key = id.clone();
            if !self.blocking(move |s| s.doc_range(&key)).await?.is_empty() {
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
        self.inner
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, handle.clone());
        Ok(handle)
    }

    /// Publishes a contact's master into its outbox: only the difference is written.
    ///
    /// Callers hold the write gate, so a projection computed from an older master can never be
    /// written over a newer one.
    async fn publish_contact(
        &self,
        _gate: &tokio::sync::MutexGuard<'_, ()>,
        contact: &Contact,
    ) -> Result<(), EngineError> {
        let id = contact.id.clone();
        let master = self.blocking(move |s| s.master(&id)).await?;
        let now = now();
        let published = publish(&master, now);
        if let Some(peer) = contact.peer.as_deref().and_then(|p| p.parse().ok()) {
            let hashes = published
                .entries
                .iter()
                .filter_map(|e| e.kind.media())
                .filter_map(|m| m.hash.parse().ok())
                .collect();
            self.inner.grants.set(peer, hashes);
        }
        let visible = published.entries.len();
        let next_change = published.next_change;
        let handle = self.doc(&contact.outbox).await?;
        let changed = handle
            .with_document_async(move |doc| apply_published(doc, &published, now))
            .await??;
        {
            let mut wakes = self.inner.wakes.lock().unwrap_or_else(|p| p.into_inner());
            match next_change {
                Some(t) => wakes.insert(contact.id.clone(), t),
                None => wakes.remove(&contact.id),
            };
        }
        self.inner.wake.notify_one();
        if changed.is_some() {
            self.emit(Event::PanelPublished {
                contact: contact.id.clone(),
                visible,
                next_change,
            });
        }
        Ok(())
    }
}
