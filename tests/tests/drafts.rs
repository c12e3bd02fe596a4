//! Drafts are durable: one prepared (its attachment imported) survives the engine being killed,
//! and posts afterwards exactly as prepared.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_tests::{Node, cli_json, cli_ok, local};

#[test]
fn a_draft_survives_a_killed_engine_and_posts_as_it_was_prepared() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let node = Node::start_with(d, &local());
    cli_ok(d, &["contacts", "add", "Bob"]);
    let file = d.join("route.gpx");
    let bytes = b"<gpx><trk><name>Mont Ventoux</name></trk></gpx>".repeat(50);
    std::fs::write(&file, &bytes).unwrap();
    let hash = blake3::hash(&bytes).to_hex().to_string();
    let draft = cli_ok(
        d,
        &[
            "post",
            "--to",
            "bob",
            "--text",
            "the route, not posted yet",
            "--file",
            file.to_str().unwrap(),
            "--reveal-after",
            "in 2 days",
            "--draft",
        ],
    );
    // Acknowledged means durable: nothing is given the chance to flush at exit.
    node.kill();
    std::fs::remove_file(&file).unwrap();

    let node = Node::start_with(d, &local());
    let drafts = cli_json(d, &["drafts"]);
    let drafts = drafts.as_array().unwrap();
    assert_eq!(drafts.len(), 1, "{drafts:?}");
    let kept = &drafts[0];
    assert_eq!(kept["id"], draft.as_str());
    assert_eq!(kept["text"], "the route, not posted yet");
    assert_eq!(kept["media"]["hash"], hash.as_str(), "{kept}");
    assert_eq!(kept["visibility"]["rule"], "reveal_after", "{kept}");
    let panel = cli_json(d, &["panel", "bob"]);
    assert!(
        panel["entries"].as_array().unwrap().is_empty(),
        "a draft is not published: {panel}"
    );

    let posted = cli_ok(d, &["drafts", "post", &draft]);
    let panel = cli_json(d, &["panel", "bob"]);
    let entries = panel["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{panel}");
    let entry = &entries[0];
    assert_eq!(entry["entry"]["id"], posted.as_str());
    assert_eq!(entry["entry"]["text"], "the route, not posted yet");
    assert_eq!(entry["entry"]["media"]["hash"], hash.as_str());
    assert_eq!(entry["visibility"]["rule"], "reveal_after");
    assert_eq!(entry["visible_now"], false);
    assert!(cli_json(d, &["drafts"]).as_array().unwrap().is_empty());
    node.stop();
    // The attachment is whole in the blob store, though the file it came from is gone.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = iroh_blobs::store::fs::FsStore::load(d.join("blobs"))
            .await
            .unwrap();
        let held = store.get_bytes(iroh_blobs::Hash::new(&bytes)).await;
        assert!(held.unwrap() == bytes[..], "the attachment is damaged");
        store.shutdown().await.unwrap();
    });
}
