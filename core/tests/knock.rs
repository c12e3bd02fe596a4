//! Of two contacts only the one with the smaller endpoint id dials, and while the other is away it
//! redials with backoff, up to seconds apart. The other, coming back, knocks: the dialing side
//! dials again at once instead of at its next backoff.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::Duration;

use backstory_core::net::PeerState;
use backstory_core::{Engine, op};

mod common;

async fn state(e: &Engine) -> PeerState {
    e.run(op::Contacts {}).await.unwrap()[0].state
}

#[tokio::test(flavor = "multi_thread")]
async fn the_side_that_waits_to_be_dialed_knocks_when_it_comes_back() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let x = common::engine(a.path(), "X").await;
    let y = common::engine(b.path(), "Y").await;
    common::pair(&x, &y).await;
    // The side with the smaller id dials; the other waits to be dialed.
    let ((dialer, _), (waiter, waiter_dir)) = if x.id() < y.id() {
        ((x, a), (y, b))
    } else {
        ((y, b), (x, a))
    };
    common::until("both online", || async {
        state(&dialer).await == PeerState::Online && state(&waiter).await == PeerState::Online
    })
    .await;
    // (The waiting side knocked at pairing too: whether that came before the first dial got
    // through is a race.)
    let before = dialer.traffic().redials_on_knock;

    // Away long enough for the dialing side's backoff to reach seconds.
    waiter.shutdown().await;
    drop(waiter);
    common::until("the waiting side offline", || async {
        state(&dialer).await == PeerState::Offline
    })
    .await;
    tokio::time::sleep(Duration::from_secs(8)).await;

    let waiter = common::engine(waiter_dir.path(), "W").await;
    common::until("both online again", || async {
        state(&dialer).await == PeerState::Online && state(&waiter).await == PeerState::Online
    })
    .await;
    assert_eq!(
        dialer.traffic().redials_on_knock,
        before + 1,
        "the dialing side dialed again at the knock"
    );
    waiter.shutdown().await;
    dialer.shutdown().await;
}
