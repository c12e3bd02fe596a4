//! Feedback and chat on real engines paired over loopback, each on a clock the test moves: the
//! viewer's sessions reach the author judged against the threshold ("definitely viewed" or
//! "viewed"), per-entry counts and the ranking match what the viewer did, receipts off means the
//! author's device receives no signal at all, and what the viewer says while the author's engine
//! is stopped is in the author's chat and editor once it starts again.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use backstory_core::clock::ManualClock;
use backstory_core::crdt::feedback::Signal;
use backstory_core::crdt::{EntryId, Timestamp};
use backstory_core::feedback::{AudioInput, ChatBody, FeedbackView};
use backstory_core::net::NetworkMode;
use backstory_core::view::NewEntry;
use backstory_core::{Engine, Event, Options, op};

const START: i64 = 1_900_000_000_000;
const SECOND: u64 = 1000;
const MINUTE: u64 = 60 * SECOND;

mod common;
use common::{pair, sees, until};

async fn engine(dir: &Path, name: &str) -> Engine {
    let clock = Arc::new(ManualClock::new(Timestamp(START)));
    let e = Engine::open_with(
        dir,
        Options::default().network(NetworkMode::Local).clock(clock),
    )
    .await
    .unwrap();
    e.run(op::SetName { name: name.into() }).await.unwrap();
    e
}

async fn post(e: &Engine, to: &str, text: &str) -> EntryId {
    e.run(op::PostEntry {
        contact: to.into(),
        entry: NewEntry::text(text),
    })
    .await
    .unwrap()
    .entry
}

async fn feedback(e: &Engine, on: &str) -> FeedbackView {
    e.run(op::Feedback { contact: on.into() }).await.unwrap()
}

async fn heads(e: &Engine, of: &str) -> Vec<String> {
    e.run(op::TheirPanel { contact: of.into() })
        .await
        .unwrap()
        .changes
        .heads
        .clone()
}

async fn signal(e: &Engine, session: &str, entry: &EntryId, signal: Signal) {
    e.run(op::ViewSignal {
        contact: "Ann".into(),
        session: session.into(),
        entry: entry.clone(),
        signal,
    })
    .await
    .unwrap();
}

/// Looks at Ann's panel for `millis` on Bob's clock, with `entries` in view.
async fn look(bob: &Engine, millis: u64, entries: &[&EntryId]) -> Option<String> {
    let started = bob
        .run(op::BeginView {
            contact: "Ann".into(),
            heads: heads(bob, "Ann").await,
        })
        .await
        .unwrap();
    let session = started.session?;
    for e in entries {
        signal(bob, &session, e, Signal::Viewed).await;
    }
    bob.run(op::AdvanceClock { millis }).await.unwrap();
    let ended = bob
        .run(op::EndView {
            contact: "Ann".into(),
            session: session.clone(),
        })
        .await
        .unwrap();
    assert_eq!((ended.open_for_ms, ended.recorded), (millis, true));
    Some(session)
}

async fn comment(bob: &Engine, entry: Option<&EntryId>, text: &str) {
    bob.run(op::Comment {
        contact: "Ann".into(),
        entry: entry.cloned(),
        text: text.into(),
        audio: None,
    })
    .await
    .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn views_reach_the_author_judged_counted_and_ranked() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ann = engine(a.path(), "Ann").await;
    let bob = engine(b.path(), "Bob").await;
    pair(&ann, &bob).await;
    let mut events = ann.subscribe();
    let alps = post(&ann, "Bob", "Hiked in the Alps").await;
    let books = post(&ann, "Bob", "Reading Middlemarch").await;
    let song = post(&ann, "Bob", "Learning a song").await;
    until("Bob to have Ann's three entries", || async {
        sees(&bob, "Ann").await.len() == 3
    })
    .await;

    // Eleven seconds in front, the Alps and the books in view (the Alps twice: one view), the
    // pointer resting on the books, the song played.
    let first = look(&bob, 11 * SECOND, &[&alps, &books, &alps])
        .await
        .unwrap();
    signal(&bob, &first, &books, Signal::Hovered).await;
    signal(&bob, &first, &song, Signal::Played).await;
    signal(&bob, &first, &song, Signal::Played).await;
    // Twenty minutes later, three seconds, the Alps again.
    bob.run(op::AdvanceClock {
        millis: 20 * MINUTE,
    })
    .await
    .unwrap();
    look(&bob, 3 * SECOND, &[&alps]).await.unwrap();

    until("both sessions at Ann", || async {
        let f = feedback(&ann, "Bob").await;
        f.sessions.len() == 2
            && f.sessions[1].open_for_ms == 3 * SECOND
            && f.entries.iter().map(|e| e.plays).sum::<u64>() == 2
    })
    .await;
    let f = feedback(&ann, "Bob").await;
    assert_eq!(f.threshold_ms, 10 * SECOND);
    let judged: Vec<(u64, bool)> = f
        .sessions
        .iter()
        .map(|s| (s.open_for_ms, s.definitely))
        .collect();
    assert_eq!(judged, [(11 * SECOND, true), (3 * SECOND, false)]);
    assert_eq!(f.sessions[0].entries, [alps.clone(), books.clone()]);
    let counts: Vec<(&EntryId, u64, u64, u64, Option<u32>)> = f
        .entries
        .iter()
        .map(|e| (&e.entry, e.views, e.hovers, e.plays, e.rank))
        .collect();
    assert_eq!(
        counts,
        [
            (&alps, 2, 0, 0, Some(1)),
            (&books, 1, 1, 0, Some(2)),
            (&song, 0, 0, 2, None),
        ]
    );

    // In the chat: one notice per viewing, "definitely viewed" for the first only.
    let chat = ann
        .run(op::Chat {
            contact: "Bob".into(),
        })
        .await
        .unwrap();
    let views: Vec<(u64, bool)> = chat
        .items
        .iter()
        .filter_map(|i| match i.body {
            ChatBody::Viewed {
                open_for_ms,
                definitely,
                ..
            } => Some((open_for_ms, definitely)),
            _ => None,
        })
        .collect();
    assert_eq!(views, [(11 * SECOND, true), (3 * SECOND, false)]);
    assert_eq!(chat.unread, 2);
    // Each was announced once, in the order made.
    let ids: Vec<String> = chat.items.iter().map(|i| i.id.clone()).collect();
    let mut announced = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while announced.len() < ids.len() && Instant::now() < deadline {
        if let Ok(Ok(Event::ChatReceived { items, .. })) =
            tokio::time::timeout(Duration::from_millis(200), events.recv()).await
        {
            announced.extend(items.into_iter().map(|i| i.id));
        }
    }
    assert_eq!(announced, ids);
    ann.run(op::MarkChatRead {
        contact: "Bob".into(),
    })
    .await
    .unwrap();
    let card = ann
        .run(op::Contact {
            contact: "Bob".into(),
        })
        .await
        .unwrap();
    assert_eq!(card.chat.unread, 0);

    // A threshold of 2 s makes the second one "definitely viewed" too: the author decides.
    ann.run(op::SetSetting {
        key: "view_threshold".into(),
        value: "2s".into(),
    })
    .await
    .unwrap();
    assert!(
        feedback(&ann, "Bob")
            .await
            .sessions
            .iter()
            .all(|s| s.definitely)
    );

    ann.shutdown().await;
    bob.shutdown().await;
}

/// Every change of the document Bob writes for Ann, as Ann's device holds it, as JSON text.
async fn bobs_document_at_ann(ann: &Engine) -> String {
    let docs = ann.run(op::Inspect {}).await.unwrap();
    let doc = docs
        .iter()
        .find(|d| d.role.starts_with("Bob's panel for me"))
        .expect("Bob's document at Ann");
    serde_json::to_string(&doc.changes).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn with_receipts_off_the_author_receives_no_signal_at_all() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ann = engine(a.path(), "Ann").await;
    let bob = engine(b.path(), "Bob").await;
    pair(&ann, &bob).await;
    let alps = post(&ann, "Bob", "Hiked in the Alps").await;
    until("Bob to have Ann's entry", || async {
        sees(&bob, "Ann").await.len() == 1
    })
    .await;
    let comments_at_ann = || async { feedback(&ann, "Bob").await.comments.len() };

    // The path from Bob to Ann is live: a comment arrives.
    comment(&bob, None, "SENTINEL before").await;
    until("the first sentinel at Ann", || async {
        comments_at_ann().await == 1
    })
    .await;

    for (global, for_ann) in [("on", false), ("off", true)] {
        bob.run(op::SetSetting {
            key: "receipts".into(),
            value: global.into(),
        })
        .await
        .unwrap();
        let card = bob
            .run(op::SetContactReceipts {
                contact: "Ann".into(),
                on: for_ann,
            })
            .await
            .unwrap();
        assert_eq!(card.receipts, for_ann);
        // Bob looks for a long while, scrolls, hovers, opens and plays: nothing is recorded.
        assert_eq!(look(&bob, 30 * SECOND, &[&alps]).await, None);
        for s in [
            Signal::Viewed,
            Signal::Hovered,
            Signal::LinkOpened,
            Signal::Played,
        ] {
            signal(&bob, "v-none", &alps, s).await;
        }
        let heads = heads(&bob, "Ann").await;
        bob.run(op::MarkSeen {
            contact: "Ann".into(),
            heads,
        })
        .await
        .unwrap();
    }
    // Comments still go, and everything Bob wrote before this one has arrived with it.
    comment(&bob, None, "SENTINEL after").await;
    until("the second sentinel at Ann", || async {
        comments_at_ann().await == 2
    })
    .await;

    let f = feedback(&ann, "Bob").await;
    assert!(f.sessions.is_empty(), "{:?}", f.sessions);
    assert!(
        f.entries
            .iter()
            .all(|e| e.views + e.hovers + e.links_opened + e.plays == 0),
        "{:?}",
        f.entries
    );
    let card = ann
        .run(op::Contact {
            contact: "Bob".into(),
        })
        .await
        .unwrap();
    assert_eq!(card.mine.unseen_by_them, Some(1), "no read receipt came");
    // Nor is there any trace in the synced document itself: Ann's entry and her heads are
    // named nowhere in what Bob wrote.
    let raw = bobs_document_at_ann(&ann).await;
    assert!(raw.contains("SENTINEL after"));
    assert!(!raw.contains(alps.as_str()), "an entry id reached Ann");
    for h in heads(&bob, "Ann").await {
        assert!(!raw.contains(&h), "heads reached Ann");
    }

    // Turned back on, the same look does arrive.
    bob.run(op::AdvanceClock { millis: MINUTE }).await.unwrap();
    bob.run(op::SetSetting {
        key: "receipts".into(),
        value: "on".into(),
    })
    .await
    .unwrap();
    look(&bob, 12 * SECOND, &[&alps]).await.unwrap();
    until("the session at Ann once receipts are on", || async {
        feedback(&ann, "Bob").await.sessions.len() == 1
    })
    .await;

    ann.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn comments_made_while_the_author_is_stopped_arrive_when_it_starts() {
    let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ann = engine(a.path(), "Ann").await;
    let bob = engine(b.path(), "Bob").await;
    pair(&ann, &bob).await;
    let alps = post(&ann, "Bob", "Hiked in the Alps").await;
    until("Bob to have Ann's entry", || async {
        sees(&bob, "Ann").await.len() == 1
    })
    .await;
    ann.shutdown().await;
    drop(ann);

    // Ann is away. Bob comments on the entry, in text and by voice, and writes to her.
    comment(&bob, Some(&alps), "Which valley was that?").await;
    let voice = b.path().join("question.ogg");
    let sound: Vec<u8> = (0..20_000u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&voice, &sound).unwrap();
    let spoken = bob
        .run(op::Comment {
            contact: "Ann".into(),
            entry: Some(alps.clone()),
            text: String::new(),
            audio: Some(AudioInput::File {
                path: voice.clone(),
            }),
        })
        .await
        .unwrap();
    assert_eq!(spoken.audio.as_ref().map(|m| m.size), Some(20_000));
    let sent = bob
        .run(op::SendMessage {
            contact: "Ann".into(),
            text: "Call me when you are back".into(),
        })
        .await
        .unwrap();
    assert_eq!(sent.delivered, Some(false));
    // Bad input is refused and loses nothing.
    let err = bob
        .run(op::Comment {
            contact: "Ann".into(),
            entry: Some(EntryId::new("e-not-there")),
            text: "?".into(),
            audio: None,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, backstory_core::ErrorCode::UnknownEntry);
    let err = bob
        .run(op::Comment {
            contact: "Ann".into(),
            entry: None,
            text: "listen".into(),
            audio: Some(AudioInput::Recording {
                mime: "text/html".into(),
                base64: "PGI+".into(),
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, backstory_core::ErrorCode::InvalidInput);

    // Ann starts again: it is all there, in the order Bob made it.
    let ann = Engine::open_with(
        a.path(),
        Options::default()
            .network(NetworkMode::Local)
            .clock(Arc::new(ManualClock::new(Timestamp(START + 3_600_000)))),
    )
    .await
    .unwrap();
    until("Bob's comments and message in Ann's chat", || async {
        ann.run(op::Chat {
            contact: "Bob".into(),
        })
        .await
        .unwrap()
        .items
        .len()
            == 3
    })
    .await;
    let chat = ann
        .run(op::Chat {
            contact: "Bob".into(),
        })
        .await
        .unwrap();
    let said: Vec<(bool, String)> = chat
        .items
        .iter()
        .map(|i| match &i.body {
            ChatBody::Comment {
                entry_label,
                text,
                audio,
                ..
            } => (
                audio.is_some(),
                format!("{}: {text}", entry_label.clone().unwrap_or_default()),
            ),
            ChatBody::Message { text } => (false, text.clone()),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        said,
        [
            (
                false,
                "Hiked in the Alps: Which valley was that?".to_string()
            ),
            (true, "Hiked in the Alps: ".to_string()),
            (false, "Call me when you are back".to_string()),
        ]
    );
    assert_eq!(chat.unread, 3);
    // In the editor's view of the entry: both comments.
    let f = feedback(&ann, "Bob").await;
    assert_eq!(f.comments.len(), 2);
    assert_eq!(f.entries[0].comments, 2);
    // The recording comes from Bob's device, whole.
    let fetched = ann
        .run(op::FetchCommentAudio {
            contact: "Bob".into(),
            comment: spoken.id.clone(),
            out: None,
        })
        .await
        .unwrap();
    assert_eq!(std::fs::read(&fetched.path).unwrap(), sound);
    // Bob's message shows as delivered once Ann's device holds it.
    until("the message delivered", || async {
        bob.run(op::Chat {
            contact: "Ann".into(),
        })
        .await
        .unwrap()
        .items
        .iter()
        .any(|i| i.id == sent.id && i.delivered == Some(true))
    })
    .await;

    // Bob deletes the text comment: it leaves Ann's chat and editor.
    let text_comment = f.comments[0].id.clone();
    bob.run(op::RemoveComment {
        contact: "Ann".into(),
        comment: text_comment.clone(),
    })
    .await
    .unwrap();
    until("the deletion at Ann", || async {
        feedback(&ann, "Bob").await.comments.len() == 1
    })
    .await;
    let err = bob
        .run(op::RemoveComment {
            contact: "Ann".into(),
            comment: text_comment,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, backstory_core::ErrorCode::InvalidInput);

    ann.shutdown().await;
    bob.shutdown().await;
}
