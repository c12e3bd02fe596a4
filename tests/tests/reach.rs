//! Every operation of the engine's API is reachable from the command line: a tour of the CLI
//! against real nodes, recording (from the CLI's own trace) which operations it sent, must cover
//! the API's whole list. A new operation without a command fails here.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use backstory_tests::players::{Players, videos};
use backstory_tests::screen::Screen;
use backstory_tests::{Node, backstory_bin, eventually, local_on_clock, wall_ms};

/// Runs the CLI with its trace on; returns its output and the operations it sent.
fn traced(dir: &Path, args: &[&str]) -> (Output, Vec<String>) {
    let out = Command::new(backstory_bin())
        .arg("--data-dir")
        .arg(dir)
        .arg("--json")
        .args(args)
        .env_remove("BACKSTORY_DATA_DIR")
        .env("BACKSTORY_LOG", "backstory::api=debug")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let ops = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| l.split("op=").nth(1))
        .map(|rest| rest.split_whitespace().next().unwrap_or("").to_string())
        .collect();
    (out, ops)
}

struct Tour {
    sent: BTreeSet<String>,
}

impl Tour {
    fn run(&mut self, dir: &Path, args: &[&str]) -> serde_json::Value {
        let (out, ops) = traced(dir, args);
        assert!(
            out.status.success(),
            "backstory {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!ops.is_empty(), "backstory {args:?} sent no operation");
        self.sent.extend(ops);
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }
}

#[test]
fn every_operation_of_the_api_is_reachable_from_the_cli() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let (ann, bob, carol) = (a.path(), b.path(), c.path());
    // A screen with a picture on it, for the screenshot commands.
    let shown = a.path().join("shown.png");
    std::fs::write(&shown, backstory_tests::web::png(640, 360)).unwrap();
    let screen = Screen::start(&shown);
    let mut env = local_on_clock(wall_ms());
    env.push(("DISPLAY".into(), screen.display.clone()));
    env.push(("WAYLAND_DISPLAY".into(), String::new()));
    let _nodes = [
        Node::start_with(ann, &env),
        Node::start_with(bob, &env),
        Node::start_with(carol, &env),
    ];
    let mut t = Tour {
        sent: BTreeSet::new(),
    };
    t.run(ann, &["name", "Ann"]);
    t.run(bob, &["name", "Bob"]);
    t.run(carol, &["name", "Carol"]);
    t.run(ann, &["id"]);
    t.run(ann, &["settings"]);
    t.run(ann, &["settings", "set", "receipts", "on"]);
    assert_eq!(t.run(ann, &["settings", "get", "receipts"])["value"], "on");

    // Pairing, one join approved by hand.
    let ticket = t.run(ann, &["invite"])["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    t.run(bob, &["join", &ticket]);
    let ticket = t.run(ann, &["invite", "--require-approval"])["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    let carol_dir = carol.to_path_buf();
    let joining = std::thread::spawn(move || traced(&carol_dir, &["join", &ticket]));
    let pending = eventually(Duration::from_secs(20), || {
        t.run(ann, &["pending"])
            .as_array()
            .unwrap()
            .first()
            .cloned()
    })
    .expect("a join waits for approval");
    t.run(ann, &["approve", &pending["id"].to_string()]);
    let (joined, ops) = joining.join().unwrap();
    assert!(joined.status.success());
    t.sent.extend(ops);

    // Contacts and my panel.
    t.run(ann, &["contacts", "add", "Dan"]);
    t.run(ann, &["contacts"]);
    t.run(ann, &["contacts", "show", "bob"]);
    let photo = a.path().join("summit.png");
    std::fs::write(&photo, b"\x89PNG\r\n\x1a\nnot really a png").unwrap();
    let picture = t.run(
        ann,
        &["post", "--to", "bob", "--file", photo.to_str().unwrap()],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let later = t.run(
        ann,
        &[
            "post",
            "--to",
            "bob",
            "--text",
            "later",
            "--reveal-after",
            "1h",
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.run(ann, &["edit", &later, "--text", "a bit later"]);
    let draft = t.run(
        ann,
        &["post", "--to", "bob", "--text", "drafted", "--draft"],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.run(ann, &["drafts"]);
    t.run(ann, &["drafts", "post", &draft]);
    let draft = t.run(
        ann,
        &["post", "--to", "bob", "--text", "dropped", "--draft"],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.run(ann, &["drafts", "rm", &draft]);
    let cat = t.run(ann, &["categories", "bob", "add", "Podcasts"])["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.run(ann, &["categories", "bob", "rename", &cat, "Listening"]);
    t.run(ann, &["categories", "bob", "move", &cat, "0"]);
    t.run(ann, &["categories", "bob", "rm", &cat]);
    t.run(ann, &["categories", "bob"]);
    t.run(ann, &["panel", "bob"]);
    t.run(ann, &["panel", "bob", "--as-viewer"]);
    t.run(ann, &["clock"]);
    t.run(ann, &["clock", "advance", "2h"]);

    // The inbox: two videos played in a stand-in player, one rejected, one approved.
    t.run(ann, &["settings", "set", "watcher.interval", "5s"]);
    let films = a.path().join("films");
    videos(&films, &["first.mkv", "second.mkv"]);
    let mut players = Players::default();
    players.start(
        &a.path().join("bin"),
        "mpv",
        &["first.mkv", "second.mkv"],
        &films,
    );
    let root = films.display().to_string();
    let ids = eventually(Duration::from_secs(30), || {
        let inbox = t.run(ann, &["inbox"]);
        let ids: Vec<String> = inbox["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                s["source"]["location"]
                    .as_str()
                    .is_some_and(|l| l.starts_with(&root))
            })
            .map(|s| s["id"].as_str().unwrap().to_string())
            .collect();
        (ids.len() == 2).then_some(ids)
    })
    .expect("the stand-in player's videos are suggested");
    t.run(ann, &["inbox", "reject", &ids[0]]);
    t.run(ann, &["inbox", "approve", &ids[1], "--to", "bob"]);
    t.run(ann, &["inbox", "always-allow", "vlc", "--to", "bob"]);
    t.run(ann, &["inbox", "disallow", "vlc"]);

    // Their panel, media and files on Bob's side.
    let seen = eventually(Duration::from_secs(20), || {
        let p = t.run(bob, &["show", "ann", "--keep-unseen"]);
        (p["changes"]["entries"].as_array().unwrap().len() == 4).then_some(())
    });
    assert!(seen.is_some(), "Ann's entries never reached Bob");
    t.run(bob, &["show", "ann"]);
    let out = b.path().join("summit.png");
    t.run(
        bob,
        &["fetch", "ann", &picture, "--out", out.to_str().unwrap()],
    );
    let file = a.path().join("for-bob.panel");
    t.run(ann, &["export", "--to", "bob", file.to_str().unwrap()]);
    t.run(bob, &["import", "--from", "ann", file.to_str().unwrap()]);

    // Feedback and chat: Bob comments and looks, Ann reads it.
    t.run(bob, &["comment", "ann", &picture, "nice view"]);
    let voice = b.path().join("voice.ogg");
    std::fs::write(&voice, b"OggS not really a recording").unwrap();
    let spoken = t.run(
        bob,
        &[
            "comment",
            "ann",
            "panel",
            "",
            "--audio",
            voice.to_str().unwrap(),
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    t.run(bob, &["receipts", "ann", "off"]);
    t.run(bob, &["receipts", "ann", "on"]);
    // A second's viewing on Bob's test clock: it ends when the clock is moved, not before.
    let (bob_dir, entry) = (bob.to_path_buf(), picture.clone());
    let viewing = std::thread::spawn(move || {
        traced(
            &bob_dir,
            &["view", "ann", "--for", "1s", "--entries", &entry],
        )
    });
    let ended = eventually(Duration::from_secs(20), || {
        t.run(bob, &["clock", "advance", "1s"]);
        viewing.is_finished().then_some(())
    });
    assert!(ended.is_some(), "the viewing never ended");
    let (viewed, ops) = viewing.join().unwrap();
    assert!(
        viewed.status.success(),
        "{}",
        String::from_utf8_lossy(&viewed.stderr)
    );
    t.sent.extend(ops);
    t.run(bob, &["chat", "ann", "hello Ann"]);
    let arrived = eventually(Duration::from_secs(20), || {
        let f = t.run(ann, &["comments", "bob"]);
        (f["comments"].as_array().unwrap().len() == 2).then_some(())
    });
    assert!(arrived.is_some(), "Bob's comments never reached Ann");
    let heard = a.path().join("voice.ogg");
    t.run(
        ann,
        &[
            "comments",
            "bob",
            "--fetch",
            &spoken,
            "--out",
            heard.to_str().unwrap(),
        ],
    );
    assert_eq!(
        std::fs::read(&heard).unwrap(),
        std::fs::read(&voice).unwrap()
    );
    t.run(ann, &["views", "bob"]);
    t.run(ann, &["chat", "bob"]);
    t.run(bob, &["comment", "ann", "--remove", &spoken]);
    // A link whose page cannot be fetched (a private address, refused) is posted with the
    // reason; its snapshot can be taken again and removed.
    let link = t.run(
        ann,
        &["post", "--to", "bob", "--link", "http://127.0.0.1:9/page"],
    );
    assert!(link["note"].is_string(), "{link}");
    let link = link["id"].as_str().unwrap().to_string();
    t.run(ann, &["snapshot", "refresh", &link]);
    t.run(ann, &["snapshot", "rm", &link]);
    t.run(ann, &["screenshot", "--list"]);
    // The picture needs a moment to be drawn: a blank capture is refused until then.
    let shot = eventually(Duration::from_secs(20), || {
        let (out, ops) = traced(
            ann,
            &[
                "screenshot",
                "--to",
                "bob",
                "--crop",
                "0,0,320,200",
                "--draft",
            ],
        );
        t.sent.extend(ops);
        out.status.success().then_some(())
    });
    assert!(shot.is_some(), "no screenshot could be taken");
    t.run(ann, &["rm", &later]);
    t.run(ann, &["inspect"]);
    t.run(ann, &["contacts", "rm", "dan"]);

    let missing: Vec<&str> = backstory_core::OPERATIONS
        .iter()
        .copied()
        .filter(|op| !t.sent.contains(*op))
        .collect();
    assert!(
        missing.is_empty(),
        "operations no CLI command reaches: {missing:?}"
    );
    let unknown: Vec<&String> = t
        .sent
        .iter()
        .filter(|op| !backstory_core::OPERATIONS.contains(&op.as_str()))
        .collect();
    assert!(
        unknown.is_empty(),
        "trace names unknown operations: {unknown:?}"
    );
}
