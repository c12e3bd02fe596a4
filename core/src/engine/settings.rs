//! Preferences, by key: one table says which keys exist, what each accepts and what it defaults
//! to, so `backstory settings`, the settings window and the engine agree. A bad value is refused
//! with a clear message and changes nothing.

use super::device::Device;
use crate::error::EngineError;
use crate::event::Event;
use crate::net::NetworkMode;
use crate::view::Preferences;

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

fn network(v: &str) -> Result<String, String> {
    v.trim()
        .parse::<NetworkMode>()
        .map(|m| m.to_string())
        .map_err(|e| e.to_string())
}

/// Seconds from 1 to 3600, written `10` or `10s`.
fn seconds(v: &str) -> Result<String, String> {
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
        normalise: seconds,
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
        })
    }

    /// How long a panel must stay in front to count as definitely viewed, in seconds.
    pub(crate) async fn view_threshold_secs(&self) -> Result<u32, EngineError> {
        // The stored value was normalised; a damaged one falls back to the default.
        Ok(self.get("view_threshold").await?.parse().unwrap_or(10))
    }

    /// Whether read receipts are on.
    pub(crate) async fn receipts(&self) -> Result<bool, EngineError> {
        Ok(self.get("receipts").await? == "on")
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
        assert_eq!(seconds(" 12s ").unwrap(), "12");
        assert!(seconds("0").is_err());
        assert!(seconds("soon").is_err());
        for s in SPECS {
            assert!((s.normalise)(s.default).is_ok(), "{}", s.key);
        }
        assert!(spec("colour").is_err());
    }
}
