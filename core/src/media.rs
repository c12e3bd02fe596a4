//! Attachments: checked before they enter the blob store, and given an entry kind by MIME type.

use std::path::Path;

use backstory_crdt::{Kind, MediaRef};

use crate::error::EngineError;

/// The default limit for one attachment: 200 MB.
pub const DEFAULT_LIMIT: u64 = 200 * 1000 * 1000;

/// What an attachment is, once checked: its size, file name and MIME type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Size in bytes.
    pub size: u64,
    /// The file name.
    pub name: String,
    /// The MIME type, from the file name.
    pub mime: String,
}

/// Checks that `src` is a regular file within the size limit, before anything is stored.
pub fn check(src: &Path, limit: u64) -> Result<Checked, EngineError> {
    let meta = match std::fs::metadata(src) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(EngineError::FileNotFound(src.to_path_buf()));
        }
        Err(source) => {
            return Err(EngineError::Io {
                path: src.to_path_buf(),
                source,
            });
        }
    };
    if !meta.is_file() {
        return Err(EngineError::InvalidInput(format!(
            "{} is not a regular file",
            src.display()
        )));
    }
    if meta.len() > limit {
        return Err(EngineError::TooLarge {
            path: src.to_path_buf(),
            size: meta.len(),
            limit,
        });
    }
    let name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let mime = mime_guess::from_path(src)
        .first_or_octet_stream()
        .essence_str()
        .to_string();
    Ok(Checked {
        size: meta.len(),
        name,
        mime,
    })
}

/// The entry kind for a media file, by its MIME type.
pub fn kind_for(media: MediaRef) -> Kind {
    match media.mime.split('/').next() {
        Some("image") => Kind::Image { media },
        Some("audio") => Kind::Audio { media },
        Some("video") => Kind::Video { media },
        _ => Kind::File { media },
    }
}

/// The folder inside the data directory holding media copies for the windows to show; the only
/// folder the app's windows may read.
pub fn viewing_dir(data_dir: &Path) -> std::path::PathBuf {
    data_dir.join("media")
}

/// Where a window can show a verified media file: `<data>/media/<hash>.<ext>`, named by its hash
/// and never by the name a peer gave it, with an extension from a short list of known types so it
/// plays. Refuses hashes that are not plain alphanumerics; creates the folder.
pub fn viewing_path(
    data_dir: &Path,
    hash: &str,
    mime: &str,
) -> Result<std::path::PathBuf, EngineError> {
    if hash.is_empty() || !hash.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(EngineError::InvalidInput(format!(
            "bad media hash `{hash}`"
        )));
    }
    let ext = match mime {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "audio/wav" | "audio/x-wav" => "wav",
        "audio/webm" => "weba",
        "audio/mp4" => "m4a",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    let dir = viewing_dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|source| EngineError::Io {
        path: dir.clone(),
        source,
    })?;
    Ok(dir.join(format!("{hash}.{ext}")))
}
