//! The video watcher and the inbox, on real node processes: stand-in players are real processes
//! started under players' names; MPRIS runs on a private session bus; history files are written
//! in the node's own XDG folders. Nothing collected leaves the device until it is approved.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use backstory_tests::players::{Bus, MprisPlayer, Players, Track, videos};
use backstory_tests::{Device, cli, cli_json, cli_ok, eventually, local, pair};
use serde_json::Value;

/// Enough for a 5 s poll interval to come round twice on a busy machine.
const PATIENCE: Duration = Duration::from_secs(30);

/// A node in `local` mode whose history folders are its own, and whose session bus is the one at
/// `bus` (none when absent).
fn device(name: &str, home: &Path, bus: Option<&str>) -> Device {
    let mut env = local();
    for (var, sub) in [
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
    ] {
        let dir = home.join(sub);
        std::fs::create_dir_all(&dir).unwrap();
        env.push((var.into(), dir.display().to_string()));
    }
    let address = bus.map_or_else(
        || format!("unix:path={}", home.join("no-bus").display()),
        str::to_string,
    );
    env.push(("DBUS_SESSION_BUS_ADDRESS".into(), address));
    Device::new_with(name, &env)
}

fn inbox(d: &Device) -> Value {
    cli_json(d.path(), &["inbox"])
}

/// Waits until the watcher runs (its sources are ready and its first poll is done).
fn wait_running(d: &Device) {
    let running = eventually(PATIENCE, || {
        (inbox(d)["watcher"]["running"] == Value::Bool(true)).then_some(())
    });
    assert!(running.is_some(), "the watcher never ran: {}", inbox(d));
}

/// The suggestions whose location is under `prefix`: location → (id, text).
fn suggestions_under(d: &Device, prefix: &str) -> Vec<(String, String, String)> {
    inbox(d)["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| {
            let location = s["source"]["location"].as_str()?;
            location.starts_with(prefix).then(|| {
                (
                    location.to_string(),
                    s["id"].as_str().unwrap().to_string(),
                    s["text"].as_str().unwrap().to_string(),
                )
            })
        })
        .collect()
}

fn locations(found: &[(String, String, String)]) -> BTreeSet<String> {
    found.iter().map(|(l, _, _)| l.clone()).collect()
}

/// Waits until the suggestions under `prefix` are exactly `want`.
fn wait_suggested(d: &Device, prefix: &str, want: &[String]) -> Vec<(String, String, String)> {
    let want: BTreeSet<String> = want.iter().cloned().collect();
    let found = eventually(PATIENCE, || {
        let found = suggestions_under(d, prefix);
        (locations(&found) == want).then_some(found)
    });
    found.unwrap_or_else(|| {
        panic!(
            "expected suggestions {want:?}, the inbox holds {:?}",
            locations(&suggestions_under(d, prefix))
        )
    })
}

#[test]
fn players_are_suggested_once_each_and_a_rejected_video_never_again() {
    let home = tempfile::tempdir().unwrap();
    let ann = device("Ann", home.path(), None);
    cli_ok(ann.path(), &["settings", "set", "watcher.interval", "5s"]);
    wait_running(&ann);

    let films = home.path().join("films");
    let root = films.display().to_string();
    videos(
        &films,
        &["Summer_holiday-2024.mkv", "two.mp4", "My Film.webm"],
    );
    videos(&films.join("sub"), &["Relative Clip.avi"]);
    let bin = home.path().join("bin");
    let mut players = Players::default();
    // mpv with options before and after, a relative path and `--`, then an absolute one.
    players.start(
        &bin,
        "mpv",
        &[
            "--fs",
            "--sub-file",
            "subs.srt",
            "sub/Relative Clip.avi",
            "--volume=50",
            "--",
            &format!("{root}/two.mp4"),
        ],
        &films,
    );
    // vlc with a percent-encoded file:// URI.
    players.start(
        &bin,
        "vlc",
        &["--play-and-exit", &format!("file://{root}/My%20Film.webm")],
        &films,
    );
    let expected = [
        format!("{root}/sub/Relative Clip.avi"),
        format!("{root}/two.mp4"),
        format!("{root}/My Film.webm"),
    ];
    let found = wait_suggested(&ann, &root, &expected);
    let text_of = |name: &str| {
        found
            .iter()
            .find(|(l, _, _)| l.ends_with(name))
            .map(|(_, _, t)| t.clone())
            .unwrap()
    };
    assert_eq!(text_of("My Film.webm"), "My Film");
    assert_eq!(text_of("Relative Clip.avi"), "Relative Clip");

    // The same video again, in a second player, the same day: still one suggestion. A new
    // video started at the same time proves the poll ran meanwhile.
    players.start(&bin, "mpv", &[&format!("{root}/two.mp4")], &films);
    players.start(&bin, "mplayer", &["Summer_holiday-2024.mkv"], &films);
    let mut with_new = expected.to_vec();
    with_new.push(format!("{root}/Summer_holiday-2024.mkv"));
    let found = wait_suggested(&ann, &root, &with_new);
    assert_eq!(
        text_of_in(&found, "Summer_holiday-2024.mkv"),
        "Summer holiday 2024"
    );

    // Rejected: gone from the inbox, and not suggested again when it is played again; a new
    // video started with it proves the poll ran meanwhile. (That a rejection outlasts the day is
    // the store's rule, tested with the store.)
    let two = found
        .iter()
        .find(|(l, _, _)| l.ends_with("two.mp4"))
        .map(|(_, id, _)| id.clone())
        .unwrap();
    cli_ok(ann.path(), &["inbox", "reject", &two]);
    players.stop_all();
    videos(&films, &["fresh.mkv"]);
    players.start(&bin, "mpv", &[&format!("{root}/two.mp4")], &films);
    players.start(&bin, "totem", &[&format!("{root}/fresh.mkv")], &films);
    let mut after = with_new.clone();
    after.retain(|l| !l.ends_with("two.mp4"));
    after.push(format!("{root}/fresh.mkv"));
    wait_suggested(&ann, &root, &after);
    // Nothing was shared: Ann has no contact, and her suggestions are drafts on her device.
    assert!(
        cli_json(ann.path(), &["contacts"])
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Only the watcher's suggestions can be rejected; a draft of Ann's own is discarded instead.
    cli_ok(ann.path(), &["contacts", "add", "Carol"]);
    let draft = cli_ok(
        ann.path(),
        &["post", "--to", "Carol", "--text", "half written", "--draft"],
    );
    let refused = cli(ann.path(), &["inbox", "reject", &draft]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("drafts rm"));
}

fn text_of_in(found: &[(String, String, String)], name: &str) -> String {
    found
        .iter()
        .find(|(l, _, _)| l.ends_with(name))
        .map(|(_, _, t)| t.clone())
        .unwrap()
}

#[test]
fn an_approved_suggestion_and_an_always_allowed_player_reach_the_paired_peer() {
    let home = tempfile::tempdir().unwrap();
    let ann = device("Ann", home.path(), None);
    let bob = Device::new("Bob");
    pair(&ann, &bob);
    cli_ok(ann.path(), &["settings", "set", "watcher.interval", "5s"]);
    wait_running(&ann);

    let films = home.path().join("films");
    let root = films.display().to_string();
    videos(&films, &["Alps by train.mkv", "Night market.mp4"]);
    let bin = home.path().join("bin");
    let mut players = Players::default();
    players.start(&bin, "celluloid", &["Alps by train.mkv"], &films);
    let found = wait_suggested(&ann, &root, &[format!("{root}/Alps by train.mkv")]);
    let (_, id, _) = &found[0];

    // Nothing reached Bob before approval.
    assert!(bob.sees("Ann").is_empty());
    // Approved with its defaults: the only contact, the "recently watched" category.
    let out = cli_ok(ann.path(), &["inbox", "approve", id]);
    assert!(out.starts_with('e'), "an entry id: {out}");
    backstory_tests::wait_sees(&bob, "Ann", &["Alps by train"]);
    let theirs = cli_json(bob.path(), &["show", "Ann", "--keep-unseen"]);
    let entry = &theirs["changes"]["entries"][0]["entry"];
    assert_eq!(entry["kind"], "watched_video");
    assert_eq!(entry["category"], "watched");
    // The local path stays on Ann's device.
    assert_eq!(entry["location"], "");
    assert!(!theirs.to_string().contains(&root));

    // Always allow mpv for Bob: what it plays is published without asking.
    let allowed = cli(ann.path(), &["inbox", "always-allow", "mpv", "--to", "bob"]);
    assert!(allowed.status.success(), "{allowed:?}");
    let rules = inbox(&ann)["rules"].clone();
    assert_eq!(rules[0]["player"], "mpv");
    players.start(&bin, "mpv", &["Night market.mp4"], &films);
    backstory_tests::wait_sees(&bob, "Ann", &["Alps by train", "Night market"]);
    assert!(
        suggestions_under(&ann, &root).is_empty(),
        "an always-allowed video is not also suggested"
    );

    // Undone in settings: mpv's videos are suggested again.
    cli_ok(ann.path(), &["inbox", "disallow", "mpv"]);
    assert!(inbox(&ann)["rules"].as_array().unwrap().is_empty());
    let refused = cli(ann.path(), &["inbox", "disallow", "mpv"]);
    assert_eq!(refused.status.code(), Some(1));
}

#[test]
fn a_history_file_change_is_suggested_at_once() {
    let home = tempfile::tempdir().unwrap();
    let ann = device("Ann", home.path(), None);
    // The poll stays at its ten minutes: only the history source can explain a suggestion.
    wait_running(&ann);
    let data = home.path().join("data");
    let file = data.join("recently-used.xbel");
    let bookmark = |href: &str| {
        format!(
            r#"  <bookmark href="{href}" added="2026-12-04T10:00:00Z" modified="2026-12-04T10:00:00Z" visited="2026-12-04T10:00:00Z">
    <info>
      <metadata owner="http://freedesktop.org">
        <mime:mime-type type="video/mp4"/>
        <bookmark:applications>
          <bookmark:application name="Videos" exec="&apos;totem %u&apos;" modified="2026-12-04T10:00:00Z" count="1"/>
        </bookmark:applications>
      </metadata>
    </info>
  </bookmark>
"#
        )
    };
    let xbel = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xbel version="1.0"
      xmlns:bookmark="http://www.freedesktop.org/standards/desktop-bookmarks"
      xmlns:mime="http://www.freedesktop.org/standards/shared-mime-info"
>
{}</xbel>"#,
        bookmark("file:///srv/videos/Lake%20walk.mp4")
    );
    let started = Instant::now();
    let temporary = data.join("recently-used.xbel.tmp");
    std::fs::write(&temporary, xbel).unwrap();
    std::fs::rename(&temporary, &file).unwrap();
    let found = wait_suggested(&ann, "/srv/videos", &["/srv/videos/Lake walk.mp4".into()]);
    println!("history file → suggestion in {:?}", started.elapsed());
    assert_eq!(found[0].2, "Lake walk");
    assert_eq!(inbox(&ann)["suggestions"][0]["source"]["via"], "history");
}

#[test]
fn an_mpris_player_is_suggested_when_it_starts_playing() {
    let home = tempfile::tempdir().unwrap();
    let bus = Bus::start();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // Restored paused at start: not a sighting.
    let player = runtime.block_on(MprisPlayer::appear(
        &bus,
        Track {
            status: "Paused".into(),
            title: "Yesterday's film".into(),
            url: "file:///srv/films/yesterday.mkv".into(),
            length_us: 90 * 60_000_000,
        },
    ));
    // The poll stays at its ten minutes: only MPRIS can explain a suggestion.
    let ann = device("Ann", home.path(), Some(&bus.address));
    wait_running(&ann);

    let started = Instant::now();
    runtime.block_on(player.play(|t| {
        t.status = "Playing".into();
        t.title = "Cinema Paradiso".into();
        t.url = "https://videos.example.org/watch?v=paradiso".into();
        t.length_us = 120 * 60_000_000;
    }));
    let found = eventually(PATIENCE, || {
        inbox(&ann)["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["source"]["via"] == "mpris")
            .cloned()
    })
    .expect("the MPRIS player's video is suggested");
    println!(
        "PlaybackStatus Playing → suggestion in {:?}",
        started.elapsed()
    );
    assert_eq!(found["text"], "Cinema Paradiso");
    assert_eq!(found["source"]["player"], "vlc");
    assert_eq!(
        found["source"]["location"],
        "https://videos.example.org/watch?v=paradiso"
    );
    // The video restored paused was never suggested.
    let all = inbox(&ann)["suggestions"].to_string();
    assert!(!all.contains("yesterday"), "{all}");
}

#[test]
fn the_watcher_follows_its_settings_while_the_node_runs() {
    let home = tempfile::tempdir().unwrap();
    let ann = device("Ann", home.path(), None);
    cli_ok(ann.path(), &["settings", "set", "watcher.interval", "5s"]);
    // Only celluloid is watched: mpv, a default player, is left alone from now on.
    cli_ok(
        ann.path(),
        &["settings", "set", "watcher.players", "celluloid"],
    );
    wait_running(&ann);
    let films = home.path().join("films");
    let root = films.display().to_string();
    videos(
        &films,
        &[
            "by-mpv.mkv",
            "by-celluloid.mkv",
            "while-off.mkv",
            "back-on.mkv",
        ],
    );
    let bin = home.path().join("bin");
    let mut players = Players::default();
    players.start(&bin, "mpv", &["by-mpv.mkv"], &films);
    players.start(&bin, "celluloid", &["by-celluloid.mkv"], &films);
    // The celluloid video arriving shows the poll that saw mpv ran.
    wait_suggested(&ann, &root, &[format!("{root}/by-celluloid.mkv")]);
    players.stop_all();

    // Off: the watcher says so, and a video played meanwhile is never looked at.
    cli_ok(ann.path(), &["settings", "set", "watcher.enabled", "off"]);
    let stopped = eventually(PATIENCE, || {
        (inbox(&ann)["watcher"]["running"] == Value::Bool(false)).then_some(())
    });
    assert!(stopped.is_some(), "the watcher still runs: {}", inbox(&ann));
    players.start(&bin, "celluloid", &["while-off.mkv"], &films);
    // Three poll intervals with the player running.
    std::thread::sleep(Duration::from_secs(15));
    players.stop_all();

    // On again: the next video is suggested, and the one played while it was off is not.
    cli_ok(ann.path(), &["settings", "set", "watcher.enabled", "on"]);
    wait_running(&ann);
    players.start(&bin, "celluloid", &["back-on.mkv"], &films);
    wait_suggested(
        &ann,
        &root,
        &[
            format!("{root}/by-celluloid.mkv"),
            format!("{root}/back-on.mkv"),
        ],
    );
}
