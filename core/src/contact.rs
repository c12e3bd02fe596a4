//! Contacts: the people a panel is kept for.

use backstory_crdt::Timestamp;
use serde::{Deserialize, Serialize};

/// Identifies a contact on this device.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(transparent)]
pub struct ContactId(String);

impl ContactId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ContactId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A contact as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Contact {
    /// Local id.
    pub id: ContactId,
    /// Display name.
    pub name: String,
    /// When the contact was added.
    pub created: Timestamp,
    /// The document id of my outbox for them.
    pub outbox: String,
    /// The document id of their outbox for me, once known.
    pub inbound: Option<String>,
    /// Their endpoint id, once known.
    pub peer: Option<String>,
}

/// Whether a contact's device is reachable now.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum PeerState {
    /// Not connected.
    Offline,
    /// Connected, and every document shared with them is in step.
    Online,
    /// Connected, and changes are still on their way in one direction or the other.
    Syncing,
}
