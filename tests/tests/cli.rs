//! The CLI against a real engine process: authoring, visibility, reading, errors.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use backstory_tests::{Node, cli, cli_json, cli_ok, eventually, local, local_on_clock};

fn setup() -> (tempfile::TempDir, Node) {
    setup_with(&local())
}

/// A node on a test clock standing at `START`: rules come due when the test moves it.
fn setup_on_clock() -> (tempfile::TempDir, Node) {
    setup_with(&local_on_clock(START))
}

const START: i64 = 1_900_000_000_000;

fn setup_with(env: &[(String, String)]) -> (tempfile::TempDir, Node) {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start_with(dir.path(), env);
    cli_ok(dir.path(), &["name", "Ann"]);
    cli_ok(dir.path(), &["contacts", "add", "Bob"]);
    (dir, node)
}

fn published_texts(dir: &std::path::Path) -> Vec<String> {
    let v = cli_json(dir, &["panel", "bob", "--as-viewer"]);
    v["panel"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap().to_string())
        .collect()
}

fn error_code(out: &std::process::Output) -> String {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON error: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    v["error"]["code"].as_str().unwrap().to_string()
}

#[test]
fn identity_is_created_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path());
    let first = cli_json(dir.path(), &["id"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(first.len(), 64);
    node.stop();
    let node = Node::start(dir.path());
    assert_eq!(cli_json(dir.path(), &["id"])["id"], first.as_str());
    cli_ok(dir.path(), &["name", "Zoë"]);
    assert_eq!(cli_json(dir.path(), &["id"])["name"], "Zoë");
    node.stop();
}

#[test]
fn authoring_a_panel_end_to_end() {
    let (dir, node) = setup();
    let d = dir.path();
    let text = cli_ok(d, &["post", "--to", "Bob", "--text", "I went hiking."]);
    assert!(text.starts_with('e'), "printed id: {text}");
    let link = cli_ok(
        d,
        &[
            "post",
            "--to",
            "bob",
            "--category",
            "travel",
            "--link",
            "https://example.org/alps",
            "--text",
            "the route",
        ],
    );
    let photo = d.join("summit.png");
    std::fs::write(&photo, b"\x89PNG\r\n\x1a\nnot really a png").unwrap();
    let image = cli_ok(
        d,
        &["post", "--to", "bob", "--file", photo.to_str().unwrap()],
    );

    let panel = cli_json(d, &["panel", "bob"]);
    let entries = panel["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    let by_id =
        |id: &str| entries.iter().find(|e| e["entry"]["id"] == id).unwrap()["entry"].clone();
    assert_eq!(by_id(&text)["kind"], "text");
    assert_eq!(by_id(&link)["kind"], "link");
    assert_eq!(by_id(&link)["category"], "travel");
    assert_eq!(by_id(&link)["url"], "https://example.org/alps");
    let img = by_id(&image);
    assert_eq!(img["kind"], "image");
    assert_eq!(img["media"]["mime"], "image/png");
    assert_eq!(img["media"]["name"], "summit.png");
    let hash = img["media"]["hash"].as_str().unwrap();
    assert_eq!(
        hash,
        blake3::hash(&std::fs::read(&photo).unwrap())
            .to_hex()
            .to_string()
    );

    cli_ok(
        d,
        &[
            "edit",
            &text,
            "--text",
            "I went hiking in the Alps.",
            "--category",
            "travel",
        ],
    );
    cli_ok(d, &["rm", &image]);
    let panel = cli_json(d, &["panel", "bob"]);
    let entries = panel["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["entry"]["text"], "I went hiking in the Alps.");
    assert_eq!(entries[0]["entry"]["category"], "travel");
    assert_eq!(
        published_texts(d),
        ["I went hiking in the Alps.", "the route"]
    );

    let human = cli_ok(d, &["panel", "bob"]);
    assert!(human.contains("Recent travel [travel]"), "{human}");
    assert!(human.contains("I went hiking in the Alps."), "{human}");
    let contacts = cli_json(d, &["contacts"]);
    assert_eq!(contacts[0]["name"], "Bob");
    assert_eq!(contacts[0]["mine"]["entries"], 2);
    node.stop();
}

#[test]
fn categories_can_be_added_renamed_moved_and_removed_without_losing_entries() {
    let (dir, node) = setup();
    let d = dir.path();
    let pods = cli_json(d, &["categories", "bob", "add", "Podcasts"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    let e = cli_ok(
        d,
        &[
            "post",
            "--to",
            "bob",
            "--category",
            &pods,
            "--text",
            "a good episode",
        ],
    );
    cli_ok(d, &["categories", "bob", "rename", &pods, "Listening"]);
    cli_ok(d, &["categories", "bob", "move", &pods, "0"]);
    let cats = cli_json(d, &["categories", "bob"]);
    assert_eq!(cats[0]["id"], pods.as_str());
    assert_eq!(cats[0]["name"], "Listening");
    assert_eq!(cats.as_array().unwrap().len(), 8);
    let viewer = cli_json(d, &["panel", "bob", "--as-viewer"]);
    assert_eq!(viewer["panel"]["categories"][0]["name"], "Listening");

    cli_ok(d, &["categories", "bob", "rm", &pods]);
    let panel = cli_json(d, &["panel", "bob"]);
    let entry = &panel["entries"][0]["entry"];
    assert_eq!(entry["id"], e.as_str());
    assert_eq!(
        entry["category"], "activities",
        "moved to the first remaining category"
    );
    assert_eq!(entry["text"], "a good episode");
    node.stop();
}

#[test]
fn hidden_entries_never_reach_the_outbox_and_rules_apply_on_time() {
    let (dir, node) = setup_on_clock();
    let d = dir.path();
    cli_ok(d, &["post", "--to", "bob", "--text", "shown"]);
    let secret = cli_ok(
        d,
        &[
            "post",
            "--to",
            "bob",
            "--hidden",
            "--text",
            "MARKER-7f3a9c-hidden",
        ],
    );
    cli_ok(
        d,
        &[
            "post",
            "--to",
            "bob",
            "--reveal-after",
            "2d",
            "--text",
            "revealed later",
        ],
    );
    cli_ok(
        d,
        &[
            "post",
            "--to",
            "bob",
            "--visible-until",
            "2d",
            "--text",
            "gone soon",
        ],
    );
    assert_eq!(published_texts(d), ["shown", "gone soon"]);
    // The rule's instant is the engine's clock plus two days.
    let panel = cli_json(d, &["panel", "bob"]);
    assert_eq!(panel["next_change"], START + 2 * 86_400_000);

    // What would leave the device holds no trace of the hidden entry (decoded, with a control).
    let file = d.join("to-bob.panel");
    cli_ok(d, &["export", "--to", "bob", file.to_str().unwrap()]);
    let bytes = std::fs::read(&file).unwrap();
    let doc = backstory_core::crdt::automerge::Automerge::load(
        &bytes[bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(1)
            .unwrap()
            .0
            + 1..],
    )
    .unwrap();
    let exported: Vec<String> = backstory_core::crdt::read_panel(&doc)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.text)
        .collect();
    assert_eq!(exported, ["shown", "gone soon"]);
    assert!(!bytes.windows(20).any(|w| w == b"MARKER-7f3a9c-hidden"));

    // Two days on the engine's clock: both rules flip at once.
    cli_ok(d, &["clock", "advance", "2d"]);
    let flipped = eventually(Duration::from_secs(10), || {
        let t = published_texts(d);
        (t == ["shown", "revealed later"]).then_some(t)
    });
    assert!(
        flipped.is_some(),
        "rules did not apply: {:?}",
        published_texts(d)
    );

    // Un-hiding publishes.
    cli_ok(d, &["edit", &secret, "--visible"]);
    assert!(published_texts(d).contains(&"MARKER-7f3a9c-hidden".to_string()));
    cli_ok(d, &["edit", &secret, "--hidden"]);
    assert!(!published_texts(d).contains(&"MARKER-7f3a9c-hidden".to_string()));
    node.stop();
}

#[test]
fn rules_that_came_due_while_stopped_apply_at_start() {
    let (dir, node) = setup_on_clock();
    let d = dir.path();
    cli_ok(
        d,
        &[
            "post",
            "--to",
            "bob",
            "--reveal-after",
            "1h",
            "--text",
            "while you were away",
        ],
    );
    assert!(published_texts(d).is_empty());
    node.stop();
    // The engine starts again two hours later: the rule came due while nothing ran.
    let node = Node::start_with(d, &local_on_clock(START + 2 * 3_600_000));
    assert_eq!(published_texts(d), ["while you were away"]);
    node.stop();
}

#[test]
fn a_contacts_panel_is_read_with_what_changed_since_last_time() {
    let (a, node_a) = setup();
    let b = tempfile::tempdir().unwrap();
    let node_b = Node::start(b.path());
    cli_ok(b.path(), &["contacts", "add", "Ann"]);
    assert!(cli_ok(b.path(), &["show", "ann"]).contains("has not shared a panel"));

    let e1 = cli_ok(
        a.path(),
        &["post", "--to", "bob", "--text", "I went hiking."],
    );
    let e2 = cli_ok(
        a.path(),
        &["post", "--to", "bob", "--text", "Reading Dune."],
    );
    let file = a.path().join("p.panel");
    cli_ok(a.path(), &["export", "--to", "bob", file.to_str().unwrap()]);
    let imported = cli_json(
        b.path(),
        &["import", "--from", "ann", file.to_str().unwrap()],
    );
    assert_eq!(imported["unseen"], 2);

    let first = cli_json(b.path(), &["show", "ann"]);
    let states: Vec<&str> = first["changes"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["new", "new"]);
    // Showing marked it seen.
    let again = cli_json(b.path(), &["show", "ann", "--since-last"]);
    assert!(again["entries"].as_array().unwrap().is_empty());

    cli_ok(
        a.path(),
        &["edit", &e1, "--text", "I went hiking in the Alps."],
    );
    cli_ok(a.path(), &["rm", &e2]);
    cli_ok(a.path(), &["export", "--to", "bob", file.to_str().unwrap()]);
    cli_ok(
        b.path(),
        &["import", "--from", "ann", file.to_str().unwrap()],
    );
    let since = cli_json(b.path(), &["show", "ann", "--since-last", "--keep-unseen"]);
    let entries = since["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["state"], "edited");
    let spans: Vec<(&str, bool)> = entries[0]["spans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["text"].as_str().unwrap(), s["new"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        spans,
        [
            ("I went hiking", false),
            (" in the Alps", true),
            (".", false)
        ]
    );
    assert_ne!(
        entries[0]["spans"][0]["change"],
        entries[0]["spans"][1]["change"]
    );
    assert_eq!(since["removed"][0]["text"], "Reading Dune.");
    let human = cli_ok(b.path(), &["show", "ann", "--since-last"]);
    assert!(human.contains("EDITED"), "{human}");
    assert!(human.contains("[+ in the Alps @"), "{human}");
    assert!(human.contains("REMOVED"), "{human}");
    assert!(cli_ok(b.path(), &["show", "ann"]).contains("nothing new"));

    // A panel file from someone else is refused for Ann, and nothing changes.
    let (c, node_c) = setup();
    let other = c.path().join("other.panel");
    cli_ok(c.path(), &["post", "--to", "bob", "--text", "not Ann"]);
    cli_ok(
        c.path(),
        &["export", "--to", "bob", other.to_str().unwrap()],
    );
    let out = cli(
        b.path(),
        &["--json", "import", "--from", "ann", other.to_str().unwrap()],
    );
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(error_code(&out), "bad_import");
    assert_eq!(
        cli_json(b.path(), &["show", "ann"])["changes"]["entries"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for n in [node_a, node_b, node_c] {
        n.stop();
    }
}

#[test]
fn bad_input_gets_a_clear_error_and_a_nonzero_exit() {
    let (dir, node) = setup();
    let d = dir.path();
    let check = |args: &[&str], code: &str, words: &str| {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = cli(d, &all);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(error_code(&out), code, "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(words), "{args:?}: {stderr}");
    };
    check(
        &["post", "--to", "nobody", "--text", "x"],
        "unknown_contact",
        "unknown contact `nobody`",
    );
    check(
        &["post", "--to", "bob", "--category", "nope", "--text", "x"],
        "unknown_category",
        "unknown category `nope`",
    );
    check(
        &["post", "--to", "bob", "--file", "/no/such/file.jpg"],
        "file_not_found",
        "/no/such/file.jpg",
    );
    check(
        &["post", "--to", "bob", "--link", "ftp://x.org/a"],
        "invalid_input",
        "only http and https",
    );
    check(
        &["post", "--to", "bob", "--link", "not a url"],
        "invalid_input",
        "bad link",
    );
    check(
        &["edit", "e0000", "--text", "x"],
        "unknown_entry",
        "unknown entry",
    );
    check(&["rm", "e0000"], "unknown_entry", "unknown entry");
    check(
        &["categories", "bob", "rename", "nope", "X"],
        "unknown_category",
        "unknown category",
    );
    let garbage = d.join("garbage.panel");
    std::fs::write(&garbage, b"hello").unwrap();
    check(
        &["import", "--from", "bob", garbage.to_str().unwrap()],
        "bad_import",
        "not a Backstory panel file",
    );

    let out = cli(
        d,
        &[
            "post",
            "--to",
            "bob",
            "--reveal-after",
            "someday",
            "--text",
            "x",
        ],
    );
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad time `someday`"));
    let out = cli(
        d,
        &[
            "post",
            "--to",
            "bob",
            "--hidden",
            "--reveal-after",
            "3d",
            "--text",
            "x",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "contradictory rules are a usage error"
    );
    // Nothing was created by any of the refused commands.
    assert_eq!(
        cli_json(d, &["panel", "bob"])["entries"]
            .as_array()
            .unwrap()
            .len(),
        0
    );
    node.stop();

    let out = cli(d, &["--json", "contacts"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(error_code(&out), "no_engine");
    assert!(String::from_utf8_lossy(&out.stderr).contains("no Backstory engine is running"));
}

#[test]
fn a_second_engine_on_the_same_data_dir_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path());
    let out = cli(dir.path(), &["node"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("already running"), "{stderr}");
    assert!(stderr.contains(&format!("pid {}", node.pid())), "{stderr}");
    // The first engine is unharmed.
    cli_ok(dir.path(), &["contacts", "add", "Still here"]);
    node.stop();
}

#[test]
fn the_control_socket_and_secrets_are_private_to_the_user() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path());
    let mode = |p: &str| {
        std::fs::metadata(dir.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("control.sock"), 0o600);
    assert_eq!(mode("identity.key"), 0o600);
    node.stop();
    assert!(
        !dir.path().join("control.sock").exists(),
        "a clean stop removes the socket"
    );
}

#[test]
fn corrupt_files_are_named_and_nothing_is_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path());
    cli_ok(dir.path(), &["contacts", "add", "Bob"]);
    node.stop();

    let db = dir.path().join("backstory.db");
    let original = std::fs::read(&db).unwrap();
    let mut broken = original.clone();
    for b in broken.iter_mut().take(100) {
        *b = 0x5a;
    }
    std::fs::write(&db, &broken).unwrap();
    let _ = std::fs::remove_file(dir.path().join("backstory.db-wal"));
    let out = cli(dir.path(), &["node"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains(db.to_str().unwrap()), "{stderr}");
    assert!(stderr.contains("corrupt"), "{stderr}");
    assert_eq!(
        std::fs::read(&db).unwrap(),
        broken,
        "the damaged file is left for recovery"
    );
    std::fs::write(&db, &original).unwrap();

    let key = dir.path().join("identity.key");
    let good_key = std::fs::read(&key).unwrap();
    std::fs::write(&key, b"short").unwrap();
    let out = cli(dir.path(), &["node"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(key.to_str().unwrap()) && stderr.contains("corrupt"),
        "{stderr}"
    );
    assert_eq!(std::fs::read(&key).unwrap(), b"short");
    std::fs::write(&key, &good_key).unwrap();

    let node = Node::start(dir.path());
    assert_eq!(cli_json(dir.path(), &["contacts"])[0]["name"], "Bob");
    node.stop();
}

#[test]
fn inspect_shows_what_each_document_holds_now() {
    let (dir, node) = setup();
    let d = dir.path();
    cli_ok(d, &["post", "--to", "Bob", "--text", "Kept in the panel"]);
    let removed = cli_ok(d, &["post", "--to", "Bob", "--text", "Gone again"]);
    cli_ok(d, &["rm", &removed]);
    let docs = cli_json(d, &["inspect"]);
    let panel = docs
        .as_array()
        .unwrap()
        .iter()
        .find(|doc| doc["content"].to_string().contains("Kept in the panel"))
        .expect("a document holds the entry");
    assert!(
        !panel["content"].to_string().contains("Gone again"),
        "a removed entry is not in the content now: {}",
        panel["content"]
    );
    // The text output names the content too, under its own heading.
    let text = cli_ok(d, &["inspect"]);
    let now = text.find("content now:").expect("a content heading");
    assert!(text[now..].contains("Kept in the panel"), "{text}");
    node.stop();
}
