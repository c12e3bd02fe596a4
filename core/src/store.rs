//! The SQLite store beside the documents: document chunks (for samod), contacts, master panels, seen
//! heads and settings. WAL with `synchronous=FULL`: a call returns only once its write is durable.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use backstory_crdt::MasterPanel;
use rusqlite::{Connection, OptionalExtension, params};

use crate::contact::{Contact, ContactId};

mod drafts;
mod feedback;
mod inbox;
mod invites;
mod marks;
mod masters;
mod views;
pub use inbox::AllowRule;
pub use invites::InviteRefusal;
pub use marks::OutboxMark;
pub use views::CachedPanel;

/// The database file, inside the data directory.
pub const DB_FILE: &str = "backstory.db";

const SCHEMA_VERSION: i64 = 8;

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database file is damaged or is not a Backstory database.
    #[error(
        "store {path} is corrupt or not a Backstory database ({detail}); restore it from a backup or move it away"
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        detail: String,
    },
    /// The disk holding the database is full; nothing was written.
    #[error(
        "the disk is full: the store {path} cannot be written; free some space on that disk and \
         try again (nothing saved before is lost)"
    )]
    Full {
        /// The file.
        path: PathBuf,
    },
    /// The database was written by a newer Backstory.
    #[error(
        "store {path} has schema version {found}, newer than this Backstory understands ({SCHEMA_VERSION})"
    )]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The version found.
        found: i64,
    },
    /// SQLite refused an operation.
    #[error("store {path}: {source}")]
    Sql {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// The write-ahead log could not be synced to disk.
    #[error("store {path}: cannot sync the write-ahead log to disk: {source}")]
    Sync {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// A stored value did not decode.
    #[error(
        "store {path}: a stored {what} does not decode ({detail}); the store is damaged: restore it \
         from a backup or move it away"
    )]
    Decode {
        /// The file.
        path: PathBuf,
        /// What kind of value.
        what: &'static str,
        /// The decoder's message.
        detail: String,
    },
}

/// A handle to the store; clones share its two connections: one that writes, and one that only
/// reads, so a read (a lookup on the way of an edit, a document load) never waits behind a
/// durable write's sync to disk. In WAL mode each read sees every commit made before it.
#[derive(Clone, Debug)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
    reader: Arc<Mutex<Connection>>,
    path: Arc<PathBuf>,
}

fn is_corruption(e: &rusqlite::Error) -> bool {
    use rusqlite::Error as E;
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
    ) || matches!(
        // A stored value of another type than its column's, or text that is not UTF-8: the
        // store only ever writes the right types, so the file was damaged.
        e,
        E::Utf8Error(..) | E::FromSqlConversionFailure(..) | E::InvalidColumnType(..)
    )
}

fn put_chunk(conn: &Connection, key: &str, data: &[u8]) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO docs (key, data) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET data = excluded.data",
    )?
    .execute(params![key, data])
    .map(|_| ())
}

fn delete_chunk(conn: &Connection, key: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM docs WHERE key = ?1")?
        .execute([key])
        .map(|_| ())
}

/// The writes [`Store::unsynced`] runs.
pub struct Unsynced<'a> {
    store: &'a Store,
    conn: &'a Connection,
}

impl Unsynced<'_> {
    /// Stores a chunk.
    pub fn doc_put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        put_chunk(self.conn, key, data).map_err(|e| self.store.err(e))
    }

    /// Deletes a chunk.
    pub fn doc_delete(&self, key: &str) -> Result<(), StoreError> {
        delete_chunk(self.conn, key).map_err(|e| self.store.err(e))
    }
}

/// A contact from a row of `id, name, created, outbox, inbound, peer`.
fn contact_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Contact> {
    Ok(Contact {
        id: ContactId::new(r.get::<_, String>(0)?),
        name: r.get(1)?,
        created: backstory_crdt::Timestamp(r.get(2)?),
        outbox: r.get(3)?,
        inbound: r.get(4)?,
        peer: r.get(5)?,
    })
}

/// The store's error for what SQLite said about `path`.
fn classify(path: &Path, source: rusqlite::Error) -> StoreError {
    if is_corruption(&source) {
        StoreError::Corrupt {
            path: path.to_path_buf(),
            detail: source.to_string(),
        }
    } else if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
        StoreError::Full {
            path: path.to_path_buf(),
        }
    } else {
        StoreError::Sql {
            path: path.to_path_buf(),
            source,
        }
    }
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, checks its integrity and migrates it.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        let sql = |source: rusqlite::Error| classify(&path, source);
        let conn = Connection::open(&path).map_err(sql)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(sql)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Corrupt {
                path,
                detail: format!("cannot switch to WAL mode (got {mode})"),
            });
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(sql)?;
        let check: String = conn
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(sql)?;
        if check != "ok" {
            return Err(StoreError::Corrupt {
                path,
                detail: check,
            });
        }
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(sql)?;
        if version > SCHEMA_VERSION {
            return Err(StoreError::TooNew {
                path,
                found: version,
            });
        }
        if version < 1 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE docs (key TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
                 CREATE TABLE contacts (
                     id TEXT PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL,
                     outbox TEXT NOT NULL, inbound TEXT, peer TEXT);
                 CREATE TABLE masters (
                     contact TEXT PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
                     panel TEXT NOT NULL);
                 CREATE TABLE entry_index (
                     entry TEXT PRIMARY KEY,
                     contact TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE);
                 CREATE TABLE seen (
                     contact TEXT PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
                     heads TEXT NOT NULL, at INTEGER NOT NULL);
                 CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 PRAGMA user_version = 1;
                 COMMIT;",
            )
            .map_err(sql)?;
        }
        if version < 2 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE invites (
                     secret_hash TEXT PRIMARY KEY, created INTEGER NOT NULL,
                     expires INTEGER NOT NULL, approval INTEGER NOT NULL DEFAULT 0,
                     used_at INTEGER, used_by TEXT);
                 CREATE TABLE peer_addrs (peer TEXT PRIMARY KEY, addrs TEXT NOT NULL);
                 CREATE UNIQUE INDEX contacts_peer ON contacts(peer) WHERE peer IS NOT NULL;
                 PRAGMA user_version = 2;
                 COMMIT;",
            )
            .map_err(sql)?;
        }
        if version < 3 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE drafts (
                     id TEXT PRIMARY KEY, created INTEGER NOT NULL, draft TEXT NOT NULL,
                     suggestion INTEGER NOT NULL DEFAULT 0);
                 PRAGMA user_version = 3;
                 COMMIT;",
            )
            .map_err(sql)?;
        }
        if version < 4 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE sightings (key TEXT NOT NULL, day TEXT NOT NULL, PRIMARY KEY (key, day))
                     WITHOUT ROWID;
                 CREATE TABLE rejected (key TEXT PRIMARY KEY, at INTEGER NOT NULL);
                 CREATE TABLE allow_rules (
                     player TEXT PRIMARY KEY, contacts TEXT NOT NULL, since INTEGER NOT NULL);
                 PRAGMA user_version = 4;
                 COMMIT;",
            )
            .map_err(sql)?;
        }
        if version < 5 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE contact_receipts (
                     contact TEXT PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
                     off INTEGER NOT NULL);
                 CREATE TABLE chat_marks (
                     contact TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
                     item TEXT NOT NULL,
                     notified INTEGER NOT NULL DEFAULT 0,
                     read INTEGER NOT NULL DEFAULT 0,
                     PRIMARY KEY (contact, item)) WITHOUT ROWID;
                 PRAGMA user_version = 5;
                 COMMIT;",
            )
            .map_err(sql)?;
        }
        if version < 6 {
            // A document id names one panel: never two contacts', never one of mine and one of
            // theirs. Pairing checks first and says why; this holds whatever path writes.
            conn.execute_batch(
                "BEGIN;
                 CREATE TRIGGER contacts_documents_insert BEFORE INSERT ON contacts
                 WHEN NEW.outbox = NEW.inbound OR EXISTS (
                     SELECT 1 FROM contacts
                     WHERE outbox IN (NEW.outbox, NEW.inbound) OR inbound IN (NEW.outbox, NEW.inbound))
                 BEGIN SELECT RAISE(ABORT, 'document id already in use'); END;
                 CREATE TRIGGER contacts_documents_update BEFORE UPDATE OF outbox, inbound ON contacts
                 WHEN NEW.outbox = NEW.inbound OR EXISTS (
                     SELECT 1 FROM contacts WHERE id != NEW.id
                     AND (outbox IN (NEW.outbox, NEW.inbound) OR inbound IN (NEW.outbox, NEW.inbound)))
                 BEGIN SELECT RAISE(ABORT, 'document id already in use'); END;
                 ALTER TABLE contacts ADD COLUMN file_author TEXT;
                 PRAGMA user_version = 6;
                 COMMIT;",
            )
            .map_err(sql)?;
        }
        if version < 7 {
            conn.execute_batch(
                "BEGIN;
                 CREATE TABLE outbox_marks (
                     contact TEXT PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
                     outbox TEXT NOT NULL, projection BLOB NOT NULL, chunks BLOB NOT NULL,
                     comment_audio TEXT NOT NULL);
                 CREATE TABLE panel_views (
                     contact TEXT PRIMARY KEY REFERENCES contacts(id) ON DELETE CASCADE,
                     doc TEXT NOT NULL, seen TEXT NOT NULL, changes TEXT NOT NULL);
                 PRAGMA user_version = 7;
                 COMMIT;",
            )
            .map_err(sql)?;
        }
        if version < 8 {
            let tx = conn.unchecked_transaction().map_err(sql)?;
            masters::split_masters(&tx).map_err(|e| match e {
                masters::SplitError::Sql(e) => sql(e),
                masters::SplitError::Json(e) => StoreError::Decode {
                    path: path.clone(),
                    what: "master panel",
                    detail: e.to_string(),
                },
            })?;
            tx.execute_batch("PRAGMA user_version = 8;").map_err(sql)?;
            tx.commit().map_err(sql)?;
        }
        let reader = Connection::open(&path).map_err(sql)?;
        reader
            .busy_timeout(std::time::Duration::from_secs(5))
            .map_err(sql)?;
        reader.execute_batch("PRAGMA query_only=ON;").map_err(sql)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            reader: Arc::new(Mutex::new(reader)),
            path: Arc::new(path),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable: SQLite rolls back.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The connection for reads that decide no write (those stay on [`Store::conn`], in order
    /// with the writes).
    fn read(&self) -> MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        classify(&self.path, source)
    }

    fn decode(&self, what: &'static str, e: impl std::fmt::Display) -> StoreError {
        StoreError::Decode {
            path: self.path.to_path_buf(),
            what,
            detail: e.to_string(),
        }
    }

    // --- document chunks (samod storage) ---

    /// One document chunk.
    pub fn doc_get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.read()
            .query_row("SELECT data FROM docs WHERE key = ?1", [key], |r| r.get(0))
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Every chunk whose key is `prefix` or lies below it (`prefix/…`).
    pub fn doc_range(&self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT key, data FROM docs WHERE key = ?1 OR (key >= ?1 || '/' AND key < ?1 || '0')",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([prefix], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The bytes stored for one document: every chunk under its id.
    pub fn doc_size(&self, prefix: &str) -> Result<u64, StoreError> {
        self.read()
            .query_row(
                "SELECT COALESCE(SUM(length(data)), 0) FROM docs
                 WHERE key = ?1 OR (key >= ?1 || '/' AND key < ?1 || '0')",
                [prefix],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(|e| self.err(e))
    }

    /// Stores a chunk durably.
    pub fn doc_put(&self, key: &str, data: &[u8]) -> Result<(), StoreError> {
        put_chunk(&self.conn(), key, data).map_err(|e| self.err(e))
    }

    /// Runs writes whose commits are not synced to disk on their own: they reach the disk in
    /// order, with the next synced commit or checkpoint, and a crash of the process keeps them;
    /// a power cut may take them back (see `storage`). The writer's connection is held
    /// throughout, so no other write commits unsynced meanwhile.
    pub fn unsynced<T>(
        &self,
        f: impl FnOnce(&Unsynced<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let conn = self.conn();
        conn.execute_batch("PRAGMA synchronous=NORMAL")
            .map_err(|e| self.err(e))?;
        let out = f(&Unsynced {
            store: self,
            conn: &conn,
        });
        let restored = conn
            .execute_batch("PRAGMA synchronous=FULL")
            .map_err(|e| self.err(e));
        let out = out?;
        restored?;
        Ok(out)
    }

    /// Deletes a chunk.
    pub fn doc_delete(&self, key: &str) -> Result<(), StoreError> {
        delete_chunk(&self.conn(), key).map_err(|e| self.err(e))
    }

    // --- contacts ---

    /// Records a new contact with an empty master panel, in one transaction.
    pub fn insert_contact(&self, c: &Contact, master: &MasterPanel) -> Result<(), StoreError> {
        let master = self.encode_master(master)?;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        Self::insert_contact_in(&tx, c, &master).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))
    }

    fn insert_contact_in(
        tx: &rusqlite::Transaction<'_>,
        c: &Contact,
        master: &masters::Encoded,
    ) -> Result<(), rusqlite::Error> {
        tx.execute(
            "INSERT INTO contacts (id, name, created, outbox, inbound, peer) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![c.id.as_str(), c.name, c.created.millis(), c.outbox, c.inbound, c.peer],
        )?;
        masters::insert_master(tx, c.id.as_str(), master)
    }

    /// Every contact, oldest first.
    pub fn contacts(&self) -> Result<Vec<Contact>, StoreError> {
        let conn = self.read();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, name, created, outbox, inbound, peer FROM contacts ORDER BY created, id",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt.query_map([], contact_row).map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// One contact by id.
    pub fn contact(&self, id: &ContactId) -> Result<Option<Contact>, StoreError> {
        self.read()
            .prepare_cached(
                "SELECT id, name, created, outbox, inbound, peer FROM contacts WHERE id = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([id.as_str()], contact_row).optional())
            .map_err(|e| self.err(e))
    }

    /// Records the document a contact's panel files were merged into, and who wrote the first
    /// one. The author is not made the contact's peer: a file grants no network access.
    pub fn set_inbound(&self, id: &ContactId, doc: &str, author: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "UPDATE contacts SET inbound = ?2, file_author = ?3 WHERE id = ?1",
                params![id.as_str(), doc, author],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Who wrote the panel files imported for a contact, if any were.
    pub fn file_author(&self, id: &ContactId) -> Result<Option<String>, StoreError> {
        self.read()
            .query_row(
                "SELECT file_author FROM contacts WHERE id = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map(Option::flatten)
            .map_err(|e| self.err(e))
    }

    /// Makes every commit so far durable, those made without their own sync among them: syncs
    /// the write-ahead log they wait in (commits already copied out of it were synced then).
    pub fn sync_wal(&self) -> Result<(), StoreError> {
        let _writer = self.conn();
        let mut wal = self.path.as_os_str().to_owned();
        wal.push("-wal");
        let synced = std::fs::File::open(&wal).and_then(|f| f.sync_data());
        match synced {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            other => other.map_err(|source| StoreError::Sync {
                path: self.path.to_path_buf(),
                source,
            }),
        }
    }

    // --- seen heads ---

    /// The heads of the contact's panel I last looked at.
    pub fn seen(&self, id: &ContactId) -> Result<Vec<String>, StoreError> {
        let json: Option<String> = self
            .read()
            .query_row(
                "SELECT heads FROM seen WHERE contact = ?1",
                [id.as_str()],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match json {
            None => Ok(Vec::new()),
            Some(j) => serde_json::from_str(&j).map_err(|e| self.decode("seen heads", e)),
        }
    }

    /// Records the heads I have now looked at.
    pub fn mark_seen(&self, id: &ContactId, heads: &[String], at: i64) -> Result<(), StoreError> {
        let json = serde_json::to_string(heads).map_err(|e| self.decode("seen heads", e))?;
        self.conn()
            .execute(
                "INSERT INTO seen (contact, heads, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(contact) DO UPDATE SET heads = excluded.heads, at = excluded.at",
                params![id.as_str(), json, at],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    // --- settings ---

    /// A setting's value.
    pub fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.read()
            .query_row("SELECT value FROM settings WHERE key = ?1", [key], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Sets a setting durably.
    pub fn set_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO settings (key, value) VALUES (?1, ?2)
                 ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // tests fail loudly by design

    use super::*;

    fn synchronous(store: &Store) -> i64 {
        store
            .conn()
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn unsynced_writes_are_unsynced_every_time_and_the_next_synced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        const NORMAL: i64 = 1;
        const FULL: i64 = 2;
        // Three times: a level set by a statement prepared once could hold only the first time.
        for _ in 0..3 {
            let inside = store
                .unsynced(|w| {
                    w.doc_put("d/sync-state/p", b"state")?;
                    Ok(w.conn
                        .query_row("PRAGMA synchronous", [], |r| r.get::<_, i64>(0))
                        .unwrap())
                })
                .unwrap();
            assert_eq!(inside, NORMAL);
            assert_eq!(synchronous(&store), FULL);
        }
    }

    #[test]
    fn writes_after_unsynced_ones_are_synced_again_even_when_those_failed() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        const FULL: i64 = 2;
        assert_eq!(synchronous(&store), FULL);
        store
            .unsynced(|w| w.doc_put("d/sync-state/p", b"state"))
            .unwrap();
        assert_eq!(synchronous(&store), FULL);
        let failed: Result<(), StoreError> = store.unsynced(|w| {
            w.doc_delete("d/sync-state/p")?;
            Err(StoreError::Decode {
                path: dir.path().into(),
                what: "test",
                detail: "stops midway".into(),
            })
        });
        assert!(failed.is_err());
        assert_eq!(
            synchronous(&store),
            FULL,
            "a failure must not leave writes unsynced"
        );
        assert_eq!(store.doc_get("d/sync-state/p").unwrap(), None);
    }

    #[test]
    fn the_reading_connection_sees_every_write_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        for i in 0..50 {
            let v = i.to_string();
            store.set_setting("k", &v).unwrap();
            assert_eq!(store.setting("k").unwrap().as_deref(), Some(v.as_str()));
            store.doc_put("d/incremental/x", v.as_bytes()).unwrap();
            assert_eq!(
                store.doc_get("d/incremental/x").unwrap(),
                Some(v.into_bytes())
            );
            store.unsynced(|w| w.doc_delete("d/incremental/x")).unwrap();
            assert_eq!(store.doc_get("d/incremental/x").unwrap(), None);
        }
        // A store reopened holds what the unsynced writes left (a process that ends keeps them).
        store
            .unsynced(|w| w.doc_put("d/sync-state/p", b"s"))
            .unwrap();
        drop(store);
        let again = Store::open(dir.path()).unwrap();
        assert_eq!(
            again.doc_get("d/sync-state/p").unwrap(),
            Some(b"s".to_vec())
        );
        assert_eq!(again.setting("k").unwrap().as_deref(), Some("49"));
    }
}
