//! Their panels for me: reading them with "what changed since I last looked", marking them seen
//! (and telling the author, unless receipts are off), following them as they change, and fetching
//! their media.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use futures::FutureExt;
use samod::DocHandle;

use backstory_crdt::automerge::ChangeHash;
use backstory_crdt::changes::{heads_from_strings, heads_to_strings};
use backstory_crdt::feedback::{Receipt, read_feedback, set_receipt};
use backstory_crdt::{EntryId, EntryState, KeptChanges, PanelChanges, Timestamp};

use super::device::Device;
use super::documents::Documents;
use super::feedback::{Feedback, receipts_on};
use super::media::Media;
use super::network::Network;
use super::settings::Settings;
use super::views::Views;
use crate::contact::{Contact, ContactId};
use crate::error::EngineError;
use crate::event::Event;
use crate::net::Net;
use crate::store::CachedPanel;
use crate::view::{Fetched, TheirPanel};

/// A panel's size is measured once the store holds its latest change, or at the latest this
/// long after it arrived (a change a compaction folded in before it was looked at).
const REMEASURE: std::time::Duration = std::time::Duration::from_secs(2);

/// The received-panels part; cheap to clone.
#[derive(Clone)]
pub(crate) struct Received {
    device: Device,
    docs: Documents,
    settings: Settings,
    media: Media,
    feedback: Feedback,
    network: Network,
    views: Views,
    /// The heads I last marked seen, per contact and document, as the store has them (read
    /// once, then kept in step by [`Received::mark_seen`], their only writer).
    seen: Arc<Mutex<SeenHeads>>,
    /// Held while marking seen, so the kept heads follow the store's order of writes.
    marking: Arc<tokio::sync::Mutex<()>>,
    /// Contacts removed while this engine runs: their followers stop.
    removed: Arc<Mutex<HashSet<ContactId>>>,
}

/// Seen heads by [`seen_key`].
type SeenHeads = HashMap<(ContactId, String), Vec<String>>;

/// Whose seen heads, of which document: a contact paired again under the same id has a new one.
fn seen_key(contact: &Contact) -> (ContactId, String) {
    (
        contact.id.clone(),
        contact.inbound.clone().unwrap_or_default(),
    )
}

pub(crate) fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Received {
    pub(crate) fn new(
        device: Device,
        docs: Documents,
        settings: Settings,
        media: Media,
        feedback: Feedback,
        network: Network,
    ) -> Self {
        Self {
            views: Views::new(device.clone()),
            device,
            docs,
            settings,
            media,
            feedback,
            network,
            seen: Arc::default(),
            marking: Arc::default(),
            removed: Arc::default(),
        }
    }

    /// Forgets a contact the store no longer has: its follower stops at its next change.
    pub(crate) fn forget(&self, contact: &ContactId) {
        self.removed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(contact.clone());
        self.seen_heads().retain(|(id, _), _| id != contact);
    }

    fn removed(&self, contact: &ContactId) -> bool {
        self.removed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(contact)
    }

    fn seen_heads(&self) -> std::sync::MutexGuard<'_, SeenHeads> {
        self.seen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The heads of a contact's panel I last marked seen.
    async fn seen(&self, contact: &Contact) -> Result<Vec<String>, EngineError> {
        let key = seen_key(contact);
        let known = self.seen_heads().get(&key).cloned();
        if let Some(heads) = known {
            return Ok(heads);
        }
        let id = contact.id.clone();
        let heads = self.device.blocking(move |s| s.seen(&id)).await?;
        // A mark made while this was read is newer: it stays.
        Ok(self.seen_heads().entry(key).or_insert(heads).clone())
    }

    /// Pauses syncing their panel for me once it takes more than my limit here
    /// (`sync.panel_limit`), and resumes it when the limit allows it again; tells the windows
    /// when either happens.
    pub(crate) async fn check_size(&self, contact: &Contact) -> Result<(), EngineError> {
        let Some(doc) = contact.inbound.clone() else {
            return Ok(());
        };
        let limit = self.settings.panel_limit().await?;
        let d = doc.clone();
        let size = self.device.blocking(move |s| s.doc_size(&d)).await?;
        let over = size > limit;
        if self.network.set_paused(&doc, over) {
            if over {
                tracing::warn!(
                    "{}'s panel takes {size} bytes, over the {limit}-byte limit: syncing it paused",
                    contact.name
                );
            }
            self.device.emit(Event::PanelPaused {
                contact: contact.id.clone(),
                paused: over,
                size,
                limit,
            });
        }
        Ok(())
    }

    /// Their panel for me, annotated with what changed since I last marked it seen.
    pub(crate) async fn panel(&self, contact: &Contact) -> Result<TheirPanel, EngineError> {
        let (shared, changes) = self.view(contact).await?;
        Ok(TheirPanel {
            contact: contact.clone(),
            shared,
            changes,
        })
    }

    /// [`Received::panel`]'s view, shared with the one kept rather than copied: whether they
    /// share a panel with me, and what it shows.
    async fn view(&self, contact: &Contact) -> Result<(bool, Arc<PanelChanges>), EngineError> {
        let unshared = || (false, Arc::default());
        let Some(doc_id) = contact.inbound.clone() else {
            return Ok(unshared());
        };
        let seen = self.seen(contact).await?;
        let handle = match self.docs.loaded(&doc_id) {
            Some(h) => {
                // What was computed for this state of the document a moment ago answers again.
                let heads = heads_to_strings(&h.with_document(|d| d.get_heads()));
                if let Some(changes) = self.views.fresh(&doc_id, &seen, &heads) {
                    return Ok((true, changes));
                }
                h
            }
            None => {
                // Not loaded yet (loading a long history takes a while): the last view against
                // the same seen heads answers; the follower corrects it once loaded.
                if let Some(changes) = self.views.get(&contact.id, &doc_id, &seen).await? {
                    return Ok((true, changes));
                }
                let Some(h) = self.docs.find(&doc_id).await? else {
                    // Paired, but their panel has not arrived yet.
                    return Ok(unshared());
                };
                h
            }
        };
        let changes = self.changes_since(&handle, &doc_id, seen.clone()).await?;
        self.views.put(
            &contact.id,
            CachedPanel {
                doc: doc_id,
                seen,
                changes: changes.clone(),
            },
        );
        Ok((true, changes))
    }

    /// The panel in a document, annotated with what changed since `seen`: the view kept from the
    /// last time brought forward by what changed since, or computed whole.
    async fn changes_since(
        &self,
        handle: &DocHandle,
        doc_id: &str,
        seen: Vec<String>,
    ) -> Result<Arc<PanelChanges>, EngineError> {
        let slot = self.views.slot(doc_id);
        let mut kept = slot.lock().await;
        let last = kept.take().filter(|k| k.seen() == seen);
        let view = handle
            .with_document_async(move |doc| match last {
                Some(last) => last.update(doc),
                None => KeptChanges::new(doc, seen),
            })
            .await??;
        let changes = view.shared();
        *kept = Some(view);
        Ok(changes)
    }

    /// How many of their updates I have not seen, and when the latest of them was written.
    pub(crate) async fn unseen(
        &self,
        contact: &Contact,
    ) -> Result<(bool, u32, Option<Timestamp>), EngineError> {
        let (shared, changes) = self.view(contact).await?;
        let updated = changes
            .entries
            .iter()
            .filter(|e| e.state != EntryState::Seen)
            .flat_map(|e| e.spans.iter().map(|s| s.time).chain([e.entry.edited]))
            .max();
        Ok((shared, count(changes.unseen()), updated))
    }

    /// Records that I have seen their panel up to `heads` (read from [`Received::panel`]), so
    /// only later changes count as new; tells them, unless receipts are off.
    pub(crate) async fn mark_seen(
        &self,
        contact: &Contact,
        heads: Vec<String>,
    ) -> Result<(), EngineError> {
        if heads_from_strings(&heads).len() != heads.len() {
            return Err(EngineError::InvalidInput(
                "heads must be change hashes".into(),
            ));
        }
        let id = contact.id.clone();
        let at = self.device.now().millis();
        let seen = heads.clone();
        let _marking = self.marking.lock().await;
        // Forgotten first: a write that fails leaves the store's word to the next read.
        self.seen_heads().remove(&seen_key(contact));
        self.device
            .blocking(move |s| s.mark_seen(&id, &seen, at))
            .await?;
        self.seen_heads().insert(seen_key(contact), heads.clone());
        self.send_receipt(contact, heads).await?;
        let (_, unseen, _) = self.unseen(contact).await?;
        self.device.emit(Event::PanelReceived {
            contact: contact.id.clone(),
            unseen: unseen as usize,
        });
        Ok(())
    }

    /// How many entries of my panel for them are new or changed since their latest receipt (all
    /// of them when they never sent one).
    pub(crate) async fn unseen_by_them(&self, contact: &Contact) -> Result<usize, EngineError> {
        let mut heads = Vec::new();
        if let Some(inbound) = contact.inbound.as_deref()
            && let Some(handle) = self.docs.find(inbound).await?
        {
            let feedback = handle.with_document_async(|d| read_feedback(d)).await??;
            if let Some(latest) = feedback.receipts.last() {
                heads = latest.heads.clone();
            }
        }
        let mine = self.docs.get(&contact.outbox).await?;
        let now = heads_to_strings(&mine.with_document(|d| d.get_heads()));
        if let Some(changes) = self.views.fresh(&contact.outbox, &heads, &now) {
            return Ok(changes.unseen());
        }
        let changes = self.changes_since(&mine, &contact.outbox, heads).await?;
        Ok(changes.unseen())
    }

    /// Tells a paired contact how far I have read their panel, unless receipts are off (for
    /// everyone, or for them).
    async fn send_receipt(&self, contact: &Contact, heads: Vec<String>) -> Result<(), EngineError> {
        if contact.peer.is_none() || !receipts_on(&self.device, &self.settings, contact).await? {
            return Ok(());
        }
        let handle = self.docs.get(&contact.outbox).await?;
        let sent = handle.with_document_async(|d| read_feedback(d)).await??;
        if sent.receipts.last().is_some_and(|r| r.heads == heads) {
            // They already know; another change would only grow the document.
            return Ok(());
        }
        let at = self.device.now();
        let receipt = Receipt {
            heads,
            opened: at.millis(),
            open_for: 0,
        };
        handle
            .with_document_async(move |d| set_receipt(d, receipt, at))
            .await??;
        Ok(())
    }

    /// Follows a contact's document for me: waits until it arrives, then reports each change.
    pub(crate) fn follow(&self, contact: &Contact) {
        let Some(doc_id) = contact.inbound.clone() else {
            return;
        };
        let this = self.clone();
        let contact = contact.clone();
        let mut stop = self.device.stopping();
        tokio::spawn(async move {
            let mut arrivals = this.docs.arrivals();
            let handle = loop {
                if *stop.borrow() {
                    return;
                }
                arrivals.mark_unchanged();
                match this.docs.find(&doc_id).await {
                    Ok(Some(h)) => break h,
                    Ok(None) => {}
                    Err(e) => tracing::debug!("waiting for panel {doc_id}: {e}"),
                }
                // Look again in a while, or as soon as anyone finds a document (a window
                // asking for this panel may find it first).
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    _ = arrivals.changed() => {}
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                }
            };
            let mut changes = Box::pin(handle.changes());
            let mut events = this.device.events().subscribe();
            this.correct_kept_view(&contact).await;
            let check_size = async |this: &Self| {
                if let Err(e) = this.check_size(&contact).await {
                    tracing::warn!("cannot measure {}'s panel: {e}", contact.name);
                }
            };
            check_size(&this).await;
            // What arrived before this engine started (or while it was not following) is
            // announced now, oldest first.
            if let Err(e) = this.feedback.inbound_changed(&contact).await {
                tracing::warn!("cannot read {}'s feedback: {e}", contact.name);
            }
            // The store takes a change a moment after it is applied (longer on a busy
            // machine): the size is measured again once the store holds the latest change.
            let mut written = this.docs.written();
            let mut unmeasured: Option<(Vec<ChangeHash>, tokio::time::Instant)> = None;
            loop {
                let overdue = async {
                    match &unmeasured {
                        Some((_, at)) => tokio::time::sleep_until(*at).await,
                        None => std::future::pending().await,
                    }
                };
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    _ = written.changed(), if unmeasured.is_some() => {
                        written.borrow_and_update();
                        if let Some((heads, _)) = unmeasured.clone() {
                            let held = this.docs.holds(handle.document_id(), heads).await;
                            // A store that cannot be read is measured (and reported) at once.
                            if !matches!(held, Ok(false)) {
                                unmeasured = None;
                                check_size(&this).await;
                            }
                        }
                    }
                    _ = overdue => {
                        unmeasured = None;
                        check_size(&this).await;
                    }
                    event = events.recv() => match event {
                        Ok(Event::SettingChanged { key }) if key == "sync.panel_limit" => {
                            check_size(&this).await;
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            check_size(&this).await;
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                        Ok(Event::ContactRemoved { contact: c }) if c == contact.id => return,
                        Ok(_) => {}
                    },
                    next = futures::StreamExt::next(&mut changes) => {
                        if next.is_none() {
                            return;
                        }
                        crate::stage::reached(crate::stage::APPLY, this.device.key().public());
                        // Changes that came meanwhile are read together, once.
                        while let Some(Some(_)) =
                            futures::StreamExt::next(&mut changes).now_or_never()
                        {}
                        if this.removed(&contact.id) {
                            return;
                        }
                        // The windows first; measuring and the chat's bookkeeping after.
                        match this.unseen(&contact).await {
                            Ok((_, unseen, _)) => {
                                this.device.emit(Event::PanelReceived {
                                    contact: contact.id.clone(),
                                    unseen: unseen as usize,
                                });
                                crate::stage::reached(crate::stage::EVENT, this.device.key().public());
                            }
                            Err(e) => tracing::warn!("cannot read {}'s panel: {e}", contact.name),
                        }
                        check_size(&this).await;
                        let heads = handle.with_document(|d| d.get_heads());
                        unmeasured = Some((heads, tokio::time::Instant::now() + REMEASURE));
                        if let Err(e) = this.feedback.inbound_changed(&contact).await {
                            tracing::warn!("cannot read {}'s feedback: {e}", contact.name);
                        }
                    }
                }
            }
        });
    }

    /// Writes the views of their panels still waiting (at shutdown).
    pub(crate) async fn flush_views(&self) {
        self.views.flush().await;
    }

    /// Once their panel is loaded: if a window may have been answered from a kept view that
    /// the panel has moved on from, tells the windows to read it again.
    async fn correct_kept_view(&self, contact: &Contact) {
        let kept = match self.views.heads(&contact.id).await {
            Ok(Some(heads)) => heads,
            Ok(None) => return,
            Err(e) => {
                tracing::debug!("no kept view of {}'s panel: {e}", contact.name);
                return;
            }
        };
        match self.view(contact).await {
            Ok((_, now)) if now.heads != kept => {
                self.device.emit(Event::PanelReceived {
                    contact: contact.id.clone(),
                    unseen: now.unseen(),
                });
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot read {}'s panel: {e}", contact.name),
        }
    }

    /// Fetches the media of an entry of their panel from their device and saves it to `out`
    /// (absolute), or to the copy the windows may show.
    pub(crate) async fn fetch(
        &self,
        net: Option<&Net>,
        contact: &Contact,
        entry: &EntryId,
        out: Option<&Path>,
    ) -> Result<Fetched, EngineError> {
        let (_, panel) = self.view(contact).await?;
        let found = panel
            .entries
            .iter()
            .find(|e| e.entry.id == *entry)
            .ok_or_else(|| EngineError::UnknownEntry(entry.clone()))?;
        let media = found
            .entry
            .kind
            .media()
            .cloned()
            .ok_or_else(|| EngineError::InvalidInput(format!("entry {entry} has no media")))?;
        let hash = self.media.fetch(net, contact, entry, &media).await?;
        let path = match out {
            Some(out) => {
                self.media.export(hash, out).await?;
                out.to_path_buf()
            }
            None => self.media.viewing_copy(hash, &media.mime).await?,
        };
        Ok(Fetched {
            entry: entry.clone(),
            hash: hash.to_hex(),
            size: media.size,
            mime: media.mime,
            path,
        })
    }
}
