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
    ) -> Result<(), StoreError> {
        self.conn()
            .execute(
                "INSERT INTO invites (secret_hash, created, expires) VALUES (?1, ?2, ?3)",
                params![secret_hash, created, expires],
            )
            .map(|_| ())
            .map_err(|e| self.err(e))
    }

    /// Whether an invitation could be redeemed now.
    pub fn check_invite(
        &self,
        secret_hash: &str,
        now: i64,
    ) -> Result<Result<(), InviteRefusal>, StoreError> {
        let row: Option<(i64, Option<i64>)> = self
            .conn()
            .query_row(
                "SELECT expires, used_at FROM invites WHERE secret_hash = ?1",
                [secret_hash],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(match row {
            None => Err(InviteRefusal::Unknown),
            Some((_, Some(_))) => Err(InviteRefusal::Used),
            Some((expires, None)) if expires <= now => Err(InviteRefusal::Expired),
            Some(_) => Ok(()),
        })
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
        let panel = serde_json::to_string(master).map_err(|e| self.decode("panel", e))?;
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
        Self::insert_contact_in(&tx, contact, &panel).map_err(|e| self.err(e))?;
        tx.commit().map_err(|e| self.err(e))?;
        Ok(Ok(()))
    }

    /// The contact with this endpoint id.
    pub fn contact_by_peer(&self, peer: &str) -> Result<Option<Contact>, StoreError> {
        Ok(self
            .contacts()?
            .into_iter()
            .find(|c| c.peer.as_deref() == Some(peer)))
    }

    /// Removes a contact and everything kept for them (master panel, seen heads).
    pub fn remove_contact(&self, id: &ContactId) -> Result<(), StoreError> {
        self.conn()
            .execute("DELETE FROM contacts WHERE id = ?1", [id.as_str()])
            .map(|_| ())
            .map_err(|e| self.err(e))
    }
}
