//! The players' history files: what was there at start is remembered, what is added after is
//! reported. Their folders are watched (players replace the files by renaming, which a watch on
//! the file itself would not survive) and a change triggers a look at once.

mod mpv;
mod vlc;
mod xbel;

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use notify_debouncer_full::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{DebounceEventResult, Debouncer, NoCache};
use tokio::sync::{mpsc, oneshot};

use super::config::{Dirs, PlayerName};
use super::sighting::{Sighting, SightingSource, target_of};

/// How long the folders must be quiet before a look: players write in bursts.
const QUIET: Duration = Duration::from_millis(300);

/// The history files the watcher reads.
#[derive(Clone, Debug)]
struct Files {
    xbel: PathBuf,
    vlc: PathBuf,
    mpv_history: PathBuf,
    watch_later: Vec<PathBuf>,
}

impl Files {
    fn new(dirs: &Dirs) -> Self {
        Self {
            xbel: dirs.data_home.join("recently-used.xbel"),
            vlc: dirs.config_home.join("vlc/vlc-qt-interface.conf"),
            mpv_history: dirs.state_home.join("mpv/watch_history.jsonl"),
            watch_later: vec![
                dirs.state_home.join("mpv/watch_later"),
                dirs.config_home.join("mpv/watch_later"),
            ],
        }
    }
}

/// What the history files held at the last look.
#[derive(Debug)]
pub(crate) struct History {
    files: Files,
    players: Vec<PlayerName>,
    /// Each file's modification time and length at the last look: unchanged files are not read.
    stamps: HashMap<PathBuf, (SystemTime, u64)>,
    /// Per bookmark URI, what said when a player last opened it.
    xbel: HashMap<String, String>,
    vlc: Vec<String>,
    /// How far `watch_history.jsonl` was read, and the newest entry's time.
    mpv_offset: u64,
    mpv_newest: f64,
    watch_later: HashMap<PathBuf, SystemTime>,
}

impl History {
    /// Reads what the files hold now, to report only what is added later. Blocking.
    pub fn new(dirs: &Dirs, players: Vec<PlayerName>) -> Self {
        let mut history = Self {
            files: Files::new(dirs),
            players,
            stamps: HashMap::new(),
            xbel: HashMap::new(),
            vlc: Vec::new(),
            mpv_offset: 0,
            mpv_newest: f64::NEG_INFINITY,
            watch_later: HashMap::new(),
        };
        let already = history.look(0);
        tracing::debug!(entries = already.len(), "history files read at start");
        history
    }

    /// The folders to watch: each file's folder, or its nearest existing ancestor while the
    /// folder does not exist yet.
    pub fn folders(&self) -> HashSet<PathBuf> {
        let mut wanted: Vec<&Path> = Vec::new();
        if self.wants_xbel() {
            wanted.extend(self.files.xbel.parent());
        }
        if self.wants("vlc") {
            wanted.extend(self.files.vlc.parent());
        }
        if self.wants("mpv") {
            wanted.extend(self.files.mpv_history.parent());
            for dir in &self.files.watch_later {
                wanted.push(dir);
                wanted.extend(dir.parent());
            }
        }
        wanted
            .into_iter()
            .filter_map(|dir| dir.ancestors().find(|dir| dir.is_dir()))
            .map(Path::to_path_buf)
            .collect()
    }

    fn wants(&self, player: &str) -> bool {
        self.players.iter().any(|name| name.is(player))
    }

    fn wants_xbel(&self) -> bool {
        !self.players.is_empty()
    }

    /// Reads the files that changed and returns what was added since the last look. Blocking.
    pub fn look(&mut self, now_ms: i64) -> Vec<Sighting> {
        let mut found = Vec::new();
        if self.wants_xbel() && self.changed(&self.files.xbel.clone()) {
            self.look_at_xbel(now_ms, &mut found);
        }
        if self.wants("vlc") && self.changed(&self.files.vlc.clone()) {
            self.look_at_vlc(now_ms, &mut found);
        }
        if self.wants("mpv") {
            if self.changed(&self.files.mpv_history.clone()) {
                self.look_at_mpv_history(now_ms, &mut found);
            }
            self.look_at_watch_later(now_ms, &mut found);
        }
        found
    }

    /// Whether a file's time or length differs from the last look (remembering the new ones).
    fn changed(&mut self, path: &Path) -> bool {
        let stamp = fs::metadata(path).ok().map(|meta| {
            (
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                meta.len(),
            )
        });
        match stamp {
            Some(stamp) => self.stamps.insert(path.to_path_buf(), stamp) != Some(stamp),
            None => self.stamps.remove(path).is_some(),
        }
    }

    fn look_at_xbel(&mut self, now_ms: i64, found: &mut Vec<Sighting>) {
        let Some(text) = read_text(&self.files.xbel) else {
            return;
        };
        let (bookmarks, error) = xbel::parse(&text);
        if let Some(error) = error {
            tracing::warn!(file = %self.files.xbel.display(), %error, "recently used files: unreadable past this point");
        }
        let mut stamps = HashMap::new();
        for bookmark in bookmarks {
            if !bookmark
                .mime_type
                .as_deref()
                .is_some_and(xbel::is_video_mime)
            {
                continue;
            }
            let Some((player, application)) = self.xbel_player(&bookmark) else {
                continue;
            };
            let when = application
                .and_then(|app| app.modified.clone())
                .or_else(|| bookmark.modified.clone())
                .or_else(|| bookmark.visited.clone())
                .unwrap_or_default();
            let stamp = format!("{when} {}", application.map_or(0, |app| app.count));
            let before = self.xbel.get(&bookmark.href);
            if before != Some(&stamp)
                && let Some(target) = target_of(&bookmark.href)
            {
                let mut sighting = Sighting::new(player, target, SightingSource::History, now_ms);
                sighting.played_at_ms = rfc3339_ms(&when);
                found.push(sighting);
            }
            stamps.insert(bookmark.href, stamp);
        }
        self.xbel = stamps;
    }

    /// The configured player that opened a bookmark, with its application entry: by the
    /// application's name or program, or by the bookmark's group (Totem's `Totem`).
    fn xbel_player<'a>(
        &self,
        bookmark: &'a xbel::Bookmark,
    ) -> Option<(String, Option<&'a xbel::Application>)> {
        for app in &bookmark.applications {
            let program = app.program();
            if let Some(player) = self
                .players
                .iter()
                .find(|player| player.is(&app.name) || player.is(&program))
            {
                return Some((player.name.clone(), Some(app)));
            }
        }
        bookmark.groups.iter().find_map(|group| {
            let group = group.strip_suffix("Streams").unwrap_or(group);
            self.players
                .iter()
                .find(|player| player.is(group))
                .map(|player| (player.name.clone(), bookmark.applications.first()))
        })
    }

    fn look_at_vlc(&mut self, now_ms: i64, found: &mut Vec<Sighting>) {
        let now = read_text(&self.files.vlc)
            .map(|text| vlc::recent_mrls(&text))
            .unwrap_or_default();
        for mrl in vlc::played_since(&self.vlc, &now) {
            if let Some(target) = target_of(mrl) {
                found.push(Sighting::new(
                    "vlc",
                    target,
                    SightingSource::History,
                    now_ms,
                ));
            }
        }
        self.vlc = now;
    }

    fn look_at_mpv_history(&mut self, now_ms: i64, found: &mut Vec<Sighting>) {
        let path = &self.files.mpv_history;
        let Ok(mut file) = fs::File::open(path) else {
            self.mpv_offset = 0;
            return;
        };
        let len = file.metadata().map(|meta| meta.len()).unwrap_or(0);
        if len < self.mpv_offset {
            // Rewritten shorter: read it again, reporting only entries newer than seen.
            self.mpv_offset = 0;
        }
        let mut bytes = Vec::new();
        if file.seek(SeekFrom::Start(self.mpv_offset)).is_err()
            || file.read_to_end(&mut bytes).is_err()
        {
            tracing::warn!(file = %path.display(), "mpv watch history: cannot be read");
            return;
        }
        // Only whole lines: mpv may be writing the last one.
        let Some(end) = bytes.iter().rposition(|byte| *byte == b'\n') else {
            return;
        };
        self.mpv_offset += end as u64 + 1;
        let text = String::from_utf8_lossy(&bytes[..end]);
        let (entries, skipped) = mpv::watched(&text);
        if skipped > 0 {
            tracing::warn!(file = %path.display(), skipped, "mpv watch history: lines skipped");
        }
        for entry in entries {
            if entry.time <= self.mpv_newest {
                continue;
            }
            self.mpv_newest = entry.time;
            if let Some(target) = target_of(&entry.path) {
                let mut sighting = Sighting::new("mpv", target, SightingSource::History, now_ms);
                sighting.title = entry.title.filter(|title| !title.trim().is_empty());
                sighting.played_at_ms = Some((entry.time * 1000.0) as i64);
                found.push(sighting);
            }
        }
    }

    fn look_at_watch_later(&mut self, now_ms: i64, found: &mut Vec<Sighting>) {
        let mut now = HashMap::new();
        for dir in &self.files.watch_later {
            let Ok(entries) = fs::read_dir(dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(meta) = entry.metadata() else {
                    continue;
                };
                if meta.is_file() {
                    let modified = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
                    now.insert(entry.path(), modified);
                }
            }
        }
        for (path, modified) in &now {
            if self.watch_later.get(path) == Some(modified) {
                continue;
            }
            let Some(target) = read_text(path)
                .and_then(|text| mpv::watch_later_target(&text))
                .and_then(|name| target_of(&name))
            else {
                continue;
            };
            let mut sighting = Sighting::new("mpv", target, SightingSource::History, now_ms);
            sighting.played_at_ms = modified
                .duration_since(SystemTime::UNIX_EPOCH)
                .ok()
                .and_then(|since| i64::try_from(since.as_millis()).ok());
            found.push(sighting);
        }
        self.watch_later = now;
    }
}

/// A file's text, `None` when it is missing or unreadable (logged).
fn read_text(path: &Path) -> Option<String> {
    match fs::read(path) {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(error) => {
            tracing::warn!(file = %path.display(), %error, "history file: cannot be read");
            None
        }
    }
}

/// An RFC 3339 time in milliseconds since the Unix epoch.
fn rfc3339_ms(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text.trim())
        .ok()
        .map(|moment| moment.timestamp_millis())
}

/// Watches the history folders and reports what is added to the files, until `found` closes.
/// `ready` is answered once the watches are set and the files' contents at start remembered.
pub(crate) async fn run(
    dirs: Dirs,
    players: Vec<PlayerName>,
    found: mpsc::Sender<Sighting>,
    ready: oneshot::Sender<()>,
) {
    let (changed_tx, mut changed) = mpsc::channel::<()>(1);
    let debouncer = notify_debouncer_full::new_debouncer_opt::<_, RecommendedWatcher, NoCache>(
        QUIET,
        Some(QUIET / 3),
        move |result: DebounceEventResult| match result {
            // A look reads every changed file: one pending look is enough.
            Ok(_) => {
                let _ = changed_tx.try_send(());
            }
            Err(errors) => tracing::warn!(?errors, "history folders: watch errors"),
        },
        NoCache,
        notify_debouncer_full::notify::Config::default(),
    );
    let mut debouncer = match debouncer {
        Ok(debouncer) => Some(debouncer),
        Err(error) => {
            tracing::warn!(%error, "history files: cannot watch folders, history is off");
            None
        }
    };
    let mut watched = HashSet::new();
    let history = tokio::task::spawn_blocking(move || History::new(&dirs, players)).await;
    let Ok(mut history) = history else {
        tracing::error!("history files: reading them at start failed");
        return;
    };
    if let Some(debouncer) = debouncer.as_mut() {
        arm(debouncer, &mut watched, history.folders());
        // A change between the start of the reading and the watches is caught by this look.
        history = match look(history, &found).await {
            Some(history) => history,
            None => return,
        };
    }
    let _ = ready.send(());
    let Some(mut debouncer) = debouncer else {
        return;
    };
    while changed.recv().await.is_some() {
        history = match look(history, &found).await {
            Some(history) => history,
            None => return,
        };
        arm(&mut debouncer, &mut watched, history.folders());
    }
}

/// One look in a blocking thread; `None` when the watcher is gone or the look failed.
async fn look(mut history: History, found: &mpsc::Sender<Sighting>) -> Option<History> {
    let result = tokio::task::spawn_blocking(move || {
        let sightings = history.look(now_ms());
        (history, sightings)
    })
    .await;
    let Ok((history, sightings)) = result else {
        tracing::error!("history files: a look failed");
        return None;
    };
    for sighting in sightings {
        found.send(sighting).await.ok()?;
    }
    Some(history)
}

/// Watches the folders wanted now and stops watching the others.
fn arm(
    debouncer: &mut Debouncer<RecommendedWatcher, NoCache>,
    watched: &mut HashSet<PathBuf>,
    wanted: HashSet<PathBuf>,
) {
    for gone in watched.difference(&wanted) {
        let _ = debouncer.unwatch(gone);
    }
    watched.retain(|dir| wanted.contains(dir));
    for dir in wanted {
        if watched.contains(&dir) {
            continue;
        }
        match debouncer.watch(&dir, RecursiveMode::NonRecursive) {
            Ok(()) => {
                watched.insert(dir);
            }
            Err(error) => {
                tracing::warn!(folder = %dir.display(), %error, "history folder: cannot be watched")
            }
        }
    }
}

/// Now, in milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .and_then(|since| i64::try_from(since.as_millis()).ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn players() -> Vec<PlayerName> {
        super::super::config::DEFAULT_PLAYERS
            .iter()
            .map(|name| PlayerName::parse(name))
            .collect()
    }

    fn dirs(root: &Path) -> Dirs {
        Dirs {
            data_home: root.join("data"),
            config_home: root.join("config"),
            state_home: root.join("state"),
        }
    }

    #[test]
    fn what_was_there_at_start_is_not_reported_and_additions_are() {
        let root = tempfile::tempdir().unwrap();
        let dirs = dirs(root.path());
        fs::create_dir_all(dirs.state_home.join("mpv")).unwrap();
        let history_file = dirs.state_home.join("mpv/watch_history.jsonl");
        fs::write(
            &history_file,
            "{\"time\":100,\"path\":\"/v/old.mkv\",\"title\":\"Old\"}\n",
        )
        .unwrap();
        let mut history = History::new(&dirs, players());
        assert!(history.look(1).is_empty());

        let mut text = fs::read_to_string(&history_file).unwrap();
        text.push_str("{\"time\":200,\"path\":\"/v/new.mkv\",\"title\":\"New\"}\n{\"time\":300,");
        fs::write(&history_file, &text).unwrap();
        let found = history.look(2);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].target, "/v/new.mkv");
        assert_eq!(found[0].title.as_deref(), Some("New"));
        assert_eq!(found[0].played_at_ms, Some(200_000));
        assert!(history.look(3).is_empty());
    }

    #[test]
    fn only_configured_players_are_read() {
        let root = tempfile::tempdir().unwrap();
        let dirs = dirs(root.path());
        fs::create_dir_all(dirs.config_home.join("vlc")).unwrap();
        let only_mpv = vec![PlayerName::parse("mpv")];
        let mut history = History::new(&dirs, only_mpv);
        fs::write(
            dirs.config_home.join("vlc/vlc-qt-interface.conf"),
            "[RecentsMRL]\nlist=file:///v/a.mkv\n",
        )
        .unwrap();
        assert!(history.look(1).is_empty());
        assert!(!history.folders().contains(&dirs.config_home.join("vlc")));
    }

    #[test]
    fn missing_folders_are_watched_through_their_nearest_ancestor() {
        let root = tempfile::tempdir().unwrap();
        let dirs = dirs(root.path());
        let history = History::new(&dirs, players());
        let folders = history.folders();
        assert_eq!(folders, HashSet::from([root.path().to_path_buf()]));
    }

    #[test]
    fn malformed_files_give_nothing_and_no_panic() {
        let root = tempfile::tempdir().unwrap();
        let dirs = dirs(root.path());
        let mut history = History::new(&dirs, players());
        fs::create_dir_all(&dirs.data_home).unwrap();
        fs::create_dir_all(dirs.config_home.join("vlc")).unwrap();
        fs::create_dir_all(dirs.state_home.join("mpv/watch_later")).unwrap();
        fs::write(
            dirs.data_home.join("recently-used.xbel"),
            "<xbel><bookmark href=",
        )
        .unwrap();
        fs::write(
            dirs.config_home.join("vlc/vlc-qt-interface.conf"),
            [0xff, 0xfe, b'[', b'\\'],
        )
        .unwrap();
        fs::write(dirs.state_home.join("mpv/watch_history.jsonl"), "}{\n\0\n").unwrap();
        fs::write(dirs.state_home.join("mpv/watch_later/ABC"), "start=1\n").unwrap();
        assert!(history.look(1).is_empty());
    }
}
