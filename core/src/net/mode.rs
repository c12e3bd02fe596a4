//! Network modes: how this device finds and reaches its contacts.

use std::fmt;
use std::str::FromStr;

/// The environment variable that overrides the network mode setting.
pub const NETWORK_ENV: &str = "BACKSTORY_NETWORK";

/// The environment variable that overrides the LAN discovery setting (`on` or `off`).
pub const LAN_ENV: &str = "BACKSTORY_LAN_DISCOVERY";

/// Whether to announce this device and look for contacts on the local network (mDNS): the
/// environment variable, else the stored setting, else on. Local mode never does.
pub fn lan_discovery(setting: Option<&str>) -> bool {
    lan_discovery_from(std::env::var(LAN_ENV).ok().as_deref(), setting)
}

/// [`lan_discovery`] with the environment variable's value given.
pub fn lan_discovery_from(env: Option<&str>, setting: Option<&str>) -> bool {
    let word = match env {
        Some(v) if !v.trim().is_empty() => v,
        _ => setting.unwrap_or_default(),
    };
    !matches!(word.trim(), "off" | "0" | "false" | "no")
}

/// How the endpoint reaches peers.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum NetworkMode {
    /// Public relays, DNS address lookup, and mDNS on the local network.
    #[default]
    Default,
    /// A self-hosted relay (plus mDNS on the local network).
    Relay(String),
    /// No relays, no internet lookup: direct addresses only. Tickets carry those addresses.
    Local,
}

/// Why a network mode did not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad network mode `{0}`: use `default`, `local` or `relay=https://relay.example.org`")]
pub struct BadMode(pub String);

impl FromStr for NetworkMode {
    type Err = BadMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        match t {
            "default" | "" => Ok(Self::Default),
            "local" => Ok(Self::Local),
            _ => {
                let url = t.strip_prefix("relay=").ok_or_else(|| BadMode(s.into()))?;
                let parsed = url::Url::parse(url).map_err(|_| BadMode(s.into()))?;
                if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
                    return Err(BadMode(s.into()));
                }
                Ok(Self::Relay(parsed.to_string()))
            }
        }
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Default => f.write_str("default"),
            Self::Local => f.write_str("local"),
            Self::Relay(url) => write!(f, "relay={url}"),
        }
    }
}

impl NetworkMode {
    /// The mode in force: the environment variable, else the stored setting, else `default`.
    pub fn effective(setting: Option<&str>) -> Result<Self, BadMode> {
        Self::effective_from(std::env::var(NETWORK_ENV).ok().as_deref(), setting)
    }

    /// [`NetworkMode::effective`] with the environment variable's value given.
    pub fn effective_from(env: Option<&str>, setting: Option<&str>) -> Result<Self, BadMode> {
        match env {
            Some(v) if !v.trim().is_empty() => v.parse(),
            _ => setting.map_or(Ok(Self::Default), str::parse),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lan_discovery_is_on_unless_turned_off_and_the_environment_wins() {
        assert!(lan_discovery_from(None, None));
        assert!(lan_discovery_from(None, Some("on")));
        assert!(!lan_discovery_from(None, Some("off")));
        assert!(!lan_discovery_from(Some("off"), Some("on")));
        assert!(lan_discovery_from(Some("on"), Some("off")));
        assert!(!lan_discovery_from(Some(" 0 "), None));
        assert!(
            !lan_discovery_from(Some(""), Some("off")),
            "an empty variable is unset"
        );
    }

    #[test]
    fn the_environment_overrides_the_network_setting() {
        assert_eq!(
            NetworkMode::effective_from(Some("local"), Some("default")),
            Ok(NetworkMode::Local)
        );
        assert_eq!(
            NetworkMode::effective_from(None, Some("local")),
            Ok(NetworkMode::Local)
        );
        assert_eq!(
            NetworkMode::effective_from(Some("  "), None),
            Ok(NetworkMode::Default)
        );
        assert!(NetworkMode::effective_from(Some("nonsense"), Some("local")).is_err());
    }

    #[test]
    fn modes_parse_and_print() {
        for s in ["default", "local", "relay=https://relay.example.org/"] {
            assert_eq!(s.parse::<NetworkMode>().unwrap().to_string(), s);
        }
        for bad in ["relay", "relay=", "relay=ftp://x", "lan", "relay=not a url"] {
            assert!(bad.parse::<NetworkMode>().is_err(), "{bad}");
        }
    }
}
