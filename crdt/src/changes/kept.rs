//! A view of a panel against seen heads, kept and brought forward as changes arrive: only the
//! entries the new changes touch are read again, so the cost of a change grows with the change,
//! not with the panel. Anything the changes do that is not an entry's or the categories' (the
//! panel replaced, a document written by an older schema) makes it compute the view again whole.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use automerge::{ActorId, Automerge, ChangeHash, ObjId, Prop, ReadDoc};

use super::{
    ChangedEntry, Computed, EntryState, PanelChanges, computed, heads_from_strings,
    heads_to_strings, text_spans,
};
use crate::entry::Entry;
use crate::ids::{EntryId, Timestamp};
use crate::outbox::{DocError, entries_obj, read_categories, read_entry};

/// [`super::changes_since`]'s view of a panel, kept to follow the document's later changes.
#[derive(Clone, Debug)]
pub struct KeptChanges {
    /// The seen heads the view is against, as given.
    seen: Vec<String>,
    /// Whether the document knew them (heads it does not know count as never seen).
    known: bool,
    /// The changes since the seen heads; `None` when nothing was seen.
    fresh: Option<HashSet<ChangeHash>>,
    /// The entries edited since the seen heads, as they were then.
    before: HashMap<EntryId, Entry>,
    /// Shared with whoever read the view since; copied only when changed while still shared.
    changes: Arc<PanelChanges>,
    /// How many entries the last computation read from the document.
    read: usize,
}

/// Where a change's operation lands.
enum Place {
    /// Outside the panel (comments, chat, receipts): the view does not show it.
    Elsewhere,
    /// The panel's map itself: its operations put categories or entries whole.
    Panel,
    Categories,
    /// The map of entries: its operations put or delete the entry under their key.
    Entries,
    Entry(EntryId),
    /// Somewhere the view cannot follow by parts.
    Whole,
}

impl KeptChanges {
    /// The view of the panel in `doc` against `seen` (heads as strings; those that are not change
    /// hashes are skipped), computed whole.
    pub fn new(doc: &Automerge, seen: Vec<String>) -> Result<Self, DocError> {
        let Computed {
            changes,
            known,
            fresh,
            before,
        } = computed(doc, &heads_from_strings(&seen))?;
        Ok(Self {
            seen,
            known,
            fresh,
            before,
            read: changes.entries.len() + changes.removed.len(),
            changes: Arc::new(changes),
        })
    }

    /// The seen heads the view is against.
    pub fn seen(&self) -> &[String] {
        &self.seen
    }

    /// The view.
    pub fn changes(&self) -> &PanelChanges {
        &self.changes
    }

    /// The view, shared rather than copied.
    pub fn shared(&self) -> Arc<PanelChanges> {
        Arc::clone(&self.changes)
    }

    /// How many entries computing the view last read from the document: all of them when it was
    /// computed whole, those the new changes touched when it was brought forward.
    pub fn entries_read(&self) -> usize {
        self.read
    }

    /// The view brought to the document's heads now: what [`KeptChanges::new`] would compute,
    /// reading again only the entries that changed since. `doc` must be the document the view
    /// was computed from, since grown.
    pub fn update(self, doc: &Automerge) -> Result<Self, DocError> {
        let heads = doc.get_heads();
        if heads_to_strings(&heads) == self.changes.heads {
            return Ok(Self { read: 0, ..self });
        }
        let known = |hashes: &[ChangeHash]| {
            hashes
                .iter()
                .all(|h| doc.get_change_meta_by_hash(h).is_some())
        };
        let last = heads_from_strings(&self.changes.heads);
        if last.len() != self.changes.heads.len()
            || !known(&last)
            // Seen heads unknown then and known now: the view is against them from now on.
            || (!self.known && known(&heads_from_strings(&self.seen)))
        {
            return Self::new(doc, self.seen);
        }
        let Some(touched) = touched(doc, &last) else {
            return Self::new(doc, self.seen);
        };
        let mut kept = self;
        kept.read = touched.entries.len();
        if let Some(fresh) = &mut kept.fresh {
            fresh.extend(touched.changes);
        }
        if touched.categories {
            Arc::make_mut(&mut kept.changes).categories = read_categories(doc)?;
        }
        if !touched.entries.is_empty() {
            let Some(entries) = entries_obj(doc)? else {
                return Self::new(doc, kept.seen);
            };
            let mut times = HashMap::new();
            for id in touched.entries {
                let now = read_entry(doc, &entries, id.as_str())?;
                if !kept.reread(doc, id, now, &mut times)? {
                    return Self::new(doc, kept.seen);
                }
            }
        }
        Arc::make_mut(&mut kept.changes).heads = heads_to_strings(&heads);
        Ok(kept)
    }

    /// Puts one entry as the document has it now (`now`: gone when `None`) in the view. Returns
    /// false when the view does not know what the entry was at the seen heads.
    fn reread(
        &mut self,
        doc: &Automerge,
        id: EntryId,
        now: Option<Entry>,
        times: &mut HashMap<ChangeHash, Timestamp>,
    ) -> Result<bool, DocError> {
        let changes = Arc::make_mut(&mut self.changes);
        let shown = &mut changes.entries;
        let removed = &mut changes.removed;
        let was = match shown.iter().position(|e| e.entry.id == id) {
            Some(at) => {
                let old = shown.remove(at);
                match old.state {
                    EntryState::New => None,
                    EntryState::Seen => Some(Arc::unwrap_or_clone(old).entry),
                    EntryState::Edited => match self.before.remove(&id) {
                        Some(b) => Some(b),
                        None => return Ok(false),
                    },
                }
            }
            None => removed
                .iter()
                .position(|e| e.id == id)
                .map(|at| removed.remove(at)),
        };
        let Some(entry) = now else {
            if let Some(b) = was {
                let at = removed.partition_point(|e| (e.created, &e.id) < (b.created, &b.id));
                removed.insert(at, b);
            }
            return Ok(true);
        };
        let state = match was {
            None => EntryState::New,
            Some(b) if b != entry => {
                self.before.insert(id.clone(), b);
                EntryState::Edited
            }
            Some(_) => EntryState::Seen,
        };
        let spans = text_spans(doc, &id, self.fresh.as_ref(), times)?;
        let at =
            shown.partition_point(|e| (e.entry.created, &e.entry.id) < (entry.created, &entry.id));
        shown.insert(
            at,
            Arc::new(ChangedEntry {
                entry,
                state,
                spans,
            }),
        );
        Ok(true)
    }
}

/// What the changes since a view's heads touch.
struct Touched {
    /// The changes.
    changes: Vec<ChangeHash>,
    /// The entries their operations touch.
    entries: BTreeSet<EntryId>,
    /// Whether they touch the categories.
    categories: bool,
}

/// What the changes since `last` touch; `None` when they touch something else of the panel.
fn touched(doc: &Automerge, last: &[ChangeHash]) -> Option<Touched> {
    let mut touched = Touched {
        changes: Vec::new(),
        entries: BTreeSet::new(),
        categories: false,
    };
    let mut places: HashMap<(u64, ActorId), Place> = HashMap::new();
    for change in doc.get_changes(last) {
        touched.changes.push(change.hash());
        for op in change.decode().operations {
            let key = match &op.key {
                automerge::legacy::Key::Map(k) => Some(k.as_str()),
                automerge::legacy::Key::Seq(_) => None,
            };
            let place = match op.obj {
                automerge::legacy::ObjectId::Root => match key {
                    Some("panel" | "schema" | "owner") | None => return None,
                    Some(_) => continue,
                },
                automerge::legacy::ObjectId::Id(automerge::legacy::OpId(counter, actor)) => places
                    .entry((counter, actor))
                    .or_insert_with_key(|(counter, actor)| place(doc, *counter, actor)),
            };
            match (place, key) {
                (Place::Elsewhere, _) => {}
                (Place::Categories, _) | (Place::Panel, Some("categories")) => {
                    touched.categories = true;
                }
                (Place::Entries, Some(id)) => {
                    touched.entries.insert(EntryId::new(id));
                }
                (Place::Entry(id), _) => {
                    touched.entries.insert(id.clone());
                }
                (Place::Panel | Place::Entries | Place::Whole, _) => return None,
            }
        }
    }
    Some(touched)
}

/// Where in the document the object `counter@actor` is, seen from the panel.
fn place(doc: &Automerge, counter: u64, actor: &ActorId) -> Place {
    // The actor's index in the document is looked up again when the one given does not fit.
    let obj = ObjId::Id(counter, actor.clone(), usize::MAX);
    let Ok(parents) = doc.parents(&obj) else {
        return Place::Whole;
    };
    let path: Vec<Prop> = parents.path().into_iter().map(|(_, p)| p).collect();
    let key = |i: usize| match path.get(i) {
        Some(Prop::Map(k)) => Some(k.as_str()),
        _ => None,
    };
    match (key(0), key(1)) {
        (Some("panel"), Some("categories")) => Place::Categories,
        (Some("panel"), Some("entries")) => match path.get(2) {
            Some(Prop::Map(id)) => Place::Entry(EntryId::new(id.clone())),
            None => Place::Entries,
            Some(Prop::Seq(_)) => Place::Whole,
        },
        (Some("panel"), None) if path.len() == 1 => Place::Panel,
        (Some("panel"), _) => Place::Whole,
        _ => Place::Elsewhere,
    }
}
