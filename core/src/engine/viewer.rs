//! Their panels for me: reading with "what changed since I last looked", marking seen, and carrying
//! a panel by file when two devices cannot meet.

use std::path::Path;

use backstory_crdt::automerge::Automerge;
use backstory_crdt::changes::heads_from_strings;
use backstory_crdt::{PanelChanges, changes_since, outbox};
use serde::{Deserialize, Serialize};

use super::{Engine, now};
use crate::contact::Contact;
use crate::error::EngineError;
use crate::event::Event;

/// The first line of a panel file.
const MAGIC: &str = "BACKSTORY-PANEL 1";

/// A contact's panel for me, with what changed since I last looked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct TheirPanel {
    /// The contact.
    pub contact: Contact,
    /// Whether they have shared a panel with me at all.
    pub shared: bool,
    /// The panel, annotated.
    pub changes: PanelChanges,
}

/// What an import brought.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportSummary {
    /// The contact.
    pub contact: Contact,
    /// Updates I have not seen yet.
    pub unseen: usize,
}

#[derive(Serialize, Deserialize)]
struct Header {
    from: String,
    doc: String,
}

impl Engine {
    /// Their panel for me, annotated with what changed since I last marked it seen.
    pub async fn their_panel(&self, contact: &str) -> Result<TheirPanel, EngineError> {
        let contact = self.contact(contact).await?;
        let Some(doc_id) = contact.inbound.clone() else {
            return Ok(TheirPanel {
                contact,
                shared: false,
                changes: PanelChanges::default(),
            });
        };
        let id = contact.id.clone();
        let seen = self.blocking(move |s| s.seen(&id)).await?;
        let Some(handle) = self.find_doc(&doc_id).await? else {
            // Paired, but their panel has not arrived yet.
            return Ok(TheirPanel {
                contact,
                shared: false,
                changes: PanelChanges::default(),
            });
        };
        let changes = handle
            .with_document_async(move |doc| changes_since(doc, &heads_from_strings(&seen)))
            .await??;
        Ok(TheirPanel {
            contact,
            shared: true,
            changes,
        })
    }

    /// Records that I have seen their panel up to `heads` (which the caller read from
    /// [`Engine::their_panel`]), so only later changes count as new.
    pub async fn mark_viewed(&self, contact: &str, heads: Vec<String>) -> Result<(), EngineError> {
        let contact = self.contact(contact).await?;
        if heads_from_strings(&heads).len() != heads.len() {
            return Err(EngineError::InvalidInput(
                "heads must be change hashes".into(),
            ));
        }
        let id = contact.id.clone();
        let at = now().millis();
        let seen = heads.clone();
        self.blocking(move |s| s.set_seen(&id, &seen, at)).await?;
        self.send_receipt(&contact, heads).await
    }

    /// Writes my panel for a contact (only what they may see) to a file they can import.
    pub async fn export(&self, contact: &str, path: &Path) -> Result<(), EngineError> {
        let contact = self.contact(contact).await?;
        let handle = self.doc(&contact.outbox).await?;
        let bytes = handle.with_document_async(|doc| doc.save()).await?;
        let header = serde_json::to_string(&Header {
            from: self.id(),
            doc: contact.outbox.clone(),
        })
        .map_err(|e| EngineError::InvalidInput(e.to_string()))?;
        let mut file = format!("{MAGIC}\n{header}\n").into_bytes();
        file.extend_from_slice(&bytes);
        let p = path.to_path_buf();
        tokio::task::spawn_blocking(move || crate::paths::write_atomic(&p, &file, 0o600))
            .await
            .map_err(|_| EngineError::Stopped)?
            .map_err(|source| EngineError::Io {
                path: path.to_path_buf(),
                source,
            })
    }

    /// Imports a contact's panel file: the first import binds the contact to the file's author;
    /// later ones must come from the same author and are merged.
    pub async fn import(&self, contact: &str, path: &Path) -> Result<ImportSummary, EngineError> {
        self.check_health()?;
        let contact = self.contact(contact).await?;
        let bytes = tokio::fs::read(path).await.map_err(|source| {
            if source.kind() == std::io::ErrorKind::NotFound {
                EngineError::FileNotFound(path.to_path_buf())
            } else {
                EngineError::Io {
                    path: path.to_path_buf(),
                    source,
                }
            }
        })?;
        let (header, mut doc) = parse_panel_file(&bytes)?;
        if header.from == self.id() {
            return Err(EngineError::BadImport(
                "this is one of my own panels".into(),
            ));
        }
        if let Some(peer) = &contact.peer
            && *peer != header.from
        {
            return Err(EngineError::BadImport(format!(
                "this panel was written by {}, but {} is {}",
                header.from, contact.name, peer
            )));
        }
        let gate = self.inner.writes.lock().await;
        match &contact.inbound {
            Some(id) => {
                let handle = self.doc(id).await?;
                handle
                    .with_document_async(move |d| d.merge(&mut doc).map(|_| ()))
                    .await?
                    .map_err(|e| EngineError::BadImport(e.to_string()))?;
            }
            None => {
                let handle = self.create_doc(doc).await?;
                let (id, doc_id, from) = (
                    contact.id.clone(),
                    handle.document_id().to_string(),
                    header.from.clone(),
                );
                self.blocking(move |s| s.set_inbound(&id, &doc_id, &from))
                    .await?;
            }
        }
        drop(gate);
        let panel = self.their_panel(contact.id.as_str()).await?;
        let unseen = panel.changes.unseen();
        self.emit(Event::PanelReceived {
            contact: contact.id.clone(),
            unseen,
        });
        Ok(ImportSummary {
            contact: panel.contact,
            unseen,
        })
    }
}

/// A media file fetched from a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fetched {
    /// The entry.
    pub entry: backstory_crdt::EntryId,
    /// The verified BLAKE3 hash.
    pub hash: String,
    /// Its size.
    pub size: u64,
    /// Its media type.
    pub mime: String,
    /// Where it was saved, if asked.
    pub path: Option<std::path::PathBuf>,
}

impl Engine {
    /// Fetches the media of an entry of a contact's panel for me from their device, reporting
    /// progress as events; BLAKE3 verifies every byte. Saves it to `out` (absolute) when given.
    pub async fn fetch_media(
        &self,
        contact: &str,
        entry: &backstory_crdt::EntryId,
        out: Option<&Path>,
    ) -> Result<Fetched, EngineError> {
        use futures::StreamExt;
        use iroh_blobs::api::remote::GetProgressItem;
        let panel = self.their_panel(contact).await?;
        let contact = panel.contact;
        let found = panel
            .changes
            .entries
            .into_iter()
            .find(|e| e.entry.id == *entry)
            .ok_or_else(|| EngineError::UnknownEntry(entry.clone()))?;
        let media = found
            .entry
            .kind
            .media()
            .cloned()
            .ok_or_else(|| EngineError::InvalidInput(format!("entry {entry} has no media")))?;
        let limit = self.media_limit().await?;
        if media.size > limit {
            return Err(EngineError::TooLarge {
                path: media.name.into(),
                size: media.size,
                limit,
            });
        }
        let hash: iroh_blobs::Hash = media
            .hash
            .parse()
            .map_err(|_| EngineError::InvalidInput(format!("bad hash in entry {entry}")))?;
        let io = |e: &dyn std::fmt::Display| EngineError::Io {
            path: self.inner.dir.join("blobs"),
            source: std::io::Error::other(e.to_string()),
        };
        let remote = self.inner.blobs.remote();
        let have = remote.local(hash).await.map_err(|e| io(&e))?.is_complete();
        if !have {
            let peer = contact.peer.clone().ok_or_else(|| {
                EngineError::InvalidInput(format!("{} is not paired", contact.name))
            })?;
            let p = peer.clone();
            let addrs = self.blocking(move |s| s.peer_addrs(&p)).await?;
            let conn = self.net()?.connect_blobs(&peer, &addrs).await?;
            let mut progress = Box::pin(remote.fetch(conn, hash).stream());
            let mut reported = 0u64;
            while let Some(item) = progress.next().await {
                match item {
                    GetProgressItem::Progress(bytes) => {
                        if bytes >= reported + (1 << 20) || bytes == media.size {
                            reported = bytes;
                            self.emit(Event::MediaProgress {
                                contact: contact.id.clone(),
                                entry: entry.clone(),
                                bytes,
                                total: media.size,
                            });
                        }
                    }
                    GetProgressItem::Done(_) => break,
                    GetProgressItem::Error(e) => {
                        let refused =
                            e.iroh_error_code() == Some(iroh_blobs::protocol::ERR_PERMISSION);
                        return Err(crate::net::NetError::Unreachable {
                            peer,
                            reason: if refused {
                                "the device refused: this media is not shared with you".into()
                            } else {
                                e.to_string()
                            },
                        }
                        .into());
                    }
                }
            }
            self.emit(Event::MediaProgress {
                contact: contact.id.clone(),
                entry: entry.clone(),
                bytes: media.size,
                total: media.size,
            });
        }
        if let Some(out) = out {
            self.export_blob(hash, out).await?;
        }
        Ok(Fetched {
            entry: entry.clone(),
            hash: hash.to_hex(),
            size: media.size,
            mime: media.mime,
            path: out.map(Path::to_path_buf),
        })
    }

    /// Fetches an entry's media if it is not here yet and returns the local copy a window may
    /// show: `<data>/media/<hash>.<ext>` (see [`crate::media::viewing_path`]).
    pub async fn media_for_viewing(
        &self,
        contact: &str,
        entry: &backstory_crdt::EntryId,
    ) -> Result<std::path::PathBuf, EngineError> {
        let fetched = self.fetch_media(contact, entry, None).await?;
        let path = crate::media::viewing_path(&self.inner.dir, &fetched.hash, &fetched.mime)?;
        if !path.exists() {
            let hash: iroh_blobs::Hash = fetched
                .hash
                .parse()
                .map_err(|_| EngineError::InvalidInput(format!("bad hash in entry {entry}")))?;
            // Written aside and renamed, so a cut-short copy is never taken for a whole one.
            let part = path.with_extension("part");
            self.export_blob(hash, &part).await?;
            std::fs::rename(&part, &path).map_err(|source| EngineError::Io {
                path: path.clone(),
                source,
            })?;
        }
        Ok(path)
    }

    async fn export_blob(&self, hash: iroh_blobs::Hash, out: &Path) -> Result<(), EngineError> {
        self.inner
            .blobs
            .export(hash, out)
            .await
            .map(|_| ())
            .map_err(|e| EngineError::Io {
                path: out.to_path_buf(),
                source: std::io::Error::other(e.to_string()),
            })
    }

    /// Follows a contact's panel for me: waits until it arrives, then reports each change.
    pub(super) fn follow_inbound(&self, contact: &Contact) {
        let Some(doc_id) = contact.inbound.clone() else {
            return;
        };
        let engine = self.clone();
        let contact_id = contact.id.clone();
        let mut stop = self.inner.stop.subscribe();
        tokio::spawn(async move {
            let handle = loop {
                if *stop.borrow() {
                    return;
                }
                match engine.find_doc(&doc_id).await {
                    Ok(Some(h)) => break h,
                    Ok(None) => {}
                    Err(e) => tracing::debug!("waiting for panel {doc_id}: {e}"),
                }
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {}
                }
            };
            let mut changes = Box::pin(handle.changes());
            loop {
                tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    next = futures::StreamExt::next(&mut changes) => {
                        if next.is_none() {
                            return;
                        }
                        match engine.their_panel(contact_id.as_str()).await {
                            Ok(p) => engine.emit(Event::PanelReceived {
                                contact: contact_id.clone(),
                                unseen: p.changes.unseen(),
                            }),
                            // The contact was removed meanwhile.
                            Err(_) => return,
                        }
                    }
                }
            }
        });
    }
}

/// Splits and checks a panel file: magic line, header line, then an Automerge document whose owner
/// is the header's author.
fn parse_panel_file(bytes: &[u8]) -> Result<(Header, Automerge), EngineError> {
    let bad = |m: &str| EngineError::BadImport(m.to_string());
    let mut parts = bytes.splitn(3, |b| *b == b'\n');
    if parts.next() != Some(MAGIC.as_bytes()) {
        return Err(bad("not a Backstory panel file"));
    }
    let header: Header = parts
        .next()
        .and_then(|h| serde_json::from_slice(h).ok())
        .ok_or_else(|| bad("the panel file's header is damaged"))?;
    let body = parts
        .next()
        .ok_or_else(|| bad("the panel file is truncated"))?;
    let doc = Automerge::load(body)
        .map_err(|e| bad(&format!("the panel file's document is damaged: {e}")))?;
    match outbox::owner(&doc) {
        Ok(Some(owner)) if owner == header.from => Ok((header, doc)),
        Ok(_) => Err(bad(
            "the panel file's document does not belong to its sender",
        )),
        Err(e) => Err(bad(&e.to_string())),
    }
}
