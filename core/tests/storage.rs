//! samod's document storage on SQLite: range semantics, and documents that survive a reopen.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_core::storage::DocStorage;
use backstory_core::store::Store;
use backstory_crdt::automerge::{Automerge, ROOT, ReadDoc, ScalarValue, transaction::Transactable};
use samod::storage::{Storage, StorageKey};
use samod::{Repo, ShareConfig};

fn key(parts: &[&str]) -> StorageKey {
    StorageKey::from_parts(parts.iter().copied()).unwrap()
}

#[tokio::test]
async fn ranges_match_whole_components_only() {
    let dir = tempfile::tempdir().unwrap();
    let storage = DocStorage::new(Store::open(dir.path()).unwrap());
    for k in [
        &["a", "b"][..],
        &["a", "bc"],
        &["ab", "x"],
        &["a"],
        &["a", "b", "c"],
    ] {
        storage.put(key(k), k.join("/").into_bytes()).await;
    }
    let mut got: Vec<String> = storage
        .load_range(key(&["a", "b"]))
        .await
        .into_values()
        .map(|v| String::from_utf8(v).unwrap())
        .collect();
    got.sort();
    assert_eq!(got, ["a/b", "a/b/c"]);
    assert_eq!(storage.load_range(key(&["a"])).await.len(), 4, "not `ab/x`");
    storage.delete(key(&["a", "b"])).await;
    assert_eq!(storage.load(key(&["a", "b"])).await, None);
    assert_eq!(
        storage.load(key(&["a", "bc"])).await,
        Some(b"a/bc".to_vec())
    );
    assert_eq!(storage.failure(), None);
}

async fn open_repo(dir: &std::path::Path) -> Repo {
    Repo::build_tokio()
        .with_storage(DocStorage::new(Store::open(dir).unwrap()))
        .with_share_policy(ShareConfig::none())
        .load()
        .await
}

/// Puts one value at the document's root, as one change.
fn put(handle: &samod::DocHandle, key: String, value: impl Into<ScalarValue>) {
    handle.with_document(|d| {
        let mut tx = d.transaction();
        tx.put(ROOT, key, value).unwrap();
        tx.commit();
    });
}

#[tokio::test]
async fn a_document_written_through_samod_is_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let repo = open_repo(dir.path()).await;
    let handle = repo.create(Automerge::new()).await.unwrap();
    let id = handle.document_id().clone();
    for i in 0..50i64 {
        put(&handle, format!("k{i}"), i);
    }
    repo.stop().await;

    let repo = open_repo(dir.path()).await;
    let handle = repo.find(id).await.unwrap().expect("document is stored");
    let n = handle.with_document(|d| d.keys(ROOT).count());
    assert_eq!(n, 50);
    repo.stop().await;
}

/// Text that compresses no better than a stored change does.
fn noise(seed: u8, len: usize) -> String {
    let mut out = blake3::Hasher::new().update(&[seed]).finalize_xof();
    let mut bytes = vec![0u8; len / 2];
    out.fill(&mut bytes);
    hex::encode(bytes)
}

/// samod writes each change beside the document's last snapshot and, now and then, the whole
/// document again (compaction). For a large document that rewrite costs far more than a change:
/// it comes only once the changes beside the snapshot weigh as much as it does, so its cost per
/// change does not grow with the document. Nothing is lost either way.
#[tokio::test]
async fn a_large_document_is_not_written_whole_every_few_changes() {
    let dir = tempfile::tempdir().unwrap();
    let repo = open_repo(dir.path()).await;
    let mut doc = Automerge::new();
    let mut tx = doc.transaction();
    tx.put(ROOT, "big", noise(0, 40_000)).unwrap();
    tx.commit();
    let handle = repo.create(doc).await.unwrap();
    let id = handle.document_id().clone();
    for i in 0..60i64 {
        put(&handle, format!("k{i}"), i);
        // Edits a moment apart, as a person makes them: each write is done before the next.
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    repo.stop().await;
    let storage = DocStorage::new(Store::open(dir.path()).unwrap());
    let chunks = |kind: &'static str| {
        let storage = storage.clone();
        let id = id.to_string();
        async move { storage.load_range(key(&[&id, kind])).await.len() }
    };
    // One snapshot (after the first ten changes), then each small change on its own.
    assert_eq!(chunks("snapshot").await, 1);
    let small = chunks("incremental").await;
    assert!(small >= 30, "{small} changes stored on their own");

    // Changes as heavy as the document: it is written whole again.
    let repo = open_repo(dir.path()).await;
    let handle = repo.find(id.clone()).await.unwrap().expect("stored");
    for i in 0..12u8 {
        put(&handle, format!("heavy{i}"), noise(i + 1, 8_000));
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    repo.stop().await;
    assert!(chunks("snapshot").await >= 1);
    let after = chunks("incremental").await;
    assert!(
        after < small,
        "{after} changes beside the snapshot, {small} before"
    );

    let repo = open_repo(dir.path()).await;
    let handle = repo.find(id).await.unwrap().expect("stored");
    let keys = handle.with_document(|d| d.keys(ROOT).count());
    assert_eq!(keys, 1 + 60 + 12);
    repo.stop().await;
}

/// A change written through samod is found among the latest durable writes at its heads, with
/// no trip to the store; once enough other chunks are written after it, only the store answers.
#[tokio::test]
async fn the_latest_writes_name_the_changes_they_made_durable() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let storage = DocStorage::new(store.clone());
    let repo = Repo::build_tokio()
        .with_storage(storage.clone())
        .with_share_policy(ShareConfig::none())
        .load()
        .await;
    let handle = repo.create(Automerge::new()).await.unwrap();
    let id = handle.document_id().clone();
    put(&handle, "a".into(), 1);
    let heads = handle.with_document(|d| d.get_heads());
    let mut written = storage.written();
    let found = tokio::time::timeout(std::time::Duration::from_secs(10), async {
        while !storage.recently_wrote(&id, &heads) {
            written.changed().await.unwrap();
        }
    })
    .await;
    assert!(
        found.is_ok(),
        "the change's write was never among the latest"
    );
    assert!(backstory_core::storage::holds(&store, &id, &heads).unwrap());

    for i in 0..300 {
        storage
            .put(key(&["other", "incremental", &format!("{i}")]), vec![1])
            .await;
    }
    assert!(!storage.recently_wrote(&id, &heads), "forgotten by now");
    assert!(backstory_core::storage::holds(&store, &id, &heads).unwrap());
    repo.stop().await;
}
