//! Who may sync which document: samod's share policy, fed from the contact list.
//!
//! Every synced document has one writer. For my outbox to a contact, I am the owner and the contact
//! is a reader (`ReadOnly`: they receive my changes, theirs are ignored). For a contact's outbox to
//! me, they are the owner (`ReadWrite`: their changes are accepted, and they are asked for it).
//! Everyone else gets `None`. The table lives in a `watch`, and each (document, peer) stream samod
//! opens keeps following it, so grants and revocations take effect on live connections.

use std::collections::HashMap;
use std::sync::Arc;

use futures::Stream;
use samod::{DocumentId, PeerId, ShareConfig, SharePolicy};
use tokio::sync::watch;

/// One document's owner and readers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DocAccess {
    /// The one peer whose changes are accepted.
    pub owner: String,
    /// Peers that receive the document but cannot change it.
    pub readers: Vec<String>,
    /// Syncing paused (a contact's panel grew past my limit): nobody gets or gives anything.
    pub paused: bool,
}

/// The access table: document id → access.
pub type AccessTable = HashMap<String, DocAccess>;

/// The decision for one peer on one document.
pub fn decide(table: &AccessTable, doc: &str, peer: &str) -> ShareConfig {
    match table.get(doc) {
        Some(a) if a.paused => ShareConfig::none(),
        Some(a) if a.owner == peer => ShareConfig::read_write(),
        Some(a) if a.readers.iter().any(|r| r == peer) => ShareConfig::read_only(),
        _ => ShareConfig::none(),
    }
}

/// samod's share policy over a live access table.
#[derive(Clone, Debug)]
pub struct Access {
    table: watch::Receiver<Arc<AccessTable>>,
}

impl Access {
    /// A policy that follows `table`.
    pub fn new(table: watch::Receiver<Arc<AccessTable>>) -> Self {
        Self { table }
    }
}

impl SharePolicy for Access {
    fn share(
        &self,
        doc_id: DocumentId,
        peer_id: PeerId,
    ) -> impl Stream<Item = ShareConfig> + Send + 'static {
        let doc = doc_id.to_string();
        let peer = peer_id.to_string();
        let rx = self.table.clone();
        futures::stream::unfold((rx, true), move |(mut rx, first)| {
            let (doc, peer) = (doc.clone(), peer.clone());
            async move {
                if !first && rx.changed().await.is_err() {
                    // The engine is gone: end the stream, the last decision stays until the
                    // connection closes with it.
                    return None;
                }
                let decision = decide(&rx.borrow_and_update(), &doc, &peer);
                Some((decision, (rx, false)))
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use samod::ShareAccess;

    #[test]
    fn owner_writes_readers_read_others_get_nothing() {
        let mut t = AccessTable::new();
        t.insert(
            "doc".into(),
            DocAccess {
                owner: "me".into(),
                readers: vec!["bob".into()],
                paused: false,
            },
        );
        assert_eq!(decide(&t, "doc", "me").access, ShareAccess::ReadWrite);
        assert_eq!(decide(&t, "doc", "bob").access, ShareAccess::ReadOnly);
        assert_eq!(decide(&t, "doc", "carol").access, ShareAccess::None);
        assert_eq!(decide(&t, "other", "bob").access, ShareAccess::None);
        t.get_mut("doc").unwrap().paused = true;
        assert_eq!(decide(&t, "doc", "me").access, ShareAccess::None);
        assert_eq!(decide(&t, "doc", "bob").access, ShareAccess::None);
    }

    #[tokio::test]
    async fn streams_follow_later_grants_and_revocations() {
        use futures::StreamExt;
        let (tx, rx) = watch::channel(Arc::new(AccessTable::new()));
        let policy = Access::new(rx);
        let doc = DocumentId::try_from(vec![7u8; 16]).expect("document id");
        let mut s = Box::pin(policy.share(doc.clone(), PeerId::from("bob")));
        assert_eq!(s.next().await.map(|c| c.access), Some(ShareAccess::None));
        let mut t = AccessTable::new();
        t.insert(
            doc.to_string(),
            DocAccess {
                owner: "me".into(),
                readers: vec!["bob".into()],
                paused: false,
            },
        );
        tx.send_replace(Arc::new(t));
        assert_eq!(
            s.next().await.map(|c| c.access),
            Some(ShareAccess::ReadOnly)
        );
        tx.send_replace(Arc::new(AccessTable::new()));
        assert_eq!(s.next().await.map(|c| c.access), Some(ShareAccess::None));
    }
}
