//! Faults under a real engine: a disk that fills up, a damaged store, a media file gone.
//!
//! The full disk is a real tmpfs of a few megabytes (mounting one needs root: elsewhere that test
//! says so and skips); the damage is done to the real SQLite file and blob store between runs.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use backstory_tests::{
    Device, Node, backstory_bin, cli, cli_json, cli_ok, eventually, pair, verify, wait_sees,
};

/// A tmpfs mounted on a fresh directory, unmounted when dropped.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (`mount`'s notation), or says why not and gives `None`.
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .stdin(Stdio::null())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self { dir }),
            Ok(o) => {
                eprintln!(
                    "skipped: cannot mount a tmpfs to fill ({}); the full-disk test needs root",
                    String::from_utf8_lossy(&o.stderr).trim()
                );
                None
            }
            Err(e) => {
                eprintln!("skipped: cannot run mount ({e}); the full-disk test needs root");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let unmounted = Command::new("umount")
            .arg(self.dir.path())
            .status()
            .is_ok_and(|s| s.success());
        if !unmounted {
            // Something still holds a file open there: detach it now, it goes when released.
            let _ = Command::new("umount")
                .arg("-l")
                .arg(self.dir.path())
                .status();
        }
    }
}

/// Writes a file into `dir` until the disk under it is full; returns the file.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).unwrap();
    for size in [1 << 20, 4096, 1] {
        let chunk = vec![0x5a_u8; size];
        loop {
            match file.write_all(&chunk) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::StorageFull => break,
                Err(e) => panic!("filling {}: {e}", path.display()),
            }
        }
    }
    let last = file.write_all(&[0]).and_then(|()| file.sync_all());
    assert_eq!(
        last.map_err(|e| e.kind()),
        Err(std::io::ErrorKind::StorageFull),
        "the disk is full"
    );
    path
}

/// A PNG of noise (it does not compress): over 100 KiB, so the blob store keeps it as a file.
fn noise_png(path: &Path, seed: u64) -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let (width, height) = (200, 200);
    let mut pixels = vec![0u8; (width * height * 3) as usize];
    rand::rngs::StdRng::seed_from_u64(seed).fill_bytes(&mut pixels);
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        let mut writer = encoder.write_header().unwrap();
        writer.write_image_data(&pixels).unwrap();
    }
    assert!(bytes.len() > 100 * 1024);
    std::fs::write(path, &bytes).unwrap();
    bytes
}

/// The error a `--json` command answered: its code and message.
fn json_error(out: &Output) -> (String, String) {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON error: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (
        v["error"]["code"].as_str().unwrap().to_string(),
        v["error"]["message"].as_str().unwrap().to_string(),
    )
}

/// Checks that `out` failed as a full disk does: exit code 1, the `disk_full` code, and a message
/// that says so, names where and says what to do.
fn assert_disk_full(out: &Output, data: &Path, what: &str) {
    assert_eq!(out.status.code(), Some(1), "{what}: {out:?}");
    let (code, message) = json_error(out);
    assert_eq!(code, "disk_full", "{what}: {message}");
    assert!(
        message.contains("the disk is full") || message.contains("not enough free space"),
        "{what}: {message}"
    );
    assert!(message.contains("free some space"), "{what}: {message}");
    assert!(
        message.contains(data.to_str().unwrap()),
        "{what} names the data directory: {message}"
    );
}

#[test]
fn a_full_disk_refuses_changes_clearly_loses_nothing_and_recovers_once_space_is_freed() {
    let Some(disk) = Tmpfs::mount("48m") else {
        return;
    };
    let data = disk.path().join("data");
    let files = tempfile::tempdir().unwrap();
    let first = files.path().join("first.png");
    let second = files.path().join("second.png");
    let pictures = [noise_png(&first, 1), noise_png(&second, 2)];

    let node = Node::start(&data);
    cli_ok(&data, &["contacts", "add", "Bob"]);
    let mut acked = Vec::new();
    for i in 0..3 {
        let text = format!("written before the disk filled {i}");
        acked.push((
            cli_ok(&data, &["post", "--to", "Bob", "--text", &text]),
            text,
        ));
    }
    let text = "a picture before the disk filled".to_string();
    let args = ["post", "--to", "Bob", "--file", first.to_str().unwrap()];
    acked.push((
        cli_ok(&data, &[&args[..], &["--text", &text]].concat()),
        text,
    ));

    let filler = fill(disk.path());
    // The store may still have room in pages it holds already: whatever it acknowledges is kept.
    let mut refused = None;
    for i in 0..50 {
        let text = format!("written on a full disk {i}");
        let out = cli(&data, &["--json", "post", "--to", "Bob", "--text", &text]);
        if !out.status.success() {
            refused = Some(out);
            break;
        }
        let id: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        acked.push((id["id"].as_str().unwrap().to_string(), text));
    }
    let refused = refused.expect("posting on a full disk fails");
    assert_disk_full(&refused, &data, "a post");
    let out = cli(
        &data,
        &[
            "--json",
            "post",
            "--to",
            "Bob",
            "--file",
            second.to_str().unwrap(),
        ],
    );
    assert_disk_full(&out, &data, "an attachment");
    // A new contact's document cannot be written either.
    let out = cli(&data, &["--json", "contacts", "add", "Carol"]);
    assert_disk_full(&out, &data, "a new contact");
    // Reading goes on, and the node is still there.
    let master = cli_json(&data, &["panel", "Bob"]);
    assert_eq!(master["entries"].as_array().unwrap().len(), acked.len());

    std::fs::remove_file(&filler).unwrap();
    let text = "written once space was freed".to_string();
    let id = eventually(Duration::from_secs(20), || {
        let out = cli(&data, &["post", "--to", "Bob", "--text", &text]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    })
    .expect("posting works again once space is freed, without a restart");
    acked.push((id, text));
    let text = "a picture once space was freed".to_string();
    let args = ["post", "--to", "Bob", "--file", second.to_str().unwrap()];
    acked.push((
        cli_ok(&data, &[&args[..], &["--text", &text]].concat()),
        text,
    ));
    cli_ok(&data, &["contacts", "add", "Carol"]);
    node.stop();

    let node = Node::start(&data);
    verify(&data, "Bob", &acked);
    let names: Vec<String> = cli_json(&data, &["contacts"])
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, ["Bob", "Carol"]);
    node.stop();
    // Both pictures the engine acknowledged are whole in its blob store.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let store = iroh_blobs::store::fs::FsStore::load(data.join("blobs"))
            .await
            .unwrap();
        for picture in &pictures {
            let held = store.get_bytes(iroh_blobs::Hash::new(picture)).await;
            assert!(held.unwrap() == picture[..], "a picture is damaged");
        }
        store.shutdown().await.unwrap();
    });
}

#[test]
fn a_change_the_full_disk_keeps_from_being_saved_is_not_sent_until_it_is() {
    let Some(disk) = Tmpfs::mount("48m") else {
        return;
    };
    let data = disk.path().join("data");
    let mut ann = Node::start(&data);
    cli_ok(&data, &["name", "Ann"]);
    let mut bob = Device::new("Bob");
    let ticket = cli_json(&data, &["invite"])["ticket"]
        .as_str()
        .unwrap()
        .to_string();
    cli_json(bob.path(), &["join", &ticket]);
    let bob_holds = |bob: &Device, text: &str| {
        cli_json(bob.path(), &["chat", "Ann"])
            .to_string()
            .contains(text)
    };
    cli_ok(&data, &["chat", "Bob", "before the disk filled"]);
    let arrived = eventually(Duration::from_secs(10), || {
        bob_holds(&bob, "before the disk filled").then_some(())
    });
    assert!(arrived.is_some(), "a message reaches Bob");

    // Bob is away while Ann's disk fills, so that her only writes are her messages (and the
    // clean-up after a compaction: if that is the write the full disk stops first, the next
    // message is refused up front; then space is freed and the disk filled again).
    bob.stop();
    let mut acked = Vec::new();
    let mut waiting = None;
    let mut filler = None;
    for round in 0..5u64 {
        let filled = fill(disk.path());
        for i in 0..50u64 {
            let text = format!("MARKER-{round}-{i}-written on a full disk");
            // Large messages that do not compress, so that a message is what needs room first.
            let text = format!("{text} {}", noise_words(round * 100 + i, 2_000));
            let out = cli(&data, &["--json", "chat", "Bob", &text]);
            if out.status.success() {
                acked.push(text);
                continue;
            }
            let (code, message) = json_error(&out);
            assert!(message.contains(data.to_str().unwrap()), "{message}");
            // A message the disk filled up under is told apart: it waits, and sending it again
            // would send it twice.
            if code == "waits_for_space" {
                assert!(message.contains("waits in memory, unsent"), "{message}");
                waiting = Some(text);
            } else {
                assert_eq!(code, "disk_full", "{message}");
                eprintln!("round {round}: refused up front after {i} messages: {message}");
            }
            break;
        }
        if waiting.is_some() {
            filler = Some(filled);
            break;
        }
        std::fs::remove_file(&filled).unwrap();
        let text = format!("MARKER-{round}-after space was freed");
        let sent = eventually(Duration::from_secs(20), || {
            cli(&data, &["chat", "Bob", &text])
                .status
                .success()
                .then_some(())
        });
        assert!(sent.is_some(), "messages go again once space is freed");
        acked.push(text);
    }
    let (waiting, filler) = waiting.zip(filler).expect("a message on a full disk waits");
    // Bob comes back and connects; the message Ann's disk could not take is not sent.
    bob.start();
    let online = eventually(Duration::from_secs(20), || {
        (bob.contacts()[0]["state"] == "online").then_some(())
    });
    assert!(online.is_some(), "Bob connects to Ann again");
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        !bob_holds(&bob, &waiting),
        "a message not yet saved on Ann's device reached Bob"
    );

    // Once space is freed it is saved, without a restart, and then sent.
    std::fs::remove_file(&filler).unwrap();
    let arrived = eventually(Duration::from_secs(20), || {
        let chat = cli_json(bob.path(), &["chat", "Ann"]).to_string();
        acked
            .iter()
            .chain([&waiting])
            .all(|t| chat.contains(t.as_str()))
            .then_some(())
    });
    assert!(arrived.is_some(), "everything Ann wrote reaches Bob");
    ann.stop();
    ann = Node::start(&data);
    let chat = cli_json(&data, &["chat", "Bob"]).to_string();
    for text in acked.iter().chain([&waiting]) {
        assert!(chat.contains(text.as_str()), "Ann's device kept {text}");
    }
    ann.stop();
}

/// `n` words of random hexadecimal (text that does not compress), from `seed`.
fn noise_words(seed: u64, n: usize) -> String {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let words: Vec<String> = (0..n)
        .map(|_| format!("{:x}", rng.random::<u32>()))
        .collect();
    words.join(" ")
}

/// A data directory whose store holds two contacts and panels spread over many pages.
fn populated() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let node = Node::start(d);
    cli_ok(d, &["contacts", "add", "Bob"]);
    cli_ok(d, &["contacts", "add", "Carol"]);
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(4);
    for i in 0..30 {
        // Words that do not compress, so the documents span pages too, and each entry of the
        // panel more than a page.
        let words: Vec<String> = (0..600)
            .map(|_| format!("{:x}", rng.random::<u32>()))
            .collect();
        let text = format!("entry {i} for Bob: {}", words.join(" "));
        cli_ok(d, &["post", "--to", "Bob", "--text", &text]);
    }
    for i in 0..5 {
        cli_ok(
            d,
            &["post", "--to", "Carol", "--text", &format!("for Carol {i}")],
        );
    }
    node.stop();
    dir
}

/// The overflow pages (the middle of long values) of a table of the store, numbered from 1.
fn overflow_pages(db: &Path, table: &str) -> Vec<usize> {
    let uri = format!("file:{}?immutable=1", db.display());
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_URI;
    let conn = rusqlite::Connection::open_with_flags(uri, flags).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT pageno FROM dbstat WHERE name = ?1 AND pagetype = 'overflow' ORDER BY pageno",
        )
        .unwrap();
    let pages: Vec<usize> = stmt
        .query_map([table], |r| r.get::<_, i64>(0))
        .unwrap()
        .map(|p| usize::try_from(p.unwrap()).unwrap())
        .collect();
    assert!(pages.len() >= 3, "{table} spans pages: {pages:?}");
    pages
}

/// Flips one bit in the middle of each of three pages from the middle of `pages`.
fn flip_bits(db: &Path, pages: &[usize]) {
    let mut bytes = std::fs::read(db).unwrap();
    let mid = pages.len() / 2;
    for (i, page) in pages[mid - 1..=mid + 1].iter().enumerate() {
        let at = (page - 1) * 4096 + 1500 + 700 * i;
        bytes[at] ^= 1 << (i + 2);
    }
    std::fs::write(db, bytes).unwrap();
}

/// What a node made of a damaged store.
#[derive(Debug)]
enum Outcome {
    /// It started and served what it could read.
    Served,
    /// It refused to start, naming the file and what to do.
    Refused,
}

/// Starts a node on a store damaged to `damaged`: it either starts, and then the contacts and
/// both panels can be read, or refuses (exit code 1) naming the file and saying what to do. It
/// never panics, and a refused file is left exactly as it was.
fn start_on_damaged(dir: &Path, damaged: &[u8]) -> Outcome {
    let db = dir.join("backstory.db");
    let mut child = Command::new(backstory_bin())
        .arg("--data-dir")
        .arg(dir)
        .arg("node")
        .env("BACKSTORY_NETWORK", "local")
        .env_remove("BACKSTORY_DATA_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let socket = backstory_core::paths::socket_path(dir, backstory_core::control::SOCKET_FILE);
    let deadline = Instant::now() + Duration::from_secs(30);
    let exited = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
            break None;
        }
        assert!(
            Instant::now() < deadline,
            "the node neither started nor exited"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    if exited.is_none() {
        // It started: the checks below run on a node started the usual way.
        child.kill().unwrap();
    }
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    if exited.is_some() {
        assert_eq!(out.status.code(), Some(1), "{stderr}");
        assert!(
            stderr.contains(db.to_str().unwrap()),
            "names the file: {stderr}"
        );
        assert!(
            stderr.contains("restore it from a backup or move it away"),
            "says what to do: {stderr}"
        );
        assert!(
            std::fs::read(&db).unwrap() == damaged,
            "the damaged file is left for recovery"
        );
        return Outcome::Refused;
    }
    let node = Node::start(dir);
    let contacts = cli_json(dir, &["contacts"]);
    assert_eq!(contacts.as_array().unwrap().len(), 2, "{contacts}");
    for name in ["Bob", "Carol"] {
        cli_json(dir, &["panel", name]);
    }
    node.stop();
    Outcome::Served
}

#[test]
fn a_damaged_store_is_served_or_refused_clearly_never_with_a_panic() {
    let original = populated();
    let db = original.path().join("backstory.db");
    // None cuts the file to half its size; a table's name flips bits in that table's pages.
    let damages = [
        ("cut to half its size", None),
        ("bits flipped in the panels' pages", Some("master_entries")),
        ("bits flipped in the documents' pages", Some("docs")),
    ];
    for (what, damage) in damages {
        let copy = tempfile::tempdir().unwrap();
        let dir = copy.path().join("data");
        let status = Command::new("cp")
            .arg("-a")
            .arg(original.path())
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success());
        let _ = std::fs::remove_file(dir.join("lock"));
        let copied = dir.join("backstory.db");
        assert_eq!(std::fs::read(&copied).unwrap(), std::fs::read(&db).unwrap());
        match damage {
            None => {
                let bytes = std::fs::read(&copied).unwrap();
                std::fs::write(&copied, &bytes[..bytes.len() / 2]).unwrap();
            }
            Some(table) => flip_bits(&copied, &overflow_pages(&copied, table)),
        }
        let damaged = std::fs::read(&copied).unwrap();
        let outcome = start_on_damaged(&dir, &damaged);
        eprintln!("store {what}: {outcome:?}");
    }
}

#[test]
fn a_missing_media_file_is_named_when_fetched_and_its_entry_stays() {
    let mut ann = Device::new("Ann");
    let bob = Device::new("Bob");
    pair(&ann, &bob);
    let files = tempfile::tempdir().unwrap();
    let picture = files.path().join("summit.png");
    let bytes = noise_png(&picture, 3);
    let hash = blake3::hash(&bytes).to_hex().to_string();
    let args = ["post", "--to", "bob", "--file", picture.to_str().unwrap()];
    let entry = cli_ok(ann.path(), &[&args[..], &["--text", "the summit"]].concat());
    wait_sees(&bob, "ann", &["the summit"]);

    ann.stop();
    let blob = ann.path().join("blobs/data").join(format!("{hash}.data"));
    assert!(
        blob.exists(),
        "the picture has its own file in the blob store"
    );
    std::fs::remove_file(&blob).unwrap();
    ann.start();

    let panel = cli_json(ann.path(), &["panel", "bob"]);
    let listed = panel["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry"]["id"] == entry.as_str())
        .expect("the entry is still in the panel");
    assert_eq!(listed["entry"]["media"]["hash"], hash.as_str());

    // Bob is in touch with Ann again once her next entry reaches him.
    cli_ok(ann.path(), &["post", "--to", "bob", "--text", "back again"]);
    let back = eventually(Duration::from_secs(30), || {
        bob.sees("ann")
            .contains(&"back again".to_string())
            .then_some(())
    });
    assert!(back.is_some(), "Bob sees Ann's entry after her restart");

    let out_file = bob.path().join("summit.png");
    let out_arg = out_file.to_str().unwrap();
    let out = cli(
        bob.path(),
        &["--json", "fetch", "ann", &entry, "--out", out_arg],
    );
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let (code, message) = json_error(&out);
    assert_eq!(code, "file_not_found", "{message}");
    for part in ["Ann", "summit.png", &hash, "missing", "attach it again"] {
        assert!(message.contains(part), "names {part}: {message}");
    }
    assert!(!out_file.exists(), "no empty or partial file is left");

    // Attaching the same picture again puts it back for the entry that was missing it.
    cli_ok(ann.path(), &[&args[..], &["--text", "once more"]].concat());
    let fetched = cli_json(bob.path(), &["fetch", "ann", &entry, "--out", out_arg]);
    assert_eq!(fetched["hash"], hash.as_str());
    assert!(std::fs::read(&out_file).unwrap() == bytes);
}
