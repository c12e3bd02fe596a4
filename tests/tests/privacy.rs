//! Privacy against devices that speak the protocols directly: strangers and other contacts get
//! nothing, and a viewer cannot write into an author's panel.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::net::SocketAddr;
use std::time::Duration;

use backstory_tests::intruder::Intruder;
use backstory_tests::{Device, cli_json, cli_ok, pair, wait_sees};

fn endpoint(d: &Device) -> (String, Vec<SocketAddr>) {
    let p = cli_json(d.path(), &["id"]);
    let addrs = p["addrs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().parse().unwrap())
        .collect();
    (p["id"].as_str().unwrap().to_string(), addrs)
}

fn outbox_for(d: &Device, name: &str) -> String {
    let p = cli_json(d.path(), &["panel", name]);
    p["contact"]["outbox"].as_str().unwrap().to_string()
}

fn inbound_for(d: &Device, name: &str) -> String {
    let p = cli_json(d.path(), &["panel", name]);
    p["contact"]["inbound"].as_str().unwrap().to_string()
}

fn media_hash(d: &Device, contact: &str) -> String {
    let p = cli_json(d.path(), &["panel", contact]);
    p["entries"][0]["entry"]["media"]["hash"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn strangers_and_other_contacts_obtain_neither_documents_nor_media() {
    let ann = Device::new("Ann");
    let bob = Device::new("Bob");
    let mut carol = Device::new("Carol");
    pair(&ann, &bob);
    pair(&ann, &carol);
    let for_bob = ann.path().join("for-bob.jpg");
    std::fs::write(&for_bob, vec![1u8; 300_000]).unwrap();
    let for_carol = ann.path().join("for-carol.jpg");
    std::fs::write(&for_carol, vec![2u8; 300_000]).unwrap();
    cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--file", for_bob.to_str().unwrap()],
    );
    cli_ok(
        ann.path(),
        &[
            "post",
            "--to",
            "carol",
            "--file",
            for_carol.to_str().unwrap(),
        ],
    );
    let (ann_id, addrs) = endpoint(&ann);
    let bobs_panel = outbox_for(&ann, "Bob");
    let carols_panel = outbox_for(&ann, "Carol");
    let bobs_photo = media_hash(&ann, "bob");
    let carols_photo = media_hash(&ann, "carol");

    // A stranger is turned away in the handshake.
    let stranger = Intruder::new(None).await;
    assert!(
        stranger
            .find(&ann_id, &addrs, &bobs_panel, Duration::from_secs(3))
            .await
            .is_none()
    );
    assert!(
        stranger
            .fetch_blob(&ann_id, &addrs, &bobs_photo)
            .await
            .is_err()
    );

    // Carol, a contact, speaking with her own key: her panel yes, Bob's no.
    carol.stop();
    let key = carol.path().join("identity.key");
    let as_carol = Intruder::new(Some(&key)).await;
    assert!(
        as_carol
            .find(&ann_id, &addrs, &carols_panel, Duration::from_secs(10))
            .await
            .is_some()
    );
    assert!(
        as_carol
            .find(&ann_id, &addrs, &bobs_panel, Duration::from_secs(3))
            .await
            .is_none()
    );
    let got = as_carol
        .fetch_blob(&ann_id, &addrs, &carols_photo)
        .await
        .unwrap();
    assert_eq!(got, vec![2u8; 300_000]);
    let refused = as_carol.fetch_blob(&ann_id, &addrs, &bobs_photo).await;
    assert!(
        refused.is_err(),
        "Carol obtained media published only to Bob"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_viewer_cannot_write_into_the_authors_panel() {
    let ann = Device::new("Ann");
    let mut bob = Device::new("Bob");
    pair(&ann, &bob);
    cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--text", "the real entry"],
    );
    wait_sees(&bob, "ann", &["the real entry"]);
    let (ann_id, addrs) = endpoint(&ann);
    let doc = outbox_for(&ann, "Bob");
    bob.stop();

    let as_bob = Intruder::new(Some(&bob.path().join("identity.key"))).await;
    let handle = as_bob
        .find(&ann_id, &addrs, &doc, Duration::from_secs(10))
        .await
        .expect("Bob may read");
    handle.with_document(|d| {
        let view = backstory_crdt::read_panel(d).unwrap();
        let mut entries = view.entries.clone();
        let mut forged = entries[0].clone();
        forged.id = backstory_crdt::EntryId::new("eforged");
        forged.text = "FORGED by the viewer".into();
        entries.push(forged);
        entries[0].text = "defaced".into();
        let published = backstory_crdt::Published {
            categories: view.categories,
            entries: entries.into_iter().map(std::sync::Arc::new).collect(),
            next_change: None,
        };
        backstory_crdt::apply_published(d, &published, backstory_crdt::Timestamp(1)).unwrap();
    });
    // The channel is live: what Ann writes now reaches the forger.
    cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--text", "written after the forgery"],
    );
    let mut live = false;
    for _ in 0..50 {
        let texts = handle.with_document(|d| {
            backstory_crdt::read_panel(d)
                .unwrap()
                .entries
                .iter()
                .map(|e| e.text.clone())
                .collect::<Vec<_>>()
        });
        if texts.iter().any(|t| t == "written after the forgery") {
            live = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        live,
        "the forger's connection is not live; the test would prove nothing"
    );
    // A sentinel after the forgery, on the same connection: Bob writes into his own panel for Ann,
    // which Ann accepts. Once she has it, every message sent before it — the forgery — has been
    // through her share policy.
    let theirs = inbound_for(&ann, "Bob");
    let own = as_bob
        .find(&ann_id, &addrs, &theirs, Duration::from_secs(10))
        .await
        .expect("Bob's own panel");
    own.with_document(|d| {
        let view = backstory_crdt::read_panel(d).unwrap();
        let mut entries = view.entries.clone();
        entries.push(backstory_crdt::Entry {
            id: backstory_crdt::EntryId::new("esentinel"),
            category: backstory_crdt::DefaultCategory::Activities.id(),
            kind: backstory_crdt::Kind::Text,
            text: "SENTINEL after the forgery".into(),
            created: backstory_crdt::Timestamp(2),
            edited: backstory_crdt::Timestamp(2),
            source: backstory_crdt::Source::Manual,
        });
        let published = backstory_crdt::Published {
            categories: view.categories,
            entries: entries.into_iter().map(std::sync::Arc::new).collect(),
            next_change: None,
        };
        backstory_crdt::apply_published(d, &published, backstory_crdt::Timestamp(2)).unwrap();
    });
    wait_sees(&ann, "bob", &["SENTINEL after the forgery"]);
    let seen = cli_json(ann.path(), &["panel", "bob", "--as-viewer"]);
    let texts: Vec<&str> = seen["panel"]["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["the real entry", "written after the forgery"]);
    // Not a single operation of the forgery is in anything Ann holds: her copy of the panel has
    // one author, and the forged entry's key appears nowhere.
    let history = cli_json(ann.path(), &["inspect"]);
    let mine = history
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == doc.as_str())
        .unwrap();
    let changes = mine["changes"].as_array().unwrap();
    assert!(changes.len() >= 3, "inspect shows the whole history");
    let actors: std::collections::HashSet<&str> = changes
        .iter()
        .map(|c| c["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        actors.len(),
        1,
        "the author's panel took changes from another actor"
    );
    assert!(
        !history.to_string().contains("eforged"),
        "the forged entry reached the author"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_voice_comment_is_served_to_the_panels_author_alone() {
    let ann = Device::new("Ann");
    let bob = Device::new("Bob");
    let mut carol = Device::new("Carol");
    // Bob keeps a panel for Ann; Ann is also Carol's contact.
    pair(&bob, &ann);
    pair(&ann, &carol);
    cli_ok(bob.path(), &["post", "--to", "ann", "--text", "new job"]);
    wait_sees(&ann, "bob", &["new job"]);
    let voice = ann.path().join("congrats.ogg");
    let sound: Vec<u8> = (0..50_000u32).map(|i| (i % 241) as u8).collect();
    std::fs::write(&voice, &sound).unwrap();
    let comment = cli_json(
        ann.path(),
        &[
            "comment",
            "bob",
            "panel",
            "",
            "--audio",
            voice.to_str().unwrap(),
        ],
    )["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hash = cli_json(ann.path(), &["comments", "bob"])["sent"][0]["audio"]["hash"]
        .as_str()
        .unwrap()
        .to_string();

    // Bob, whose panel it is about, fetches it from Ann's device.
    let arrived = backstory_tests::eventually(Duration::from_secs(20), || {
        let f = cli_json(bob.path(), &["comments", "ann"]);
        (f["comments"].as_array().unwrap().len() == 1).then_some(())
    });
    assert!(arrived.is_some(), "the comment never reached Bob");
    let heard = bob.path().join("heard.ogg");
    cli_ok(
        bob.path(),
        &[
            "comments",
            "ann",
            "--fetch",
            &comment,
            "--out",
            heard.to_str().unwrap(),
        ],
    );
    assert_eq!(std::fs::read(&heard).unwrap(), sound);

    // Carol, Ann's contact too, speaking with her own key, obtains what Ann shares with her —
    // the channel is live — but not the voice comment; nor does a stranger.
    let for_carol = ann.path().join("for-carol.jpg");
    std::fs::write(&for_carol, vec![3u8; 20_000]).unwrap();
    cli_ok(
        ann.path(),
        &[
            "post",
            "--to",
            "carol",
            "--file",
            for_carol.to_str().unwrap(),
        ],
    );
    let carols_photo = media_hash(&ann, "carol");
    let (ann_id, addrs) = endpoint(&ann);
    carol.stop();
    let as_carol = Intruder::new(Some(&carol.path().join("identity.key"))).await;
    assert_eq!(
        as_carol
            .fetch_blob(&ann_id, &addrs, &carols_photo)
            .await
            .unwrap(),
        vec![3u8; 20_000]
    );
    assert!(
        as_carol.fetch_blob(&ann_id, &addrs, &hash).await.is_err(),
        "Carol obtained a voice comment meant for Bob"
    );
    let stranger = Intruder::new(None).await;
    assert!(stranger.fetch_blob(&ann_id, &addrs, &hash).await.is_err());
}
