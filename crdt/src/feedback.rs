//! What flows back from a viewer to an author, and chat: written into the viewer's own outbox, so it
//! keeps the one-writer rule.

use std::collections::HashMap;

use automerge::transaction::Transaction;
use automerge::{Automerge, ChangeHash, ROOT};
use autosurgeon::ReadDoc;
use autosurgeon::{Hydrate, Reconcile, hydrate_prop, reconcile_prop};
use serde::{Deserialize, Serialize};

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

/// Appends a chat message.
pub fn add_message(doc: &mut Automerge, message: Message, now: Timestamp) -> Result<(), DocError> {
    edit(doc, "chat", now, |m: &mut Vec<Message>| m.push(message)).map(|_| ())
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
