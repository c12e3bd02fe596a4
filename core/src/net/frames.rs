//! Framing of the sync stream: a 4-byte big-endian length, then the message (the layout samod's
//! own framing uses), deflated ([`Deflated`]). Unlike a stock length-delimited codec, a frame's announced length is only
//! checked, never reserved: memory grows with the bytes that actually arrive, so a peer announcing
//! a huge frame and sending nothing costs nothing, and one over [`MAX_FRAME`] ends the stream.
//!
//! Incoming messages then pass a [`Gate`]: one about a document no access rule names for the
//! sending peer is dropped before samod sees it, since samod would load (and keep) a document
//! for every id a peer mentions.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::{Buf, BufMut, BytesMut};
use futures::{StreamExt, TryStreamExt};
use samod::{ShareAccess, Transport};
use tokio::sync::watch;
use tokio_util::codec::{Decoder, Encoder, Framed};

use crate::access::{AccessTable, decide};

mod deflated;
pub use deflated::Deflated;

/// The largest sync message taken from a peer (or sent to one).
pub const MAX_FRAME: usize = 128 << 20;

/// The codec: length-prefixed frames up to a maximum.
#[derive(Debug, Clone, Copy)]
pub struct Frames {
    max: usize,
}

impl Frames {
    /// Frames of at most `max` bytes.
    pub fn new(max: usize) -> Self {
        Self { max }
    }

    pub(crate) fn too_big(&self, len: usize) -> std::io::Error {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "a sync message of {len} bytes is over the {}-byte limit",
                self.max
            ),
        )
    }
}

impl Decoder for Frames {
    type Item = BytesMut;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<BytesMut>, std::io::Error> {
        let Some(head) = src.get(..4) else {
            return Ok(None);
        };
        let mut len = [0u8; 4];
        len.copy_from_slice(head);
        let len = u32::from_be_bytes(len) as usize;
        if len > self.max {
            return Err(self.too_big(len));
        }
        if src.len() < 4 + len {
            // Wait for more; the reader grows the buffer as bytes come, not to `len` now.
            return Ok(None);
        }
        src.advance(4);
        Ok(Some(src.split_to(len)))
    }
}

impl Encoder<Vec<u8>> for Frames {
    type Error = std::io::Error;

    fn encode(&mut self, item: Vec<u8>, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        let len = u32::try_from(item.len())
            .ok()
            .filter(|l| *l as usize <= self.max)
            .ok_or_else(|| self.too_big(item.len()))?;
        dst.reserve(4 + item.len());
        dst.put_u32(len);
        dst.extend_from_slice(&item);
        Ok(())
    }
}

/// Which incoming messages one peer's connection lets through: the access table as it is now.
#[derive(Clone, Debug)]
pub struct Gate {
    table: watch::Receiver<Arc<AccessTable>>,
    dropped: Arc<AtomicU64>,
}

impl Gate {
    /// A gate following `table`, counting what it drops in `dropped`.
    pub fn new(table: watch::Receiver<Arc<AccessTable>>, dropped: Arc<AtomicU64>) -> Self {
        Self { table, dropped }
    }

    /// Whether a message from `peer` goes on to samod: connection-level messages and those
    /// about a document the peer may read or write do; those about any other document, and
    /// bytes that are no message at all, do not.
    pub fn admits(&self, peer: &str, frame: &[u8]) -> bool {
        let pass = match samod_core::network::wire_message_document(frame) {
            Ok(None) => true,
            Ok(Some(doc)) => {
                decide(&self.table.borrow(), &doc.to_string(), peer).access != ShareAccess::None
            }
            Err(_) => false,
        };
        if !pass {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
        pass
    }
}

/// The sync protocol's messages over a byte stream: [`Deflated`] frames of at most
/// [`MAX_FRAME`] bytes. What [`transport`] speaks, for a program that talks to a device directly.
pub fn messages<S>(io: S) -> Framed<S, Deflated>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite,
{
    Framed::new(io, Deflated::new(MAX_FRAME))
}

/// A samod transport over a byte stream between this device (`me`) and `peer`, speaking
/// [`messages`], its incoming messages passing `gate`.
pub fn transport<S>(io: S, me: iroh::EndpointId, peer: String, gate: Gate) -> Transport
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sink, stream) = messages(io).split();
    let stream = stream.try_filter_map(move |message| {
        let keep = gate.admits(&peer, &message).then_some(message);
        crate::stage::reached(crate::stage::RECEIVE, me);
        futures::future::ready(Ok(keep))
    });
    Transport::new(Box::pin(stream), sink)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::SinkExt;

    #[tokio::test]
    async fn frames_round_trip_in_samods_layout() {
        let (a, b) = tokio::io::duplex(1 << 16);
        let mut tx = Framed::new(a, Frames::new(1024));
        let mut rx = Framed::new(b, Frames::new(1024));
        tx.send(b"hello".to_vec()).await.unwrap();
        tx.send(Vec::new()).await.unwrap();
        assert_eq!(&rx.next().await.unwrap().unwrap()[..], b"hello");
        assert!(rx.next().await.unwrap().unwrap().is_empty());
        let mut stock = BytesMut::new();
        Frames::new(1024)
            .encode(b"abc".to_vec(), &mut stock)
            .unwrap();
        assert_eq!(&stock[..], b"\0\0\0\x03abc");
        assert!(Frames::new(2).encode(b"abc".to_vec(), &mut stock).is_err());
    }

    #[test]
    fn the_gate_drops_messages_about_documents_the_peer_has_no_rule_for() {
        use crate::access::DocAccess;
        // Wire messages as samod writes them: a CBOR map.
        fn message(kind: &str, doc: Option<&samod::DocumentId>) -> Vec<u8> {
            let mut out = Vec::new();
            let mut e = minicbor::Encoder::new(&mut out);
            let fields = if doc.is_some() { 5 } else { 2 };
            e.map(fields).unwrap();
            e.str("type").unwrap().str(kind).unwrap();
            e.str("senderId").unwrap().str("bob").unwrap();
            if let Some(doc) = doc {
                e.str("targetId").unwrap().str("me").unwrap();
                e.str("documentId").unwrap().str(&doc.to_string()).unwrap();
                e.str("data").unwrap().bytes(b"").unwrap();
            }
            out
        }
        let shared = samod::DocumentId::try_from(vec![1u8; 16]).unwrap();
        let other = samod::DocumentId::try_from(vec![2u8; 16]).unwrap();
        let mut table = AccessTable::new();
        table.insert(
            shared.to_string(),
            DocAccess {
                owner: "bob".into(),
                readers: Vec::new(),
                paused: false,
            },
        );
        let (_tx, rx) = watch::channel(Arc::new(table));
        let dropped = Arc::new(AtomicU64::new(0));
        let gate = Gate::new(rx, dropped.clone());
        assert!(gate.admits("bob", &message("request", Some(&shared))));
        assert!(!gate.admits("bob", &message("request", Some(&other))));
        assert!(!gate.admits("carol", &message("sync", Some(&shared))));
        assert!(gate.admits("bob", &message("leave", None)));
        assert!(!gate.admits("bob", b"not a message"));
        assert_eq!(dropped.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn an_announced_length_is_checked_but_never_reserved() {
        let mut codec = Frames::new(MAX_FRAME);
        let mut src = BytesMut::new();
        src.put_u32(100 << 20);
        src.extend_from_slice(b"only a little");
        assert!(codec.decode(&mut src).unwrap().is_none());
        assert!(
            src.capacity() < 1 << 20,
            "reserved {} bytes for a frame that has not come",
            src.capacity()
        );
        let mut huge = BytesMut::new();
        huge.put_u32(u32::MAX);
        let e = codec.decode(&mut huge).unwrap_err();
        assert!(e.to_string().contains("over the"), "{e}");
    }
}
