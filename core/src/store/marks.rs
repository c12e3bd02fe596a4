//! What each contact's outbox is known to hold durably: the digest of the last projection
//! written into it, the chunks the store held for it then, and the recordings of my comments in
//! it. With it a start skips loading the outboxes whose projection and chunks have not changed
//! since.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::contact::ContactId;

/// A contact's outbox as last made durable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxMark {
    /// The outbox document the mark is about.
    pub outbox: String,
    /// The digest of the projection it holds.
    pub projection: [u8; 32],
    /// The digest of the names of its stored chunks ([`Store::doc_chunks`]) when the mark was
    /// made: a chunk written since (a later publication that became durable when the one after
    /// it did not) makes the mark vouch for nothing.
    pub chunks: [u8; 32],
    /// The hashes of the recordings of my comments in it.
    pub comment_audio: Vec<String>,
}

impl Store {
    /// The mark of a contact's outbox, if one was made (an unreadable one counts as none).
    pub fn outbox_mark(&self, contact: &ContactId) -> Result<Option<OutboxMark>, StoreError> {
        let row = self
            .read()
            .query_row(
                "SELECT outbox, projection, chunks, comment_audio FROM outbox_marks
                 WHERE contact = ?1",
                [contact.as_str()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, Vec<u8>>(2)?,
                        r.get::<_, String>(3)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(outbox, projection, chunks, audio)| {
            Some(OutboxMark {
                outbox,
                projection: projection.try_into().ok()?,
                chunks: chunks.try_into().ok()?,
                comment_audio: serde_json::from_str(&audio).ok()?,
            })
        }))
    }

    /// Records a contact's outbox mark.
    pub fn set_outbox_mark(
        &self,
        contact: &ContactId,
        mark: &OutboxMark,
    ) -> Result<(), StoreError> {
        let audio = serde_json::to_string(&mark.comment_audio).unwrap_or_else(|_| "[]".into());
        self.conn()
            .execute(
                "INSERT INTO outbox_marks (contact, outbox, projection, chunks, comment_audio)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT(contact) DO UPDATE SET outbox = excluded.outbox,
                     projection = excluded.projection, chunks = excluded.chunks,
                     comment_audio = excluded.comment_audio",
                params![
                    contact.as_str(),
                    mark.outbox,
                    mark.projection.as_slice(),
                    mark.chunks.as_slice(),
                    audio
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Forgets a contact's outbox mark: the next start loads the outbox.
    pub fn forget_outbox_mark(&self, contact: &ContactId) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "DELETE FROM outbox_marks WHERE contact = ?1",
                [contact.as_str()],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Whether a document chunk is in the store.
    pub fn doc_has(&self, key: &str) -> Result<bool, StoreError> {
        self.read()
            .query_row("SELECT 1 FROM docs WHERE key = ?1", [key], |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
            .map_err(|e| self.err(e))
    }

    /// The digest of the names of a document's stored changes and snapshots, in order (its
    /// per-peer sync states left out). Changes and snapshots are named by their content, so
    /// equal digests mean the same stored document.
    pub fn doc_chunks(&self, doc: &str) -> Result<[u8; 32], StoreError> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key FROM docs WHERE (key >= ?1 AND key < ?2) OR (key >= ?3 AND key < ?4)
                 ORDER BY key",
            )
            .map_err(|e| self.err(e))?;
        let (changes, snapshots) = (format!("{doc}/incremental/"), format!("{doc}/snapshot/"));
        let (changes_end, snapshots_end) =
            (format!("{doc}/incremental0"), format!("{doc}/snapshot0"));
        let mut rows = stmt
            .query(params![changes, changes_end, snapshots, snapshots_end])
            .map_err(|e| self.err(e))?;
        let mut hasher = blake3::Hasher::new();
        while let Some(row) = rows.next().map_err(|e| self.err(e))? {
            let key: String = row.get(0).map_err(|e| self.err(e))?;
            hasher.update(key.as_bytes());
            hasher.update(b"\n");
        }
        Ok(hasher.finalize().into())
    }
}
