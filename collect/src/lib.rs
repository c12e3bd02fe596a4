//! # backstory-collect — the collectors
//!
//! Code that notices things on this device and hands them to the engine, which turns them into
//! suggestions and entries. No network identity, no documents, no windows: each collector takes
//! its configuration in and reports typed values out.
//!
//! - [`player`]: the video-player watcher (process poll, MPRIS over D-Bus, players' history files),
//!   reporting sightings of what was played.
//! - [`snapshot`]: link snapshots, fetched on the author's device with strict limits and a guard
//!   against requests to private addresses.
//! - [`screenshot`]: screen and window capture.

pub mod player;
pub mod screenshot;
pub mod snapshot;
