//! Read receipts and preferences, on two real engines paired over loopback: the author learns how
//! many of their updates the viewer has not seen, unless the viewer turned receipts off.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_core::view::NewEntry;
use backstory_core::{Engine, ErrorCode, op};

mod common;
use common::{engine, pair, until};

async fn unseen_by_bob(ann: &Engine) -> Option<u32> {
    ann.run(op::Contacts {}).await.unwrap()[0]
        .mine
        .unseen_by_them
}

async fn post(e: &Engine, to: &str, text: &str) {
    e.run(op::PostEntry {
        contact: to.into(),
        entry: NewEntry::text(text),
    })
    .await
    .unwrap();
}

async fn their_unseen(e: &Engine, of: &str) -> usize {
    e.run(op::TheirPanel { contact: of.into() })
        .await
        .unwrap()
        .changes
        .unseen()
}

async fn look(e: &Engine, at: &str) {
    let heads = e
        .run(op::TheirPanel { contact: at.into() })
        .await
        .unwrap()
        .changes
        .heads
        .clone();
    e.run(op::MarkSeen {
        contact: at.into(),
        heads,
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn receipts_tell_the_author_what_was_seen_unless_turned_off() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ann = engine(a.path(), "Ann").await;
    let bob = engine(b.path(), "Bob").await;
    pair(&ann, &bob).await;

    // Before anything is written the trigger icon is empty and nothing is unseen.
    let card = &ann.run(op::Contacts {}).await.unwrap()[0];
    assert_eq!((card.mine.visible, card.mine.unseen_by_them), (0, Some(0)));

    post(&ann, "Bob", "Climbed Mont Ventoux").await;
    post(&ann, "Bob", "Found a noodle place").await;
    assert_eq!(unseen_by_bob(&ann).await, Some(2));
    until("Bob to have Ann's two entries", || async {
        their_unseen(&bob, "Ann").await == 2
    })
    .await;
    let bob_card = &bob.run(op::Contacts {}).await.unwrap()[0];
    assert_eq!(bob_card.theirs.unseen, 2);
    assert!(bob_card.theirs.updated.is_some());

    // Bob looks: Ann's count goes to zero, and Bob's own icon stops saying "updated".
    look(&bob, "Ann").await;
    until("the receipt to reach Ann", || async {
        unseen_by_bob(&ann).await == Some(0)
    })
    .await;
    let bob_card = &bob.run(op::Contacts {}).await.unwrap()[0];
    assert_eq!((bob_card.theirs.unseen, bob_card.theirs.updated), (0, None));

    // Receipts off: Bob still reads, but Ann is told nothing more.
    let prefs = bob
        .run(op::SetSetting {
            key: "receipts".into(),
            value: "off".into(),
        })
        .await
        .unwrap();
    assert!(!prefs.receipts);
    post(&ann, "Bob", "Started a new book").await;
    until("Bob to have the third entry", || async {
        their_unseen(&bob, "Ann").await == 1
    })
    .await;
    look(&bob, "Ann").await;
    assert_eq!(their_unseen(&bob, "Ann").await, 0);
    // The channel from Bob to Ann is live: an entry Bob writes after looking does arrive, and it
    // travels in the same document a receipt would have, after it.
    post(&bob, "Ann", "SENTINEL after looking").await;
    until("Bob's sentinel to reach Ann", || async {
        their_unseen(&ann, "Bob").await == 1
    })
    .await;
    assert_eq!(unseen_by_bob(&ann).await, Some(1));

    ann.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn preferences_refuse_bad_values_and_keep_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path(), "Ann").await;
    let set = |key: &str, value: &str| op::SetSetting {
        key: key.into(),
        value: value.into(),
    };
    let p = e.run(op::Settings {}).await.unwrap();
    assert_eq!((p.language.clone(), p.receipts), (None, true));
    let p = e.run(set("language", "zh-CN")).await.unwrap();
    assert_eq!(p.language.as_deref(), Some("zh-CN"));
    let err = e.run(set("language", "xx")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(err.message.contains("language"), "{}", err.message);
    assert_eq!(
        e.run(op::GetSetting {
            key: "language".into()
        })
        .await
        .unwrap(),
        "zh-CN"
    );
    assert_eq!(
        e.run(set("language", "system")).await.unwrap().language,
        None
    );

    let err = e.run(set("network", "relay=ftp://nope")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert_eq!(e.run(op::Settings {}).await.unwrap().network, "default");
    let p = e
        .run(set("network", "relay=https://relay.example.org"))
        .await
        .unwrap();
    assert_eq!(p.network, "relay=https://relay.example.org/");

    // Discovery on the local network is on until turned off, and stays off.
    assert!(p.lan_discovery);
    assert!(
        !e.run(set("lan_discovery", "off"))
            .await
            .unwrap()
            .lan_discovery
    );
    assert!(!e.run(op::Settings {}).await.unwrap().lan_discovery);
    let err = e.run(set("lan_discovery", "sometimes")).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidInput);
    assert!(!e.run(op::Settings {}).await.unwrap().lan_discovery);

    // Unknown keys are refused by name.
    let err = e
        .run(op::GetSetting {
            key: "colour".into(),
        })
        .await
        .unwrap_err();
    assert!(
        err.message.contains("unknown setting `colour`"),
        "{}",
        err.message
    );
    e.shutdown().await;
}
