//! The pairing protocol (`backstory/pair/1`), independent of the transport: length-prefixed JSON
//! messages on one bidirectional stream.
//!
//! ```text
//! joiner → inviter   Join { secret, name, outbox }
//! inviter → joiner   Pending                    (only when the inviter must approve; then:)
//! inviter → joiner   Accepted { name, outbox }  |  Refused { reason }
//! ```
//! The inviter redeems the ticket and records the contact in one transaction before it answers
//! `Accepted`; the joiner records the contact when it reads it.

use backstory_crdt::Timestamp;
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

pub mod session;

/// The ALPN of the pairing protocol.
pub const ALPN: &[u8] = b"backstory/pair/1";

/// The largest message accepted.
const MAX_MESSAGE: u32 = 64 * 1024;

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

/// The joiner's request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Join {
    /// The ticket's secret, hex.
    pub secret: String,
    /// The joiner's display name.
    pub name: String,
    /// The joiner's outbox document for the inviter.
    pub outbox: String,
    /// The joiner's direct addresses (local mode only).
    #[serde(default)]
    pub addrs: Vec<std::net::SocketAddr>,
}

/// Why a join was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Refusal {
    /// The secret matches no invitation.
    UnknownTicket,
    /// The invitation expired.
    Expired,
    /// The invitation was used already.
    Used,
    /// We are paired already.
    AlreadyPaired,
    /// The inviter said no.
    Denied,
    /// The inviter did not decide in time.
    TimedOut,
    /// The request was malformed.
    BadRequest,
    /// The request named a document already in use on this device (another contact's, or one
    /// of mine): a panel is never shared twice.
    DocumentInUse,
}

/// The inviter's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "answer", rename_all = "snake_case")]
pub enum Answer {
    /// Waiting for the inviter's approval.
    Pending,
    /// Paired.
    Accepted {
        /// The inviter's display name.
        name: String,
        /// The inviter's outbox document for the joiner.
        outbox: String,
    },
    /// Not paired.
    Refused {
        /// Why.
        reason: Refusal,
    },
}

/// Writes one message.
pub async fn send<W: AsyncWrite + Unpin, T: Serialize>(w: &mut W, msg: &T) -> std::io::Result<()> {
    let bytes = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    let len = u32::try_from(bytes.len())
        .ok()
        .filter(|l| *l <= MAX_MESSAGE)
        .ok_or_else(|| std::io::Error::other("message too large"))?;
    w.write_all(&len.to_be_bytes()).await?;
    w.write_all(&bytes).await?;
    w.flush().await
}

/// Reads one message.
pub async fn recv<R: AsyncRead + Unpin, T: DeserializeOwned>(r: &mut R) -> std::io::Result<T> {
    let mut len = [0u8; 4];
    r.read_exact(&mut len).await?;
    let len = u32::from_be_bytes(len);
    if len > MAX_MESSAGE {
        return Err(std::io::Error::other("message too large"));
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf).await?;
    serde_json::from_slice(&buf).map_err(std::io::Error::other)
}

/// Why pairing failed. Nothing is recorded on either side when it does.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PairError {
    /// The ticket could not be read or has expired.
    #[error(transparent)]
    Ticket(#[from] crate::ticket::TicketError),
    /// The ticket is my own.
    #[error("this ticket is your own; give it to the person you want to pair with")]
    SelfPairing,
    /// We are paired already.
    #[error("you are already paired with {0}")]
    AlreadyPaired(String),
    /// The inviter refused.
    #[error("{}", refusal_message(*.0))]
    Refused(Refusal),
    /// The connection broke during pairing.
    #[error("pairing was interrupted: {0}")]
    Lost(String),
}

fn refusal_message(r: Refusal) -> &'static str {
    use Refusal as R;
    match r {
        R::UnknownTicket => {
            "the inviter knows no such ticket (wrong secret, or a ticket they did not make)"
        }
        R::Expired => "the ticket expired; ask for a new one",
        R::Used => "the ticket was used already; each ticket pairs once",
        R::AlreadyPaired => "you are already paired with this person",
        R::Denied => "the inviter declined",
        R::TimedOut => "the inviter did not approve in time",
        R::BadRequest => "the inviter could not read the request",
        R::DocumentInUse => {
            "pairing named a document that is already in use on this device (a panel is never \
             shared twice); pairing refused"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn messages_round_trip_and_oversized_ones_are_refused() {
        let (mut a, mut b) = tokio::io::duplex(1 << 20);
        let join = Join {
            secret: "ab".into(),
            name: "Ann".into(),
            outbox: "doc".into(),
            addrs: vec!["127.0.0.1:1".parse().unwrap()],
        };
        send(&mut a, &join).await.unwrap();
        assert_eq!(recv::<_, Join>(&mut b).await.unwrap(), join);
        a.write_all(&(MAX_MESSAGE + 1).to_be_bytes()).await.unwrap();
        assert!(recv::<_, Join>(&mut b).await.is_err());
    }
}
