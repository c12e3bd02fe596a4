//! An adversarial device for privacy tests: a real iroh endpoint with a given key, a samod repo
//! and a blob store, speaking Backstory's protocols directly instead of through an engine.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use backstory_core::net::frames;
use backstory_core::pairing::{self, Answer, Join};
use backstory_core::ticket::Ticket;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt};
use iroh::endpoint::presets;
use iroh::{Endpoint, EndpointAddr, EndpointId, RelayMode, SecretKey};
use samod::{BackoffConfig, DialError, Dialer, DocHandle, PeerId, Repo, ShareConfig, Transport};

/// A device that knows a key and some addresses, and tries its luck.
pub struct Intruder {
    endpoint: Endpoint,
    repo: Repo,
    store: iroh_blobs::store::fs::FsStore,
    /// Kept open, so later local changes are offered to the peer too.
    _dialers: std::sync::Mutex<Vec<samod::DialerHandle<DialFailed>>>,
    _dir: tempfile::TempDir,
}

struct Dial {
    endpoint: Endpoint,
    addr: EndpointAddr,
}

#[derive(Debug)]
/// Why the intruder could not dial.
pub struct DialFailed(String);

impl std::fmt::Display for DialFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DialFailed {}

impl Dialer for Dial {
    type Error = DialFailed;

    fn url(&self) -> url::Url {
        url::Url::parse(&format!("iroh://{}", self.addr.id)).expect("url")
    }

    fn connect(&self) -> BoxFuture<'static, Result<Transport, DialError<DialFailed>>> {
        let (endpoint, addr) = (self.endpoint.clone(), self.addr.clone());
        async move {
            let fail = |e: &dyn std::fmt::Display| DialError::transient(DialFailed(e.to_string()));
            let conn = endpoint
                .connect(addr, backstory_core::net::SYNC_ALPN)
                .await
                .map_err(|e| fail(&e))?;
            let (send, recv) = conn.open_bi().await.map_err(|e| fail(&e))?;
            // Hold the connection for as long as it lives.
            let held = conn.clone();
            tokio::spawn(async move { held.closed().await });
            let (sink, stream) = frames::messages(tokio::io::join(recv, send)).split();
            Ok(Transport::new(stream, sink)
                .with_expected_peer_id(PeerId::from(conn.remote_id().to_string())))
        }
        .boxed()
    }
}

impl Intruder {
    /// A device with the key stored in a data directory (stop its node first), or a fresh key.
    pub async fn new(key_file: Option<&std::path::Path>) -> Self {
        let key = match key_file {
            Some(p) => {
                let bytes: [u8; 32] = std::fs::read(p).expect("key").try_into().expect("32 bytes");
                SecretKey::from_bytes(&bytes)
            }
            None => SecretKey::generate(),
        };
        let endpoint = Endpoint::builder(presets::Minimal)
            .secret_key(key.clone())
            .relay_mode(RelayMode::Disabled)
            .bind_addr("127.0.0.1:0")
            .expect("addr")
            .bind()
            .await
            .expect("bind");
        let dir = tempfile::tempdir().expect("tempdir");
        let store = iroh_blobs::store::fs::FsStore::load(dir.path().join("blobs"))
            .await
            .expect("store");
        let repo = Repo::build_tokio()
            .with_peer_id(PeerId::from(key.public().to_string()))
            .with_share_policy(ShareConfig::read_write())
            .load()
            .await;
        Self {
            endpoint,
            repo,
            store,
            _dialers: Default::default(),
            _dir: dir,
        }
    }

    /// Dials `peer` for sync, retrying a few times; the connection lasts as long as the handle.
    fn dial_sync(&self, peer: &str, addrs: &[SocketAddr]) -> samod::DialerHandle<DialFailed> {
        let id: EndpointId = peer.parse().expect("peer id");
        let mut addr = EndpointAddr::new(id);
        for a in addrs {
            addr = addr.with_ip_addr(*a);
        }
        let backoff = BackoffConfig {
            initial_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
            max_retries: Some(3),
        };
        self.repo
            .dial(
                backoff,
                Arc::new(Dial {
                    endpoint: self.endpoint.clone(),
                    addr,
                }),
            )
            .expect("dial")
    }

    /// Connects to a device for sync and asks it for a document; `None` if nothing comes within
    /// the timeout.
    pub async fn find(
        &self,
        peer: &str,
        addrs: &[SocketAddr],
        doc: &str,
        timeout: Duration,
    ) -> Option<DocHandle> {
        let _dialer = self.dial_sync(peer, addrs);
        let doc_id: samod::DocumentId = doc.parse().expect("doc id");
        let deadline = tokio::time::Instant::now() + timeout;
        while tokio::time::Instant::now() < deadline {
            // A device drops requests for documents it does not share with us, so a find may
            // never hear back: it is bounded by the deadline too.
            if let Ok(Ok(Some(h))) =
                tokio::time::timeout_at(deadline, self.repo.find(doc_id.clone())).await
            {
                return Some(h);
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        None
    }

    /// Joins with an invitation ticket over the pairing protocol, announcing `outbox` as its
    /// own document (any id it likes, as a hostile joiner would); the inviter's final answer.
    pub async fn join(&self, ticket: &str, name: &str, outbox: &str) -> Answer {
        let t = Ticket::decode(ticket).expect("a ticket");
        let id = EndpointId::from_bytes(&t.endpoint).expect("the inviter's id");
        let mut addr = EndpointAddr::new(id);
        for a in &t.addrs {
            addr = addr.with_ip_addr(*a);
        }
        let conn = self
            .endpoint
            .connect(addr, pairing::ALPN)
            .await
            .expect("a pairing connection");
        let (mut send, mut recv) = conn.open_bi().await.expect("a pairing stream");
        let join = Join {
            secret: hex::encode(t.secret),
            name: name.into(),
            outbox: outbox.into(),
            addrs: Vec::new(),
        };
        pairing::send(&mut send, &join)
            .await
            .expect("the join sent");
        loop {
            let answer: Answer = pairing::recv(&mut recv).await.expect("an answer");
            if answer != Answer::Pending {
                return answer;
            }
        }
    }

    /// Asks a device for a blob by hash; the bytes, or why not.
    pub async fn fetch_blob(
        &self,
        peer: &str,
        addrs: &[SocketAddr],
        hash: &str,
    ) -> Result<Vec<u8>, String> {
        let id: EndpointId = peer.parse().map_err(|_| "peer id".to_string())?;
        let mut addr = EndpointAddr::new(id);
        for a in addrs {
            addr = addr.with_ip_addr(*a);
        }
        let hash: iroh_blobs::Hash = hash.parse().map_err(|_| "hash".to_string())?;
        let conn = self
            .endpoint
            .connect(addr, iroh_blobs::ALPN)
            .await
            .map_err(|e| e.to_string())?;
        self.store
            .remote()
            .fetch(conn, hash)
            .complete()
            .await
            .map_err(|e| e.to_string())?;
        self.store
            .get_bytes(hash)
            .await
            .map(|b| b.to_vec())
            .map_err(|e| e.to_string())
    }
    async fn blob_connection(
        &self,
        peer: &str,
        addrs: &[SocketAddr],
    ) -> Result<iroh::endpoint::Connection, String> {
        let id: EndpointId = peer.parse().map_err(|_| "peer id".to_string())?;
        let mut addr = EndpointAddr::new(id);
        for a in addrs {
            addr = addr.with_ip_addr(*a);
        }
        self.endpoint
            .connect(addr, iroh_blobs::ALPN)
            .await
            .map_err(|e| e.to_string())
    }

    /// Asks a device for several blobs in one request (a request type Backstory does not serve).
    pub async fn fetch_many(
        &self,
        peer: &str,
        addrs: &[SocketAddr],
        hashes: &[&str],
    ) -> Result<Vec<Vec<u8>>, String> {
        let hashes: Vec<iroh_blobs::Hash> = hashes
            .iter()
            .map(|h| h.parse().map_err(|_| "hash".to_string()))
            .collect::<Result<_, _>>()?;
        let conn = self.blob_connection(peer, addrs).await?;
        let request: iroh_blobs::protocol::GetManyRequest = hashes.iter().copied().collect();
        self.store
            .remote()
            .execute_get_many(conn, request)
            .complete()
            .await
            .map_err(|e| e.to_string())?;
        let mut out = Vec::new();
        for h in hashes {
            out.push(
                self.store
                    .get_bytes(h)
                    .await
                    .map_err(|e| e.to_string())?
                    .to_vec(),
            );
        }
        Ok(out)
    }

    /// Pushes bytes into a device's blob store (a request type Backstory does not serve); the
    /// hash pushed, or why not.
    pub async fn push_blob(
        &self,
        peer: &str,
        addrs: &[SocketAddr],
        bytes: Vec<u8>,
    ) -> Result<String, String> {
        let tag = self
            .store
            .add_bytes(bytes)
            .await
            .map_err(|e| e.to_string())?;
        let conn = self.blob_connection(peer, addrs).await?;
        let request = iroh_blobs::protocol::PushRequest::new(
            tag.hash,
            iroh_blobs::protocol::ChunkRangesSeq::root(),
        );
        self.store
            .remote()
            .execute_push(conn, request)
            .complete()
            .await
            .map_err(|e| e.to_string())?;
        Ok(tag.hash.to_string())
    }
    /// Opens a connection on the pairing protocol and leaves it to the caller, who may say
    /// nothing at all on it.
    pub async fn pairing_connection(
        &self,
        peer: &str,
        addrs: &[SocketAddr],
    ) -> Result<iroh::endpoint::Connection, String> {
        let id: EndpointId = peer.parse().map_err(|_| "peer id".to_string())?;
        let mut addr = EndpointAddr::new(id);
        for a in addrs {
            addr = addr.with_ip_addr(*a);
        }
        self.endpoint
            .connect(addr, pairing::ALPN)
            .await
            .map_err(|e| e.to_string())
    }
    /// Connects for sync and asks for `n` documents with random ids, a few at a time, each
    /// waiting at most `each`; how many got any answer (found, or "unavailable").
    pub async fn request_random(
        &self,
        peer: &str,
        addrs: &[SocketAddr],
        n: usize,
        each: Duration,
    ) -> usize {
        let _dialer = self.dial_sync(peer, addrs);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let asks = (0..n).map(|_| {
            let repo = self.repo.clone();
            async move {
                let bytes: [u8; 16] = rand::random();
                let doc = samod::DocumentId::try_from(bytes.to_vec()).expect("document id");
                matches!(tokio::time::timeout(each, repo.find(doc)).await, Ok(Ok(_)))
            }
        });
        let answered: Vec<bool> = futures::stream::iter(asks)
            .buffer_unordered(500)
            .collect()
            .await;
        answered.into_iter().filter(|a| *a).count()
    }
    /// Closes the endpoint, so the device it spoke to sees it gone (and the real owner of its
    /// key can connect again).
    pub async fn close(self) {
        let _stopped = self.repo.stop().await;
        self.endpoint.close().await;
    }
}
