//! The network part: starting the endpoint, keeping the access table and the handshake allow-list
//! in step with the contacts, dialing contacts, and turning what the network reports (peers coming
//! and going) into contact events.

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock, RwLock};

use tokio::sync::watch;

use super::device::Device;
use super::documents::Documents;
use super::media::Media;
use crate::access::{AccessTable, DocAccess};
use crate::contact::{Contact, ContactId, PeerState};
use crate::error::EngineError;
use crate::event::Event;
use crate::net::{Net, NetConfig, NetEvent, NetworkMode, PairingHandler};

/// How many times (100 ms apart) to try the port used last time before taking another.
const PORT_RETRIES: u32 = 20;

/// The network part; cheap to clone.
#[derive(Clone)]
pub(crate) struct Network {
    device: Device,
    docs: Documents,
    media: Media,
    net: Arc<OnceLock<Net>>,
    /// Who may sync which document; samod's share policy follows it.
    access: watch::Sender<Arc<AccessTable>>,
    /// Which contact each paired endpoint is.
    contacts: Arc<RwLock<HashMap<String, ContactId>>>,
    /// Contacts' documents whose syncing is paused: grown past my limit.
    paused: Arc<RwLock<HashSet<String>>>,
}

impl Network {
    pub(crate) fn new(
        device: Device,
        docs: Documents,
        media: Media,
        access: watch::Sender<Arc<AccessTable>>,
    ) -> Self {
        Self {
            device,
            docs,
            media,
            net: Arc::default(),
            access,
            contacts: Arc::default(),
            paused: Arc::default(),
        }
    }

    /// Starts networking in the mode given, else from settings (or `BACKSTORY_NETWORK`), on the
    /// port used last time when it is free.
    pub(crate) async fn start<H: PairingHandler>(
        &self,
        given: Option<NetworkMode>,
        loopback: Option<std::net::IpAddr>,
        pairing: Arc<H>,
    ) -> Result<(), EngineError> {
        let mode = match given {
            Some(m) => m,
            None => {
                let setting = self.device.blocking(|s| s.setting("network")).await?;
                NetworkMode::effective(setting.as_deref())
                    .map_err(|e| EngineError::InvalidInput(e.to_string()))?
            }
        };
        let port: u16 = self
            .device
            .blocking(|s| s.setting("port"))
            .await?
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let lan = self.device.blocking(|s| s.setting("lan_discovery")).await?;
        let lan_discovery = crate::net::mode::lan_discovery(lan.as_deref());
        let config = |port| NetConfig {
            key: self.device.key().clone(),
            mode: mode.clone(),
            lan_discovery,
            port,
            repo: self.docs.repo().clone(),
            pairing: pairing.clone(),
            blobs: self.media.protocol(),
            access: self.access.subscribe(),
            loopback,
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
            self.device
                .blocking(move |s| s.set_setting("port", &p.to_string()))
                .await?;
        }
        self.forward_events(net.events());
        // Set once, right after open; a second set cannot happen.
        let _set = self.net.set(net);
        Ok(())
    }

    /// Turns the network's peer states into contact states on the engine's event stream.
    fn forward_events(&self, mut events: tokio::sync::broadcast::Receiver<NetEvent>) {
        let (device, contacts) = (self.device.clone(), self.contacts.clone());
        let mut stop = self.device.stopping();
        tokio::spawn(async move {
            loop {
                let event = tokio::select! {
                    biased;
                    _ = stop.changed() => return,
                    e = events.recv() => e,
                };
                match event {
                    Ok(NetEvent::PeerState { peer, state }) => {
                        let contact = contacts
                            .read()
                            .unwrap_or_else(|p| p.into_inner())
                            .get(&peer)
                            .cloned();
                        if let Some(contact) = contact {
                            device.emit(Event::ContactState { contact, state });
                        }
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!("missed {n} network events");
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                }
            }
        });
    }

    /// The running network.
    pub(crate) fn net(&self) -> Result<Net, EngineError> {
        self.net
            .get()
            .cloned()
            .ok_or_else(|| EngineError::InvalidInput("networking is not running".into()))
    }

    /// The network mode in force, and my direct addresses.
    pub(crate) fn describe(&self) -> (String, Vec<SocketAddr>) {
        match self.net.get() {
            Some(n) => (n.mode().to_string(), n.direct_addresses()),
            None => (String::new(), Vec::new()),
        }
    }

    /// My direct addresses for a peer to dial, in local mode only.
    pub(crate) fn local_addrs(&self) -> Vec<SocketAddr> {
        match self.net() {
            Ok(net) if *net.mode() == NetworkMode::Local => net.direct_addresses(),
            _ => Vec::new(),
        }
    }

    /// Rebuilds who may sync which document from the contact list, and the handshake allow-list.
    pub(crate) fn refresh_access(&self, contacts: &[Contact]) {
        let me = self.device.id();
        let mut table = AccessTable::new();
        let mut peers = Vec::new();
        let mut ids = HashMap::new();
        for c in contacts {
            let Some(peer) = &c.peer else { continue };
            peers.push(peer.clone());
            ids.insert(peer.clone(), c.id.clone());
            table.insert(
                c.outbox.clone(),
                DocAccess {
                    owner: me.clone(),
                    readers: vec![peer.clone()],
                    paused: false,
                },
            );
            if let Some(inbound) = &c.inbound {
                table.insert(
                    inbound.clone(),
                    DocAccess {
                        owner: peer.clone(),
                        readers: Vec::new(),
                        paused: self.is_paused(inbound),
                    },
                );
            }
        }
        self.access.send_replace(Arc::new(table));
        *self.contacts.write().unwrap_or_else(|p| p.into_inner()) = ids;
        if let Ok(net) = self.net() {
            net.set_allowed(&peers);
        }
    }

    /// Whether syncing a contact's document is paused.
    pub(crate) fn is_paused(&self, doc: &str) -> bool {
        self.paused
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(doc)
    }

    /// Pauses or resumes syncing a contact's document at once, on live connections too; whether
    /// that changed anything.
    pub(crate) fn set_paused(&self, doc: &str, paused: bool) -> bool {
        let changed = {
            let mut set = self.paused.write().unwrap_or_else(|p| p.into_inner());
            if paused {
                set.insert(doc.to_string())
            } else {
                set.remove(doc)
            }
        };
        if changed {
            self.access.send_modify(|table| {
                if let Some(a) = Arc::make_mut(table).get_mut(doc) {
                    a.paused = paused;
                }
            });
        }
        changed
    }

    /// Starts syncing with a paired contact.
    pub(crate) async fn connect(&self, contact: &Contact) -> Result<(), EngineError> {
        let (Some(peer), Ok(net)) = (contact.peer.clone(), self.net()) else {
            return Ok(());
        };
        let addrs = self.device.blocking(move |s| s.peer_addrs(&peer)).await?;
        net.connect(contact, &addrs);
        super::syncing::watch(self.device.clone(), self.docs.clone(), net, contact);
        Ok(())
    }

    /// Cuts a removed contact off: no more blobs, no more connections.
    pub(crate) fn disconnect(&self, contact: &Contact) {
        if let Some(peer) = &contact.peer {
            if let Ok(id) = peer.parse() {
                self.media.grants().revoke(&id);
            }
            if let Ok(net) = self.net() {
                net.disconnect(peer);
            }
        }
    }

    /// Bytes on all sync streams since start.
    pub(crate) fn traffic(&self) -> crate::net::TrafficCount {
        self.net().map(|n| n.traffic()).unwrap_or_default()
    }

    /// Whether a contact's device is reachable now.
    pub(crate) fn state(&self, contact: &Contact) -> PeerState {
        match (&contact.peer, self.net()) {
            (Some(peer), Ok(net)) => net.state(peer),
            _ => PeerState::Offline,
        }
    }

    /// Stops networking.
    pub(crate) async fn shutdown(&self) {
        if let Some(net) = self.net.get() {
            net.shutdown().await;
        }
    }
}
