//! The author's master panel for one contact: every entry with its visibility rule. Never synced.
//!
//! `publish` projects it to what the viewer may see at a given instant.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::category::{Category, default_categories, fallback_category};
use crate::entry::{Entry, Kind, LinkSnapshot, Visibility};
use crate::ids::{CategoryId, EntryId, Timestamp};

/// One entry of the master panel with its rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterEntry {
    /// The entry as it would be published: shared with the projections that publish it, so a
    /// publication copies no entry, and one that an edit did not touch is the same allocation
    /// as the last publication's (see `Diff` in the outbox).
    pub entry: Arc<Entry>,
    /// Who may see it, and when.
    pub visibility: Visibility,
    /// A note for the author alone, never published: why a link has no snapshot, say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The author's complete panel for one contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MasterPanel {
    /// Categories in display order.
    pub categories: Vec<Category>,
    /// Entries in creation order.
    pub entries: Vec<MasterEntry>,
}

impl Default for MasterPanel {
    fn default() -> Self {
        Self {
            categories: default_categories(),
            entries: Vec::new(),
        }
    }
}

/// Why an operation on a panel was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PanelError {
    /// No category has this id.
    #[error("unknown category `{0}`")]
    UnknownCategory(CategoryId),
    /// No entry has this id.
    #[error("unknown entry `{0}`")]
    UnknownEntry(EntryId),
    /// A category with this id exists already.
    #[error("category `{0}` exists already")]
    DuplicateCategory(CategoryId),
    /// An entry with this id exists already.
    #[error("entry `{0}` exists already")]
    DuplicateEntry(EntryId),
    /// A panel keeps at least one category, so entries always have a home.
    #[error("the last category cannot be removed")]
    LastCategory,
    /// Category names must say something.
    #[error("a category name cannot be empty")]
    EmptyName,
    /// A reorder must name every category exactly once.
    #[error("a new order must list every category exactly once")]
    BadOrder,
    /// Only link entries have snapshots.
    #[error("entry `{0}` is not a link")]
    NotALink(EntryId),
}

/// What the viewer may see at one instant, and when that changes next.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Published {
    /// Categories in display order.
    pub categories: Vec<Category>,
    /// The visible entries, in creation order, shared with the master.
    pub entries: Vec<Arc<Entry>>,
    /// The next instant at which `publish` gives a different answer, if any.
    pub next_change: Option<Timestamp>,
}

/// The pure projection from the master panel to what the viewer may see at `now`.
///
/// Hidden and not-yet-revealed entries are absent, not flagged.
pub fn publish(master: &MasterPanel, now: Timestamp) -> Published {
    let entries: Vec<Arc<Entry>> = master
        .entries
        .iter()
        .filter(|e| e.visibility.is_visible_at(now))
        .map(|e| e.entry.clone())
        .collect();
    // A category's name says something too: only categories with something the contact can
    // see are published, so a category whose entries are all hidden stays on this device.
    let categories = master
        .categories
        .iter()
        .filter(|c| entries.iter().any(|e| e.category == c.id))
        .cloned()
        .collect();
    let next_change = master
        .entries
        .iter()
        .filter_map(|e| e.visibility.next_flip(now))
        .min();
    Published {
        categories,
        entries,
        next_change,
    }
}

impl MasterPanel {
    /// The entry with this id.
    pub fn entry(&self, id: &EntryId) -> Option<&MasterEntry> {
        self.entries.iter().find(|e| e.entry.id == *id)
    }

    fn entry_mut(&mut self, id: &EntryId) -> Result<&mut MasterEntry, PanelError> {
        self.entries
            .iter_mut()
            .find(|e| e.entry.id == *id)
            .ok_or_else(|| PanelError::UnknownEntry(id.clone()))
    }

    /// Whether a category with this id exists.
    pub fn has_category(&self, id: &CategoryId) -> bool {
        self.categories.iter().any(|c| c.id == *id)
    }

    fn require_category(&self, id: &CategoryId) -> Result<(), PanelError> {
        if self.has_category(id) {
            Ok(())
        } else {
            Err(PanelError::UnknownCategory(id.clone()))
        }
    }

    /// Adds an entry; its category must exist and its id must be new.
    pub fn add_entry(&mut self, entry: MasterEntry) -> Result<(), PanelError> {
        self.require_category(&entry.entry.category)?;
        if self.entry(&entry.entry.id).is_some() {
            return Err(PanelError::DuplicateEntry(entry.entry.id.clone()));
        }
        self.entries.push(entry);
        Ok(())
    }

    /// Replaces an entry's text (body or caption).
    pub fn set_text(
        &mut self,
        id: &EntryId,
        text: String,
        now: Timestamp,
    ) -> Result<(), PanelError> {
        let e = Arc::make_mut(&mut self.entry_mut(id)?.entry);
        e.text = text;
        e.edited = now;
        Ok(())
    }

    /// Files an entry under another category.
    pub fn move_entry(
        &mut self,
        id: &EntryId,
        category: CategoryId,
        now: Timestamp,
    ) -> Result<(), PanelError> {
        self.require_category(&category)?;
        let e = Arc::make_mut(&mut self.entry_mut(id)?.entry);
        e.category = category;
        e.edited = now;
        Ok(())
    }

    /// Replaces a link entry's snapshot, and the author's note about it.
    pub fn set_snapshot(
        &mut self,
        id: &EntryId,
        snapshot: Option<LinkSnapshot>,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<(), PanelError> {
        let e = self.entry_mut(id)?;
        if !matches!(e.entry.kind, Kind::Link { .. }) {
            return Err(PanelError::NotALink(id.clone()));
        }
        let entry = Arc::make_mut(&mut e.entry);
        if let Kind::Link { snapshot: kept, .. } = &mut entry.kind {
            *kept = snapshot;
        }
        entry.edited = now;
        e.note = note;
        Ok(())
    }

    /// Changes an entry's visibility rule.
    pub fn set_visibility(&mut self, id: &EntryId, rule: Visibility) -> Result<(), PanelError> {
        self.entry_mut(id)?.visibility = rule;
        Ok(())
    }

    /// Removes an entry, returning it.
    pub fn remove_entry(&mut self, id: &EntryId) -> Result<MasterEntry, PanelError> {
        let pos = self
            .entries
            .iter()
            .position(|e| e.entry.id == *id)
            .ok_or_else(|| PanelError::UnknownEntry(id.clone()))?;
        Ok(self.entries.remove(pos))
    }

    /// Adds a category at the end.
    pub fn add_category(&mut self, id: CategoryId, name: &str) -> Result<(), PanelError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(PanelError::EmptyName);
        }
        if self.has_category(&id) {
            return Err(PanelError::DuplicateCategory(id));
        }
        self.categories.push(Category {
            id,
            name: Some(name.to_string()),
        });
        Ok(())
    }

    /// Renames a category.
    pub fn rename_category(&mut self, id: &CategoryId, name: &str) -> Result<(), PanelError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(PanelError::EmptyName);
        }
        let c = self
            .categories
            .iter_mut()
            .find(|c| c.id == *id)
            .ok_or_else(|| PanelError::UnknownCategory(id.clone()))?;
        c.name = Some(name.to_string());
        Ok(())
    }

    /// Puts the categories in the given order, which must name each exactly once.
    pub fn reorder_categories(&mut self, order: &[CategoryId]) -> Result<(), PanelError> {
        if order.len() != self.categories.len() {
            return Err(PanelError::BadOrder);
        }
        let mut reordered = Vec::with_capacity(order.len());
        for id in order {
            let pos = self
                .categories
                .iter()
                .position(|c| c.id == *id)
                .ok_or(PanelError::BadOrder)?;
            if reordered.iter().any(|c: &Category| c.id == *id) {
                return Err(PanelError::BadOrder);
            }
            reordered.push(self.categories[pos].clone());
        }
        self.categories = reordered;
        Ok(())
    }

    /// Removes a category; its entries move to the first remaining category, which is returned.
    pub fn remove_category(
        &mut self,
        id: &CategoryId,
        now: Timestamp,
    ) -> Result<CategoryId, PanelError> {
        self.require_category(id)?;
        let fallback = fallback_category(&self.categories, id).ok_or(PanelError::LastCategory)?;
        self.categories.retain(|c| c.id != *id);
        for e in &mut self.entries {
            if e.entry.category == *id {
                let entry = Arc::make_mut(&mut e.entry);
                entry.category = fallback.clone();
                entry.edited = now;
            }
        }
        Ok(fallback)
    }
}

/// A change to a master panel that records which entries it wrote, so the panel is saved an
/// entry at a time: every change goes through these methods (reads through `Deref`), so no
/// entry can change without being counted.
pub struct MasterEdit<'a> {
    panel: &'a mut MasterPanel,
    touched: Vec<EntryId>,
}

impl std::ops::Deref for MasterEdit<'_> {
    type Target = MasterPanel;

    fn deref(&self) -> &MasterPanel {
        self.panel
    }
}

impl<'a> MasterEdit<'a> {
    /// Starts changing `panel`, with nothing touched yet.
    pub fn new(panel: &'a mut MasterPanel) -> Self {
        Self {
            panel,
            touched: Vec::new(),
        }
    }

    /// The entries added, changed or removed so far, each once, in the order first touched.
    pub fn touched(&self) -> &[EntryId] {
        &self.touched
    }

    fn touch(&mut self, id: &EntryId) {
        if !self.touched.contains(id) {
            self.touched.push(id.clone());
        }
    }

    /// Runs a change to the entry `id`, counting it if it is made.
    fn on_entry<R>(
        &mut self,
        id: &EntryId,
        change: impl FnOnce(&mut MasterPanel) -> Result<R, PanelError>,
    ) -> Result<R, PanelError> {
        let out = change(self.panel)?;
        self.touch(id);
        Ok(out)
    }

    /// [`MasterPanel::add_entry`].
    pub fn add_entry(&mut self, entry: MasterEntry) -> Result<(), PanelError> {
        let id = entry.entry.id.clone();
        self.on_entry(&id, |p| p.add_entry(entry))
    }

    /// [`MasterPanel::set_text`].
    pub fn set_text(
        &mut self,
        id: &EntryId,
        text: String,
        now: Timestamp,
    ) -> Result<(), PanelError> {
        self.on_entry(id, |p| p.set_text(id, text, now))
    }

    /// [`MasterPanel::move_entry`].
    pub fn move_entry(
        &mut self,
        id: &EntryId,
        category: CategoryId,
        now: Timestamp,
    ) -> Result<(), PanelError> {
        self.on_entry(id, |p| p.move_entry(id, category, now))
    }

    /// [`MasterPanel::set_snapshot`].
    pub fn set_snapshot(
        &mut self,
        id: &EntryId,
        snapshot: Option<LinkSnapshot>,
        note: Option<String>,
        now: Timestamp,
    ) -> Result<(), PanelError> {
        self.on_entry(id, |p| p.set_snapshot(id, snapshot, note, now))
    }

    /// [`MasterPanel::set_visibility`].
    pub fn set_visibility(&mut self, id: &EntryId, rule: Visibility) -> Result<(), PanelError> {
        self.on_entry(id, |p| p.set_visibility(id, rule))
    }

    /// [`MasterPanel::remove_entry`].
    pub fn remove_entry(&mut self, id: &EntryId) -> Result<MasterEntry, PanelError> {
        self.on_entry(id, |p| p.remove_entry(id))
    }

    /// [`MasterPanel::add_category`] (no entry changes).
    pub fn add_category(&mut self, id: CategoryId, name: &str) -> Result<(), PanelError> {
        self.panel.add_category(id, name)
    }

    /// [`MasterPanel::rename_category`] (no entry changes).
    pub fn rename_category(&mut self, id: &CategoryId, name: &str) -> Result<(), PanelError> {
        self.panel.rename_category(id, name)
    }

    /// [`MasterPanel::reorder_categories`] (no entry changes).
    pub fn reorder_categories(&mut self, order: &[CategoryId]) -> Result<(), PanelError> {
        self.panel.reorder_categories(order)
    }

    /// [`MasterPanel::remove_category`]: the entries filed under it change too.
    pub fn remove_category(
        &mut self,
        id: &CategoryId,
        now: Timestamp,
    ) -> Result<CategoryId, PanelError> {
        let moved: Vec<EntryId> = self
            .panel
            .entries
            .iter()
            .filter(|e| e.entry.category == *id)
            .map(|e| e.entry.id.clone())
            .collect();
        let fallback = self.panel.remove_category(id, now)?;
        for entry in &moved {
            self.touch(entry);
        }
        Ok(fallback)
    }
}
