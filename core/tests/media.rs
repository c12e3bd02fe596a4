//! Attachments are checked before anything is stored.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_core::EngineError;
use backstory_core::media::{check, kind_for};
use backstory_crdt::{Kind, MediaRef};

#[test]
fn files_are_described_and_given_a_kind() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("song.ogg");
    std::fs::write(&src, b"la la la").unwrap();
    let c = check(&src, 1000).unwrap();
    assert_eq!(
        (c.size, c.name.as_str(), c.mime.as_str()),
        (8, "song.ogg", "audio/ogg")
    );
    let media = MediaRef {
        hash: "00".repeat(32),
        size: c.size,
        mime: c.mime,
        name: c.name,
    };
    assert!(matches!(kind_for(media), Kind::Audio { .. }));
}

#[test]
fn oversized_missing_and_odd_files_are_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("big.mp4");
    std::fs::write(&src, vec![7u8; 4096]).unwrap();
    let err = check(&src, 4095).unwrap_err();
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
    let err = check(&dir.path().join("nope.png"), 10).unwrap_err();
    assert!(matches!(err, EngineError::FileNotFound(_)));
    let err = check(dir.path(), 10).unwrap_err();
    assert!(err.to_string().contains("not a regular file"));
}
