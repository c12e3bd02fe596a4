//! The work one incoming change causes: Ann has many contacts, two of them paired and sharing a
//! panel; when Bob edits his, Ann's engine opens Bob's documents and no other contact's, and the
//! card a window reads again for him touches his documents alone. The documents opened are
//! counted (the engine reports each opening under `backstory_core::stage::WORK_TARGET`), not
//! timed.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use backstory_core::view::{EntryEdit, NewEntry};
use backstory_core::{Engine, Event, op, stage};
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

mod common;
use common::{engine, pair};

static OPENED: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Counter;

struct Doc(Option<String>);

impl Visit for Doc {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "doc" {
            self.0 = Some(value.to_string());
        }
    }
    fn record_debug(&mut self, _: &Field, _: &dyn std::fmt::Debug) {}
}

impl<S: tracing::Subscriber> Layer<S> for Counter {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let mut doc = Doc(None);
        event.record(&mut doc);
        if let Some(d) = doc.0 {
            OPENED.lock().unwrap().push(d);
        }
    }
}

/// How many times each document was opened since the last call.
fn opened() -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for d in OPENED.lock().unwrap().drain(..) {
        *out.entry(d).or_default() += 1;
    }
    out
}

async fn post(e: &Engine, to: &str, text: &str) -> backstory_core::crdt::EntryId {
    e.run(op::PostEntry {
        contact: to.into(),
        entry: NewEntry::text(text),
    })
    .await
    .unwrap()
    .entry
}

async fn sees(e: &Engine, of: &str) -> Vec<String> {
    e.run(op::TheirPanel { contact: of.into() })
        .await
        .unwrap()
        .changes
        .entries
        .iter()
        .map(|c| c.entry.text.clone())
        .collect()
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
    let only_work = tracing_subscriber::filter::Targets::new()
        .with_target(stage::WORK_TARGET, tracing::Level::TRACE);
    tracing_subscriber::registry()
        .with(Counter.with_filter(only_work))
        .init();
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

    // The count sees every contact when the whole list is read.
    ann.run(op::Contacts {}).await.unwrap();
    let all = opened();
    assert!(
        all.len() >= 24,
        "the whole list opened only {} documents",
        all.len()
    );
    for e in [ann, bob, carol] {
        e.shutdown().await;
    }
}
