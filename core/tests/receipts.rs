//! Read receipts and preferences, on two real engines paired over loopback: the author learns how
//! many of their updates the viewer has not seen, unless the viewer turned receipts off.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::time::{Duration, Instant};

use backstory_core::net::NetworkMode;
use backstory_core::{Engine, ErrorCode, NewEntry};

async fn engine(dir: &std::path::Path, name: &str) -> Engine {
    let e = Engine::open_with(dir, Some(NetworkMode::Local))
        .await
        .unwrap();
    e.set_name(name).await.unwrap();
    e
}

/// Waits until `f` returns true, for up to 20 s.
async fn until<F, Fut>(what: &str, mut f: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    while !f().await {
        assert!(Instant::now() < deadline, "waited in vain for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn unseen_by_bob(ann: &Engine) -> Option<u32> {
    ann.contact_cards().await.unwrap()[0].mine.unseen_by_them
}

#[tokio::test(flavor = "multi_thread")]
async fn receipts_tell_the_author_what_was_seen_unless_turned_off() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ann = engine(a.path(), "Ann").await;
    let bob = engine(b.path(), "Bob").await;
    let invite = ann.invite(Duration::from_secs(600), false).await.unwrap();
    bob.join(&invite.ticket).await.unwrap();

    // Before anything is written the trigger icon is empty and nothing is unseen.
    let card = &ann.contact_cards().await.unwrap()[0];
    assert_eq!((card.mine.visible, card.mine.unseen_by_them), (0, Some(0)));

    ann.post("Bob", NewEntry::text("Climbed Mont Ventoux"))
        .await
        .unwrap();
    ann.post("Bob", NewEntry::text("Found a noodle place"))
        .await
        .unwrap();
    assert_eq!(unseen_by_bob(&ann).await, Some(2));
    until("Bob to have Ann's two entries", || async {
        bob.their_panel("Ann").await.unwrap().changes.unseen() == 2
    })
    .await;
    let bob_card = &bob.contact_cards().await.unwrap()[0];
    assert_eq!(bob_card.theirs.unseen, 2);
    assert!(bob_card.theirs.updated.is_some());

    // Bob looks: Ann's count goes to zero, and Bob's own icon stops saying "updated".
    let heads = bob.their_panel("Ann").await.unwrap().changes.heads;
    bob.mark_viewed("Ann", heads).await.unwrap();
    until("the receipt to reach Ann", || async {
        unseen_by_bob(&ann).await == Some(0)
    })
    .await;
    let bob_card = &bob.contact_cards().await.unwrap()[0];
    assert_eq!((bob_card.theirs.unseen, bob_card.theirs.updated), (0, None));

    // Receipts off: Bob still reads, but Ann is told nothing more.
    assert!(!bob.set_receipts(false).await.unwrap().receipts);
    ann.post("Bob", NewEntry::text("Started a new book"))
        .await
        .unwrap();
    until("Bob to have the third entry", || async {
        bob.their_panel("Ann").await.unwrap().changes.unseen() == 1
    })
    .await;
    let heads = bob.their_panel("Ann").await.unwrap().changes.heads;
    bob.mark_viewed("Ann", heads).await.unwrap();
    assert_eq!(bob.their_panel("Ann").await.unwrap().changes.unseen(), 0);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(unseen_by_bob(&ann).await, Some(1));

    ann.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn preferences_refuse_bad_values_and_keep_good_ones() {
    let dir = tempfile::tempdir().unwrap();
    let e = engine(dir.path(), "Ann").await;
    let p = e.preferences().await.unwrap();
    assert_eq!((p.language, p.receipts), (None, true));
    assert_eq!(
        e.set_language(Some("zh-CN"))
            .await
            .unwrap()
            .language
            .as_deref(),
        Some("zh-CN")
    );
    let err = e.set_language(Some("xx")).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(
        e.preferences().await.unwrap().language.as_deref(),
        Some("zh-CN")
    );
    assert_eq!(e.set_language(None).await.unwrap().language, None);

    let err = e.set_network("relay=ftp://nope").await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::InvalidInput);
    assert_eq!(e.preferences().await.unwrap().network, "default");
    let p = e
        .set_network("relay=https://relay.example.org")
        .await
        .unwrap();
    assert_eq!(p.network, "relay=https://relay.example.org/");

    // Discovery on the local network is on until turned off, and stays off.
    assert!(p.lan_discovery);
    assert!(!e.set_lan_discovery(false).await.unwrap().lan_discovery);
    assert!(!e.preferences().await.unwrap().lan_discovery);

    // Links are only passed on to a front end, and only backstory:// ones.
    assert!(e.request_open(None).is_err(), "no windows show this engine");
    e.set_front_end(true);
    let mut events = e.subscribe();
    assert!(e.request_open(Some("https://example.org".into())).is_err());
    e.request_open(Some("backstory://pair/abc".into())).unwrap();
    let got = events.recv().await.unwrap();
    assert_eq!(
        got,
        backstory_core::Event::OpenRequested {
            link: Some("backstory://pair/abc".into())
        }
    );
    e.shutdown().await;
}
