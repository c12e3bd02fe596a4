//! Pairing by ticket: making invitations, joining with a ticket, answering joins, approvals.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backstory_crdt::{MasterPanel, Timestamp, new_outbox};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

use super::{Engine, now};
use crate::contact::{Contact, ContactId};
use crate::error::{EngineError, PairError};
use crate::event::Event;
use crate::pairing::{Answer, Join, Refusal, recv, send};
use crate::store::InviteRefusal;
use crate::ticket::Ticket;
use crate::words::safety_words;

/// How long a joiner waits for the inviter's approval.
pub const APPROVAL_TIMEOUT: Duration = Duration::from_secs(600);

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

/// A join waiting for my approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct PendingJoin {
    /// Id to approve or deny.
    pub id: u64,
    /// The name they gave.
    pub name: String,
    /// Their endpoint id.
    pub peer: String,
    /// The safety words to compare.
    pub words: String,
    /// Since when it waits.
    pub since: Timestamp,
}

/// Joins waiting for approval, with the channel that answers each.
#[derive(Default)]
pub(super) struct Pending {
    next: AtomicU64,
    waiting: std::sync::Mutex<HashMap<u64, (PendingJoin, oneshot::Sender<bool>)>>,
}

fn secret_hash(secret: &[u8]) -> String {
    blake3::hash(secret).to_hex().to_string()
}

impl Engine {
    /// Makes a one-use invitation valid for `ttl`.
    pub async fn invite(&self, ttl: Duration, approval: bool) -> Result<Invite, EngineError> {
        if ttl.is_zero() || ttl > Duration::from_secs(30 * 86_400) {
            return Err(EngineError::InvalidInput(
                "an invitation lasts from a second to 30 days".into(),
            ));
        }
        let net = self.net()?;
        let secret: [u8; 32] = rand::random();
        let t = now();
        let expires = t.plus_millis(ttl.as_millis() as i64);
        let hash = secret_hash(&secret);
        self.blocking(move |s| s.insert_invite(&hash, t.millis(), expires.millis(), approval))
            .await?;
        let (relay, addrs) = net.ticket_addresses();
        let ticket = Ticket {
            endpoint: *self.inner.key.public().as_bytes(),
            secret,
            expires: expires.millis(),
            relay,
            addrs,
        };
        Ok(Invite {
            ticket: ticket.encode(),
            link: ticket.link(),
            qr: ticket.qr_terminal(),
            svg: ticket.qr_svg(),
            expires,
            approval,
        })
    }

    /// Joins the inviter of a ticket. Nothing is recorded unless both sides agree.
    pub async fn join(&self, text: &str) -> Result<Paired, EngineError> {
        self.check_health()?;
        let ticket = Ticket::decode(text).map_err(PairError::Ticket)?;
        ticket
            .check_expiry(now().millis())
            .map_err(PairError::Ticket)?;
        let inviter = hex::encode(ticket.endpoint);
        if inviter == self.id() {
            return Err(PairError::SelfPairing.into());
        }
        let p = inviter.clone();
        if let Some(c) = self.blocking(move |s| s.contact_by_peer(&p)).await? {
            return Err(PairError::AlreadyPaired(c.name).into());
        }
        let net = self.net()?;
        let (mut send_half, mut recv_half) = net
            .open_pair(ticket.endpoint, ticket.relay.as_deref(), &ticket.addrs)
            .await?;
        let outbox = self.create_doc(new_outbox(&self.id(), now())?).await?;
        let outbox_id = outbox.document_id().to_string();
        let result = self
            .join_exchange(&mut send_half, &mut recv_half, &ticket, &outbox_id)
            .await;
        let _finished = send_half.finish();
        let (name, their_outbox) = match result {
            Ok(v) => v,
            Err(e) => {
                // The document was never shared with anyone: take it back out of the store.
                self.forget_doc(&outbox_id).await;
                return Err(e);
            }
        };
        let contact = Contact {
            id: ContactId::new(format!("c{}", hex::encode(rand::random::<[u8; 6]>()))),
            name,
            created: now(),
            outbox: outbox_id,
            inbound: Some(their_outbox),
            peer: Some(inviter.clone()),
        };
        let (c, p, a) = (contact.clone(), inviter.clone(), ticket.addrs.clone());
        self.blocking(move |s| {
            s.insert_contact(&c, &MasterPanel::default())?;
            s.set_peer_addrs(&p, &a)
        })
        .await?;
        self.contact_paired(&contact).await?;
        Ok(Paired {
            words: safety_words(&self.id(), &inviter),
            contact,
        })
    }

    async fn join_exchange<W: AsyncWrite + Unpin, R: AsyncRead + Unpin>(
        &self,
        w: &mut W,
        r: &mut R,
        ticket: &Ticket,
        outbox: &str,
    ) -> Result<(String, String), EngineError> {
        let lost = |e: std::io::Error| PairError::Lost(e.to_string());
        let name = self.profile().await?.name;
        let join = Join {
            secret: hex::encode(ticket.secret),
            name: if name.is_empty() {
                "Backstory user".into()
            } else {
                name
            },
            outbox: outbox.to_string(),
            addrs: self.local_addrs(),
        };
        send(w, &join).await.map_err(lost)?;
        loop {
            let answer = tokio::time::timeout(APPROVAL_TIMEOUT + Duration::from_secs(5), recv(r))
                .await
                .map_err(|_| PairError::Refused(Refusal::TimedOut))?
                .map_err(lost)?;
            match answer {
                Answer::Pending => {
                    self.emit(Event::PairingPending {
                        peer: hex::encode(ticket.endpoint),
                    });
                }
                Answer::Accepted { name, outbox } => return Ok((name, outbox)),
                Answer::Refused { reason } => return Err(PairError::Refused(reason).into()),
            }
        }
    }

    /// Answers a join on the pairing protocol. `peer` is the authenticated endpoint id.
    pub(crate) async fn answer_join<W: AsyncWrite + Unpin, R: AsyncRead + Unpin>(
        &self,
        peer: String,
        w: &mut W,
        r: &mut R,
    ) -> Result<(), EngineError> {
        let lost = |e: std::io::Error| PairError::Lost(e.to_string());
        let join: Join = recv(r).await.map_err(lost)?;
        let refuse = |reason| Answer::Refused { reason };
        let secret = match hex::decode(&join.secret) {
            Ok(s) if s.len() == 32 => s,
            _ => {
                return send(w, &refuse(Refusal::BadRequest))
                    .await
                    .map_err(lost)
                    .map_err(Into::into);
            }
        };
        let name: String = join.name.trim().chars().take(64).collect();
        if name.is_empty() || join.outbox.parse::<samod::DocumentId>().is_err() {
            return send(w, &refuse(Refusal::BadRequest))
                .await
                .map_err(lost)
                .map_err(Into::into);
        }
        let hash = secret_hash(&secret);
        let (addr_peer, addrs) = (peer.clone(), join.addrs.clone());
        let h = hash.clone();
        let t = now().millis();
        let check = self.blocking(move |s| s.check_invite(&h, t)).await?;
        let p = peer.clone();
        let already = self.blocking(move |s| s.contact_by_peer(&p)).await?;
        let approval = match (check, already) {
            (_, Some(_)) => {
                return send(w, &refuse(Refusal::AlreadyPaired))
                    .await
                    .map_err(lost)
                    .map_err(Into::into);
            }
            (Err(r), None) => {
                return send(w, &refuse(refusal(r)))
                    .await
                    .map_err(lost)
                    .map_err(Into::into);
            }
            (Ok(approval), None) => approval,
        };
        if approval {
            send(w, &Answer::Pending).await.map_err(lost)?;
            if !self.await_approval(&peer, &name).await {
                return send(w, &refuse(Refusal::Denied))
                    .await
                    .map_err(lost)
                    .map_err(Into::into);
            }
        }
        let doc = self.create_doc(new_outbox(&self.id(), now())?).await?;
        let contact = Contact {
            id: ContactId::new(format!("c{}", hex::encode(rand::random::<[u8; 6]>()))),
            name,
            created: now(),
            outbox: doc.document_id().to_string(),
            inbound: Some(join.outbox),
            peer: Some(peer.clone()),
        };
        let c = contact.clone();
        let t = now().millis();
        let redeemed = self
            .blocking(move |s| s.redeem_invite(&hash, t, &c, &MasterPanel::default()))
            .await?;
        if let Err(r) = redeemed {
            self.forget_doc(&contact.outbox).await;
            return send(w, &refuse(refusal(r)))
                .await
                .map_err(lost)
                .map_err(Into::into);
        }
        self.blocking(move |s| s.set_peer_addrs(&addr_peer, &addrs))
            .await?;
        let my_name = self.profile().await?.name;
        let answer = Answer::Accepted {
            name: if my_name.is_empty() {
                "Backstory user".into()
            } else {
                my_name
            },
            outbox: contact.outbox.clone(),
        };
        self.contact_paired(&contact).await?;
        send(w, &answer).await.map_err(lost)?;
        Ok(())
    }

    async fn await_approval(&self, peer: &str, name: &str) -> bool {
        let (tx, rx) = oneshot::channel();
        let id = self.inner.pending.next.fetch_add(1, Ordering::Relaxed) + 1;
        let pending = PendingJoin {
            id,
            name: name.to_string(),
            peer: peer.to_string(),
            words: safety_words(&self.id(), peer),
            since: now(),
        };
        self.inner
            .pending
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, (pending.clone(), tx));
        self.emit(Event::JoinRequested { pending });
        let decision = tokio::time::timeout(APPROVAL_TIMEOUT, rx).await;
        self.inner
            .pending
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        matches!(decision, Ok(Ok(true)))
    }

    /// Joins waiting for my approval.
    pub fn pending(&self) -> Vec<PendingJoin> {
        let mut v: Vec<PendingJoin> = self
            .inner
            .pending
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(|(p, _)| p.clone())
            .collect();
        v.sort_by_key(|p| p.id);
        v
    }

    /// Approves or denies a waiting join.
    pub fn decide_join(&self, id: u64, approve: bool) -> Result<(), EngineError> {
        let entry = self
            .inner
            .pending
            .waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        match entry {
            Some((_, tx)) => {
                // The joiner may have given up meanwhile; then there is nobody to tell.
                let _gone = tx.send(approve);
                Ok(())
            }
            None => Err(EngineError::InvalidInput(format!("no pending join {id}"))),
        }
    }

    /// Removes a contact: they lose access at once, and everything kept for them goes.
    pub async fn remove_contact(&self, query: &str) -> Result<Contact, EngineError> {
        let contact = self.contact(query).await?;
        let gate = self.inner.writes.lock().await;
        let id = contact.id.clone();
        self.blocking(move |s| s.remove_contact(&id)).await?;
        drop(gate);
        self.refresh_access().await?;
        if let Some(peer) = &contact.peer {
            if let Ok(id) = peer.parse() {
                self.inner.grants.revoke(&id);
            }
            if let Ok(net) = self.net() {
                net.disconnect(peer);
            }
        }
        self.emit(Event::ContactRemoved {
            contact: contact.id.clone(),
        });
        Ok(contact)
    }

    async fn forget_doc(&self, id: &str) {
        self.inner
            .handles
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
        let id = id.to_string();
        if let Err(e) = self.blocking(move |s| s.doc_delete_all(&id)).await {
            tracing::warn!("could not remove an unshared document: {e}");
        }
    }

    /// After a contact is recorded: grant access, publish, connect.
    async fn contact_paired(&self, contact: &Contact) -> Result<(), EngineError> {
        self.refresh_access().await?;
        {
            let gate = self.inner.writes.lock().await;
            self.publish_contact(&gate, contact).await?;
        }
        self.connect_contact(contact).await?;
        self.emit(Event::ContactAdded {
            contact: contact.id.clone(),
        });
        Ok(())
    }
}

fn refusal(r: InviteRefusal) -> Refusal {
    match r {
        InviteRefusal::Unknown => Refusal::UnknownTicket,
        InviteRefusal::Expired => Refusal::Expired,
        InviteRefusal::Used => Refusal::Used,
    }
}
