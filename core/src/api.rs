//! The engine's one API: every operation a request type with a typed response, one dispatcher
//! ([`crate::Engine::call`]), used alike by the control socket (and so the CLI), the desktop app's
//! commands and the tests.
//!
//! The operations are declared once, in [`with_operations!`]. That list defines the request structs
//! (module [`op`]), the [`Request`] and [`Response`] enums that cross the control socket, the
//! [`Op`] trait tying each request to its response type, and [`OPERATIONS`]; the desktop app
//! generates its commands from the same list, so a new operation reaches both front ends (and a
//! test fails if either cannot reach one).

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

mod dispatch;

/// One operation: a request with its typed response.
pub trait Op: Serialize + DeserializeOwned + Send + 'static {
    /// What the operation answers.
    type Output: Serialize + DeserializeOwned + Send + 'static;
    /// Its name, the same in every layer: `post_entry`, `mark_seen`, …
    const NAME: &'static str;
    /// The request as the dispatcher takes it.
    fn request(self) -> Request;
    /// The typed answer, if `response` is this operation's.
    fn output(response: Response) -> Option<Self::Output>;
}

/// Calls `$callback!` with every operation of the API, each as
/// `#[doc] Name name { #[doc] pub field: Type, … } -> Output;`, so front ends can generate one
/// entry point per operation (the desktop app's commands are made this way).
#[macro_export]
macro_rules! with_operations {
    ($callback:ident) => {
        $callback! {
            /// Who I am: id, name, data directory, the network in force and my addresses.
            Profile profile {} -> $crate::view::Profile;
            /// Sets my display name.
            SetName set_name {
                /// The name contacts will see (1 to 64 characters).
                pub name: String,
            } -> $crate::view::Profile;
            /// Every preference with its value.
            Settings settings {} -> $crate::view::Preferences;
            /// One preference's value, as text.
            GetSetting get_setting {
                /// The key, e.g. `receipts` (`settings` lists them).
                pub key: String,
            } -> String;
            /// Sets one preference; a bad value is refused and changes nothing.
            SetSetting set_setting {
                /// The key.
                pub key: String,
                /// The value, as text (`on`/`off`, `en`, `relay=URL`, …).
                pub value: String,
            } -> $crate::view::Preferences;
            /// Every contact as the main window lists it.
            Contacts contacts {} -> Vec<$crate::view::ContactCard>;
            /// One contact as the main window lists it.
            Contact contact {
                /// Contact id or name.
                pub contact: String,
            } -> $crate::view::ContactCard;
            /// Adds a contact by name, for panels carried by file.
            AddContact add_contact {
                /// Their name.
                pub name: String,
            } -> $crate::contact::Contact;
            /// Unpairs and removes a contact: they lose access at once.
            RemoveContact remove_contact {
                /// Contact id or name.
                pub contact: String,
            } -> $crate::contact::Contact;
            /// My panel for a contact: every entry with its rule and whether they see it now.
            MyPanel my_panel {
                /// Contact id or name.
                pub contact: String,
            } -> $crate::view::MyPanel;
            /// Exactly what a contact can see of my panel right now, read from what was published.
            Preview preview {
                /// Contact id or name.
                pub contact: String,
            } -> $crate::view::Preview;
            /// Adds an entry to my panel for a contact; answers once it is durable. A link
            /// entry keeps a snapshot of its page (fetched once, here); the note says why
            /// when it has none.
            PostEntry post_entry {
                /// Contact id or name.
                pub contact: String,
                /// The entry.
                pub entry: $crate::view::NewEntry,
            } -> $crate::view::Posted;
            /// Changes an entry's text, category or rule.
            EditEntry edit_entry {
                /// The entry.
                pub entry: $crate::crdt::EntryId,
                /// What to change.
                pub edit: $crate::view::EntryEdit,
            } -> ();
            /// Removes an entry from my panel.
            RemoveEntry remove_entry {
                /// The entry.
                pub entry: $crate::crdt::EntryId,
            } -> ();
            /// Takes a link entry's snapshot again, from the page as it is now.
            RefreshSnapshot refresh_snapshot {
                /// The link entry.
                pub entry: $crate::crdt::EntryId,
            } -> $crate::view::Posted;
            /// Removes a link entry's snapshot: it stays a plain link.
            RemoveSnapshot remove_snapshot {
                /// The link entry.
                pub entry: $crate::crdt::EntryId,
            } -> ();
            /// The monitors and windows that can be captured.
            Screens screens {} -> $crate::view::ScreenSources;
            /// Captures a monitor or a window into a screenshot draft, with its preview.
            TakeScreenshot take_screenshot {
                /// Contact id or name it is meant for, if one.
                pub contact: Option<String>,
                /// What to capture.
                pub target: $crate::view::ScreenTarget,
                /// Its caption.
                pub text: String,
            } -> $crate::view::Shot;
            /// Crops a screenshot draft's picture.
            CropScreenshot crop_screenshot {
                /// The draft.
                pub draft: $crate::draft::DraftId,
                /// The part to keep, in the picture's pixels.
                pub rect: $crate::view::CropRect,
            } -> $crate::view::Shot;
            /// Adds a category at the end; answers its id.
            AddCategory add_category {
                /// Contact id or name.
                pub contact: String,
                /// Its name.
                pub name: String,
            } -> $crate::crdt::CategoryId;
            /// Renames a category.
            RenameCategory rename_category {
                /// Contact id or name.
                pub contact: String,
                /// The category.
                pub category: $crate::crdt::CategoryId,
                /// The new name.
                pub name: String,
            } -> ();
            /// Moves a category to a position (0 is first).
            MoveCategory move_category {
                /// Contact id or name.
                pub contact: String,
                /// The category.
                pub category: $crate::crdt::CategoryId,
                /// The new position.
                pub position: u32,
            } -> ();
            /// Removes a category; its entries move to the first remaining one, which is answered.
            RemoveCategory remove_category {
                /// Contact id or name.
                pub contact: String,
                /// The category.
                pub category: $crate::crdt::CategoryId,
            } -> $crate::crdt::CategoryId;
            /// Prepares an entry without publishing it: validated, attachments imported, kept.
            PrepareEntry prepare_entry {
                /// Contact id or name it is meant for, if one.
                pub contact: Option<String>,
                /// The entry.
                pub entry: $crate::view::NewEntry,
            } -> $crate::draft::Draft;
            /// Drafts and suggestions waiting, newest first.
            Drafts drafts {} -> Vec<$crate::draft::Draft>;
            /// Publishes a draft to one or more contacts, with last changes; answers the entries.
            CommitDraft commit_draft {
                /// The draft.
                pub draft: $crate::draft::DraftId,
                /// Contacts (ids or names); empty means the one it was prepared for.
                pub to: Vec<String>,
                /// Last changes.
                pub edit: $crate::draft::DraftEdit,
            } -> Vec<$crate::crdt::EntryId>;
            /// Discards a draft.
            DiscardDraft discard_draft {
                /// The draft.
                pub draft: $crate::draft::DraftId,
            } -> ();
            /// The inbox: the watcher's suggestions waiting for approval, the players always
            /// allowed, and the watcher's state. A suggestion is approved with `commit_draft`.
            Inbox inbox {} -> $crate::view::InboxView;
            /// Rejects a suggestion: it goes, and its video is never suggested again.
            RejectSuggestion reject_suggestion {
                /// The suggestion.
                pub draft: $crate::draft::DraftId,
            } -> ();
            /// Always allows a player: the videos it plays are published to these contacts
            /// without asking.
            AllowPlayer allow_player {
                /// The player, as the watcher names it (`mpv`, `vlc`, …).
                pub player: String,
                /// Contacts (ids or names).
                pub to: Vec<String>,
            } -> $crate::view::AllowRule;
            /// Stops always allowing a player: its videos are suggested again.
            DisallowPlayer disallow_player {
                /// The player.
                pub player: String,
            } -> ();
            /// Their panel for me, with what changed since I last looked.
            TheirPanel their_panel {
                /// Contact id or name.
                pub contact: String,
            } -> $crate::view::TheirPanel;
            /// Records that I have seen their panel up to these heads.
            MarkSeen mark_seen {
                /// Contact id or name.
                pub contact: String,
                /// The heads that were on screen.
                pub heads: Vec<String>,
            } -> ();
            /// Fetches an entry's media from the contact's device (progress arrives as events)
            /// and saves it to `out`, or to the copy the windows show.
            FetchMedia fetch_media {
                /// Contact id or name.
                pub contact: String,
                /// The entry.
                pub entry: $crate::crdt::EntryId,
                /// An absolute path to save it to.
                pub out: Option<std::path::PathBuf>,
            } -> $crate::view::Fetched;
            /// Writes my panel for a contact (only what they may see) to a file.
            ExportPanel export_panel {
                /// Contact id or name.
                pub contact: String,
                /// The absolute path of the file to write.
                pub path: std::path::PathBuf,
            } -> ();
            /// Imports a panel file a contact gave me.
            ImportPanel import_panel {
                /// Contact id or name.
                pub contact: String,
                /// The absolute path of the file to read.
                pub path: std::path::PathBuf,
            } -> $crate::view::ImportSummary;
            /// Makes a one-use pairing ticket.
            Invite invite {
                /// How long it stays valid, in seconds (1 s to 30 days).
                pub ttl_secs: u64,
                /// Whether a join waits for my approval.
                pub approval: bool,
            } -> $crate::view::Invite;
            /// Pairs with the person who gave me this ticket (text or `backstory://` link).
            Join join {
                /// The ticket.
                pub ticket: String,
            } -> $crate::view::Paired;
            /// Joins waiting for my approval.
            PendingJoins pending_joins {} -> Vec<$crate::pairing::PendingJoin>;
            /// Approves or denies a waiting join.
            DecideJoin decide_join {
                /// The pending join.
                pub id: u32,
                /// Approve (true) or deny.
                pub approve: bool,
            } -> ();
            /// Reads a time as people type it ("in 3 days", "3d", "2026-12-01"), on the
            /// engine's clock.
            ParseWhen parse_when {
                /// The text.
                pub text: String,
            } -> $crate::crdt::Timestamp;
            /// The engine's clock: the current instant.
            Clock clock {} -> $crate::crdt::Timestamp;
            /// Moves the engine's clock forward; only an engine on a test clock accepts it.
            AdvanceClock advance_clock {
                /// By how many milliseconds.
                pub millis: u64,
            } -> $crate::crdt::Timestamp;
            /// Every document this device holds: its current content and its whole history.
            Inspect inspect {} -> Vec<$crate::view::InspectedDoc>;
            /// Comments on a contact's panel — one entry of it, or the whole — with text or a
            /// recording; sent even with receipts off. Answers once it is durable.
            Comment comment {
                /// Contact id or name.
                pub contact: String,
                /// The entry of their panel; none for the panel as a whole.
                pub entry: Option<$crate::crdt::EntryId>,
                /// The text (may be empty with a recording).
                pub text: String,
                /// A voice comment: a sound file, or a recording made in the window.
                pub audio: Option<$crate::feedback::AudioInput>,
            } -> $crate::feedback::CommentView;
            /// Removes one of my comments on a contact's panel.
            RemoveComment remove_comment {
                /// Contact id or name.
                pub contact: String,
                /// The comment's id.
                pub comment: String,
            } -> ();
            /// What a contact said and did on my panel for them — comments, viewing sessions,
            /// per-entry signals and the ranking by views — and my comments on theirs.
            Feedback feedback {
                /// Contact id or name.
                pub contact: String,
            } -> $crate::feedback::FeedbackView;
            /// Fetches a voice comment's recording (theirs from their device) and saves it to
            /// `out`, or to the copy the windows play.
            FetchCommentAudio fetch_comment_audio {
                /// Contact id or name.
                pub contact: String,
                /// The comment's id.
                pub comment: String,
                /// An absolute path to save it to.
                pub out: Option<std::path::PathBuf>,
            } -> $crate::feedback::FetchedAudio;
            /// Their panel came to the front with these heads on screen: starts a viewing
            /// session, unless receipts are off (then nothing is written and no session answered).
            BeginView begin_view {
                /// Contact id or name.
                pub contact: String,
                /// The heads of their panel on screen.
                pub heads: Vec<String>,
            } -> $crate::feedback::ViewStarted;
            /// Counts one signal for an entry of their panel within a viewing session.
            ViewSignal view_signal {
                /// Contact id or name.
                pub contact: String,
                /// The session.
                pub session: String,
                /// The entry of their panel.
                pub entry: $crate::crdt::EntryId,
                /// In view for a second, hovered, link opened or media played.
                pub signal: $crate::crdt::feedback::Signal,
            } -> ();
            /// Records how long a viewing session has been in front so far, on the engine's clock.
            EndView end_view {
                /// Contact id or name.
                pub contact: String,
                /// The session.
                pub session: String,
            } -> $crate::feedback::ViewEnded;
            /// Turns read receipts (and every view signal) off for one contact, or back on.
            SetContactReceipts set_contact_receipts {
                /// Contact id or name.
                pub contact: String,
                /// On (the global setting still applies) or off.
                pub on: bool,
            } -> $crate::view::ContactCard;
            /// The chat with a contact: messages both ways and their feedback on my panel.
            Chat chat {
                /// Contact id or name.
                pub contact: String,
            } -> $crate::feedback::ChatView;
            /// Sends a chat message; answers once it is durable.
            SendMessage send_message {
                /// Contact id or name.
                pub contact: String,
                /// The text.
                pub text: String,
            } -> $crate::feedback::ChatItem;
            /// Marks the chat with a contact read.
            MarkChatRead mark_chat_read {
                /// Contact id or name.
                pub contact: String,
            } -> ();
        }
    };
}

macro_rules! define_operations {
    ($(
        $(#[$doc:meta])*
        $op:ident $name:ident {
            $( $(#[$fdoc:meta])* pub $field:ident : $fty:ty ),* $(,)?
        } -> $out:ty;
    )+) => {
        /// The request of each operation.
        pub mod op {
            $(
                $(#[$doc])*
                #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
                pub struct $op {
                    $( $(#[$fdoc])* pub $field: $fty, )*
                }
            )+
        }

        /// Any request, as the dispatcher and the control socket take it.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "op", rename_all = "snake_case")]
        #[non_exhaustive]
        pub enum Request {
            $( $(#[$doc])* $op(op::$op), )+
        }

        /// Any answer: the operation's name and its typed value.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "op", content = "value", rename_all = "snake_case")]
        #[non_exhaustive]
        #[allow(missing_docs)]
        pub enum Response {
            $( $op($out), )+
        }

        /// The names of every operation, in the order they are declared.
        pub const OPERATIONS: &[&str] = &[$(stringify!($name)),+];

        impl Request {
            /// The operation's name.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$op(_) => stringify!($name), )+
                }
            }
        }

        impl Response {
            /// The name of the operation this answers.
            pub fn name(&self) -> &'static str {
                match self {
                    $( Self::$op(_) => stringify!($name), )+
                }
            }
        }

        $(
            impl Op for op::$op {
                type Output = $out;
                const NAME: &'static str = stringify!($name);
                fn request(self) -> Request {
                    Request::$op(self)
                }
                fn output(response: Response) -> Option<$out> {
                    match response {
                        Response::$op(v) => Some(v),
                        #[allow(unreachable_patterns)]
                        _ => None,
                    }
                }
            }
        )+
    };
}

with_operations!(define_operations);
