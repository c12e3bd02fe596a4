//! Preferences, by key: one table says which keys exist, what each accepts and what it defaults
//! to, so `backstory settings`, the settings window and the engine agree. A bad value is refused
//! with a clear message and changes nothing.

use super::device::Device;
use crate::error::EngineError;
use crate::event::Event;
use crate::net::NetworkMode;
use crate::view::{Preferences, Setting, WatcherPreferences};

/// The languages the app speaks.
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

/// One preference: its key, what it is for, its default, and how a typed value is checked and
/// normalised before it is stored.
pub(crate) struct Spec {
    pub(crate) key: &'static str,
    pub(crate) help: &'static str,
    pub(crate) default: &'static str,
    normalise: fn(&str) -> Result<String, String>,
}

fn on_off(v: &str) -> Result<String, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" | "1" => Ok("on".into()),
        "off" | "false" | "no" | "0" => Ok("off".into()),
        _ => Err("use on or off".into()),
    }
}

fn language(v: &str) -> Result<String, String> {
    match v.trim() {
        "" | "system" => Ok(String::new()),
        l if LANGUAGES.contains(&l) => Ok(l.to_string()),
        _ => Err(format!("use system, {}", LANGUAGES.join(" or "))),
    }
}

/// A duration as people type it (`5s`, `10m`, `1h 30m`), written back in one canonical form.
fn duration(v: &str, minimum: std::time::Duration) -> Result<String, String> {
    let v = v.trim();
    let d = if v == "0" || v == "0s" {
        std::time::Duration::ZERO
    } else {
        crate::when::parse_duration(v)
            .map_err(|_| "use a duration such as 5s, 10m or 1h".to_string())?
    };
    if d < minimum {
        return Err(format!(
            "the shortest is {}",
            duration_text(minimum.as_secs())
        ));
    }
    if d.subsec_millis() != 0 {
        return Err("use whole seconds".into());
    }
    Ok(duration_text(d.as_secs()))
}

/// Seconds as the settings write them: `45s`, `10m`, `2h`, `90s`.
pub(crate) fn duration_text(secs: u64) -> String {
    match secs {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn seconds(text: &str) -> u64 {
    if text == "0s" {
        return 0;
    }
    crate::when::parse_duration(text).map_or(0, |d| d.as_secs())
}

fn interval(v: &str) -> Result<String, String> {
    duration(v, backstory_collect::player::MIN_INTERVAL)
}

fn min_play(v: &str) -> Result<String, String> {
    duration(v, std::time::Duration::ZERO)
}

fn players(v: &str) -> Result<String, String> {
    let list: Vec<&str> = v
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect();
    if list.is_empty() {
        return Err("name at least one player (e.g. mpv,vlc), or turn the watcher off".into());
    }
    if list
        .iter()
        .any(|p| p.chars().count() > 200 || p.chars().any(char::is_control))
    {
        return Err("a player is a program name or path, at most 200 characters".into());
    }
    Ok(list.join(","))
}

fn network(v: &str) -> Result<String, String> {
    v.trim()
        .parse::<NetworkMode>()
        .map(|m| m.to_string())
        .map_err(|e| e.to_string())
}

/// Seconds from 1 to 3600, written `10` or `10s`.
fn threshold(v: &str) -> Result<String, String> {
    let t = v.trim().to_ascii_lowercase();
    let n: u32 = t
        .strip_suffix('s')
        .unwrap_or(&t)
        .trim()
        .parse()
        .map_err(|_| "use a number of seconds, e.g. 10".to_string())?;
    if !(1..=3600).contains(&n) {
        return Err("use 1 to 3600 seconds".into());
    }
    Ok(n.to_string())
}

/// A size such as 100MB, 512KB, 2GB or a number of bytes (decimal units), at least 64KB.
fn panel_limit(v: &str) -> Result<String, String> {
    let bytes =
        size_bytes(v).ok_or_else(|| "use a size such as 100MB, 512KB or 2GB".to_string())?;
    if bytes < 64_000 {
        return Err("the smallest is 64KB".into());
    }
    Ok(size_text(bytes))
}

/// Bytes of a size written with an optional B, KB, MB or GB (decimal; case does not matter).
pub(crate) fn size_bytes(v: &str) -> Option<u64> {
    let v = v.trim().to_ascii_uppercase();
    let split = v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len());
    let (n, unit) = v.split_at(split);
    let n: u64 = n.parse().ok()?;
    let factor = match unit.trim() {
        "" | "B" => 1,
        "KB" | "K" => 1_000,
        "MB" | "M" => 1_000_000,
        "GB" | "G" => 1_000_000_000,
        _ => return None,
    };
    n.checked_mul(factor)
}

/// A size in the largest unit that writes it whole.
fn size_text(bytes: u64) -> String {
    match bytes {
        b if b % 1_000_000_000 == 0 => format!("{}GB", b / 1_000_000_000),
        b if b % 1_000_000 == 0 => format!("{}MB", b / 1_000_000),
        b if b % 1_000 == 0 => format!("{}KB", b / 1_000),
        b => format!("{b}B"),
    }
}

/// The default cap on a contact's panel for me.
pub const PANEL_LIMIT: u64 = 100_000_000;

/// Every preference there is.
pub(crate) const SPECS: &[Spec] = &[
    Spec {
        key: "language",
        help: "the app's language: system, en or zh-CN",
        default: "",
        normalise: language,
    },
    Spec {
        key: "receipts",
        help: "whether contacts learn what you have seen of their panels (on/off)",
        default: "on",
        normalise: on_off,
    },
    Spec {
        key: "view_threshold",
        help: "seconds a panel must stay in front to count as definitely viewed (1 to 3600)",
        default: "10",
        normalise: threshold,
    },
    Spec {
        key: "network",
        help: "default, local or relay=URL; takes effect at the next start",
        default: "default",
        normalise: network,
    },
    Spec {
        key: "lan_discovery",
        help: "find contacts on the local network (on/off); takes effect at the next start",
        default: "on",
        normalise: on_off,
    },
    Spec {
        key: "sync.panel_limit",
        help: "the largest a contact's panel for you may grow, e.g. 100MB; past it, syncing that panel pauses until you raise it",
        default: "100MB",
        normalise: panel_limit,
    },
    Spec {
        key: "snapshots.enabled",
        help: "whether a link entry keeps a preview of its page, fetched once by this device (on/off)",
        default: "on",
        normalise: on_off,
    },
    Spec {
        key: "snapshots.allow_private",
        help: "whether previews may be fetched from private and local addresses, e.g. your own network's pages (on/off)",
        default: "off",
        normalise: on_off,
    },
    Spec {
        key: "watcher.enabled",
        help: "whether the video watcher suggests the videos you watch (on/off); nothing is shared without your approval",
        default: "on",
        normalise: on_off,
    },
    Spec {
        key: "watcher.interval",
        help: "how often the running players are looked at, e.g. 10m (5s at least)",
        default: "10m",
        normalise: interval,
    },
    Spec {
        key: "watcher.players",
        help: "the players watched, comma-separated names or program paths",
        default: "mpv,vlc,celluloid,smplayer,mplayer,totem",
        normalise: players,
    },
    Spec {
        key: "watcher.min_play",
        help: "plays shorter than this are not suggested, where the player tells the length (e.g. 1m, 0s)",
        default: "1m",
        normalise: min_play,
    },
];

fn spec(key: &str) -> Result<&'static Spec, EngineError> {
    SPECS.iter().find(|s| s.key == key).ok_or_else(|| {
        EngineError::InvalidInput(format!(
            "unknown setting `{key}`; the settings are: {}",
            SPECS
                .iter()
                .map(|s| format!("{} ({})", s.key, s.help))
                .collect::<Vec<_>>()
                .join("; ")
        ))
    })
}

/// The settings part; cheap to clone.
#[derive(Clone)]
pub(crate) struct Settings {
    device: Device,
}

impl Settings {
    pub(crate) fn new(device: Device) -> Self {
        Self { device }
    }

    /// One preference's value as text (its default when never set).
    pub(crate) async fn get(&self, key: &str) -> Result<String, EngineError> {
        let spec = spec(key)?;
        let k = spec.key;
        let stored = self.device.blocking(move |s| s.setting(k)).await?;
        Ok(stored.unwrap_or_else(|| spec.default.to_string()))
    }

    /// Sets one preference after checking the value; a bad value changes nothing.
    pub(crate) async fn set(&self, key: &str, value: &str) -> Result<Preferences, EngineError> {
        let spec = spec(key)?;
        let value = (spec.normalise)(value).map_err(|why| {
            EngineError::InvalidInput(format!("bad value `{value}` for {key}: {why}"))
        })?;
        let k = spec.key;
        self.device
            .blocking(move |s| s.set_setting(k, &value))
            .await?;
        self.device.emit(Event::SettingChanged {
            key: key.to_string(),
        });
        self.preferences().await
    }

    /// Every preference, typed.
    pub(crate) async fn preferences(&self) -> Result<Preferences, EngineError> {
        let language = self.get("language").await?;
        Ok(Preferences {
            language: (!language.is_empty()).then_some(language),
            receipts: self.get("receipts").await? == "on",
            network: self.get("network").await?,
            lan_discovery: self.get("lan_discovery").await? == "on",
            view_threshold: self.view_threshold_secs().await?,
            watcher: self.watcher().await?,
            snapshots: self.on("snapshots.enabled").await?,
            snapshots_private: self.on("snapshots.allow_private").await?,
            all: self.all().await?,
        })
    }

    /// Every preference as text, in the table's order.
    async fn all(&self) -> Result<Vec<Setting>, EngineError> {
        let mut out = Vec::with_capacity(SPECS.len());
        for spec in SPECS {
            let value = self.get(spec.key).await?;
            out.push(Setting {
                key: spec.key.to_string(),
                value: if spec.key == "language" && value.is_empty() {
                    "system".into()
                } else {
                    value
                },
                help: spec.help.to_string(),
            });
        }
        Ok(out)
    }

    /// The video watcher's settings, typed.
    pub(crate) async fn watcher(&self) -> Result<WatcherPreferences, EngineError> {
        Ok(WatcherPreferences {
            enabled: self.get("watcher.enabled").await? == "on",
            interval_secs: seconds(&self.get("watcher.interval").await?),
            players: self
                .get("watcher.players")
                .await?
                .split(',')
                .map(str::to_string)
                .collect(),
            min_play_secs: seconds(&self.get("watcher.min_play").await?),
        })
    }

    /// How long a panel must stay in front to count as definitely viewed, in seconds.
    pub(crate) async fn view_threshold_secs(&self) -> Result<u32, EngineError> {
        // The stored value was normalised; a damaged one falls back to the default.
        Ok(self.get("view_threshold").await?.parse().unwrap_or(10))
    }

    /// The cap on a contact's panel for me, in bytes.
    pub(crate) async fn panel_limit(&self) -> Result<u64, EngineError> {
        Ok(size_bytes(&self.get("sync.panel_limit").await?).unwrap_or(PANEL_LIMIT))
    }

    /// Whether read receipts are on.
    pub(crate) async fn receipts(&self) -> Result<bool, EngineError> {
        self.on("receipts").await
    }

    /// Whether an on/off preference is on.
    pub(crate) async fn on(&self, key: &str) -> Result<bool, EngineError> {
        Ok(self.get(key).await? == "on")
    }

    /// My display name (empty until set).
    pub(crate) async fn name(&self) -> Result<String, EngineError> {
        Ok(self
            .device
            .blocking(|s| s.setting("name"))
            .await?
            .unwrap_or_default())
    }

    /// Sets my display name.
    pub(crate) async fn set_name(&self, name: &str) -> Result<(), EngineError> {
        let name = name.trim().to_string();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(EngineError::InvalidInput(
                "a name must have 1 to 64 characters, none of them control characters".into(),
            ));
        }
        let n = name.clone();
        self.device
            .blocking(move |s| s.set_setting("name", &n))
            .await?;
        self.device.emit(Event::NameChanged { name });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn values_are_checked_and_normalised() {
        assert_eq!(on_off(" YES ").unwrap(), "on");
        assert!(on_off("maybe").is_err());
        assert_eq!(language("system").unwrap(), "");
        assert_eq!(language("zh-CN").unwrap(), "zh-CN");
        assert!(language("fr").is_err());
        assert_eq!(network(" local ").unwrap(), "local");
        assert!(network("lan").is_err());
        assert_eq!(threshold(" 12s ").unwrap(), "12");
        assert!(threshold("0").is_err());
        assert!(threshold("soon").is_err());
        for s in SPECS {
            assert!((s.normalise)(s.default).is_ok(), "{}", s.key);
        }
        assert!(spec("colour").is_err());
        assert_eq!(interval(" 600s ").unwrap(), "10m");
        assert_eq!(interval("5s").unwrap(), "5s");
        assert_eq!(interval("90s").unwrap(), "90s");
        assert!(interval("4s").unwrap_err().contains("5s"));
        assert!(interval("soon").is_err());
        assert_eq!(min_play("0s").unwrap(), "0s");
        assert_eq!(min_play("1m").unwrap(), "1m");
        assert_eq!(
            players(" mpv , /opt/vlc/bin/vlc,, ").unwrap(),
            "mpv,/opt/vlc/bin/vlc"
        );
        assert!(players(" , ").is_err());
        assert_eq!(seconds("10m"), 600);
        assert_eq!(seconds("0s"), 0);
        assert_eq!(panel_limit(" 100mb ").unwrap(), "100MB");
        assert_eq!(panel_limit("1500000").unwrap(), "1500KB");
        assert_eq!(panel_limit("2G").unwrap(), "2GB");
        assert!(panel_limit("1KB").unwrap_err().contains("64KB"));
        assert!(panel_limit("lots").is_err());
        assert!(panel_limit("99999999999999999999GB").is_err());
        assert_eq!(size_bytes("100MB"), Some(PANEL_LIMIT));
    }
}
