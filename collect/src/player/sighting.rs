//! A sighting: one video a player was seen playing, its de-duplication key and the text it
//! suggests. Everything here is pure.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use chrono::{Offset, TimeZone};
use serde::{Deserialize, Serialize};
use url::Url;

/// Which source noticed a video.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SightingSource {
    /// The process poll read it from a player's command line.
    Poll,
    /// A player on the D-Bus session bus (MPRIS) started playing it.
    Mpris,
    /// A player's history file gained it.
    History,
}

/// A video a player was seen playing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sighting {
    /// The player: its program name (`mpv`), Flatpak application id (`io.mpv.Mpv`) or MPRIS
    /// desktop entry or identity.
    pub player: String,
    /// What was played: a URL as the player had it, or an absolute file path (`file://` URIs
    /// are turned into paths).
    pub target: String,
    /// The target normalised for de-duplication ([`target_key`]): the same video seen by two
    /// sources has the same key.
    pub key: String,
    /// The title, when the source tells it.
    pub title: Option<String>,
    /// The source that noticed it.
    pub source: SightingSource,
    /// The video's length in milliseconds, when the source tells it.
    pub duration_ms: Option<u64>,
    /// When it was played (milliseconds since the Unix epoch), when the source tells it: the
    /// history file's time, or the player process's start for the poll.
    pub played_at_ms: Option<i64>,
    /// When the watcher noticed it (milliseconds since the Unix epoch).
    pub seen_at_ms: i64,
}

impl Sighting {
    /// A sighting of `target` (a URL or an absolute path) with its key computed.
    #[cfg_attr(not(target_os = "linux"), allow(dead_code))]
    pub(crate) fn new(
        player: impl Into<String>,
        target: String,
        source: SightingSource,
        seen_at_ms: i64,
    ) -> Self {
        Self {
            player: player.into(),
            key: target_key(&target),
            target,
            title: None,
            source,
            duration_ms: None,
            played_at_ms: None,
            seen_at_ms,
        }
    }

    /// The text suggested for the panel entry: the title; else the file name without its
    /// extension and with separators turned into spaces (`my_holiday.video-2024.mkv` →
    /// `my holiday video 2024`); else, for a URL, its host and path (`example.org/videos/cat`).
    pub fn suggested_text(&self) -> String {
        if let Some(title) = self.title.as_deref().map(str::trim)
            && !title.is_empty()
        {
            return title.to_owned();
        }
        if self.target.starts_with('/') {
            let stem = Path::new(&self.target)
                .file_stem()
                .map(|stem| stem.to_string_lossy().into_owned())
                .unwrap_or_default();
            let words = words_of(&stem);
            if !words.is_empty() {
                return words;
            }
            return self.target.clone();
        }
        match Url::parse(&self.target) {
            Ok(url) => {
                let host = url.host_str().unwrap_or_default();
                let host = host.strip_prefix("www.").unwrap_or(host);
                let path = percent_encoding::percent_decode_str(url.path()).decode_utf8_lossy();
                let path = path.trim_end_matches('/');
                let text = format!("{host}{path}");
                if text.is_empty() {
                    self.target.clone()
                } else {
                    text
                }
            }
            Err(_) => self.target.clone(),
        }
    }

    /// The moment the sighting counts for: when it was played if the source says, else when it
    /// was noticed.
    pub fn at_ms(&self) -> i64 {
        self.played_at_ms.unwrap_or(self.seen_at_ms)
    }
}

/// The file name's words: separators (`_ . - +`) become spaces, runs of spaces one.
fn words_of(stem: &str) -> String {
    stem.split(|c: char| c.is_whitespace() || matches!(c, '_' | '.' | '-' | '+'))
        .filter(|word| !word.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Query parameters that say how a link was shared or where to start, not which video it is.
const NOISE_PARAMS: &[&str] = &[
    "fbclid",
    "gclid",
    "si",
    "feature",
    "t",
    "time_continue",
    "pp",
];

/// The key of a target for de-duplication: for a path (or a `file://` URI) the absolute path
/// with `.` and `..` resolved; for a URL the URL with its fragment, tracking and start-time
/// parameters and a leading `www.` removed (YouTube's short and mobile forms become
/// `https://youtube.com/watch?v=…`). Two sources seeing the same video give the same key.
pub fn target_key(target: &str) -> String {
    if target.starts_with('/') {
        return normalise_path(Path::new(target))
            .to_string_lossy()
            .into_owned();
    }
    let Ok(mut url) = Url::parse(target) else {
        return target.trim().to_owned();
    };
    if url.scheme() == "file" {
        return match url.to_file_path() {
            Ok(path) => normalise_path(&path).to_string_lossy().into_owned(),
            Err(()) => url.to_string(),
        };
    }
    url.set_fragment(None);
    if let Some(host) = url.host_str().map(str::to_owned) {
        let bare = host
            .strip_prefix("www.")
            .or_else(|| host.strip_prefix("m."))
            .unwrap_or(&host)
            .to_owned();
        if bare == "youtu.be" {
            let id = url.path().trim_matches('/').to_owned();
            if let Ok(long) = Url::parse(&format!("https://youtube.com/watch?v={id}")) {
                url = long;
            }
        } else if bare != host && url.set_host(Some(&bare)).is_err() {
            // Keep the host as it was.
        }
    }
    if url.scheme() == "http" && url.host_str() == Some("youtube.com") {
        let _ = url.set_scheme("https");
    }
    let youtube = url.host_str() == Some("youtube.com") && url.path() == "/watch";
    let kept: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(name, _)| {
            if youtube {
                name == "v"
            } else {
                !name.starts_with("utm_") && !NOISE_PARAMS.contains(&name.as_ref())
            }
        })
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if kept.is_empty() {
        url.set_query(None);
    } else {
        url.query_pairs_mut().clear().extend_pairs(kept);
    }
    if url.path().len() > 1 && url.path().ends_with('/') {
        let path = url.path().trim_end_matches('/').to_owned();
        url.set_path(&path);
    }
    url.to_string()
}

/// The day a moment falls on, `YYYY-MM-DD`, at a given offset from UTC in seconds. With the
/// key, it makes the de-duplication key: one video is one suggestion per day.
pub fn day_key(at_ms: i64, utc_offset_seconds: i32) -> String {
    let offset = chrono::FixedOffset::east_opt(utc_offset_seconds).unwrap_or(chrono::Utc.fix());
    chrono::DateTime::from_timestamp_millis(at_ms)
        .unwrap_or_default()
        .with_timezone(&offset)
        .date_naive()
        .to_string()
}

/// The day a moment falls on in this device's time zone, `YYYY-MM-DD`.
pub fn local_day_key(at_ms: i64) -> String {
    let offset = chrono::Local
        .timestamp_millis_opt(at_ms)
        .single()
        .map(|moment| moment.offset().local_minus_utc())
        .unwrap_or(0);
    day_key(at_ms, offset)
}

/// A path with `.` and `..` resolved without touching the file system.
pub(crate) fn normalise_path(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// The target a player's URI or path stands for: a `file://` URI becomes its percent-decoded
/// path, an absolute path stays (normalised), another URL stays as it was. `None` for a
/// relative path or an empty string.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) fn target_of(uri_or_path: &str) -> Option<String> {
    let text = uri_or_path;
    if text.trim().is_empty() {
        return None;
    }
    if text.starts_with('/') {
        return Some(
            normalise_path(Path::new(text))
                .to_string_lossy()
                .into_owned(),
        );
    }
    if has_scheme(text) {
        if let Ok(url) = Url::parse(text)
            && url.scheme() == "file"
        {
            return url
                .to_file_path()
                .ok()
                .map(|path| normalise_path(&path).to_string_lossy().into_owned());
        }
        return Some(text.to_owned());
    }
    None
}

/// Whether a string starts with a URL scheme and `:` (`https:`, `file:`, `ytdl:`…), a
/// scheme being at least two characters (so not a drive letter).
pub(crate) fn has_scheme(text: &str) -> bool {
    let Some((scheme, _)) = text.split_once(':') else {
        return false;
    };
    scheme.len() >= 2
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
}

/// What was already reported in this run, per (key, day): a sighting is passed on once a day.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    reported: HashMap<(String, String), i64>,
}

/// How long a (key, day) is remembered: long enough for any time-zone shift.
const REMEMBER_MS: i64 = 3 * 86_400_000;

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl Seen {
    /// Whether the sighting is the first of its key on its day; remembers it.
    pub fn first_of_day(&mut self, sighting: &Sighting, now_ms: i64) -> bool {
        self.reported
            .retain(|_, reported_at| now_ms.saturating_sub(*reported_at) < REMEMBER_MS);
        let day = local_day_key(sighting.at_ms());
        self.reported
            .insert((sighting.key.clone(), day), now_ms)
            .is_none()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn sighting(target: &str) -> Sighting {
        Sighting::new("mpv", target.to_owned(), SightingSource::Poll, 0)
    }

    #[test]
    fn the_title_is_the_suggested_text_when_there_is_one() {
        let mut seen = sighting("/home/ann/Videos/clip.mkv");
        seen.title = Some("  Our trip to the sea ".into());
        assert_eq!(seen.suggested_text(), "Our trip to the sea");
        seen.title = Some("   ".into());
        assert_eq!(seen.suggested_text(), "clip");
    }

    #[test]
    fn a_file_name_loses_its_extension_and_separators() {
        assert_eq!(
            sighting("/v/my_holiday.video-2024.mkv").suggested_text(),
            "my holiday video 2024"
        );
        assert_eq!(sighting("/v/a  b__c.webm").suggested_text(), "a b c");
        assert_eq!(sighting("/v/.mkv").suggested_text(), "mkv");
        assert_eq!(sighting("/").suggested_text(), "/");
    }

    #[test]
    fn a_url_suggests_its_host_and_path() {
        assert_eq!(
            sighting("https://www.example.org/videos/My%20Cat/?x=1#t").suggested_text(),
            "example.org/videos/My Cat"
        );
        assert_eq!(
            sighting("rtsp://camera.local:554/live").suggested_text(),
            "camera.local/live"
        );
    }

    #[test]
    fn a_path_and_its_file_uri_have_one_key() {
        assert_eq!(
            target_key("file:///home/ann/My%20Videos/a.mkv"),
            "/home/ann/My Videos/a.mkv"
        );
        assert_eq!(
            target_key("/home/ann/./x/../My Videos/a.mkv"),
            "/home/ann/My Videos/a.mkv"
        );
    }

    #[test]
    fn urls_lose_what_does_not_name_the_video() {
        let key = "https://youtube.com/watch?v=abc123";
        assert_eq!(target_key("https://youtu.be/abc123"), key);
        assert_eq!(
            target_key("https://www.youtube.com/watch?v=abc123&t=42s"),
            key
        );
        assert_eq!(
            target_key("http://m.youtube.com/watch?feature=share&v=abc123&list=PL1"),
            key
        );
        assert_eq!(
            target_key("HTTPS://Example.org:443/v/1/?utm_source=x&id=7#frag"),
            "https://example.org/v/1?id=7"
        );
        assert_eq!(target_key("not a url"), "not a url");
    }

    #[test]
    fn days_follow_the_offset() {
        // 2024-03-01T23:30:00Z
        let at = 1_709_335_800_000;
        assert_eq!(day_key(at, 0), "2024-03-01");
        assert_eq!(day_key(at, 3600), "2024-03-02");
        assert_eq!(day_key(at, -12 * 3600), "2024-03-01");
        assert_eq!(local_day_key(at).len(), 10);
    }

    #[test]
    fn one_key_is_reported_once_a_day() {
        let mut seen = Seen::default();
        let first = sighting("/v/a.mkv");
        let mut again = sighting("file:///v/a.mkv");
        again.target = "/v/a.mkv".into();
        again.source = SightingSource::Mpris;
        assert!(seen.first_of_day(&first, 1_000));
        assert!(!seen.first_of_day(&again, 2_000));
        let mut next_week = sighting("/v/a.mkv");
        next_week.played_at_ms = Some(7 * 86_400_000);
        assert!(seen.first_of_day(&next_week, 7 * 86_400_000));
    }

    #[test]
    fn targets_come_from_uris_and_absolute_paths_only() {
        assert_eq!(
            target_of("file:///a/b%20c.mkv").as_deref(),
            Some("/a/b c.mkv")
        );
        assert_eq!(target_of("/a/./b.mkv").as_deref(), Some("/a/b.mkv"));
        assert_eq!(
            target_of("https://example.org/v").as_deref(),
            Some("https://example.org/v")
        );
        assert_eq!(target_of("relative.mkv"), None);
        assert_eq!(target_of(""), None);
        assert!(!has_scheme("c:/x"));
        assert!(has_scheme("ytdl://abc"));
    }

    proptest! {
        #[test]
        fn a_key_is_stable(target in "\\PC{0,60}") {
            let key = target_key(&target);
            prop_assert_eq!(target_key(&key), key.clone());
        }

        #[test]
        fn any_path_and_its_file_uri_share_a_key(name in "[^/\u{0}]{1,20}", dir in "[a-z ]{1,10}") {
            prop_assume!(name != "." && name != "..");
            let path = format!("/tmp/{dir}/{name}");
            let uri = Url::from_file_path(&path).unwrap().to_string();
            prop_assert_eq!(target_key(&uri), target_key(&path));
        }

        #[test]
        fn suggested_text_is_never_empty(target in "\\PC{1,60}", title in proptest::option::of("\\PC{0,20}")) {
            let mut seen = sighting(&target);
            seen.title = title;
            let text = seen.suggested_text();
            prop_assert!(!text.trim().is_empty() || target.trim().is_empty());
        }
    }
}
