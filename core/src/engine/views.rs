//! Views of their panels kept in the store: a window asking for a panel whose document is not
//! loaded yet (a start, a long history) is answered from the last view computed against the same
//! seen heads; the follower puts it right, with an event, once the document is loaded. Views are
//! written by one task, the latest per contact, a moment after they change. The views computed
//! while the engine runs are also kept in memory, by document, and brought forward by the entries
//! each later change touches instead of computed again whole.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use backstory_crdt::{KeptChanges, PanelChanges};
use tokio::sync::Notify;

use super::device::Device;
use crate::contact::ContactId;
use crate::error::EngineError;
use crate::store::CachedPanel;

/// Views computed meanwhile are written together, this long after the first.
const GATHER: Duration = Duration::from_millis(200);

/// The views; cheap to clone.
#[derive(Clone)]
pub(crate) struct Views {
    device: Device,
    /// The latest views not yet written, and those written, by contact.
    latest: Arc<Mutex<Latest>>,
    dirty: Arc<Notify>,
}

#[derive(Default)]
struct Latest {
    pending: HashMap<ContactId, CachedPanel>,
    /// The digest of the view the store has, per contact.
    written: HashMap<ContactId, blake3::Hash>,
    /// The last view computed, per document, for as long as the engine runs (at most [`KEPT`]):
    /// a window reading a panel the follower has just read is answered without reading again,
    /// and the next change is read into it.
    kept: HashMap<String, Kept>,
}

/// A document's kept view, if any.
pub(crate) type Kept = Arc<tokio::sync::Mutex<Option<KeptChanges>>>;

/// How many documents' last views are kept in memory.
const KEPT: usize = 64;

fn digest(view: &CachedPanel) -> blake3::Hash {
    let bytes = serde_json::to_vec(&(&view.doc, &view.seen, &*view.changes)).unwrap_or_default();
    blake3::hash(&bytes)
}

impl Views {
    pub(crate) fn new(device: Device) -> Self {
        let views = Self {
            device,
            latest: Arc::default(),
            dirty: Arc::default(),
        };
        tokio::spawn(views.clone().write_task());
        views
    }

    fn latest(&self) -> std::sync::MutexGuard<'_, Latest> {
        self.latest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The last view of a contact's panel in `doc` against `seen`, if there is one.
    pub(crate) async fn get(
        &self,
        contact: &ContactId,
        doc: &str,
        seen: &[String],
    ) -> Result<Option<Arc<PanelChanges>>, EngineError> {
        let fits = |v: &CachedPanel| v.doc == doc && v.seen == seen;
        let known = self.latest().pending.get(contact).cloned();
        let view = match known {
            Some(v) => Some(v),
            None => {
                let id = contact.clone();
                self.device.blocking(move |s| s.panel_view(&id)).await?
            }
        };
        Ok(view.filter(fits).map(|v| v.changes))
    }

    /// The heads of their panel in the last view kept, if any.
    pub(crate) async fn heads(
        &self,
        contact: &ContactId,
    ) -> Result<Option<Vec<String>>, EngineError> {
        let pending = self
            .latest()
            .pending
            .get(contact)
            .map(|v| v.changes.heads.clone());
        if pending.is_some() {
            return Ok(pending);
        }
        let id = contact.clone();
        let kept = self.device.blocking(move |s| s.panel_view(&id)).await?;
        Ok(kept.map(|v| v.changes.heads.clone()))
    }

    /// The view last computed of the panel in `doc` against `seen`, if the document's heads are
    /// still `heads`: the same document state gives the same view.
    pub(crate) fn fresh(
        &self,
        doc: &str,
        seen: &[String],
        heads: &[String],
    ) -> Option<Arc<PanelChanges>> {
        let slot = self.latest().kept.get(doc).cloned()?;
        // Being brought forward: the caller waits for it in `slot`.
        let kept = slot.try_lock().ok()?;
        kept.as_ref()
            .filter(|k| k.seen() == seen && k.changes().heads == heads)
            .map(KeptChanges::shared)
    }

    /// Where the view last computed of the panel in `doc` is kept: one reader at a time brings
    /// it forward, the others wait and find it done.
    pub(crate) fn slot(&self, doc: &str) -> Kept {
        let mut latest = self.latest();
        if latest.kept.len() >= KEPT && !latest.kept.contains_key(doc) {
            latest.kept.clear();
        }
        latest.kept.entry(doc.to_string()).or_default().clone()
    }

    /// Writes a contact's view just computed to the store a moment later, unless it is what the
    /// store has.
    pub(crate) fn put(&self, contact: &ContactId, view: CachedPanel) {
        self.latest().pending.insert(contact.clone(), view);
        self.dirty.notify_one();
    }

    /// Writes the views still waiting (at shutdown).
    pub(crate) async fn flush(&self) {
        self.write_pending().await;
    }

    async fn write_task(self) {
        let mut stop = self.device.stopping();
        loop {
            tokio::select! {
                _ = stop.changed() => return,
                _ = self.dirty.notified() => {}
            }
            tokio::time::sleep(GATHER).await;
            self.write_pending().await;
        }
    }

    async fn write_pending(&self) {
        let batch: Vec<(ContactId, CachedPanel)> = {
            let mut latest = self.latest();
            let pending: Vec<_> = latest.pending.drain().collect();
            pending
                .into_iter()
                .filter(|(c, v)| latest.written.get(c) != Some(&digest(v)))
                .collect()
        };
        if batch.is_empty() {
            return;
        }
        let rows = batch.clone();
        match self
            .device
            .blocking(move |s| s.set_panel_views(&rows))
            .await
        {
            Ok(()) => self
                .latest()
                .written
                .extend(batch.iter().map(|(c, v)| (c.clone(), digest(v)))),
            // A view not written costs a load at the next start, nothing else.
            Err(e) => tracing::debug!("views of panels not kept: {e}"),
        }
    }
}
