//! What the main window shows per contact: my panel's trigger icon (empty or with content, and how
//! many of my updates they have not seen yet) and theirs (updated since I last looked, and when).
//! Also the read receipts that make "not seen by them" knowable.

use backstory_crdt::changes::heads_from_strings;
use backstory_crdt::feedback::{Receipt, read_feedback, set_receipt};
use backstory_crdt::{EntryState, Timestamp, changes_since, publish};
use serde::{Deserialize, Serialize};

use super::{Engine, now};
use crate::contact::{Contact, ContactId};
use crate::error::EngineError;
use crate::net::PeerState;

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
}

/// One contact as the main window lists it.
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
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Engine {
    /// Every contact with both panel icons' state.
    pub async fn contact_cards(&self) -> Result<Vec<ContactCard>, EngineError> {
        let mut out = Vec::new();
        for contact in self.blocking(|s| s.contacts()).await? {
            out.push(self.contact_card(&contact).await?);
        }
        Ok(out)
    }

    async fn contact_card(&self, contact: &Contact) -> Result<ContactCard, EngineError> {
        let id = contact.id.clone();
        let master = self.blocking(move |s| s.master(&id)).await?;
        let visible = publish(&master, now()).entries.len();
        let theirs = self.their_panel(contact.id.as_str()).await?;
        let updated = theirs
            .changes
            .entries
            .iter()
            .filter(|e| e.state != EntryState::Seen)
            .flat_map(|e| e.spans.iter().map(|s| s.time).chain([e.entry.edited]))
            .max();
        let unseen_by_them = match contact.peer {
            Some(_) => Some(count(self.unseen_by_them(contact).await?)),
            None => None,
        };
        Ok(ContactCard {
            id: contact.id.clone(),
            name: contact.name.clone(),
            paired: contact.peer.is_some(),
            state: self.peer_state(contact),
            words: contact
                .peer
                .as_deref()
                .map(|p| crate::words::safety_words(&self.id(), p))
                .unwrap_or_default(),
            mine: MineSummary {
                entries: count(master.entries.len()),
                visible: count(visible),
                unseen_by_them,
            },
            theirs: TheirsSummary {
                shared: theirs.shared,
                unseen: count(theirs.changes.unseen()),
                updated,
            },
        })
    }

    /// How many entries of my panel for them are new or changed since their latest receipt (all
    /// of them when they never sent one).
    async fn unseen_by_them(&self, contact: &Contact) -> Result<usize, EngineError> {
        let mut heads = Vec::new();
        if let Some(inbound) = contact.inbound.as_deref()
            && let Some(handle) = self.find_doc(inbound).await?
        {
            let feedback = handle.with_document_async(|d| read_feedback(d)).await??;
            if let Some(latest) = feedback.receipts.last() {
                heads = latest.heads.clone();
            }
        }
        let mine = self.doc(&contact.outbox).await?;
        let changes = mine
            .with_document_async(move |d| changes_since(d, &heads_from_strings(&heads)))
            .await??;
        Ok(changes.unseen())
    }

    /// Tells a paired contact how far I have read their panel, unless receipts are off.
    pub(super) async fn send_receipt(
        &self,
        contact: &Contact,
        heads: Vec<String>,
    ) -> Result<(), EngineError> {
        if contact.peer.is_none() || !self.preferences().await?.receipts {
            return Ok(());
        }
        let handle = self.doc(&contact.outbox).await?;
        let sent = handle.with_document_async(|d| read_feedback(d)).await??;
        if sent.receipts.last().is_some_and(|r| r.heads == heads) {
            // They already know; another change would only grow the document.
            return Ok(());
        }
        let at = now();
        let receipt = Receipt {
            heads,
            opened: at.millis(),
            open_for: 0,
        };
        handle
            .with_document_async(move |d| set_receipt(d, receipt, at))
            .await??;
        Ok(())
    }
}
