//! Drafts and suggestions, kept durably until they are posted or discarded.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::draft::{Draft, DraftId};

impl Store {
    /// Saves a draft (a new one, or a changed one).
    pub fn save_draft(&self, draft: &Draft) -> Result<(), StoreError> {
        let json = serde_json::to_string(draft).map_err(|e| self.decode("draft", e))?;
        self.conn()
            .execute(
                "INSERT INTO drafts (id, created, draft, suggestion) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT(id) DO UPDATE SET draft = excluded.draft",
                params![
                    draft.id.as_str(),
                    draft.created.millis(),
                    json,
                    draft.source.is_suggestion()
                ],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// One draft.
    pub fn draft(&self, id: &DraftId) -> Result<Option<Draft>, StoreError> {
        let json: Option<String> = self
            .read()
            .query_row(
                "SELECT draft FROM drafts WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        json.map(|j| serde_json::from_str(&j).map_err(|e| self.decode("draft", e)))
            .transpose()
    }

    /// Every draft, newest first. A draft that no longer decodes is skipped and logged rather
    /// than hiding all the others.
    pub fn drafts(&self) -> Result<Vec<Draft>, StoreError> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached("SELECT id, draft FROM drafts ORDER BY created DESC, id")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, json) = row.map_err(|e| self.err(e))?;
            match serde_json::from_str(&json) {
                Ok(d) => out.push(d),
                Err(e) => {
                    tracing::warn!("draft {id} in {} does not decode: {e}", self.path.display())
                }
            }
        }
        Ok(out)
    }

    /// Deletes a draft; reports whether there was one.
    pub fn delete_draft(&self, id: &DraftId) -> Result<bool, StoreError> {
        self.conn()
            .execute("DELETE FROM drafts WHERE id = ?1", [id.as_str()])
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }
}
