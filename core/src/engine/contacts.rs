//! Contacts: finding them by id or name, adding local ones, and the contact card — the one view of
//! a contact that the main window, the tray and `backstory contacts` all render.

use backstory_crdt::{new_outbox, publish};

use super::device::Device;
use super::documents::Documents;
use super::feedback::Feedback;
use super::network::Network;
use super::panels::Panels;
use super::received::{Received, count};
use crate::contact::{Contact, ContactId};
use crate::error::EngineError;
use crate::event::Event;
use crate::view::{ContactCard, MineSummary, PanelProblem, TheirsSummary};

/// The contacts part; cheap to clone.
#[derive(Clone)]
pub(crate) struct Contacts {
    device: Device,
    docs: Documents,
    panels: Panels,
    received: Received,
    network: Network,
    feedback: Feedback,
}

impl Contacts {
    pub(crate) fn new(
        device: Device,
        docs: Documents,
        panels: Panels,
        received: Received,
        network: Network,
        feedback: Feedback,
    ) -> Self {
        Self {
            device,
            docs,
            panels,
            received,
            network,
            feedback,
        }
    }

    /// Every contact, oldest first.
    pub(crate) async fn all(&self) -> Result<Vec<Contact>, EngineError> {
        self.device.blocking(|s| s.contacts()).await
    }

    /// Finds a contact by id, or by name (case-insensitive) when the name is unique.
    pub(crate) async fn find(&self, query: &str) -> Result<Contact, EngineError> {
        let q = query.to_string();
        let (by_id, all) = self
            .device
            .blocking(move |s| match s.contact(&ContactId::new(q))? {
                Some(c) => Ok((Some(c), Vec::new())),
                None => s.contacts().map(|all| (None, all)),
            })
            .await?;
        if let Some(c) = by_id {
            return Ok(c);
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

    /// Adds a contact by name, with an empty panel and an outbox document for them.
    pub(crate) async fn add(&self, name: &str) -> Result<Contact, EngineError> {
        self.docs.check_health()?;
        let name = crate::pairing::session::clean_name(name)
            .filter(|n| n.chars().count() == name.trim().chars().count())
            .ok_or_else(|| {
                EngineError::InvalidInput(
                    "a contact name must have 1 to 64 characters, none of them control characters"
                        .into(),
                )
            })?;
        let now = self.device.now();
        let handle = self
            .docs
            .create(new_outbox(&self.device.id(), now)?)
            .await?;
        let contact = Contact {
            id: ContactId::new(self.device.new_id("c", 6)),
            name,
            created: now,
            outbox: handle.document_id().to_string(),
            inbound: None,
            peer: None,
        };
        self.panels.insert_contact(&contact).await?;
        self.device.emit(Event::ContactAdded {
            contact: contact.id.clone(),
        });
        Ok(contact)
    }

    /// The card of one contact: their state, the safety words, and both panel icons' state.
    pub(crate) async fn card(&self, contact: &Contact) -> Result<ContactCard, EngineError> {
        let master = self.panels.master(contact).await?;
        let visible = publish(&master, self.device.now()).entries.len();
        // What they wrote may be anything: a panel that cannot be read marks this row alone.
        let mut problem = None;
        let (shared, unseen, updated) = tolerate(
            self.received.unseen(contact).await,
            &mut problem,
            (true, 0, None),
        )?;
        let unseen_by_them = match contact.peer {
            Some(_) => Some(count(tolerate(
                self.received.unseen_by_them(contact).await,
                &mut problem,
                0,
            )?)),
            None => None,
        };
        let chat = tolerate(
            self.feedback.summary(contact).await,
            &mut problem,
            Default::default(),
        )?;
        if problem.is_none()
            && contact
                .inbound
                .as_deref()
                .is_some_and(|d| self.network.is_paused(d))
        {
            problem = Some(PanelProblem::TooLarge);
        }
        Ok(ContactCard {
            id: contact.id.clone(),
            name: contact.name.clone(),
            paired: contact.peer.is_some(),
            state: self.network.state(contact),
            words: contact
                .peer
                .as_deref()
                .map(|p| crate::words::safety_words(&self.device.id(), p))
                .unwrap_or_default(),
            mine: MineSummary {
                entries: count(master.entries.len()),
                visible: count(visible),
                unseen_by_them,
            },
            theirs: TheirsSummary {
                shared,
                unseen,
                updated,
                problem,
            },
            receipts: self.feedback.receipts_for(contact).await?,
            chat,
        })
    }

    /// Every contact's card.
    pub(crate) async fn cards(&self) -> Result<Vec<ContactCard>, EngineError> {
        let mut out = Vec::new();
        for contact in self.all().await? {
            out.push(self.card(&contact).await?);
        }
        Ok(out)
    }
}

/// A read of a contact's documents: its value, or, when what they wrote cannot be read, `instead`
/// and the problem noted for their row. Failures of my own side still fail.
fn tolerate<T>(
    read: Result<T, EngineError>,
    problem: &mut Option<PanelProblem>,
    instead: T,
) -> Result<T, EngineError> {
    match read {
        Ok(v) => Ok(v),
        Err(e) => match PanelProblem::of(&e) {
            Some(p) => {
                tracing::warn!("a contact's panel cannot be read: {e}");
                problem.get_or_insert(p);
                Ok(instead)
            }
            None => Err(e),
        },
    }
}
