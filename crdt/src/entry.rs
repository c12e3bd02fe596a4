//! Entries: one item of a panel, of one of eight kinds, with a visibility rule on the author's side.

use autosurgeon::{Hydrate, Reconcile};
use serde::{Deserialize, Serialize};

use crate::ids::{CategoryId, EntryId, Timestamp};

/// A reference to a media blob: the bytes travel separately, verified by their BLAKE3 hash.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, Reconcile, Hydrate)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct MediaRef {
    /// BLAKE3 hash of the content, lowercase hex.
    pub hash: String,
    /// Size in bytes.
    pub size: u64,
    /// MIME type, e.g. `image/png`.
    pub mime: String,
    /// The original file name.
    pub name: String,
}

/// What the author's side captured of a linked page, so the viewer need not open it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LinkSnapshot {
    /// The page title.
    pub title: Option<String>,
    /// The page's description.
    pub description: Option<String>,
    /// The site's name.
    pub site: Option<String>,
    /// A readable text excerpt.
    pub excerpt: Option<String>,
    /// A thumbnail of the page's image.
    pub image: Option<MediaRef>,
    /// The address the page was read from, after redirects.
    #[serde(default)]
    pub final_url: Option<String>,
    /// The page's language tag.
    #[serde(default)]
    pub language: Option<String>,
    /// For a link to something other than a web page: its media type (`application/pdf`).
    #[serde(default)]
    pub content_type: Option<String>,
    /// For a link to something other than a web page: its size in bytes, when the server said.
    #[serde(default)]
    pub size: Option<u64>,
}

/// The kind of an entry and what belongs to that kind alone.
///
/// Every entry also has a `text`: the body of a text entry, the caption of any other kind.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "kind", rename_all = "snake_case")]
// A link's snapshot makes that variant larger than the others; entries are few, kept in a panel's
// list, and a box would be one more indirection in the serde, specta and document mappings.
#[allow(clippy::large_enum_variant)]
pub enum Kind {
    /// Plain text.
    Text,
    /// A web link, with the snapshot taken on the author's side.
    Link {
        /// The address.
        url: String,
        /// What was captured of the page, if anything.
        snapshot: Option<LinkSnapshot>,
    },
    /// A picture.
    Image {
        /// The picture's bytes.
        media: MediaRef,
    },
    /// A sound recording.
    Audio {
        /// The recording's bytes.
        media: MediaRef,
    },
    /// A video file.
    Video {
        /// The video's bytes.
        media: MediaRef,
    },
    /// Any other file.
    File {
        /// The file's bytes.
        media: MediaRef,
    },
    /// A screen capture.
    Screenshot {
        /// The capture's bytes.
        media: MediaRef,
    },
    /// A video the author watched, noticed by the player watcher or entered by hand.
    WatchedVideo {
        /// The player program, e.g. `mpv`.
        player: String,
        /// The URL or file path that was played.
        location: String,
        /// The title, when known.
        title: Option<String>,
    },
}

impl Kind {
    /// The kind's name, as used in documents and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Text => "text",
            Kind::Link { .. } => "link",
            Kind::Image { .. } => "image",
            Kind::Audio { .. } => "audio",
            Kind::Video { .. } => "video",
            Kind::File { .. } => "file",
            Kind::Screenshot { .. } => "screenshot",
            Kind::WatchedVideo { .. } => "watched_video",
        }
    }

    /// The media blob this entry references, if any.
    pub fn media(&self) -> Option<&MediaRef> {
        match self {
            Kind::Image { media }
            | Kind::Audio { media }
            | Kind::Video { media }
            | Kind::File { media }
            | Kind::Screenshot { media } => Some(media),
            Kind::Link { snapshot, .. } => snapshot.as_ref().and_then(|s| s.image.as_ref()),
            Kind::Text | Kind::WatchedVideo { .. } => None,
        }
    }
}

/// Where an entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// Written by the author.
    Manual,
    /// Suggested by the player watcher and approved.
    Watcher,
    /// Taken with the screenshot component.
    Screenshot,
}

/// One entry as the viewer sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Entry {
    /// Stable id.
    pub id: EntryId,
    /// The category it is filed under.
    pub category: CategoryId,
    /// Kind and kind-specific fields.
    #[serde(flatten)]
    pub kind: Kind,
    /// Body (text entries) or caption (every other kind).
    pub text: String,
    /// When it was created.
    pub created: Timestamp,
    /// When it was last edited.
    pub edited: Timestamp,
    /// Where it came from.
    pub source: Source,
}

/// Who may see an entry, and when. Lives only in the author's master panel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "rule", content = "at", rename_all = "snake_case")]
pub enum Visibility {
    /// The viewer sees it.
    Visible,
    /// The viewer never sees it; it never leaves the device.
    Hidden,
    /// Hidden until the instant, visible from then on.
    RevealAfter(Timestamp),
    /// Visible until the instant, removed from the viewer's panel from then on.
    VisibleUntil(Timestamp),
}

impl Visibility {
    /// Whether the viewer may see an entry with this rule at `now`.
    pub fn is_visible_at(self, now: Timestamp) -> bool {
        match self {
            Visibility::Visible => true,
            Visibility::Hidden => false,
            Visibility::RevealAfter(t) => now >= t,
            Visibility::VisibleUntil(t) => now < t,
        }
    }

    /// The next instant after `now` at which this rule changes its answer, if any.
    pub fn next_flip(self, now: Timestamp) -> Option<Timestamp> {
        match self {
            Visibility::RevealAfter(t) | Visibility::VisibleUntil(t) if t > now => Some(t),
            _ => None,
        }
    }
}
