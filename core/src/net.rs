//! Networking: one iroh endpoint per device and one router with the pairing and sync protocols.
//!
//! - Unknown endpoint ids may only speak the pairing protocol: every other connection from an id
//!   that is not a contact is rejected in the handshake hook.
//! - Sync is samod over one bidirectional QUIC stream, its peer id pinned to the authenticated
//!   endpoint id. Of each pair of contacts, the one with the smaller endpoint id dials and keeps
//!   redialing with backoff; the other accepts. Short idle timeouts and keep-alives let a dead peer
//!   show offline within seconds.
//! - Never waits for "online": an offline start works at once.

pub mod blobs;
pub mod frames;
mod knock;
pub mod mode;
pub mod pair;
mod presence;

use std::collections::{HashMap, HashSet};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use futures::FutureExt;
use futures::future::BoxFuture;
use iroh::endpoint::{
    AfterHandshakeOutcome, Connection, EndpointHooks, QuicTransportConfig, VarInt, presets,
};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};
use iroh::{Endpoint, EndpointAddr, EndpointId, RelayMap, RelayMode, RelayUrl, SecretKey};
use samod::{AcceptorHandle, BackoffConfig, DialError, Dialer, PeerId, Repo, Transport};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::contact::Contact;
pub use crate::contact::PeerState;
pub use crate::error::NetError;
pub use knock::KNOCK_ALPN;
pub use mode::NetworkMode;
pub use pair::PairingHandler;
use presence::Presence;

/// The ALPN of document sync (2: messages deflated, see [`frames::Deflated`]).
pub const SYNC_ALPN: &[u8] = b"backstory/sync/2";
/// How long a connection may be silent before it counts as dead.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(6);
/// How often an idle connection is kept alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(1);
/// How long a dial may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The allow-list the handshake hook consults.
#[derive(Debug, Default, Clone)]
struct Allowed(Arc<RwLock<HashSet<EndpointId>>>);

impl EndpointHooks for Allowed {
    async fn after_handshake<'a>(&'a self, conn: &'a Connection) -> AfterHandshakeOutcome {
        if conn.alpn() == crate::pairing::ALPN {
            return AfterHandshakeOutcome::accept();
        }
        let known = self
            .0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&conn.remote_id());
        if known {
            AfterHandshakeOutcome::accept()
        } else {
            AfterHandshakeOutcome::Reject {
                error_code: VarInt::from_u32(403),
                reason: b"not a contact".to_vec(),
            }
        }
    }
}

/// The running network: endpoint, router, dialers and peer states.
#[derive(Clone, Debug)]
pub struct Net {
    inner: Arc<NetInner>,
}

#[derive(Debug)]
struct NetInner {
    endpoint: Endpoint,
    router: Router,
    mode: NetworkMode,
    allowed: Allowed,
    repo: Repo,
    dialers: Mutex<HashMap<String, Dialing>>,
    presence: Presence,
    traffic: Arc<Traffic>,
    events: broadcast::Sender<NetEvent>,
    gate: frames::Gate,
    refused: Arc<std::sync::atomic::AtomicU64>,
}

/// A contact this device dials: samod's dialer, and what it dials with (to dial again at once
/// when the contact knocks).
#[derive(Debug)]
struct Dialing {
    handle: samod::DialerHandle<NetError>,
    dialer: Arc<PeerDialer>,
}

/// How a contact is redialed while away: soon at first, then up to seconds apart.
fn backoff() -> BackoffConfig {
    BackoffConfig {
        initial_delay: Duration::from_millis(200),
        max_delay: Duration::from_secs(5),
        max_retries: None,
    }
}

/// What the network layer reports, on its own channel ([`Net::events`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetEvent {
    /// A peer's device came online, went offline, or started or finished syncing.
    PeerState {
        /// The peer's endpoint id.
        peer: String,
        /// Its state now.
        state: PeerState,
    },
}

#[derive(Debug)]
struct SyncProtocol {
    me: EndpointId,
    acceptor: AcceptorHandle,
    traffic: Arc<Traffic>,
    presence: Presence,
    gate: frames::Gate,
}

impl ProtocolHandler for SyncProtocol {
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        let peer = conn.remote_id().to_string();
        let (send, recv) = conn.accept_bi().await?;
        let transport = frames::transport(
            Counted {
                io: tokio::io::join(recv, send),
                traffic: self.traffic.clone(),
                conn: conn.clone(),
                me: self.me,
            },
            self.me,
            peer.clone(),
            self.gate.clone(),
        )
        .with_expected_peer_id(PeerId::from(peer.clone()));
        if self.acceptor.accept(transport).is_err() {
            conn.close(VarInt::from_u32(1), b"stopping");
            return Ok(());
        }
        self.presence.connected(&peer, &conn);
        let reason = conn.closed().await;
        tracing::debug!("sync connection from {peer} closed: {reason}");
        self.presence.disconnected(&peer, &conn);
        Ok(())
    }
}

/// Dials one contact for samod, over a fresh connection each time.
#[derive(Debug)]
struct PeerDialer {
    url: url::Url,
    traffic: Arc<Traffic>,
    endpoint: Endpoint,
    addr: EndpointAddr,
    presence: Presence,
    gate: frames::Gate,
}

impl Dialer for PeerDialer {
    type Error = NetError;

    fn url(&self) -> url::Url {
        // samod keys dialers by URL; the endpoint id makes it unique per contact.
        self.url.clone()
    }

    fn connect(&self) -> BoxFuture<'static, Result<Transport, DialError<NetError>>> {
        let endpoint = self.endpoint.clone();
        let addr = self.addr.clone();
        let presence = self.presence.clone();
        let traffic = self.traffic.clone();
        let gate = self.gate.clone();
        async move {
            let peer = addr.id.to_string();
            let unreachable = |reason: String| {
                DialError::transient(NetError::Unreachable {
                    peer: peer.clone(),
                    reason,
                })
            };
            let conn = tokio::time::timeout(CONNECT_TIMEOUT, endpoint.connect(addr, SYNC_ALPN))
                .await
                .map_err(|_| unreachable("timed out".into()))?
                .map_err(|e| unreachable(e.to_string()))?;
            let (send, recv) = conn
                .open_bi()
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            presence.connected(&peer, &conn);
            let watched = conn.clone();
            tokio::spawn(async move {
                watched.closed().await;
                presence.disconnected(&peer, &watched);
            });
            let me = endpoint.id();
            Ok(frames::transport(
                Counted {
                    io: tokio::io::join(recv, send),
                    traffic,
                    conn: conn.clone(),
                    me,
                },
                me,
                conn.remote_id().to_string(),
                gate,
            )
            .with_expected_peer_id(PeerId::from(conn.remote_id().to_string())))
        }
        .boxed()
    }
}

/// Bytes and writes on all sync streams, for traffic figures.
#[derive(Debug, Default)]
pub struct Traffic {
    sent: std::sync::atomic::AtomicU64,
    received: std::sync::atomic::AtomicU64,
    writes: std::sync::atomic::AtomicU64,
    redials: std::sync::atomic::AtomicU64,
}

/// A snapshot of [`Traffic`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrafficCount {
    /// Bytes written to sync streams.
    pub sent: u64,
    /// Bytes read from sync streams.
    pub received: u64,
    /// Write calls (roughly, messages sent).
    pub writes: u64,
    /// Contacts dialed again at once because they knocked (see `net/knock.rs`).
    pub redials_on_knock: u64,
}

impl Traffic {
    /// The counts so far.
    pub fn count(&self) -> TrafficCount {
        use std::sync::atomic::Ordering::Relaxed;
        TrafficCount {
            sent: self.sent.load(Relaxed),
            received: self.received.load(Relaxed),
            writes: self.writes.load(Relaxed),
            redials_on_knock: self.redials.load(Relaxed),
        }
    }
}

/// A sync stream that counts its bytes and keeps its QUIC connection alive while samod holds it;
/// the connection closes when samod lets go of the stream.
struct Counted<T> {
    io: T,
    traffic: Arc<Traffic>,
    conn: Connection,
    /// This device, for the stage events.
    me: EndpointId,
}

impl<T> Drop for Counted<T> {
    fn drop(&mut self) {
        self.conn.close(VarInt::from_u32(0), b"sync ended");
    }
}

impl<T: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Counted<T> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.io).poll_read(cx, buf);
        let n = (buf.filled().len() - before) as u64;
        self.traffic
            .received
            .fetch_add(n, std::sync::atomic::Ordering::Relaxed);
        r
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Counted<T> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let r = std::pin::Pin::new(&mut self.io).poll_write(cx, buf);
        if let std::task::Poll::Ready(Ok(n)) = &r {
            use std::sync::atomic::Ordering::Relaxed;
            self.traffic.sent.fetch_add(*n as u64, Relaxed);
            self.traffic.writes.fetch_add(1, Relaxed);
            crate::stage::reached(crate::stage::SEND, self.me);
        }
        r
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Everything [`Net::start`] needs.
pub struct NetConfig<H: PairingHandler> {
    /// The device key.
    pub key: SecretKey,
    /// How to reach peers.
    pub mode: NetworkMode,
    /// Whether to announce this device and find contacts on the local network (mDNS).
    pub lan_discovery: bool,
    /// The UDP port to bind (0: any); keeping it stable lets contacts redial after a restart.
    pub port: u16,
    /// The document repository to sync.
    pub repo: Repo,
    /// Where pairing requests go.
    pub pairing: Arc<H>,
    /// The media blob protocol, with its gatekeeper.
    pub blobs: iroh_blobs::BlobsProtocol,
    /// Who may sync which document: sync messages about others are dropped on arrival.
    pub access: tokio::sync::watch::Receiver<Arc<crate::access::AccessTable>>,
    /// In local mode, the one loopback address to bind; `None` reads `BACKSTORY_LOOPBACK`.
    pub loopback: Option<std::net::IpAddr>,
}

impl Net {
    /// Binds the endpoint and starts the router. Does not wait for any network.
    pub async fn start<H: PairingHandler>(cfg: NetConfig<H>) -> Result<Self, NetError> {
        let bind = |e: &dyn std::fmt::Display| NetError::Bind(e.to_string());
        let transport = QuicTransportConfig::builder()
            .max_idle_timeout(Some(IDLE_TIMEOUT.try_into().map_err(|e| bind(&e))?))
            .keep_alive_interval(KEEP_ALIVE)
            .build();
        let allowed = Allowed::default();
        let builder = match &cfg.mode {
            NetworkMode::Default => Endpoint::builder(presets::N0),
            NetworkMode::Relay(url) => {
                let url: RelayUrl = url.parse().map_err(|e| bind(&e))?;
                // No QUIC address discovery probe: a self-hosted relay seldom serves one, and
                // waiting for it would delay choosing the home relay by 3 s.
                let relay = iroh::RelayConfig::new(url, None);
                Endpoint::builder(presets::Minimal)
                    .relay_mode(RelayMode::Custom(RelayMap::from(relay)))
            }
            NetworkMode::Local => {
                Endpoint::builder(presets::Minimal).relay_mode(RelayMode::Disabled)
            }
        };
        let builder = if cfg.lan_discovery && cfg.mode != NetworkMode::Local {
            builder.address_lookup(iroh_mdns_address_lookup::MdnsAddressLookup::builder())
        } else {
            builder
        };
        // Local mode on loopback only (what the tests use): one socket, on 127.0.0.1, or on ::1
        // with `BACKSTORY_LOOPBACK=v6`, so a device has exactly the address it says it has.
        let loopback = match cfg.mode {
            NetworkMode::Local => cfg.loopback.or_else(|| {
                std::env::var("BACKSTORY_LOOPBACK")
                    .ok()
                    .map(|family| match family.as_str() {
                        "v6" => std::net::Ipv6Addr::LOCALHOST.into(),
                        _ => std::net::Ipv4Addr::LOCALHOST.into(),
                    })
            }),
            _ => None,
        };
        let (builder, ip): (_, std::net::IpAddr) = match loopback {
            Some(ip) => (builder.clear_ip_transports(), ip),
            None => (builder, std::net::Ipv4Addr::UNSPECIFIED.into()),
        };
        let endpoint = builder
            .secret_key(cfg.key)
            .transport_config(transport)
            .hooks(allowed.clone())
            .alpns(vec![
                crate::pairing::ALPN.to_vec(),
                SYNC_ALPN.to_vec(),
                iroh_blobs::ALPN.to_vec(),
                KNOCK_ALPN.to_vec(),
            ])
            .bind_addr(SocketAddr::new(ip, cfg.port))
            .map_err(|e| bind(&e))?
            .bind()
            .await
            .map_err(|e| bind(&e))?;
        let acceptor = cfg
            .repo
            .make_acceptor(url::Url::parse("iroh://accept").map_err(|e| bind(&e))?)
            .map_err(|e| bind(&e))?;
        let (events, _) = broadcast::channel(256);
        let presence = Presence::new(events.clone());
        let traffic = Arc::new(Traffic::default());
        let refused: Arc<std::sync::atomic::AtomicU64> = Arc::default();
        let gate = frames::Gate::new(cfg.access, refused.clone());
        let (knocked, mut knocks) = tokio::sync::mpsc::channel(knock::KNOCKS_WAITING);
        let router = Router::builder(endpoint.clone())
            .accept(crate::pairing::ALPN, pair::PairProtocol::new(cfg.pairing))
            .accept(
                SYNC_ALPN,
                SyncProtocol {
                    me: endpoint.id(),
                    acceptor,
                    traffic: traffic.clone(),
                    presence: presence.clone(),
                    gate: gate.clone(),
                },
            )
            .accept(iroh_blobs::ALPN, cfg.blobs)
            .accept(KNOCK_ALPN, knock::KnockProtocol { knocked })
            .spawn();
        let net = Self {
            inner: Arc::new(NetInner {
                endpoint,
                router,
                mode: cfg.mode,
                allowed,
                repo: cfg.repo,
                dialers: Mutex::default(),
                presence,
                traffic,
                events,
                gate,
                refused,
            }),
        };
        // The task ends when the router's knock handler is gone, or the network is.
        let weak = Arc::downgrade(&net.inner);
        tokio::spawn(async move {
            while let Some(peer) = knocks.recv().await {
                let Some(inner) = weak.upgrade() else {
                    return;
                };
                Net { inner }.heard(peer);
            }
        });
        Ok(net)
    }

    /// A contact knocked: if this device dials it and is not connected, it dials again now
    /// rather than at its next backoff.
    fn heard(&self, peer: EndpointId) {
        let mut dialers = self.inner.dialers.lock().unwrap_or_else(|p| p.into_inner());
        let Some(dialing) = dialers.get_mut(&peer.to_string()) else {
            return;
        };
        if dialing.handle.is_connected() {
            return;
        }
        match self.inner.repo.dial(backoff(), dialing.dialer.clone()) {
            Ok(handle) => {
                std::mem::replace(&mut dialing.handle, handle).close();
                self.inner
                    .traffic
                    .redials
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::debug!("{peer} knocked: dialing it again now");
            }
            Err(_) => tracing::warn!("cannot dial {peer} again: the repository stopped"),
        }
    }

    /// Sync messages dropped on arrival since the start: about documents the sending peer has
    /// no access rule for, or not messages at all.
    pub fn refused_messages(&self) -> u64 {
        self.inner
            .refused
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// What the network reports: peers coming and going.
    pub fn events(&self) -> broadcast::Receiver<NetEvent> {
        self.inner.events.subscribe()
    }

    /// The port the endpoint is bound to.
    pub fn port(&self) -> Option<u16> {
        self.inner
            .endpoint
            .bound_sockets()
            .first()
            .map(|a| a.port())
    }

    /// Bytes on all sync streams since start.
    pub fn traffic(&self) -> TrafficCount {
        self.inner.traffic.count()
    }

    /// The mode in force.
    pub fn mode(&self) -> &NetworkMode {
        &self.inner.mode
    }

    /// What a ticket carries: the relay URL, and direct addresses only in local mode (tickets get
    /// forwarded and stored, so elsewhere they carry no IP addresses).
    ///
    /// With a self-hosted relay that relay is the only home there is, so the ticket names it even
    /// before the endpoint has reached it (there is no DNS lookup to find it by otherwise). With
    /// public relays it names the current home relay, if any yet; DNS lookup finds it otherwise.
    pub fn ticket_addresses(&self) -> (Option<String>, Vec<SocketAddr>) {
        let home = || {
            let addr = self.inner.endpoint.addr();
            addr.relay_urls().next().map(|u| u.to_string())
        };
        match &self.inner.mode {
            NetworkMode::Local => (None, self.direct_addresses()),
            NetworkMode::Relay(url) => (Some(url.clone()), Vec::new()),
            NetworkMode::Default => (home(), Vec::new()),
        }
    }

    /// The direct addresses others can dial, loopback included.
    pub fn direct_addresses(&self) -> Vec<SocketAddr> {
        let mut addrs: Vec<SocketAddr> = self.inner.endpoint.addr().ip_addrs().copied().collect();
        for bound in self.inner.endpoint.bound_sockets() {
            if bound.ip().is_loopback() && !addrs.contains(&bound) {
                addrs.push(bound);
            } else if bound.ip().is_unspecified() {
                let lo = SocketAddr::new(std::net::Ipv4Addr::LOCALHOST.into(), bound.port());
                if !addrs.contains(&lo) {
                    addrs.push(lo);
                }
            }
        }
        addrs.retain(|a| a.is_ipv4() || !a.ip().is_unspecified());
        addrs
    }

    /// Opens the pairing protocol to a ticket's inviter.
    pub async fn open_pair(
        &self,
        endpoint: [u8; 32],
        relay: Option<&str>,
        addrs: &[SocketAddr],
    ) -> Result<(iroh::endpoint::SendStream, iroh::endpoint::RecvStream), NetError> {
        let id = EndpointId::from_bytes(&endpoint).map_err(|e| NetError::Unreachable {
            peer: hex::encode(endpoint),
            reason: e.to_string(),
        })?;
        let unreachable = |reason: String| NetError::Unreachable {
            peer: id.to_string(),
            reason,
        };
        let mut addr = EndpointAddr::new(id);
        if let Some(url) = relay.and_then(|r| r.parse::<RelayUrl>().ok()) {
            addr = addr.with_relay_url(url);
        }
        for a in addrs {
            addr = addr.with_ip_addr(*a);
        }
        let conn = tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.inner.endpoint.connect(addr, crate::pairing::ALPN),
        )
        .await
        .map_err(|_| unreachable("timed out".into()))?
        .map_err(|e| unreachable(e.to_string()))?;
        conn.open_bi().await.map_err(|e| unreachable(e.to_string()))
    }

    /// Sets who may connect for anything but pairing.
    pub fn set_allowed(&self, peers: &[String]) {
        let ids: HashSet<EndpointId> = peers.iter().filter_map(|p| p.parse().ok()).collect();
        *self
            .inner
            .allowed
            .0
            .write()
            .unwrap_or_else(|p| p.into_inner()) = ids;
    }

    /// Keeps a contact's documents in sync: the side with the smaller endpoint id dials and redials
    /// with backoff; the other side knocks, so that the dialing side dials again at once.
    pub fn connect(&self, contact: &Contact, addrs: &[SocketAddr]) {
        let Some(peer) = contact.peer.clone() else {
            return;
        };
        let Ok(id) = peer.parse::<EndpointId>() else {
            return;
        };
        let mut addr = EndpointAddr::new(id);
        for a in addrs {
            addr = addr.with_ip_addr(*a);
        }
        // A self-hosted relay is shared with the contacts who use it, and there is no DNS lookup
        // to find where a contact is homed: dial through it.
        if let NetworkMode::Relay(relay) = &self.inner.mode
            && let Ok(relay) = relay.parse::<RelayUrl>()
        {
            addr = addr.with_relay_url(relay);
        }
        if self.inner.endpoint.id().to_string() > peer {
            knock::knock(self.inner.endpoint.clone(), addr);
            return;
        }
        let mut dialers = self.inner.dialers.lock().unwrap_or_else(|p| p.into_inner());
        if dialers.contains_key(&peer) {
            return;
        }
        let Ok(url) = url::Url::parse(&format!("iroh://{peer}")) else {
            return;
        };
        let dialer = Arc::new(PeerDialer {
            url,
            traffic: self.inner.traffic.clone(),
            endpoint: self.inner.endpoint.clone(),
            addr,
            presence: self.inner.presence.clone(),
            gate: self.inner.gate.clone(),
        });
        match self.inner.repo.dial(backoff(), dialer.clone()) {
            Ok(handle) => {
                dialers.insert(peer, Dialing { handle, dialer });
            }
            Err(_) => tracing::warn!("cannot dial {peer}: the repository stopped"),
        }
    }

    /// Opens a connection to a contact for fetching blobs.
    pub async fn connect_blobs(
        &self,
        peer: &str,
        addrs: &[SocketAddr],
    ) -> Result<Connection, NetError> {
        let unreachable = |reason: String| NetError::Unreachable {
            peer: peer.to_string(),
            reason,
        };
        let id: EndpointId = peer.parse().map_err(|_| unreachable("bad id".into()))?;
        let mut addr = EndpointAddr::new(id);
        for a in addrs {
            addr = addr.with_ip_addr(*a);
        }
        tokio::time::timeout(
            CONNECT_TIMEOUT,
            self.inner.endpoint.connect(addr, iroh_blobs::ALPN),
        )
        .await
        .map_err(|_| unreachable("timed out".into()))?
        .map_err(|e| unreachable(e.to_string()))
    }

    /// Stops syncing with a peer at once: no more dials, and open connections close, whichever
    /// side opened them.
    pub fn disconnect(&self, peer: &str) {
        if let Some(d) = self
            .inner
            .dialers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(peer)
        {
            d.handle.close();
        }
        self.inner.presence.cut(peer);
    }

    /// A peer's state.
    pub fn state(&self, peer: &str) -> PeerState {
        self.inner.presence.state(peer)
    }

    /// Marks whether the documents shared with a peer are still being brought in step.
    pub fn set_syncing(&self, peer: &str, syncing: bool) {
        self.inner.presence.set_syncing(peer, syncing);
    }

    /// Closes every connection and the endpoint.
    pub async fn shutdown(&self) {
        for (_, d) in self
            .inner
            .dialers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain()
        {
            d.handle.close();
        }
        if let Err(e) = self.inner.router.shutdown().await {
            tracing::warn!("router shutdown: {e}");
        }
    }
}
