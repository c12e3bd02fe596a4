//! The "syncing" state of a contact: connected, with changes still on their way in either
//! direction — mine not yet acknowledged by them, or theirs announced but not yet here.

use std::time::Duration;

use automerge::ReadDoc;
use futures::stream::BoxStream;
use futures::{FutureExt, StreamExt};
use samod::{DocHandle, ShareAccess};

use super::device::Device;
use super::documents::Documents;
use crate::contact::{Contact, ContactId};
use crate::net::Net;

/// How long a change of the sync state must settle before it is reported, so a single edit
/// delivered in a few milliseconds does not make the contact flicker.
const SETTLE: Duration = Duration::from_millis(250);

/// Live connections on `handle` with a peer allowed to read it (the contact, for the two
/// documents shared with them).
fn shared_with(handle: &DocHandle) -> Vec<samod::PeerDocState> {
    handle
        .peers()
        .0
        .into_values()
        .filter(|s| {
            s.share_config
                .is_some_and(|c| c.access != ShareAccess::None)
        })
        .collect()
}

/// Whether the contact still lacks some of my changes to `handle`.
fn they_lack_mine(handle: &DocHandle) -> bool {
    let peers = shared_with(handle);
    let mine = handle.with_document(|d| d.get_heads());
    peers.iter().any(|s| s.shared_heads.as_ref() != Some(&mine))
}

/// Whether the contact announced changes to `handle` that have not arrived yet.
fn i_lack_theirs(handle: &DocHandle) -> bool {
    let peers = shared_with(handle);
    handle.with_document(|d| {
        peers.iter().any(|s| match &s.their_heads {
            Some(theirs) => theirs.iter().any(|h| d.get_change_by_hash(h).is_none()),
            None => true,
        })
    })
}

fn peer_changes(handle: Option<&DocHandle>) -> BoxStream<'static, ()> {
    match handle {
        Some(h) => h.peers().1.map(|_| ()).boxed(),
        None => futures::stream::pending().boxed(),
    }
}

/// Keeps the contact's state at "syncing" while either document shared with them is out of step on
/// a live connection, and back at "online" once both are in step.
pub(crate) fn watch(device: Device, docs: Documents, net: Net, contact: &Contact) {
    let Some(peer) = contact.peer.clone() else {
        return;
    };
    let id = contact.id.clone();
    let (outbox, inbound) = (contact.outbox.clone(), contact.inbound.clone());
    tokio::spawn(async move {
        if let Err(e) = follow(&device, &docs, &net, &id, &peer, &outbox, inbound).await {
            tracing::debug!("sync state of {id} no longer followed: {e}");
        }
    });
}

async fn follow(
    device: &Device,
    docs: &Documents,
    net: &Net,
    id: &ContactId,
    peer: &str,
    outbox: &str,
    inbound: Option<String>,
) -> Result<(), crate::error::EngineError> {
    let mut stop = device.stopping();
    let Some(mine) = docs.find(outbox).await? else {
        return Ok(());
    };
    let mut theirs: Option<DocHandle> = None;
    loop {
        if theirs.is_none()
            && let Some(doc) = &inbound
        {
            theirs = docs.find(doc).await.ok().flatten();
        }
        let waiting_for_theirs = inbound.is_some() && theirs.is_none();
        let mut changes =
            futures::stream::select(peer_changes(Some(&mine)), peer_changes(theirs.as_ref()));
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            tokio::select! {
                biased;
                _ = stop.changed() => return Ok(()),
                next = changes.next() => if next.is_none() { return Ok(()) },
                // Their panel is not here yet: look again now and then.
                _ = tokio::time::sleep(Duration::from_secs(1)), if waiting_for_theirs => {}
            }
            tokio::time::sleep(SETTLE).await;
            while let Some(Some(())) = changes.next().now_or_never() {}
            let cid = id.clone();
            if device.blocking(move |s| s.contact(&cid)).await?.is_none() {
                net.set_syncing(peer, false);
                return Ok(());
            }
            let syncing = they_lack_mine(&mine) || theirs.as_ref().is_some_and(i_lack_theirs);
            net.set_syncing(peer, syncing);
            if waiting_for_theirs {
                break;
            }
        }
    }
}
