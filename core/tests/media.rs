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

#[test]
fn media_for_windows_are_named_by_hash_not_by_the_peers_name() {
    use backstory_core::media::viewing_path;
    let tmp = tempfile::tempdir().unwrap();
    let p = viewing_path(tmp.path(), "ab12", "image/png").unwrap();
    assert_eq!(p, tmp.path().join("media").join("ab12.png"));
    let p = viewing_path(tmp.path(), "ab12", "text/html").unwrap();
    assert_eq!(p.extension().and_then(|e| e.to_str()), Some("bin"));
    for bad in ["", "../x", "a/b", "a.b"] {
        assert!(viewing_path(tmp.path(), bad, "image/png").is_err(), "{bad}");
    }
}
