//! The engine: the parts of one device's Backstory, wired together, behind the one API
//! ([`crate::api`]).
//!
//! Each part keeps its own state: [`device`] (directory, identity, store, clock, randomness,
//! events), [`documents`] (samod's repository), [`media`] (the blob store and who may fetch
//! what), [`panels`] (my masters, publishing, the schedule of rule flips), [`received`] (their
//! panels for me), [`contacts`] (finding contacts, their cards), [`settings`], [`network`] (the
//! endpoint, access, presence), [`pairing`], [`drafts`], [`inbox`] (the video watcher and
//! its suggestions), [`snapshots`] (link previews) and [`screens`] (screenshots). The engine holds one of each and the dispatcher
//! ([`crate::api`]) calls them; nothing else reaches into another part's state.
//!
//! Writes to a master panel are serialized by the panels' write gate and are durable (SQLite,
//! `synchronous=FULL`) before a call returns. The outbox documents are a projection of the masters:
//! after every write, and whenever a visibility rule's time comes on the engine's clock, the master
//! is published and only the difference written into the outbox. At start every panel is published
//! again, which both catches up rules that flipped while the engine was not running and repairs an
//! outbox whose last write was cut off by a crash.

pub(crate) mod chat;
pub(crate) mod contacts;
pub(crate) mod device;
pub(crate) mod documents;
pub(crate) mod drafts;
pub(crate) mod feedback;
pub(crate) mod inbox;
pub(crate) mod inspect;
pub(crate) mod marks;
pub(crate) mod media;
pub(crate) mod network;
pub(crate) mod pairing;
pub(crate) mod panels;
pub(crate) mod received;
pub(crate) mod scheduler;
pub(crate) mod screens;
pub(crate) mod settings;
pub(crate) mod snapshots;
pub(crate) mod syncing;
pub(crate) mod transfer;
pub(crate) mod views;

use std::path::Path;
use std::sync::{Arc, Weak};

use futures::FutureExt;
use futures::future::BoxFuture;
use samod::{PeerId, Repo};
use tokio::sync::{broadcast, watch};

use crate::clock::{Clock, Rng, SystemClock, SystemRng};
use crate::error::EngineError;
use crate::event::Event;
use crate::net::{NetworkMode, PairingHandler};
use crate::paths::DirLock;
use crate::storage::DocStorage;
use crate::store::Store;

pub use pairing::APPROVAL_TIMEOUT;
pub use panels::MAX_TEXT;
pub use settings::LANGUAGES;

/// How an engine is opened.
#[derive(Clone, Debug)]
pub struct Options {
    /// The network mode; `None` reads the setting (or `BACKSTORY_NETWORK`).
    pub network: Option<NetworkMode>,
    /// Where the engine gets the time.
    pub clock: Arc<dyn Clock>,
    /// Where the engine gets randomness.
    pub rng: Arc<dyn Rng>,
    /// In local mode, the one loopback address to bind (`None`: `BACKSTORY_LOOPBACK`, else all
    /// addresses): two engines in one process on different address families reach each other
    /// only through whatever a test puts between them.
    pub loopback: Option<std::net::IpAddr>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            network: None,
            clock: Arc::new(SystemClock),
            rng: Arc::new(SystemRng),
            loopback: None,
        }
    }
}

impl Options {
    /// The same options with a network mode.
    pub fn network(self, mode: NetworkMode) -> Self {
        Self {
            network: Some(mode),
            ..self
        }
    }

    /// The same options with a clock.
    pub fn clock(self, clock: Arc<dyn Clock>) -> Self {
        Self { clock, ..self }
    }

    /// The same options with a source of randomness.
    pub fn rng(self, rng: Arc<dyn Rng>) -> Self {
        Self { rng, ..self }
    }

    /// The same options, binding only `ip` (a loopback address) in local mode.
    pub fn loopback(self, ip: std::net::IpAddr) -> Self {
        Self {
            loopback: Some(ip),
            ..self
        }
    }
}

/// A running engine. Cheap to clone; [`Engine::shutdown`] stops it.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) device: device::Device,
    pub(crate) docs: documents::Documents,
    pub(crate) panels: panels::Panels,
    pub(crate) received: received::Received,
    pub(crate) contacts: contacts::Contacts,
    pub(crate) settings: settings::Settings,
    pub(crate) network: network::Network,
    pub(crate) drafts: drafts::Drafts,
    pub(crate) inbox: inbox::Inbox,
    pub(crate) screens: screens::Screens,
    pub(crate) snapshots: snapshots::Snapshots,
    pub(crate) feedback: feedback::Feedback,
    pub(crate) pairing: Arc<pairing::Pairing>,
    _lock: DirLock,
}

/// Hands pairing requests from the network to the pairing part without keeping it alive.
struct PairingBridge(Weak<pairing::Pairing>);

impl std::fmt::Debug for PairingBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairingBridge")
    }
}

impl PairingHandler for PairingBridge {
    fn answer(
        &self,
        peer: String,
        seen: Vec<std::net::SocketAddr>,
        mut send: iroh::endpoint::SendStream,
        mut recv: iroh::endpoint::RecvStream,
    ) -> BoxFuture<'static, ()> {
        let weak = self.0.clone();
        async move {
            let Some(pairing) = weak.upgrade() else {
                return;
            };
            if let Err(e) = pairing
                .answer(peer.clone(), &seen, &mut send, &mut recv)
                .await
            {
                tracing::warn!("pairing with {peer} failed: {e}");
            }
            let _already_closed = send.finish();
        }
        .boxed()
    }
}

impl Engine {
    /// Opens the engine on a data directory with the system clock, reading the network mode from
    /// settings (or `BACKSTORY_NETWORK`).
    pub async fn open(dir: &Path) -> Result<Self, EngineError> {
        Self::open_with(dir, Options::default()).await
    }

    /// Opens the engine: takes the directory's lock, loads the identity and the store, publishes
    /// every panel, starts the scheduler and the network.
    pub async fn open_with(dir: &Path, options: Options) -> Result<Self, EngineError> {
        crate::paths::ensure(dir)?;
        let lock = DirLock::acquire(dir)?;
        let key = crate::identity::load_or_create(dir)?;
        let d = dir.to_path_buf();
        let store = tokio::task::spawn_blocking(move || Store::open(&d))
            .await
            .map_err(|e| EngineError::InvalidInput(format!("store task failed: {e}")))??;
        let storage = DocStorage::new(store.clone());
        let device = device::Device::new(dir, key, store, options.clock, options.rng);
        // Nothing is shared until the access table grants it, per document and peer.
        let (access, access_rx) = watch::channel(Arc::new(crate::access::AccessTable::new()));
        let repo = Repo::build_tokio()
            .with_storage(storage.clone())
            .with_peer_id(PeerId::from(device.id()))
            .with_share_policy(crate::access::Access::new(access_rx))
            .load()
            .await;
        let docs = documents::Documents::new(device.clone(), repo, storage);
        let media = media::Media::open(device.clone()).await?;
        let panels = panels::Panels::new(device.clone(), docs.clone(), media.clone());
        let settings = settings::Settings::new(device.clone());
        let network = network::Network::new(device.clone(), docs.clone(), media.clone(), access);
        let feedback = feedback::Feedback::new(
            device.clone(),
            docs.clone(),
            settings.clone(),
            media.clone(),
        );
        let received = received::Received::new(
            device.clone(),
            docs.clone(),
            settings.clone(),
            media.clone(),
            feedback.clone(),
            network.clone(),
        );
        let contacts = contacts::Contacts::new(
            device.clone(),
            docs.clone(),
            panels.clone(),
            received.clone(),
            network.clone(),
            feedback.clone(),
        );
        let snapshots = snapshots::Snapshots::new(settings.clone(), media.clone());
        let drafts = drafts::Drafts::new(device.clone(), media.clone(), snapshots.clone());
        let screens = screens::Screens::new(device.clone(), media.clone(), drafts.clone());
        let inbox = inbox::Inbox::new(
            device.clone(),
            settings.clone(),
            panels.clone(),
            contacts.clone(),
        );
        let pairing = Arc::new(pairing::Pairing::new(
            device.clone(),
            docs.clone(),
            panels.clone(),
            network.clone(),
            settings.clone(),
            received.clone(),
        ));
        let engine = Self {
            inner: Arc::new(Inner {
                device,
                docs,
                panels,
                received,
                contacts,
                settings,
                network,
                drafts,
                inbox,
                screens,
                snapshots,
                feedback,
                pairing,
                _lock: lock,
            }),
        };
        let i = &engine.inner;
        let all = i.contacts.all().await?;
        let recordings = i.panels.publish_all(&all).await?;
        for contact in &all {
            match recordings.get(&contact.id) {
                Some(marked) => i.feedback.grant_recordings(contact, marked.iter().cloned()),
                None => i.feedback.grant(contact).await?,
            }
        }
        tokio::spawn(scheduler::run(i.device.clone(), i.panels.clone()));
        let bridge = Arc::new(PairingBridge(Arc::downgrade(&i.pairing)));
        i.network
            .start(options.network, options.loopback, bridge)
            .await?;
        i.network.refresh_access(&all);
        for contact in &all {
            i.network.connect(contact).await?;
            i.received.follow(contact);
        }
        // The watcher's first look at the processes is not worth delaying the engine's start.
        let inbox = i.inbox.clone();
        tokio::spawn(async move {
            if let Err(e) = inbox.apply_settings().await {
                tracing::error!("the video watcher could not start: {e}");
            }
        });
        Ok(engine)
    }

    pub(crate) fn parts(&self) -> &Inner {
        &self.inner
    }

    /// Stops networking, the scheduler and the document repository, letting pending writes
    /// finish.
    pub async fn shutdown(&self) {
        self.inner.device.stop();
        self.inner.inbox.stop().await;
        self.inner.network.shutdown().await;
        self.inner.received.flush_views().await;
        self.inner.docs.stop().await;
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.inner.device.dir()
    }

    /// My endpoint id.
    pub fn id(&self) -> String {
        self.inner.device.id()
    }

    /// The instant now, on the engine's clock.
    pub fn now(&self) -> backstory_crdt::Timestamp {
        self.inner.device.now()
    }

    /// Subscribes to the event stream.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.inner.device.events().subscribe()
    }

    /// Bytes on all sync streams since start (for the benchmarks).
    pub fn traffic(&self) -> crate::net::TrafficCount {
        self.inner.network.traffic()
    }
}
