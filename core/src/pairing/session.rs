//! Pairing as two pure state machines, one per side, in the style of a sans-IO protocol core: the
//! engine feeds each what happened (a message arrived, the store answered, the person decided) and
//! performs the effects it returns (reply, look the invitation up, ask for approval, record the
//! contact). No IO, no clock, no randomness here: `now` and the lookups come in as inputs, so every
//! path — each kind of bad ticket among them — is a unit test.

use super::PairError;
use super::{Answer, Join, Refusal};
use crate::store::InviteRefusal;
use crate::ticket::Ticket;

/// The longest display name kept from the other side, in characters.
pub const MAX_NAME: usize = 64;

/// The BLAKE3 hash of a ticket secret: all the inviter's store keeps of it.
pub fn secret_hash(secret: &[u8]) -> String {
    blake3::hash(secret).to_hex().to_string()
}

/// A display name from the other side, trimmed, without control characters, at most
/// [`MAX_NAME`] characters; `None` when nothing is left.
pub fn clean_name(name: &str) -> Option<String> {
    let cleaned: String = name
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(MAX_NAME)
        .collect();
    (!cleaned.is_empty()).then_some(cleaned)
}

fn is_document_id(id: &str) -> bool {
    id.parse::<samod::DocumentId>().is_ok()
}

/// What the inviter's side is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InviterInput {
    /// The joiner's request arrived.
    Joined(Join),
    /// The store's answer about the ticket's invitation, and whether this peer is a contact.
    Looked {
        /// Whether it could be redeemed now (and needs approval), or why not.
        invite: Result<bool, InviteRefusal>,
        /// Whether this peer is already a contact.
        already_paired: bool,
        /// Whether the joiner's outbox id is already a document of mine (any contact's).
        document_in_use: bool,
    },
    /// I approved (true) or denied, or did not decide in time (false).
    Decided(bool),
    /// My outbox document for the joiner exists.
    OutboxCreated(String),
    /// The store redeemed the invitation and recorded the contact in one transaction, or refused.
    Redeemed(Result<(), InviteRefusal>),
}

/// What the inviter's side asks the engine to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum InviterEffect {
    /// Look the invitation up by its secret's hash, and the peer among contacts.
    LookUp {
        /// The secret's hash.
        secret_hash: String,
        /// The document the joiner announced as their outbox: it must be new here.
        outbox: String,
    },
    /// Ask me to approve this join.
    AskApproval {
        /// The joiner's name.
        name: String,
    },
    /// Create my outbox document for the joiner.
    CreateOutbox,
    /// Redeem the invitation and record the contact, in one transaction.
    Redeem {
        /// The secret's hash.
        secret_hash: String,
        /// The joiner's name.
        name: String,
        /// My outbox for them.
        outbox: String,
        /// Their outbox for me.
        inbound: String,
    },
    /// Take back an outbox that will never be shared.
    Forget {
        /// The document id.
        outbox: String,
    },
    /// Send this answer to the joiner.
    Reply(Answer),
    /// Paired: grant access, publish, connect.
    Paired {
        /// My outbox for them.
        outbox: String,
    },
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum InviterState {
    AwaitingJoin,
    LookingUp { secret_hash: String, join: Join },
    AwaitingDecision { secret_hash: String, join: Join },
    CreatingOutbox { secret_hash: String, join: Join },
    Redeeming { outbox: String },
    Done,
}

/// The inviter's side of one pairing connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inviter {
    state: InviterState,
    my_name: String,
}

impl Inviter {
    /// A session answering a joiner; `my_name` is sent back when they are accepted.
    pub fn new(my_name: &str) -> Self {
        Self {
            state: InviterState::AwaitingJoin,
            my_name: clean_name(my_name).unwrap_or_else(|| "Backstory user".into()),
        }
    }

    /// Whether the session has ended.
    pub fn is_done(&self) -> bool {
        self.state == InviterState::Done
    }

    fn refuse(&mut self, reason: Refusal) -> Vec<InviterEffect> {
        self.state = InviterState::Done;
        vec![InviterEffect::Reply(Answer::Refused { reason })]
    }

    /// Takes one input and returns what to do.
    pub fn handle(&mut self, input: InviterInput) -> Vec<InviterEffect> {
        let state = std::mem::replace(&mut self.state, InviterState::Done);
        match (state, input) {
            (InviterState::AwaitingJoin, InviterInput::Joined(join)) => {
                let secret = match hex::decode(&join.secret) {
                    Ok(s) if s.len() == 32 => s,
                    _ => return self.refuse(Refusal::BadRequest),
                };
                let Some(name) = clean_name(&join.name) else {
                    return self.refuse(Refusal::BadRequest);
                };
                if !is_document_id(&join.outbox) {
                    return self.refuse(Refusal::BadRequest);
                }
                let secret_hash = secret_hash(&secret);
                let outbox = join.outbox.clone();
                self.state = InviterState::LookingUp {
                    secret_hash: secret_hash.clone(),
                    join: Join { name, ..join },
                };
                vec![InviterEffect::LookUp {
                    secret_hash,
                    outbox,
                }]
            }
            (
                InviterState::LookingUp { secret_hash, join },
                InviterInput::Looked {
                    invite,
                    already_paired,
                    document_in_use,
                },
            ) => match (invite, already_paired) {
                (_, true) => self.refuse(Refusal::AlreadyPaired),
                _ if document_in_use => self.refuse(Refusal::DocumentInUse),
                (Err(r), false) => self.refuse(refusal(r)),
                (Ok(true), false) => {
                    let name = join.name.clone();
                    self.state = InviterState::AwaitingDecision { secret_hash, join };
                    vec![
                        InviterEffect::Reply(Answer::Pending),
                        InviterEffect::AskApproval { name },
                    ]
                }
                (Ok(false), false) => {
                    self.state = InviterState::CreatingOutbox { secret_hash, join };
                    vec![InviterEffect::CreateOutbox]
                }
            },
            (InviterState::AwaitingDecision { secret_hash, join }, InviterInput::Decided(yes)) => {
                if yes {
                    self.state = InviterState::CreatingOutbox { secret_hash, join };
                    vec![InviterEffect::CreateOutbox]
                } else {
                    self.refuse(Refusal::Denied)
                }
            }
            (
                InviterState::CreatingOutbox { secret_hash, join },
                InviterInput::OutboxCreated(outbox),
            ) => {
                self.state = InviterState::Redeeming {
                    outbox: outbox.clone(),
                };
                vec![InviterEffect::Redeem {
                    secret_hash,
                    name: join.name,
                    outbox,
                    inbound: join.outbox,
                }]
            }
            (InviterState::Redeeming { outbox }, InviterInput::Redeemed(result)) => {
                self.state = InviterState::Done;
                match result {
                    Ok(()) => vec![
                        InviterEffect::Paired {
                            outbox: outbox.clone(),
                        },
                        InviterEffect::Reply(Answer::Accepted {
                            name: self.my_name.clone(),
                            outbox,
                        }),
                    ],
                    Err(r) => vec![
                        InviterEffect::Forget { outbox },
                        InviterEffect::Reply(Answer::Refused { reason: refusal(r) }),
                    ],
                }
            }
            // Anything out of order ends the session; nothing was recorded.
            (InviterState::Redeeming { outbox }, _) => {
                let mut effects = vec![InviterEffect::Forget { outbox }];
                effects.extend(self.refuse(Refusal::BadRequest));
                effects
            }
            (_, _) => self.refuse(Refusal::BadRequest),
        }
    }
}

fn refusal(r: InviteRefusal) -> Refusal {
    match r {
        InviteRefusal::Unknown => Refusal::UnknownTicket,
        InviteRefusal::Expired => Refusal::Expired,
        InviteRefusal::Used => Refusal::Used,
    }
}

/// What the joiner's side is told.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinerInput {
    /// Whether the inviter is already one of my contacts (their name if so).
    Checked(Option<String>),
    /// The connection to the inviter is open.
    Connected,
    /// My outbox document for the inviter exists.
    OutboxCreated(String),
    /// The inviter answered.
    Answered(Answer),
    /// The connection broke.
    Lost(String),
}

/// What the joiner's side asks the engine to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JoinerEffect {
    /// Look the inviter up among my contacts.
    CheckPeer {
        /// The inviter's endpoint id.
        peer: String,
    },
    /// Connect to the inviter on the pairing protocol.
    Connect,
    /// Create my outbox document for the inviter.
    CreateOutbox,
    /// Send the request.
    Send(Join),
    /// Tell whoever watches that the inviter must approve first.
    Waiting,
    /// Record the contact: pairing succeeded.
    Record {
        /// The inviter's name.
        name: String,
        /// My outbox for them.
        outbox: String,
        /// Their outbox for me.
        inbound: String,
    },
    /// Take back an outbox that will never be shared.
    Forget {
        /// The document id.
        outbox: String,
    },
    /// Pairing failed; nothing is recorded.
    Fail(PairErrorKind),
}

/// Why a join failed, as the machine decides it (the engine turns it into a [`PairError`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PairErrorKind {
    /// Already paired with this person.
    AlreadyPaired(String),
    /// The inviter refused.
    Refused(Refusal),
    /// The connection broke, or the inviter's answer made no sense.
    Lost(String),
}

impl From<PairErrorKind> for PairError {
    fn from(k: PairErrorKind) -> Self {
        match k {
            PairErrorKind::AlreadyPaired(n) => PairError::AlreadyPaired(n),
            PairErrorKind::Refused(r) => PairError::Refused(r),
            PairErrorKind::Lost(m) => PairError::Lost(m),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum JoinerState {
    Checking,
    Connecting,
    CreatingOutbox,
    /// `told_pending` once the inviter said it waits for the person's approval: it may say so
    /// once, so an inviter cannot keep a joiner waiting past one approval timeout.
    AwaitingAnswer {
        outbox: String,
        told_pending: bool,
    },
    Done,
}

/// The joiner's side of one pairing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Joiner {
    state: JoinerState,
    ticket: Ticket,
    my_name: String,
    my_addrs: Vec<std::net::SocketAddr>,
}

impl Joiner {
    /// Starts joining with a ticket's text at `now_ms`, as the device `me`: the ticket is read and
    /// checked here, so a malformed, truncated, damaged, too new, expired or own ticket fails
    /// before anything else happens.
    pub fn start(
        text: &str,
        now_ms: i64,
        me: &str,
        my_name: &str,
        my_addrs: Vec<std::net::SocketAddr>,
    ) -> Result<(Self, Vec<JoinerEffect>), PairError> {
        let ticket = Ticket::decode(text)?;
        ticket.check_expiry(now_ms)?;
        let peer = hex::encode(ticket.endpoint);
        if peer == me {
            return Err(PairError::SelfPairing);
        }
        let joiner = Self {
            state: JoinerState::Checking,
            ticket,
            my_name: clean_name(my_name).unwrap_or_else(|| "Backstory user".into()),
            my_addrs,
        };
        Ok((joiner, vec![JoinerEffect::CheckPeer { peer }]))
    }

    /// The ticket being used.
    pub fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    /// The inviter's endpoint id.
    pub fn peer(&self) -> String {
        hex::encode(self.ticket.endpoint)
    }

    /// Whether the session has ended.
    pub fn is_done(&self) -> bool {
        self.state == JoinerState::Done
    }

    fn fail(&mut self, outbox: Option<String>, why: PairErrorKind) -> Vec<JoinerEffect> {
        self.state = JoinerState::Done;
        let mut effects: Vec<JoinerEffect> = outbox
            .map(|outbox| JoinerEffect::Forget { outbox })
            .into_iter()
            .collect();
        effects.push(JoinerEffect::Fail(why));
        effects
    }

    /// Takes one input and returns what to do.
    pub fn handle(&mut self, input: JoinerInput) -> Vec<JoinerEffect> {
        let state = std::mem::replace(&mut self.state, JoinerState::Done);
        match (state, input) {
            (JoinerState::Checking, JoinerInput::Checked(Some(name))) => {
                self.fail(None, PairErrorKind::AlreadyPaired(name))
            }
            (JoinerState::Checking, JoinerInput::Checked(None)) => {
                self.state = JoinerState::Connecting;
                vec![JoinerEffect::Connect]
            }
            (JoinerState::Connecting, JoinerInput::Connected) => {
                self.state = JoinerState::CreatingOutbox;
                vec![JoinerEffect::CreateOutbox]
            }
            (JoinerState::CreatingOutbox, JoinerInput::OutboxCreated(outbox)) => {
                let join = Join {
                    secret: hex::encode(self.ticket.secret),
                    name: self.my_name.clone(),
                    outbox: outbox.clone(),
                    addrs: self.my_addrs.clone(),
                };
                self.state = JoinerState::AwaitingAnswer {
                    outbox,
                    told_pending: false,
                };
                vec![JoinerEffect::Send(join)]
            }
            (
                JoinerState::AwaitingAnswer {
                    outbox,
                    told_pending,
                },
                JoinerInput::Answered(answer),
            ) => match answer {
                Answer::Pending if told_pending => self.fail(
                    Some(outbox),
                    PairErrorKind::Lost("the inviter said it was waiting twice".into()),
                ),
                Answer::Pending => {
                    self.state = JoinerState::AwaitingAnswer {
                        outbox,
                        told_pending: true,
                    };
                    vec![JoinerEffect::Waiting]
                }
                Answer::Accepted {
                    name,
                    outbox: inbound,
                } => {
                    let name = clean_name(&name);
                    match name {
                        Some(name) if is_document_id(&inbound) && inbound != outbox => {
                            self.state = JoinerState::Done;
                            vec![JoinerEffect::Record {
                                name,
                                outbox,
                                inbound,
                            }]
                        }
                        _ => self.fail(
                            Some(outbox),
                            PairErrorKind::Lost("the inviter's answer was malformed".into()),
                        ),
                    }
                }
                Answer::Refused { reason } => {
                    self.fail(Some(outbox), PairErrorKind::Refused(reason))
                }
            },
            (JoinerState::AwaitingAnswer { outbox, .. }, JoinerInput::Lost(why)) => {
                self.fail(Some(outbox), PairErrorKind::Lost(why))
            }
            (_, JoinerInput::Lost(why)) => self.fail(None, PairErrorKind::Lost(why)),
            (JoinerState::AwaitingAnswer { outbox, .. }, _) => self.fail(
                Some(outbox),
                PairErrorKind::Lost("pairing went out of order".into()),
            ),
            (_, _) => self.fail(
                None,
                PairErrorKind::Lost("pairing went out of order".into()),
            ),
        }
    }
}

#[cfg(test)]
#[path = "session_tests.rs"]
mod tests;
