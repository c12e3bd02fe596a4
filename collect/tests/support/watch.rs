//! What the watcher's tests share: settings over temporary folders, and waiting for sightings.

use std::path::Path;
use std::time::{Duration, Instant};

use backstory_collect::player::{Dirs, MIN_INTERVAL, Sighting, WatcherConfig};
use tokio::sync::mpsc;

/// Settings with every source off, the history folders under `root` and no session bus.
pub fn quiet_config(root: &Path) -> WatcherConfig {
    WatcherConfig {
        poll: false,
        interval: MIN_INTERVAL,
        players: Vec::new(),
        mpris: false,
        history: false,
        min_play: Duration::from_secs(60),
        dirs: Dirs {
            data_home: root.join("data"),
            config_home: root.join("config"),
            state_home: root.join("state"),
        },
        session_bus: Some("unix:path=/nonexistent/bus".to_owned()),
    }
}

/// The next sighting, waiting at most `patience` (generous: this is not a speed test). Prints
/// how long it took.
pub async fn next_sighting(
    sightings: &mut mpsc::Receiver<Sighting>,
    patience: Duration,
    what: &str,
) -> Sighting {
    let started = Instant::now();
    let sighting = tokio::time::timeout(patience, sightings.recv())
        .await
        .unwrap_or_else(|_| panic!("no sighting within {patience:?}: {what}"))
        .expect("the watcher stopped");
    println!("{what}: sighting after {:?}", started.elapsed());
    sighting
}
