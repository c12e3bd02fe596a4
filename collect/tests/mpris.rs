//! MPRIS on a private D-Bus session bus: a test player served with zbus, the watcher following
//! it live.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

#[path = "support/watch.rs"]
mod support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use backstory_collect::player::{SightingSource, Watcher, WatcherConfig};
use support::{next_sighting, quiet_config};
use zbus::object_server::InterfaceRef;
use zbus::zvariant::{OwnedValue, Value};

const PATIENCE: Duration = Duration::from_secs(5);
const PATH: &str = "/org/mpris/MediaPlayer2";

/// A private session bus, stopped when dropped.
struct Bus {
    daemon: Child,
    address: String,
}

impl Bus {
    fn start() -> Self {
        let mut daemon = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("dbus-daemon runs a private session bus (Debian package dbus-daemon)");
        let mut line = String::new();
        BufReader::new(daemon.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_owned();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        Self { daemon, address }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.daemon.kill();
        let _ = self.daemon.wait();
    }
}

/// `org.mpris.MediaPlayer2`.
struct Root;

#[zbus::interface(name = "org.mpris.MediaPlayer2")]
impl Root {
    #[zbus(property)]
    fn identity(&self) -> String {
        "Test Player".to_owned()
    }

    #[zbus(property)]
    fn desktop_entry(&self) -> String {
        "testplayer".to_owned()
    }
}

/// `org.mpris.MediaPlayer2.Player`, with what it plays.
#[derive(Clone, Default)]
struct Player {
    status: String,
    title: String,
    url: Option<String>,
    length_us: i64,
}

#[zbus::interface(name = "org.mpris.MediaPlayer2.Player")]
impl Player {
    #[zbus(property)]
    fn playback_status(&self) -> String {
        self.status.clone()
    }

    #[zbus(property)]
    fn metadata(&self) -> HashMap<String, OwnedValue> {
        let mut metadata = HashMap::new();
        let mut put = |key: &str, value: Value<'_>| {
            metadata.insert(key.to_owned(), OwnedValue::try_from(value).unwrap());
        };
        put("xesam:title", Value::from(self.title.clone()));
        if let Some(url) = &self.url {
            put("xesam:url", Value::from(url.clone()));
        }
        put("mpris:length", Value::from(self.length_us));
        metadata
    }
}

/// The test player's connection, holding `org.mpris.MediaPlayer2.testplayer`.
struct TestPlayer {
    _connection: zbus::Connection,
    player: InterfaceRef<Player>,
}

impl TestPlayer {
    async fn appear(bus: &Bus, state: Player) -> Self {
        let connection = zbus::connection::Builder::address(bus.address.as_str())
            .unwrap()
            .serve_at(PATH, Root)
            .unwrap()
            .serve_at(PATH, state)
            .unwrap()
            .name("org.mpris.MediaPlayer2.testplayer")
            .unwrap()
            .build()
            .await
            .unwrap();
        let player = connection
            .object_server()
            .interface::<_, Player>(PATH)
            .await
            .unwrap();
        Self {
            _connection: connection,
            player,
        }
    }

    /// Changes what it plays and says so, metadata first, as players do.
    async fn play(&self, change: impl FnOnce(&mut Player)) {
        change(&mut *self.player.get_mut().await);
        let emitter = self.player.signal_emitter();
        let player = self.player.get().await;
        player.metadata_changed(emitter).await.unwrap();
        player.playback_status_changed(emitter).await.unwrap();
    }
}

fn video(status: &str, name: &str, minutes: i64) -> Player {
    Player {
        status: status.to_owned(),
        title: format!("The {name} video"),
        url: Some(format!("file:///home/ann/Videos/{name}%20clip.mkv")),
        length_us: minutes * 60_000_000,
    }
}

fn mpris_config(root: &std::path::Path, bus: &Bus) -> WatcherConfig {
    WatcherConfig {
        mpris: true,
        players: vec!["testplayer".to_owned()],
        session_bus: Some(bus.address.clone()),
        ..quiet_config(root)
    }
}

#[tokio::test]
async fn a_player_restored_paused_is_reported_only_once_it_plays() {
    let bus = Bus::start();
    let root = tempfile::tempdir().unwrap();
    // A session restored at login: a video loaded, paused.
    let player = TestPlayer::appear(&bus, video("Paused", "restored", 30)).await;
    let (_watcher, mut sightings) = Watcher::start(mpris_config(root.path(), &bus))
        .await
        .unwrap();

    // Another video starts: it is the first sighting, so the paused one was not reported.
    player
        .play(|state| *state = video("Playing", "beach", 42))
        .await;
    let found = next_sighting(&mut sightings, PATIENCE, "PlaybackStatus turned Playing").await;
    assert_eq!(found.target, "/home/ann/Videos/beach clip.mkv");
    assert_eq!(found.key, "/home/ann/Videos/beach clip.mkv");
    assert_eq!(found.title.as_deref(), Some("The beach video"));
    assert_eq!(found.suggested_text(), "The beach video");
    assert_eq!(found.duration_ms, Some(42 * 60_000));
    assert_eq!(found.source, SightingSource::Mpris);
    assert_eq!(found.player, "testplayer");

    // Paused, then playing the restored video: now it is a sighting.
    player
        .play(|state| state.status = "Paused".to_owned())
        .await;
    player
        .play(|state| *state = video("Playing", "restored", 30))
        .await;
    let found = next_sighting(&mut sightings, PATIENCE, "restored video played").await;
    assert_eq!(found.target, "/home/ann/Videos/restored clip.mkv");
}

#[tokio::test]
async fn a_player_appearing_while_watched_is_noticed_at_once_and_short_plays_are_ignored() {
    let bus = Bus::start();
    let root = tempfile::tempdir().unwrap();
    let (_watcher, mut sightings) = Watcher::start(mpris_config(root.path(), &bus))
        .await
        .unwrap();

    // It appears already playing, a 30-second clip: too short.
    let short = Player {
        length_us: 30_000_000,
        ..video("Playing", "short", 0)
    };
    let player = TestPlayer::appear(&bus, short).await;
    // Then a real video while playing: it is the first sighting.
    player
        .play(|state| *state = video("Playing", "long", 25))
        .await;
    let found = next_sighting(&mut sightings, PATIENCE, "new track while Playing").await;
    assert_eq!(found.target, "/home/ann/Videos/long clip.mkv");

    // A player that gives only a title (as Totem does) is reported by its title.
    player
        .play(|state| {
            *state = video("Playing", "untitled", 25);
            state.url = None;
            state.title = "Totem style title".to_owned();
        })
        .await;
    let found = next_sighting(&mut sightings, PATIENCE, "title-only track").await;
    assert_eq!(found.target, "Totem style title");
    assert_eq!(found.suggested_text(), "Totem style title");
}

#[tokio::test]
async fn players_not_configured_are_not_followed() {
    let bus = Bus::start();
    let root = tempfile::tempdir().unwrap();
    let config = WatcherConfig {
        players: vec!["othertool".to_owned(), "testplayer".to_owned()],
        ..mpris_config(root.path(), &bus)
    };
    let (watcher, mut sightings) = Watcher::start(config).await.unwrap();
    let player = TestPlayer::appear(&bus, video("Paused", "first", 30)).await;

    // No longer a configured player: its next video is not reported...
    watcher
        .reconfigure(WatcherConfig {
            players: vec!["othertool".to_owned()],
            ..mpris_config(root.path(), &bus)
        })
        .await
        .unwrap();
    player
        .play(|state| *state = video("Playing", "hidden", 30))
        .await;
    player
        .play(|state| state.status = "Paused".to_owned())
        .await;
    // ...and once configured again, what it plays next is.
    watcher
        .reconfigure(mpris_config(root.path(), &bus))
        .await
        .unwrap();
    player
        .play(|state| *state = video("Playing", "shown", 30))
        .await;
    let found = next_sighting(&mut sightings, PATIENCE, "configured again").await;
    assert_eq!(found.target, "/home/ann/Videos/shown clip.mkv");
}

#[tokio::test]
async fn without_a_session_bus_the_other_sources_keep_working() {
    let root = tempfile::tempdir().unwrap();
    let config = WatcherConfig {
        mpris: true,
        poll: true,
        players: vec!["testplayer".to_owned()],
        ..quiet_config(root.path())
    };
    let (watcher, _sightings) = Watcher::start(config).await.unwrap();
    assert_eq!(watcher.poll_now().await, Ok(0));
}
