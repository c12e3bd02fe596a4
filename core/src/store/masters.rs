//! Master panels, an entry to a row: a change writes the entries it changed, not the whole
//! panel, so an edit costs the same in a panel of one entry and of a thousand. `masters` holds
//! each panel's categories; `master_entries` each entry with its rule, in creation order (`pos`),
//! and says whose panel holds an entry.

use backstory_crdt::{Category, EntryId, MasterEntry, MasterPanel};
use rusqlite::{Connection, OptionalExtension, params};

use super::{Store, StoreError, Unsynced, contact_row};
use crate::contact::{Contact, ContactId};

/// A master panel encoded for its rows: its categories, and each entry's id and value in order.
pub(super) struct Encoded {
    categories: String,
    entries: Vec<(String, String)>,
}

impl Encoded {
    fn of(master: &MasterPanel) -> Result<Self, serde_json::Error> {
        Ok(Self {
            categories: serde_json::to_string(&master.categories)?,
            entries: master
                .entries
                .iter()
                .map(|e| Ok((e.entry.id.as_str().to_string(), serde_json::to_string(e)?)))
                .collect::<Result<_, serde_json::Error>>()?,
        })
    }

    /// Writes every entry, in order, into the contact's rows.
    fn put_entries(&self, conn: &Connection, contact: &str) -> rusqlite::Result<()> {
        for (entry, data) in &self.entries {
            put_entry(conn, contact, entry, data)?;
        }
        Ok(())
    }
}

impl Store {
    pub(super) fn encode_master(&self, master: &MasterPanel) -> Result<Encoded, StoreError> {
        Encoded::of(master).map_err(|e| self.decode("panel", e))
    }

    /// The master panel for a contact.
    pub fn master(&self, id: &ContactId) -> Result<MasterPanel, StoreError> {
        let conn = self.read();
        // One read transaction: the categories and the entries as one commit left them.
        let tx = conn.unchecked_transaction().map_err(|e| self.err(e))?;
        let categories: String = tx
            .prepare_cached("SELECT categories FROM masters WHERE contact = ?1")
            .and_then(|mut s| s.query_row([id.as_str()], |r| r.get(0)))
            .map_err(|e| self.err(e))?;
        let rows: Vec<String> = tx
            .prepare_cached("SELECT data FROM master_entries WHERE contact = ?1 ORDER BY pos")
            .and_then(|mut s| {
                s.query_map([id.as_str()], |r| r.get(0))?
                    .collect::<Result<_, _>>()
            })
            .map_err(|e| self.err(e))?;
        drop(tx);
        let decode = |e: serde_json::Error| self.decode("panel", e);
        Ok(MasterPanel {
            categories: serde_json::from_str::<Vec<Category>>(&categories).map_err(decode)?,
            entries: rows
                .iter()
                .map(|r| serde_json::from_str::<MasterEntry>(r))
                .collect::<Result<_, _>>()
                .map_err(decode)?,
        })
    }

    /// The contact whose panel holds an entry.
    pub fn contact_holding(&self, entry: &EntryId) -> Result<Option<Contact>, StoreError> {
        self.read()
            .prepare_cached(
                "SELECT c.id, c.name, c.created, c.outbox, c.inbound, c.peer
                 FROM master_entries e JOIN contacts c ON c.id = e.contact WHERE e.entry = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([entry.as_str()], contact_row).optional())
            .map_err(|e| self.err(e))
    }
}

impl Unsynced<'_> {
    /// Saves what a change did to a master panel, in one transaction: its categories, and each
    /// entry in `touched` as the panel has it now (written, or deleted when it is gone). It is
    /// durable once a later commit syncs or [`Store::sync_wal`] runs.
    pub fn save_master(
        &self,
        id: &ContactId,
        master: &MasterPanel,
        touched: &[EntryId],
    ) -> Result<(), StoreError> {
        let store = self.store;
        let json = |e: serde_json::Error| store.decode("panel", e);
        let categories = serde_json::to_string(&master.categories).map_err(json)?;
        let rows = touched
            .iter()
            .map(|t| Ok((t, master.entry(t).map(serde_json::to_string).transpose()?)))
            .collect::<Result<Vec<_>, serde_json::Error>>()
            .map_err(json)?;
        let write = || -> rusqlite::Result<()> {
            let tx = self.conn.unchecked_transaction()?;
            tx.prepare_cached("UPDATE masters SET categories = ?2 WHERE contact = ?1")?
                .execute(params![id.as_str(), categories])?;
            for (entry, data) in rows {
                match data {
                    Some(data) => put_entry(&tx, id.as_str(), entry.as_str(), &data)?,
                    None => {
                        tx.prepare_cached(
                            "DELETE FROM master_entries WHERE entry = ?1 AND contact = ?2",
                        )?
                        .execute(params![entry.as_str(), id.as_str()])?;
                    }
                }
            }
            tx.commit()
        };
        write().map_err(|e| store.err(e))
    }
}

/// Writes an entry of a contact's master: in place, or after the panel's last entry when new.
/// An id another contact's panel holds is refused (the primary key), never overwritten.
fn put_entry(conn: &Connection, contact: &str, entry: &str, data: &str) -> rusqlite::Result<()> {
    let updated = conn
        .prepare_cached("UPDATE master_entries SET data = ?3 WHERE entry = ?1 AND contact = ?2")?
        .execute(params![entry, contact, data])?;
    if updated == 0 {
        conn.prepare_cached(
            "INSERT INTO master_entries (entry, contact, pos, data) VALUES (?1, ?2,
                 (SELECT COALESCE(MAX(pos), -1) + 1 FROM master_entries WHERE contact = ?2), ?3)",
        )?
        .execute(params![entry, contact, data])?;
    }
    Ok(())
}

/// Records a new contact's master panel (inside the transaction that records the contact).
pub(super) fn insert_master(
    conn: &Connection,
    contact: &str,
    master: &Encoded,
) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO masters (contact, categories) VALUES (?1, ?2)",
        params![contact, master.categories],
    )?;
    master.put_entries(conn, contact)
}

/// Schema 8: each master panel, stored until then as one value, is split into its categories
/// and a row per entry (which also replaces the index of whose panel holds an entry). Runs
/// inside the migration's transaction; a panel that cannot be read stops it, changing nothing.
pub(super) fn split_masters(conn: &Connection) -> Result<(), SplitError> {
    conn.execute_batch(
        "CREATE TABLE master_entries (
             entry TEXT PRIMARY KEY,
             contact TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
             pos INTEGER NOT NULL,
             data TEXT NOT NULL);
         CREATE INDEX master_entries_order ON master_entries(contact, pos);
         ALTER TABLE masters RENAME COLUMN panel TO categories;
         DROP TABLE entry_index;",
    )?;
    let panels: Vec<(String, String)> = conn
        .prepare("SELECT contact, categories FROM masters")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    for (contact, json) in panels {
        let master = Encoded::of(&serde_json::from_str(&json)?)?;
        conn.execute(
            "UPDATE masters SET categories = ?2 WHERE contact = ?1",
            params![contact, master.categories],
        )?;
        master.put_entries(conn, &contact)?;
    }
    Ok(())
}

/// Why a master panel could not be split.
#[derive(Debug, thiserror::Error)]
pub(super) enum SplitError {
    #[error(transparent)]
    Sql(#[from] rusqlite::Error),
    #[error("a master panel cannot be read: {0}")]
    Json(#[from] serde_json::Error),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail loudly by design

    use std::sync::Arc;

    use backstory_crdt::{
        CategoryId, DefaultCategory, Entry, Kind, MasterEdit, Source, Timestamp, Visibility,
    };

    use super::*;

    fn contact(id: &str) -> Contact {
        Contact {
            id: ContactId::new(id.to_string()),
            name: id.to_string(),
            created: Timestamp(1),
            outbox: format!("outbox-{id}"),
            inbound: None,
            peer: None,
        }
    }

    fn entry(id: &str, text: &str) -> MasterEntry {
        MasterEntry {
            entry: Arc::new(Entry {
                id: EntryId::new(id),
                category: DefaultCategory::Travel.id(),
                kind: Kind::Text,
                text: text.to_string(),
                created: Timestamp(2),
                edited: Timestamp(2),
                source: Source::Manual,
            }),
            visibility: Visibility::Visible,
            note: None,
        }
    }

    /// Applies `change` to the master as stored, saves what it touched, and checks that the
    /// store reads back exactly the panel changed in memory.
    fn change(store: &Store, c: &ContactId, change: impl FnOnce(&mut MasterEdit<'_>)) {
        let mut master = store.master(c).unwrap();
        let mut edit = MasterEdit::new(&mut master);
        change(&mut edit);
        let touched = edit.touched().to_vec();
        store
            .unsynced(|u| u.save_master(c, &master, &touched))
            .unwrap();
        assert_eq!(store.master(c).unwrap(), master);
    }

    #[test]
    fn a_change_saves_the_entries_it_touched_and_the_panel_reads_back_whole() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let (ann, bob) = (contact("ann"), contact("bob"));
        store.insert_contact(&ann, &MasterPanel::default()).unwrap();
        store.insert_contact(&bob, &MasterPanel::default()).unwrap();
        change(&store, &ann.id, |m| {
            for i in 0..4 {
                m.add_entry(entry(&format!("e{i}"), "first")).unwrap();
            }
        });
        change(&store, &bob.id, |m| {
            m.add_entry(entry("b0", "bob's")).unwrap()
        });
        change(&store, &ann.id, |m| {
            m.remove_entry(&EntryId::new("e1")).unwrap();
            m.set_text(&EntryId::new("e2"), "second".into(), Timestamp(3))
                .unwrap();
        });
        // Added after a removal: still last, in creation order.
        change(&store, &ann.id, |m| {
            m.add_entry(entry("e4", "late")).unwrap()
        });
        change(&store, &ann.id, |m| {
            m.remove_category(&DefaultCategory::Travel.id(), Timestamp(4))
                .unwrap();
        });
        let ids: Vec<_> = store.master(&ann.id).unwrap().entries;
        let ids: Vec<&str> = ids.iter().map(|e| e.entry.id.as_str()).collect();
        assert_eq!(ids, ["e0", "e2", "e3", "e4"]);
        assert_eq!(
            store.contact_holding(&EntryId::new("b0")).unwrap(),
            Some(bob.clone())
        );
        assert_eq!(store.contact_holding(&EntryId::new("e1")).unwrap(), None);
        assert_eq!(store.master(&bob.id).unwrap().entries.len(), 1);

        // An id another panel holds is refused, and the change is not half saved.
        let mut master = store.master(&ann.id).unwrap();
        let mut edit = MasterEdit::new(&mut master);
        edit.set_text(&EntryId::new("e0"), "changed".into(), Timestamp(5))
            .unwrap();
        let mut taken = entry("b0", "taken");
        Arc::make_mut(&mut taken.entry).category = DefaultCategory::Activities.id();
        edit.add_entry(taken).unwrap();
        let touched = edit.touched().to_vec();
        assert!(
            store
                .unsynced(|u| u.save_master(&ann.id, &master, &touched))
                .is_err()
        );
        let kept = store.master(&ann.id).unwrap();
        assert_eq!(kept.entries[0].entry.text, "first");
        assert_eq!(kept.entries.len(), 4);
    }

    #[test]
    fn a_store_with_whole_masters_is_split_into_rows_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let ann = contact("ann");
        let mut master = MasterPanel::default();
        master
            .add_category(CategoryId::new("k1"), "Podcasts")
            .unwrap();
        for i in [3, 1, 2] {
            master.add_entry(entry(&format!("e{i}"), "x")).unwrap();
        }
        store.insert_contact(&ann, &master).unwrap();
        drop(store);
        // Put the store back as schema 7 wrote it: one value per panel, and the entry index.
        let conn = Connection::open(dir.path().join(super::super::DB_FILE)).unwrap();
        conn.execute_batch(
            "DROP TABLE master_entries;
             ALTER TABLE masters RENAME COLUMN categories TO panel;
             CREATE TABLE entry_index (
                 entry TEXT PRIMARY KEY,
                 contact TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE);
             PRAGMA user_version = 7;",
        )
        .unwrap();
        conn.execute(
            "UPDATE masters SET panel = ?1",
            [serde_json::to_string(&master).unwrap()],
        )
        .unwrap();
        conn.execute("INSERT INTO entry_index SELECT 'e3', id FROM contacts", [])
            .unwrap();
        drop(conn);

        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.master(&ann.id).unwrap(), master);
        assert_eq!(
            store.contact_holding(&EntryId::new("e2")).unwrap(),
            Some(ann.clone())
        );
        change(&store, &ann.id, |m| {
            m.add_entry(entry("e4", "after")).unwrap()
        });
        let ids: Vec<String> = store
            .master(&ann.id)
            .unwrap()
            .entries
            .iter()
            .map(|e| e.entry.id.as_str().to_string())
            .collect();
        assert_eq!(ids, ["e3", "e1", "e2", "e4"]);
    }

    #[test]
    fn a_whole_master_that_cannot_be_read_stops_the_split_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        drop(Store::open(dir.path()).unwrap());
        let path = dir.path().join(super::super::DB_FILE);
        let conn = Connection::open(&path).unwrap();
        conn.execute_batch(
            "DROP TABLE master_entries;
             ALTER TABLE masters RENAME COLUMN categories TO panel;
             CREATE TABLE entry_index (entry TEXT PRIMARY KEY, contact TEXT NOT NULL);
             INSERT INTO contacts (id, name, created, outbox) VALUES ('ann', 'Ann', 1, 'o');
             INSERT INTO masters (contact, panel) VALUES ('ann', '{\"categories\": [');
             PRAGMA user_version = 7;",
        )
        .unwrap();
        drop(conn);
        let err = Store::open(dir.path()).err().unwrap();
        assert!(err.to_string().contains("master panel"), "{err}");
        let conn = Connection::open(&path).unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(version, 7);
        let panel: String = conn
            .query_row("SELECT panel FROM masters", [], |r| r.get(0))
            .unwrap();
        assert_eq!(panel, "{\"categories\": [");
    }
}
