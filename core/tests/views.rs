//! Their panel answered from the view kept in the store: after a restart a window asking for a
//! panel whose document is not loaded yet gets the last view computed against the same seen heads;
//! when that view is behind the document (a view not written before a crash), the windows are
//! told to read the panel again once it is loaded, and then see it whole.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::time::{Duration, Instant};

use backstory_core::view::{NewEntry, TheirPanel};
use backstory_core::{Engine, Event, op};
use tempfile::TempDir;

mod common;
use common::{engine, pair};

async fn their_panel(e: &Engine, of: &str) -> TheirPanel {
    e.run(op::TheirPanel { contact: of.into() }).await.unwrap()
}

fn texts(p: &TheirPanel) -> Vec<String> {
    p.changes
        .entries
        .iter()
        .map(|c| c.entry.text.clone())
        .collect()
}

async fn until_sees(e: &Engine, of: &str, want: &[&str]) -> TheirPanel {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let p = their_panel(e, of).await;
        if texts(&p) == want {
            return p;
        }
        assert!(
            Instant::now() < deadline,
            "{of}'s panel never showed {want:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn post(e: &Engine, text: &str) {
    e.run(op::PostEntry {
        contact: "Bob".into(),
        entry: NewEntry::text(text),
    })
    .await
    .unwrap();
}

/// Ann and Bob paired, each in a data directory of their own, and Bob's first read of Ann's
/// panel once her entry "one" is there.
async fn paired_with_one_entry() -> (TempDir, TempDir, Engine, Engine, TheirPanel) {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ann = engine(a.path(), "Ann").await;
    let bob = engine(b.path(), "Bob").await;
    pair(&ann, &bob).await;
    post(&ann, "one").await;
    let first = until_sees(&bob, "Ann", &["one"]).await;
    (a, b, ann, bob, first)
}

/// The kept view of Ann's panel at Bob's, as the store has it: (doc, changes as JSON).
fn kept(dir: &Path) -> Option<(String, String)> {
    let db = rusqlite::Connection::open(dir.join("backstory.db")).unwrap();
    db.query_row("SELECT doc, changes FROM panel_views", [], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })
    .ok()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kept_view_answers_at_start_and_is_put_right_once_the_panel_loads() {
    let (_a, b, ann, bob, first) = paired_with_one_entry().await;
    post(&ann, "two").await;
    let whole = until_sees(&bob, "Ann", &["one", "two"]).await;
    bob.shutdown().await;
    drop(bob);

    // Bob's store keeps the last view, with the panel's heads.
    let (doc, changes) = kept(b.path()).expect("no view kept at shutdown");
    let stored: backstory_core::crdt::PanelChanges = serde_json::from_str(&changes).unwrap();
    assert_eq!(stored, *whole.changes);

    // A crash left an older view behind: the one with "one" only.
    let db = rusqlite::Connection::open(b.path().join("backstory.db")).unwrap();
    db.execute(
        "UPDATE panel_views SET changes = ?1 WHERE doc = ?2",
        (serde_json::to_string(&first.changes).unwrap(), &doc),
    )
    .unwrap();
    drop(db);

    let bob = Engine::open_with(
        b.path(),
        backstory_core::Options::default().network(backstory_core::net::NetworkMode::Local),
    )
    .await
    .unwrap();
    let mut events = bob.subscribe();
    let answer = their_panel(&bob, "Ann").await;
    if texts(&answer) == ["one"] {
        // Answered from the kept view: once the panel is loaded the windows hear of it.
        eprintln!("answered from the kept view");
        let told = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                if let Ok(Event::PanelReceived { .. }) = events.recv().await {
                    return;
                }
            }
        })
        .await;
        assert!(
            told.is_ok(),
            "the windows were never told the view was behind"
        );
    } else {
        // The panel was loaded first: the answer is the document's.
        assert_eq!(texts(&answer), ["one", "two"]);
    }
    until_sees(&bob, "Ann", &["one", "two"]).await;
    // The view kept is put right too.
    let deadline = Instant::now() + Duration::from_secs(10);
    while kept(b.path()).map(|(_, c)| c) != Some(serde_json::to_string(&whole.changes).unwrap()) {
        assert!(Instant::now() < deadline, "the kept view stayed behind");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for e in [ann, bob] {
        e.shutdown().await;
    }
}

/// Reading a panel whose document did not change since the last read hands out the view the
/// engine keeps, not a copy of it: a panel of a thousand entries is not copied at every read.
#[tokio::test(flavor = "multi_thread")]
async fn reading_an_unchanged_panel_again_shares_the_kept_view() {
    let (_a, _b, ann, bob, first) = paired_with_one_entry().await;
    let again = their_panel(&bob, "Ann").await;
    assert!(std::sync::Arc::ptr_eq(&first.changes, &again.changes));
    post(&ann, "two").await;
    let later = until_sees(&bob, "Ann", &["one", "two"]).await;
    assert!(!std::sync::Arc::ptr_eq(&first.changes, &later.changes));
    assert_eq!(texts(&first), ["one"]);
    for e in [ann, bob] {
        e.shutdown().await;
    }
}
