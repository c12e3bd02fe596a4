//! The outbox document: what one author shares with one contact — the published panel, the author's
//! feedback on the contact's panel, and chat messages. One writer (the author), read by the contact.

use std::collections::HashMap;
use std::sync::Arc;

use automerge::transaction::CommitOptions;
use automerge::transaction::Transactable;
use automerge::{Automerge, ChangeHash, ROOT};
use autosurgeon::ReadDoc;
use autosurgeon::{Hydrate, Reconcile, Text, hydrate_prop, reconcile_prop};
use serde::{Deserialize, Serialize};

use crate::category::Category;
use crate::entry::{Entry, Kind, LinkSnapshot, MediaRef, Source};
use crate::ids::{CategoryId, EntryId, Timestamp};
use crate::master::Published;

/// The schema version this crate writes. Documents with a newer version are refused, not guessed at.
pub const SCHEMA_VERSION: u64 = 1;

/// Why a document could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DocError {
    /// The document was written by a newer Backstory.
    #[error(
        "document schema version {found} is newer than this Backstory understands ({SCHEMA_VERSION})"
    )]
    UnsupportedSchema {
        /// The version found in the document.
        found: u64,
    },
    /// The document does not have the expected shape.
    #[error("document does not match the panel schema: {0}")]
    Shape(Box<autosurgeon::HydrateError>),
    /// Writing the document failed.
    #[error("could not write the document: {0}")]
    Write(Box<autosurgeon::ReconcileError>),
    /// Automerge refused an operation.
    #[error("document error: {0}")]
    Automerge(#[from] automerge::AutomergeError),
}

impl From<autosurgeon::HydrateError> for DocError {
    fn from(e: autosurgeon::HydrateError) -> Self {
        Self::Shape(Box::new(e))
    }
}

impl From<autosurgeon::ReconcileError> for DocError {
    fn from(e: autosurgeon::ReconcileError) -> Self {
        Self::Write(Box::new(e))
    }
}

#[derive(Debug, Clone, Reconcile, Hydrate, PartialEq)]
pub(crate) struct PanelDoc {
    pub(crate) categories: Vec<CategoryDoc>,
    pub(crate) entries: HashMap<String, EntryDoc>,
}

#[derive(Debug, Clone, Reconcile, Hydrate, PartialEq)]
pub(crate) struct CategoryDoc {
    #[key]
    id: String,
    name: Option<String>,
}

#[derive(Debug, Clone, Reconcile, Hydrate, PartialEq)]
pub(crate) struct EntryDoc {
    category: String,
    kind: KindDoc,
    pub(crate) text: Text,
    created: i64,
    edited: i64,
    source: String,
}

#[derive(Debug, Clone, Reconcile, Hydrate, PartialEq)]
struct MediaDoc {
    hash: String,
    size: u64,
    mime: String,
    name: String,
}

#[derive(Debug, Clone, Reconcile, Hydrate, PartialEq)]
struct SnapshotDoc {
    title: Option<String>,
    description: Option<String>,
    site: Option<String>,
    excerpt: Option<String>,
    image: Option<MediaDoc>,
    // Later additions: absent in older documents, read as none.
    #[autosurgeon(missing = "Option::default")]
    final_url: Option<String>,
    #[autosurgeon(missing = "Option::default")]
    language: Option<String>,
    #[autosurgeon(missing = "Option::default")]
    content_type: Option<String>,
    #[autosurgeon(missing = "Option::default")]
    size: Option<u64>,
}

#[derive(Debug, Clone, Reconcile, Hydrate, PartialEq)]
// As `Kind`: the link variant carries the snapshot; these values live only while a document is
// read or written.
#[allow(clippy::large_enum_variant)]
enum KindDoc {
    Text,
    Link {
        url: String,
        snapshot: Option<SnapshotDoc>,
    },
    Image(MediaDoc),
    Audio(MediaDoc),
    Video(MediaDoc),
    File(MediaDoc),
    Screenshot(MediaDoc),
    WatchedVideo {
        player: String,
        location: String,
        title: Option<String>,
    },
}

impl From<&MediaRef> for MediaDoc {
    fn from(m: &MediaRef) -> Self {
        Self {
            hash: m.hash.clone(),
            size: m.size,
            mime: m.mime.clone(),
            name: m.name.clone(),
        }
    }
}

impl From<MediaDoc> for MediaRef {
    fn from(m: MediaDoc) -> Self {
        Self {
            hash: m.hash,
            size: m.size,
            mime: m.mime,
            name: m.name,
        }
    }
}

impl From<&Kind> for KindDoc {
    fn from(k: &Kind) -> Self {
        match k {
            Kind::Text => KindDoc::Text,
            Kind::Link { url, snapshot } => KindDoc::Link {
                url: url.clone(),
                snapshot: snapshot.as_ref().map(|s| SnapshotDoc {
                    title: s.title.clone(),
                    description: s.description.clone(),
                    site: s.site.clone(),
                    excerpt: s.excerpt.clone(),
                    image: s.image.as_ref().map(MediaDoc::from),
                    final_url: s.final_url.clone(),
                    language: s.language.clone(),
                    content_type: s.content_type.clone(),
                    size: s.size,
                }),
            },
            Kind::Image { media } => KindDoc::Image(media.into()),
            Kind::Audio { media } => KindDoc::Audio(media.into()),
            Kind::Video { media } => KindDoc::Video(media.into()),
            Kind::File { media } => KindDoc::File(media.into()),
            Kind::Screenshot { media } => KindDoc::Screenshot(media.into()),
            Kind::WatchedVideo {
                player,
                location,
                title,
            } => KindDoc::WatchedVideo {
                player: player.clone(),
                location: location.clone(),
                title: title.clone(),
            },
        }
    }
}

impl From<KindDoc> for Kind {
    fn from(k: KindDoc) -> Self {
        match k {
            KindDoc::Text => Kind::Text,
            KindDoc::Link { url, snapshot } => Kind::Link {
                url,
                snapshot: snapshot.map(|s| LinkSnapshot {
                    title: s.title,
                    description: s.description,
                    site: s.site,
                    excerpt: s.excerpt,
                    image: s.image.map(MediaRef::from),
                    final_url: s.final_url,
                    language: s.language,
                    content_type: s.content_type,
                    size: s.size,
                }),
            },
            KindDoc::Image(m) => Kind::Image { media: m.into() },
            KindDoc::Audio(m) => Kind::Audio { media: m.into() },
            KindDoc::Video(m) => Kind::Video { media: m.into() },
            KindDoc::File(m) => Kind::File { media: m.into() },
            KindDoc::Screenshot(m) => Kind::Screenshot { media: m.into() },
            KindDoc::WatchedVideo {
                player,
                location,
                title,
            } => Kind::WatchedVideo {
                player,
                location,
                title,
            },
        }
    }
}

fn source_name(s: Source) -> &'static str {
    match s {
        Source::Manual => "manual",
        Source::Watcher => "watcher",
        Source::Screenshot => "screenshot",
    }
}

fn source_from(s: &str) -> Source {
    match s {
        "watcher" => Source::Watcher,
        "screenshot" => Source::Screenshot,
        _ => Source::Manual,
    }
}

impl EntryDoc {
    pub(crate) fn to_entry(&self, id: &str) -> Entry {
        Entry {
            id: EntryId::new(id),
            category: CategoryId::new(self.category.clone()),
            kind: self.kind.clone().into(),
            text: self.text.as_str().to_string(),
            created: Timestamp(self.created),
            edited: Timestamp(self.edited),
            source: source_from(&self.source),
        }
    }

    fn fresh(e: &Entry) -> Self {
        Self {
            category: e.category.to_string(),
            kind: (&e.kind).into(),
            text: Text::with_value(&e.text),
            created: e.created.millis(),
            edited: e.edited.millis(),
            source: source_name(e.source).to_string(),
        }
    }

    /// Brings this entry to `e`, editing text by difference so unchanged characters keep their
    /// authorship. Returns whether anything changed.
    fn update_to(&mut self, e: &Entry) -> bool {
        let mut changed = false;
        let kind = KindDoc::from(&e.kind);
        if self.kind != kind {
            self.kind = kind;
            changed = true;
        }
        if self.text.as_str() != e.text {
            self.text.update(&e.text);
            changed = true;
        }
        let category = e.category.to_string();
        if self.category != category {
            self.category = category;
            changed = true;
        }
        if self.created != e.created.millis() || self.edited != e.edited.millis() {
            self.created = e.created.millis();
            self.edited = e.edited.millis();
            changed = true;
        }
        let source = source_name(e.source);
        if self.source != source {
            self.source = source.to_string();
            changed = true;
        }
        changed
    }
}

impl From<CategoryDoc> for Category {
    fn from(c: CategoryDoc) -> Self {
        Self {
            id: CategoryId::new(c.id),
            name: c.name,
        }
    }
}

impl From<&Category> for CategoryDoc {
    fn from(c: &Category) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.clone(),
        }
    }
}

/// A panel as read from an outbox: what its viewer sees.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PanelView {
    /// Categories in display order.
    pub categories: Vec<Category>,
    /// Entries, oldest first.
    pub entries: Vec<Entry>,
}

/// Commit options carrying the commit time; every change is stamped.
pub(crate) fn at(now: Timestamp) -> CommitOptions {
    CommitOptions::default().with_time(now.seconds())
}

/// A new outbox for `owner` (the author's endpoint id), with an empty panel.
pub fn new_outbox(owner: &str, now: Timestamp) -> Result<Automerge, DocError> {
    let mut doc = Automerge::new();
    doc.transact_with(
        |_| at(now),
        |tx| -> Result<(), DocError> {
            reconcile_prop(tx, ROOT, "schema", SCHEMA_VERSION)?;
            reconcile_prop(tx, ROOT, "owner", owner)?;
            let panel = PanelDoc {
                categories: Vec::new(),
                entries: HashMap::new(),
            };
            reconcile_prop(tx, ROOT, "panel", &panel)?;
            crate::feedback::init(tx)?;
            Ok(())
        },
    )
    .map_err(|f| f.error)?;
    Ok(doc)
}

/// The schema version of a document; `None` for a document that holds nothing yet.
pub fn schema_version<D: ReadDoc>(doc: &D) -> Result<Option<u64>, DocError> {
    if doc.get(&ROOT, "schema")?.is_none() {
        return Ok(None);
    }
    let version: u64 = hydrate_prop(doc, ROOT, "schema")?;
    if version > SCHEMA_VERSION {
        return Err(DocError::UnsupportedSchema { found: version });
    }
    Ok(Some(version))
}

/// The owner (author endpoint id) recorded in the document, if any.
pub fn owner<D: ReadDoc>(doc: &D) -> Result<Option<String>, DocError> {
    if schema_version(doc)?.is_none() {
        return Ok(None);
    }
    Ok(Some(hydrate_prop(doc, ROOT, "owner")?))
}

pub(crate) fn read_panel_doc<D: ReadDoc>(doc: &D) -> Result<Option<PanelDoc>, DocError> {
    if schema_version(doc)?.is_none() {
        return Ok(None);
    }
    Ok(Some(hydrate_prop(doc, ROOT, "panel")?))
}

/// Reads the panel; an empty document reads as an empty panel.
pub fn read_panel<D: ReadDoc>(doc: &D) -> Result<PanelView, DocError> {
    let Some(panel) = read_panel_doc(doc)? else {
        return Ok(PanelView::default());
    };
    let categories = panel.categories.into_iter().map(Category::from).collect();
    let mut entries: Vec<Entry> = panel.entries.iter().map(|(id, e)| e.to_entry(id)).collect();
    entries.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
    Ok(PanelView {
        categories,
        entries,
    })
}

/// The panel's categories, in display order; none in an empty document.
pub(crate) fn read_categories<D: ReadDoc>(doc: &D) -> Result<Vec<Category>, DocError> {
    if schema_version(doc)?.is_none() {
        return Ok(Vec::new());
    }
    let Some((_, panel)) = doc.get(&ROOT, "panel")? else {
        return Ok(Vec::new());
    };
    let categories: Vec<CategoryDoc> = hydrate_prop(doc, &panel, "categories")?;
    Ok(categories.into_iter().map(Category::from).collect())
}

/// One entry of the panel's map of entries, if it is there.
pub(crate) fn read_entry<D: ReadDoc>(
    doc: &D,
    entries: &automerge::ObjId,
    id: &str,
) -> Result<Option<Entry>, DocError> {
    if doc.get(entries, id)?.is_none() {
        return Ok(None);
    }
    let entry: EntryDoc = hydrate_prop(doc, entries, id)?;
    Ok(Some(entry.to_entry(id)))
}

/// Writes only the difference between the document's panel and `published` into the document,
/// as one change stamped with `now`. Returns the change's hash, or `None` when nothing differed.
pub fn apply_published(
    doc: &mut Automerge,
    published: &Published,
    now: Timestamp,
) -> Result<Option<ChangeHash>, DocError> {
    apply_published_after(doc, published, now, None).map(|(hash, _)| hash)
}

/// What a publication left in an outbox, kept by its one writer so that the next publication is
/// compared against it rather than against the whole panel read back from the document (reading
/// an entry back costs tens of microseconds; a panel of 1 000 entries, tens of milliseconds per
/// edit). It stands for the document only while the document's heads are the ones it was taken
/// at: any other change to the document, from anywhere, makes the next publication read the
/// panel again.
#[derive(Debug, Clone)]
pub struct Written {
    heads: Vec<ChangeHash>,
    categories: Vec<CategoryDoc>,
    entries: HashMap<String, Arc<Entry>>,
}

/// [`apply_published`] against what the last publication wrote (`last`, from the previous call
/// on this document), and what this one leaves for the next. Without `last`, or when the
/// document changed since, or the categories did, the panel is read back from the document.
pub fn apply_published_after(
    doc: &mut Automerge,
    published: &Published,
    now: Timestamp,
    last: Option<Written>,
) -> Result<(Option<ChangeHash>, Option<Written>), DocError> {
    let categories: Vec<CategoryDoc> = published.categories.iter().map(CategoryDoc::from).collect();
    let heads = doc.get_heads();
    let last = last.filter(|w| w.heads == heads && w.categories == categories);
    let before = last.map(|l| l.entries);
    // Against nothing (a first publication), every entry is new.
    let diff = Diff::between(before.as_ref().unwrap_or(&HashMap::new()), published);
    let result = doc
        .transact_with(
            |_| at(now),
            |tx| match &before {
                Some(before) => write_changed(tx, published, before, &diff),
                None => write_all(tx, published, &categories),
            },
        )
        .map_err(|f| f.error)?;
    // The document holds exactly `published` now, unless its panel could not be found. What the
    // last publication wrote is brought forward by the entries that changed, not copied whole.
    let written = result.result.then(|| Written {
        heads: doc.get_heads(),
        categories,
        entries: diff.bring_forward(before.unwrap_or_default(), published),
    });
    Ok((result.hash, written))
}

/// How a publication differs from what the last one wrote: found in one pass over it.
struct Diff {
    /// The published entries new or changed, by position.
    changed: Vec<usize>,
    /// The ids written last that are no longer published.
    removed: Vec<String>,
}

impl Diff {
    fn between(before: &HashMap<String, Arc<Entry>>, published: &Published) -> Self {
        let (mut kept, mut changed) = (0, Vec::new());
        for (i, e) in published.entries.iter().enumerate() {
            match before.get(e.id.as_str()) {
                Some(was) => {
                    kept += 1;
                    // An entry no change touched is the very one written last: no need to
                    // compare it field by field.
                    if !Arc::ptr_eq(was, e) && was != e {
                        changed.push(i);
                    }
                }
                None => changed.push(i),
            }
        }
        // Entry ids are unique in a panel: when every one written last is still published,
        // none was removed, and no set of the published ids is needed to find out.
        let removed = if kept == before.len() {
            Vec::new()
        } else {
            let now_there: std::collections::HashSet<&str> =
                published.entries.iter().map(|e| e.id.as_str()).collect();
            before
                .keys()
                .filter(|id| !now_there.contains(id.as_str()))
                .cloned()
                .collect()
        };
        Self { changed, removed }
    }

    /// `entries`, what the last publication wrote, made to hold exactly those of `published`.
    fn bring_forward(
        &self,
        mut entries: HashMap<String, Arc<Entry>>,
        published: &Published,
    ) -> HashMap<String, Arc<Entry>> {
        for id in &self.removed {
            entries.remove(id);
        }
        for &i in &self.changed {
            let e = &published.entries[i];
            entries.insert(e.id.to_string(), e.clone());
        }
        entries
    }
}

/// The panel's map of entries.
pub(crate) fn entries_obj<D: ReadDoc>(doc: &D) -> Result<Option<automerge::ObjId>, DocError> {
    let Some((_, panel_obj)) = doc.get(&ROOT, "panel")? else {
        return Ok(None);
    };
    Ok(doc.get(&panel_obj, "entries")?.map(|(_, obj)| obj))
}

/// Deletes from the entries map those of `had` that `published` no longer has.
fn delete_unpublished<'a>(
    tx: &mut automerge::transaction::Transaction<'_>,
    entries: &automerge::ObjId,
    had: impl Iterator<Item = &'a String>,
    published: &Published,
) -> Result<(), DocError> {
    let now_there: std::collections::HashSet<&str> =
        published.entries.iter().map(|e| e.id.as_str()).collect();
    for id in had {
        if !now_there.contains(id.as_str()) {
            tx.delete(entries, id.as_str())?;
        }
    }
    Ok(())
}

/// Brings the document's panel to `published`, read back from the document whole. Returns
/// whether the panel was there to write.
fn write_all(
    tx: &mut automerge::transaction::Transaction<'_>,
    published: &Published,
    categories: &[CategoryDoc],
) -> Result<bool, DocError> {
    let existing = read_panel_doc(tx)?;
    let fresh = existing.is_none();
    let mut panel = match existing {
        Some(p) => p,
        None => {
            reconcile_prop(tx, ROOT, "schema", SCHEMA_VERSION)?;
            PanelDoc {
                categories: Vec::new(),
                entries: HashMap::new(),
            }
        }
    };
    if fresh || panel.categories != categories {
        panel.categories = categories.to_vec();
        reconcile_prop(tx, ROOT, "panel", &panel)?;
        // The whole panel is written; entries below are compared against it.
    }
    let Some(entries) = entries_obj(tx)? else {
        return Ok(false);
    };
    delete_unpublished(tx, &entries, panel.entries.keys(), published)?;
    for e in &published.entries {
        match panel.entries.get_mut(e.id.as_str()) {
            Some(existing) => {
                if existing.update_to(e) {
                    reconcile_prop(tx, &entries, e.id.as_str(), &*existing)?;
                }
            }
            None => {
                reconcile_prop(tx, &entries, e.id.as_str(), EntryDoc::fresh(e))?;
            }
        }
    }
    Ok(true)
}

/// Brings the document's panel from `before` (what the last publication wrote, and the
/// document still holds) to `published`: only the entries `diff` found to differ are read back
/// and written.
fn write_changed(
    tx: &mut automerge::transaction::Transaction<'_>,
    published: &Published,
    before: &HashMap<String, Arc<Entry>>,
    diff: &Diff,
) -> Result<bool, DocError> {
    let Some(entries) = entries_obj(tx)? else {
        return Ok(false);
    };
    for id in &diff.removed {
        tx.delete(&entries, id.as_str())?;
    }
    for e in diff.changed.iter().map(|&i| &published.entries[i]) {
        let id = e.id.as_str();
        match before.get(id) {
            // The document holds what `before` says: this entry, as it was.
            Some(_) => {
                let mut existing: EntryDoc = hydrate_prop(&*tx, &entries, id)?;
                if existing.update_to(e) {
                    reconcile_prop(tx, &entries, id, &existing)?;
                }
            }
            None => reconcile_prop(tx, &entries, id, EntryDoc::fresh(e))?,
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A snapshot as the first schema wrote it, before the later fields existed.
    #[derive(Debug, Clone, Reconcile, Hydrate, PartialEq)]
    struct FirstSnapshotDoc {
        title: Option<String>,
        description: Option<String>,
        site: Option<String>,
        excerpt: Option<String>,
        image: Option<MediaDoc>,
    }

    #[derive(Debug, Clone, Reconcile, Hydrate, PartialEq)]
    struct Holder<T: Reconcile + Hydrate> {
        snapshot: T,
    }

    #[test]
    fn a_snapshot_written_before_the_later_fields_still_reads() {
        let mut doc = Automerge::new();
        let old = Holder {
            snapshot: FirstSnapshotDoc {
                title: Some("Alps".into()),
                description: None,
                site: Some("example.org".into()),
                excerpt: None,
                image: None,
            },
        };
        doc.transact(|tx| autosurgeon::reconcile(tx, &old))
            .map_err(|f| f.error)
            .unwrap();
        let read: Holder<SnapshotDoc> = autosurgeon::hydrate(&doc).unwrap();
        assert_eq!(read.snapshot.title.as_deref(), Some("Alps"));
        assert_eq!(read.snapshot.site.as_deref(), Some("example.org"));
        assert_eq!(read.snapshot.final_url, None);
        assert_eq!(read.snapshot.size, None);
    }
}
