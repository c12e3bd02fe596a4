//! My panels: entries and categories, always written to the master first (durably), then
//! published into the contact's outbox — only the difference — and rescheduled for the next
//! instant a visibility rule flips.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use backstory_crdt::automerge::ChangeHash;
use backstory_crdt::{
    CategoryId, DefaultCategory, Entry, EntryId, Kind, MasterEdit, MasterEntry, MasterPanel,
    PanelError, Published, Source, Timestamp, Visibility, Written, apply_published_after, publish,
    read_panel,
};
use samod::DocHandle;
use tokio::sync::Notify;

use super::device::Device;
use super::documents::Documents;
use super::marks;
use super::media::Media;
use crate::contact::{Contact, ContactId};
use crate::error::EngineError;
use crate::event::Event;
use crate::view::{EntryEdit, MyEntry, MyPanel, Preview};

/// The longest text an entry may hold, in bytes.
pub const MAX_TEXT: usize = 64 * 1024;

pub(crate) fn check_text(text: &str) -> Result<(), EngineError> {
    if text.len() > MAX_TEXT {
        return Err(EngineError::InvalidInput(format!(
            "text is {} bytes, over the {MAX_TEXT}-byte limit",
            text.len()
        )));
    }
    Ok(())
}

/// An entry ready to be written into a panel: validated, attachments imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Prepared {
    pub(crate) category: Option<CategoryId>,
    pub(crate) kind: Kind,
    pub(crate) text: String,
    pub(crate) visibility: Visibility,
    pub(crate) source: Source,
    /// For the author alone: what was left out, and why.
    pub(crate) note: Option<String>,
}

/// The panels part: the write gate and the schedule of rule flips; cheap to clone.
#[derive(Clone)]
pub(crate) struct Panels {
    device: Device,
    docs: Documents,
    media: Media,
    /// Serializes read-modify-write of master panels, and publishing.
    gate: Arc<tokio::sync::Mutex<()>>,
    /// When each contact's projection next changes.
    wakes: Arc<Mutex<BTreeMap<ContactId, Timestamp>>>,
    wake: Arc<Notify>,
    /// What the last publication wrote into each outbox (by document id), so the next one writes
    /// the difference without reading the whole panel back; at most [`WRITTEN_KEPT`] outboxes.
    written: Arc<Mutex<HashMap<String, Written>>>,
    /// The masters last changed, as saved (at most [`MASTERS_KEPT`]): the next change to the
    /// same panel starts from here instead of reading and decoding the master again. Only
    /// changes under the gate save masters, and they keep this in step.
    masters: Arc<Mutex<HashMap<ContactId, MasterPanel>>>,
}

/// How many outboxes' last publications are kept: the contacts being written to now.
const WRITTEN_KEPT: usize = 64;

/// How many masters are kept decoded: the panels being edited now.
const MASTERS_KEPT: usize = 8;

/// What a change to a master gives back: its result. The entries it changed are counted by the
/// [`MasterEdit`] it is made through, and saved alone.
type Changed<T> = Result<T, EngineError>;

/// The change a publication wrote into an outbox, if it wrote one: the document and its heads.
type Outboxed = Option<(DocHandle, Vec<ChangeHash>)>;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Panels {
    pub(crate) fn new(device: Device, docs: Documents, media: Media) -> Self {
        Self {
            device,
            docs,
            media,
            gate: Arc::default(),
            wakes: Arc::default(),
            wake: Arc::default(),
            written: Arc::default(),
            masters: Arc::default(),
        }
    }

    /// Publishes each contact's master again at start: catches up rules that came due while the
    /// engine was not running, and repairs an outbox whose last write a crash cut short. An
    /// outbox whose mark vouches for the projection it would get is not loaded; the recordings
    /// of my comments its mark lists are returned by contact (the others' are read from their
    /// outbox).
    pub(crate) async fn publish_all(
        &self,
        contacts: &[Contact],
    ) -> Result<HashMap<ContactId, Vec<String>>, EngineError> {
        let gate = self.gate.lock().await;
        let mut skipped = HashMap::new();
        for contact in contacts {
            let published = self.project(contact).await?;
            let projection = marks::digest(&published);
            let marks = self.docs.marks();
            if let Some(mark) = marks
                .vouches(&contact.id, &contact.outbox, &projection)
                .await?
            {
                self.scheduled(contact, &published);
                skipped.insert(contact.id.clone(), mark.comment_audio);
            } else {
                self.write(&gate, contact, published).await?;
            }
        }
        Ok(skipped)
    }

    /// Publishes one contact's master (after pairing).
    pub(crate) async fn publish_one(&self, contact: &Contact) -> Result<(), EngineError> {
        let gate = self.gate.lock().await;
        self.publish(&gate, contact).await
    }

    /// Records a new contact's empty master panel, and publishes it, under the write gate.
    pub(crate) async fn insert_contact(&self, contact: &Contact) -> Result<(), EngineError> {
        let gate = self.gate.lock().await;
        let c = contact.clone();
        self.device
            .blocking(move |s| s.insert_contact(&c, &MasterPanel::default()))
            .await?;
        self.publish(&gate, contact).await
    }

    /// Takes the write gate, for changes to the contact list that must not interleave with a
    /// publication.
    pub(crate) async fn hold(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.gate.lock().await
    }

    /// Publishes a contact's master into its outbox: only the difference is written.
    ///
    /// Callers hold the write gate, so a projection computed from an older master can never be
    /// written over a newer one.
    async fn publish(
        &self,
        gate: &tokio::sync::MutexGuard<'_, ()>,
        contact: &Contact,
    ) -> Result<(), EngineError> {
        let published = self.project(contact).await?;
        self.write(gate, contact, published).await?;
        Ok(())
    }

    /// What the contact may see now, from the master.
    async fn project(&self, contact: &Contact) -> Result<Published, EngineError> {
        let id = contact.id.clone();
        let master = self.device.blocking(move |s| s.master(&id)).await?;
        let published = publish(&master, self.device.now());
        crate::stage::reached(crate::stage::PROJECTION, self.device.key().public());
        Ok(published)
    }

    /// Publishes `master`, the contact's master as the store has it (read under the gate).
    async fn publish_master(
        &self,
        gate: &tokio::sync::MutexGuard<'_, ()>,
        contact: &Contact,
        master: &MasterPanel,
    ) -> Result<Outboxed, EngineError> {
        let published = publish(master, self.device.now());
        crate::stage::reached(crate::stage::PROJECTION, self.device.key().public());
        self.write(gate, contact, published).await
    }

    /// What follows from a projection besides the outbox: the media the contact may fetch, and
    /// when the projection changes next.
    fn scheduled(&self, contact: &Contact, published: &Published) {
        if let Some(peer) = contact.peer.as_deref().and_then(|p| p.parse().ok()) {
            let hashes = published
                .entries
                .iter()
                .filter_map(|e| e.kind.media())
                .filter_map(|m| m.hash.parse().ok())
                .collect();
            self.media.grants().set(peer, hashes);
        }
        {
            let mut wakes = lock(&self.wakes);
            match published.next_change {
                Some(t) => wakes.insert(contact.id.clone(), t),
                None => wakes.remove(&contact.id),
            };
        }
        self.wake.notify_one();
    }

    /// Writes a projection into the contact's outbox, and marks the outbox once it is durable.
    async fn write(
        &self,
        _gate: &tokio::sync::MutexGuard<'_, ()>,
        contact: &Contact,
        published: Published,
    ) -> Result<Outboxed, EngineError> {
        let now = self.device.now();
        self.scheduled(contact, &published);
        let (visible, next_change) = (published.entries.len(), published.next_change);
        let handle = self.docs.get(&contact.outbox).await?;
        // The turn is taken before the write: no mark waiting for an earlier publication can
        // then list this one's chunks (see `marks`).
        let turn = self.docs.marks().turn(&contact.id).await;
        let last = self.written().remove(&contact.outbox);
        let (changed, heads, written, published) = handle
            .with_document_async(move |doc| {
                apply_published_after(doc, &published, now, last)
                    .map(|(c, written)| (c, doc.get_heads(), written, published))
            })
            .await??;
        if let Some(written) = written {
            let mut kept = self.written();
            if kept.len() >= WRITTEN_KEPT
                && let Some(other) = kept.keys().next().cloned()
            {
                kept.remove(&other);
            }
            kept.insert(contact.outbox.clone(), written);
        }
        crate::stage::reached(crate::stage::OUTBOX, self.device.key().public());
        let wrote = changed.is_some().then(|| (handle.clone(), heads.clone()));
        let outboxed = marks::Outboxed { handle, heads };
        // Digested by the mark, later and only for the last of a burst: off the edit's way.
        self.docs
            .marks()
            .after(&contact.id, turn, outboxed, published);
        if wrote.is_some() {
            self.device.emit(Event::PanelPublished {
                contact: contact.id.clone(),
                visible,
                next_change,
            });
        }
        Ok(wrote)
    }

    fn written(&self) -> std::sync::MutexGuard<'_, HashMap<String, Written>> {
        lock(&self.written)
    }

    /// The earliest instant a rule flips, and a notification when the schedule changes.
    pub(crate) fn next_wake(&self) -> (Option<Timestamp>, Arc<Notify>) {
        let next = lock(&self.wakes).values().min().copied();
        (next, self.wake.clone())
    }

    /// Publishes every contact whose next rule flip has come.
    pub(crate) async fn publish_due(&self, contacts: &[Contact]) -> Result<(), EngineError> {
        let t = self.device.now();
        let due: Vec<ContactId> = lock(&self.wakes)
            .iter()
            .filter(|(_, at)| **at <= t)
            .map(|(c, _)| c.clone())
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let gate = self.gate.lock().await;
        for contact in contacts.iter().filter(|c| due.contains(&c.id)) {
            self.publish(&gate, contact).await?;
        }
        Ok(())
    }

    /// Loads a master panel, changes it, saves it durably and publishes it, all under the write
    /// gate (see [`Changed`]).
    async fn change<T: Send + 'static>(
        &self,
        contact: &Contact,
        f: impl FnOnce(&mut MasterEdit<'_>) -> Changed<T> + Send + 'static,
    ) -> Result<T, EngineError> {
        let c = contact.clone();
        let (out, _) = self.change_whose(move |_| Ok(c), f).await?;
        Ok(out)
    }

    /// [`Panels::change`] on the panel that holds `entry`, found in the same trip to the store;
    /// returns whose panel it was too.
    async fn change_holding<T: Send + 'static>(
        &self,
        entry: &EntryId,
        f: impl FnOnce(&mut MasterEdit<'_>) -> Changed<T> + Send + 'static,
    ) -> Result<(T, Contact), EngineError> {
        let e = entry.clone();
        self.change_whose(
            move |s| s.contact_holding(&e)?.ok_or(EngineError::UnknownEntry(e)),
            f,
        )
        .await
    }

    /// [`Panels::change`] on the panel of the contact `whose` reads from the store, in the same
    /// trip as the change.
    async fn change_whose<T: Send + 'static>(
        &self,
        whose: impl FnOnce(&crate::store::Store) -> Result<Contact, EngineError> + Send + 'static,
        f: impl FnOnce(&mut MasterEdit<'_>) -> Changed<T> + Send + 'static,
    ) -> Result<(T, Contact), EngineError> {
        self.docs.check_health()?;
        let gate = self.gate.lock().await;
        let masters = self.masters.clone();
        let me = self.device.key().public();
        let (out, contact, master) = self
            .device
            .blocking(move |s| {
                let contact = whose(s)?;
                // Taken out while it changes: a change that fails half-way, or a save that
                // fails, leaves the next change to read the store.
                let kept = lock(&masters).remove(&contact.id);
                let mut master = match kept {
                    Some(master) => master,
                    None => s.master(&contact.id)?,
                };
                let mut edit = MasterEdit::new(&mut master);
                let out = f(&mut edit)?;
                let touched = edit.touched().to_vec();
                // Without a sync of its own: the outbox's change, written next, syncs it.
                s.unsynced(|u| u.save_master(&contact.id, &master, &touched))?;
                crate::stage::reached(crate::stage::COMMIT, me);
                Ok::<_, EngineError>((out, contact, master))
            })
            .await?;
        // The master just saved is what the store has: the gate keeps any other write out.
        let outboxed = self.publish_master(&gate, &contact, &master).await;
        {
            let mut kept = lock(&self.masters);
            if kept.len() >= MASTERS_KEPT {
                kept.clear();
            }
            kept.insert(contact.id.clone(), master);
        }
        self.durable(outboxed).await?;
        Ok((out, contact))
    }

    /// Returns once the master saved just before `outboxed` was written is durable: one sync to
    /// disk for both, since the synced write of the outbox's change syncs the log the master
    /// waits in. When the projection did not change, or its change cannot be written (a full
    /// disk: it then waits unsent, and the next start publishes again), the log is synced alone.
    async fn durable(&self, outboxed: Result<Outboxed, EngineError>) -> Result<(), EngineError> {
        if let Ok(Some((handle, heads))) = &outboxed
            && self.docs.settled(handle, heads.clone()).await.is_ok()
        {
            return Ok(());
        }
        self.device.blocking(|s| s.sync_wal()).await?;
        outboxed.map(|_| ())
    }

    /// Adds a prepared entry to my panel for a contact. Returns once the entry is durable.
    pub(crate) async fn add(
        &self,
        contact: &Contact,
        new: Prepared,
    ) -> Result<EntryId, EngineError> {
        let t = self.device.now();
        let id = EntryId::new(self.device.new_id("e", 8));
        let entry_id = id.clone();
        self.change(contact, move |m| {
            let category = match new.category {
                Some(c) => c,
                None => default_category(&*m, &new.kind),
            };
            // Creation order is total, even when the clock stands still or steps back.
            let created = m
                .entries
                .iter()
                .map(|e| e.entry.created)
                .max()
                .map_or(t, |last| t.max(last.plus_millis(1)));
            m.add_entry(MasterEntry {
                entry: Arc::new(Entry {
                    id: entry_id.clone(),
                    category,
                    kind: new.kind,
                    text: new.text,
                    created,
                    edited: created,
                    source: new.source,
                }),
                visibility: new.visibility,
                note: new.note,
            })?;
            Ok(())
        })
        .await?;
        self.device.emit(Event::EntryPosted {
            contact: contact.id.clone(),
            entry: id.clone(),
        });
        Ok(id)
    }

    /// Edits an entry of one of my panels.
    pub(crate) async fn edit(&self, entry: &EntryId, edit: EntryEdit) -> Result<(), EngineError> {
        if let Some(text) = &edit.text {
            check_text(text)?;
        }
        let id = entry.clone();
        let t = self.device.now();
        let ((), contact) = self
            .change_holding(entry, move |m| {
                if let Some(text) = edit.text {
                    m.set_text(&id, text, t)?;
                }
                if let Some(category) = edit.category {
                    m.move_entry(&id, category, t)?;
                }
                if let Some(rule) = edit.visibility {
                    m.set_visibility(&id, rule)?;
                }
                Ok(())
            })
            .await?;
        self.device.emit(Event::EntryEdited {
            contact: contact.id.clone(),
            entry: entry.clone(),
        });
        Ok(())
    }

    /// Replaces a link entry's snapshot (refreshed, or removed) and the note about it.
    pub(crate) async fn set_snapshot(
        &self,
        contact: &Contact,
        entry: &EntryId,
        taken: super::snapshots::Taken,
    ) -> Result<(), EngineError> {
        let id = entry.clone();
        let t = self.device.now();
        self.change(contact, move |m| {
            m.set_snapshot(&id, taken.snapshot, taken.note, t)?;
            Ok(())
        })
        .await?;
        self.device.emit(Event::EntryEdited {
            contact: contact.id.clone(),
            entry: entry.clone(),
        });
        Ok(())
    }

    /// Removes an entry of one of my panels.
    pub(crate) async fn remove(&self, entry: &EntryId) -> Result<(), EngineError> {
        let id = entry.clone();
        let ((), contact) = self
            .change_holding(entry, move |m| {
                m.remove_entry(&id)?;
                Ok(())
            })
            .await?;
        self.device.emit(Event::EntryRemoved {
            contact: contact.id.clone(),
            entry: entry.clone(),
        });
        Ok(())
    }

    /// Adds a category; returns its id.
    pub(crate) async fn add_category(
        &self,
        contact: &Contact,
        name: &str,
    ) -> Result<CategoryId, EngineError> {
        let id = CategoryId::new(self.device.new_id("k", 6));
        let (cid, name) = (id.clone(), name.to_string());
        self.change(contact, move |m| {
            m.add_category(cid, &name)?;
            Ok(())
        })
        .await?;
        self.categories_changed(contact);
        Ok(id)
    }

    /// Renames a category.
    pub(crate) async fn rename_category(
        &self,
        contact: &Contact,
        category: &CategoryId,
        name: &str,
    ) -> Result<(), EngineError> {
        let (cid, name) = (category.clone(), name.to_string());
        self.change(contact, move |m| {
            m.rename_category(&cid, &name)?;
            Ok(())
        })
        .await?;
        self.categories_changed(contact);
        Ok(())
    }

    /// Moves a category to a position (0 is first).
    pub(crate) async fn move_category(
        &self,
        contact: &Contact,
        category: &CategoryId,
        position: usize,
    ) -> Result<(), EngineError> {
        let cid = category.clone();
        self.change(contact, move |m| {
            let mut order: Vec<CategoryId> = m.categories.iter().map(|c| c.id.clone()).collect();
            let from = order
                .iter()
                .position(|c| *c == cid)
                .ok_or_else(|| PanelError::UnknownCategory(cid.clone()))?;
            let moved = order.remove(from);
            order.insert(position.min(order.len()), moved);
            m.reorder_categories(&order)?;
            Ok(())
        })
        .await?;
        self.categories_changed(contact);
        Ok(())
    }

    /// Removes a category; its entries move to the first remaining one, which is returned.
    pub(crate) async fn remove_category(
        &self,
        contact: &Contact,
        category: &CategoryId,
    ) -> Result<CategoryId, EngineError> {
        let cid = category.clone();
        let t = self.device.now();
        let fallback = self
            .change(contact, move |m| Ok(m.remove_category(&cid, t)?))
            .await?;
        self.categories_changed(contact);
        Ok(fallback)
    }

    fn categories_changed(&self, contact: &Contact) {
        self.device.emit(Event::CategoriesChanged {
            contact: contact.id.clone(),
        });
    }

    /// The master panel for a contact.
    pub(crate) async fn master(&self, contact: &Contact) -> Result<MasterPanel, EngineError> {
        let id = contact.id.clone();
        self.device.blocking(move |s| s.master(&id)).await
    }

    /// My panel for a contact, with each entry's rule and whether they see it now.
    pub(crate) async fn my_panel(&self, contact: &Contact) -> Result<MyPanel, EngineError> {
        let master = self.master(contact).await?;
        Ok(my_panel_view(contact.clone(), master, self.device.now()))
    }

    /// What the contact can see of my panel right now, read from the outbox itself.
    pub(crate) async fn preview(&self, contact: &Contact) -> Result<Preview, EngineError> {
        let handle = self.docs.get(&contact.outbox).await?;
        let panel = handle.with_document_async(|doc| read_panel(doc)).await??;
        Ok(Preview {
            contact: contact.clone(),
            panel,
        })
    }
}

/// The category a new entry goes to when none is given: "recently watched" for a watched video
/// when the panel has it, else the panel's first.
fn default_category(m: &MasterPanel, kind: &Kind) -> CategoryId {
    let watched = DefaultCategory::Watched.id();
    if matches!(kind, Kind::WatchedVideo { .. }) && m.has_category(&watched) {
        return watched;
    }
    m.categories
        .first()
        .map(|c| c.id.clone())
        .unwrap_or_else(|| DefaultCategory::Activities.id())
}

/// My panel as the editor shows it: the one place "visible to them now" is decided for display.
pub(crate) fn my_panel_view(contact: Contact, master: MasterPanel, now: Timestamp) -> MyPanel {
    let published = publish(&master, now);
    let entries: Vec<MyEntry> = master
        .entries
        .into_iter()
        .map(|e| MyEntry {
            visible_now: e.visibility.is_visible_at(now),
            entry: Arc::unwrap_or_clone(e.entry),
            visibility: e.visibility,
            note: e.note,
        })
        .collect();
    MyPanel {
        contact,
        categories: master.categories,
        visible: u32::try_from(published.entries.len()).unwrap_or(u32::MAX),
        next_change: published.next_change,
        entries,
    }
}
