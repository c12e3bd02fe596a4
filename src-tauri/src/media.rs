//! Where fetched media live so the windows can show them: named by their verified hash, never by
//! the name a peer gave them.

use std::path::{Path, PathBuf};

use backstory_crdt::MediaRef;

/// The folder of fetched media inside the data directory; the only folder the windows may read.
pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}

/// The local path for a media file: `<data>/media/<hash>.<ext>`, the extension from a short list
/// of known types so a window can play it. Refuses hashes that are not plain hex.
pub fn local_path(data_dir: &Path, media: &MediaRef) -> Result<PathBuf, String> {
    if media.hash.is_empty() || !media.hash.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!("bad media hash `{}`", media.hash));
    }
    let ext = match media.mime.as_str() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "audio/mpeg" => "mp3",
        "audio/ogg" => "ogg",
        "audio/wav" | "audio/x-wav" => "wav",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "application/pdf" => "pdf",
        _ => "bin",
    };
    let dir = dir(data_dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir.join(format!("{}.{ext}", media.hash)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(hash: &str, mime: &str) -> MediaRef {
        MediaRef {
            hash: hash.into(),
            size: 1,
            mime: mime.into(),
            name: "../../etc/passwd".into(),
        }
    }

    #[test]
    fn names_files_by_hash_not_by_the_peers_name() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let p = local_path(tmp.path(), &media("ab12", "image/png")).expect("path");
        assert_eq!(p, tmp.path().join("media").join("ab12.png"));
        let p = local_path(tmp.path(), &media("ab12", "text/html")).expect("path");
        assert_eq!(p.extension().and_then(|e| e.to_str()), Some("bin"));
    }

    #[test]
    fn refuses_hashes_that_could_escape_the_folder() {
        let tmp = tempfile::tempdir().expect("tempdir");
        for bad in ["", "../x", "a/b", "a.b"] {
            assert!(
                local_path(tmp.path(), &media(bad, "image/png")).is_err(),
                "{bad}"
            );
        }
    }
}
