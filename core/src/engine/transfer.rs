//! Panel files: carrying a panel between devices that never meet. `export_panel` writes only what
//! the contact may see (the outbox, never the master); `import_panel` merges a contact's file into
//! their panel for me, checking that it is a Backstory panel written by its stated author.

use std::path::Path;

use backstory_crdt::automerge::Automerge;
use backstory_crdt::outbox;
use serde::{Deserialize, Serialize};

use super::device::Device;
use super::documents::Documents;
use crate::contact::Contact;
use crate::error::EngineError;

/// The first line of a panel file.
const MAGIC: &str = "BACKSTORY-PANEL 1";

/// The second line of a panel file: who wrote it, and which of their documents it carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelFileHeader {
    /// The author's endpoint id.
    pub from: String,
    /// The author's outbox document id.
    pub doc: String,
}

/// Writes my panel for a contact (only what they may see) to a file they can import.
pub(crate) async fn export(
    device: &Device,
    docs: &Documents,
    contact: &Contact,
    path: &Path,
) -> Result<(), EngineError> {
    let handle = docs.get(&contact.outbox).await?;
    let bytes = handle.with_document_async(|doc| doc.save()).await?;
    let header = serde_json::to_string(&PanelFileHeader {
        from: device.id(),
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

/// Reads a panel file and merges it into the contact's panel for me: the first import binds the
/// contact to the file's author; later ones must come from the same author. Returns whether the
/// contact record changed.
pub(crate) async fn import(
    device: &Device,
    docs: &Documents,
    contact: &Contact,
    path: &Path,
) -> Result<bool, EngineError> {
    docs.check_health()?;
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
    if header.from == device.id() {
        return Err(EngineError::BadImport(
            "this is one of my own panels".into(),
        ));
    }
    // Paired contacts are who their device is; contacts known by file, who wrote the first file.
    let id = contact.id.clone();
    let author = match &contact.peer {
        Some(peer) => Some(peer.clone()),
        None => device.blocking(move |s| s.file_author(&id)).await?,
    };
    if let Some(author) = author
        && author != header.from
    {
        return Err(EngineError::BadImport(format!(
            "this panel was written by {}, but {} is {}",
            header.from, contact.name, author
        )));
    }
    match &contact.inbound {
        Some(id) => {
            let handle = docs.get(id).await?;
            handle
                .with_document_async(move |d| d.merge(&mut doc).map(|_| ()))
                .await?
                .map_err(|e| EngineError::BadImport(e.to_string()))?;
            Ok(false)
        }
        None => {
            let handle = docs.create(doc).await?;
            let (id, doc_id, from) = (
                contact.id.clone(),
                handle.document_id().to_string(),
                header.from.clone(),
            );
            device
                .blocking(move |s| s.set_inbound(&id, &doc_id, &from))
                .await?;
            Ok(true)
        }
    }
}

/// Splits and checks a panel file: magic line, header line, then an Automerge document whose owner
/// is the header's author. Any other bytes are refused with [`EngineError::BadImport`].
pub fn parse_panel_file(bytes: &[u8]) -> Result<(PanelFileHeader, Automerge), EngineError> {
    let bad = |m: &str| EngineError::BadImport(m.to_string());
    let mut parts = bytes.splitn(3, |b| *b == b'\n');
    if parts.next() != Some(MAGIC.as_bytes()) {
        return Err(bad("not a Backstory panel file"));
    }
    let header: PanelFileHeader = parts
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
