//! The outbox schema read from documents it did not write: random documents with the schema's keys
//! holding values of any shape, valid outboxes with one value replaced by one of another kind, and
//! saved outboxes as bytes, arbitrary or damaged. Every reader of an outbox runs on each.

use std::sync::OnceLock;

use backstory_core::crdt::automerge::transaction::Transactable;
use backstory_core::crdt::automerge::{
    Automerge, AutomergeError, ObjId, ObjType, Prop, ROOT, ReadDoc, ScalarValue, Value,
};
use backstory_core::crdt::category::default_categories;
use backstory_core::crdt::changes::heads_to_strings;
use backstory_core::crdt::feedback::{self, Comment, Feedback, Message, Receipt, Session, Signal};
use backstory_core::crdt::master::Published;
use backstory_core::crdt::{
    Category, CategoryId, DocError, Entry, EntryId, Kind, LinkSnapshot, MediaRef, PanelChanges,
    PanelView, Source, Timestamp, apply_published, changes_since, new_outbox, outbox, read_panel,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

use super::{Check, Input, arbitrary, mutate, mutations};

/// The author of the valid outbox.
pub const OWNER: &str = "b5a1c0ffee0ddba11d00dfeedface0123456789abcdef0123456789abcdef01";

const NOW: i64 = 1_900_000_000_000;

/// Everything the readers make of one document.
#[derive(Debug)]
pub struct Readings {
    /// `schema_version`.
    pub schema: Result<Option<u64>, DocError>,
    /// `owner`.
    pub owner: Result<Option<String>, DocError>,
    /// `read_panel`.
    pub panel: Result<PanelView, DocError>,
    /// `changes_since`, from nothing seen.
    pub changes: Result<PanelChanges, DocError>,
    /// `read_feedback`.
    pub feedback: Result<Feedback, DocError>,
    /// `read_chat`.
    pub chat: Result<Vec<Message>, DocError>,
    /// `read_chat_delivered`.
    pub delivered: Result<u64, DocError>,
    /// `next_instant`.
    pub next: Result<Timestamp, DocError>,
}

/// Runs every reader of an outbox on `doc`.
pub fn read_all(doc: &Automerge) -> Readings {
    Readings {
        schema: outbox::schema_version(doc),
        owner: outbox::owner(doc),
        panel: read_panel(doc),
        changes: changes_since(doc, &[]),
        feedback: feedback::read_feedback(doc),
        chat: feedback::read_chat(doc),
        delivered: feedback::read_chat_delivered(doc),
        next: feedback::next_instant(doc, Timestamp(NOW)),
    }
}

impl Readings {
    /// Each reader's error, by the reader's name.
    pub fn errors(&self) -> Vec<(&'static str, &DocError)> {
        [
            ("schema", self.schema.as_ref().err()),
            ("owner", self.owner.as_ref().err()),
            ("panel", self.panel.as_ref().err()),
            ("changes", self.changes.as_ref().err()),
            ("feedback", self.feedback.as_ref().err()),
            ("chat", self.chat.as_ref().err()),
            ("delivered", self.delivered.as_ref().err()),
            ("next", self.next.as_ref().err()),
        ]
        .into_iter()
        .filter_map(|(name, e)| e.map(|e| (name, e)))
        .collect()
    }

    /// Every error is one a reader may give: the shape, the version, or Automerge's.
    pub fn typed(&self) -> Check {
        for (name, e) in self.errors() {
            if !matches!(
                e,
                DocError::Shape(_) | DocError::UnsupportedSchema { .. } | DocError::Automerge(_)
            ) {
                return Err(format!("{name} failed with {e:?}"));
            }
        }
        Ok(())
    }
}

/// A valid outbox with something in every part of the schema, and what its readers make of it.
#[derive(Debug)]
pub struct Valid {
    /// The document.
    pub doc: Automerge,
    /// The document, saved.
    pub saved: Vec<u8>,
    /// Its readings.
    pub readings: Readings,
    /// Every value in it, for [`check_damage`] to replace.
    targets: Vec<Target>,
}

/// The readers that depend on each top-level key.
fn readers_of(key: &str) -> &'static [&'static str] {
    match key {
        "schema" => &[
            "schema",
            "owner",
            "panel",
            "changes",
            "feedback",
            "chat",
            "delivered",
            "next",
        ],
        "owner" => &["owner"],
        "panel" => &["panel", "changes"],
        "feedback" => &["feedback", "next"],
        "chat" => &["chat", "next"],
        "chat_delivered" => &["delivered"],
        _ => &[],
    }
}

impl Valid {
    /// The readers not named in `except` read `r` as they read the valid outbox.
    pub fn same(&self, r: &Readings, except: &[&str]) -> Check {
        fn eq<T: PartialEq + std::fmt::Debug>(
            name: &str,
            except: &[&str],
            got: &Result<T, DocError>,
            want: &Result<T, DocError>,
        ) -> Check {
            match (got, want) {
                _ if except.contains(&name) => Ok(()),
                (Ok(g), Ok(w)) if g == w => Ok(()),
                _ => Err(format!("{name} reads {got:?}, not {want:?}")),
            }
        }
        let v = &self.readings;
        eq("schema", except, &r.schema, &v.schema)?;
        eq("owner", except, &r.owner, &v.owner)?;
        eq("panel", except, &r.panel, &v.panel)?;
        eq("feedback", except, &r.feedback, &v.feedback)?;
        eq("chat", except, &r.chat, &v.chat)?;
        eq("delivered", except, &r.delivered, &v.delivered)?;
        eq("next", except, &r.next, &v.next)?;
        match &r.changes {
            Err(e) if !except.contains(&"changes") => Err(format!("changes failed: {e}")),
            _ => Ok(()),
        }
    }
}

fn media(name: &str) -> MediaRef {
    MediaRef {
        hash: blake3::hash(name.as_bytes()).to_hex().to_string(),
        size: 1234,
        mime: "image/png".into(),
        name: name.into(),
    }
}

fn entry(id: &str, kind: Kind, text: &str, at: i64) -> Entry {
    Entry {
        id: EntryId::new(id),
        category: default_categories()[0].id.clone(),
        kind,
        text: text.into(),
        created: Timestamp(at),
        edited: Timestamp(at),
        source: Source::Manual,
    }
}

fn build() -> Result<Automerge, DocError> {
    let mut doc = new_outbox(OWNER, Timestamp(NOW))?;
    let mut categories = default_categories();
    categories.push(Category {
        id: CategoryId::new("c1"),
        name: Some("Podcasts".into()),
    });
    let snapshot = LinkSnapshot {
        title: Some("Alps".into()),
        description: Some("Walks".into()),
        site: Some("example.org".into()),
        excerpt: None,
        image: Some(media("alps.png")),
        final_url: Some("https://example.org/alps".into()),
        language: Some("en".into()),
        content_type: None,
        size: Some(99),
    };
    let mut entries = vec![
        entry("e1", Kind::Text, "hiking in the rain", NOW - 5),
        entry(
            "e2",
            Kind::Link {
                url: "https://example.org/alps".into(),
                snapshot: Some(snapshot),
            },
            "read this",
            NOW - 4,
        ),
        entry(
            "e3",
            Kind::Image {
                media: media("cat.png"),
            },
            "",
            NOW - 3,
        ),
        entry(
            "e4",
            Kind::WatchedVideo {
                player: "mpv".into(),
                location: "https://example.org/v".into(),
                title: Some("A talk".into()),
            },
            "good",
            NOW - 2,
        ),
    ];
    entries[3].source = Source::Watcher;
    let mut published = Published {
        categories,
        entries: entries.into_iter().map(std::sync::Arc::new).collect(),
        next_change: None,
    };
    apply_published(&mut doc, &published, Timestamp(NOW))?;
    let first = std::sync::Arc::make_mut(&mut published.entries[0]);
    first.text = "hiking in the sun".into();
    first.edited = Timestamp(NOW + 1);
    apply_published(&mut doc, &published, Timestamp(NOW + 1000))?;

    let later = Timestamp(NOW + 2000);
    let heads = heads_to_strings(&doc.get_heads());
    feedback::add_comment(
        &mut doc,
        Comment {
            id: "k1".into(),
            entry: Some("e1".into()),
            text: "nice".into(),
            at: NOW,
            audio: Some(media("voice.ogg")),
        },
        later,
    )?;
    feedback::add_comment(
        &mut doc,
        Comment {
            id: "k2".into(),
            entry: None,
            text: "hello".into(),
            at: NOW + 1,
            audio: None,
        },
        later,
    )?;
    feedback::add_receipt(
        &mut doc,
        Receipt {
            heads: heads.clone(),
            opened: NOW,
            open_for: 3000,
        },
        later,
    )?;
    feedback::open_session(
        &mut doc,
        Session {
            id: "s1".into(),
            heads,
            opened: NOW,
            open_for: 3000,
            entries: vec!["e1".into(), "e2".into()],
        },
        later,
    )?;
    feedback::add_signal(&mut doc, &EntryId::new("e2"), Signal::LinkOpened, later)?;
    feedback::add_message(
        &mut doc,
        Message {
            id: "m1".into(),
            text: "see you".into(),
            at: NOW + 2,
        },
        later,
    )?;
    feedback::set_chat_delivered(&mut doc, 3, later)?;
    Ok(doc)
}

/// The valid outbox, made once.
pub fn valid() -> &'static Valid {
    static VALID: OnceLock<Valid> = OnceLock::new();
    VALID.get_or_init(|| {
        let doc = build().expect("a valid outbox");
        let readings = read_all(&doc);
        assert!(
            readings.errors().is_empty(),
            "the valid outbox reads with errors: {readings:?}"
        );
        Valid {
            saved: doc.save(),
            targets: targets(&doc),
            doc,
            readings,
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Documents of any shape

/// A value in a document.
#[derive(Clone, Debug)]
pub enum Node {
    /// A scalar.
    Scalar(ScalarValue),
    /// A map.
    Map(Vec<(String, Node)>),
    /// A list.
    List(Vec<Node>),
    /// A text object.
    Text(String),
}

/// The schema's keys and names: random documents use them, so the readers go past the first key.
const WORDS: &[&str] = &[
    "schema",
    "owner",
    "panel",
    "feedback",
    "chat",
    "chat_delivered",
    "categories",
    "entries",
    "id",
    "name",
    "category",
    "kind",
    "text",
    "created",
    "edited",
    "source",
    "url",
    "snapshot",
    "title",
    "image",
    "hash",
    "size",
    "mime",
    "final_url",
    "Text",
    "Link",
    "Image",
    "Screenshot",
    "WatchedVideo",
    "player",
    "location",
    "comments",
    "receipts",
    "signals",
    "sessions",
    "entry",
    "at",
    "audio",
    "heads",
    "opened",
    "open_for",
    "views",
    "plays",
    "e1",
    "manual",
];

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(WORDS).prop_map(String::from),
        1 => "\\PC{0,8}",
    ]
}

fn scalar() -> impl Strategy<Value = ScalarValue> {
    prop_oneof![
        Just(ScalarValue::Null),
        any::<bool>().prop_map(ScalarValue::Boolean),
        any::<i64>().prop_map(ScalarValue::Int),
        prop_oneof![0u64..3, any::<u64>()].prop_map(ScalarValue::Uint),
        any::<f64>().prop_map(ScalarValue::F64),
        word().prop_map(|s| ScalarValue::Str(s.into())),
        vec(any::<u8>(), 0..8).prop_map(ScalarValue::Bytes),
        any::<i64>().prop_map(ScalarValue::counter),
        any::<i64>().prop_map(ScalarValue::Timestamp),
    ]
}

/// A value of any shape, a few levels deep.
pub fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => scalar().prop_map(Node::Scalar),
        1 => "\\PC{0,12}".prop_map(Node::Text),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec((word(), inner.clone()), 0..6).prop_map(Node::Map),
            vec(inner, 0..6).prop_map(Node::List),
        ]
    })
}

/// The top level of a document: the schema's keys (and others) holding any values, with a
/// supported schema version most of the time so the readers go on past it.
pub fn shape() -> impl Strategy<Value = Vec<(String, Node)>> {
    let schema = prop_oneof![
        3 => Just(Some(Node::Scalar(ScalarValue::Uint(1)))),
        1 => Just(None),
        1 => node().prop_map(Some),
    ];
    (vec((word(), node()), 0..7), schema).prop_map(|(mut top, schema)| {
        top.extend(schema.map(|s| ("schema".to_string(), s)));
        top
    })
}

/// Writes `node` at `prop` of `obj`: over what is there, or inserted before it in a list.
fn write(
    tx: &mut impl Transactable,
    obj: &ObjId,
    prop: Prop,
    insert: bool,
    node: &Node,
) -> Result<(), AutomergeError> {
    let kind = match node {
        Node::Scalar(v) => {
            return match (prop, insert) {
                (Prop::Seq(i), true) => tx.insert(obj, i, v.clone()),
                (prop, _) => tx.put(obj, prop, v.clone()),
            };
        }
        Node::Map(_) => ObjType::Map,
        Node::List(_) => ObjType::List,
        Node::Text(_) => ObjType::Text,
    };
    let id = match (prop, insert) {
        (Prop::Seq(i), true) => tx.insert_object(obj, i, kind)?,
        (prop, _) => tx.put_object(obj, prop, kind)?,
    };
    match node {
        Node::Map(children) => children
            .iter()
            .try_for_each(|(k, c)| write(tx, &id, Prop::Map(k.clone()), false, c)),
        Node::List(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, c)| write(tx, &id, Prop::Seq(i), true, c)),
        Node::Text(s) => tx.splice_text(&id, 0, 0, s),
        Node::Scalar(_) => Ok(()),
    }
}

/// The document holding `top`.
pub fn document(top: &[(String, Node)]) -> Result<Automerge, String> {
    let mut doc = Automerge::new();
    doc.transact(|tx| {
        top.iter()
            .try_for_each(|(k, n)| write(tx, &ROOT, Prop::Map(k.clone()), false, n))
    })
    .map_err(|f| format!("could not build the document: {}", f.error))?;
    Ok(doc)
}

/// Reads a document of any shape. Without a schema version it reads as empty; with one that is
/// not a number, every reader refuses its shape; with a newer one, every reader refuses the version.
pub fn check_shape(top: &[(String, Node)]) -> Check {
    let doc = document(top)?;
    let r = read_all(&doc);
    r.typed()?;
    let all = readers_of("schema");
    match doc.get(ROOT, "schema").map_err(|e| e.to_string())? {
        None => {
            let empty = r.schema.as_ref().is_ok_and(Option::is_none)
                && r.owner.as_ref().is_ok_and(Option::is_none)
                && r.panel.as_ref().is_ok_and(|p| *p == PanelView::default())
                && r.feedback.as_ref().is_ok_and(|f| *f == Feedback::default())
                && r.chat.as_ref().is_ok_and(Vec::is_empty)
                && r.delivered.as_ref().is_ok_and(|d| *d == 0)
                && r.next.as_ref().is_ok_and(|t| *t == Timestamp(NOW));
            if empty {
                Ok(())
            } else {
                Err(format!("a document without a schema reads as {r:?}"))
            }
        }
        Some((Value::Scalar(v), _)) if matches!(v.as_ref(), ScalarValue::Uint(n) if *n <= 1) => {
            Ok(())
        }
        Some((Value::Scalar(v), _)) if matches!(v.as_ref(), ScalarValue::Uint(_)) => {
            let refused = r.errors();
            if refused.len() == all.len()
                && refused
                    .iter()
                    .all(|(_, e)| matches!(e, DocError::UnsupportedSchema { .. }))
            {
                Ok(())
            } else {
                Err(format!("schema {v:?} reads as {r:?}"))
            }
        }
        Some((schema, _)) => {
            let refused = r.errors();
            if refused.len() == all.len() && refused.iter().all(|(_, e)| is_shape(e)) {
                Ok(())
            } else {
                Err(format!("schema {schema:?} reads as {r:?}"))
            }
        }
    }
}

fn is_shape(e: &DocError) -> bool {
    matches!(e, DocError::Shape(_))
}

// ---------------------------------------------------------------------------------------------
// One value replaced

/// Which value of the valid outbox to replace, and with what (both taken modulo the choices).
#[derive(Clone, Debug)]
pub struct Damage {
    /// The value.
    pub target: usize,
    /// The replacement.
    pub with: usize,
}

/// A damage.
pub fn damage() -> impl Strategy<Value = Damage> {
    (any::<usize>(), any::<usize>()).prop_map(|(target, with)| Damage { target, with })
}

/// Every damage: each value of the valid outbox replaced by each shape it does not have.
pub fn every_damage() -> impl Iterator<Item = Damage> {
    let targets = valid().targets.len();
    let kinds = replacements().len() - 1;
    (0..targets).flat_map(move |target| (0..kinds).map(move |with| Damage { target, with }))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    Null,
    Bool,
    Int,
    Uint,
    F64,
    Str,
    Bytes,
    Counter,
    Timestamp,
    Unknown,
    Map,
    List,
    Text,
}

fn shape_of(v: &Value<'_>) -> Shape {
    match v {
        Value::Object(ObjType::Map | ObjType::Table) => Shape::Map,
        Value::Object(ObjType::List) => Shape::List,
        Value::Object(ObjType::Text) => Shape::Text,
        Value::Scalar(s) => match s.as_ref() {
            ScalarValue::Null => Shape::Null,
            ScalarValue::Boolean(_) => Shape::Bool,
            ScalarValue::Int(_) => Shape::Int,
            ScalarValue::Uint(_) => Shape::Uint,
            ScalarValue::F64(_) => Shape::F64,
            ScalarValue::Str(_) => Shape::Str,
            ScalarValue::Bytes(_) => Shape::Bytes,
            ScalarValue::Counter(_) => Shape::Counter,
            ScalarValue::Timestamp(_) => Shape::Timestamp,
            ScalarValue::Unknown { .. } => Shape::Unknown,
        },
    }
}

/// Replacements: one of each shape but null (an optional value may be null). The string names no
/// variant of an entry's kind (`"Text"` would be a valid kind in place of any other).
fn replacements() -> Vec<(Shape, Node)> {
    let s = |v| Node::Scalar(v);
    vec![
        (Shape::Bool, s(ScalarValue::Boolean(true))),
        (Shape::Int, s(ScalarValue::Int(-7))),
        (Shape::Uint, s(ScalarValue::Uint(7))),
        (Shape::F64, s(ScalarValue::F64(0.5))),
        (Shape::Str, s(ScalarValue::Str("not a kind".into()))),
        (Shape::Bytes, s(ScalarValue::Bytes(vec![1, 2]))),
        (Shape::Counter, s(ScalarValue::counter(1))),
        (Shape::Timestamp, s(ScalarValue::Timestamp(1))),
        (Shape::Map, Node::Map(Vec::new())),
        (Shape::List, Node::List(Vec::new())),
        (Shape::Text, Node::Text("x".into())),
    ]
}

#[derive(Debug)]
struct Target {
    obj: ObjId,
    prop: Prop,
    top: String,
    shape: Shape,
}

/// Every value in the document but nulls and the characters of text, with the top-level key it
/// lies under.
fn targets(doc: &Automerge) -> Vec<Target> {
    fn visit(doc: &Automerge, obj: &ObjId, prop: Prop, top: &str, out: &mut Vec<Target>) {
        let Ok(Some((value, id))) = doc.get(obj, prop.clone()) else {
            return;
        };
        let shape = shape_of(&value);
        if shape != Shape::Null {
            out.push(Target {
                obj: obj.clone(),
                prop,
                top: top.to_string(),
                shape,
            });
        }
        match shape {
            Shape::Map => {
                for key in doc.keys(&id) {
                    visit(doc, &id, Prop::Map(key), top, out);
                }
            }
            Shape::List => {
                for i in 0..doc.length(&id) {
                    visit(doc, &id, Prop::Seq(i), top, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for key in doc.keys(ROOT) {
        visit(doc, &ROOT, Prop::Map(key.clone()), &key, &mut out);
    }
    out
}

/// Replaces one value of the valid outbox with one of another shape: the readers of the part it
/// lies in refuse the document's shape, and the others read it as before.
pub fn check_damage(d: &Damage) -> Check {
    let valid = valid();
    let targets = &valid.targets;
    let t = targets
        .get(d.target % targets.len().max(1))
        .ok_or("the valid outbox has no values")?;
    let choices: Vec<(Shape, Node)> = replacements()
        .into_iter()
        .filter(|(s, _)| *s != t.shape)
        .collect();
    let (_, with) = &choices[d.with % choices.len()];
    let mut doc = valid.doc.clone();
    doc.transact(|tx| write(tx, &t.obj, t.prop.clone(), false, with))
        .map_err(|f| format!("could not damage the document: {}", f.error))?;
    let r = read_all(&doc);
    r.typed()?;
    let affected = readers_of(&t.top);
    let where_ = format!("{:?} at {:?} under {}", with, t.prop, t.top);
    for name in affected {
        if !r.errors().iter().any(|(n, e)| n == name && is_shape(e)) {
            return Err(format!("{name} accepted {where_}: {r:?}"));
        }
    }
    valid
        .same(&r, affected)
        .map_err(|e| format!("{e} after {where_}"))
}

// ---------------------------------------------------------------------------------------------
// Saved documents as bytes

/// Saved outboxes: arbitrary bytes, Automerge's magic then anything, and the valid outbox saved,
/// intact or mutated.
pub fn saved_input() -> impl Strategy<Value = Input<()>> {
    prop_oneof![
        1 => arbitrary(),
        1 => vec(any::<u8>(), 0..512).prop_map(|rest| {
            let mut b = vec![0x85, 0x6f, 0x4a, 0x83];
            b.extend(rest);
            Input::raw(b)
        }),
        6 => proptest::option::weighted(0.9, mutations()).prop_map(|m| {
            let encoded = valid().saved.clone();
            let bytes = match m {
                Some(m) => mutate(&encoded, &m),
                None => encoded.clone(),
            };
            Input { valid: Some(((), encoded)), bytes }
        }),
    ]
}

/// Loads a saved outbox and reads it: Automerge refuses damaged bytes (each chunk carries a
/// checksum), and whatever it loads, the readers read without panicking.
pub fn check_saved(input: &Input<()>) -> Check {
    match Automerge::load(&input.bytes) {
        Ok(doc) => {
            let r = read_all(&doc);
            r.typed()?;
            let valid = valid();
            if input.intact().is_some() {
                valid.same(&r, &[])?;
            }
            // Each chunk carries a checksum: damaged bytes that load at all load the whole history
            // (a chunk copied twice) or nothing.
            let heads = doc.get_heads();
            if input.valid.is_some() && !heads.is_empty() && heads != valid.doc.get_heads() {
                return Err(format!("damaged bytes loaded as another document: {r:?}"));
            }
            Ok(())
        }
        Err(e) if input.intact().is_some() => Err(format!("an intact outbox was refused: {e}")),
        Err(_) => Ok(()),
    }
}
