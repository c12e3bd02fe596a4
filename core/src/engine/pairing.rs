//! The pairing part: making invitations, and driving the two pairing state machines
//! ([`crate::pairing::session`]) with real IO — the pairing stream, the store, the documents and
//! the person who approves.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use backstory_crdt::new_outbox;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::oneshot;

use super::device::Device;
use super::documents::Documents;
use super::network::Network;
use super::panels::Panels;
use super::received::Received;
use super::settings::Settings;
use crate::contact::{Contact, ContactId};
use crate::error::{EngineError, PairError};
use crate::event::Event;
use crate::pairing::session::{
    Inviter, InviterEffect, InviterInput, Joiner, JoinerEffect, JoinerInput, secret_hash,
};
use crate::pairing::{Answer, Join, PendingJoin, recv, send};
use crate::ticket::Ticket;
use crate::view::{Invite, Paired};
use crate::words::safety_words;

/// How long a joiner waits for the inviter's approval.
pub const APPROVAL_TIMEOUT: Duration = Duration::from_secs(600);

/// The pairing part.
pub(crate) struct Pairing {
    device: Device,
    docs: Documents,
    panels: Panels,
    network: Network,
    settings: Settings,
    received: Received,
    next: AtomicU64,
    waiting: Mutex<HashMap<u64, (PendingJoin, oneshot::Sender<bool>)>>,
}

impl Pairing {
    pub(crate) fn new(
        device: Device,
        docs: Documents,
        panels: Panels,
        network: Network,
        settings: Settings,
        received: Received,
    ) -> Self {
        Self {
            device,
            docs,
            panels,
            network,
            settings,
            received,
            next: AtomicU64::new(0),
            waiting: Mutex::default(),
        }
    }

    /// Makes a one-use invitation valid for `ttl` (1 s to 30 days).
    pub(crate) async fn invite(
        &self,
        ttl: Duration,
        approval: bool,
    ) -> Result<Invite, EngineError> {
        if ttl.is_zero() || ttl > Duration::from_secs(30 * 86_400) {
            return Err(EngineError::InvalidInput(
                "an invitation lasts from a second to 30 days".into(),
            ));
        }
        let net = self.network.net()?;
        let secret: [u8; 32] = self.device.random();
        let t = self.device.now();
        let expires = t.plus_millis(i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX));
        let hash = secret_hash(&secret);
        self.device
            .blocking(move |s| s.insert_invite(&hash, t.millis(), expires.millis(), approval))
            .await?;
        let (relay, addrs) = net.ticket_addresses();
        let ticket = Ticket {
            endpoint: *self.device.key().public().as_bytes(),
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
    pub(crate) async fn join(&self, text: &str) -> Result<Paired, EngineError> {
        self.docs.check_health()?;
        let name = self.settings.name().await?;
        let (mut joiner, first) = Joiner::start(
            text,
            self.device.now().millis(),
            &self.device.id(),
            &name,
            self.network.local_addrs(),
        )?;
        let mut stream = None;
        let mut queue: VecDeque<JoinerEffect> = first.into();
        let result = loop {
            let Some(effect) = queue.pop_front() else {
                break Err(PairError::Lost("pairing ended without an answer".into()).into());
            };
            let input = match effect {
                JoinerEffect::CheckPeer { peer } => {
                    let known = self
                        .device
                        .blocking(move |s| s.contact_by_peer(&peer))
                        .await?;
                    JoinerInput::Checked(known.map(|c| c.name))
                }
                JoinerEffect::Connect => {
                    let t = joiner.ticket();
                    let net = self.network.net()?;
                    stream = Some(
                        net.open_pair(t.endpoint, t.relay.as_deref(), &t.addrs)
                            .await?,
                    );
                    JoinerInput::Connected
                }
                JoinerEffect::CreateOutbox => {
                    let doc = new_outbox(&self.device.id(), self.device.now())?;
                    JoinerInput::OutboxCreated(
                        self.docs.create(doc).await?.document_id().to_string(),
                    )
                }
                JoinerEffect::Send(join) => match stream.as_mut() {
                    Some((w, r)) => match send(w, &join).await {
                        Ok(()) => next_answer(r).await,
                        Err(e) => JoinerInput::Lost(e.to_string()),
                    },
                    None => JoinerInput::Lost("not connected".into()),
                },
                JoinerEffect::Waiting => {
                    self.device.emit(Event::PairingPending {
                        peer: joiner.peer(),
                    });
                    match stream.as_mut() {
                        Some((_, r)) => next_answer(r).await,
                        None => JoinerInput::Lost("not connected".into()),
                    }
                }
                JoinerEffect::Forget { outbox } => {
                    self.docs.forget(&outbox).await;
                    continue;
                }
                JoinerEffect::Fail(why) => break Err(PairError::from(why).into()),
                JoinerEffect::Record {
                    name,
                    outbox,
                    inbound,
                } => break self.record_joined(&joiner, name, outbox, inbound).await,
            };
            queue.extend(joiner.handle(input));
        };
        if let Some((mut w, _)) = stream {
            let _finished = w.finish();
        }
        result
    }

    async fn record_joined(
        &self,
        joiner: &Joiner,
        name: String,
        outbox: String,
        inbound: String,
    ) -> Result<Paired, EngineError> {
        let inviter = joiner.peer();
        let contact = Contact {
            id: ContactId::new(self.device.new_id("c", 6)),
            name,
            created: self.device.now(),
            outbox,
            inbound: Some(inbound),
            peer: Some(inviter.clone()),
        };
        let (c, p, a) = (
            contact.clone(),
            inviter.clone(),
            joiner.ticket().addrs.clone(),
        );
        // The inviter chose the id of the document I will read from them: it must be new here,
        // or they could take over a panel another contact writes (or one of mine).
        let recorded = self
            .device
            .blocking(move |s| {
                if s.document_in_use(c.inbound.as_deref().unwrap_or_default())? {
                    return Ok(false);
                }
                s.insert_contact(&c, &backstory_crdt::MasterPanel::default())?;
                s.set_peer_addrs(&p, &a)?;
                Ok::<_, crate::store::StoreError>(true)
            })
            .await?;
        if !recorded {
            self.docs.forget(&contact.outbox).await;
            return Err(PairError::Refused(crate::pairing::Refusal::DocumentInUse).into());
        }
        self.paired(&contact).await?;
        Ok(Paired {
            words: safety_words(&self.device.id(), &inviter),
            contact,
        })
    }

    /// Answers a join on the pairing protocol. `peer` is the authenticated endpoint id.
    pub(crate) async fn answer<W: AsyncWrite + Unpin, R: AsyncRead + Unpin>(
        &self,
        peer: String,
        seen: &[std::net::SocketAddr],
        w: &mut W,
        r: &mut R,
    ) -> Result<(), EngineError> {
        let lost = |e: std::io::Error| PairError::Lost(e.to_string());
        let join: Join = tokio::time::timeout(crate::net::pair::STEP_TIMEOUT, recv(r))
            .await
            .map_err(|_| PairError::Lost("the joiner sent nothing in time".into()))?
            .map_err(lost)?;
        let addrs = crate::net::pair::dialable(&join.addrs, seen);
        let mut inviter = Inviter::new(&self.settings.name().await?);
        let mut queue: VecDeque<InviterEffect> = inviter.handle(InviterInput::Joined(join)).into();
        let mut recorded: Option<Contact> = None;
        while let Some(effect) = queue.pop_front() {
            let input = match effect {
                InviterEffect::LookUp {
                    secret_hash,
                    outbox,
                } => {
                    let t = self.device.now().millis();
                    let p = peer.clone();
                    let (invite, known, in_use) = self
                        .device
                        .blocking(move |s| {
                            Ok::<_, crate::store::StoreError>((
                                s.check_invite(&secret_hash, t)?,
                                s.contact_by_peer(&p)?,
                                s.document_in_use(&outbox)?,
                            ))
                        })
                        .await?;
                    InviterInput::Looked {
                        invite,
                        already_paired: known.is_some(),
                        document_in_use: in_use,
                    }
                }
                InviterEffect::AskApproval { name } => {
                    InviterInput::Decided(self.await_approval(&peer, &name).await)
                }
                InviterEffect::CreateOutbox => {
                    let doc = new_outbox(&self.device.id(), self.device.now())?;
                    InviterInput::OutboxCreated(
                        self.docs.create(doc).await?.document_id().to_string(),
                    )
                }
                InviterEffect::Redeem {
                    secret_hash,
                    name,
                    outbox,
                    inbound,
                } => {
                    let contact = Contact {
                        id: ContactId::new(self.device.new_id("c", 6)),
                        name,
                        created: self.device.now(),
                        outbox,
                        inbound: Some(inbound),
                        peer: Some(peer.clone()),
                    };
                    let (c, t) = (contact.clone(), self.device.now().millis());
                    let (p, a) = (peer.clone(), addrs.clone());
                    let redeemed = self
                        .device
                        .blocking(move |s| {
                            let r = s.redeem_invite(
                                &secret_hash,
                                t,
                                &c,
                                &backstory_crdt::MasterPanel::default(),
                            )?;
                            if r.is_ok() {
                                s.set_peer_addrs(&p, &a)?;
                            }
                            Ok::<_, crate::store::StoreError>(r)
                        })
                        .await?;
                    if redeemed.is_ok() {
                        recorded = Some(contact);
                    }
                    InviterInput::Redeemed(redeemed)
                }
                InviterEffect::Forget { outbox } => {
                    self.docs.forget(&outbox).await;
                    continue;
                }
                InviterEffect::Reply(answer) => {
                    send(w, &answer).await.map_err(lost)?;
                    continue;
                }
                InviterEffect::Paired { .. } => {
                    if let Some(contact) = &recorded {
                        self.paired(contact).await?;
                    }
                    continue;
                }
            };
            queue.extend(inviter.handle(input));
        }
        Ok(())
    }

    async fn await_approval(&self, peer: &str, name: &str) -> bool {
        let (tx, rx) = oneshot::channel();
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let pending = PendingJoin {
            id,
            name: name.to_string(),
            peer: peer.to_string(),
            words: safety_words(&self.device.id(), peer),
            since: self.device.now(),
        };
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id, (pending.clone(), tx));
        self.device.emit(Event::JoinRequested { pending });
        let decision = tokio::time::timeout(APPROVAL_TIMEOUT, rx).await;
        self.waiting
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&id);
        matches!(decision, Ok(Ok(true)))
    }

    /// Joins waiting for my approval.
    pub(crate) fn pending(&self) -> Vec<PendingJoin> {
        let mut v: Vec<PendingJoin> = self
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
    pub(crate) fn decide(&self, id: u64, approve: bool) -> Result<(), EngineError> {
        let entry = self
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

    /// After a contact is recorded: grant access, publish, connect, follow their panel.
    async fn paired(&self, contact: &Contact) -> Result<(), EngineError> {
        let all = self.device.blocking(|s| s.contacts()).await?;
        self.network.refresh_access(&all);
        self.panels.publish_one(contact).await?;
        self.network.connect(contact).await?;
        self.received.follow(contact);
        self.device.emit(Event::ContactAdded {
            contact: contact.id.clone(),
        });
        Ok(())
    }
}

/// Reads the inviter's next answer (waiting up to the approval timeout and a little more).
async fn next_answer<R: AsyncRead + Unpin>(r: &mut R) -> JoinerInput {
    match tokio::time::timeout(
        APPROVAL_TIMEOUT + Duration::from_secs(5),
        recv::<_, Answer>(r),
    )
    .await
    {
        Ok(Ok(answer)) => JoinerInput::Answered(answer),
        Ok(Err(e)) => JoinerInput::Lost(e.to_string()),
        Err(_) => JoinerInput::Answered(Answer::Refused {
            reason: crate::pairing::Refusal::TimedOut,
        }),
    }
}
