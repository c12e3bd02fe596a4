//! Compression of the sync stream: each direction of a connection is one raw deflate stream,
//! flushed at the end of every message, so a message is decodable as soon as its frame arrives
//! and what messages repeat (samod's envelope names both peers and the document in full, every
//! time; a change names the change before it) costs a back-reference instead of its bytes.
//!
//! A peer's bytes are inflated only up to the frame limit: a small frame that would inflate past
//! it ends the stream instead of taking memory.

use bytes::BytesMut;
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use tokio_util::codec::{Decoder, Encoder};

use super::Frames;

/// Length-prefixed frames, each one deflated message; one deflate stream per direction.
pub struct Deflated {
    frames: Frames,
    max: usize,
    out: Compress,
    inn: Decompress,
}

impl std::fmt::Debug for Deflated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deflated")
            .field("max", &self.max)
            .field("sent_in", &self.out.total_in())
            .field("sent_out", &self.out.total_out())
            .finish()
    }
}

fn invalid(what: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, what)
}

impl Deflated {
    /// Messages of at most `max` bytes, before and after compression.
    pub fn new(max: usize) -> Self {
        Self {
            frames: Frames::new(max),
            max,
            // Messages are small and latency counts: the fastest level finds the repeats.
            out: Compress::new(Compression::fast(), false),
            inn: Decompress::new(false),
        }
    }

    fn deflate(&mut self, message: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out = Vec::with_capacity(message.len() / 2 + 64);
        let start = self.out.total_in();
        loop {
            let taken = (self.out.total_in() - start) as usize;
            let rest = message.get(taken..).unwrap_or_default();
            self.out
                .compress_vec(rest, &mut out, FlushCompress::Sync)
                .map_err(|e| invalid(format!("cannot compress a sync message: {e}")))?;
            let taken = (self.out.total_in() - start) as usize;
            if taken == message.len() && out.len() < out.capacity() {
                return Ok(out);
            }
            out.reserve(out.capacity().max(64));
        }
    }

    fn inflate(&mut self, frame: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut out: Vec<u8> = Vec::with_capacity((frame.len() * 4).clamp(64, self.max.max(64)));
        let start = self.inn.total_in();
        loop {
            let taken = (self.inn.total_in() - start) as usize;
            let rest = frame.get(taken..).unwrap_or_default();
            let before = out.len();
            let status = self
                .inn
                .decompress_vec(rest, &mut out, FlushDecompress::Sync)
                .map_err(|e| invalid(format!("a sync message does not inflate: {e}")))?;
            let now_taken = (self.inn.total_in() - start) as usize;
            if out.len() > self.max {
                return Err(invalid(format!(
                    "a sync message inflates past the {}-byte limit",
                    self.max
                )));
            }
            if now_taken == frame.len() && out.len() < out.capacity() {
                return Ok(out);
            }
            if status == Status::StreamEnd
                || (now_taken == taken && out.len() == before && out.len() < out.capacity())
            {
                return Err(invalid("a sync message ends the deflate stream".into()));
            }
            if out.len() == out.capacity() {
                if out.len() >= self.max {
                    return Err(invalid(format!(
                        "a sync message inflates past the {}-byte limit",
                        self.max
                    )));
                }
                let more = out.capacity().min(self.max - out.len() + 1);
                out.reserve_exact(more);
            }
        }
    }
}

impl Decoder for Deflated {
    type Item = Vec<u8>;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Vec<u8>>, std::io::Error> {
        match self.frames.decode(src)? {
            Some(frame) => self.inflate(&frame).map(Some),
            None => Ok(None),
        }
    }
}

impl Encoder<Vec<u8>> for Deflated {
    type Error = std::io::Error;

    fn encode(&mut self, item: Vec<u8>, dst: &mut BytesMut) -> Result<(), std::io::Error> {
        if item.len() > self.max {
            return Err(self.frames.too_big(item.len()));
        }
        let packed = self.deflate(&item)?;
        self.frames.encode(packed, dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(tx: &mut Deflated, msg: &[u8]) -> BytesMut {
        let mut wire = BytesMut::new();
        tx.encode(msg.to_vec(), &mut wire).unwrap();
        wire
    }

    #[test]
    fn messages_round_trip_and_repeats_cost_little() {
        let (mut tx, mut rx) = (Deflated::new(1 << 20), Deflated::new(1 << 20));
        let envelope = format!("sync {} {} doc", "a".repeat(64), "b".repeat(64));
        let first = send(&mut tx, envelope.as_bytes());
        let again = send(&mut tx, envelope.as_bytes());
        assert!(
            again.len() < 24,
            "a repeated message took {} bytes",
            again.len()
        );
        let mut wire = first;
        wire.extend_from_slice(&again);
        wire.extend_from_slice(&send(&mut tx, b""));
        let big: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
        wire.extend_from_slice(&send(&mut tx, &big));
        for want in [envelope.as_bytes(), envelope.as_bytes(), b"", &big[..]] {
            assert_eq!(rx.decode(&mut wire).unwrap().unwrap(), want);
        }
        assert!(wire.is_empty());
        assert!(rx.decode(&mut wire).unwrap().is_none());
    }

    #[test]
    fn a_small_frame_that_inflates_past_the_limit_ends_the_stream() {
        let mut tx = Deflated::new(1 << 24);
        let mut wire = send(&mut tx, &vec![0u8; 1 << 22]);
        assert!(wire.len() < 1 << 16, "{} bytes", wire.len());
        let e = Deflated::new(1 << 20).decode(&mut wire).unwrap_err();
        assert!(e.to_string().contains("past the"), "{e}");
    }

    #[test]
    fn bytes_that_are_no_deflate_stream_end_it() {
        let mut wire = BytesMut::new();
        Frames::new(1024).encode(vec![0xff; 40], &mut wire).unwrap();
        let e = Deflated::new(1024).decode(&mut wire).unwrap_err();
        assert!(e.to_string().contains("inflate"), "{e}");
    }
}
