//! Property tests: replicas converge whatever the delivery order; `publish` never leaks; save/load
//! is lossless.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::sync::Arc;

use backstory_crdt::automerge::{
    ActorId, Automerge, Change, ROOT, ReadDoc, ScalarValueRef, ValueRef,
};
use backstory_crdt::changes::heads_to_strings;
use backstory_crdt::feedback::{self, Comment};
use backstory_crdt::master::Published;
use backstory_crdt::{
    Category, CategoryId, DefaultCategory, Entry, EntryId, KeptChanges, Kind, MasterEntry,
    MasterPanel, Source, Timestamp, Visibility, Written, apply_published, apply_published_after,
    changes_since, new_outbox, publish, read_panel,
};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Add { text: String, category: usize },
    Edit { entry: usize, text: String },
    Move { entry: usize, category: usize },
    Remove { entry: usize },
    AddCategory { name: String },
    Comment { text: String },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        3 => ("[a-z ]{0,12}", 0usize..8).prop_map(|(text, category)| Op::Add { text, category }),
        3 => (0usize..16, "[a-z ]{0,12}").prop_map(|(entry, text)| Op::Edit { entry, text }),
        1 => (0usize..16, 0usize..8).prop_map(|(entry, category)| Op::Move { entry, category }),
        1 => (0usize..16).prop_map(|entry| Op::Remove { entry }),
        1 => "[a-z]{1,6}".prop_map(|name| Op::AddCategory { name }),
        1 => "[a-z ]{1,8}".prop_map(|text| Op::Comment { text }),
    ]
}

/// Applies one operation to a replica the way an author's device does: read, change, write the
/// difference.
fn apply(doc: &mut Automerge, replica: usize, step: usize, op: &Op) {
    let now = Timestamp(1_000_000 + step as i64 * 1000);
    let view = read_panel(doc).expect("read");
    let mut p = Published {
        categories: view.categories,
        entries: view.entries.into_iter().map(Arc::new).collect(),
        next_change: None,
    };
    if p.categories.is_empty() {
        p.categories = backstory_crdt::category::default_categories();
    }
    if change(&mut p, &mut [&mut *doc], replica, step, op) {
        apply_published(doc, &p, now).expect("apply");
    }
}

/// Changes `p` as one operation of `replica` says, with ids made from both; a comment is written
/// into `docs` instead (a change to the outbox that is not a publication). Returns whether there
/// is something to publish.
fn change(
    p: &mut Published,
    docs: &mut [&mut Automerge],
    replica: usize,
    step: usize,
    op: &Op,
) -> bool {
    let now = Timestamp(1_000_000 + step as i64 * 1000);
    let cat = |i: usize, p: &Published| p.categories[i % p.categories.len()].id.clone();
    match op {
        Op::Add { text, category } => {
            let category = cat(*category, p);
            p.entries.push(Arc::new(Entry {
                id: EntryId::new(format!("r{replica}s{step}")),
                category,
                kind: Kind::Text,
                text: text.clone(),
                created: now,
                edited: now,
                source: Source::Manual,
            }));
        }
        Op::Edit { entry, text } if !p.entries.is_empty() => {
            let n = p.entries.len();
            let e = Arc::make_mut(&mut p.entries[entry % n]);
            e.text = text.clone();
            e.edited = now;
        }
        Op::Move { entry, category } if !p.entries.is_empty() => {
            let category = cat(*category, p);
            let n = p.entries.len();
            Arc::make_mut(&mut p.entries[entry % n]).category = category;
        }
        Op::Remove { entry } if !p.entries.is_empty() => {
            let n = p.entries.len();
            p.entries.remove(entry % n);
        }
        Op::AddCategory { name } => p.categories.push(Category {
            id: CategoryId::new(format!("r{replica}c{step}")),
            name: Some(name.clone()),
        }),
        Op::Comment { text } => {
            for doc in docs.iter_mut() {
                let c = Comment {
                    id: format!("r{replica}m{step}"),
                    entry: None,
                    text: text.clone(),
                    at: now.0,
                    audio: None,
                };
                feedback::add_comment(doc, c, now).expect("comment");
            }
            return false;
        }
        _ => return false,
    }
    true
}

/// `n` writers of one outbox, each with its own actor (1, 2, …).
fn writers(n: u8) -> Vec<Automerge> {
    let base = new_outbox("owner", Timestamp(0)).expect("outbox");
    (0..n)
        .map(|i| base.fork().with_actor(ActorId::from(vec![i + 1; 16])))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn publishing_against_the_last_publication_writes_what_reading_the_panel_back_writes(
        ops in proptest::collection::vec(op(), 1..40),
    ) {
        let base = new_outbox("owner", Timestamp(0)).expect("outbox");
        let mut kept_doc = base.fork().with_actor(ActorId::from(vec![1u8; 16]));
        let mut plain = base.fork().with_actor(ActorId::from(vec![1u8; 16]));
        let mut p = Published {
            categories: backstory_crdt::category::default_categories(),
            entries: Vec::new(),
            next_change: None,
        };
        let mut last: Option<Written> = None;
        for (step, op) in ops.iter().enumerate() {
            if !change(&mut p, &mut [&mut kept_doc, &mut plain], 0, step, op) {
                continue;
            }
            let now = Timestamp(1_000_000 + step as i64 * 1000);
            let (kept_hash, written) =
                apply_published_after(&mut kept_doc, &p, now, last.take()).expect("apply kept");
            prop_assert!(written.is_some());
            last = written;
            let plain_hash = apply_published(&mut plain, &p, now).expect("apply plain");
            // A change exactly when reading the panel back finds one, and the same change.
            prop_assert_eq!(kept_hash, plain_hash);
            prop_assert_eq!(kept_doc.get_heads(), plain.get_heads());
            let shown = read_panel(&kept_doc).expect("read");
            prop_assert_eq!(&shown, &read_panel(&plain).expect("read"));
            prop_assert_eq!(&shown.categories, &p.categories);
            let mut expected: Vec<Entry> = p.entries.iter().map(|e| Entry::clone(e)).collect();
            expected.sort_by(|a, b| (a.created, &a.id).cmp(&(b.created, &b.id)));
            prop_assert_eq!(&shown.entries, &expected);
        }
    }

    #[test]
    fn a_kept_view_brought_forward_is_the_view_computed_again(
        steps in proptest::collection::vec((0usize..2, op(), 0u8..4, any::<bool>()), 1..40),
    ) {
        let mut writers = writers(2);
        // The viewer's copy, under an actor of its own (it writes nothing into the panel).
        let mut viewer = writers[0].fork().with_actor(ActorId::from(vec![9u8; 16]));
        let mut kept = KeptChanges::new(&viewer, Vec::new()).expect("view");
        for (step, (w, op, look, merge)) in steps.iter().enumerate() {
            apply(&mut writers[*w], *w, step, op);
            // Changes arrive one writer at a time, now and then several at once.
            if *merge {
                viewer.merge(&mut writers[*w]).expect("merge");
            }
            let seen = match look {
                // The viewer looks at what it has.
                0 => Some(heads_to_strings(&viewer.get_heads())),
                // Heads it does not have yet (count as never seen until they arrive).
                1 => Some(heads_to_strings(&writers[*w].get_heads())),
                _ => None,
            };
            if let Some(seen) = seen {
                kept = KeptChanges::new(&viewer, seen).expect("view");
            }
            kept = kept.update(&viewer).expect("update");
            let seen: Vec<_> = kept.seen().iter().map(|h| h.parse().unwrap()).collect();
            prop_assert_eq!(kept.changes(), &changes_since(&viewer, &seen).expect("changes"));
        }
        for w in writers.iter_mut() {
            viewer.merge(w).expect("merge");
        }
        kept = kept.update(&viewer).expect("update");
        let seen: Vec<_> = kept.seen().iter().map(|h| h.parse().unwrap()).collect();
        prop_assert_eq!(kept.changes(), &changes_since(&viewer, &seen).expect("changes"));
    }

    #[test]
    fn three_replicas_converge_in_any_delivery_order(
        ops in proptest::collection::vec((0usize..3, op()), 1..24),
        order in proptest::collection::vec(any::<prop::sample::Index>(), 0..64),
        dups in proptest::collection::vec(any::<prop::sample::Index>(), 0..16),
    ) {
        let mut replicas = writers(3);
        for (step, (r, op)) in ops.iter().enumerate() {
            apply(&mut replicas[*r], *r, step, op);
        }
        // Every change from every replica, shuffled, some delivered twice.
        let mut all: Vec<Change> = replicas.iter().flat_map(|d| d.get_changes(&[])).collect();
        for (i, idx) in order.iter().enumerate() {
            let n = all.len();
            all.swap(i % n, idx.index(n));
        }
        let extra: Vec<Change> = dups.iter().map(|i| all[i.index(all.len())].clone()).collect();
        all.extend(extra);
        for doc in replicas.iter_mut() {
            // Deliver in a different rotation to each replica.
            let k = doc.get_actor().to_bytes()[0] as usize % all.len().max(1);
            let mut mine = all.clone();
            mine.rotate_left(k);
            doc.apply_changes(mine).expect("apply changes");
        }
        let heads: Vec<_> = replicas.iter().map(|d| d.get_heads()).collect();
        prop_assert_eq!(&heads[0], &heads[1]);
        prop_assert_eq!(&heads[1], &heads[2]);
        let panels: Vec<_> = replicas.iter().map(|d| read_panel(d).expect("read")).collect();
        prop_assert_eq!(&panels[0], &panels[1]);
        prop_assert_eq!(&panels[1], &panels[2]);
        let fb: Vec<_> = replicas.iter().map(|d| feedback::read_feedback(d).expect("fb")).collect();
        prop_assert_eq!(&fb[0], &fb[1]);
        prop_assert_eq!(&fb[1], &fb[2]);
    }

    #[test]
    fn publish_never_contains_a_hidden_or_unrevealed_entry(
        rules in proptest::collection::vec((0u8..4, 0i64..10_000), 0..40),
        now in 0i64..10_000,
    ) {
        let mut m = MasterPanel::default();
        for (i, (kind, t)) in rules.iter().enumerate() {
            let visibility = match kind {
                0 => Visibility::Visible,
                1 => Visibility::Hidden,
                2 => Visibility::RevealAfter(Timestamp(*t)),
                _ => Visibility::VisibleUntil(Timestamp(*t)),
            };
            m.add_entry(MasterEntry {
                entry: Arc::new(Entry {
                    id: EntryId::new(format!("e{i}")),
                    category: DefaultCategory::Books.id(),
                    kind: Kind::Text,
                    text: format!("text {i}"),
                    created: Timestamp(i as i64),
                    edited: Timestamp(i as i64),
                    source: Source::Manual,
                }),
                visibility,
                note: None,
            }).expect("add");
        }
        let p = publish(&m, Timestamp(now));
        for e in &p.entries {
            let rule = m.entry(&e.id).expect("entry").visibility;
            prop_assert!(rule.is_visible_at(Timestamp(now)), "{rule:?} published at {now}");
        }
        let hidden_count = m.entries.iter().filter(|e| !e.visibility.is_visible_at(Timestamp(now))).count();
        prop_assert_eq!(p.entries.len() + hidden_count, m.entries.len());
        if let Some(next) = p.next_change {
            prop_assert!(next > Timestamp(now));
            prop_assert_ne!(publish(&m, next).entries, p.entries.clone());
        }
        // What reaches the outbox is exactly what was published.
        let mut doc = new_outbox("o", Timestamp(0)).expect("outbox");
        apply_published(&mut doc, &p, Timestamp(now)).expect("apply");
        let published: Vec<Entry> = p.entries.iter().map(|e| Entry::clone(e)).collect();
        prop_assert_eq!(read_panel(&doc).expect("read").entries, published);
    }

    #[test]
    fn every_character_is_credited_to_the_change_that_wrote_it(
        ops in proptest::collection::vec((0usize..2, op()), 1..30),
    ) {
        // Two writers of one outbox, merged: runs of characters alternate between changes.
        let mut docs = writers(2);
        for (step, (r, op)) in ops.iter().enumerate() {
            apply(&mut docs[*r], *r, step, op);
            if step % 3 == 2 {
                let (a, b) = docs.split_at_mut(1);
                a[0].merge(&mut b[0]).expect("merge");
                b[0].merge(&mut a[0]).expect("merge");
            }
        }
        let doc = &docs[0];
        let changes = backstory_crdt::changes_since(doc, &[]).expect("changes");
        let panel = doc.get(ROOT, "panel").expect("get").expect("panel").1;
        let entries = doc.get(&panel, "entries").expect("get").expect("entries").1;
        for e in &changes.entries {
            let whole: String = e.spans.iter().map(|s| s.text.as_str()).collect();
            prop_assert_eq!(&whole, &e.entry.text);
            // Each character's change, looked up one by one.
            let entry = doc.get(&entries, e.entry.id.as_str()).expect("get").expect("entry").1;
            let text = doc.get(&entry, "text").expect("get").expect("text").1;
            let mut by_char = Vec::new();
            for item in doc.list_range(&text, ..) {
                let hash = doc.hash_for_opid(&item.id()).expect("hash");
                let chars = match &item.value {
                    ValueRef::Scalar(ScalarValueRef::Str(s)) => s.len(),
                    _ => 0,
                };
                by_char.extend(std::iter::repeat_n(hash.to_string(), chars));
            }
            let by_span: Vec<String> = e
                .spans
                .iter()
                .flat_map(|s| std::iter::repeat_n(s.change.clone(), s.text.len()))
                .collect();
            prop_assert_eq!(by_span, by_char);
        }
    }

    #[test]
    fn a_saved_and_loaded_document_equals_the_original(
        ops in proptest::collection::vec(op(), 0..20),
    ) {
        let mut doc = new_outbox("owner", Timestamp(0)).expect("outbox");
        for (step, op) in ops.iter().enumerate() {
            apply(&mut doc, 0, step, op);
        }
        let loaded = Automerge::load(&doc.save()).expect("load");
        prop_assert_eq!(loaded.get_heads(), doc.get_heads());
        prop_assert_eq!(read_panel(&loaded).expect("read"), read_panel(&doc).expect("read"));
        prop_assert_eq!(
            feedback::read_feedback(&loaded).expect("fb"),
            feedback::read_feedback(&doc).expect("fb")
        );
    }
}
