//! The control socket: a Unix socket in the data directory (mode 0600) through which the CLI and
//! tests drive a running engine. One JSON request per line, one JSON reply per line; `events` turns
//! the connection into a stream of events.

mod client;
mod server;

use std::path::PathBuf;

use backstory_crdt::{CategoryId, EntryId};
use serde::{Deserialize, Serialize};

use crate::engine::{EntryEdit, NewEntry};
use crate::error::ApiError;

pub use client::{Client, ClientError};
pub use server::{Server, bind};

/// The socket file, inside the data directory.
pub const SOCKET_FILE: &str = "control.sock";

/// One request to the engine.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Request {
    /// Who I am.
    Profile,
    /// Set my display name.
    SetName {
        /// The name.
        name: String,
    },
    /// Add a contact by name.
    AddContact {
        /// The name.
        name: String,
    },
    /// List contacts.
    Contacts,
    /// Add an entry to my panel for a contact.
    Post {
        /// Contact id or name.
        contact: String,
        /// The entry.
        entry: NewEntry,
    },
    /// Edit an entry.
    Edit {
        /// The entry.
        entry: EntryId,
        /// What to change.
        edit: EntryEdit,
    },
    /// Delete an entry.
    Remove {
        /// The entry.
        entry: EntryId,
    },
    /// My master panel for a contact.
    Panel {
        /// Contact id or name.
        contact: String,
    },
    /// What the contact sees of my panel now.
    Preview {
        /// Contact id or name.
        contact: String,
    },
    /// Their panel for me, annotated with changes since I last looked.
    Show {
        /// Contact id or name.
        contact: String,
    },
    /// Mark their panel seen up to these heads.
    MarkViewed {
        /// Contact id or name.
        contact: String,
        /// The heads that were shown.
        heads: Vec<String>,
    },
    /// Add a category.
    AddCategory {
        /// Contact id or name.
        contact: String,
        /// Its name.
        name: String,
    },
    /// Rename a category.
    RenameCategory {
        /// Contact id or name.
        contact: String,
        /// The category.
        category: CategoryId,
        /// The new name.
        name: String,
    },
    /// Move a category to a position.
    MoveCategory {
        /// Contact id or name.
        contact: String,
        /// The category.
        category: CategoryId,
        /// 0 is first.
        position: usize,
    },
    /// Remove a category (its entries move to the first remaining one).
    RemoveCategory {
        /// Contact id or name.
        contact: String,
        /// The category.
        category: CategoryId,
    },
    /// Write my panel for a contact to a file.
    Export {
        /// Contact id or name.
        contact: String,
        /// Absolute path of the file to write.
        path: PathBuf,
    },
    /// Import a contact's panel file.
    Import {
        /// Contact id or name.
        contact: String,
        /// Absolute path of the file to read.
        path: PathBuf,
    },
    /// Make a pairing ticket.
    Invite {
        /// How long it stays valid, in seconds.
        ttl_secs: u64,
        /// Whether a join waits for my approval.
        approval: bool,
    },
    /// Pair using someone's ticket.
    Join {
        /// The ticket text or link.
        ticket: String,
    },
    /// Joins waiting for my approval.
    Pending,
    /// Approve or deny a waiting join.
    Decide {
        /// The pending join.
        id: u64,
        /// Approve (true) or deny.
        approve: bool,
    },
    /// Unpair: the contact loses access at once.
    RemoveContact {
        /// Contact id or name.
        contact: String,
    },
    /// Fetch an entry's media from the contact's device.
    Fetch {
        /// Contact id or name.
        contact: String,
        /// The entry.
        entry: EntryId,
        /// Absolute path to save it to.
        out: Option<PathBuf>,
    },
    /// Every document in the store with its decoded history.
    Inspect,
    /// Asks the app holding this data directory to come to the front, optionally with a
    /// `backstory://` link to open (a second start of the app forwards itself this way).
    Open {
        /// The link, if any.
        link: Option<String>,
    },
    /// Stream events until the connection closes.
    Events,
}

/// One reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// The request succeeded with this value.
    Ok(serde_json::Value),
    /// The request failed.
    Err(ApiError),
}
