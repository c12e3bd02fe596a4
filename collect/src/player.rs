//! The video-player watcher: notices what video players play on this device and reports typed
//! [`Sighting`]s, which the engine turns into suggestions the author approves or rejects.
//! Nothing here leaves the device.
//!
//! Three sources feed one stream:
//! 1. the **process poll** (every [`WatcherConfig::interval`], 10 minutes by default, 5 s at
//!    least): the configured players among the processes not seen at the previous poll, and the
//!    URLs and files their command lines name ([`parse_command_line`]);
//! 2. **MPRIS** over the D-Bus session bus: every `org.mpris.MediaPlayer2.*` player that is a
//!    configured one, followed live, reported when a video starts playing (not when a player
//!    appears paused, as a restored session does; not when the length is under
//!    [`WatcherConfig::min_play`]);
//! 3. the players' **history files**, their folders watched: GTK's `recently-used.xbel`
//!    (video MIME types opened by a configured player), VLC's recent list, mpv's watch history
//!    and `watch_later/`. What they held at start is not reported, only what is added after.
//!
//! Within one run, a video (its [`target_key`]) is reported once per day ([`local_day_key`])
//! whichever sources see it; the engine keeps the same rule durably with the same functions.
//!
//! # Driving it
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use backstory_collect::player::{Watcher, WatcherConfig};
//!
//! let (watcher, mut sightings) = Watcher::start(WatcherConfig::default()).await?;
//! while let Some(sighting) = sightings.recv().await {
//!     println!("{}: {}", sighting.player, sighting.suggested_text());
//! }
//! # drop(watcher);
//! # Ok(())
//! # }
//! ```
//! The handle applies new settings ([`Watcher::reconfigure`]) and polls on demand
//! ([`Watcher::poll_now`]); dropping it stops the watcher. Off Linux, [`Watcher::start`] says
//! the watcher is not available on this platform.

mod command_line;
mod config;
mod sighting;
mod watcher;

#[cfg(target_os = "linux")]
mod history;
#[cfg(target_os = "linux")]
mod mpris;
#[cfg(target_os = "linux")]
mod poll;

pub use command_line::parse_command_line;
pub use config::{
    ConfigError, DEFAULT_INTERVAL, DEFAULT_MIN_PLAY, DEFAULT_PLAYERS, Dirs, MIN_INTERVAL,
    WatcherConfig, player_matches,
};
pub use sighting::{Sighting, SightingSource, day_key, local_day_key, target_key};
pub use watcher::{PollError, ReconfigureError, StartError, Watcher};
