//! Framing of the sync stream: a 4-byte big-endian length, then the message (the layout samod's
//! own framing uses). Unlike a stock length-delimited codec, a frame's announced length is only
//! checked, never reserved: memory grows with the bytes that actually arrive, so a peer announcing
//! a huge frame and sending nothing costs nothing, and one over [`MAX_FRAME`] ends the stream.

use bytes::{Buf, BufMut, BytesMut};
use futures::{StreamExt, TryStreamExt};
use samod::Transport;
use tokio_util::codec::{Decoder, Encoder, Framed};

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

    fn too_big(&self, len: usize) -> std::io::Error {
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

/// A samod transport over a byte stream, framed by [`Frames`] with [`MAX_FRAME`].
pub fn transport<S>(io: S) -> Transport
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sink, stream) = Framed::new(io, Frames::new(MAX_FRAME)).split();
    Transport::new(stream.map_ok(|b| b.to_vec()), sink)
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
