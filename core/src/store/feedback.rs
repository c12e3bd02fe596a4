//! Per-contact read receipts, and which chat items from a contact were announced and read.

use std::collections::HashSet;

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::contact::ContactId;

/// Which of a contact's chat items this device has announced, and which I have read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ChatMarks {
    /// Items a notice was given for.
    pub notified: HashSet<String>,
    /// Items I have read.
    pub read: HashSet<String>,
}

impl Store {
    /// Whether I turned read receipts off for one contact.
    pub fn receipts_off(&self, contact: &ContactId) -> Result<bool, StoreError> {
        self.read()
            .query_row(
                "SELECT off FROM contact_receipts WHERE contact = ?1",
                [contact.as_str()],
                |r| r.get::<_, bool>(0),
            )
            .optional()
            .map(|o| o.unwrap_or(false))
            .map_err(|e| self.err(e))
    }

    /// Turns read receipts off (or back on) for one contact.
    pub fn set_receipts_off(&self, contact: &ContactId, off: bool) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO contact_receipts (contact, off) VALUES (?1, ?2)
                 ON CONFLICT(contact) DO UPDATE SET off = excluded.off",
                params![contact.as_str(), off],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// The marks on a contact's chat items.
    pub fn chat_marks(&self, contact: &ContactId) -> Result<ChatMarks, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached("SELECT item, notified, read FROM chat_marks WHERE contact = ?1")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([contact.as_str()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, bool>(1)?,
                    r.get::<_, bool>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut marks = ChatMarks::default();
        for row in rows {
            let (item, notified, read) = row.map_err(|e| self.err(e))?;
            if notified {
                marks.notified.insert(item.clone());
            }
            if read {
                marks.read.insert(item);
            }
        }
        Ok(marks)
    }

    /// Marks items as announced (`read` false) or read (`read` true), in one transaction.
    pub fn mark_chat(
        &self,
        contact: &ContactId,
        items: &[String],
        read: bool,
    ) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        {
            let sql = if read {
                "INSERT INTO chat_marks (contact, item, notified, read) VALUES (?1, ?2, 1, 1)
                 ON CONFLICT(contact, item) DO UPDATE SET notified = 1, read = 1"
            } else {
                "INSERT INTO chat_marks (contact, item, notified) VALUES (?1, ?2, 1)
                 ON CONFLICT(contact, item) DO UPDATE SET notified = 1"
            };
            let mut stmt = tx.prepare_cached(sql).map_err(|e| self.err(e))?;
            for item in items {
                stmt.execute(params![contact.as_str(), item])
                    .map_err(|e| self.err(e))?;
            }
        }
        tx.commit().map_err(|e| self.err(e))
    }
}
