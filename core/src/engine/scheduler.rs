//! The scheduler: wakes when a visibility rule's time comes and publishes that contact's panel.

use std::time::Duration;

use super::{Engine, now};

/// Longest sleep, so that a wall-clock jump (a suspended laptop) is caught up within a minute.
const MAX_SLEEP: Duration = Duration::from_secs(60);

pub(super) async fn run(engine: Engine) {
    let mut stop = engine.inner.stop.subscribe();
    loop {
        let next = engine
            .inner
            .wakes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .min()
            .copied();
        let sleep = next.map_or(MAX_SLEEP, |t| {
            Duration::from_millis(t.millis().saturating_sub(now().millis()).max(0) as u64)
                .min(MAX_SLEEP)
        });
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = engine.inner.wake.notified() => continue,
            _ = tokio::time::sleep(sleep) => {
                if let Err(e) = engine.publish_due().await {
                    tracing::error!("scheduled publish failed: {e}");
                }
            }
        }
    }
}

impl Engine {
    /// Publishes every contact whose next rule flip has come.
    async fn publish_due(&self) -> Result<(), crate::error::EngineError> {
        let t = now();
        let due: Vec<_> = self
            .inner
            .wakes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .filter(|(_, at)| **at <= t)
            .map(|(c, _)| c.clone())
            .collect();
        if due.is_empty() {
            return Ok(());
        }
        let gate = self.inner.writes.lock().await;
        for contact in self.blocking(|s| s.contacts()).await? {
            if due.contains(&contact.id) {
                self.publish_contact(&gate, &contact).await?;
            }
        }
        Ok(())
    }
}
