//! The engine's event stream: what happened, in the past tense, and to which contact and which of
//! the two documents shared with them — so each window, the tray and `backstory events` refresh
//! only what changed.

use backstory_crdt::{EntryId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::contact::{ContactId, PeerState};
use crate::draft::DraftId;
use crate::feedback::ChatItem;
use crate::pairing::PendingJoin;

/// Which of the two documents shared with a contact an event is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Document {
    /// My panel for them (my outbox, and my master behind it).
    Mine,
    /// Their panel for me (their outbox, with their feedback on mine).
    Theirs,
}

/// Something the engine did or noticed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "event", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// My display name changed.
    NameChanged {
        /// The new name.
        name: String,
    },
    /// A setting changed.
    SettingChanged {
        /// Its key.
        key: String,
    },
    /// A contact was added.
    ContactAdded {
        /// The contact.
        contact: ContactId,
    },
    /// A contact was removed; they lost access at once.
    ContactRemoved {
        /// The contact.
        contact: ContactId,
    },
    /// A contact's device came online, went offline, or started or finished syncing.
    ContactState {
        /// The contact.
        contact: ContactId,
        /// Its state now.
        state: PeerState,
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
    /// An entry was removed from my panel.
    EntryRemoved {
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
    /// A contact's document for me changed: their panel, or what they say back about mine.
    PanelReceived {
        /// The contact.
        contact: ContactId,
        /// Updates of theirs I have not seen.
        unseen: usize,
    },
    /// A contact's panel for me grew past my limit and its syncing paused, or the limit was
    /// raised and it resumed.
    PanelPaused {
        /// The contact.
        contact: ContactId,
        /// Whether syncing it is paused now.
        paused: bool,
        /// The bytes it takes here.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Someone presented one of my tickets that needs my approval.
    JoinRequested {
        /// Who, with the safety words.
        pending: PendingJoin,
    },
    /// My join waits for the inviter's approval.
    PairingPending {
        /// The inviter's endpoint id.
        peer: String,
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
    /// A draft was saved or changed.
    DraftSaved {
        /// The draft.
        draft: DraftId,
    },
    /// A draft was posted or discarded.
    DraftRemoved {
        /// The draft.
        draft: DraftId,
    },
    /// The video watcher noticed a video: a suggestion waits in the inbox.
    SuggestionAdded {
        /// The suggestion.
        draft: DraftId,
        /// The text it suggests.
        text: String,
    },
    /// A player was always allowed, or no longer is.
    AllowRulesChanged,
    /// The video watcher started, stopped or changed.
    WatcherChanged {
        /// Its state now.
        state: crate::view::WatcherState,
    },
    /// I turned read receipts off (or back on) for one contact.
    ReceiptsChanged {
        /// The contact.
        contact: ContactId,
        /// Whether they are on for them now (the global setting still applies).
        on: bool,
    },
    /// New items in the chat with a contact — their messages, their comments on my panel, their
    /// views of it — in the order they were made.
    ChatReceived {
        /// The contact.
        contact: ContactId,
        /// The new items, oldest first.
        items: Vec<ChatItem>,
        /// Their items I have not read.
        unread: u32,
    },
    /// The chat with a contact changed otherwise: I wrote or commented, they received, I read,
    /// or a view went on longer.
    ChatChanged {
        /// The contact.
        contact: ContactId,
        /// Their items I have not read.
        unread: u32,
    },
}

impl Event {
    /// The contact this event is about, if one.
    pub fn contact(&self) -> Option<&ContactId> {
        match self {
            Self::ContactAdded { contact }
            | Self::ContactRemoved { contact }
            | Self::ContactState { contact, .. }
            | Self::EntryPosted { contact, .. }
            | Self::EntryEdited { contact, .. }
            | Self::EntryRemoved { contact, .. }
            | Self::CategoriesChanged { contact }
            | Self::PanelPublished { contact, .. }
            | Self::PanelReceived { contact, .. }
            | Self::PanelPaused { contact, .. }
            | Self::MediaProgress { contact, .. }
            | Self::ReceiptsChanged { contact, .. }
            | Self::ChatReceived { contact, .. }
            | Self::ChatChanged { contact, .. } => Some(contact),
            Self::NameChanged { .. }
            | Self::SettingChanged { .. }
            | Self::JoinRequested { .. }
            | Self::PairingPending { .. }
            | Self::DraftSaved { .. }
            | Self::DraftRemoved { .. }
            | Self::SuggestionAdded { .. }
            | Self::AllowRulesChanged
            | Self::WatcherChanged { .. } => None,
        }
    }

    /// Which document shared with the contact changed, if one did.
    pub fn document(&self) -> Option<Document> {
        match self {
            Self::EntryPosted { .. }
            | Self::EntryEdited { .. }
            | Self::EntryRemoved { .. }
            | Self::CategoriesChanged { .. }
            | Self::PanelPublished { .. } => Some(Document::Mine),
            Self::PanelReceived { .. }
            | Self::PanelPaused { .. }
            | Self::MediaProgress { .. }
            | Self::ChatReceived { .. } => Some(Document::Theirs),
            _ => None,
        }
    }
}
