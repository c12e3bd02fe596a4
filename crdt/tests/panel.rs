//! Behaviour of the master panel, `publish`, the outbox document and change attribution.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::Arc;

use backstory_crdt::automerge::{Automerge, ChangeHash};
use backstory_crdt::changes::heads_to_strings;
use backstory_crdt::feedback::{self, Comment, Message, Receipt, Signal};
use backstory_crdt::{
    CategoryId, DefaultCategory, Entry, EntryId, EntryState, KeptChanges, Kind, MasterEdit,
    MasterEntry, MasterPanel, PanelError, Source, Timestamp, Visibility, apply_published,
    apply_published_after, changes_since, new_outbox, publish, read_panel,
};

fn text_entry(id: &str, text: &str, at: i64) -> MasterEntry {
    MasterEntry {
        entry: Arc::new(Entry {
            id: EntryId::new(id),
            category: DefaultCategory::Activities.id(),
            kind: Kind::Text,
            text: text.to_string(),
            created: Timestamp(at),
            edited: Timestamp(at),
            source: Source::Manual,
        }),
        visibility: Visibility::Visible,
        note: None,
    }
}

fn sync(master: &MasterPanel, doc: &mut Automerge, now: i64) -> Option<ChangeHash> {
    apply_published(doc, &publish(master, Timestamp(now)), Timestamp(now)).expect("apply")
}

#[test]
fn new_panels_have_the_seven_defaults_in_order() {
    let m = MasterPanel::default();
    let names: Vec<String> = m.categories.iter().map(|c| c.display_name()).collect();
    assert_eq!(
        names,
        [
            "Recent activities",
            "Recent travel",
            "Recently bought gadgets",
            "Recently read books",
            "Recently learned songs",
            "Recently found restaurants",
            "Recently watched"
        ]
    );
    assert_eq!(DefaultCategory::Restaurants.name_zh(), "最近新去的美味餐厅");
}

#[test]
fn removing_a_category_moves_its_entries_to_the_fallback() {
    let mut m = MasterPanel::default();
    let mut e = text_entry("e1", "hiking", 1);
    Arc::make_mut(&mut e.entry).category = DefaultCategory::Travel.id();
    m.add_entry(e).unwrap();
    let fallback = m
        .remove_category(&DefaultCategory::Travel.id(), Timestamp(5))
        .unwrap();
    assert_eq!(fallback, DefaultCategory::Activities.id());
    assert_eq!(m.entries[0].entry.category, fallback);
    assert_eq!(m.entries[0].entry.text, "hiking");
    assert_eq!(m.categories.len(), 6);
}

#[test]
fn an_edit_counts_every_entry_it_changes_and_no_other() {
    let mut m = MasterPanel::default();
    for (i, id) in ["e1", "e2", "e3"].into_iter().enumerate() {
        m.add_entry(text_entry(id, id, i as i64)).unwrap();
    }
    let mut e = MasterEdit::new(&mut m);
    e.move_entry(
        &EntryId::new("e2"),
        DefaultCategory::Travel.id(),
        Timestamp(5),
    )
    .unwrap();
    e.set_text(&EntryId::new("e2"), "again".into(), Timestamp(6))
        .unwrap();
    // Refused changes change nothing, so count nothing.
    assert!(
        e.set_text(&EntryId::new("nope"), "x".into(), Timestamp(7))
            .is_err()
    );
    e.add_category(CategoryId::new("c1"), "Podcasts").unwrap();
    assert_eq!(e.touched(), [EntryId::new("e2")]);
    e.add_entry(text_entry("e4", "new", 9)).unwrap();
    e.remove_entry(&EntryId::new("e1")).unwrap();
    assert_eq!(
        e.touched(),
        [EntryId::new("e2"), EntryId::new("e4"), EntryId::new("e1")]
    );

    // Removing a category changes the entries filed under it, and only those.
    let mut e = MasterEdit::new(&mut m);
    e.move_entry(
        &EntryId::new("e4"),
        DefaultCategory::Travel.id(),
        Timestamp(10),
    )
    .unwrap();
    let mut e = MasterEdit::new(&mut m);
    e.remove_category(&DefaultCategory::Travel.id(), Timestamp(11))
        .unwrap();
    assert_eq!(e.touched(), [EntryId::new("e2"), EntryId::new("e4")]);
    assert!(
        m.entries
            .iter()
            .all(|x| x.entry.category != DefaultCategory::Travel.id())
    );
}

#[test]
fn a_publication_shares_the_masters_entries_and_an_edit_copies_only_its_own() {
    let mut m = MasterPanel::default();
    for (i, id) in ["e1", "e2", "e3"].into_iter().enumerate() {
        m.add_entry(text_entry(id, id, i as i64)).unwrap();
    }
    let first = publish(&m, Timestamp(10));
    for (p, e) in first.entries.iter().zip(&m.entries) {
        assert!(Arc::ptr_eq(p, &e.entry), "{} was copied", e.entry.id);
    }
    // While the last publication holds them, an edit leaves it as it was and the untouched
    // entries shared; the next publication holds the edited entry anew.
    m.set_text(&EntryId::new("e2"), "edited".into(), Timestamp(11))
        .unwrap();
    assert_eq!(first.entries[1].text, "e2");
    let next = publish(&m, Timestamp(12));
    assert!(Arc::ptr_eq(&next.entries[0], &first.entries[0]));
    assert!(!Arc::ptr_eq(&next.entries[1], &first.entries[1]));
    assert!(Arc::ptr_eq(&next.entries[2], &first.entries[2]));
    assert_eq!(next.entries[1].text, "edited");
    // Written against the first, the panel read back is the second.
    let mut doc = new_outbox("o", Timestamp(0)).unwrap();
    let (_, last) = apply_published_after(&mut doc, &first, Timestamp(10), None).unwrap();
    let (hash, _) = apply_published_after(&mut doc, &next, Timestamp(12), last).unwrap();
    assert!(hash.is_some());
    let want: Vec<Entry> = next.entries.iter().map(|e| Entry::clone(e)).collect();
    assert_eq!(read_panel(&doc).unwrap().entries, want);
}

#[test]
fn category_edits_are_validated() {
    let mut m = MasterPanel::default();
    m.add_category(CategoryId::new("c1"), "Podcasts").unwrap();
    assert_eq!(
        m.add_category(CategoryId::new("c1"), "Again"),
        Err(PanelError::DuplicateCategory(CategoryId::new("c1")))
    );
    assert_eq!(
        m.rename_category(&CategoryId::new("c1"), "  "),
        Err(PanelError::EmptyName)
    );
    m.rename_category(&CategoryId::new("c1"), "Pods").unwrap();
    let mut order: Vec<CategoryId> = m.categories.iter().map(|c| c.id.clone()).rev().collect();
    m.reorder_categories(&order).unwrap();
    assert_eq!(m.categories[0].display_name(), "Pods");
    order.pop();
    assert_eq!(m.reorder_categories(&order), Err(PanelError::BadOrder));
    for c in m.categories.clone().iter().skip(1) {
        m.remove_category(&c.id, Timestamp(1)).unwrap();
    }
    assert_eq!(
        m.remove_category(&CategoryId::new("c1"), Timestamp(1)),
        Err(PanelError::LastCategory)
    );
    let mut e = text_entry("x", "x", 1);
    Arc::make_mut(&mut e.entry).category = CategoryId::new("nope");
    assert_eq!(
        m.add_entry(e),
        Err(PanelError::UnknownCategory(CategoryId::new("nope")))
    );
}

#[test]
fn publish_follows_visibility_rules_and_reports_the_next_flip() {
    let mut m = MasterPanel::default();
    m.add_entry(text_entry("visible", "a", 1)).unwrap();
    let mut hidden = text_entry("hidden", "b", 2);
    hidden.visibility = Visibility::Hidden;
    m.add_entry(hidden).unwrap();
    let mut later = text_entry("later", "c", 3);
    later.visibility = Visibility::RevealAfter(Timestamp(1000));
    m.add_entry(later).unwrap();
    let mut until = text_entry("until", "d", 4);
    until.visibility = Visibility::VisibleUntil(Timestamp(500));
    m.add_entry(until).unwrap();

    let ids = |p: &backstory_crdt::Published| -> Vec<String> {
        p.entries.iter().map(|e| e.id.to_string()).collect()
    };
    let p = publish(&m, Timestamp(100));
    assert_eq!(ids(&p), ["visible", "until"]);
    assert_eq!(p.next_change, Some(Timestamp(500)));
    let p = publish(&m, Timestamp(500));
    assert_eq!(ids(&p), ["visible"]);
    assert_eq!(p.next_change, Some(Timestamp(1000)));
    let p = publish(&m, Timestamp(1000));
    assert_eq!(ids(&p), ["visible", "later"]);
    assert_eq!(p.next_change, None);
}

#[test]
fn only_categories_with_something_visible_are_published() {
    let mut m = MasterPanel::default();
    m.add_category(CategoryId::new("job"), "JOB-HUNT-MARKER")
        .unwrap();
    let mut secret = text_entry("s", "interview", 1);
    Arc::make_mut(&mut secret.entry).category = CategoryId::new("job");
    secret.visibility = Visibility::Hidden;
    m.add_entry(secret).unwrap();
    m.add_entry(text_entry("a", "shown", 2)).unwrap();
    let p = publish(&m, Timestamp(10));
    let names: Vec<String> = p.categories.iter().map(|c| c.display_name()).collect();
    assert_eq!(
        names,
        ["Recent activities"],
        "hidden or empty categories left out"
    );
    let mut doc = new_outbox("owner", Timestamp(1)).unwrap();
    sync(&m, &mut doc, 10);
    let bytes = doc.save_nocompress();
    assert!(
        !bytes.windows(15).any(|w| w == b"JOB-HUNT-MARKER"),
        "the name of a category with only hidden entries reached the outbox"
    );
    // Once something in it is visible, the category goes out with it, in the author's order.
    m.set_visibility(&EntryId::new("s"), Visibility::Visible)
        .unwrap();
    let p = publish(&m, Timestamp(10));
    let ids: Vec<&str> = p.categories.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["activities", "job"]);
}

#[test]
fn outbox_holds_only_published_entries_and_writes_nothing_when_unchanged() {
    let mut m = MasterPanel::default();
    m.add_entry(text_entry("a", "shown", 1)).unwrap();
    let mut h = text_entry("b", "SECRET-MARKER", 2);
    h.visibility = Visibility::Hidden;
    m.add_entry(h).unwrap();
    let mut doc = new_outbox("owner", Timestamp(1000)).unwrap();
    assert!(sync(&m, &mut doc, 2000).is_some());
    assert!(
        sync(&m, &mut doc, 3000).is_none(),
        "no difference, no change"
    );
    let view = read_panel(&doc).unwrap();
    assert_eq!(view.entries.len(), 1);
    assert_eq!(
        view.categories.len(),
        1,
        "only the category with something visible"
    );
    let bytes = doc.save();
    assert!(!bytes.windows(13).any(|w| w == b"SECRET-MARKER"));
    let plain = doc.save_nocompress();
    assert!(!plain.windows(13).any(|w| w == b"SECRET-MARKER"));
    assert!(plain.windows(5).any(|w| w == b"shown"));
}

#[test]
fn every_change_carries_its_commit_time() {
    let mut m = MasterPanel::default();
    m.add_entry(text_entry("a", "x", 1)).unwrap();
    let mut doc = new_outbox("owner", Timestamp(1_700_000_000_000)).unwrap();
    sync(&m, &mut doc, 1_700_000_100_000);
    for meta in doc.get_changes_meta(&[]) {
        assert!(
            meta.timestamp >= 1_700_000_000,
            "change without a time: {meta:?}"
        );
    }
}

#[test]
fn edits_are_attributed_to_the_session_that_wrote_them() {
    let mut m = MasterPanel::default();
    m.add_entry(text_entry("a", "I went hiking.", 1)).unwrap();
    m.add_entry(text_entry("b", "untouched", 2)).unwrap();
    let mut doc = new_outbox("owner", Timestamp(1_000_000)).unwrap();
    sync(&m, &mut doc, 2_000_000);
    let seen = doc.get_heads();

    let first = changes_since(&doc, &[]).unwrap();
    assert!(first.entries.iter().all(|e| e.state == EntryState::New));
    assert_eq!(first.unseen(), 2);

    m.set_text(
        &EntryId::new("a"),
        "I went hiking in the Alps.".into(),
        Timestamp(3_000_000),
    )
    .unwrap();
    sync(&m, &mut doc, 3_000_000);
    let c = changes_since(&doc, &seen).unwrap();
    assert_eq!(c.heads, heads_to_strings(&doc.get_heads()));
    let a = c
        .entries
        .iter()
        .find(|e| e.entry.id.as_str() == "a")
        .unwrap();
    assert_eq!(a.state, EntryState::Edited);
    let texts: Vec<(&str, bool)> = a.spans.iter().map(|s| (s.text.as_str(), s.new)).collect();
    assert_eq!(
        texts,
        [
            ("I went hiking", false),
            (" in the Alps", true),
            (".", false)
        ]
    );
    assert_eq!(a.spans[0].time, Timestamp(2_000_000));
    assert_eq!(a.spans[1].time, Timestamp(3_000_000));
    assert_ne!(a.spans[0].change, a.spans[1].change);
    let b = c
        .entries
        .iter()
        .find(|e| e.entry.id.as_str() == "b")
        .unwrap();
    assert_eq!(b.state, EntryState::Seen);
    assert_eq!(c.unseen(), 1);

    m.remove_entry(&EntryId::new("b")).unwrap();
    sync(&m, &mut doc, 4_000_000);
    let c = changes_since(&doc, &seen).unwrap();
    assert_eq!(c.removed.len(), 1);
    assert_eq!(c.removed[0].text, "untouched");
    let all_seen = changes_since(&doc, &doc.get_heads()).unwrap();
    assert_eq!(all_seen.unseen(), 0);
}

#[test]
fn a_kept_view_reads_again_only_the_entries_a_change_touched() {
    let mut m = MasterPanel::default();
    for i in 0..200 {
        m.add_entry(text_entry(&format!("e{i}"), "before", i))
            .unwrap();
    }
    let mut doc = new_outbox("owner", Timestamp(1_000_000)).unwrap();
    sync(&m, &mut doc, 2_000_000);
    let seen = heads_to_strings(&doc.get_heads());
    let kept = KeptChanges::new(&doc, seen).unwrap();
    assert_eq!(kept.entries_read(), 200);

    // One entry edited: one entry read, and it is the one shown as edited.
    m.set_text(&EntryId::new("e7"), "after".into(), Timestamp(3_000_000))
        .unwrap();
    sync(&m, &mut doc, 3_000_000);
    let kept = kept.update(&doc).unwrap();
    assert_eq!(kept.entries_read(), 1);
    let edited: Vec<&str> = kept
        .changes()
        .entries
        .iter()
        .filter(|e| e.state == EntryState::Edited)
        .map(|e| e.entry.id.as_str())
        .collect();
    assert_eq!(edited, ["e7"]);

    // A comment and a new category read no entry; a removal reads the one removed.
    let comment = Comment {
        id: "c1".into(),
        entry: None,
        text: "hi".into(),
        at: 4_000_000,
        audio: None,
    };
    feedback::add_comment(&mut doc, comment, Timestamp(4_000_000)).unwrap();
    let kept = kept.update(&doc).unwrap();
    assert_eq!(kept.entries_read(), 0);
    m.add_category(CategoryId::new("trips"), "Trips").unwrap();
    m.move_entry(
        &EntryId::new("e9"),
        CategoryId::new("trips"),
        Timestamp(5_000_000),
    )
    .unwrap();
    sync(&m, &mut doc, 5_000_000);
    let kept = kept.update(&doc).unwrap();
    assert_eq!(kept.entries_read(), 1);
    m.remove_entry(&EntryId::new("e3")).unwrap();
    sync(&m, &mut doc, 6_000_000);
    let kept = kept.update(&doc).unwrap();
    assert_eq!(kept.entries_read(), 1);
    assert_eq!(kept.changes().removed.len(), 1);
    let seen: Vec<ChangeHash> = kept.seen().iter().map(|h| h.parse().unwrap()).collect();
    assert_eq!(kept.changes(), &changes_since(&doc, &seen).unwrap());
}

#[test]
fn unknown_seen_heads_count_as_never_seen() {
    let mut m = MasterPanel::default();
    m.add_entry(text_entry("a", "x", 1)).unwrap();
    let mut doc = new_outbox("o", Timestamp(0)).unwrap();
    sync(&m, &mut doc, 1000);
    let other = new_outbox("p", Timestamp(0)).unwrap();
    let c = changes_since(&doc, &other.get_heads()).unwrap();
    assert_eq!(c.entries[0].state, EntryState::New);
}

#[test]
fn feedback_and_chat_round_trip() {
    let mut doc = new_outbox("viewer", Timestamp(0)).unwrap();
    feedback::add_comment(
        &mut doc,
        Comment {
            id: "c1".into(),
            entry: Some("e1".into()),
            text: "nice!".into(),
            at: 5,
            audio: None,
        },
        Timestamp(5),
    )
    .unwrap();
    feedback::add_receipt(
        &mut doc,
        Receipt {
            heads: vec!["ab".into()],
            opened: 6,
            open_for: 12_000,
        },
        Timestamp(6),
    )
    .unwrap();
    feedback::add_signal(&mut doc, &EntryId::new("e1"), Signal::Hovered, Timestamp(7)).unwrap();
    feedback::add_signal(&mut doc, &EntryId::new("e1"), Signal::Hovered, Timestamp(8)).unwrap();
    feedback::add_message(
        &mut doc,
        Message {
            id: "m1".into(),
            text: "hi".into(),
            at: 9,
        },
        Timestamp(9),
    )
    .unwrap();
    let loaded = Automerge::load(&doc.save()).unwrap();
    let f = feedback::read_feedback(&loaded).unwrap();
    assert_eq!(f.comments[0].text, "nice!");
    assert_eq!(f.receipts[0].open_for, 12_000);
    assert_eq!(f.signals["e1"].hovers, 2);
    assert_eq!(feedback::read_chat(&loaded).unwrap()[0].text, "hi");
}

#[test]
fn a_newer_schema_is_refused() {
    use backstory_crdt::automerge::{ROOT, transaction::Transactable};
    let mut doc = new_outbox("o", Timestamp(0)).unwrap();
    let mut tx = doc.transaction();
    tx.put(ROOT, "schema", 99_u64).unwrap();
    tx.commit();
    let err = read_panel(&doc).unwrap_err();
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

#[test]
fn every_kind_round_trips_through_the_outbox() {
    use backstory_crdt::{LinkSnapshot, MediaRef};
    let media = MediaRef {
        hash: "ab".repeat(32),
        size: 3,
        mime: "image/png".into(),
        name: "a.png".into(),
    };
    let kinds = vec![
        Kind::Text,
        Kind::Link {
            url: "https://example.org".into(),
            snapshot: Some(LinkSnapshot {
                title: Some("T".into()),
                image: Some(media.clone()),
                ..Default::default()
            }),
        },
        Kind::Link {
            url: "https://example.org/a".into(),
            snapshot: Some(LinkSnapshot {
                title: Some("Alps".into()),
                description: Some("A route".into()),
                site: Some("Example".into()),
                excerpt: Some("First paragraph.\n\nSecond.".into()),
                image: Some(media.clone()),
                final_url: Some("https://example.org/b".into()),
                language: Some("de".into()),
                content_type: None,
                size: None,
            }),
        },
        Kind::Link {
            url: "https://example.org/paper.pdf".into(),
            snapshot: Some(LinkSnapshot {
                content_type: Some("application/pdf".into()),
                size: Some(123_456),
                ..Default::default()
            }),
        },
        Kind::Image {
            media: media.clone(),
        },
        Kind::Audio {
            media: media.clone(),
        },
        Kind::Video {
            media: media.clone(),
        },
        Kind::File {
            media: media.clone(),
        },
        Kind::Screenshot { media },
        Kind::WatchedVideo {
            player: "mpv".into(),
            location: "/v.mkv".into(),
            title: None,
        },
    ];
    let mut m = MasterPanel::default();
    for (i, kind) in kinds.iter().enumerate() {
        let mut e = text_entry(&format!("e{i}"), "caption", i as i64);
        Arc::make_mut(&mut e.entry).kind = kind.clone();
        m.add_entry(e).unwrap();
    }
    let mut doc = new_outbox("o", Timestamp(0)).unwrap();
    sync(&m, &mut doc, 100);
    let loaded = Automerge::load(&doc.save()).unwrap();
    let got: Vec<Kind> = read_panel(&loaded)
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(got, kinds);
}

#[test]
fn sessions_count_each_entry_once_and_grow_in_length() {
    use feedback::Session;
    let mut doc = new_outbox("viewer", Timestamp(0)).unwrap();
    let session = |id: &str, opened| Session {
        id: id.into(),
        heads: vec!["ab".into()],
        opened,
        open_for: 0,
        entries: Vec::new(),
    };
    feedback::open_session(&mut doc, session("s1", 1_000), Timestamp(1_000)).unwrap();
    let e1 = EntryId::new("e1");
    for _ in 0..3 {
        assert!(
            feedback::add_session_signal(&mut doc, "s1", &e1, Signal::Viewed, Timestamp(1_500))
                .unwrap()
        );
    }
    feedback::add_session_signal(&mut doc, "s1", &e1, Signal::Hovered, Timestamp(1_600)).unwrap();
    feedback::add_session_signal(&mut doc, "s1", &e1, Signal::Hovered, Timestamp(1_700)).unwrap();
    assert!(feedback::set_session_length(&mut doc, "s1", 11_000, Timestamp(12_000)).unwrap());
    // A second session views it again: that is a second view.
    feedback::open_session(&mut doc, session("s2", 60_000), Timestamp(60_000)).unwrap();
    feedback::add_session_signal(&mut doc, "s2", &e1, Signal::Viewed, Timestamp(60_500)).unwrap();
    feedback::add_session_signal(&mut doc, "s2", &e1, Signal::Played, Timestamp(60_600)).unwrap();
    // Signals for a session that does not exist change nothing.
    let heads = doc.get_heads();
    assert!(
        !feedback::add_session_signal(&mut doc, "nope", &e1, Signal::Viewed, Timestamp(9)).unwrap()
    );
    assert!(!feedback::set_session_length(&mut doc, "nope", 5, Timestamp(9)).unwrap());
    assert_eq!(doc.get_heads(), heads, "nothing was written");

    let loaded = Automerge::load(&doc.save()).unwrap();
    let f = feedback::read_feedback(&loaded).unwrap();
    assert_eq!(f.sessions.len(), 2);
    assert_eq!(f.sessions[0].open_for, 11_000);
    assert_eq!(f.sessions[0].entries, vec!["e1".to_string()]);
    let s = &f.signals["e1"];
    assert_eq!((s.views, s.hovers, s.links_opened, s.plays), (2, 2, 0, 1));
    assert_eq!(
        feedback::session(&loaded, "s2").unwrap().map(|s| s.opened),
        Some(60_000)
    );
}

#[test]
fn comments_can_be_removed_by_their_writer_and_carry_audio() {
    use backstory_crdt::MediaRef;
    let mut doc = new_outbox("viewer", Timestamp(0)).unwrap();
    let audio = MediaRef {
        hash: "ab".repeat(32),
        size: 1234,
        mime: "audio/ogg".into(),
        name: "voice.ogg".into(),
    };
    for (id, audio) in [("c1", None), ("c2", Some(audio.clone()))] {
        feedback::add_comment(
            &mut doc,
            Comment {
                id: id.into(),
                entry: None,
                text: format!("comment {id}"),
                at: 5,
                audio,
            },
            Timestamp(5),
        )
        .unwrap();
    }
    assert!(feedback::remove_comment(&mut doc, "c1", Timestamp(6)).unwrap());
    assert!(!feedback::remove_comment(&mut doc, "c1", Timestamp(7)).unwrap());
    let f = feedback::read_feedback(&Automerge::load(&doc.save()).unwrap()).unwrap();
    assert_eq!(f.comments.len(), 1);
    assert_eq!(f.comments[0].audio, Some(audio));
}

#[test]
fn chat_delivery_is_written_only_when_it_changes() {
    let mut doc = new_outbox("viewer", Timestamp(0)).unwrap();
    assert_eq!(feedback::read_chat_delivered(&doc).unwrap(), 0);
    feedback::set_chat_delivered(&mut doc, 3, Timestamp(1)).unwrap();
    let heads = doc.get_heads();
    feedback::set_chat_delivered(&mut doc, 3, Timestamp(2)).unwrap();
    assert_eq!(doc.get_heads(), heads);
    assert_eq!(feedback::read_chat_delivered(&doc).unwrap(), 3);
}

#[test]
fn feedback_written_before_sessions_and_voice_comments_still_reads() {
    use backstory_crdt::automerge::ROOT;
    use backstory_crdt::automerge::ReadDoc;
    use backstory_crdt::automerge::transaction::Transactable;
    // The feedback section as the first schema wrote it: no sessions, comments without audio.
    let mut doc = new_outbox("viewer", Timestamp(0)).unwrap();
    let mut tx = doc.transaction();
    let (_, feedback_obj) = tx.get(&ROOT, "feedback").unwrap().unwrap();
    tx.delete(&feedback_obj, "sessions").unwrap();
    let (_, comments) = tx.get(&feedback_obj, "comments").unwrap().unwrap();
    let c = tx
        .insert_object(&comments, 0, backstory_crdt::automerge::ObjType::Map)
        .unwrap();
    tx.put(&c, "id", "c0").unwrap();
    tx.put(&c, "entry", backstory_crdt::automerge::ScalarValue::Null)
        .unwrap();
    tx.put(&c, "text", "old").unwrap();
    tx.put(&c, "at", 3i64).unwrap();
    tx.commit();
    let f = feedback::read_feedback(&doc).unwrap();
    assert_eq!(f.comments[0].text, "old");
    assert_eq!(f.comments[0].audio, None);
    assert!(f.sessions.is_empty());
}

#[test]
fn items_are_stamped_in_the_order_made_even_when_the_clock_stands_still() {
    let mut doc = new_outbox("viewer", Timestamp(0)).unwrap();
    assert_eq!(
        feedback::next_instant(&doc, Timestamp(100)).unwrap(),
        Timestamp(100)
    );
    feedback::add_message(
        &mut doc,
        Message {
            id: "m1".into(),
            text: "hi".into(),
            at: 100,
        },
        Timestamp(100),
    )
    .unwrap();
    assert_eq!(
        feedback::next_instant(&doc, Timestamp(100)).unwrap(),
        Timestamp(101)
    );
    assert_eq!(
        feedback::next_instant(&doc, Timestamp(50)).unwrap(),
        Timestamp(101)
    );
    assert_eq!(
        feedback::next_instant(&doc, Timestamp(500)).unwrap(),
        Timestamp(500)
    );
}
