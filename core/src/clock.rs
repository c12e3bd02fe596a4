//! Time and randomness, handed to the engine so tests can move time instead of waiting for it.
//!
//! Production uses [`SystemClock`] and [`SystemRng`]. Tests use a [`ManualClock`], which only moves
//! when told to, and a [`SeededRng`]. A `backstory node` (or the app) runs on a manual clock when
//! `BACKSTORY_TEST_CLOCK` holds a start instant in milliseconds since the epoch; the `advance_clock`
//! operation then moves it. Nothing else in the engine reads the wall clock.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use backstory_crdt::Timestamp;
use futures::future::BoxFuture;
use tokio::sync::watch;

/// The environment variable that starts an engine on a manual clock at the given instant (ms).
pub const TEST_CLOCK_ENV: &str = "BACKSTORY_TEST_CLOCK";

/// Where the engine gets the time.
pub trait Clock: Send + Sync + std::fmt::Debug + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;

    /// Resolves once [`Clock::now`] has reached `at` (at once if it has).
    fn sleep_until(&self, at: Timestamp) -> BoxFuture<'static, ()>;

    /// Moves a manual clock forward; the system clock refuses.
    fn advance(&self, by: Duration) -> Result<Timestamp, ClockError> {
        let _ = by;
        Err(ClockError::NotManual)
    }
}

/// Why the clock could not be moved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClockError {
    /// The engine runs on the system clock.
    #[error(
        "this engine runs on the system clock; only an engine started with {TEST_CLOCK_ENV} can be moved"
    )]
    NotManual,
    /// The start instant in the environment did not parse.
    #[error("{TEST_CLOCK_ENV} must be milliseconds since the epoch, not `{0}`")]
    BadStart(String),
}

/// The wall clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

/// The longest single sleep: a wall-clock jump (a suspended laptop) is caught within a minute.
const MAX_SLEEP: Duration = Duration::from_secs(60);

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        Timestamp(ms)
    }

    fn sleep_until(&self, at: Timestamp) -> BoxFuture<'static, ()> {
        let clock = *self;
        Box::pin(async move {
            loop {
                let left = at.millis().saturating_sub(clock.now().millis());
                if left <= 0 {
                    return;
                }
                let left = Duration::from_millis(u64::try_from(left).unwrap_or(u64::MAX));
                tokio::time::sleep(left.min(MAX_SLEEP)).await;
            }
        })
    }
}

/// A clock that stands still until [`Clock::advance`] moves it.
#[derive(Clone, Debug)]
pub struct ManualClock {
    now: Arc<watch::Sender<Timestamp>>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: Timestamp) -> Self {
        Self {
            now: Arc::new(watch::Sender::new(start)),
        }
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.now.borrow()
    }

    fn sleep_until(&self, at: Timestamp) -> BoxFuture<'static, ()> {
        let mut rx = self.now.subscribe();
        Box::pin(async move {
            // The sender lives as long as the clock; if it is gone, nothing will ever move it.
            if rx.wait_for(|now| *now >= at).await.is_err() {
                futures::future::pending::<()>().await;
            }
        })
    }

    fn advance(&self, by: Duration) -> Result<Timestamp, ClockError> {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let mut now = Timestamp(0);
        self.now.send_modify(|t| {
            *t = t.plus_millis(by);
            now = *t;
        });
        Ok(now)
    }
}

/// The clock an engine should run on: a manual one when [`TEST_CLOCK_ENV`] is set, else the
/// system clock.
pub fn from_env() -> Result<Arc<dyn Clock>, ClockError> {
    match std::env::var(TEST_CLOCK_ENV) {
        Ok(v) if !v.trim().is_empty() => {
            let start: i64 = v.trim().parse().map_err(|_| ClockError::BadStart(v))?;
            Ok(Arc::new(ManualClock::new(Timestamp(start))))
        }
        _ => Ok(Arc::new(SystemClock)),
    }
}

/// Where the engine gets randomness (ids, ticket secrets).
pub trait Rng: Send + Sync + std::fmt::Debug + 'static {
    /// Fills `buf` with random bytes.
    fn fill(&self, buf: &mut [u8]);
}

/// The operating system's randomness.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemRng;

impl Rng for SystemRng {
    fn fill(&self, buf: &mut [u8]) {
        rand::Rng::fill(&mut rand::rng(), buf);
    }
}

/// A repeatable generator for tests.
#[derive(Debug)]
pub struct SeededRng(Mutex<rand::rngs::StdRng>);

impl SeededRng {
    /// A generator that always yields the same bytes for the same seed.
    pub fn new(seed: u64) -> Self {
        Self(Mutex::new(rand::SeedableRng::seed_from_u64(seed)))
    }
}

impl Rng for SeededRng {
    fn fill(&self, buf: &mut [u8]) {
        let mut rng = self.0.lock().unwrap_or_else(|p| p.into_inner());
        rand::RngCore::fill_bytes(&mut *rng, buf);
    }
}

/// A fresh id: `prefix` and `bytes` random bytes in hex.
pub fn random_id(rng: &dyn Rng, prefix: &str, bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rng.fill(&mut buf);
    format!("{prefix}{}", hex::encode(buf))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn a_manual_clock_wakes_sleepers_when_moved_past_their_instant() {
        let clock = ManualClock::new(Timestamp(1_000));
        let sleeper = tokio::spawn(clock.sleep_until(Timestamp(5_000)));
        clock.advance(Duration::from_millis(3_000)).unwrap();
        tokio::task::yield_now().await;
        assert!(!sleeper.is_finished(), "woke before its instant");
        assert_eq!(
            clock.advance(Duration::from_millis(1_000)).unwrap(),
            Timestamp(5_000)
        );
        tokio::time::timeout(Duration::from_secs(5), sleeper)
            .await
            .expect("the sleeper woke")
            .unwrap();
    }

    #[test]
    fn the_system_clock_cannot_be_moved_and_seeded_ids_repeat() {
        assert_eq!(
            SystemClock.advance(Duration::from_secs(1)),
            Err(ClockError::NotManual)
        );
        let (a, b) = (SeededRng::new(7), SeededRng::new(7));
        assert_eq!(random_id(&a, "e", 8), random_id(&b, "e", 8));
        assert_ne!(random_id(&a, "e", 8), random_id(&b, "c", 8));
    }
}
