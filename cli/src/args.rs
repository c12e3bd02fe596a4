//! The command line, as clap reads it, and its translation into engine requests.

use std::path::PathBuf;

use backstory_core::view::CropRect;
use clap::{Args, Parser, Subcommand};

/// Backstory: a background panel for each of your contacts.
#[derive(Parser, Debug)]
#[command(name = "backstory", version, about)]
pub struct Cli {
    /// Data directory (default: $BACKSTORY_DATA_DIR, else the platform's data folder).
    #[arg(long, global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Print JSON for scripts.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub cmd: Cmd,
}

#[derive(Subcommand, Debug)]
pub enum Cmd {
    /// Run the engine in the foreground until stopped.
    Node,
    /// Show my id and name.
    Id,
    /// Set my display name.
    Name {
        /// The name contacts will see.
        name: String,
    },
    /// List contacts, or add one.
    Contacts {
        #[command(subcommand)]
        action: Option<ContactsCmd>,
    },
    /// Add an entry to my panel for a contact; prints its id once it is durable.
    Post(PostArgs),
    /// Edit an entry of one of my panels.
    Edit(EditArgs),
    /// Remove an entry from one of my panels.
    #[command(visible_alias = "rm")]
    Remove {
        /// The entry id.
        entry: String,
    },
    /// Show my panel for a contact, with each entry's visibility rule.
    Panel {
        /// Contact name or id.
        contact: String,
        /// Show only what they can see right now.
        #[arg(long)]
        as_viewer: bool,
    },
    /// Show the panel a contact keeps for me, and mark it seen.
    Show {
        /// Contact name or id.
        contact: String,
        /// Show only what changed since I last looked.
        #[arg(long)]
        since_last: bool,
        /// Do not mark the panel seen.
        #[arg(long)]
        keep_unseen: bool,
    },
    /// List, add, rename, move or remove the categories of my panel for a contact.
    Categories {
        /// Contact name or id.
        contact: String,
        #[command(subcommand)]
        action: Option<CategoriesCmd>,
    },
    /// Write my panel for a contact (only what they may see) to a file.
    Export {
        /// Contact name or id.
        #[arg(long)]
        to: String,
        /// The file to write.
        file: PathBuf,
    },
    /// Import a panel file a contact gave me.
    Import {
        /// Contact name or id.
        #[arg(long)]
        from: String,
        /// The file to read.
        file: PathBuf,
    },
    /// Make a one-use pairing ticket (text, link and QR code).
    Invite {
        /// How long the ticket stays valid (e.g. 24h, 30m, 2d).
        #[arg(long, default_value = "24h")]
        ttl: String,
        /// A join waits until I approve it (`backstory pending`, `approve`, `deny`).
        #[arg(long)]
        require_approval: bool,
    },
    /// Pair with the person who gave me this ticket (text or backstory:// link).
    Join {
        /// The ticket.
        ticket: String,
    },
    /// Joins waiting for my approval.
    Pending,
    /// Approve a waiting join.
    Approve {
        /// The pending join's id.
        id: u64,
    },
    /// Deny a waiting join.
    Deny {
        /// The pending join's id.
        id: u64,
    },
    /// Fetch the picture, sound, video or file of a contact's entry from their device.
    Fetch {
        /// Contact name or id.
        contact: String,
        /// The entry id.
        entry: String,
        /// Save it here.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Print every document this device holds with its whole change history decoded.
    Inspect,
    /// List the preferences, or get or set one.
    Settings {
        #[command(subcommand)]
        action: Option<SettingsCmd>,
    },
    /// List drafts and suggestions, or post or discard one.
    Drafts {
        #[command(subcommand)]
        action: Option<DraftsCmd>,
    },
    /// Take a link entry's preview again from its page, or remove it.
    Snapshot {
        #[command(subcommand)]
        action: SnapshotCmd,
    },
    /// Capture the screen (a monitor or a window) into a picture entry.
    Screenshot(ScreenshotArgs),
    /// The video watcher's suggestions: list them, approve or reject one, or always allow a player.
    Inbox {
        #[command(subcommand)]
        action: Option<InboxCmd>,
    },
    /// Show the engine's clock, or move a test clock forward.
    Clock {
        #[command(subcommand)]
        action: Option<ClockCmd>,
    },
    /// Print the engine's events as JSON lines until it stops.
    Events,
    /// Comment on a contact's panel: one entry of it, or the whole (`panel`); prints the
    /// comment's id. Comments are sent even with read receipts off.
    Comment {
        /// Contact name or id.
        contact: String,
        /// The entry id, or `panel` for the panel as a whole.
        #[arg(required_unless_present = "remove")]
        entry: Option<String>,
        /// The text (may be empty with --audio).
        #[arg(required_unless_present = "remove")]
        text: Option<String>,
        /// A voice comment: a sound file, fetched by them alone.
        #[arg(long, value_name = "FILE", conflicts_with = "remove")]
        audio: Option<PathBuf>,
        /// Remove one of my comments on their panel instead.
        #[arg(long, value_name = "ID", visible_alias = "delete")]
        remove: Option<String>,
    },
    /// The comments a contact made on my panel for them (`--json` adds mine on theirs).
    Comments {
        /// Contact name or id.
        contact: String,
        /// Fetch the recording of a voice comment.
        #[arg(long, value_name = "ID")]
        fetch: Option<String>,
        /// Save the recording here.
        #[arg(long, requires = "fetch")]
        out: Option<PathBuf>,
    },
    /// Who looked at my panel for a contact, when and for how long; what each entry drew, and
    /// the entries ranked by views.
    Views {
        /// Contact name or id.
        contact: String,
    },
    /// The chat with a contact (marking it read); with TEXT, send it.
    Chat {
        /// Contact name or id.
        contact: String,
        /// A message to send.
        text: Option<String>,
    },
    /// Whether a contact learns what I look at of their panel: on or off (shown without a value).
    Receipts {
        /// Contact name or id.
        contact: String,
        /// on or off.
        #[arg(value_parser = ["on", "off"])]
        state: Option<String>,
    },
    /// Look at a contact's panel for a while, as the viewer window does: a viewing session with
    /// the given entries in view, timed on the engine's clock.
    View {
        /// Contact name or id.
        contact: String,
        /// How long (e.g. 12s, 2m); on an engine's test clock, until `clock advance` moves it.
        #[arg(long = "for", value_name = "DURATION")]
        duration: String,
        /// Entry ids that were in view, separated by commas.
        #[arg(long, value_delimiter = ',', value_name = "ID,…")]
        entries: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ContactsCmd {
    /// Add a local contact by name (pairing by ticket adds contacts too).
    Add {
        /// Their name.
        name: String,
    },
    /// Show one contact.
    Show {
        /// Contact name or id.
        contact: String,
    },
    /// Unpair: they lose access at once, and my panel for them is deleted.
    #[command(visible_alias = "rm")]
    Remove {
        /// Contact name or id.
        contact: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum CategoriesCmd {
    /// Add a category at the end.
    Add {
        /// Its name.
        name: String,
    },
    /// Rename a category.
    Rename {
        /// Category id.
        category: String,
        /// New name.
        name: String,
    },
    /// Move a category to a position (0 is first).
    Move {
        /// Category id.
        category: String,
        /// New position.
        position: usize,
    },
    /// Remove a category; its entries move to the first remaining one.
    #[command(visible_alias = "rm")]
    Remove {
        /// Category id.
        category: String,
    },
}

/// When the viewer may see an entry.
#[derive(Args, Debug, Default, Clone)]
#[group(multiple = false)]
pub struct RuleArgs {
    /// Visible to them (the default for new entries).
    #[arg(long)]
    visible: bool,
    /// Never shown to them; never leaves this device.
    #[arg(long)]
    hidden: bool,
    /// Hidden until TIME (e.g. 3d, 2026-12-01, 2026-12-01T18:00).
    #[arg(long, value_name = "TIME")]
    reveal_after: Option<String>,
    /// Visible until TIME, then removed from their panel.
    #[arg(long, value_name = "TIME")]
    visible_until: Option<String>,
}

/// A visibility rule as typed: times are read by the engine, on its clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// Visible.
    Visible,
    /// Hidden.
    Hidden,
    /// Hidden until the time given.
    RevealAfter(String),
    /// Visible until the time given.
    VisibleUntil(String),
}

impl RuleArgs {
    pub fn rule(&self) -> Option<Rule> {
        if self.visible {
            Some(Rule::Visible)
        } else if self.hidden {
            Some(Rule::Hidden)
        } else if let Some(t) = &self.reveal_after {
            Some(Rule::RevealAfter(t.clone()))
        } else {
            self.visible_until.clone().map(Rule::VisibleUntil)
        }
    }
}

#[derive(Args, Debug, Clone)]
pub struct PostArgs {
    /// Contact name or id.
    #[arg(long)]
    pub to: String,
    /// Category id (see `backstory categories CONTACT`); the first category by default.
    #[arg(long)]
    pub category: Option<String>,
    /// The text (for a link or a file: its caption).
    #[arg(long, required_unless_present_any = ["link", "file"])]
    pub text: Option<String>,
    /// A web link.
    #[arg(long, conflicts_with = "file")]
    pub link: Option<String>,
    /// A file: pictures, sound and video become entries of those kinds.
    #[arg(long)]
    pub file: Option<PathBuf>,
    #[command(flatten)]
    pub rule: RuleArgs,
    /// Keep it as a draft instead of posting it (`backstory drafts post ID` posts it later).
    #[arg(long)]
    pub draft: bool,
}

#[derive(Args, Debug, Clone)]
pub struct EditArgs {
    /// The entry id.
    pub entry: String,
    /// New text (body or caption).
    #[arg(long)]
    pub text: Option<String>,
    /// Move to this category.
    #[arg(long)]
    pub category: Option<String>,
    #[command(flatten)]
    pub rule: RuleArgs,
}

#[derive(Subcommand, Debug)]
pub enum SettingsCmd {
    /// Print one preference's value.
    Get {
        /// The key (`backstory settings` lists them).
        key: String,
    },
    /// Change one preference; a bad value is refused and changes nothing.
    Set {
        /// The key.
        key: String,
        /// The value.
        value: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum DraftsCmd {
    /// Post a draft or suggestion, to the contact it was made for or to those given.
    Post {
        /// The draft id.
        draft: String,
        /// Contact names or ids (repeat for several).
        #[arg(long)]
        to: Vec<String>,
        /// Replace its text.
        #[arg(long)]
        text: Option<String>,
        /// File it under this category.
        #[arg(long)]
        category: Option<String>,
        #[command(flatten)]
        rule: RuleArgs,
    },
    /// Discard a draft.
    #[command(visible_alias = "rm")]
    Remove {
        /// The draft id.
        draft: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum SnapshotCmd {
    /// Fetch the page again and keep a new preview.
    Refresh {
        /// The link entry's id.
        entry: String,
    },
    /// Remove the preview: the entry stays a plain link.
    #[command(visible_alias = "rm")]
    Remove {
        /// The link entry's id.
        entry: String,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ScreenshotArgs {
    /// Contact name or id.
    #[arg(long, required_unless_present = "list")]
    pub to: Option<String>,
    /// Capture this monitor (its number in `--list`); the primary one by default.
    #[arg(long, conflicts_with = "window")]
    pub monitor: Option<u32>,
    /// Capture the topmost window whose title contains this text.
    #[arg(long)]
    pub window: Option<String>,
    /// Its caption.
    #[arg(long, default_value = "")]
    pub text: String,
    /// List the monitors and windows instead.
    #[arg(long, conflicts_with_all = ["monitor", "window", "to", "draft"])]
    pub list: bool,
    /// Keep only this part of the picture: `X,Y,WIDTH,HEIGHT` in its pixels.
    #[arg(long, value_parser = crop_rect, value_name = "X,Y,W,H")]
    pub crop: Option<CropRect>,
    /// Keep it as a draft instead of posting it.
    #[arg(long)]
    pub draft: bool,
    #[command(flatten)]
    pub rule: RuleArgs,
}

/// Reads `X,Y,WIDTH,HEIGHT`.
fn crop_rect(v: &str) -> Result<CropRect, String> {
    let n: Vec<u32> = v
        .split(',')
        .map(|p| p.trim().parse::<u32>())
        .collect::<Result<_, _>>()
        .map_err(|_| "use four whole numbers: X,Y,WIDTH,HEIGHT".to_string())?;
    match n[..] {
        [x, y, width, height] if width > 0 && height > 0 => Ok(CropRect {
            x,
            y,
            width,
            height,
        }),
        [_, _, _, _] => Err("the width and the height must be above 0".into()),
        _ => Err("use four numbers: X,Y,WIDTH,HEIGHT".into()),
    }
}

#[derive(Subcommand, Debug)]
pub enum InboxCmd {
    /// Approve a suggestion: publish it, with any last changes.
    Approve {
        /// The suggestion's id (`backstory inbox` lists them).
        id: String,
        /// Contact names or ids; by default those of the last approval (or the only contact).
        #[arg(long, num_args = 1..)]
        to: Vec<String>,
        /// File it under this category (an id; "recently watched" by default).
        #[arg(long)]
        category: Option<String>,
        /// Replace its text.
        #[arg(long)]
        text: Option<String>,
        #[command(flatten)]
        rule: RuleArgs,
    },
    /// Reject a suggestion: that video is never suggested again.
    Reject {
        /// The suggestion's id.
        id: String,
    },
    /// Publish a player's videos to these contacts without asking (undo with `disallow`).
    AlwaysAllow {
        /// The player, as the inbox names it (mpv, vlc, …).
        player: String,
        /// Contact names or ids.
        #[arg(long, num_args = 1.., required = true)]
        to: Vec<String>,
    },
    /// Stop always allowing a player: its videos are suggested again.
    Disallow {
        /// The player.
        player: String,
    },
}

#[derive(Subcommand, Debug)]
pub enum ClockCmd {
    /// Move an engine started on a test clock (BACKSTORY_TEST_CLOCK) forward.
    Advance {
        /// By how long (e.g. 3d, 90m).
        by: String,
    },
}
