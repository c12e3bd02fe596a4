//! The work one incoming change causes: Ann has many contacts, two of them paired and sharing a
//! panel; when Bob edits his, Ann's engine opens Bob's documents and no other contact's, and the
//! card a window reads again for him touches his documents alone; the whole list reads the
//! documents of the paired contacts only. The documents opened are counted (the engine reports
//! each opening under `backstory_core::stage::WORK_TARGET`), not timed.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::{Duration, Instant};

use backstory_core::view::{EntryEdit, NewEntry};
use backstory_core::{Engine, Event, op};

mod common;
use common::{count_openings, engine, opened, pair, sees};

async fn post(e: &Engine, to: &str, text: &str) -> backstory_core::crdt::EntryId {
    e.run(op::PostEntry {
        contact: to.into(),
        entry: NewEntry::text(text),
    })
    .await
    .unwrap()
    .entry
}

async fn until_sees(e: &Engine, of: &str, want: &[&str]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sees(e, of).await != want {
        assert!(
            Instant::now() < deadline,
            "{of}'s panel never showed {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Ann's documents for one contact: (my panel for them, theirs for me).
async fn docs_of(ann: &Engine, name: &str) -> Vec<String> {
    ann.run(op::Inspect {})
        .await
        .unwrap()
        .into_iter()
        .filter(|d| {
            d.role.contains(&format!(" {name} (")) || d.role.starts_with(&format!("{name}'s"))
        })
        .map(|d| d.id)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn one_incoming_change_opens_that_contacts_documents_only() {
    count_openings();
    let dirs: Vec<_> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    let ann = engine(dirs[0].path(), "Ann").await;
    let bob = engine(dirs[1].path(), "Bob").await;
    let carol = engine(dirs[2].path(), "Carol").await;
    pair(&ann, &bob).await;
    pair(&ann, &carol).await;
    for i in 0..20 {
        let name = format!("Local {i}");
        ann.run(op::AddContact { name: name.clone() })
            .await
            .unwrap();
        post(&ann, &name, "kept here").await;
    }
    let entry = post(&bob, "Ann", "Bob's first").await;
    post(&carol, "Ann", "Carol's first").await;
    post(&ann, "Bob", "for Bob").await;
    post(&ann, "Carol", "for Carol").await;
    until_sees(&ann, "Bob", &["Bob's first"]).await;
    until_sees(&ann, "Carol", &["Carol's first"]).await;
    let bobs = docs_of(&ann, "Bob").await;
    assert_eq!(bobs.len(), 2, "Ann holds two documents for Bob");

    // Everything settles (the first sync, receipts, the state of each connection).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut events = ann.subscribe();
    let _ = opened();

    bob.run(op::EditEntry {
        entry,
        edit: EntryEdit {
            text: Some("Bob, told again".into()),
            ..Default::default()
        },
    })
    .await
    .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let bob_id = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(Event::PanelReceived { contact, .. })) => break contact,
            Ok(_) => {}
            Err(_) => panic!("Ann was never told of Bob's change"),
        }
    };
    // What a window does on that event: read that contact's card again.
    let card = ann
        .run(op::Contact {
            contact: bob_id.as_str().to_string(),
        })
        .await
        .unwrap();
    assert_eq!(card.theirs.unseen, 1);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let work = opened();
    eprintln!("documents opened after one incoming change: {work:?}");
    assert!(!work.is_empty(), "nothing was counted");
    for doc in work.keys() {
        assert!(
            bobs.contains(doc),
            "an edit of Bob's opened {doc}, which is not his: {work:?}"
        );
    }

    // The whole list reads the paired contacts' documents (what they wrote, what they saw of
    // mine); the contacts with nothing shared have nothing to read but their masters.
    let carols = docs_of(&ann, "Carol").await;
    let _ = opened();
    ann.run(op::Contacts {}).await.unwrap();
    let all = opened();
    eprintln!("documents opened by the whole list: {all:?}");
    for doc in all.keys() {
        assert!(
            bobs.contains(doc) || carols.contains(doc),
            "the list opened {doc}, a document of a contact with nothing shared: {all:?}"
        );
    }
    for paired in [&bobs, &carols] {
        assert!(
            paired.iter().any(|d| all.contains_key(d)),
            "the list did not read {paired:?}: {all:?}"
        );
    }
    for e in [ann, bob, carol] {
        e.shutdown().await;
    }
}
