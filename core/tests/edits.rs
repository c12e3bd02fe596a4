//! Changes to my panels build on what was saved: a change refused half-way leaves nothing
//! behind for the next one, whether the engine keeps the panel decoded between changes or reads
//! it again.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_core::crdt::{CategoryId, Visibility};
use backstory_core::view::{EntryEdit, NewEntry};
use backstory_core::{Engine, op};

mod common;
use common::engine;

async fn texts(e: &Engine, contact: &str) -> Vec<(String, Visibility)> {
    e.run(op::MyPanel {
        contact: contact.into(),
    })
    .await
    .unwrap()
    .entries
    .into_iter()
    .map(|e| (e.entry.text, e.visibility))
    .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_refused_half_way_leaves_nothing_for_the_next() {
    let dir = tempfile::tempdir().unwrap();
    let ann = engine(dir.path(), "Ann").await;
    ann.run(op::AddContact { name: "Dan".into() })
        .await
        .unwrap();
    let entry = ann
        .run(op::PostEntry {
            contact: "Dan".into(),
            entry: NewEntry::text("first"),
        })
        .await
        .unwrap()
        .entry;
    // Another edit first, so the panel is the one the last change left.
    ann.run(op::EditEntry {
        entry: entry.clone(),
        edit: EntryEdit {
            text: Some("second".into()),
            ..Default::default()
        },
    })
    .await
    .unwrap();

    // The text is set, then the move to a category that does not exist is refused.
    let refused = ann
        .run(op::EditEntry {
            entry: entry.clone(),
            edit: EntryEdit {
                text: Some("half-way".into()),
                category: Some(CategoryId::new("no-such-category")),
                ..Default::default()
            },
        })
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(
        texts(&ann, "Dan").await,
        [("second".into(), Visibility::Visible)]
    );

    // The next change to the same panel keeps the text that was saved.
    ann.run(op::EditEntry {
        entry: entry.clone(),
        edit: EntryEdit {
            visibility: Some(Visibility::Hidden),
            ..Default::default()
        },
    })
    .await
    .unwrap();
    let want = [("second".to_string(), Visibility::Hidden)];
    assert_eq!(texts(&ann, "Dan").await, want);

    // And the store says the same after a restart.
    ann.shutdown().await;
    drop(ann);
    let ann = engine(dir.path(), "Ann").await;
    assert_eq!(texts(&ann, "Dan").await, want);
    ann.shutdown().await;
}
