//! Visibility rules on the engine's clock: with a manual clock, moving time past a `reveal_after`
//! or `visible_until` instant changes what the contact sees at once — no waiting for wall time.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::Arc;
use std::time::Duration;

use backstory_core::clock::{ManualClock, SeededRng};
use backstory_core::crdt::{Timestamp, Visibility};
use backstory_core::net::NetworkMode;
use backstory_core::view::NewEntry;
use backstory_core::{Engine, Event, Options, op};

const START: i64 = 1_900_000_000_000;
const HOUR: u64 = 3_600_000;

async fn seen_by_bob(e: &Engine) -> Vec<String> {
    e.run(op::Preview {
        contact: "Bob".into(),
    })
    .await
    .unwrap()
    .panel
    .entries
    .into_iter()
    .map(|e| e.text)
    .collect()
}

/// Moves the clock and waits for the scheduler's publication it causes (an event, not a sleep).
async fn advance_and_publish(e: &Engine, events: &mut tokio::sync::broadcast::Receiver<Event>) {
    e.run(op::AdvanceClock { millis: HOUR }).await.unwrap();
    let published = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Event::PanelPublished { .. } = events.recv().await.unwrap() {
                return;
            }
        }
    })
    .await;
    assert!(published.is_ok(), "moving the clock published nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn moving_the_clock_reveals_and_expires_entries_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(Timestamp(START)));
    let options = Options::default()
        .network(NetworkMode::Local)
        .clock(clock)
        .rng(Arc::new(SeededRng::new(1)));
    let e = Engine::open_with(dir.path(), options).await.unwrap();
    e.run(op::AddContact { name: "Bob".into() }).await.unwrap();
    let post = |text: &str, visibility| op::PostEntry {
        contact: "Bob".into(),
        entry: NewEntry::text(text).with_visibility(visibility),
    };
    e.run(post("always", Visibility::Visible)).await.unwrap();
    e.run(post(
        "after an hour",
        Visibility::RevealAfter(Timestamp(START + HOUR as i64)),
    ))
    .await
    .unwrap();
    e.run(post(
        "for two hours",
        Visibility::VisibleUntil(Timestamp(START + 2 * HOUR as i64)),
    ))
    .await
    .unwrap();
    assert_eq!(seen_by_bob(&e).await, ["always", "for two hours"]);
    let panel = e
        .run(op::MyPanel {
            contact: "Bob".into(),
        })
        .await
        .unwrap();
    assert_eq!(panel.visible, 2);
    assert_eq!(panel.next_change, Some(Timestamp(START + HOUR as i64)));

    let mut events = e.subscribe();
    advance_and_publish(&e, &mut events).await;
    assert_eq!(
        seen_by_bob(&e).await,
        ["always", "after an hour", "for two hours"]
    );
    advance_and_publish(&e, &mut events).await;
    assert_eq!(seen_by_bob(&e).await, ["always", "after an hour"]);
    assert_eq!(
        e.run(op::Clock {}).await.unwrap(),
        Timestamp(START + 2 * HOUR as i64)
    );
    e.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_system_clock_cannot_be_moved() {
    let dir = tempfile::tempdir().unwrap();
    let e = Engine::open_with(dir.path(), Options::default().network(NetworkMode::Local))
        .await
        .unwrap();
    let err = e.run(op::AdvanceClock { millis: 1 }).await.unwrap_err();
    assert_eq!(err.code, backstory_core::ErrorCode::InvalidInput);
    assert!(err.message.contains("system clock"), "{}", err.message);
    e.shutdown().await;
}
