//! The engine's event stream: what happened, in the past tense.

use backstory_crdt::{EntryId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::contact::ContactId;

/// Something the engine did or noticed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A contact was added.
    ContactAdded {
        /// The contact.
        contact: ContactId,
    },
    /// My display name changed.
    NameChanged {
        /// The new name.
        name: String,
    },
    /// An entry was added to my panel for a contact.
    EntryPosted {
        /// The contact.
        contact: ContactId,
        /// The entry.
        entry: EntryId,
    },
    /// An entry of my panel changed (text, category or rule).
    EntryEdited {
        /// The contact.
        contact: ContactId,
        /// The entry.
        entry: EntryId,
    },
    /// An entry was deleted from my panel.
    EntryDeleted {
        /// The contact.
        contact: ContactId,
        /// The entry.
        entry: EntryId,
    },
    /// The categories of my panel changed.
    CategoriesChanged {
        /// The contact.
        contact: ContactId,
    },
    /// What a contact sees of my panel changed (an edit, or a rule's time came).
    PanelPublished {
        /// The contact.
        contact: ContactId,
        /// How many entries they now see.
        visible: usize,
        /// When the next rule flips, if any.
        next_change: Option<Timestamp>,
    },
    /// A contact was removed; they lost access at once.
    ContactRemoved {
        /// The contact.
        contact: ContactId,
    },
    /// Someone presented one of my tickets that needs my approval.
    JoinRequested {
        /// Who, with the safety words.
        pending: crate::engine::PendingJoin,
    },
    /// My join waits for the inviter's approval.
    PairingPending {
        /// The inviter's endpoint id.
        peer: String,
    },
    /// A peer's device came online or went offline.
    PeerState {
        /// The peer's endpoint id.
        peer: String,
        /// Its state now.
        state: crate::net::PeerState,
    },
    /// Bytes of a media file arrived from a contact.
    MediaProgress {
        /// The contact.
        contact: ContactId,
        /// The entry.
        entry: EntryId,
        /// Bytes so far.
        bytes: u64,
        /// Bytes in all.
        total: u64,
    },
    /// A contact's panel for me changed.
    PanelReceived {
        /// The contact.
        contact: ContactId,
        /// Updates I have not seen.
        unseen: usize,
    },
    /// Someone asked the app to come to the front, optionally to open a `backstory://` link.
    OpenRequested {
        /// The link, if any.
        link: Option<String>,
    },
}
