//! Contacts: adding them, listing them, finding them by name or id.

use backstory_crdt::{MasterPanel, new_outbox, publish};
use serde::{Deserialize, Serialize};

use super::{Engine, now};
use crate::contact::{Contact, ContactId};
use crate::error::EngineError;
use crate::event::Event;

/// A contact with what the main window shows about it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactSummary {
    /// The contact.
    #[serde(flatten)]
    pub contact: Contact,
    /// Entries in my panel for them.
    pub entries: usize,
    /// Of which they can see now.
    pub visible: usize,
    /// Whether their device is reachable now.
    pub state: crate::net::PeerState,
    /// The safety words of our pairing (empty for a local contact).
    pub words: String,
}

impl Engine {
    /// Adds a contact by name, with an empty panel and an outbox document for them.
    pub async fn add_contact(&self, name: &str) -> Result<Contact, EngineError> {
        self.check_health()?;
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 64 {
            return Err(EngineError::InvalidInput(
                "a contact name must have 1 to 64 characters".into(),
            ));
        }
        let now = now();
        let doc = new_outbox(&self.id(), now)?;
        let handle = self.create_doc(doc).await?;
        let contact = Contact {
            id: ContactId::new(format!("c{}", hex::encode(rand::random::<[u8; 6]>()))),
            name,
            created: now,
            outbox: handle.document_id().to_string(),
            inbound: None,
            peer: None,
        };
        let gate = self.inner.writes.lock().await;
        let c = contact.clone();
        self.blocking(move |s| s.insert_contact(&c, &MasterPanel::default()))
            .await?;
        self.publish_contact(&gate, &contact).await?;
        drop(gate);
        self.emit(Event::ContactAdded {
            contact: contact.id.clone(),
        });
        Ok(contact)
    }

    /// Every contact with the counts the main window shows.
    pub async fn contacts(&self) -> Result<Vec<ContactSummary>, EngineError> {
        let t = now();
        let mut out = Vec::new();
        for contact in self.blocking(|s| s.contacts()).await? {
            let id = contact.id.clone();
            let master = self.blocking(move |s| s.master(&id)).await?;
            out.push(ContactSummary {
                entries: master.entries.len(),
                visible: publish(&master, t).entries.len(),
                state: self.peer_state(&contact),
                words: contact
                    .peer
                    .as_deref()
                    .map(|p| crate::words::safety_words(&self.id(), p))
                    .unwrap_or_default(),
                contact,
            });
        }
        Ok(out)
    }

    /// Finds a contact by id, or by name (case-insensitive) when the name is unique.
    pub async fn contact(&self, query: &str) -> Result<Contact, EngineError> {
        let all = self.blocking(|s| s.contacts()).await?;
        if let Some(c) = all.iter().find(|c| c.id.as_str() == query) {
            return Ok(c.clone());
        }
        let mut by_name = all
            .into_iter()
            .filter(|c| c.name.eq_ignore_ascii_case(query.trim()));
        match (by_name.next(), by_name.next()) {
            (Some(c), None) => Ok(c),
            (Some(_), Some(_)) => Err(EngineError::AmbiguousContact(query.to_string())),
            _ => Err(EngineError::UnknownContact(query.to_string())),
        }
    }
}
