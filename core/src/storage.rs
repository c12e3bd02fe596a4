//! samod's `Storage` on the SQLite store.
//!
//! samod's trait cannot return errors, so a failed write is retried, logged, and kept as the
//! store's health: the engine refuses further writes with that error instead of pretending.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use samod::storage::{Storage, StorageKey};

use crate::store::Store;

/// Document storage for samod, backed by [`Store`].
#[derive(Clone, Debug)]
pub struct DocStorage {
    store: Store,
    failure: Arc<Mutex<Option<String>>>,
}

fn key_string(key: &StorageKey) -> String {
    key.into_iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .join("/")
}

fn parse_key(s: &str) -> Option<StorageKey> {
    StorageKey::from_parts(s.split('/')).ok()
}

impl DocStorage {
    /// Storage over `store`.
    pub fn new(store: Store) -> Self {
        Self {
            store,
            failure: Arc::default(),
        }
    }

    /// The last write that could not be made durable, if any.
    pub fn failure(&self) -> Option<String> {
        self.failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn fail(&self, what: String) {
        tracing::error!("{what}");
        *self.failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(what);
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, crate::store::StoreError> + Send + 'static,
    ) -> Result<T, String> {
        let store = self.store.clone();
        match tokio::task::spawn_blocking(move || f(&store)).await {
            Ok(r) => r.map_err(|e| e.to_string()),
            Err(e) => Err(format!("storage task failed: {e}")),
        }
    }

    async fn write(
        &self,
        what: &str,
        f: impl Fn(&Store) -> Result<(), crate::store::StoreError> + Send + Sync + 'static,
    ) {
        let f = Arc::new(f);
        let mut last = String::new();
        for attempt in 0..3u32 {
            let g = f.clone();
            match self.blocking(move |s| g(s)).await {
                Ok(()) => return,
                Err(e) => last = e,
            }
            tokio::time::sleep(std::time::Duration::from_millis(50 << attempt)).await;
        }
        self.fail(format!("could not {what}: {last}"));
    }
}

impl Storage for DocStorage {
    async fn load(&self, key: StorageKey) -> Option<Vec<u8>> {
        let k = key_string(&key);
        match self.blocking(move |s| s.doc_get(&k)).await {
            Ok(v) => v,
            Err(e) => {
                self.fail(format!("could not read document chunk {key}: {e}"));
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
            Err(e) => {
                self.fail(format!(
                    "could not read document chunks under {prefix}: {e}"
                ));
                HashMap::new()
            }
        }
    }

    async fn put(&self, key: StorageKey, data: Vec<u8>) {
        let k = key_string(&key);
        let data = Arc::new(data);
        self.write(&format!("store document chunk {key}"), move |s| {
            s.doc_put(&k, &data)
        })
        .await
    }

    async fn delete(&self, key: StorageKey) {
        let k = key_string(&key);
        self.write(&format!("delete document chunk {key}"), move |s| {
            s.doc_delete(&k)
        })
        .await
    }
}
