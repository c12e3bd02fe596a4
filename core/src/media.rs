//! Attachments: files copied into the data directory under their BLAKE3 hash.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use backstory_crdt::{Kind, MediaRef};

use crate::error::EngineError;

/// The default limit for one attachment: 200 MB.
pub const DEFAULT_LIMIT: u64 = 200 * 1000 * 1000;

/// The folder, inside the data directory, that holds attachments.
pub const MEDIA_DIR: &str = "media";

/// Copies `src` into `dir/media/<hash>` (atomically, durably) and describes it.
///
/// The size is checked before anything is copied, and again while copying, so a file that grows
/// meanwhile is refused too.
pub fn import(dir: &Path, src: &Path, limit: u64) -> Result<MediaRef, EngineError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source: std::io::Error| EngineError::Io { path, source }
    };
    let meta = match std::fs::metadata(src) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(EngineError::FileNotFound(src.to_path_buf()));
        }
        Err(e) => return Err(io(src)(e)),
    };
    if !meta.is_file() {
        return Err(EngineError::InvalidInput(format!(
            "{} is not a regular file",
            src.display()
        )));
    }
    let too_large = |size| EngineError::TooLarge {
        path: src.to_path_buf(),
        size,
        limit,
    };
    if meta.len() > limit {
        return Err(too_large(meta.len()));
    }
    let media = dir.join(MEDIA_DIR);
    std::fs::create_dir_all(&media).map_err(io(&media))?;
    let tmp: PathBuf = media.join(format!(".incoming-{}", rand::random::<u64>()));
    let result = (|| {
        let mut input = std::fs::File::open(src).map_err(io(src))?;
        let mut out = std::fs::File::create(&tmp).map_err(io(&tmp))?;
        let mut hasher = blake3::Hasher::new();
        let mut buf = vec![0u8; 256 * 1024];
        let mut size = 0u64;
        loop {
            let n = input.read(&mut buf).map_err(io(src))?;
            if n == 0 {
                break;
            }
            size += n as u64;
            if size > limit {
                return Err(too_large(size));
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n]).map_err(io(&tmp))?;
        }
        out.sync_all().map_err(io(&tmp))?;
        let hash = hasher.finalize().to_hex().to_string();
        let dest = media.join(&hash);
        std::fs::rename(&tmp, &dest).map_err(io(&dest))?;
        std::fs::File::open(&media)
            .and_then(|d| d.sync_all())
            .map_err(io(&media))?;
        Ok((hash, size))
    })();
    let (hash, size) = match result {
        Ok(v) => v,
        Err(e) => {
            let _ignored_cleanup = std::fs::remove_file(&tmp);
            return Err(e);
        }
    };
    let name = src
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| hash.clone());
    let mime = mime_guess::from_path(src)
        .first_or_octet_stream()
        .essence_str()
        .to_string();
    Ok(MediaRef {
        hash,
        size,
        mime,
        name,
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
