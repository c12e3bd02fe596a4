//! "What changed since you last looked": new, edited and removed entries between two sets of heads,
//! and each entry's text split into spans attributed to the change (edit session) that wrote them.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use automerge::{Automerge, ChangeHash, ObjId, ObjType, ROOT, ReadDoc, Value, ValueRef};
use serde::{Deserialize, Serialize};

use crate::entry::Entry;
use crate::ids::{EntryId, Timestamp};
use crate::outbox::{DocError, read_panel};

mod kept;
pub use kept::KeptChanges;

/// A run of text written by one change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Span {
    /// The text of the run.
    pub text: String,
    /// The change (edit session) that wrote it, as hex.
    pub change: String,
    /// The change's commit time.
    pub time: Timestamp,
    /// Whether the change is newer than the heads the viewer last saw.
    pub new: bool,
}

/// What happened to one entry since the viewer last looked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EntryState {
    /// Not there when the viewer last looked.
    New,
    /// There, but changed since.
    Edited,
    /// Unchanged.
    Seen,
}

/// One entry of the current panel with its history since the viewer last looked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ChangedEntry {
    /// The entry as it is now.
    pub entry: Entry,
    /// New, edited or unchanged.
    pub state: EntryState,
    /// Its text, attributed to the edit sessions that wrote it.
    pub spans: Vec<Span>,
}

/// The whole panel, annotated with what changed since the given heads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PanelChanges {
    /// The panel's categories in display order.
    pub categories: Vec<crate::category::Category>,
    /// Every current entry, oldest first, with its state and spans.
    // Each is shared: a view brought forward copies only the entries a change touched.
    pub entries: Vec<Arc<ChangedEntry>>,
    /// Entries that were there at the given heads and are gone now, as they were.
    pub removed: Vec<Entry>,
    /// The document's heads now: store them when the viewer has looked.
    pub heads: Vec<String>,
}

impl PanelChanges {
    /// How many entries are new or edited, plus removals: the count of unseen updates.
    pub fn unseen(&self) -> usize {
        self.entries
            .iter()
            .filter(|e| e.state != EntryState::Seen)
            .count()
            + self.removed.len()
    }
}

/// Heads as hex strings, for storing.
pub fn heads_to_strings(heads: &[ChangeHash]) -> Vec<String> {
    heads.iter().map(|h| h.to_string()).collect()
}

/// Heads from hex strings; strings that are not change hashes are skipped.
pub fn heads_from_strings(heads: &[String]) -> Vec<ChangeHash> {
    heads.iter().filter_map(|h| h.parse().ok()).collect()
}

/// The panel now, annotated with what changed since `seen` (empty: everything is new).
///
/// Heads the document does not know (say, from a replaced document) count as never seen.
pub fn changes_since(doc: &Automerge, seen: &[ChangeHash]) -> Result<PanelChanges, DocError> {
    Ok(computed(doc, seen)?.changes)
}

/// What [`changes_since`] works out, with what a [`KeptChanges`] needs to follow later changes.
pub(crate) struct Computed {
    pub(crate) changes: PanelChanges,
    /// Whether the seen heads were known to the document (unknown ones count as never seen).
    pub(crate) known: bool,
    /// The changes since the seen heads; `None` when nothing was seen (every change is new).
    pub(crate) fresh: Option<HashSet<ChangeHash>>,
    /// The entries edited since the seen heads, as they were then.
    pub(crate) before: HashMap<EntryId, Entry>,
}

pub(crate) fn computed(doc: &Automerge, seen: &[ChangeHash]) -> Result<Computed, DocError> {
    let known = seen
        .iter()
        .all(|h| doc.get_change_meta_by_hash(h).is_some());
    let seen: &[ChangeHash] = if known { seen } else { &[] };
    let before = if seen.is_empty() {
        Default::default()
    } else {
        read_panel(&doc.fork_at(seen)?)?
    };
    let now = read_panel(doc)?;
    let fresh =
        (!seen.is_empty()).then(|| doc.get_changes_meta(seen).iter().map(|m| m.hash).collect());
    let old_entries: BTreeMap<&EntryId, &Entry> =
        before.entries.iter().map(|e| (&e.id, e)).collect();
    let mut times: HashMap<ChangeHash, Timestamp> = HashMap::new();
    let mut edited = HashMap::new();

    let mut entries = Vec::with_capacity(now.entries.len());
    for entry in now.entries.iter() {
        let state = match old_entries.get(&entry.id) {
            None => EntryState::New,
            Some(old) if *old != entry => {
                edited.insert(entry.id.clone(), (*old).clone());
                EntryState::Edited
            }
            Some(_) => EntryState::Seen,
        };
        let spans = text_spans(doc, &entry.id, fresh.as_ref(), &mut times)?;
        entries.push(Arc::new(ChangedEntry {
            entry: entry.clone(),
            state,
            spans,
        }));
    }
    let current: HashSet<&EntryId> = now.entries.iter().map(|e| &e.id).collect();
    let removed = before
        .entries
        .iter()
        .filter(|e| !current.contains(&e.id))
        .cloned()
        .collect();
    Ok(Computed {
        changes: PanelChanges {
            categories: now.categories.clone(),
            entries,
            removed,
            heads: heads_to_strings(&doc.get_heads()),
        },
        known,
        fresh,
        before: edited,
    })
}

/// The spans of one entry's text; a change is new when it is in `fresh` (or `fresh` is `None`:
/// nothing was seen).
pub(crate) fn text_spans(
    doc: &Automerge,
    id: &EntryId,
    fresh: Option<&HashSet<ChangeHash>>,
    times: &mut HashMap<ChangeHash, Timestamp>,
) -> Result<Vec<Span>, DocError> {
    let Some((Value::Object(ObjType::Map), panel)) = doc.get(ROOT, "panel")? else {
        return Ok(Vec::new());
    };
    let Some((Value::Object(ObjType::Map), entries)) = doc.get(&panel, "entries")? else {
        return Ok(Vec::new());
    };
    let Some((Value::Object(ObjType::Map), entry)) = doc.get(&entries, id.as_str())? else {
        return Ok(Vec::new());
    };
    let Some((Value::Object(ObjType::Text), text)) = doc.get(&entry, "text")? else {
        return Ok(Vec::new());
    };
    let mut spans: Vec<Span> = Vec::new();
    // Characters in a row mostly come from one change, whose operations are one actor's counters
    // `start..=max`: the change is looked up once per run, not once per character.
    let mut run: Option<(automerge::ActorId, u64, u64, ChangeHash)> = None;
    let mut last: Option<ChangeHash> = None;
    for item in doc.list_range(&text, ..) {
        let ValueRef::Scalar(automerge::ScalarValueRef::Str(s)) = &item.value else {
            continue;
        };
        let id = item.id();
        let hash = match (&id, &run) {
            (ObjId::Id(counter, actor, _), Some((a, start, max, hash)))
                if actor == a && (*start..=*max).contains(counter) =>
            {
                *hash
            }
            _ => {
                let Some(hash) = doc.hash_for_opid(&id) else {
                    continue;
                };
                let meta = doc.get_change_meta_by_hash(&hash);
                if let (ObjId::Id(_, actor, _), Some(m)) = (&id, &meta) {
                    run = Some((actor.clone(), m.start_op, m.max_op, hash));
                }
                times.entry(hash).or_insert_with(|| {
                    meta.map(|m| Timestamp(m.timestamp.saturating_mul(1000)))
                        .unwrap_or(Timestamp(0))
                });
                hash
            }
        };
        match spans.last_mut() {
            Some(span) if last == Some(hash) => span.text.push_str(s),
            _ => {
                spans.push(Span {
                    text: s.to_string(),
                    change: hash.to_string(),
                    time: times.get(&hash).copied().unwrap_or(Timestamp(0)),
                    new: fresh.is_none_or(|f| f.contains(&hash)),
                });
                last = Some(hash);
            }
        }
    }
    Ok(spans)
}
