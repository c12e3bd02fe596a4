//! The device: what every part of the engine stands on — the data directory, the identity, the
//! SQLite store, the clock, randomness, the event stream and the stop signal.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use backstory_crdt::Timestamp;
use iroh_base::SecretKey;
use tokio::sync::{broadcast, watch};

use crate::clock::{Clock, Rng, random_id};
use crate::error::EngineError;
use crate::event::Event;
use crate::store::Store;

/// Shared by every part; cheap to clone.
#[derive(Clone, Debug)]
pub(crate) struct Device {
    inner: Arc<DeviceInner>,
}

#[derive(Debug)]
struct DeviceInner {
    dir: PathBuf,
    key: SecretKey,
    store: Store,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    events: broadcast::Sender<Event>,
    stop: watch::Sender<bool>,
}

impl Device {
    pub(crate) fn new(
        dir: &Path,
        key: SecretKey,
        store: Store,
        clock: Arc<dyn Clock>,
        rng: Arc<dyn Rng>,
    ) -> Self {
        let (events, _) = broadcast::channel(4096);
        let (stop, _) = watch::channel(false);
        Self {
            inner: Arc::new(DeviceInner {
                dir: dir.to_path_buf(),
                key,
                store,
                clock,
                rng,
                events,
                stop,
            }),
        }
    }

    /// The data directory.
    pub(crate) fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// The device key.
    pub(crate) fn key(&self) -> &SecretKey {
        &self.inner.key
    }

    /// My endpoint id.
    pub(crate) fn id(&self) -> String {
        self.inner.key.public().to_string()
    }

    /// The store (for the few callers that hand it on, such as samod's storage).
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The instant now, on the engine's clock.
    pub(crate) fn now(&self) -> Timestamp {
        self.inner.clock.now()
    }

    /// The engine's clock.
    pub(crate) fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// A fresh random id: `prefix` and `bytes` random bytes in hex.
    pub(crate) fn new_id(&self, prefix: &str, bytes: usize) -> String {
        random_id(self.inner.rng.as_ref(), prefix, bytes)
    }

    /// Random bytes.
    pub(crate) fn random<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        self.inner.rng.fill(&mut b);
        b
    }

    /// Reports an event to every subscriber.
    pub(crate) fn emit(&self, event: Event) {
        // No subscribers is fine: the event simply had no audience.
        let _no_receivers = self.inner.events.send(event);
    }

    /// The sender of the event stream.
    pub(crate) fn events(&self) -> &broadcast::Sender<Event> {
        &self.inner.events
    }

    /// A receiver that turns true when the engine stops.
    pub(crate) fn stopping(&self) -> watch::Receiver<bool> {
        self.inner.stop.subscribe()
    }

    /// Tells every task to stop.
    pub(crate) fn stop(&self) {
        self.inner.stop.send_replace(true);
    }

    /// Runs a store call off the async threads.
    pub(crate) async fn blocking<T: Send + 'static, E: Into<EngineError> + Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, E> + Send + 'static,
    ) -> Result<T, EngineError> {
        let store = self.inner.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .map_err(|_| EngineError::Stopped)?
            .map_err(Into::into)
    }
}
