//! The process poll against real processes: one small program, copied under players' names
//! and started with the argument forms people use.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

#[path = "support/watch.rs"]
mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::sync::OnceLock;
use std::time::Duration;

use backstory_collect::player::{
    ConfigError, Sighting, SightingSource, StartError, Watcher, WatcherConfig,
};
use support::{next_sighting, quiet_config};
use tokio::sync::mpsc;

const PATIENCE: Duration = Duration::from_secs(15);

/// A program that waits until it is killed, whatever its arguments: built once per run.
fn waiting_program() -> &'static Path {
    static PROGRAM: OnceLock<PathBuf> = OnceLock::new();
    PROGRAM.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("watcher-players");
        std::fs::create_dir_all(&dir).unwrap();
        let source = dir.join("waiting.c");
        std::fs::write(
            &source,
            "#include <unistd.h>\nint main(void) { for (;;) pause(); return 0; }\n",
        )
        .unwrap();
        let program = dir.join(format!("waiting-{}", std::process::id()));
        let status = Command::new("cc")
            .arg("-O2")
            .arg("-o")
            .arg(&program)
            .arg(&source)
            .status()
            .expect("a C compiler (cc) builds the stand-in player");
        assert!(status.success(), "cc failed");
        program
    })
}

/// Player processes, killed when dropped.
#[derive(Default)]
struct Players(Vec<Child>);

impl Players {
    /// Starts the waiting program copied as `dir/name`, with `args`, in `cwd`.
    fn start(&mut self, dir: &Path, name: &str, args: &[&str], cwd: &Path) -> PathBuf {
        std::fs::create_dir_all(dir).unwrap();
        let program = dir.join(name);
        if !program.exists() {
            std::fs::copy(waiting_program(), &program).unwrap();
        }
        // A copy just written may still be open in a process forked meanwhile: try again.
        for _ in 0..50 {
            match Command::new(&program).args(args).current_dir(cwd).spawn() {
                Ok(child) => {
                    self.0.push(child);
                    return program;
                }
                Err(error) if error.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                    std::thread::sleep(Duration::from_millis(20));
                }
                Err(error) => panic!("cannot start {}: {error}", program.display()),
            }
        }
        panic!("{} stayed busy", program.display());
    }
}

impl Drop for Players {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Empty files standing for videos, in `dir`.
fn videos(dir: &Path, names: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for name in names {
        std::fs::write(dir.join(name), b"").unwrap();
    }
}

fn poll_config(root: &Path, players: &[&str]) -> WatcherConfig {
    WatcherConfig {
        poll: true,
        players: players.iter().map(|player| (*player).to_owned()).collect(),
        ..quiet_config(root)
    }
}

async fn sightings(
    receiver: &mut mpsc::Receiver<Sighting>,
    count: usize,
    what: &str,
) -> Vec<Sighting> {
    let mut found = Vec::new();
    while found.len() < count {
        found.push(next_sighting(receiver, PATIENCE, what).await);
    }
    found
}

fn targets(found: &[Sighting]) -> BTreeSet<String> {
    found
        .iter()
        .map(|sighting| sighting.target.clone())
        .collect()
}

#[tokio::test]
async fn players_are_found_by_name_and_their_targets_read_from_real_command_lines() {
    let root = tempfile::tempdir().unwrap();
    let videos_dir = root.path().join("Videos");
    videos(
        &videos_dir,
        &[
            "rel.mkv",
            "second.webm",
            "My Holiday Video.mp4",
            "notes.txt",
            "subs.srt",
        ],
    );
    let bin = root.path().join("bin");
    let mut players = Players::default();
    players.start(
        &bin,
        "mpv",
        &[
            "--fs",
            "--volume=50",
            "rel.mkv",
            "--loop-file=inf",
            "./second.webm",
            "--sub-file=subs.srt",
            "notes.txt",
        ],
        &videos_dir,
    );
    let holiday = url::Url::from_file_path(videos_dir.join("My Holiday Video.mp4"))
        .unwrap()
        .to_string();
    assert!(holiday.contains("My%20Holiday%20Video.mp4"));
    players.start(
        &bin,
        "vlc",
        &[
            "-I",
            "dummy",
            "--sub-file",
            "subs.srt",
            &holiday,
            ":start-time=3",
            "--",
            "https://example.org/watch/1",
            "rel.mkv",
        ],
        &videos_dir,
    );

    let (watcher, mut receiver) = Watcher::start(poll_config(root.path(), &["mpv", "vlc"]))
        .await
        .unwrap();
    let found = sightings(&mut receiver, 4, "players running at start").await;
    let expected: BTreeSet<String> = [
        videos_dir.join("rel.mkv").display().to_string(),
        videos_dir.join("second.webm").display().to_string(),
        videos_dir
            .join("My Holiday Video.mp4")
            .display()
            .to_string(),
        "https://example.org/watch/1".to_owned(),
    ]
    .into();
    assert_eq!(targets(&found), expected, "{found:#?}");
    for sighting in &found {
        assert_eq!(sighting.source, SightingSource::Poll);
        assert!(sighting.player == "mpv" || sighting.player == "vlc");
    }
    let holiday_sighting = found
        .iter()
        .find(|sighting| sighting.target.ends_with(".mp4"))
        .unwrap();
    assert_eq!(holiday_sighting.player, "vlc");
    assert_eq!(holiday_sighting.suggested_text(), "My Holiday Video");

    // The same processes, still running, are not reported again.
    assert_eq!(watcher.poll_now().await, Ok(0));
    assert!(receiver.try_recv().is_err());

    // A new process is looked at: what it plays again today collapses, a new video is reported.
    videos(&videos_dir, &["third.mkv"]);
    players.start(&bin, "mpv", &["second.webm", "third.mkv"], &videos_dir);
    assert_eq!(watcher.poll_now().await, Ok(1));
    let third = receiver.try_recv().unwrap();
    assert_eq!(
        third.target,
        videos_dir.join("third.mkv").display().to_string()
    );
    assert_eq!(third.player, "mpv");
}

#[tokio::test]
async fn a_name_longer_than_15_characters_is_matched_by_path_or_full_name() {
    let name = "backstory-long-player-name";
    assert!(name.len() > 15);
    let root = tempfile::tempdir().unwrap();
    let videos_dir = root.path().join("Videos");
    videos(&videos_dir, &["one.mkv", "two.mkv"]);
    let mut players = Players::default();
    let first = players.start(&root.path().join("a"), name, &["one.mkv"], &videos_dir);
    players.start(&root.path().join("b"), name, &["two.mkv"], &videos_dir);

    // By its full path: only that copy.
    let by_path = first.display().to_string();
    let (watcher, mut receiver) = Watcher::start(poll_config(root.path(), &[&by_path]))
        .await
        .unwrap();
    let found = next_sighting(&mut receiver, PATIENCE, "player named by path").await;
    assert_eq!(
        found.target,
        videos_dir.join("one.mkv").display().to_string()
    );
    assert_eq!(found.player, name);
    assert_eq!(watcher.poll_now().await, Ok(0));

    // By its full name (the kernel keeps 15 characters of it): the other copy now too.
    watcher
        .reconfigure(poll_config(root.path(), &[name]))
        .await
        .unwrap();
    assert_eq!(watcher.poll_now().await, Ok(1));
    let found = receiver.try_recv().unwrap();
    assert_eq!(
        found.target,
        videos_dir.join("two.mkv").display().to_string()
    );
}

#[tokio::test]
async fn a_player_started_after_the_watcher_is_reported_by_the_next_poll() {
    let root = tempfile::tempdir().unwrap();
    let videos_dir = root.path().join("Videos");
    videos(&videos_dir, &["later.avi"]);
    let (_watcher, mut receiver) = Watcher::start(poll_config(root.path(), &["mplayer"]))
        .await
        .unwrap();
    let mut players = Players::default();
    players.start(
        &root.path().join("bin"),
        "mplayer",
        &["-vo", "null", "-ss", "10", "later.avi"],
        &videos_dir,
    );
    // The interval is 5 s: the next periodic poll finds it.
    let found = next_sighting(&mut receiver, PATIENCE, "player started later").await;
    assert_eq!(
        found.target,
        videos_dir.join("later.avi").display().to_string()
    );
    assert_eq!(found.suggested_text(), "later");
}

#[tokio::test]
async fn a_launcher_that_becomes_a_player_after_the_poll_saw_it_is_reported_next_time() {
    let root = tempfile::tempdir().unwrap();
    let videos_dir = root.path().join("Videos");
    videos(&videos_dir, &["launched.mkv"]);
    let bin = root.path().join("bin");
    let mut players = Players::default();
    // Copy the program as `smplayer` without starting it yet.
    let program = players.start(&bin, "smplayer", &["--version"], &videos_dir);
    let (watcher, mut receiver) = Watcher::start(poll_config(root.path(), &["smplayer"]))
        .await
        .unwrap();
    assert!(
        receiver.try_recv().is_err(),
        "a bare smplayer plays nothing"
    );

    // A shell that waits, then becomes the player (as launchers do: fork, then exec).
    let script = format!("read _line; exec '{}' launched.mkv", program.display());
    let mut launcher = Command::new("sh")
        .args(["-c", &script])
        .current_dir(&videos_dir)
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = launcher.id();
    let go = launcher.stdin.take();
    players.0.push(launcher);
    assert_eq!(watcher.poll_now().await, Ok(0), "still a shell");

    drop(go);
    let comm = format!("/proc/{pid}/comm");
    while std::fs::read_to_string(&comm).unwrap().trim() != "smplayer" {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(watcher.poll_now().await, Ok(1), "now the player");
    let found = receiver.try_recv().unwrap();
    assert_eq!(
        found.target,
        videos_dir.join("launched.mkv").display().to_string()
    );
}

#[tokio::test]
async fn an_interval_under_five_seconds_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let config = WatcherConfig {
        interval: Duration::from_secs(1),
        ..poll_config(root.path(), &["mpv"])
    };
    let error = Watcher::start(config).await.unwrap_err();
    assert!(matches!(
        error,
        StartError::Config(ConfigError::IntervalTooShort { .. })
    ));
    assert_eq!(
        error.to_string(),
        "the poll interval must be at least 5 seconds (got 1s)"
    );
}
