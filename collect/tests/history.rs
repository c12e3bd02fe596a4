//! History files in temporary XDG folders: written as the players write them, after the
//! watcher started.
#![cfg(target_os = "linux")]
#![allow(clippy::unwrap_used)]

#[path = "support/watch.rs"]
mod support;

use std::path::Path;
use std::time::Duration;

use backstory_collect::player::{DEFAULT_PLAYERS, SightingSource, Watcher, WatcherConfig};
use support::{next_sighting, quiet_config};

const PATIENCE: Duration = Duration::from_secs(10);

fn history_config(root: &Path) -> WatcherConfig {
    WatcherConfig {
        history: true,
        players: DEFAULT_PLAYERS
            .iter()
            .map(|name| (*name).to_owned())
            .collect(),
        ..quiet_config(root)
    }
}

/// Writes a file the way GTK and Qt do: a temporary file beside it, renamed over it.
fn replace(path: &Path, text: &str) {
    let temporary = path.with_extension("tmp-write");
    std::fs::write(&temporary, text).unwrap();
    std::fs::rename(&temporary, path).unwrap();
}

fn bookmark(href: &str, mime: &str, app: &str, exec: &str, modified: &str) -> String {
    format!(
        r#"  <bookmark href="{href}" added="{modified}" modified="{modified}" visited="{modified}">
    <info>
      <metadata owner="http://freedesktop.org">
        <mime:mime-type type="{mime}"/>
        <bookmark:applications>
          <bookmark:application name="{app}" exec="&apos;{exec} %u&apos;" modified="{modified}" count="1"/>
        </bookmark:applications>
      </metadata>
    </info>
  </bookmark>
"#
    )
}

fn xbel(bookmarks: &[String]) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xbel version="1.0"
      xmlns:bookmark="http://www.freedesktop.org/standards/desktop-bookmarks"
      xmlns:mime="http://www.freedesktop.org/standards/shared-mime-info"
>
{}</xbel>"#,
        bookmarks.concat()
    )
}

#[tokio::test]
async fn a_video_added_to_recently_used_xbel_by_rename_is_reported_at_once() {
    let root = tempfile::tempdir().unwrap();
    let config = history_config(root.path());
    std::fs::create_dir_all(&config.dirs.data_home).unwrap();
    let file = config.dirs.data_home.join("recently-used.xbel");
    let old = bookmark(
        "file:///home/ann/Videos/old.mkv",
        "video/x-matroska",
        "Videos",
        "totem",
        "2024-05-01T10:00:00Z",
    );
    replace(&file, &xbel(std::slice::from_ref(&old)));
    let (_watcher, mut sightings) = Watcher::start(config).await.unwrap();

    // Added after start, in this order: a document, a video a browser opened, then a video
    // Celluloid played. Only the last is a sighting, and it is the first one.
    let document = bookmark(
        "file:///home/ann/report.pdf",
        "application/pdf",
        "Document Viewer",
        "evince",
        "2024-05-02T09:00:00Z",
    );
    let browser = bookmark(
        "file:///home/ann/Downloads/clip.mp4",
        "video/mp4",
        "Firefox",
        "firefox",
        "2024-05-02T09:30:00Z",
    );
    let played = bookmark(
        "file:///home/ann/Videos/sea%20trip_2024.webm",
        "video/webm",
        "Celluloid",
        "celluloid",
        "2024-05-02T10:00:00Z",
    );
    replace(&file, &xbel(&[old, document, browser, played]));

    let found = next_sighting(&mut sightings, PATIENCE, "recently-used.xbel replaced").await;
    assert_eq!(found.target, "/home/ann/Videos/sea trip_2024.webm");
    assert_eq!(found.player, "celluloid");
    assert_eq!(found.source, SightingSource::History);
    assert_eq!(found.played_at_ms, Some(1_714_644_000_000));
    assert_eq!(found.suggested_text(), "sea trip 2024");
}

#[tokio::test]
async fn vlc_recent_list_changes_are_reported_even_when_its_folder_appears_later() {
    let root = tempfile::tempdir().unwrap();
    let config = history_config(root.path());
    let vlc = config.dirs.config_home.join("vlc");
    let (_watcher, mut sightings) = Watcher::start(config).await.unwrap();

    // VLC's first run creates its folder, then its settings.
    std::fs::create_dir_all(&vlc).unwrap();
    let conf = vlc.join("vlc-qt-interface.conf");
    replace(
        &conf,
        "[General]\nqt-privacy-ask=false\n\n[RecentsMRL]\nlist=file:///home/ann/first.mkv\ntimes=0\n",
    );
    let found = next_sighting(&mut sightings, PATIENCE, "VLC folder and list created").await;
    assert_eq!(found.target, "/home/ann/first.mkv");
    assert_eq!(found.player, "vlc");

    // Played next: a URL with a comma (quoted by QSettings) moves to the front.
    replace(
        &conf,
        "[RecentsMRL]\nlist=\"https://example.org/v?a=1,2\", file:///home/ann/first.mkv\ntimes=0, 0\n",
    );
    let found = next_sighting(&mut sightings, PATIENCE, "VLC list changed").await;
    assert_eq!(found.target, "https://example.org/v?a=1,2");
    assert_eq!(found.suggested_text(), "example.org/v");
}

#[tokio::test]
async fn mpv_watch_history_and_watch_later_additions_are_reported() {
    let root = tempfile::tempdir().unwrap();
    let config = history_config(root.path());
    let mpv = config.dirs.state_home.join("mpv");
    std::fs::create_dir_all(mpv.join("watch_later")).unwrap();
    let history = mpv.join("watch_history.jsonl");
    let old = "{\"time\":1700000000,\"path\":\"/home/ann/old.mkv\",\"title\":\"Old\"}\n";
    std::fs::write(&history, old).unwrap();
    let (_watcher, mut sightings) = Watcher::start(config).await.unwrap();

    // mpv appends a line when a file starts.
    let line = "{\"time\":1800000000,\"path\":\"/home/ann/new.mkv\",\"title\":\"A new film\"}\n";
    std::fs::write(&history, format!("{old}{line}")).unwrap();
    let found = next_sighting(&mut sightings, PATIENCE, "watch_history.jsonl appended").await;
    assert_eq!(found.target, "/home/ann/new.mkv");
    assert_eq!(found.title.as_deref(), Some("A new film"));
    assert_eq!(found.played_at_ms, Some(1_800_000_000_000));

    // Quitting with resume writes a watch_later file naming the video on its first line.
    replace(
        &mpv.join("watch_later/0123456789ABCDEF0123456789ABCDEF"),
        "# https://example.org/films/42\nstart=754.200000\n",
    );
    let found = next_sighting(&mut sightings, PATIENCE, "watch_later file written").await;
    assert_eq!(found.target, "https://example.org/films/42");
    assert_eq!(found.player, "mpv");
}
