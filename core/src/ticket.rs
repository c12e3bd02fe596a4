//! Pairing tickets: an endpoint address, a 32-byte one-time secret and an expiry, as text
//! (`backstory1…`), as a `backstory://pair/…` link, and as a QR code.
//!
//! Binary layout (version 1), then a 4-byte BLAKE3 checksum, then lowercase base32 without padding:
//! `version u8 | endpoint id [32] | secret [32] | expires i64 BE (ms) | relay len u16 BE | relay utf-8
//! | address count u8 | addresses (tag 4|6, ip, port u16 BE)…`. The checksum tells a damaged or
//! truncated ticket from a forged one; a forged secret is refused by the inviter.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The text prefix; the digit is the format version.
pub const PREFIX: &str = "backstory1";
/// The link prefix.
pub const LINK_PREFIX: &str = "backstory://pair/";
const VERSION: u8 = 1;
const CHECKSUM: usize = 4;

/// A pairing invitation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ticket {
    /// The inviter's endpoint id (public key bytes).
    pub endpoint: [u8; 32],
    /// The one-time secret.
    pub secret: [u8; 32],
    /// Expiry, in milliseconds since the epoch.
    pub expires: i64,
    /// The inviter's home relay, if any.
    pub relay: Option<String>,
    /// Direct addresses (only in local mode: tickets get forwarded and stored).
    pub addrs: Vec<SocketAddr>,
}

/// Why a ticket could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketError {
    /// It does not start like a Backstory ticket.
    #[error("not a Backstory ticket: it should start with `{PREFIX}` or `{LINK_PREFIX}`")]
    NotATicket,
    /// It has characters a ticket never has.
    #[error("the ticket has characters a ticket never has; copy it again, whole")]
    BadCharacters,
    /// It is cut short.
    #[error("the ticket is truncated; copy it again, whole")]
    Truncated,
    /// Its checksum does not match: a character was changed.
    #[error("the ticket is damaged (checksum mismatch); copy it again")]
    Damaged,
    /// It was made by a newer Backstory.
    #[error("the ticket was made by a newer Backstory (format {0})")]
    UnsupportedVersion(u8),
    /// It has expired.
    #[error("the ticket expired; ask for a new one")]
    Expired,
}

impl Ticket {
    fn to_bytes(&self) -> Vec<u8> {
        let mut b = vec![VERSION];
        b.extend_from_slice(&self.endpoint);
        b.extend_from_slice(&self.secret);
        b.extend_from_slice(&self.expires.to_be_bytes());
        let relay = self.relay.as_deref().unwrap_or("").as_bytes();
        let relay = &relay[..relay.len().min(u16::MAX as usize)];
        b.extend_from_slice(&(relay.len() as u16).to_be_bytes());
        b.extend_from_slice(relay);
        let addrs = &self.addrs[..self.addrs.len().min(u8::MAX as usize)];
        b.push(addrs.len() as u8);
        for a in addrs {
            match a.ip() {
                IpAddr::V4(ip) => {
                    b.push(4);
                    b.extend_from_slice(&ip.octets());
                }
                IpAddr::V6(ip) => {
                    b.push(6);
                    b.extend_from_slice(&ip.octets());
                }
            }
            b.extend_from_slice(&a.port().to_be_bytes());
        }
        let sum = blake3::hash(&b);
        b.extend_from_slice(&sum.as_bytes()[..CHECKSUM]);
        b
    }

    fn from_bytes(b: &[u8]) -> Result<Self, TicketError> {
        if b.len() < 1 + 32 + 32 + 8 + 2 + 1 + CHECKSUM {
            return Err(TicketError::Truncated);
        }
        let (body, sum) = b.split_at(b.len() - CHECKSUM);
        if blake3::hash(body).as_bytes()[..CHECKSUM] != *sum {
            // A shorter prefix of a valid ticket also fails here; tell the two apart when we can.
            return Err(if Self::parse_body(body).is_err() {
                TicketError::Truncated
            } else {
                TicketError::Damaged
            });
        }
        Self::parse_body(body)
    }

    fn parse_body(body: &[u8]) -> Result<Self, TicketError> {
        let mut r = Reader(body);
        let version = r.take(1)?[0];
        if version != VERSION {
            return Err(TicketError::UnsupportedVersion(version));
        }
        let endpoint = r.array()?;
        let secret = r.array()?;
        let expires = i64::from_be_bytes(r.array()?);
        let relay_len = u16::from_be_bytes(r.array()?) as usize;
        let relay = std::str::from_utf8(r.take(relay_len)?)
            .map_err(|_| TicketError::Damaged)?
            .to_string();
        let count = r.take(1)?[0];
        let mut addrs = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let ip = match r.take(1)?[0] {
                4 => IpAddr::V4(Ipv4Addr::from(r.array::<4>()?)),
                6 => IpAddr::V6(Ipv6Addr::from(r.array::<16>()?)),
                _ => return Err(TicketError::Damaged),
            };
            let port = u16::from_be_bytes(r.array()?);
            addrs.push(SocketAddr::new(ip, port));
        }
        if !r.0.is_empty() {
            return Err(TicketError::Damaged);
        }
        Ok(Self {
            endpoint,
            secret,
            expires,
            relay: (!relay.is_empty()).then_some(relay),
            addrs,
        })
    }

    /// The text form, `backstory1…`.
    pub fn encode(&self) -> String {
        let mut s = PREFIX.to_string();
        s.push_str(&base32_encode(&self.to_bytes()));
        s
    }

    /// The link form, `backstory://pair/backstory1…`.
    pub fn link(&self) -> String {
        format!("{LINK_PREFIX}{}", self.encode())
    }

    /// Reads a ticket from its text or link form (surrounding whitespace is ignored). Does not
    /// check the expiry: see [`Ticket::check_expiry`].
    pub fn decode(input: &str) -> Result<Self, TicketError> {
        let s: String = input
            .split_whitespace()
            .collect::<String>()
            .to_ascii_lowercase();
        let s = s.strip_prefix(LINK_PREFIX).unwrap_or(&s);
        let body = s.strip_prefix(PREFIX).ok_or(TicketError::NotATicket)?;
        let bytes = base32_decode(body)?;
        Self::from_bytes(&bytes)
    }

    /// The text form as a Backstory of another format version would write it (tests only).
    #[cfg(test)]
    pub(crate) fn encode_as_version(&self, version: u8) -> String {
        let mut b = self.to_bytes();
        b.truncate(b.len() - CHECKSUM);
        b[0] = version;
        let sum = blake3::hash(&b);
        b.extend_from_slice(&sum.as_bytes()[..CHECKSUM]);
        format!("{PREFIX}{}", base32_encode(&b))
    }

    /// Refuses an expired ticket.
    pub fn check_expiry(&self, now_ms: i64) -> Result<(), TicketError> {
        if self.expires <= now_ms {
            Err(TicketError::Expired)
        } else {
            Ok(())
        }
    }

    /// The QR code of the link, drawn with Unicode half blocks for a terminal.
    pub fn qr_terminal(&self) -> String {
        match qrcode::QrCode::new(self.link().to_ascii_uppercase()) {
            Ok(code) => code
                .render::<qrcode::render::unicode::Dense1x2>()
                .quiet_zone(true)
                .build(),
            Err(e) => format!("(no QR code: {e})"),
        }
    }

    /// The QR code of the link as an SVG document.
    pub fn qr_svg(&self) -> String {
        match qrcode::QrCode::new(self.link().to_ascii_uppercase()) {
            Ok(code) => code
                .render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(256, 256)
                .build(),
            Err(_) => String::new(),
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], TicketError> {
        if self.0.len() < n {
            return Err(TicketError::Truncated);
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], TicketError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
}

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buf, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buf = (buf << 8) | b as u32;
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn base32_decode(s: &str) -> Result<Vec<u8>, TicketError> {
    let mut out = Vec::with_capacity(s.len() * 5 / 8);
    let (mut buf, mut bits) = (0u32, 0u32);
    for c in s.bytes() {
        let v = ALPHABET
            .iter()
            .position(|a| *a == c)
            .ok_or(TicketError::BadCharacters)? as u32;
        buf = ((buf << 5) | v) & 0xffff;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> Ticket {
        Ticket {
            endpoint: [1; 32],
            secret: [2; 32],
            expires: 1_800_000_000_000,
            relay: Some("https://relay.example.org./".into()),
            addrs: vec![
                "127.0.0.1:4433".parse().unwrap(),
                "[::1]:9".parse().unwrap(),
            ],
        }
    }

    #[test]
    fn round_trips_as_text_and_link() {
        let t = sample();
        let text = t.encode();
        assert!(text.starts_with("backstory1"));
        assert_eq!(Ticket::decode(&text), Ok(t.clone()));
        assert_eq!(Ticket::decode(&format!("  {}\n", t.link())), Ok(t.clone()));
        assert_eq!(Ticket::decode(&t.link().to_ascii_uppercase()), Ok(t));
    }

    #[test]
    fn each_kind_of_damage_has_its_own_error() {
        let text = sample().encode();
        assert_eq!(Ticket::decode("hello"), Err(TicketError::NotATicket));
        assert_eq!(
            Ticket::decode(&format!("{text}!")),
            Err(TicketError::BadCharacters)
        );
        assert_eq!(
            Ticket::decode(&text[..text.len() - 9]),
            Err(TicketError::Truncated)
        );
        assert_eq!(Ticket::decode(&text[..30]), Err(TicketError::Truncated));
        let mut tampered = text.clone().into_bytes();
        let i = 40;
        tampered[i] = if tampered[i] == b'a' { b'b' } else { b'a' };
        assert_eq!(
            Ticket::decode(std::str::from_utf8(&tampered).unwrap()),
            Err(TicketError::Damaged)
        );
        let t = sample();
        assert_eq!(t.check_expiry(t.expires), Err(TicketError::Expired));
        assert_eq!(t.check_expiry(t.expires - 1), Ok(()));
    }

    #[test]
    fn the_qr_code_reads_back_as_the_ticket() {
        use resvg::{tiny_skia, usvg};
        let t = sample();
        let svg = t.qr_svg();
        let tree = usvg::Tree::from_str(&svg, &usvg::Options::default()).unwrap();
        let size = tree.size().to_int_size();
        let mut pixmap = tiny_skia::Pixmap::new(size.width(), size.height()).unwrap();
        pixmap.fill(tiny_skia::Color::WHITE);
        resvg::render(&tree, tiny_skia::Transform::default(), &mut pixmap.as_mut());
        let (w, h) = (pixmap.width() as usize, pixmap.height() as usize);
        let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| {
            pixmap
                .pixel(x as u32, y as u32)
                .map(|p| p.red())
                .unwrap_or(255)
        });
        let grids = image.detect_grids();
        assert_eq!(grids.len(), 1, "one QR code in the picture");
        let (_, content) = grids[0].decode().unwrap();
        assert_eq!(content, t.link().to_ascii_uppercase());
        assert_eq!(Ticket::decode(&content), Ok(t.clone()));
        assert!(t.qr_terminal().lines().count() > 10);
    }

    proptest! {
        #[test]
        fn any_ticket_round_trips(
            endpoint in any::<[u8; 32]>(), secret in any::<[u8; 32]>(), expires in any::<i64>(),
            relay in proptest::option::of("[a-z:/.]{1,40}"),
            addrs in proptest::collection::vec(any::<(IpAddr, u16)>(), 0..5),
        ) {
            let addrs = addrs.into_iter().map(|(ip, port)| SocketAddr::new(ip, port)).collect();
            let t = Ticket { endpoint, secret, expires, relay, addrs };
            prop_assert_eq!(Ticket::decode(&t.encode()), Ok(t));
        }

        #[test]
        fn decode_never_panics(s in "\\PC{0,200}") {
            let _ = Ticket::decode(&s);
        }

        #[test]
        fn truncation_is_never_accepted(cut in 1usize..60) {
            let text = sample().encode();
            let cut = cut.min(text.len() - PREFIX.len());
            prop_assert!(Ticket::decode(&text[..text.len() - cut]).is_err());
        }
    }
}
