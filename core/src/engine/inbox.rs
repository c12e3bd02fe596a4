//! The inbox: what the video watcher noticed, waiting for the author. Each sighting becomes a
//! suggestion (a draft with its source) unless that video was already seen today or was
//! rejected for good; a player the author always allows for chosen contacts publishes to them
//! directly. Nothing collected leaves the device any other way.
//!
//! The part owns the watcher: it starts it from the settings (`watcher.*`), applies changed
//! settings to it while it runs, and stops it when it is turned off or the engine stops.

use std::sync::{Arc, Mutex};

use backstory_collect::player::{
    Sighting, SightingSource, StartError, Watcher, WatcherConfig, local_day_key, player_matches,
    target_key,
};
use backstory_crdt::{Kind, Source, Timestamp, Visibility};
use tokio::sync::mpsc;

use super::contacts::Contacts;
use super::device::Device;
use super::panels::{Panels, Prepared};
use super::settings::Settings;
use crate::contact::{Contact, ContactId};
use crate::draft::{Draft, DraftId, DraftSource};
use crate::error::EngineError;
use crate::event::Event;
use crate::view::{AllowRule, InboxView, WatcherState};

/// Where the contacts of the last approval are remembered (not a preference of its own).
const LAST_TO: &str = "inbox.last_to";

/// The inbox part; cheap to clone.
#[derive(Clone)]
pub(crate) struct Inbox {
    device: Device,
    settings: Settings,
    panels: Panels,
    contacts: Contacts,
    /// The running watcher; dropping it stops it.
    watcher: Arc<tokio::sync::Mutex<Option<Watcher>>>,
    state: Arc<Mutex<WatcherState>>,
}

impl Inbox {
    pub(crate) fn new(
        device: Device,
        settings: Settings,
        panels: Panels,
        contacts: Contacts,
    ) -> Self {
        Self {
            device,
            settings,
            panels,
            contacts,
            watcher: Arc::default(),
            state: Arc::new(Mutex::new(WatcherState {
                available: cfg!(target_os = "linux"),
                running: false,
                message: None,
            })),
        }
    }

    /// The watcher's state now.
    pub(crate) fn watcher_state(&self) -> WatcherState {
        self.state.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn set_state(&self, running: bool, message: Option<String>) {
        let state = {
            let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
            s.running = running;
            s.message = message;
            s.clone()
        };
        self.device.emit(Event::WatcherChanged { state });
    }

    /// Starts, reconfigures or stops the watcher to match the settings.
    pub(crate) async fn apply_settings(&self) -> Result<(), EngineError> {
        let prefs = self.settings.watcher().await?;
        let mut running = self.watcher.lock().await;
        if !prefs.enabled {
            if running.take().is_some() {
                tracing::info!("video watcher stopped");
            }
            self.set_state(false, Some("turned off in the settings".into()));
            return Ok(());
        }
        let config = WatcherConfig {
            interval: std::time::Duration::from_secs(prefs.interval_secs),
            players: prefs.players.clone(),
            min_play: std::time::Duration::from_secs(prefs.min_play_secs),
            ..WatcherConfig::default()
        };
        if let Some(watcher) = running.as_ref() {
            match watcher.reconfigure(config.clone()).await {
                Ok(()) => {
                    self.set_state(true, None);
                    return Ok(());
                }
                // Stopped underneath us: start afresh below.
                Err(e) => tracing::warn!("video watcher: {e}; starting it again"),
            }
        }
        match Watcher::start(config).await {
            Ok((watcher, sightings)) => {
                *running = Some(watcher);
                tokio::spawn(self.clone().follow(sightings));
                self.set_state(true, None);
                tracing::info!(
                    interval = prefs.interval_secs,
                    players = prefs.players.join(","),
                    "video watcher running"
                );
            }
            Err(e) => {
                *running = None;
                let message = match e {
                    StartError::Unsupported => {
                        "the video watcher is not available on this platform".to_string()
                    }
                    e => e.to_string(),
                };
                tracing::warn!("video watcher: {message}");
                self.set_state(false, Some(message));
            }
        }
        Ok(())
    }

    /// Turns sightings into suggestions until the watcher or the engine stops.
    async fn follow(self, mut sightings: mpsc::Receiver<Sighting>) {
        let mut stop = self.device.stopping();
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => break,
                sighting = sightings.recv() => match sighting {
                    Some(s) => {
                        if let Err(e) = self.sighted(s).await {
                            tracing::error!("a video sighting was not kept: {e}");
                        }
                    }
                    None => break,
                },
            }
        }
    }

    /// One sighting: skipped when its video was seen today already or rejected, published at
    /// once when its player is always allowed, else kept as a suggestion.
    pub(crate) async fn sighted(&self, s: Sighting) -> Result<(), EngineError> {
        let (key, day) = (s.key.clone(), local_day_key(s.at_ms()));
        let fresh = self
            .device
            .blocking(move |st| st.note_sighting(&key, &day))
            .await?;
        if !fresh {
            tracing::debug!(key = s.key, "video already suggested today, or rejected");
            return Ok(());
        }
        let kind = Kind::WatchedVideo {
            player: s.player.clone(),
            location: published_location(&s.target),
            title: s.title.clone().filter(|t| !t.trim().is_empty()),
        };
        let text = s.suggested_text();
        if let Some(rule) = self.rule_for(&s.player).await? {
            let mut published = 0;
            for id in &rule.contacts {
                let contact = match self.contacts.find(id.as_str()).await {
                    Ok(c) => c,
                    Err(EngineError::UnknownContact(_)) => continue,
                    Err(e) => return Err(e),
                };
                let entry = Prepared {
                    category: None,
                    kind: kind.clone(),
                    text: text.clone(),
                    visibility: Visibility::Visible,
                    source: Source::Watcher,
                    note: None,
                };
                self.panels.add(&contact, entry).await?;
                published += 1;
            }
            if published > 0 {
                tracing::info!(
                    player = s.player,
                    published,
                    "always-allowed video published"
                );
                return Ok(());
            }
        }
        let draft = Draft {
            id: DraftId::new(self.device.new_id("s", 8)),
            created: self.device.now(),
            contact: None,
            category: None,
            kind,
            text: text.clone(),
            visibility: Visibility::Visible,
            source: DraftSource::Watcher {
                player: s.player.clone(),
                location: s.target.clone(),
                via: via(s.source).to_string(),
                seen: Timestamp(s.at_ms()),
            },
            note: None,
        };
        let d = draft.clone();
        self.device.blocking(move |st| st.save_draft(&d)).await?;
        self.device.emit(Event::SuggestionAdded {
            draft: draft.id,
            text,
        });
        Ok(())
    }

    /// The always-allow rule that covers a player as a source named it, if any.
    async fn rule_for(&self, player: &str) -> Result<Option<AllowRule>, EngineError> {
        let rules = self.device.blocking(|s| s.allow_rules()).await?;
        Ok(rules
            .into_iter()
            .find(|r| player_matches(&r.player, player)))
    }

    /// The inbox as its window and `backstory inbox` show it.
    pub(crate) async fn view(&self) -> Result<InboxView, EngineError> {
        let suggestions = self
            .device
            .blocking(|s| s.drafts())
            .await?
            .into_iter()
            .filter(|d| d.source.is_suggestion())
            .collect();
        let rules = self.device.blocking(|s| s.allow_rules()).await?;
        Ok(InboxView {
            suggestions,
            rules,
            watcher: self.watcher_state(),
            default_to: self.default_to().await?,
        })
    }

    /// Who an approval goes to unless the author says otherwise: the contacts of the last
    /// approval that still exist, else the only contact there is.
    pub(crate) async fn default_to(&self) -> Result<Vec<ContactId>, EngineError> {
        let all = self.contacts.all().await?;
        let last: Vec<ContactId> = self
            .device
            .blocking(|s| s.setting(LAST_TO))
            .await?
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default();
        let kept: Vec<ContactId> = last
            .into_iter()
            .filter(|id| all.iter().any(|c| c.id == *id))
            .collect();
        Ok(match (kept.is_empty(), all.as_slice()) {
            (false, _) => kept,
            (true, [only]) => vec![only.id.clone()],
            (true, _) => Vec::new(),
        })
    }

    /// Remembers who the last approval went to, as the next one's default.
    pub(crate) async fn approved(&self, to: &[Contact]) -> Result<(), EngineError> {
        let ids: Vec<&ContactId> = to.iter().map(|c| &c.id).collect();
        let json = serde_json::to_string(&ids)
            .map_err(|e| EngineError::InvalidInput(format!("contacts: {e}")))?;
        self.device
            .blocking(move |s| s.set_setting(LAST_TO, &json))
            .await
    }

    /// Rejects a suggestion: it is discarded, and its video is never suggested again.
    pub(crate) async fn reject(&self, draft: &Draft) -> Result<(), EngineError> {
        let DraftSource::Watcher { location, .. } = &draft.source else {
            return Err(EngineError::InvalidInput(format!(
                "{} is not a suggestion of the video watcher; discard a draft with `backstory drafts rm`",
                draft.id
            )));
        };
        let key = target_key(location);
        let at = self.device.now().millis();
        self.device
            .blocking(move |s| s.reject_target(&key, at))
            .await?;
        Ok(())
    }

    /// Always allows a player's videos for these contacts (replacing its earlier rule).
    pub(crate) async fn allow(
        &self,
        player: &str,
        to: &[Contact],
    ) -> Result<AllowRule, EngineError> {
        let player = player.trim();
        if player.is_empty() || player.chars().count() > 200 || player.contains(',') {
            return Err(EngineError::InvalidInput(
                "name the player as the watcher does (mpv, vlc, …), without commas".into(),
            ));
        }
        if to.is_empty() {
            return Err(EngineError::InvalidInput(
                "say which contacts its videos go to".into(),
            ));
        }
        let rule = AllowRule {
            player: player.to_lowercase(),
            contacts: to.iter().map(|c| c.id.clone()).collect(),
            since: self.device.now(),
        };
        let r = rule.clone();
        self.device.blocking(move |s| s.set_allow_rule(&r)).await?;
        self.device.emit(Event::AllowRulesChanged);
        Ok(rule)
    }

    /// Stops always allowing a player: its videos are suggested again.
    pub(crate) async fn disallow(&self, player: &str) -> Result<(), EngineError> {
        let p = player.trim().to_string();
        if !self
            .device
            .blocking(move |s| s.remove_allow_rule(&p))
            .await?
        {
            return Err(EngineError::InvalidInput(format!(
                "`{player}` is not always allowed; `backstory inbox` lists the players that are"
            )));
        }
        self.device.emit(Event::AllowRulesChanged);
        Ok(())
    }

    /// Stops the watcher.
    pub(crate) async fn stop(&self) {
        self.watcher.lock().await.take();
    }
}

/// What a watched-video entry publishes as its location: a URL as it is; never a local path
/// (the author may keep it in the text if they want it seen).
fn published_location(target: &str) -> String {
    if target.starts_with('/') {
        String::new()
    } else {
        target.to_string()
    }
}

fn via(source: SightingSource) -> &'static str {
    match source {
        SightingSource::Poll => "poll",
        SightingSource::Mpris => "mpris",
        SightingSource::History => "history",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_never_published_as_locations() {
        assert_eq!(published_location("/home/ann/Videos/holiday.mkv"), "");
        assert_eq!(
            published_location("https://example.org/v/1"),
            "https://example.org/v/1"
        );
    }
}
