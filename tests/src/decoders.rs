//! Inputs and checks for the decoder tests (`tests/decoders.rs`) and their benchmark
//! (`benches/decoders.rs`). Every decoder we own is fed arbitrary bytes and mutations of a valid
//! encoding (bits flipped, bytes overwritten, cut short, bytes inserted, spans deleted or
//! duplicated). Each check runs the real decoder and says what was wrong with its answer: an intact
//! encoding must decode to what was encoded, anything it accepts must encode back to itself, and
//! anything it refuses must be refused with the error that input calls for. A panic is left to the
//! caller (proptest, or [`tally`]).

use std::fmt::Debug;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::panic::AssertUnwindSafe;

use backstory_core::control::{self, Frame, FrameError, Reply};
use backstory_core::crdt::Visibility;
use backstory_core::pairing::{self, Answer, Join, Refusal};
use backstory_core::ticket::{LINK_PREFIX, PREFIX, Ticket, TicketError};
use backstory_core::view::NewEntry;
use backstory_core::{ApiError, EngineError, ErrorCode, Op, Request, Response, op};
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub mod outbox;

/// What a check found wrong, if anything.
pub type Check = Result<(), String>;

/// One input for a decoder: the bytes, and the value they were made from (with its intact
/// encoding) when they come from a valid encoding.
#[derive(Clone, Debug)]
pub struct Input<T> {
    /// The value and its intact encoding; `None` for bytes made from nothing.
    pub valid: Option<(T, Vec<u8>)>,
    /// What the decoder reads.
    pub bytes: Vec<u8>,
}

impl<T> Input<T> {
    /// Bytes made from nothing.
    pub fn raw(bytes: Vec<u8>) -> Self {
        Self { valid: None, bytes }
    }

    /// The value, when the bytes are its encoding untouched.
    pub fn intact(&self) -> Option<&T> {
        self.valid
            .as_ref()
            .filter(|(_, encoded)| *encoded == self.bytes)
            .map(|(value, _)| value)
    }
}

/// One change to a valid encoding. Positions are taken modulo the length at the time.
#[derive(Clone, Debug)]
pub enum Mutation {
    /// Flips one bit.
    Flip {
        /// Byte.
        at: usize,
        /// Bit, 0 to 7.
        bit: u8,
    },
    /// Overwrites one byte.
    Set {
        /// Byte.
        at: usize,
        /// Its new value.
        value: u8,
    },
    /// Cuts the bytes short.
    Truncate {
        /// The length kept.
        len: usize,
    },
    /// Inserts bytes.
    Insert {
        /// Where.
        at: usize,
        /// What.
        bytes: Vec<u8>,
    },
    /// Deletes a span.
    Delete {
        /// Its start.
        at: usize,
        /// Its length.
        len: usize,
    },
    /// Copies a span elsewhere.
    Duplicate {
        /// Its start.
        at: usize,
        /// Its length.
        len: usize,
        /// Where the copy goes.
        to: usize,
    },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 0u8..8).prop_map(|(at, bit)| Mutation::Flip { at, bit }),
        2 => (any::<usize>(), any::<u8>()).prop_map(|(at, value)| Mutation::Set { at, value }),
        1 => any::<usize>().prop_map(|len| Mutation::Truncate { len }),
        1 => (any::<usize>(), vec(any::<u8>(), 1..16))
            .prop_map(|(at, bytes)| Mutation::Insert { at, bytes }),
        1 => (any::<usize>(), 1usize..64).prop_map(|(at, len)| Mutation::Delete { at, len }),
        1 => (any::<usize>(), 1usize..64, any::<usize>())
            .prop_map(|(at, len, to)| Mutation::Duplicate { at, len, to }),
    ]
}

/// One to four mutations.
pub fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    vec(mutation(), 1..5)
}

/// Applies `mutations` to a copy of `valid`.
pub fn mutate(valid: &[u8], mutations: &[Mutation]) -> Vec<u8> {
    let mut b = valid.to_vec();
    for m in mutations {
        let n = b.len();
        match m {
            Mutation::Flip { at, bit } if n > 0 => b[at % n] ^= 1 << (bit % 8),
            Mutation::Set { at, value } if n > 0 => b[at % n] = *value,
            Mutation::Truncate { len } => b.truncate(len % (n + 1)),
            Mutation::Insert { at, bytes } => {
                let at = at % (n + 1);
                b.splice(at..at, bytes.iter().copied());
            }
            Mutation::Delete { at, len } if n > 0 => {
                let at = at % n;
                b.drain(at..(at + len).min(n));
            }
            Mutation::Duplicate { at, len, to } if n > 0 => {
                let at = at % n;
                let span = b[at..(at + len).min(n)].to_vec();
                let to = to % (n + 1);
                b.splice(to..to, span);
            }
            _ => {}
        }
    }
    b
}

/// Inputs made from valid values: intact (one in eight) or mutated.
fn damaged<T: Clone + Debug>(
    valid: impl Strategy<Value = T>,
    encode: fn(&T) -> Vec<u8>,
) -> impl Strategy<Value = Input<T>> {
    (valid, option::weighted(0.875, mutations())).prop_map(move |(value, m)| {
        let encoded = encode(&value);
        let bytes = match m {
            Some(m) => mutate(&encoded, &m),
            None => encoded.clone(),
        };
        Input {
            valid: Some((value, encoded)),
            bytes,
        }
    })
}

/// Arbitrary bytes, short ones more often.
fn arbitrary<T: Clone + Debug>() -> impl Strategy<Value = Input<T>> {
    prop_oneof![vec(any::<u8>(), 0..64), vec(any::<u8>(), 0..1024)].prop_map(Input::raw)
}

fn socket_addr() -> impl Strategy<Value = SocketAddr> {
    let ip = prop_oneof![
        any::<[u8; 4]>().prop_map(|o| IpAddr::V4(Ipv4Addr::from(o))),
        any::<[u8; 16]>().prop_map(|o| IpAddr::V6(Ipv6Addr::from(o))),
    ];
    (ip, any::<u16>()).prop_map(|(ip, port)| SocketAddr::new(ip, port))
}

fn block_on<F: Future>(f: F) -> F::Output {
    futures::executor::block_on(f)
}

// ---------------------------------------------------------------------------------------------
// Tickets

/// A valid ticket.
pub fn ticket() -> impl Strategy<Value = Ticket> {
    (
        any::<[u8; 32]>(),
        any::<[u8; 32]>(),
        any::<i64>(),
        option::of("https://[a-z0-9.-]{1,30}/|\\PC{1,20}"),
        vec(socket_addr(), 0..4),
    )
        .prop_map(|(endpoint, secret, expires, relay, addrs)| Ticket {
            endpoint,
            secret,
            expires,
            relay,
            addrs,
        })
}

/// How a ticket reaches the decoder: as text, as a link, typed in capitals, or wrapped by a mail
/// program.
fn ticket_text(t: &Ticket, form: u8) -> String {
    match form % 4 {
        0 => t.encode(),
        1 => t.link(),
        2 => t.encode().to_ascii_uppercase(),
        _ => {
            let text = t.link();
            let mut wrapped = String::from("  ");
            for (i, c) in text.chars().enumerate() {
                if i % 40 == 39 {
                    wrapped.push_str("\r\n");
                }
                wrapped.push(c);
            }
            wrapped.push('\n');
            wrapped
        }
    }
}

const BASE32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Lowercase base32 without padding, as tickets are written.
fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buf >> bits) & 31) as usize]));
        }
        buf &= 0xff;
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buf << (5 - bits)) & 31) as usize]));
    }
    out
}

/// A ticket body of random bytes (version 1 mostly) under a correct checksum: it passes the
/// checksum and reaches the field parser.
fn forged_ticket() -> impl Strategy<Value = Vec<u8>> {
    (option::weighted(0.8, Just(1u8)), vec(any::<u8>(), 0..160)).prop_map(|(version, rest)| {
        let mut body: Vec<u8> = version.into_iter().collect();
        body.extend(rest);
        let sum = blake3::hash(&body);
        body.extend_from_slice(&sum.as_bytes()[..4]);
        format!("{PREFIX}{}", base32(&body)).into_bytes()
    })
}

/// Ticket text: arbitrary, the prefix and then anything, forged bodies, and valid tickets in each
/// form, intact or mutated.
pub fn ticket_input() -> impl Strategy<Value = Input<Ticket>> {
    let forms = (ticket(), any::<u8>()).prop_map(|(t, form)| {
        let text = ticket_text(&t, form);
        (t, text)
    });
    prop_oneof![
        1 => arbitrary(),
        1 => "[a-z2-7 ]{0,200}".prop_map(|s| Input::raw(format!("{PREFIX}{s}").into_bytes())),
        2 => forged_ticket().prop_map(Input::raw),
        4 => (forms, option::weighted(0.875, mutations())).prop_map(|((t, text), m)| {
            let encoded = text.into_bytes();
            let bytes = match m {
                Some(m) => mutate(&encoded, &m),
                None => encoded.clone(),
            };
            Input { valid: Some((t, encoded)), bytes }
        }),
    ]
}

/// Decodes ticket text.
pub fn check_ticket(input: &Input<Ticket>) -> Check {
    let text = String::from_utf8_lossy(&input.bytes);
    let squeezed = text
        .split_whitespace()
        .collect::<String>()
        .to_ascii_lowercase();
    let prefixed = squeezed
        .strip_prefix(LINK_PREFIX)
        .unwrap_or(&squeezed)
        .starts_with(PREFIX);
    match Ticket::decode(&text) {
        Ok(t) => {
            if !prefixed {
                return Err("accepted a ticket without the prefix".into());
            }
            match &input.valid {
                // Changing a ticket's bytes fails its checksum: what decodes is what was encoded.
                Some((want, _)) if t != *want => {
                    Err(format!("decoded to another ticket: {t:?}, not {want:?}"))
                }
                Some(_) => Ok(()),
                None if Ticket::decode(&t.encode()).as_ref() != Ok(&t) => {
                    Err(format!("{t:?} does not survive encoding again"))
                }
                None => Ok(()),
            }
        }
        Err(e) => {
            if input.intact().is_some() {
                return Err(format!("an intact ticket was refused: {e}"));
            }
            match e {
                TicketError::NotATicket if prefixed => {
                    Err("prefixed text called NotATicket".into())
                }
                TicketError::NotATicket => Ok(()),
                e if !prefixed => Err(format!("text without the prefix refused as {e:?}")),
                TicketError::BadCharacters
                | TicketError::Truncated
                | TicketError::Damaged
                | TicketError::UnsupportedVersion(_) => Ok(()),
                e => Err(format!("unexpected error {e:?}")),
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Control socket

fn request() -> impl Strategy<Value = Request> {
    let text = "\\PC{0,40}";
    let visibility = prop_oneof![
        Just(Visibility::Visible),
        Just(Visibility::Hidden),
        any::<i64>().prop_map(|t| Visibility::RevealAfter(backstory_core::crdt::Timestamp(t))),
    ];
    prop_oneof![
        Just(op::Profile {}.request()),
        Just(op::Contacts {}.request()),
        text.prop_map(|name| op::SetName { name }.request()),
        (text, text).prop_map(|(key, value)| op::SetSetting { key, value }.request()),
        text.prop_map(|contact| op::MyPanel { contact }.request()),
        (
            text,
            text,
            option::of("https://[a-z]{1,12}\\.org/"),
            visibility
        )
            .prop_map(|(contact, body, link, visibility)| {
                let mut entry = NewEntry::text(body).with_visibility(visibility);
                entry.link = link;
                op::PostEntry { contact, entry }.request()
            }),
    ]
}

/// A valid request frame.
pub fn frame() -> impl Strategy<Value = Frame> {
    prop_oneof![
        1 => Just(Frame::Events),
        5 => request().prop_map(|request| Frame::Call { request }),
    ]
}

fn json_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut line = serde_json::to_vec(value).expect("the API's types serialize");
    line.push(b'\n');
    line
}

/// Request lines: arbitrary, and valid frames intact or mutated.
pub fn frame_input() -> impl Strategy<Value = Input<Frame>> {
    prop_oneof![1 => arbitrary(), 3 => damaged(frame(), json_line::<Frame>)]
}

fn read_frame(bytes: &[u8]) -> Result<Option<Frame>, FrameError> {
    let mut reader = tokio::io::BufReader::new(bytes);
    let mut line = String::new();
    block_on(control::read_frame(&mut reader, &mut line))
}

/// Reads one request line the way the engine's control socket does.
pub fn check_frame(input: &Input<Frame>) -> Check {
    let first = match input.bytes.iter().position(|b| *b == b'\n') {
        Some(end) => &input.bytes[..=end],
        None => &input.bytes[..],
    };
    let utf8 = std::str::from_utf8(first).is_ok();
    let long = first.len() > control::MAX_LINE;
    match read_frame(&input.bytes) {
        Ok(None) if input.bytes.is_empty() => Ok(()),
        Ok(None) => Err("bytes read as a closed connection".into()),
        Ok(Some(frame)) => {
            if !utf8 || long {
                return Err(format!("accepted a bad line as {frame:?}"));
            }
            if let Some(want) = input.intact()
                && frame != *want
            {
                return Err(format!("read {frame:?}, not {want:?}"));
            }
            match read_frame(&json_line(&frame)) {
                Ok(Some(again)) if again == frame => Ok(()),
                again => Err(format!("{frame:?} reads back as {again:?}")),
            }
        }
        Err(e) if input.intact().is_some() => Err(format!("an intact frame was refused: {e}")),
        Err(FrameError::Io(e)) if e.kind() == std::io::ErrorKind::InvalidData && !utf8 => Ok(()),
        Err(FrameError::TooLong) if long => Ok(()),
        Err(FrameError::Invalid(_)) if utf8 && !long => Ok(()),
        Err(e) => Err(format!(
            "refused as {e:?} (UTF-8: {utf8}, too long: {long})"
        )),
    }
}

/// A valid reply of the engine's.
pub fn reply() -> impl Strategy<Value = Reply> {
    let code = select(vec![
        ErrorCode::UnknownContact,
        ErrorCode::InvalidInput,
        ErrorCode::BadImport,
        ErrorCode::TicketDamaged,
        ErrorCode::Storage,
    ]);
    prop_oneof![
        Just(Reply::Streaming),
        "\\PC{0,40}".prop_map(|s| Reply::Ok(Box::new(Response::GetSetting(s)))),
        (code, "\\PC{0,40}").prop_map(|(code, message)| Reply::Err(ApiError { code, message })),
    ]
}

/// Reply lines: arbitrary, and valid replies intact or mutated.
pub fn reply_input() -> impl Strategy<Value = Input<Reply>> {
    prop_oneof![1 => arbitrary(), 3 => damaged(reply(), json_line::<Reply>)]
}

/// Decodes a reply line as the control client does (JSON of [`Reply`]).
pub fn check_reply(input: &Input<Reply>) -> Check {
    match serde_json::from_slice::<Reply>(&input.bytes) {
        Ok(reply) => {
            if let Some(want) = input.intact()
                && reply != *want
            {
                return Err(format!("read {reply:?}, not {want:?}"));
            }
            match serde_json::from_slice::<Reply>(&json_line(&reply)) {
                Ok(again) if again == reply => Ok(()),
                again => Err(format!("{reply:?} reads back as {again:?}")),
            }
        }
        Err(e) if input.intact().is_some() => Err(format!("an intact reply was refused: {e}")),
        Err(_) => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Pairing messages

/// The largest pairing message (`backstory/pair/1`): 64 KiB.
pub const MAX_MESSAGE: usize = 64 * 1024;

/// A valid join request.
pub fn join() -> impl Strategy<Value = Join> {
    (
        "[0-9a-f]{64}",
        "\\PC{0,30}",
        "[1-9A-HJ-NP-Za-km-z]{20,40}",
        vec(socket_addr(), 0..3),
    )
        .prop_map(|(secret, name, outbox, addrs)| Join {
            secret,
            name,
            outbox,
            addrs,
        })
}

/// A valid answer.
pub fn answer() -> impl Strategy<Value = Answer> {
    let reason = select(vec![
        Refusal::UnknownTicket,
        Refusal::Expired,
        Refusal::Used,
        Refusal::AlreadyPaired,
        Refusal::Denied,
        Refusal::TimedOut,
        Refusal::BadRequest,
        Refusal::DocumentInUse,
    ]);
    prop_oneof![
        Just(Answer::Pending),
        ("\\PC{0,30}", "[1-9A-HJ-NP-Za-km-z]{20,40}")
            .prop_map(|(name, outbox)| Answer::Accepted { name, outbox }),
        reason.prop_map(|reason| Answer::Refused { reason }),
    ]
}

/// One message as the pairing protocol writes it.
pub fn message<T: Serialize>(value: &T) -> Vec<u8> {
    let mut out = Vec::new();
    block_on(pairing::send(&mut out, value)).expect("a message within the limit");
    out
}

/// A length prefix, then bytes (the prefix true or not).
fn framed_garbage<T: Clone + Debug>() -> impl Strategy<Value = Input<T>> {
    (vec(any::<u8>(), 0..256), option::of(any::<u32>())).prop_map(|(body, len)| {
        let len = len.unwrap_or(body.len() as u32);
        let mut bytes = len.to_be_bytes().to_vec();
        bytes.extend(body);
        Input::raw(bytes)
    })
}

/// Pairing messages: arbitrary, framed garbage, and valid messages intact or mutated.
pub fn message_input<T>(valid: impl Strategy<Value = T>) -> impl Strategy<Value = Input<T>>
where
    T: Clone + Debug + Serialize,
{
    prop_oneof![
        1 => arbitrary(),
        1 => framed_garbage(),
        3 => damaged(valid, message::<T>),
    ]
}

/// Reads one pairing message, as both ends of a pairing do.
pub fn check_message<T>(input: &Input<T>) -> Check
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let b = &input.bytes;
    let result = block_on(pairing::recv::<_, T>(&mut &b[..]));
    let declared = b
        .first_chunk::<4>()
        .map(|l| u32::from_be_bytes(*l) as usize);
    match (result, declared) {
        (Ok(_), None) => Err("a message from fewer than 4 bytes".into()),
        (Ok(value), Some(len)) => {
            if len > MAX_MESSAGE || b.len() < 4 + len {
                return Err(format!("accepted a message past its bounds: {value:?}"));
            }
            if let Some(want) = input.intact()
                && value != *want
            {
                return Err(format!("read {value:?}, not {want:?}"));
            }
            match block_on(pairing::recv::<_, T>(&mut &message(&value)[..])) {
                Ok(again) if again == value => Ok(()),
                again => Err(format!("{value:?} reads back as {again:?}")),
            }
        }
        (Err(e), _) if input.intact().is_some() => {
            Err(format!("an intact message was refused: {e}"))
        }
        (Err(e), None) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(()),
        (Err(e), Some(len)) if len > MAX_MESSAGE && e.to_string() == "message too large" => Ok(()),
        (Err(e), Some(len))
            if len <= MAX_MESSAGE
                && b.len() < 4 + len
                && e.kind() == std::io::ErrorKind::UnexpectedEof =>
        {
            Ok(())
        }
        (Err(e), Some(len))
            if len <= MAX_MESSAGE
                && b.len() >= 4 + len
                && e.get_ref()
                    .is_some_and(|inner| inner.downcast_ref::<serde_json::Error>().is_some()) =>
        {
            Ok(())
        }
        (Err(e), declared) => Err(format!(
            "refused as {e:?} ({} bytes, declared {declared:?})",
            b.len()
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Panel files

/// The first line of a panel file.
pub const PANEL_MAGIC: &[u8] = b"BACKSTORY-PANEL 1\n";

/// A panel file as `export_panel` writes it: magic line, JSON header line, the saved outbox.
pub fn panel_file(from: &str, saved: &[u8]) -> Vec<u8> {
    let header = serde_json::json!({ "from": from, "doc": "3xH7mQ2vZkR9tLpW8sNcYd" });
    let mut file = PANEL_MAGIC.to_vec();
    file.extend(json_line(&header));
    file.extend_from_slice(saved);
    file
}

/// Panel files: arbitrary bytes, the magic line then anything, a valid header over anything, a
/// header naming someone else, and the valid file intact or mutated.
pub fn panel_file_input() -> impl Strategy<Value = Input<()>> {
    let valid = || panel_file(outbox::OWNER, &outbox::valid().saved);
    prop_oneof![
        1 => arbitrary(),
        1 => vec(any::<u8>(), 0..512).prop_map(|rest| {
            let mut b = PANEL_MAGIC.to_vec();
            b.extend(rest);
            Input::raw(b)
        }),
        1 => vec(any::<u8>(), 0..512).prop_map(|rest| Input::raw(panel_file(outbox::OWNER, &rest))),
        1 => "\\PC{0,20}".prop_map(|from| Input::raw(panel_file(&from, &outbox::valid().saved))),
        6 => option::weighted(0.9, mutations()).prop_map(move |m| {
            let encoded = valid();
            let bytes = match m {
                Some(m) => mutate(&encoded, &m),
                None => encoded.clone(),
            };
            Input { valid: Some(((), encoded)), bytes }
        }),
    ]
}

/// Reads a panel file as `import_panel` does.
pub fn check_panel_file(input: &Input<()>) -> Check {
    match backstory_core::parse_panel_file(&input.bytes) {
        Ok((header, doc)) => {
            if !input.bytes.starts_with(PANEL_MAGIC) {
                return Err("accepted a file without the magic line".into());
            }
            match backstory_core::crdt::outbox::owner(&doc) {
                Ok(Some(owner)) if owner == header.from => {}
                owner => return Err(format!("accepted {header:?} over a document of {owner:?}")),
            }
            let readings = outbox::read_all(&doc);
            readings.typed()?;
            if input.intact().is_some() {
                outbox::valid().same(&readings, &[])?;
            }
            Ok(())
        }
        Err(e) if input.intact().is_some() => Err(format!("an intact file was refused: {e}")),
        Err(EngineError::BadImport(_)) => Ok(()),
        Err(e) => Err(format!("refused as {e:?}, not BadImport")),
    }
}

// ---------------------------------------------------------------------------------------------
// Running many cases outside the test harness

/// How a run of one decoder went.
#[derive(Debug, Default)]
pub struct Tally {
    /// Cases run.
    pub cases: u64,
    /// Cases where the decoder (or the check) panicked.
    pub panics: u64,
    /// Cases where the check found a wrong answer.
    pub failures: u64,
    /// The first panic or wrong answer, with its input.
    pub first: Option<String>,
}

/// Runs `cases` inputs drawn from `strategy` through `check`, catching panics.
pub fn tally<S: Strategy>(
    runner: &mut TestRunner,
    strategy: S,
    check: impl Fn(&S::Value) -> Check,
    cases: u64,
) -> Result<Tally, String> {
    let mut t = Tally::default();
    for _ in 0..cases {
        let input = strategy
            .new_tree(runner)
            .map_err(|e| format!("no input: {e:?}"))?
            .current();
        match std::panic::catch_unwind(AssertUnwindSafe(|| check(&input))) {
            Ok(Ok(())) => {}
            Ok(Err(why)) => {
                t.failures += 1;
                t.first
                    .get_or_insert_with(|| format!("{why}; input {input:?}"));
            }
            Err(_) => {
                t.panics += 1;
                t.first
                    .get_or_insert_with(|| format!("panicked; input {input:?}"));
            }
        }
        t.cases += 1;
    }
    Ok(t)
}
