//! The watcher: one task owning the process poll and the de-duplication, fed by the MPRIS and
//! history sources, answering its handle's requests. Dropping the handle stops everything.

use tokio::sync::{mpsc, oneshot};

use super::config::{ConfigError, WatcherConfig};
use super::sighting::Sighting;

/// Why the watcher could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Not Linux.
    #[error("the video watcher is not available on this platform")]
    Unsupported,
    /// The settings were refused.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The process list could not be opened.
    #[error("the process list cannot be read: {0}")]
    ProcessList(String),
}

/// Why new settings were not applied.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconfigureError {
    /// The settings were refused; the old ones stay.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The watcher has stopped (the receiver of its sightings was dropped).
    #[error("the video watcher has stopped")]
    Stopped,
}

/// Why a poll asked for did not run.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollError {
    /// The process poll is turned off in the settings.
    #[error("the process poll is turned off")]
    Off,
    /// The watcher has stopped (the receiver of its sightings was dropped).
    #[error("the video watcher has stopped")]
    Stopped,
}

/// A request to the watcher's task.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
enum Command {
    Reconfigure(Box<WatcherConfig>, oneshot::Sender<()>),
    PollNow(oneshot::Sender<Result<usize, PollError>>),
}

/// The running watcher. Sightings arrive on the receiver returned by [`Watcher::start`];
/// dropping this handle stops the watcher and its sources.
#[derive(Debug)]
pub struct Watcher {
    commands: mpsc::Sender<Command>,
}

/// How many sightings may wait for the engine before the watcher waits too.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
const WAITING: usize = 64;

impl Watcher {
    /// Starts watching with these settings, in the current Tokio runtime. Returns once every
    /// source is ready: the history files' contents at start are remembered (only later
    /// additions are reported) and the MPRIS players present are known. The first process poll
    /// runs before this returns (its sightings come first on the receiver), then every
    /// `interval`. A source that cannot run (no session bus, a folder
    /// that cannot be watched) is logged and left off; the others keep working.
    pub async fn start(
        config: WatcherConfig,
    ) -> Result<(Watcher, mpsc::Receiver<Sighting>), StartError> {
        config.check()?;
        #[cfg(target_os = "linux")]
        {
            let (commands, inbox) = mpsc::channel(8);
            let (out, sightings) = mpsc::channel(WAITING);
            let task = linux::Task::start(config, inbox, out).await?;
            tokio::spawn(task.run());
            Ok((Watcher { commands }, sightings))
        }
        #[cfg(not(target_os = "linux"))]
        {
            Err(StartError::Unsupported)
        }
    }

    /// Applies new settings: sources turned off stop, sources whose settings changed restart
    /// (a restarted history source remembers the files as they are then), and the poll follows
    /// the new interval and players. Returns once the restarted sources are ready.
    pub async fn reconfigure(&self, config: WatcherConfig) -> Result<(), ReconfigureError> {
        config.check()?;
        let (reply, done) = oneshot::channel();
        self.commands
            .send(Command::Reconfigure(Box::new(config), reply))
            .await
            .map_err(|_| ReconfigureError::Stopped)?;
        done.await.map_err(|_| ReconfigureError::Stopped)
    }

    /// Polls the processes now, without waiting for the interval. Returns how many new
    /// sightings the poll passed on (after de-duplication).
    pub async fn poll_now(&self) -> Result<usize, PollError> {
        let (reply, done) = oneshot::channel();
        self.commands
            .send(Command::PollNow(reply))
            .await
            .map_err(|_| PollError::Stopped)?;
        done.await.map_err(|_| PollError::Stopped)?
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::time::Duration;

    use tokio::sync::{mpsc, oneshot};
    use tokio::task::{AbortHandle, JoinSet};
    use tokio::time::{Instant, MissedTickBehavior, interval_at};

    use super::{Command, PollError, StartError};
    use crate::player::config::{PlayerName, WatcherConfig};
    use crate::player::history::{self, now_ms};
    use crate::player::mpris;
    use crate::player::poll::ProcessPoll;
    use crate::player::sighting::{Seen, Sighting};

    /// How long a source may take to get ready before the watcher goes on without waiting.
    const READY: Duration = Duration::from_secs(10);

    /// The watcher's task and everything it owns.
    pub(super) struct Task {
        config: WatcherConfig,
        inbox: mpsc::Receiver<Command>,
        out: mpsc::Sender<Sighting>,
        found_tx: mpsc::Sender<Sighting>,
        found: mpsc::Receiver<Sighting>,
        seen: Seen,
        poll: Option<ProcessPoll>,
        sources: JoinSet<()>,
        mpris: Option<AbortHandle>,
        history: Option<AbortHandle>,
        /// What the poll made during the start, passed on once the task runs.
        first_poll: Vec<Sighting>,
    }

    impl Task {
        pub async fn start(
            config: WatcherConfig,
            inbox: mpsc::Receiver<Command>,
            out: mpsc::Sender<Sighting>,
        ) -> Result<Self, StartError> {
            let players = config.players.clone();
            let poll = tokio::task::spawn_blocking(move || ProcessPoll::new(&players))
                .await
                .map_err(|error| StartError::ProcessList(error.to_string()))?
                .map_err(|error| StartError::ProcessList(error.to_string()))?;
            let (found_tx, found) = mpsc::channel(super::WAITING);
            let mut task = Self {
                config,
                inbox,
                out,
                found_tx,
                found,
                seen: Seen::default(),
                poll: Some(poll),
                sources: JoinSet::new(),
                mpris: None,
                history: None,
                first_poll: Vec::new(),
            };
            let mut ready = Vec::new();
            ready.extend(task.start_mpris());
            ready.extend(task.start_history());
            wait_ready(ready).await;
            if task.config.poll {
                task.first_poll = task.poll_processes().await;
            }
            Ok(task)
        }

        fn players(&self) -> Vec<PlayerName> {
            self.config
                .players
                .iter()
                .map(|player| PlayerName::parse(player))
                .collect()
        }

        /// Starts the MPRIS source if it is on; the receiver tells when it is ready.
        fn start_mpris(&mut self) -> Option<oneshot::Receiver<()>> {
            if let Some(running) = self.mpris.take() {
                running.abort();
            }
            if !self.config.mpris {
                return None;
            }
            let settings = mpris::Settings {
                players: self.players(),
                min_play: self.config.min_play,
                address: self.config.session_bus.clone(),
            };
            let (ready, is_ready) = oneshot::channel();
            let found = self.found_tx.clone();
            self.mpris = Some(self.sources.spawn(mpris::run(settings, found, ready)));
            Some(is_ready)
        }

        /// Starts the history source if it is on; the receiver tells when it is ready.
        fn start_history(&mut self) -> Option<oneshot::Receiver<()>> {
            if let Some(running) = self.history.take() {
                running.abort();
            }
            if !self.config.history {
                return None;
            }
            let (ready, is_ready) = oneshot::channel();
            let found = self.found_tx.clone();
            let run = history::run(self.config.dirs.clone(), self.players(), found, ready);
            self.history = Some(self.sources.spawn(run));
            Some(is_ready)
        }

        /// Runs until the handle is dropped or the receiver of the sightings is.
        pub async fn run(mut self) {
            for sighting in std::mem::take(&mut self.first_poll) {
                self.pass_on(sighting).await;
            }
            let mut timer = self.timer(Instant::now() + self.config.interval);
            loop {
                tokio::select! {
                    biased;
                    command = self.inbox.recv() => match command {
                        None => break,
                        Some(Command::Reconfigure(config, reply)) => {
                            let (poll, interval) = (self.config.poll, self.config.interval);
                            self.reconfigure(*config).await;
                            if self.config.poll && !poll {
                                timer = self.timer(Instant::now());
                            } else if self.config.interval != interval {
                                timer = self.timer(Instant::now() + self.config.interval);
                            }
                            let _ = reply.send(());
                        }
                        Some(Command::PollNow(reply)) => {
                            let result = if self.config.poll {
                                Ok(self.poll().await)
                            } else {
                                Err(PollError::Off)
                            };
                            let _ = reply.send(result);
                        }
                    },
                    _ = timer.tick(), if self.config.poll => {
                        self.poll().await;
                    }
                    Some(sighting) = self.found.recv() => {
                        self.pass_on(sighting).await;
                    }
                    Some(_) = self.sources.join_next(), if !self.sources.is_empty() => {}
                }
                if self.out.is_closed() {
                    break;
                }
            }
            tracing::debug!("video watcher stopped");
        }

        fn timer(&self, first: Instant) -> tokio::time::Interval {
            let mut timer = interval_at(first, self.config.interval);
            timer.set_missed_tick_behavior(MissedTickBehavior::Delay);
            timer
        }

        /// Passes a sighting on if it is the first of its key today; whether it was.
        async fn pass_on(&mut self, sighting: Sighting) -> bool {
            if !self.seen.first_of_day(&sighting, now_ms()) {
                tracing::trace!(key = sighting.key, "sighting already reported today");
                return false;
            }
            self.out.send(sighting).await.is_ok()
        }

        /// One process poll in a blocking thread; how many sightings were passed on.
        async fn poll(&mut self) -> usize {
            let mut passed = 0;
            for sighting in self.poll_processes().await {
                if self.pass_on(sighting).await {
                    passed += 1;
                }
            }
            passed
        }

        /// One process poll in a blocking thread: what the new player processes play.
        async fn poll_processes(&mut self) -> Vec<Sighting> {
            let poll = match self.poll.take() {
                Some(poll) => Ok(poll),
                None => {
                    let players = self.config.players.clone();
                    tokio::task::spawn_blocking(move || ProcessPoll::new(&players))
                        .await
                        .map_err(|error| error.to_string())
                        .and_then(|poll| poll.map_err(|error| error.to_string()))
                }
            };
            let mut poll = match poll {
                Ok(poll) => poll,
                Err(error) => {
                    tracing::warn!(%error, "process poll: the process list cannot be read");
                    return Vec::new();
                }
            };
            let result = tokio::task::spawn_blocking(move || {
                let found = poll.poll(now_ms());
                (poll, found)
            })
            .await;
            let Ok((poll, found)) = result else {
                tracing::error!("process poll: failed; the next one starts afresh");
                return Vec::new();
            };
            self.poll = Some(poll);
            found
        }

        async fn reconfigure(&mut self, config: WatcherConfig) {
            let old = std::mem::replace(&mut self.config, config);
            let new = &self.config;
            if old.players != new.players
                && let Some(mut poll) = self.poll.take()
            {
                let players = new.players.clone();
                let updated = tokio::task::spawn_blocking(move || {
                    poll.set_players(&players);
                    poll
                })
                .await;
                self.poll = updated.ok();
            }
            let mut ready = Vec::new();
            let mpris_changed = old.mpris != new.mpris
                || old.players != new.players
                || old.min_play != new.min_play
                || old.session_bus != new.session_bus;
            if mpris_changed {
                ready.extend(self.start_mpris());
            }
            let history_changed = old.history != self.config.history
                || old.players != self.config.players
                || old.dirs != self.config.dirs;
            if history_changed {
                ready.extend(self.start_history());
            }
            wait_ready(ready).await;
        }
    }

    /// Waits until each source is ready (or has given up), for at most [`READY`].
    async fn wait_ready(ready: Vec<oneshot::Receiver<()>>) {
        let all = async {
            for source in ready {
                let _ = source.await;
            }
        };
        if tokio::time::timeout(READY, all).await.is_err() {
            tracing::warn!("video watcher: a source is slow to start; going on without it");
        }
    }
}
