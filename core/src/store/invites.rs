//! Pairing invitations: one use each, with an expiry. Only a hash of each secret is kept.

use backstory_crdt::MasterPanel;
use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};
use crate::contact::{Contact, ContactId};

/// Why a presented ticket secret was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteRefusal {
    /// No invitation has this secret (wrong secret, or a ticket from elsewhere).
    Unknown,
    /// The invitation expired.
    Expired,
    /// The invitation was used already.
    Used,
}

impl Store {
    /// Records a new invitation.
    pub fn insert_invite(
        &self,
        secret_hash: &str,
        created: i64,
        expires: i64,
        approval: bool,
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO invites (secret_hash, created, expires, approval) VALUES (?1, ?2, ?3, ?4)",
                params![secret_hash, created, expires, approval],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Whether an invitation could be redeemed now, and whether it needs my approval.
    pub fn check_invite(
        &self,
        secret_hash: &str,
        now: i64,
    ) -> Result<Result<bool, InviteRefusal>, StoreError> {
        let row: Option<(i64, bool, Option<i64>)> = self
            .conn()
            .query_row(
                "SELECT expires, approval, used_at FROM invites WHERE secret_hash = ?1",
                [secret_hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(match row {
            None => Err(InviteRefusal::Unknown),
            Some((_, _, Some(_))) => Err(InviteRefusal::Used),
            Some((expires, _, None)) if expires <= now => Err(InviteRefusal::Expired),
            Some((_, approval, None)) => Ok(approval),
        })
    }

    /// The ids of every document with chunks in the store.
    pub fn doc_ids(&self) -> Result<Vec<String>, StoreError> {
        let conn = self.read();
        let mut stmt = conn
            .prepare(
                "SELECT DISTINCT substr(key, 1, instr(key, '/') - 1) FROM docs
                 WHERE instr(key, '/') > 0 ORDER BY 1",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Deletes every document chunk of a document (one that was never shared).
    pub fn doc_delete_all(&self, doc_id: &str) -> Result<(), StoreError> {
        for (key, _) in self.doc_range(doc_id)? {
            self.doc_delete(&key)?;
        }
        Ok(())
    }

    /// Redeems an invitation and records the new contact, in one transaction: either both happen
    /// or neither does.
    pub fn redeem_invite(
        &self,
        secret_hash: &str,
        now: i64,
        contact: &Contact,
        master: &MasterPanel,
    ) -> Result<Result<(), InviteRefusal>, StoreError> {
        let master = self.encode_master(master)?;
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(|e| self.err(e))?;
        let row: Option<(i64, Option<i64>)> = tx
            .query_row(
                "SELECT expires, used_at FROM invites WHERE secret_hash = ?1",
                [secret_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match row {
            None => return Ok(Err(InviteRefusal::Unknown)),
            Some((_, Some(_))) => return Ok(Err(InviteRefusal::Used)),
            Some((expires, None)) if expires <= now => return Ok(Err(InviteRefusal::Expired)),
            Some(_) => {}
        }
        tx.execute(
            "UPDATE invites SET used_at = ?2, used_by = ?3 WHERE secret_hash = ?1",
            params![secret_hash, now, contact.peer],
        )
        .map_err(|e| self.err(e))?;
        Self::insert_contact_in(&tx, contact, &master).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Ok(()))
    }

    /// The contact with this endpoint id.
    pub fn contact_by_peer(&self, peer: &str) -> Result<Option<Contact>, StoreError> {
        self.read()
            .prepare_cached(
                "SELECT id, name, created, outbox, inbound, peer FROM contacts WHERE peer = ?1",
            )
            .and_then(|mut stmt| stmt.query_row([peer], super::contact_row).optional())
            .map_err(|e| self.err(e))
    }

    /// Whether a document id is already one of mine or a contact's.
    pub fn document_in_use(&self, id: &str) -> Result<bool, StoreError> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM contacts WHERE outbox = ?1 OR inbound = ?1)",
                [id],
                |r| r.get(0),
            )
            .map_err(|e| self.err(e))
    }

    /// Remembers where a peer was last reachable directly.
    pub fn set_peer_addrs(
        &self,
        peer: &str,
        addrs: &[std::net::SocketAddr],
    ) -> Result<(), StoreError> {
        let json = serde_json::to_string(addrs).map_err(|e| self.decode("addresses", e))?;
        self.conn()
            .execute(
                "INSERT INTO peer_addrs (peer, addrs) VALUES (?1, ?2)
                 ON CONFLICT(peer) DO UPDATE SET addrs = excluded.addrs",
                params![peer, json],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Where a peer was last reachable directly.
    pub fn peer_addrs(&self, peer: &str) -> Result<Vec<std::net::SocketAddr>, StoreError> {
        let json: Option<String> = self
            .read()
            .query_row(
                "SELECT addrs FROM peer_addrs WHERE peer = ?1",
                [peer],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        match json {
            None => Ok(Vec::new()),
            Some(j) => serde_json::from_str(&j).map_err(|e| self.decode("addresses", e)),
        }
    }

    /// Removes a contact and everything kept for them (master panel, seen heads).
    pub fn remove_contact(&self, id: &ContactId) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM contacts WHERE id = ?1", [id.as_str()])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::contact::ContactId;
    use backstory_crdt::MasterPanel;

    fn contact(id: &str, outbox: &str, inbound: Option<&str>) -> Contact {
        Contact {
            id: ContactId::new(id),
            name: id.into(),
            created: backstory_crdt::Timestamp(1),
            outbox: outbox.into(),
            inbound: inbound.map(str::to_string),
            peer: None,
        }
    }

    #[test]
    fn a_document_id_names_one_panel_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let m = MasterPanel::default();
        store
            .insert_contact(&contact("bob", "mine-for-bob", Some("bobs")), &m)
            .unwrap();
        assert!(store.document_in_use("mine-for-bob").unwrap());
        assert!(store.document_in_use("bobs").unwrap());
        assert!(!store.document_in_use("new").unwrap());
        // Whichever side of another pairing names it, and whichever column: refused.
        for (outbox, inbound) in [
            ("mine-for-bob", Some("x")),
            ("x", Some("bobs")),
            ("bobs", None),
            ("y", Some("mine-for-bob")),
            ("same", Some("same")),
        ] {
            assert!(
                store
                    .insert_contact(&contact("eve", outbox, inbound), &m)
                    .is_err(),
                "{outbox} / {inbound:?} was accepted"
            );
        }
        assert_eq!(store.contacts().unwrap().len(), 1);
        store
            .insert_contact(&contact("carol", "mine-for-carol", Some("carols")), &m)
            .unwrap();
        assert_eq!(store.contacts().unwrap().len(), 2);
    }
}
