//! Preferences: the app's language, whether I send read receipts, the network mode and whether to
//! use the local network to find contacts.

use serde::{Deserialize, Serialize};

use super::Engine;
use crate::error::EngineError;
use crate::net::NetworkMode;

/// The languages the app speaks.
pub const LANGUAGES: [&str; 2] = ["en", "zh-CN"];

/// What the settings window shows and changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Preferences {
    /// The chosen language; none follows the system.
    pub language: Option<String>,
    /// Whether my contacts learn what I have seen of their panels.
    pub receipts: bool,
    /// The network mode setting (`default`, `local`, `relay=URL`); it takes effect at the next
    /// start.
    pub network: String,
    /// Whether this device announces itself and looks for contacts on the local network (mDNS);
    /// it takes effect at the next start.
    pub lan_discovery: bool,
}

impl Engine {
    /// The current preferences.
    pub async fn preferences(&self) -> Result<Preferences, EngineError> {
        let (language, receipts, network, lan) = self
            .blocking(|s| {
                Ok::<_, crate::store::StoreError>((
                    s.setting("language")?,
                    s.setting("receipts")?,
                    s.setting("network")?,
                    s.setting("lan_discovery")?,
                ))
            })
            .await?;
        Ok(Preferences {
            language: language.filter(|l| !l.is_empty()),
            receipts: receipts.as_deref() != Some("off"),
            network: network
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| NetworkMode::Default.to_string()),
            lan_discovery: lan.as_deref() != Some("off"),
        })
    }

    /// Chooses the language, or follows the system with `None`.
    pub async fn set_language(&self, language: Option<&str>) -> Result<Preferences, EngineError> {
        let value = match language {
            None => String::new(),
            Some(l) if LANGUAGES.contains(&l) => l.to_string(),
            Some(l) => {
                return Err(EngineError::InvalidInput(format!(
                    "unknown language `{l}`: use one of {}",
                    LANGUAGES.join(", ")
                )));
            }
        };
        self.blocking(move |s| s.set_setting("language", &value))
            .await?;
        self.preferences().await
    }

    /// Turns read receipts on or off. Off, viewing a panel tells its author nothing.
    pub async fn set_receipts(&self, on: bool) -> Result<Preferences, EngineError> {
        let value = if on { "on" } else { "off" };
        self.blocking(move |s| s.set_setting("receipts", value))
            .await?;
        self.preferences().await
    }

    /// Turns discovery on the local network (mDNS) on or off, from the next start. Off, this
    /// device neither announces itself nor finds contacts there; relays and known addresses work
    /// as before.
    pub async fn set_lan_discovery(&self, on: bool) -> Result<Preferences, EngineError> {
        let value = if on { "on" } else { "off" };
        self.blocking(move |s| s.set_setting("lan_discovery", value))
            .await?;
        self.preferences().await
    }

    /// Sets the network mode used from the next start; a bad mode is refused and changes nothing.
    pub async fn set_network(&self, mode: &str) -> Result<Preferences, EngineError> {
        let parsed: NetworkMode = mode
            .trim()
            .parse()
            .map_err(|e: crate::net::mode::BadMode| EngineError::InvalidInput(e.to_string()))?;
        let value = parsed.to_string();
        self.blocking(move |s| s.set_setting("network", &value))
            .await?;
        self.preferences().await
    }

    /// Asks whoever shows this engine (the app) to come to the front and open `link`. Only
    /// `backstory://` links are passed on.
    pub fn request_open(&self, link: Option<String>) -> Result<(), EngineError> {
        if let Some(l) = &link
            && !l.starts_with("backstory://")
        {
            return Err(EngineError::InvalidInput(format!(
                "not a backstory:// link: {l}"
            )));
        }
        if !self
            .inner
            .front_end
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            return Err(EngineError::InvalidInput(
                "this data directory is in use by a `backstory node` without windows; stop it \
                 before starting the app"
                    .into(),
            ));
        }
        self.emit(crate::event::Event::OpenRequested { link });
        Ok(())
    }

    /// Declares that windows show this engine, so [`Engine::request_open`] has someone to ask.
    pub fn set_front_end(&self, on: bool) {
        self.inner
            .front_end
            .store(on, std::sync::atomic::Ordering::Relaxed);
    }
}
