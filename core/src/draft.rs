//! Drafts: entries prepared but not published. Posting is *prepare* (validate, import attachments,
//! keep the result durably as a draft) then *commit* (write it into one or more panels). A
//! suggestion from a collector is a draft with a source other than [`DraftSource::Manual`]: it waits
//! in the inbox until the author approves it, and nothing of it leaves the device before that.

use backstory_crdt::{CategoryId, Kind, Source, Timestamp, Visibility};
use serde::{Deserialize, Serialize};

use crate::contact::ContactId;

/// Identifies a draft on this device.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(transparent)]
pub struct DraftId(String);

impl DraftId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for DraftId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where a draft came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(tag = "from", rename_all = "snake_case")]
pub enum DraftSource {
    /// Prepared by the author.
    Manual,
    /// Noticed by the video watcher.
    Watcher {
        /// The player program or its identity (`mpv`, `VLC media player`, a flatpak app id).
        player: String,
        /// The URL or file path it played.
        location: String,
        /// How it was noticed: `poll`, `mpris` or `history`.
        via: String,
        /// When it was noticed.
        seen: Timestamp,
    },
    /// Taken with the screenshot component.
    Screenshot,
}

impl DraftSource {
    /// What an entry made from this draft records as its source.
    pub fn entry_source(&self) -> Source {
        match self {
            Self::Manual => Source::Manual,
            Self::Watcher { .. } => Source::Watcher,
            Self::Screenshot => Source::Screenshot,
        }
    }

    /// Whether this is a suggestion waiting for approval rather than the author's own draft.
    pub fn is_suggestion(&self) -> bool {
        !matches!(self, Self::Manual)
    }
}

/// A prepared entry, kept durably until it is posted or discarded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Draft {
    /// Its id.
    pub id: DraftId,
    /// When it was prepared.
    pub created: Timestamp,
    /// The contact it was prepared for, if one.
    pub contact: Option<ContactId>,
    /// The category; the panel's first (or the one the kind suggests) when absent.
    pub category: Option<CategoryId>,
    /// What it holds; attachments are already imported (a media reference by hash).
    #[serde(flatten)]
    pub kind: Kind,
    /// Body or caption.
    pub text: String,
    /// Who may see it, and when, once posted.
    pub visibility: Visibility,
    /// Where it came from.
    pub source: DraftSource,
    /// What the author should know about it (a link whose page gave no preview, and why).
    #[serde(default)]
    pub note: Option<String>,
}

/// What may change when a draft is committed; absent fields keep the draft's own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DraftEdit {
    /// The category.
    #[serde(default)]
    pub category: Option<CategoryId>,
    /// The text.
    #[serde(default)]
    pub text: Option<String>,
    /// The rule.
    #[serde(default)]
    pub visibility: Option<Visibility>,
}
