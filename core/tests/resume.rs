//! Sync resumes where it left off: two real engines on loopback, a long panel history, and the
//! viewer restarting. The heads both sides share are kept per peer, so reconnecting with nothing
//! new sends a few hundred bytes instead of a Bloom filter over the whole history; a viewer with
//! damaged sync records, or restored from an old backup, still catches up in full.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::time::{Duration, Instant};

use backstory_core::crdt::EntryId;
use backstory_core::net::{NetworkMode, PeerState};
use backstory_core::store::Store;
use backstory_core::view::{EntryEdit, NewEntry};
use backstory_core::{Engine, Options, op};

/// Edits in the history: a fresh sync state would send a Bloom filter of about 1.25 bytes per
/// change each way, so 4 000 changes cost over 10 KB to reconnect without the kept state.
const EDITS: usize = 4000;
/// What a reconnection with nothing new may cost, all documents and both directions together.
const RESUME_BUDGET: u64 = 3000;

mod common;

async fn open(dir: &Path) -> Engine {
    Engine::open_with(dir, Options::default().network(NetworkMode::Local))
        .await
        .unwrap()
}

async fn first_text(bob: &Engine) -> Option<String> {
    let p = bob
        .run(op::TheirPanel {
            contact: "Ann".into(),
        })
        .await
        .unwrap();
    p.changes.entries.first().map(|e| e.entry.text.clone())
}

/// Waits until Bob's first entry from Ann reads `want`, for up to 60 s.
async fn until_bob_sees(bob: &Engine, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while first_text(bob).await.as_deref() != Some(want) {
        assert!(Instant::now() < deadline, "Bob never saw {want:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn edit(ann: &Engine, entry: &EntryId, t: &str) {
    let e = EntryEdit {
        text: Some(t.into()),
        ..Default::default()
    };
    ann.run(op::EditEntry {
        entry: entry.clone(),
        edit: e,
    })
    .await
    .unwrap();
}

/// Bytes both engines send from Bob's start until the connection has been quiet for a while.
async fn restart_and_count(ann: &Engine, dir: &Path) -> (Engine, u64) {
    let a0 = ann.traffic();
    let bob = open(dir).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut last = (u64::MAX, u64::MAX);
    loop {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let now = (ann.traffic().sent, bob.traffic().sent);
        let online = ann.run(op::Contacts {}).await.unwrap()[0].state == PeerState::Online;
        if now == last && online {
            break;
        }
        assert!(Instant::now() < deadline, "the connection never settled");
        last = now;
    }
    (bob, last.0 - a0.sent + last.1)
}

/// Overwrites every kept sync state in the store at `dir` with junk; returns how many there were.
fn damage_sync_records(dir: &Path) -> usize {
    let store = Store::open(dir).unwrap();
    let mut n = 0;
    for id in store.doc_ids().unwrap() {
        for (key, _) in store.doc_range(&format!("{id}/sync-state")).unwrap() {
            store.doc_put(&key, b"not a sync state").unwrap();
            n += 1;
        }
    }
    n
}

#[tokio::test(flavor = "multi_thread")]
async fn reconnecting_resumes_from_the_shared_heads() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let backup = tempfile::tempdir().unwrap();
    let ann = open(a.path()).await;
    ann.run(op::SetName { name: "Ann".into() }).await.unwrap();
    let bob = open(b.path()).await;
    bob.run(op::SetName { name: "Bob".into() }).await.unwrap();
    common::pair(&ann, &bob).await;

    let entry = ann
        .run(op::PostEntry {
            contact: "Bob".into(),
            entry: NewEntry::text("edit 0"),
        })
        .await
        .unwrap()
        .entry;
    until_bob_sees(&bob, "edit 0").await;
    bob.shutdown().await;
    drop(bob);
    common::copy_dir(b.path(), backup.path());

    for i in 1..=EDITS {
        edit(&ann, &entry, &format!("edit {i}")).await;
    }
    let last = format!("edit {EDITS}");
    let (bob, _) = restart_and_count(&ann, b.path()).await;
    until_bob_sees(&bob, &last).await;
    bob.shutdown().await;
    drop(bob);

    // Nothing new on either side: the first messages carry an empty filter.
    let (bob, bytes) = restart_and_count(&ann, b.path()).await;
    assert_eq!(first_text(&bob).await.as_deref(), Some(last.as_str()));
    println!("reconnect with nothing new after {EDITS} changes: {bytes} bytes");
    assert!(
        bytes < RESUME_BUDGET,
        "reconnecting with nothing new sent {bytes} bytes"
    );

    // Something new while Bob was away still arrives, and from there the next resume is small too.
    bob.shutdown().await;
    drop(bob);
    edit(&ann, &entry, "while Bob was away").await;
    let (bob, _) = restart_and_count(&ann, b.path()).await;
    until_bob_sees(&bob, "while Bob was away").await;
    bob.shutdown().await;
    drop(bob);

    // Bob's records of what he shares with Ann are damaged: they are passed over, not trusted,
    // and what Ann wrote meanwhile arrives in full.
    let damaged = damage_sync_records(b.path());
    assert!(
        damaged >= 2,
        "Bob keeps a sync record per document he shares with Ann"
    );
    edit(&ann, &entry, "after the damage").await;
    let bob = open(b.path()).await;
    until_bob_sees(&bob, "after the damage").await;
    bob.shutdown().await;
    drop(bob);

    // Bob's device comes back from a backup taken before most of the history: Ann's record says
    // they share heads Bob no longer has. Sync falls back to a full exchange and Bob catches up.
    std::fs::remove_dir_all(b.path()).unwrap();
    common::copy_dir(backup.path(), b.path());
    let bob = open(b.path()).await;
    until_bob_sees(&bob, "after the damage").await;
    bob.shutdown().await;
    ann.shutdown().await;
}
