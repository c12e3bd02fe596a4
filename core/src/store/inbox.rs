//! What the inbox keeps: which videos were seen on which day, which were rejected for good, and
//! the players whose videos are always allowed.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::contact::ContactId;
use backstory_crdt::Timestamp;
use serde::{Deserialize, Serialize};

/// A player whose sightings are published without asking, to chosen contacts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct AllowRule {
    /// The player's name, as the watcher reports it (`mpv`, `vlc`, …).
    pub player: String,
    /// Who its videos go to.
    pub contacts: Vec<ContactId>,
    /// Since when.
    pub since: Timestamp,
}

impl Store {
    /// Records that the video `key` was seen on `day`; false when it was already, or when it was
    /// rejected — either way, no new suggestion.
    pub fn note_sighting(&self, key: &str, day: &str) -> Result<bool, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let rejected: Option<i64> = tx
            .query_row("SELECT 1 FROM rejected WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))?;
        if rejected.is_some() {
            return Ok(false);
        }
        let added = tx
            .execute(
                "INSERT OR IGNORE INTO sightings (key, day) VALUES (?1, ?2)",
                params![key, day],
            )
            .map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(added > 0)
    }

    /// Never suggests the video `key` again.
    pub fn reject_target(&self, key: &str, at: i64) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO rejected (key, at) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING",
                params![key, at],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Saves an always-allow rule (replacing the player's previous one).
    pub fn set_allow_rule(&self, rule: &AllowRule) -> Result<(), StoreError> {
        let contacts =
            serde_json::to_string(&rule.contacts).map_err(|e| self.decode("allow rule", e))?;
        self.conn()
            .execute(
                "INSERT INTO allow_rules (player, contacts, since) VALUES (?1, ?2, ?3)
                 ON CONFLICT(player) DO UPDATE SET contacts = excluded.contacts, since = excluded.since",
                params![rule.player.to_lowercase(), contacts, rule.since.millis()],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Removes a player's rule; reports whether there was one.
    pub fn remove_allow_rule(&self, player: &str) -> Result<bool, StoreError> {
        self.conn()
            .execute(
                "DELETE FROM allow_rules WHERE player = ?1",
                [player.to_lowercase()],
            )
            .map(|n| n > 0)
            .map_err(|e| self.err(e))
    }

    /// The rule for a player (names compared without case), if any.
    pub fn allow_rule(&self, player: &str) -> Result<Option<AllowRule>, StoreError> {
        Ok(self
            .allow_rules()?
            .into_iter()
            .find(|r| r.player.eq_ignore_ascii_case(player)))
    }

    /// Every always-allow rule.
    pub fn allow_rules(&self) -> Result<Vec<AllowRule>, StoreError> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached("SELECT player, contacts, since FROM allow_rules ORDER BY player")
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, i64>(2)?,
                ))
            })
            .map_err(|e| self.err(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (player, contacts, since) = row.map_err(|e| self.err(e))?;
            let contacts: Vec<ContactId> =
                serde_json::from_str(&contacts).map_err(|e| self.decode("allow rule", e))?;
            out.push(AllowRule {
                player,
                contacts,
                since: backstory_crdt::Timestamp(since),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_video_is_new_once_a_day_and_never_again_once_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert!(store.note_sighting("/v/a.mkv", "2026-12-03").unwrap());
        assert!(!store.note_sighting("/v/a.mkv", "2026-12-03").unwrap());
        assert!(store.note_sighting("/v/a.mkv", "2026-12-04").unwrap());
        store.reject_target("/v/a.mkv", 1).unwrap();
        drop(store);
        // Kept across a restart, and on every later day.
        let store = Store::open(dir.path()).unwrap();
        assert!(!store.note_sighting("/v/a.mkv", "2026-12-05").unwrap());
        assert!(!store.note_sighting("/v/a.mkv", "2027-01-01").unwrap());
        assert!(store.note_sighting("/v/b.mkv", "2027-01-01").unwrap());
    }

    #[test]
    fn allow_rules_are_kept_per_player_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let rule = AllowRule {
            player: "MPV".into(),
            contacts: vec![ContactId::new("c1")],
            since: backstory_crdt::Timestamp(5),
        };
        store.set_allow_rule(&rule).unwrap();
        store
            .set_allow_rule(&AllowRule {
                contacts: vec![ContactId::new("c2")],
                ..rule
            })
            .unwrap();
        let rules = store.allow_rules().unwrap();
        assert_eq!(rules.len(), 1);
        assert_eq!(rules[0].player, "mpv");
        assert_eq!(rules[0].contacts, vec![ContactId::new("c2")]);
        assert!(store.remove_allow_rule("mpv").unwrap());
        assert!(!store.remove_allow_rule("mpv").unwrap());
    }
}
