//! What each contact's outbox is known to hold durably: the digest of the last projection
//! written into it, and the recordings of my comments in it. With it a start skips loading the
//! outboxes whose projection has not changed since.

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
    /// The hashes of the recordings of my comments in it.
    pub comment_audio: Vec<String>,
}

impl Store {
    /// The mark of a contact's outbox, if one was made (an unreadable one counts as none).
    pub fn outbox_mark(&self, contact: &ContactId) -> Result<Option<OutboxMark>, StoreError> {
        let row = self
            .conn()
            .query_row(
                "SELECT outbox, projection, comment_audio FROM outbox_marks WHERE contact = ?1",
                [contact.as_str()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, Vec<u8>>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(outbox, projection, audio)| {
            Some(OutboxMark {
                outbox,
                projection: projection.try_into().ok()?,
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
                "INSERT INTO outbox_marks (contact, outbox, projection, comment_audio)
                 VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(contact) DO UPDATE SET outbox = excluded.outbox,
                     projection = excluded.projection, comment_audio = excluded.comment_audio",
                params![
                    contact.as_str(),
                    mark.outbox,
                    mark.projection.as_slice(),
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
        self.conn()
            .query_row("SELECT 1 FROM docs WHERE key = ?1", [key], |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
            .map_err(|e| self.err(e))
    }
}
