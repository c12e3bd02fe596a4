//! What the watcher watches: its settings, checked before they are used.

use std::path::PathBuf;
use std::time::Duration;

/// The players watched when the author has not chosen: common video players, no browsers.
pub const DEFAULT_PLAYERS: &[&str] = &["mpv", "vlc", "celluloid", "smplayer", "mplayer", "totem"];

/// The shortest interval between two process polls.
pub const MIN_INTERVAL: Duration = Duration::from_secs(5);

/// The interval between two process polls when the author has not chosen: ten minutes.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(600);

/// Plays shorter than this are ignored when the author has not chosen, where the source tells
/// the length.
pub const DEFAULT_MIN_PLAY: Duration = Duration::from_secs(60);

/// The folders where players keep their history (the XDG base directories).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dirs {
    /// `$XDG_DATA_HOME`, by default `~/.local/share`: holds `recently-used.xbel`.
    pub data_home: PathBuf,
    /// `$XDG_CONFIG_HOME`, by default `~/.config`: holds `vlc/vlc-qt-interface.conf`.
    pub config_home: PathBuf,
    /// `$XDG_STATE_HOME`, by default `~/.local/state`: holds `mpv/watch_history.jsonl` and
    /// `mpv/watch_later/`.
    pub state_home: PathBuf,
}

impl Dirs {
    /// The folders named by the environment (`XDG_DATA_HOME`, `XDG_CONFIG_HOME`,
    /// `XDG_STATE_HOME`), or their defaults under `$HOME`. A relative value is ignored, as the
    /// XDG specification asks.
    pub fn from_env() -> Self {
        let home = std::env::var_os("HOME")
            .map(PathBuf::from)
            .unwrap_or_default();
        let from = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .filter(|path| path.is_absolute())
                .unwrap_or_else(|| home.join(default))
        };
        Self {
            data_home: from("XDG_DATA_HOME", ".local/share"),
            config_home: from("XDG_CONFIG_HOME", ".config"),
            state_home: from("XDG_STATE_HOME", ".local/state"),
        }
    }
}

impl Default for Dirs {
    fn default() -> Self {
        Self::from_env()
    }
}

/// The watcher's settings. [`WatcherConfig::default`] reads the folders from the environment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatcherConfig {
    /// Whether the process list is polled.
    pub poll: bool,
    /// Time between two process polls: at least [`MIN_INTERVAL`], [`DEFAULT_INTERVAL`] by default.
    pub interval: Duration,
    /// The players watched: program names (`mpv`) or full program paths (`/opt/vlc/bin/vlc`).
    /// A Flatpak player may also be named by its application id (`io.mpv.Mpv`).
    pub players: Vec<String>,
    /// Whether players on the D-Bus session bus (MPRIS) are followed.
    pub mpris: bool,
    /// Whether the players' history files are watched.
    pub history: bool,
    /// Plays shorter than this are ignored, where the source tells the length.
    pub min_play: Duration,
    /// Where the history files are looked for.
    pub dirs: Dirs,
    /// The D-Bus session bus to follow; `None` for the one named by `DBUS_SESSION_BUS_ADDRESS`.
    pub session_bus: Option<String>,
}

impl Default for WatcherConfig {
    fn default() -> Self {
        Self {
            poll: true,
            interval: DEFAULT_INTERVAL,
            players: DEFAULT_PLAYERS
                .iter()
                .map(|name| (*name).to_owned())
                .collect(),
            mpris: true,
            history: true,
            min_play: DEFAULT_MIN_PLAY,
            dirs: Dirs::from_env(),
            session_bus: None,
        }
    }
}

/// Why settings were refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The interval is shorter than [`MIN_INTERVAL`].
    #[error("the poll interval must be at least {} seconds (got {:?})", minimum.as_secs(), given)]
    IntervalTooShort {
        /// The interval asked for.
        given: Duration,
        /// The shortest accepted.
        minimum: Duration,
    },
    /// A player was named by an empty string.
    #[error("a player's name or program path is empty")]
    EmptyPlayer,
}

impl WatcherConfig {
    /// Checks the settings: the interval is at least [`MIN_INTERVAL`], no player is empty.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.interval < MIN_INTERVAL {
            return Err(ConfigError::IntervalTooShort {
                given: self.interval,
                minimum: MIN_INTERVAL,
            });
        }
        if self.players.iter().any(|player| player.trim().is_empty()) {
            return Err(ConfigError::EmptyPlayer);
        }
        Ok(())
    }
}

/// Whether a player as the author named it (`vlc`, `/opt/vlc/bin/vlc`, `io.mpv.Mpv`) is the one
/// a source reported (`vlc`, `VLC media player`, `org.videolan.VLC`, …): the same rule the
/// sources use to recognise configured players. The engine uses it for "always allow" rules.
pub fn player_matches(configured: &str, seen: &str) -> bool {
    let configured = PlayerName::parse(configured);
    configured.is_mpris(seen, seen, seen)
        || configured
            .path
            .as_deref()
            .is_some_and(|path| path.as_os_str().eq_ignore_ascii_case(seen))
}

/// One configured player, ready to be compared with what a source shows.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) struct PlayerName {
    /// The program name, lower case: the configured name, or the file name of a configured path.
    pub name: String,
    /// The configured program path, when the player was named by one.
    pub path: Option<PathBuf>,
}

#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
impl PlayerName {
    pub fn parse(configured: &str) -> Self {
        let configured = configured.trim();
        if configured.contains('/') {
            let path = PathBuf::from(configured);
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().to_lowercase())
                .unwrap_or_default();
            Self {
                name,
                path: Some(path),
            }
        } else {
            Self {
                name: configured.to_lowercase(),
                path: None,
            }
        }
    }

    /// Whether a name seen by a source (a program's file name, a desktop entry, an MPRIS bus
    /// name's last part…) is this player's, ignoring case.
    pub fn is(&self, seen: &str) -> bool {
        !self.name.is_empty() && seen.eq_ignore_ascii_case(&self.name)
    }

    /// Whether an MPRIS player is this one: by the bus name after `org.mpris.MediaPlayer2.`
    /// (or any of its dot-separated parts, so `io.github.celluloid_player.Celluloid.instance-2`
    /// is Celluloid), the desktop entry (or its last part: `org.gnome.Totem` is Totem) or the
    /// identity's first word (`VLC media player` is VLC).
    pub fn is_mpris(&self, bus_suffix: &str, desktop_entry: &str, identity: &str) -> bool {
        self.is(bus_suffix)
            || bus_suffix.split('.').any(|part| self.is(part))
            || self.is(desktop_entry)
            || desktop_entry
                .rsplit('.')
                .next()
                .is_some_and(|part| self.is(part))
            || self.is(identity)
            || identity
                .split_whitespace()
                .next()
                .is_some_and(|word| self.is(word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_interval_is_ten_minutes_and_accepted() {
        let config = WatcherConfig::default();
        assert_eq!(config.interval, Duration::from_secs(600));
        assert_eq!(config.check(), Ok(()));
        assert!(
            config
                .players
                .iter()
                .all(|player| !player.contains("firefox"))
        );
    }

    #[test]
    fn an_interval_under_five_seconds_is_refused_with_a_clear_message() {
        let config = WatcherConfig {
            interval: Duration::from_secs(4),
            ..WatcherConfig::default()
        };
        let error = config.check().expect_err("4 s is too short");
        assert_eq!(
            error.to_string(),
            "the poll interval must be at least 5 seconds (got 4s)"
        );
        let five = WatcherConfig {
            interval: Duration::from_secs(5),
            ..WatcherConfig::default()
        };
        assert_eq!(five.check(), Ok(()));
    }

    #[test]
    fn an_empty_player_is_refused() {
        let config = WatcherConfig {
            players: vec!["mpv".into(), " ".into()],
            ..WatcherConfig::default()
        };
        assert_eq!(config.check(), Err(ConfigError::EmptyPlayer));
    }

    #[test]
    fn a_player_is_named_by_name_or_path() {
        assert_eq!(
            PlayerName::parse("VLC"),
            PlayerName {
                name: "vlc".into(),
                path: None
            }
        );
        let by_path = PlayerName::parse("/opt/players/bin/my-player");
        assert_eq!(by_path.name, "my-player");
        assert_eq!(
            by_path.path.as_deref(),
            Some(std::path::Path::new("/opt/players/bin/my-player"))
        );
    }

    #[test]
    fn a_rule_names_the_player_as_every_source_reports_it() {
        assert!(player_matches("vlc", "vlc"));
        assert!(player_matches("vlc", "VLC media player"));
        assert!(player_matches("VLC", "org.videolan.vlc"));
        assert!(player_matches("/opt/vlc/bin/vlc", "vlc"));
        assert!(player_matches("io.mpv.Mpv", "io.mpv.Mpv"));
        assert!(!player_matches("mpv", "vlc"));
        assert!(!player_matches("mpv", "Mozilla Firefox"));
    }

    #[test]
    fn mpris_players_are_recognised_by_bus_name_desktop_entry_or_identity() {
        let celluloid = PlayerName::parse("celluloid");
        assert!(celluloid.is_mpris("io.github.celluloid_player.Celluloid.instance-2", "", ""));
        let totem = PlayerName::parse("totem");
        assert!(totem.is_mpris("GnomeVideos", "org.gnome.Totem", "Videos"));
        let vlc = PlayerName::parse("vlc");
        assert!(vlc.is_mpris("vlc", "vlc", "VLC media player"));
        assert!(vlc.is_mpris("other", "", "VLC media player"));
        let mpv = PlayerName::parse("mpv");
        assert!(!mpv.is_mpris("firefox.instance_1_23", "firefox", "Mozilla Firefox"));
    }
}
