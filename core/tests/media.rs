//! Attachments: hashed, copied durably, and refused over the limit without leaving anything behind.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_core::EngineError;
use backstory_core::media::{MEDIA_DIR, import, kind_for};
use backstory_crdt::Kind;

#[test]
fn files_are_stored_under_their_blake3_hash() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("song.ogg");
    std::fs::write(&src, b"la la la").unwrap();
    let media = import(dir.path(), &src, 1000).unwrap();
    assert_eq!(media.hash, blake3::hash(b"la la la").to_hex().to_string());
    assert_eq!(media.size, 8);
    assert_eq!(media.name, "song.ogg");
    assert_eq!(media.mime, "audio/ogg");
    let stored = dir.path().join(MEDIA_DIR).join(&media.hash);
    assert_eq!(std::fs::read(stored).unwrap(), b"la la la");
    assert!(matches!(kind_for(media), Kind::Audio { .. }));
}

#[test]
fn oversized_and_missing_files_are_refused_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.mp4");
    std::fs::write(&src, vec![7u8; 4096]).unwrap();
    let err = import(dir.path(), &src, 4095).unwrap_err();
    assert!(
        matches!(
            err,
            EngineError::TooLarge {
                size: 4096,
                limit: 4095,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("big.mp4"));
    let media = dir.path().join(MEDIA_DIR);
    let left = std::fs::read_dir(&media).map(|d| d.count()).unwrap_or(0);
    assert_eq!(left, 0, "nothing is left behind");
    let err = import(dir.path(), &dir.path().join("nope.png"), 10).unwrap_err();
    assert!(matches!(err, EngineError::FileNotFound(_)));
    let err = import(dir.path(), dir.path(), 10).unwrap_err();
    assert!(err.to_string().contains("not a regular file"));
}
