//! The scheduler: waits on the engine's clock until a visibility rule's time comes, and publishes
//! that contact's panel. On a test clock it wakes the moment the clock is moved past the instant.

use super::device::Device;
use super::panels::Panels;

pub(crate) async fn run(device: Device, panels: Panels) {
    let mut stop = device.stopping();
    loop {
        let (next, wake) = panels.next_wake();
        let notified = wake.notified();
        tokio::pin!(notified);
        // Registered before the sleep is chosen, so a schedule change in between is not missed.
        notified.as_mut().enable();
        let sleep = async {
            match next {
                Some(t) => device.clock().sleep_until(t).await,
                None => futures::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = stop.changed() => break,
            _ = &mut notified => continue,
            _ = sleep => {
                let due = async {
                    let contacts = device.blocking(|s| s.contacts()).await?;
                    panels.publish_due(&contacts).await
                };
                if let Err(e) = due.await {
                    tracing::error!("scheduled publish failed: {e}");
                    // Not in a tight loop: the instant stays due until the write succeeds.
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                }
            }
        }
    }
}
