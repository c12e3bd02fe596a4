//! A start with many contacts. Publishing returns before the outbox's change is stored, so a
//! start used to publish every master again, loading every outbox. Now an outbox whose durable
//! state is known to hold its projection is not opened at all; one whose projection changed while
//! the engine was stopped (a rule came due) is still published again, and the recordings of my
//! voice comments stay fetchable by the contact either way.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backstory_core::clock::ManualClock;
use backstory_core::crdt::{EntryId, Timestamp, Visibility};
use backstory_core::feedback::AudioInput;
use backstory_core::net::NetworkMode;
use backstory_core::view::NewEntry;
use backstory_core::{Engine, Options, op};

mod common;
use common::{copy_dir, count_openings, opened, pair, sees, until};

const START: i64 = 1_900_000_000_000;
const HOUR: i64 = 3_600_000;

async fn open_at(dir: &Path, at: i64) -> Engine {
    let clock = Arc::new(ManualClock::new(Timestamp(at)));
    Engine::open_with(
        dir,
        Options::default().network(NetworkMode::Local).clock(clock),
    )
    .await
    .unwrap()
}

async fn named(dir: &Path, name: &str) -> Engine {
    let e = open_at(dir, START).await;
    e.run(op::SetName { name: name.into() }).await.unwrap();
    e
}

async fn post(e: &Engine, to: &str, text: &str, visibility: Visibility) -> EntryId {
    let mut entry = NewEntry::text(text);
    entry.visibility = visibility;
    e.run(op::PostEntry {
        contact: to.into(),
        entry,
    })
    .await
    .unwrap()
    .entry
}

/// The id of my panel for `name` (the contact's outbox).
async fn outbox_of(e: &Engine, name: &str) -> String {
    e.run(op::Inspect {})
        .await
        .unwrap()
        .into_iter()
        .find(|d| d.role.starts_with(&format!("my panel for {name} (")))
        .unwrap()
        .id
}

/// The outbox marks in a store: (outbox, recordings listed).
fn marks(dir: &Path) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(dir.join("backstory.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT outbox, comment_audio FROM outbox_marks")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_start_opens_only_the_outboxes_whose_projection_changed() {
    count_openings();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let ann = named(dirs[0].path(), "Ann").await;
    let bob = named(dirs[1].path(), "Bob").await;
    let carol = named(dirs[2].path(), "Carol").await;
    pair(&ann, &bob).await;
    pair(&ann, &carol).await;
    let mut locals = Vec::new();
    for i in 0..5 {
        let name = format!("Local {i}");
        ann.run(op::AddContact { name: name.clone() })
            .await
            .unwrap();
        post(&ann, &name, "kept here", Visibility::Visible).await;
        locals.push(outbox_of(&ann, &name).await);
    }
    // Bob sees one entry for an hour only: it goes while Ann's engine is stopped.
    post(&ann, "Bob", "always", Visibility::Visible).await;
    post(
        &ann,
        "Bob",
        "for an hour",
        Visibility::VisibleUntil(Timestamp(START + HOUR)),
    )
    .await;
    // Ann answers Carol's entry by voice, then posts to her.
    let trip = post(&carol, "Ann", "Carol's trip", Visibility::Visible).await;
    until("Ann to have Carol's entry", || async {
        sees(&ann, "Carol").await == ["Carol's trip"]
    })
    .await;
    let voice = dirs[0].path().join("answer.ogg");
    let sound: Vec<u8> = (0..30_000u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(&voice, &sound).unwrap();
    let spoken = ann
        .run(op::Comment {
            contact: "Carol".into(),
            entry: Some(trip),
            text: String::new(),
            audio: Some(AudioInput::File { path: voice }),
        })
        .await
        .unwrap();
    let recording = spoken.audio.clone().unwrap().hash;
    post(&ann, "Carol", "back home", Visibility::Visible).await;
    until("Bob to see both entries", || async {
        sees(&bob, "Ann").await == ["always", "for an hour"]
    })
    .await;
    let (bobs, carols) = (outbox_of(&ann, "Bob").await, outbox_of(&ann, "Carol").await);

    // Once each outbox's last publication is durable, it is marked, with my recordings.
    until("every outbox marked", || async {
        let m = marks(dirs[0].path());
        m.len() == 7
            && m.iter()
                .any(|(o, a)| *o == carols && a.contains(&recording))
    })
    .await;
    // Every engine stops: the count is of documents opened in this process, and the others
    // hold the same documents (Carol's copy of my panel for her has its id).
    for e in [ann, bob, carol] {
        e.shutdown().await;
    }

    // Two hours later Ann starts again, then the others.
    let _ = opened();
    let ann = open_at(dirs[0].path(), START + 2 * HOUR).await;
    let at_start = opened();
    let bob = open_at(dirs[1].path(), START + 2 * HOUR).await;
    let carol = open_at(dirs[2].path(), START + 2 * HOUR).await;
    eprintln!("documents opened by the start: {at_start:?}; Bob's {bobs}, Carol's {carols}");
    // (Carol's outbox may be opened by then all the same: following her panel reads what I have
    // shown her, in the background; the local contacts have nothing but the publication.)
    for outbox in &locals {
        assert!(
            !at_start.contains_key(outbox),
            "the start opened {outbox}, whose projection had not changed: {at_start:?}"
        );
    }
    assert!(
        at_start.contains_key(&bobs),
        "Bob's outbox, where a rule came due, was not published again: {at_start:?}"
    );
    until("the expired entry to leave Bob's view", || async {
        sees(&bob, "Ann").await == ["always"]
    })
    .await;
    // Carol may still fetch the recording, granted from the mark.
    let deadline = Instant::now() + Duration::from_secs(30);
    let fetched = loop {
        match carol
            .run(op::FetchCommentAudio {
                contact: "Ann".into(),
                comment: spoken.id.clone(),
                out: None,
            })
            .await
        {
            Ok(f) => break f,
            Err(e) => {
                assert!(
                    Instant::now() < deadline,
                    "Carol never got the recording: {e}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    assert_eq!(std::fs::read(&fetched.path).unwrap(), sound);
    for e in [ann, bob, carol] {
        e.shutdown().await;
    }
}

/// What the store of `dir` holds of a document, loaded from its stored chunks.
fn stored_entries(dir: &Path, doc: &str) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("backstory.db")).unwrap();
    let mut stmt = db
        .prepare(
            "SELECT data FROM docs WHERE (key > ?1 || '/incremental/' AND key < ?1 || '/incremental0')
             OR (key > ?1 || '/snapshot/' AND key < ?1 || '/snapshot0')
             ORDER BY key LIKE '%/snapshot/%' DESC, key",
        )
        .unwrap();
    let mut bytes = Vec::new();
    for chunk in stmt.query_map([doc], |r| r.get::<_, Vec<u8>>(0)).unwrap() {
        bytes.extend(chunk.unwrap());
    }
    let loaded = backstory_core::crdt::automerge::Automerge::load(&bytes).unwrap();
    backstory_core::crdt::read_panel(&loaded)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.text)
        .collect()
}

/// The crash a mark must survive: a publication reached the store, the one after it (back to
/// the projection the mark was made for) did not. The mark no longer vouches for the outbox, so
/// the start publishes again and the entry the master no longer shows leaves the outbox.
#[tokio::test(flavor = "multi_thread")]
async fn a_mark_vouches_for_nothing_once_a_later_publication_reached_the_store() {
    let root = tempfile::tempdir().unwrap();
    let (first, later) = (root.path().join("first"), root.path().join("later"));
    let ann = named(&first, "Ann").await;
    ann.run(op::AddContact { name: "Dan".into() })
        .await
        .unwrap();
    post(&ann, "Dan", "shown", Visibility::Visible).await;
    let outbox = outbox_of(&ann, "Dan").await;
    until("the outbox marked", || async { marks(&first).len() == 1 }).await;
    ann.shutdown().await;
    drop(ann);
    // `first` now holds the master, the outbox and its mark for ["shown"]. In a copy, a second
    // entry is published and reaches the store.
    copy_dir(&first, &later);
    let ann = open_at(&later, START).await;
    post(&ann, "Dan", "leaked", Visibility::Visible).await;
    ann.shutdown().await;
    drop(ann);
    assert_eq!(stored_entries(&later, &outbox), ["shown", "leaked"]);
    // Back in `first`: the master and the mark still say ["shown"], but the outbox's chunks
    // are those of the later publication, as if the one that took the entry out was lost.
    let db = rusqlite::Connection::open(first.join("backstory.db")).unwrap();
    db.execute(
        "ATTACH DATABASE ?1 AS later",
        [later.join("backstory.db").to_str().unwrap()],
    )
    .unwrap();
    db.execute(
        "INSERT OR IGNORE INTO docs SELECT key, data FROM later.docs
         WHERE key > ?1 || '/' AND key < ?1 || '0'",
        [&outbox],
    )
    .unwrap();
    drop(db);
    assert_eq!(stored_entries(&first, &outbox), ["shown", "leaked"]);

    let ann = open_at(&first, START).await;
    ann.shutdown().await;
    drop(ann);
    assert_eq!(
        stored_entries(&first, &outbox),
        ["shown"],
        "the start trusted a mark whose outbox had changed"
    );
}
