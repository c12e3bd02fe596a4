//! What the API answers and takes: the view models the front ends render as they are (the contact
//! card, my panel with what each contact sees now, their panel annotated with what changed) and
//! the inputs they send. Computed in the engine only; the CLI and the windows never recompute
//! them.

use std::path::PathBuf;
use std::sync::Arc;

use backstory_crdt::{Category, CategoryId, Entry, PanelChanges, PanelView, Timestamp, Visibility};
use serde::{Deserialize, Serialize};

use crate::contact::{Contact, ContactId, PeerState};
pub use crate::store::AllowRule;

/// Who I am.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Profile {
    /// My endpoint id (public key).
    pub id: String,
    /// My display name (empty until set).
    pub name: String,
    /// The data directory.
    pub data_dir: String,
    /// The network mode in force now.
    pub network: String,
    /// Where this device can be reached directly.
    pub addrs: Vec<String>,
}

/// Every preference, typed. `settings` lists them; `set_setting` changes one by key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Preferences {
    /// The chosen language; none follows the system.
    pub language: Option<String>,
    /// Whether my contacts learn what I have seen of their panels.
    pub receipts: bool,
    /// The network mode setting (`default`, `local`, `relay=URL`); it takes effect at the next
    /// start.
    pub network: String,
    /// Whether this device announces itself and looks for contacts on the local network (mDNS);
    /// it takes effect at the next start.
    pub lan_discovery: bool,
    /// How long a panel of mine must stay in front of a contact to count as "definitely viewed",
    /// in seconds.
    pub view_threshold: u32,
    /// The video watcher.
    pub watcher: WatcherPreferences,
    /// Whether link entries keep a preview of their page (`snapshots.enabled`).
    pub snapshots: bool,
    /// Whether previews may come from private and local addresses (`snapshots.allow_private`).
    pub snapshots_private: bool,
    /// Every preference as text, in order, with what it is for: what `backstory settings`
    /// prints, and what `get_setting`/`set_setting` take.
    pub all: Vec<Setting>,
}

/// One preference as text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Setting {
    /// Its key.
    pub key: String,
    /// Its value, as `set_setting` takes it.
    pub value: String,
    /// What it is for and what it accepts.
    pub help: String,
}

/// The video watcher's settings (`watcher.*`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WatcherPreferences {
    /// Whether it runs.
    pub enabled: bool,
    /// Seconds between two looks at the running players.
    pub interval_secs: u64,
    /// The players watched: names or program paths.
    pub players: Vec<String>,
    /// Plays shorter than this many seconds are not suggested, where the player tells.
    pub min_play_secs: u64,
}

/// My panel for a contact, as its trigger icon shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MineSummary {
    /// Entries in my panel for them, hidden ones included.
    pub entries: u32,
    /// Of which they can see now: zero shows the "empty" icon.
    pub visible: u32,
    /// My new or changed entries they have not seen; none for a contact on no device.
    pub unseen_by_them: Option<u32>,
}

/// Their panel for me, as its icon shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TheirsSummary {
    /// Whether their panel has arrived at all.
    pub shared: bool,
    /// Their new or changed entries I have not seen.
    pub unseen: u32,
    /// When the latest of those was written.
    pub updated: Option<Timestamp>,
    /// Why their panel cannot be shown, when it cannot; the rest of the list is unaffected.
    pub problem: Option<PanelProblem>,
}

/// What is wrong with a contact's panel, shown on that contact's row alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PanelProblem {
    /// Written by a newer Backstory: "this panel needs a newer Backstory".
    TooNew,
    /// Not the shape of a panel: "this panel could not be read".
    Unreadable,
    /// Grown past my limit for a contact's panel (`sync.panel_limit`): syncing it is paused.
    TooLarge,
}

impl PanelProblem {
    /// The problem a failed read of their documents shows, if the failure is theirs (a
    /// document they wrote), not mine.
    pub fn of(e: &crate::error::EngineError) -> Option<Self> {
        match e.code() {
            crate::error::ErrorCode::PanelTooNew => Some(Self::TooNew),
            crate::error::ErrorCode::PanelUnreadable => Some(Self::Unreadable),
            _ => None,
        }
    }
}

/// One contact as the main window and `backstory contacts` list it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ContactCard {
    /// The contact's id on this device.
    pub id: ContactId,
    /// Their name.
    pub name: String,
    /// Whether we paired devices (a local contact only exchanges panel files).
    pub paired: bool,
    /// Whether their device is reachable now.
    pub state: PeerState,
    /// The safety words of our pairing (empty when not paired).
    pub words: String,
    /// My panel for them.
    pub mine: MineSummary,
    /// Their panel for me.
    pub theirs: TheirsSummary,
    /// Whether they may learn what I look at of their panel (off for them alone; the global
    /// setting can turn it off for everyone).
    pub receipts: bool,
    /// The chat with them.
    pub chat: crate::feedback::ChatSummary,
}

/// One entry of my panel, with its rule.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MyEntry {
    /// The entry as the contact would see it.
    pub entry: Entry,
    /// Who may see it, and when.
    pub visibility: Visibility,
    /// Whether the contact can see it now.
    pub visible_now: bool,
    /// For the author alone: what was left out, and why (a link whose page gave no preview).
    pub note: Option<String>,
}

/// My panel for one contact, as the editor and `backstory panel` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MyPanel {
    /// The contact.
    pub contact: Contact,
    /// Categories in display order.
    pub categories: Vec<Category>,
    /// Every entry, hidden ones included, in creation order.
    pub entries: Vec<MyEntry>,
    /// How many entries they see now.
    pub visible: u32,
    /// When what they see next changes by itself, if a rule says so.
    pub next_change: Option<Timestamp>,
}

/// What a contact sees of my panel now, read from the published document itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Preview {
    /// The contact.
    pub contact: Contact,
    /// Their view of it.
    pub panel: PanelView,
}

/// A new entry as the front ends describe it. An entry holds a link or a file, not both; a file
/// becomes a picture, sound, video or file entry by its type.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct NewEntry {
    /// The category; the panel's first when absent.
    #[serde(default)]
    pub category: Option<CategoryId>,
    /// Body of a text entry, caption of the others.
    #[serde(default)]
    pub text: String,
    /// A web link (http or https), making this a link entry.
    #[serde(default)]
    pub link: Option<String>,
    /// A file to attach (absolute path); it is copied into the data directory.
    #[serde(default)]
    pub file: Option<PathBuf>,
    /// Who may see it, and when.
    pub visibility: Visibility,
}

impl NewEntry {
    /// A visible text entry in the panel's first category.
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            category: None,
            text: text.into(),
            link: None,
            file: None,
            visibility: Visibility::Visible,
        }
    }

    /// The same entry with another rule.
    pub fn with_visibility(self, visibility: Visibility) -> Self {
        Self { visibility, ..self }
    }
}

/// Changes to an entry; absent fields stay as they are.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EntryEdit {
    /// New text (body or caption).
    #[serde(default)]
    pub text: Option<String>,
    /// New category.
    #[serde(default)]
    pub category: Option<CategoryId>,
    /// New visibility rule.
    #[serde(default)]
    pub visibility: Option<Visibility>,
}

/// A contact's panel for me, with what changed since I last looked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TheirPanel {
    /// The contact.
    pub contact: Contact,
    /// Whether they have shared a panel with me at all.
    pub shared: bool,
    /// The panel, annotated.
    // The view the engine keeps, shared rather than copied; it serializes as the view itself.
    pub changes: Arc<PanelChanges>,
}

/// What an import brought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ImportSummary {
    /// The contact.
    pub contact: Contact,
    /// Updates I have not seen yet.
    pub unseen: u32,
}

/// A media file fetched from a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Fetched {
    /// The entry.
    pub entry: backstory_crdt::EntryId,
    /// The verified BLAKE3 hash.
    pub hash: String,
    /// Its size.
    pub size: u64,
    /// Its media type.
    pub mime: String,
    /// Where it was saved: the path asked for, or the copy the windows may show.
    pub path: PathBuf,
}

/// A fresh invitation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Invite {
    /// The ticket as text.
    pub ticket: String,
    /// The ticket as a `backstory://pair/…` link.
    pub link: String,
    /// The QR code for a terminal.
    pub qr: String,
    /// The QR code as SVG.
    pub svg: String,
    /// When it expires.
    pub expires: Timestamp,
    /// Whether a join waits for my approval.
    pub approval: bool,
}

/// A completed pairing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Paired {
    /// The new contact.
    pub contact: Contact,
    /// The safety words both sides see.
    pub words: String,
}

/// One document as stored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InspectedDoc {
    /// The document id.
    pub id: String,
    /// What it is to me.
    pub role: String,
    /// Its heads.
    pub heads: Vec<String>,
    /// Every change: actor, sequence, time, message, dependencies and every operation.
    pub changes: Vec<serde_json::Value>,
    /// What the document holds now, as JSON (text fields as strings).
    pub content: serde_json::Value,
}

/// Whether the video watcher runs, and why not when it does not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WatcherState {
    /// Whether this platform has a watcher at all.
    pub available: bool,
    /// Whether it runs now.
    pub running: bool,
    /// Why it does not run, in words.
    pub message: Option<String>,
}

/// The inbox as its window and `backstory inbox` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct InboxView {
    /// Suggestions waiting for approval, newest first.
    pub suggestions: Vec<crate::draft::Draft>,
    /// Players always allowed.
    pub rules: Vec<AllowRule>,
    /// The watcher.
    pub watcher: WatcherState,
    /// Who an approval goes to unless the author chooses: the contacts of the last approval,
    /// else the only contact there is.
    pub default_to: Vec<ContactId>,
}

/// What a screenshot captures.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "target", rename_all = "snake_case")]
pub enum ScreenTarget {
    /// The primary monitor.
    Primary,
    /// A monitor, by its index in [`ScreenSources::monitors`].
    Monitor {
        /// Its index.
        index: u32,
    },
    /// A window, by its id in [`ScreenSources::windows`].
    Window {
        /// Its id.
        id: u32,
    },
    /// The topmost window whose title contains this text.
    WindowTitled {
        /// Part of its title.
        title: String,
    },
}

/// A monitor that can be captured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MonitorSource {
    /// Its index, for [`ScreenTarget::Monitor`].
    pub index: u32,
    /// The output's name.
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Whether it is the primary one.
    pub primary: bool,
}

/// A window that can be captured.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct WindowSource {
    /// Its id, for [`ScreenTarget::Window`].
    pub id: u32,
    /// Its title.
    pub title: String,
    /// The application's name.
    pub app: String,
}

/// What can be captured now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ScreenSources {
    /// The monitors.
    pub monitors: Vec<MonitorSource>,
    /// The windows, topmost first.
    pub windows: Vec<WindowSource>,
    /// Why there are no windows to choose, when they cannot be listed.
    pub windows_note: Option<String>,
}

/// A part of a picture, in its pixels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CropRect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// A screenshot kept as a draft, with the local copy a window may show as its preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Shot {
    /// The draft holding it; `commit_draft` posts it.
    pub draft: crate::draft::Draft,
    /// The picture, for the preview.
    pub path: PathBuf,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// A new entry, once durable: its id, and a note for the author when something was left out
/// (a link whose page gave no preview, and why).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Posted {
    /// The entry.
    pub entry: backstory_crdt::EntryId,
    /// What the author should know.
    pub note: Option<String>,
}
