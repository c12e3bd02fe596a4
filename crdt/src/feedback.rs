//! What flows back from a viewer to an author, and chat: written into the viewer's own outbox, so it
//! keeps the one-writer rule.
//!
//! The viewer writes comments (text, and a voice recording as a media blob), viewing sessions (the
//! panel was opened with these heads on screen, and stayed in front so long) and per-entry signals;
//! the author reads them from their copy of that outbox. Chat messages go the same way, each side
//! in its own outbox, and each side says how many of the other's messages its device holds.

use std::collections::HashMap;

use automerge::transaction::Transaction;
use automerge::{Automerge, ChangeHash, ROOT};
use autosurgeon::ReadDoc;
use autosurgeon::{Hydrate, Reconcile, hydrate_prop, reconcile_prop};
use serde::{Deserialize, Serialize};

use crate::entry::MediaRef;
use crate::ids::{EntryId, Timestamp};
use crate::outbox::{DocError, at, schema_version};

/// A comment on the contact's panel, or on one entry of it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Comment {
    /// Stable id.
    #[key]
    pub id: String,
    /// The entry it is about; `None` for the panel as a whole.
    pub entry: Option<String>,
    /// The comment's text.
    pub text: String,
    /// When it was written, in milliseconds since the epoch.
    pub at: i64,
    /// A voice comment: the recording, fetched like any other media (only by the author).
    #[autosurgeon(missing = "Option::default")]
    #[serde(default)]
    pub audio: Option<MediaRef>,
}

/// One viewing session: the panel was opened with `heads` on screen and stayed in front for
/// `open_for` milliseconds (updated while it stays open). `entries` were each in view for at least
/// a second during it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Session {
    /// Stable id.
    #[key]
    pub id: String,
    /// The heads of the contact's outbox that were on screen when it began.
    pub heads: Vec<String>,
    /// When the panel came to the front, in milliseconds since the epoch.
    pub opened: i64,
    /// How long it stayed in front, in milliseconds.
    pub open_for: i64,
    /// The entries that were in view, each once.
    pub entries: Vec<String>,
}

/// A view receipt: the viewer opened the contact's panel and saw it up to `heads`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Receipt {
    /// The heads of the contact's outbox that were on screen.
    pub heads: Vec<String>,
    /// When the panel was opened, in milliseconds since the epoch.
    pub opened: i64,
    /// How long it stayed open, in milliseconds.
    pub open_for: i64,
}

/// Per-entry view signals.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Signals {
    /// Times the entry was on screen when the panel was viewed.
    pub views: u64,
    /// Times the pointer dwelled on it.
    pub hovers: u64,
    /// Times its link was opened.
    pub links_opened: u64,
    /// Times its media was played.
    pub plays: u64,
}

/// Which signal to count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// The entry was on screen.
    Viewed,
    /// The pointer dwelled on it.
    Hovered,
    /// Its link was opened.
    LinkOpened,
    /// Its media was played.
    Played,
}

/// One chat message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Message {
    /// Stable id.
    #[key]
    pub id: String,
    /// The message's text.
    pub text: String,
    /// When it was sent, in milliseconds since the epoch.
    pub at: i64,
}

/// Everything an outbox says back about the other side's panel.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
pub struct Feedback {
    /// Comments, oldest first.
    pub comments: Vec<Comment>,
    /// View receipts, oldest first.
    pub receipts: Vec<Receipt>,
    /// Signals per entry id.
    pub signals: HashMap<String, Signals>,
    /// Viewing sessions, oldest first.
    #[autosurgeon(missing = "Vec::new")]
    #[serde(default)]
    pub sessions: Vec<Session>,
}

pub(crate) fn init(tx: &mut Transaction<'_>) -> Result<(), DocError> {
    reconcile_prop(tx, ROOT, "feedback", Feedback::default())?;
    reconcile_prop(tx, ROOT, "chat", Vec::<Message>::new())?;
    Ok(())
}

fn edit<T: Hydrate + Reconcile + Default>(
    doc: &mut Automerge,
    prop: &'static str,
    now: Timestamp,
    f: impl FnOnce(&mut T),
) -> Result<Option<ChangeHash>, DocError> {
    let result = doc
        .transact_with(
            |_| at(now),
            |tx| -> Result<(), DocError> {
                let mut value: T = if tx.get(&ROOT, prop)?.is_some() {
                    hydrate_prop(tx, ROOT, prop)?
                } else {
                    T::default()
                };
                f(&mut value);
                reconcile_prop(tx, ROOT, prop, &value)?;
                Ok(())
            },
        )
        .map_err(|f| f.error)?;
    Ok(result.hash)
}

/// Adds a comment.
pub fn add_comment(doc: &mut Automerge, comment: Comment, now: Timestamp) -> Result<(), DocError> {
    edit(doc, "feedback", now, |f: &mut Feedback| {
        f.comments.push(comment)
    })
    .map(|_| ())
}

/// Records a view receipt.
pub fn add_receipt(doc: &mut Automerge, receipt: Receipt, now: Timestamp) -> Result<(), DocError> {
    edit(doc, "feedback", now, |f: &mut Feedback| {
        f.receipts.push(receipt)
    })
    .map(|_| ())
}

/// Records the latest view receipt in place of earlier ones: an author only needs to know how far
/// I have read, and the document stays small however often I look.
pub fn set_receipt(doc: &mut Automerge, receipt: Receipt, now: Timestamp) -> Result<(), DocError> {
    edit(doc, "feedback", now, |f: &mut Feedback| {
        f.receipts = vec![receipt]
    })
    .map(|_| ())
}

/// Counts one signal for an entry.
pub fn add_signal(
    doc: &mut Automerge,
    entry: &EntryId,
    signal: Signal,
    now: Timestamp,
) -> Result<(), DocError> {
    edit(doc, "feedback", now, |f: &mut Feedback| {
        let s = f.signals.entry(entry.to_string()).or_default();
        match signal {
            Signal::Viewed => s.views += 1,
            Signal::Hovered => s.hovers += 1,
            Signal::LinkOpened => s.links_opened += 1,
            Signal::Played => s.plays += 1,
        }
    })
    .map(|_| ())
}

/// Removes one of my comments; reports whether there was one.
pub fn remove_comment(doc: &mut Automerge, id: &str, now: Timestamp) -> Result<bool, DocError> {
    let mut found = false;
    edit(doc, "feedback", now, |f: &mut Feedback| {
        let before = f.comments.len();
        f.comments.retain(|c| c.id != id);
        found = f.comments.len() != before;
    })?;
    Ok(found)
}

/// Records the start of a viewing session.
pub fn open_session(doc: &mut Automerge, session: Session, now: Timestamp) -> Result<(), DocError> {
    edit(doc, "feedback", now, |f: &mut Feedback| {
        f.sessions.push(session)
    })
    .map(|_| ())
}

/// A session by id.
pub fn session<D: ReadDoc>(doc: &D, id: &str) -> Result<Option<Session>, DocError> {
    Ok(read_feedback(doc)?
        .sessions
        .into_iter()
        .find(|s| s.id == id))
}

/// Sets how long a session has stayed in front; reports whether the session exists.
pub fn set_session_length(
    doc: &mut Automerge,
    id: &str,
    open_for: i64,
    now: Timestamp,
) -> Result<bool, DocError> {
    let mut found = false;
    edit(doc, "feedback", now, |f: &mut Feedback| {
        if let Some(s) = f.sessions.iter_mut().find(|s| s.id == id) {
            found = true;
            s.open_for = open_for.max(0);
        }
    })?;
    Ok(found)
}

/// Counts one signal for an entry within a session. An entry counts as viewed once per session,
/// however often it scrolls into view; the other signals count every time. Reports whether the
/// session exists.
pub fn add_session_signal(
    doc: &mut Automerge,
    session: &str,
    entry: &EntryId,
    signal: Signal,
    now: Timestamp,
) -> Result<bool, DocError> {
    let mut found = false;
    edit(doc, "feedback", now, |f: &mut Feedback| {
        let Some(s) = f.sessions.iter_mut().find(|s| s.id == session) else {
            return;
        };
        found = true;
        if signal == Signal::Viewed {
            if s.entries.iter().any(|e| e == entry.as_str()) {
                return;
            }
            s.entries.push(entry.to_string());
        }
        let counts = f.signals.entry(entry.to_string()).or_default();
        match signal {
            Signal::Viewed => counts.views += 1,
            Signal::Hovered => counts.hovers += 1,
            Signal::LinkOpened => counts.links_opened += 1,
            Signal::Played => counts.plays += 1,
        }
    })?;
    Ok(found)
}

/// Appends a chat message.
pub fn add_message(doc: &mut Automerge, message: Message, now: Timestamp) -> Result<(), DocError> {
    edit(doc, "chat", now, |m: &mut Vec<Message>| m.push(message)).map(|_| ())
}

/// The instant to stamp the next comment, session or message with: `now`, or just after the
/// latest one already in the document, so the order they were made in stays total even when
/// the clock stands still or steps back.
pub fn next_instant<D: ReadDoc>(doc: &D, now: Timestamp) -> Result<Timestamp, DocError> {
    let f = read_feedback(doc)?;
    let latest = f
        .comments
        .iter()
        .map(|c| c.at)
        .chain(f.sessions.iter().map(|s| s.opened))
        .chain(read_chat(doc)?.iter().map(|m| m.at))
        .max();
    Ok(match latest {
        Some(t) if t >= now.millis() => Timestamp(t.saturating_add(1)),
        _ => now,
    })
}

/// Records how many of the other side's chat messages this device holds, so they can show
/// "delivered". Writes nothing when the count is unchanged.
pub fn set_chat_delivered(doc: &mut Automerge, count: u64, now: Timestamp) -> Result<(), DocError> {
    if read_chat_delivered(doc)? == count {
        return Ok(());
    }
    doc.transact_with(
        |_| at(now),
        |tx| -> Result<(), DocError> {
            reconcile_prop(tx, ROOT, "chat_delivered", count)?;
            Ok(())
        },
    )
    .map_err(|f| f.error)?;
    Ok(())
}

/// How many of my chat messages the other side says its device holds (0 when it never said).
pub fn read_chat_delivered<D: ReadDoc>(doc: &D) -> Result<u64, DocError> {
    if schema_version(doc)?.is_none() || doc.get(&ROOT, "chat_delivered")?.is_none() {
        return Ok(0);
    }
    Ok(hydrate_prop(doc, ROOT, "chat_delivered")?)
}

/// Reads the feedback section; empty when the document holds none.
pub fn read_feedback<D: ReadDoc>(doc: &D) -> Result<Feedback, DocError> {
    if schema_version(doc)?.is_none() || doc.get(&ROOT, "feedback")?.is_none() {
        return Ok(Feedback::default());
    }
    Ok(hydrate_prop(doc, ROOT, "feedback")?)
}

/// Reads the chat messages; empty when the document holds none.
pub fn read_chat<D: ReadDoc>(doc: &D) -> Result<Vec<Message>, DocError> {
    if schema_version(doc)?.is_none() || doc.get(&ROOT, "chat")?.is_none() {
        return Ok(Vec::new());
    }
    Ok(hydrate_prop(doc, ROOT, "chat")?)
}
