//! The last view computed of each contact's panel for me, with the seen heads it was computed
//! against: answers a window before the panel's document is loaded (loading a long history takes
//! a while), and is put right, with an event, once it is.

use std::sync::Arc;

use backstory_crdt::PanelChanges;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::contact::ContactId;

/// A view of their panel as last computed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CachedPanel {
    /// Their panel's document.
    pub doc: String,
    /// The heads I had seen it at.
    pub seen: Vec<String>,
    /// What it showed (shared with the view kept in memory).
    pub changes: Arc<PanelChanges>,
}

impl Store {
    /// The last view of a contact's panel (an unreadable one counts as none).
    pub fn panel_view(&self, contact: &ContactId) -> Result<Option<CachedPanel>, StoreError> {
        let row = self
            .read()
            .query_row(
                "SELECT doc, seen, changes FROM panel_views WHERE contact = ?1",
                [contact.as_str()],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                    ))
                },
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(doc, seen, changes)| {
            Some(CachedPanel {
                doc,
                seen: serde_json::from_str(&seen).ok()?,
                changes: Arc::new(serde_json::from_str(&changes).ok()?),
            })
        }))
    }

    /// Records the views of several panels at once.
    pub fn set_panel_views(&self, views: &[(ContactId, CachedPanel)]) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        for (contact, view) in views {
            let seen = serde_json::to_string(&view.seen).unwrap_or_else(|_| "[]".into());
            let Ok(changes) = serde_json::to_string(&*view.changes) else {
                continue;
            };
            tx.execute(
                "INSERT INTO panel_views (contact, doc, seen, changes) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(contact) DO UPDATE SET doc = excluded.doc, seen = excluded.seen,
                     changes = excluded.changes",
                params![contact.as_str(), view.doc, seen, changes],
            )
            .map_err(|e| self.err(e))?;
        }
        tx.commit().map_err(|e| self.err(e))
    }
}
