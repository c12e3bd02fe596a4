//! The engine's side of networking: starting the endpoint, keeping the access table and the
//! allow-list in step with the contacts, and connecting contacts.

use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use futures::FutureExt;
use futures::future::BoxFuture;

use super::{Engine, Inner};
use crate::access::{AccessTable, DocAccess};
use crate::contact::Contact;
use crate::error::EngineError;
use crate::net::{Net, NetConfig, NetworkMode, PairingHandler, PeerState};

/// Hands pairing requests from the network to the engine without keeping it alive.
pub(super) struct PairingBridge(pub(super) Weak<Inner>);

impl std::fmt::Debug for PairingBridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PairingBridge")
    }
}

impl PairingHandler for PairingBridge {
    fn answer(
        &self,
        peer: String,
        mut send: iroh::endpoint::SendStream,
        mut recv: iroh::endpoint::RecvStream,
    ) -> BoxFuture<'static, ()> {
        let weak = self.0.clone();
        async move {
            let Some(inner) = weak.upgrade() else {
                return;
            };
            let engine = Engine { inner };
            if let Err(e) = engine.answer_join(peer.clone(), &mut send, &mut recv).await {
                tracing::warn!("pairing with {peer} failed: {e}");
            }
            let _already_closed = send.finish();
        }
        .boxed()
    }
}

/// How many times (100 ms apart) to try the port used last time before taking another.
const PORT_RETRIES: u32 = 20;

impl Engine {
    /// Starts networking in the mode from settings (or `BACKSTORY_NETWORK`), on the port used last
    /// time when it is free.
    pub(super) async fn start_net(&self, given: Option<NetworkMode>) -> Result<(), EngineError> {
        let mode = match given {
            Some(m) => m,
            None => {
                let setting = self.blocking(|s| s.setting("network")).await?;
                NetworkMode::effective(setting.as_deref())
                    .map_err(|e| EngineError::InvalidInput(e.to_string()))?
            }
        };
        let port: u16 = self
            .blocking(|s| s.setting("port"))
            .await?
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let lan = self.blocking(|s| s.setting("lan_discovery")).await?;
        let lan_discovery = crate::net::mode::lan_discovery(lan.as_deref());
        let config = |port| NetConfig {
            key: self.inner.key.clone(),
            mode: mode.clone(),
            lan_discovery,
            port,
            repo: self.inner.repo.clone(),
            pairing: Arc::new(PairingBridge(Arc::downgrade(&self.inner))),
            events: self.inner.events.clone(),
            blobs: iroh_blobs::BlobsProtocol::new(
                &self.inner.blobs,
                Some(self.inner.grants.gatekeeper()),
            ),
        };
        // Contacts that dial me know this port; a previous run of mine may still be letting go of
        // it, so it is worth a short wait before taking another one they do not know.
        let mut attempt = 0;
        let net = loop {
            match Net::start(config(port)).await {
                Ok(n) => break n,
                Err(e) if port != 0 && attempt < PORT_RETRIES => {
                    tracing::debug!("port {port} is busy ({e}); trying again");
                    attempt += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) if port != 0 => {
                    tracing::info!("port {port} is taken ({e}); using another");
                    break Net::start(config(0)).await?;
                }
                Err(e) => return Err(e.into()),
            }
        };
        if let Some(p) = net.port() {
            self.blocking(move |s| s.set_setting("port", &p.to_string()))
                .await?;
        }
        // Set once, right after open; a second set cannot happen.
        let _set = self.inner.net.set(net);
        self.refresh_access().await?;
        for contact in self.blocking(|s| s.contacts()).await? {
            self.connect_contact(&contact).await?;
        }
        Ok(())
    }

    /// The running network.
    pub(super) fn net(&self) -> Result<Net, EngineError> {
        self.inner
            .net
            .get()
            .cloned()
            .ok_or_else(|| EngineError::InvalidInput("networking is not running".into()))
    }

    /// My direct addresses for a peer to dial, in local mode only.
    pub(super) fn local_addrs(&self) -> Vec<SocketAddr> {
        match self.net() {
            Ok(net) if *net.mode() == NetworkMode::Local => net.direct_addresses(),
            _ => Vec::new(),
        }
    }

    /// Rebuilds who may sync which document from the contact list, and the handshake allow-list.
    pub(super) async fn refresh_access(&self) -> Result<(), EngineError> {
        let me = self.id();
        let contacts = self.blocking(|s| s.contacts()).await?;
        let mut table = AccessTable::new();
        let mut peers = Vec::new();
        for c in &contacts {
            let Some(peer) = &c.peer else { continue };
            peers.push(peer.clone());
            table.insert(
                c.outbox.clone(),
                DocAccess {
                    owner: me.clone(),
                    readers: vec![peer.clone()],
                },
            );
            if let Some(inbound) = &c.inbound {
                table.insert(
                    inbound.clone(),
                    DocAccess {
                        owner: peer.clone(),
                        readers: Vec::new(),
                    },
                );
            }
        }
        self.inner.access.send_replace(Arc::new(table));
        if let Ok(net) = self.net() {
            net.set_allowed(&peers);
        }
        Ok(())
    }

    /// Starts syncing with a paired contact.
    pub(super) async fn connect_contact(&self, contact: &Contact) -> Result<(), EngineError> {
        let (Some(peer), Ok(net)) = (contact.peer.clone(), self.net()) else {
            return Ok(());
        };
        let addrs = self.blocking(move |s| s.peer_addrs(&peer)).await?;
        net.connect(contact, &addrs);
        self.follow_inbound(contact);
        self.watch_sync(contact);
        Ok(())
    }

    /// Bytes on all sync streams since start.
    pub fn traffic(&self) -> crate::net::TrafficCount {
        self.net().map(|n| n.traffic()).unwrap_or_default()
    }

    /// Whether a contact's device is reachable now.
    pub fn peer_state(&self, contact: &Contact) -> PeerState {
        match (&contact.peer, self.net()) {
            (Some(peer), Ok(net)) => net.state(peer),
            _ => PeerState::Offline,
        }
    }
}
