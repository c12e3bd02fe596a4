//! Two and three devices as real processes on loopback (local network mode), paired by ticket and
//! driven through the CLI.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::time::Duration;

use backstory_tests::{
    Device, cli, cli_json, cli_ok, eventually, local_on_clock, pair, texts_ever_held, wait_sees,
    wall_ms,
};

fn error_code(out: &std::process::Output) -> String {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["error"]["code"].as_str().unwrap().to_string()
}

#[test]
fn two_devices_pair_by_ticket_and_sync_both_ways_live_and_after_being_apart() {
    let ann = Device::new("Ann");
    let mut bob = Device::new("Bob");
    let words = pair(&ann, &bob);
    // Both record the contact under the other's name, with the same safety words.
    let a = ann.contacts();
    let b = bob.contacts();
    assert_eq!(a[0]["name"], "Bob");
    assert_eq!(b[0]["name"], "Ann");
    assert_eq!(a[0]["words"], words.as_str());
    assert_eq!(b[0]["words"], words.as_str());
    assert_eq!(words.split(' ').count(), 5);

    // Live, both ways.
    let hike = cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--text", "I went hiking."],
    );
    cli_ok(
        bob.path(),
        &["post", "--to", "ann", "--text", "Reading Dune."],
    );
    wait_sees(&bob, "ann", &["I went hiking."]);
    wait_sees(&ann, "bob", &["Reading Dune."]);
    cli_ok(
        ann.path(),
        &["edit", &hike, "--text", "I went hiking in the Alps."],
    );
    wait_sees(&bob, "ann", &["I went hiking in the Alps."]);

    // Apart: Bob is gone, both write, then Bob comes back.
    bob.stop();
    cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--text", "Found a ramen place."],
    );
    bob.start();
    cli_ok(
        bob.path(),
        &["post", "--to", "ann", "--text", "Learned a song."],
    );
    bob.stop();
    std::thread::sleep(Duration::from_millis(300));
    bob.start();
    wait_sees(
        &bob,
        "ann",
        &["I went hiking in the Alps.", "Found a ramen place."],
    );
    wait_sees(&ann, "bob", &["Reading Dune.", "Learned a song."]);
    let online = eventually(Duration::from_secs(10), || {
        (ann.contacts()[0]["state"] == "online").then_some(())
    });
    assert!(online.is_some());
}

fn state(d: &Device) -> String {
    d.contacts()[0]["state"].as_str().unwrap().to_string()
}

/// Waits up to `secs` for both devices to show each other online.
fn both_online(a: &Device, b: &Device, secs: u64) {
    let online = eventually(Duration::from_secs(secs), || {
        (state(a) == "online" && state(b) == "online").then_some(())
    });
    assert!(online.is_some(), "not online: {} / {}", state(a), state(b));
}

#[test]
fn a_contact_shows_syncing_while_changes_are_on_their_way() {
    let ann = Device::new("Ann");
    let bob = Device::new("Bob");
    pair(&ann, &bob);
    both_online(&ann, &bob, 10);

    // Bob's process freezes with the connection open: Ann's entry is sent but never acknowledged.
    bob.pause();
    cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--text", "Sent while frozen."],
    );
    let syncing = eventually(Duration::from_secs(4), || {
        (state(&ann) == "syncing").then_some(())
    });
    let seen = state(&ann);
    bob.resume();
    assert!(syncing.is_some(), "Ann shows Bob as {seen}, not syncing");

    // Once Bob runs again the entry arrives and both settle back to online.
    wait_sees(&bob, "ann", &["Sent while frozen."]);
    both_online(&ann, &bob, 15);
}

#[test]
fn unpairing_closes_the_connection_whichever_side_opened_it() {
    let ann = Device::new("Ann");
    let bob = Device::new("Bob");
    pair(&ann, &bob);
    // The device with the larger id waits to be dialed: remove the contact there, so the
    // connection to close is one the remover accepted.
    let (acceptor, dialer, dialer_name) = if ann.id() > bob.id() {
        (&ann, &bob, "bob")
    } else {
        (&bob, &ann, "ann")
    };
    let online = eventually(Duration::from_secs(10), || {
        (state(dialer) == "online").then_some(())
    });
    assert!(online.is_some(), "never online");
    cli_ok(acceptor.path(), &["contacts", "rm", dialer_name]);
    let offline = eventually(Duration::from_secs(3), || {
        (state(dialer) == "offline").then_some(())
    });
    assert!(
        offline.is_some(),
        "the removed contact still shows {}",
        state(dialer)
    );
    // It keeps redialing, and the handshake turns it away: it stays offline while its network
    // demonstrably works (a third device it is paired with gets what it writes meanwhile).
    let carol = Device::new("Carol");
    pair(dialer, &carol);
    cli_ok(
        dialer.path(),
        &["post", "--to", "carol", "--text", "still here"],
    );
    wait_sees(&carol, dialer_name, &["still here"]);
    assert_eq!(state(dialer), "offline");
}

#[test]
fn a_dead_peer_shows_offline_within_ten_seconds() {
    let ann = Device::new("Ann");
    let mut bob = Device::new("Bob");
    pair(&ann, &bob);
    let online = eventually(Duration::from_secs(10), || {
        (ann.contacts()[0]["state"] == "online" && bob.contacts()[0]["state"] == "online")
            .then_some(())
    });
    assert!(
        online.is_some(),
        "never online: {} / {}",
        ann.contacts(),
        bob.contacts()
    );
    bob.kill();
    let started = std::time::Instant::now();
    let offline = eventually(Duration::from_secs(10), || {
        (ann.contacts()[0]["state"] == "offline").then_some(())
    });
    assert!(
        offline.is_some(),
        "still online after {:?}",
        started.elapsed()
    );
}

#[test]
fn bad_tickets_are_refused_each_with_its_own_error_and_nothing_is_recorded() {
    // Both on test clocks at the same instant, so expiry is a matter of moving them.
    let start = wall_ms();
    let ann = Device::new_with("Ann", &local_on_clock(start));
    let bob = Device::new_with("Bob", &local_on_clock(start));
    let refused = |ticket: &str, code: &str| {
        let out = cli(bob.path(), &["--json", "join", ticket]);
        assert_eq!(out.status.code(), Some(1), "{ticket}");
        assert_eq!(error_code(&out), code, "{ticket}");
        assert!(!String::from_utf8_lossy(&out.stderr).trim().is_empty());
    };
    let ticket = ann.invite(&[]);
    refused("not a ticket", "bad_ticket");
    refused(&format!("{ticket}!"), "bad_ticket");
    refused(&ticket[..ticket.len() - 10], "ticket_truncated");
    let mut damaged = ticket.clone().into_bytes();
    damaged[50] = if damaged[50] == b'a' { b'b' } else { b'a' };
    refused(std::str::from_utf8(&damaged).unwrap(), "ticket_damaged");

    // A well-formed ticket with the wrong secret reaches Ann, who refuses it.
    let mut forged = backstory_core::ticket::Ticket::decode(&ticket).unwrap();
    forged.secret = [9; 32];
    refused(&forged.encode(), "ticket_unknown");

    // Expired on Bob's clock: refused before anything is sent.
    let short = ann.invite(&["--ttl", "1h"]);
    bob.advance("2h");
    refused(&short, "ticket_expired");
    // Expired on Ann's clock only: Bob sends it, and Ann refuses it.
    let short = ann.invite(&["--ttl", "1h"]);
    ann.advance("2h");
    bob.advance("1h");
    refused(&short, "ticket_expired");

    // Joining yourself.
    let own = bob.invite(&[]);
    refused(&own, "self_pairing");
    assert!(ann.contacts().as_array().unwrap().is_empty());
    assert!(bob.contacts().as_array().unwrap().is_empty());

    // Used once: fine. Used twice: refused, by a third device too.
    let ticket = ann.invite(&[]);
    cli_ok(bob.path(), &["join", &ticket]);
    refused(&ann.invite(&[]), "already_paired");
    let carol = Device::new_with("Carol", &local_on_clock(start + 2 * 3_600_000));
    let out = cli(carol.path(), &["--json", "join", &ticket]);
    assert_eq!(error_code(&out), "ticket_used");
    assert!(carol.contacts().as_array().unwrap().is_empty());
    assert_eq!(ann.contacts().as_array().unwrap().len(), 1);
}

#[test]
fn an_inviter_can_require_approval_and_deny() {
    let ann = Device::new("Ann");
    let bob = Device::new("Bob");
    let ticket = ann.invite(&["--require-approval"]);
    let joiner = {
        let dir = bob.path().to_path_buf();
        let t = ticket.clone();
        std::thread::spawn(move || cli(&dir, &["--json", "join", &t]))
    };
    let pending = eventually(Duration::from_secs(10), || {
        let p = cli_json(ann.path(), &["pending"]);
        p.as_array().unwrap().first().cloned()
    })
    .expect("a pending join");
    assert_eq!(pending["name"], "Bob");
    assert_eq!(pending["words"].as_str().unwrap().split(' ').count(), 5);
    cli_ok(ann.path(), &["deny", &pending["id"].to_string()]);
    let out = joiner.join().unwrap();
    assert_eq!(error_code(&out), "denied");
    assert!(ann.contacts().as_array().unwrap().is_empty());
    assert!(bob.contacts().as_array().unwrap().is_empty());

    let ticket = ann.invite(&["--require-approval"]);
    let joiner = {
        let dir = bob.path().to_path_buf();
        std::thread::spawn(move || cli(&dir, &["--json", "join", &ticket]))
    };
    let pending = eventually(Duration::from_secs(10), || {
        cli_json(ann.path(), &["pending"])
            .as_array()
            .unwrap()
            .first()
            .cloned()
    })
    .unwrap();
    cli_ok(ann.path(), &["approve", &pending["id"].to_string()]);
    assert!(joiner.join().unwrap().status.success());
    assert_eq!(ann.contacts()[0]["name"], "Bob");
}

#[test]
fn hidden_entries_never_reach_the_viewer_until_revealed() {
    let ann = Device::new_with("Ann", &local_on_clock(wall_ms()));
    let bob = Device::new("Bob");
    pair(&ann, &bob);
    let hidden = "MARKER-5e1f-never-leaves";
    let later = "MARKER-0c7d-revealed-later";
    let visible = "MARKER-9a2b-visible";
    cli_ok(ann.path(), &["post", "--to", "bob", "--text", visible]);
    cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--hidden", "--text", hidden],
    );
    cli_ok(
        ann.path(),
        &[
            "post",
            "--to",
            "bob",
            "--reveal-after",
            "3d",
            "--text",
            later,
        ],
    );
    wait_sees(&bob, "ann", &[visible]);
    // What Bob's device holds, decoded at every point of every document's history: the visible
    // marker is there (the scan can find a marker), the other two never were. A change is shown
    // as soon as it is applied and written to disk right after, so the scan waits for the disk.
    let held = held_once_on_disk(&bob, visible);
    assert!(
        !held.iter().any(|t| t == hidden),
        "the hidden marker reached the viewer"
    );
    assert!(
        !held.iter().any(|t| t == later),
        "the unrevealed entry reached the viewer early"
    );

    // Three days later on Ann's clock, at once.
    ann.advance("3d");
    wait_sees(&bob, "ann", &[visible, later]);
    let held = held_once_on_disk(&bob, later);
    assert!(!held.iter().any(|t| t == hidden));
}

/// Every text the device's store holds at any point of its history, once it holds `marker`.
fn held_once_on_disk(device: &Device, marker: &str) -> Vec<String> {
    let mut last = Vec::new();
    eventually(Duration::from_secs(10), || {
        last = texts_ever_held(device.path());
        last.iter().any(|t| t == marker).then(|| last.clone())
    })
    .unwrap_or_else(|| panic!("the store never held {marker}: {last:?}"))
}

#[test]
fn an_unpaired_contact_gets_nothing_more() {
    let ann = Device::new("Ann");
    let bob = Device::new("Bob");
    let carol = Device::new("Carol");
    pair(&ann, &bob);
    pair(&bob, &carol);
    // The channel is live both ways before.
    cli_ok(ann.path(), &["post", "--to", "bob", "--text", "before"]);
    cli_ok(
        bob.path(),
        &["post", "--to", "ann", "--text", "hello before"],
    );
    wait_sees(&bob, "ann", &["before"]);
    wait_sees(&ann, "bob", &["hello before"]);

    cli_ok(ann.path(), &["contacts", "rm", "bob"]);
    assert!(ann.contacts().as_array().unwrap().is_empty());
    // Bob still has Ann and keeps writing to her, and to Carol.
    let after = "MARKER-41d0-after-unpairing";
    cli_ok(bob.path(), &["post", "--to", "ann", "--text", after]);
    cli_ok(
        bob.path(),
        &["post", "--to", "carol", "--text", "for carol, after"],
    );
    // Bob's device is live: what he wrote after the unpairing reaches Carol.
    wait_sees(&carol, "bob", &["for carol, after"]);
    // And none of it reached Ann, nor did anything of hers reach Bob.
    let held = held_once_on_disk(&ann, "hello before");
    assert!(
        !held.iter().any(|t| t == after),
        "Bob's writes reached Ann after unpairing"
    );
    assert_eq!(bob.sees("ann"), ["before"]);
    assert_eq!(state(&bob), "offline");
}

#[test]
fn the_cli_drives_two_node_processes_end_to_end() {
    // The whole story through the CLI alone: invite, join, post, read, restart, read again.
    let ann = Device::new("Ann");
    let mut bob = Device::new("Bob");
    let ticket = ann.invite(&[]);
    let human = cli_ok(bob.path(), &["join", &ticket]);
    assert!(human.contains("Paired with Ann"), "{human}");
    assert!(human.contains("Safety words:"), "{human}");
    cli_ok(
        ann.path(),
        &[
            "post",
            "--to",
            "bob",
            "--category",
            "books",
            "--text",
            "Dune",
        ],
    );
    wait_sees(&bob, "ann", &["Dune"]);
    bob.stop();
    bob.start();
    let shown = cli_ok(bob.path(), &["show", "ann"]);
    assert!(shown.contains("Recently read books"), "{shown}");
    assert!(shown.contains("Dune"), "{shown}");
}

#[test]
fn a_fifty_megabyte_file_reaches_the_viewer_intact_with_progress() {
    use rand::{RngCore, SeedableRng};
    let ann = Device::new("Ann");
    let bob = Device::new("Bob");
    pair(&ann, &bob);
    let src = ann.path().join("holiday.mp4");
    let mut bytes = vec![0u8; 50_000_000];
    rand::rngs::StdRng::seed_from_u64(7).fill_bytes(&mut bytes);
    std::fs::write(&src, &bytes).unwrap();
    let entry = cli_ok(
        ann.path(),
        &[
            "post",
            "--to",
            "bob",
            "--file",
            src.to_str().unwrap(),
            "--text",
            "the beach",
        ],
    );
    wait_sees(&bob, "ann", &["the beach"]);

    let mut events = std::process::Command::new(backstory_tests::backstory_bin())
        .arg("--data-dir")
        .arg(bob.path())
        .arg("events")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = bob.path().join("got.mp4");
    let fetched = cli_json(
        bob.path(),
        &["fetch", "ann", &entry, "--out", out.to_str().unwrap()],
    );
    assert_eq!(fetched["size"], 50_000_000);
    assert_eq!(
        fetched["hash"],
        blake3::hash(&bytes).to_hex().to_string().as_str()
    );
    assert!(
        std::fs::read(&out).unwrap() == bytes,
        "the file arrived damaged"
    );
    std::thread::sleep(Duration::from_millis(300));
    events.kill().unwrap();
    let log = events.wait_with_output().unwrap();
    let progress: Vec<serde_json::Value> = String::from_utf8_lossy(&log.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| e["event"] == "media_progress")
        .collect();
    assert!(
        progress.len() >= 10,
        "only {} progress events",
        progress.len()
    );
    assert_eq!(progress.last().unwrap()["bytes"], 50_000_000);
    assert!(
        progress
            .windows(2)
            .all(|w| w[0]["bytes"].as_u64() <= w[1]["bytes"].as_u64())
    );
    viewing_copies_take_no_second_copy(&bob, &entry, &bytes, &out);

    // Over the limit: refused before a byte moves.
    let big = ann.path().join("too-big.bin");
    let f = std::fs::File::create(&big).unwrap();
    f.set_len(200_000_001).unwrap();
    let out = cli(
        ann.path(),
        &[
            "--json",
            "post",
            "--to",
            "bob",
            "--file",
            big.to_str().unwrap(),
        ],
    );
    assert_eq!(error_code(&out), "too_large");
}

/// The copy the app's windows show of a fetched attachment is the store's own file under a second
/// name, not a second copy of its bytes; a file saved with `--out` is a copy of its own, which
/// nothing the user does to it can pass on to the store; and the windows' copy, removed, is made
/// again from the store.
fn viewing_copies_take_no_second_copy(bob: &Device, entry: &str, bytes: &[u8], out: &Path) {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let hash = blake3::hash(bytes).to_hex().to_string();
    let stored = bob.path().join("blobs/data").join(format!("{hash}.data"));
    let save_to = |to: &Path| {
        cli_ok(
            bob.path(),
            &["fetch", "ann", entry, "--out", to.to_str().unwrap()],
        );
    };
    let shown = cli_json(bob.path(), &["fetch", "ann", entry]);
    let shown = Path::new(shown["path"].as_str().unwrap()).to_path_buf();
    assert!(shown.starts_with(bob.path().join("media")), "{shown:?}");
    assert!(
        std::fs::read(&shown).unwrap() == bytes,
        "the copy shown is damaged"
    );
    let (a, b) = (
        std::fs::metadata(&stored).unwrap(),
        std::fs::metadata(&shown).unwrap(),
    );
    assert_eq!(
        (a.dev(), a.ino()),
        (b.dev(), b.ino()),
        "the copy shown holds the bytes a second time"
    );
    assert_eq!(
        std::fs::metadata(out).unwrap().nlink(),
        1,
        "--out shares the store's file"
    );

    // Overwriting the saved file in place leaves what the store holds as it was.
    std::fs::write(out, b"edited").unwrap();
    std::fs::remove_file(&shown).unwrap();
    let again = cli_json(bob.path(), &["fetch", "ann", entry]);
    assert_eq!(again["path"].as_str().unwrap(), shown.to_str().unwrap());
    assert!(
        std::fs::read(&shown).unwrap() == bytes,
        "the copy made again is damaged"
    );
    // Saved over a private file of mine: it stays private.
    let saved = bob.path().join("saved-again.mp4");
    std::fs::write(&saved, b"mine").unwrap();
    std::fs::set_permissions(&saved, std::fs::Permissions::from_mode(0o600)).unwrap();
    save_to(&saved);
    assert!(
        std::fs::read(&saved).unwrap() == bytes,
        "the store's copy changed"
    );
    assert_eq!(
        std::fs::metadata(&saved).unwrap().mode() & 0o777,
        0o600,
        "saving over a private file made it readable to others"
    );

    // Saved onto the windows' copy, which is the store's file: nothing is emptied.
    save_to(&shown);
    assert!(
        std::fs::read(&stored).unwrap() == bytes,
        "saving emptied the store's file"
    );
}
