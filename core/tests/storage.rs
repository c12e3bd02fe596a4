//! samod's document storage on SQLite: range semantics, and documents that survive a reopen.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_core::storage::DocStorage;
use backstory_core::store::Store;
use backstory_crdt::automerge::{Automerge, ROOT, ReadDoc, transaction::Transactable};
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

#[tokio::test]
async fn a_document_written_through_samod_is_there_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let open = || async {
        Repo::build_tokio()
            .with_storage(DocStorage::new(Store::open(dir.path()).unwrap()))
            .with_share_policy(ShareConfig::none())
            .load()
            .await
    };
    let repo = open().await;
    let handle = repo.create(Automerge::new()).await.unwrap();
    let id = handle.document_id().clone();
    for i in 0..50i64 {
        handle.with_document(|d| {
            let mut tx = d.transaction();
            tx.put(ROOT, format!("k{i}"), i).unwrap();
            tx.commit();
        });
    }
    repo.stop().await;

    let repo = open().await;
    let handle = repo.find(id).await.unwrap().expect("document is stored");
    let n = handle.with_document(|d| d.keys(ROOT).count());
    assert_eq!(n, 50);
    repo.stop().await;
}
