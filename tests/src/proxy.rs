//! A UDP proxy on loopback that makes a bad network between two devices: delay, jitter (which
//! reorders), loss, and partitions, all changeable while it runs. Each client address gets its
//! own upstream socket, so the target sees one peer per client, as it would through a NAT.
//!
//! QUIC endpoints tell each other their addresses and open direct paths when they can, which
//! would bypass a proxy. Put the two devices on different address families (one on 127.0.0.1,
//! one on ::1, `BACKSTORY_LOOPBACK=v6`) and the proxy, listening on one family and sending on the
//! other, is the only way between them.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::Rng;
use tokio::net::UdpSocket;

/// What the proxy does to each datagram, in each direction.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Faults {
    /// Added to every datagram.
    pub delay: Duration,
    /// A further random delay up to this much; datagrams overtake each other.
    pub jitter: Duration,
    /// The share of datagrams dropped, 0.0 to 1.0.
    pub loss: f64,
    /// Everything dropped.
    pub partitioned: bool,
}

/// A running proxy; stops when dropped.
pub struct Proxy {
    front: SocketAddr,
    faults: Arc<Mutex<Faults>>,
    forwarded: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Sends `data` after the faults' delay, unless they drop it.
fn pass(
    faults: &Mutex<Faults>,
    forwarded: &Arc<AtomicU64>,
    socket: Arc<UdpSocket>,
    data: Vec<u8>,
    to: Option<SocketAddr>,
) {
    let f = *faults.lock().unwrap_or_else(|p| p.into_inner());
    let mut rng = rand::rng();
    if f.partitioned || (f.loss > 0.0 && rng.random::<f64>() < f.loss) {
        return;
    }
    let extra = if f.jitter.is_zero() {
        Duration::ZERO
    } else {
        f.jitter.mul_f64(rng.random::<f64>())
    };
    let wait = f.delay + extra;
    let forwarded = forwarded.clone();
    tokio::spawn(async move {
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        let sent = match to {
            Some(to) => socket.send_to(&data, to).await,
            None => socket.send(&data).await,
        };
        if sent.is_ok() {
            forwarded.fetch_add(1, Ordering::Relaxed);
        }
    });
}

impl Proxy {
    /// A proxy listening on `front_ip` (a loopback address of either family) in front of
    /// `target`, passing everything until told otherwise.
    pub async fn start(front_ip: IpAddr, target: SocketAddr) -> std::io::Result<Self> {
        let front = Arc::new(UdpSocket::bind(SocketAddr::new(front_ip, 0)).await?);
        let upstream_ip: IpAddr = match target {
            SocketAddr::V4(_) => Ipv4Addr::LOCALHOST.into(),
            SocketAddr::V6(_) => Ipv6Addr::LOCALHOST.into(),
        };
        let addr = front.local_addr()?;
        let faults: Arc<Mutex<Faults>> = Arc::default();
        let forwarded: Arc<AtomicU64> = Arc::default();
        let (f, n) = (faults.clone(), forwarded.clone());
        let task = tokio::spawn(async move {
            let mut upstreams: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
            let mut buf = vec![0u8; 65_536];
            loop {
                let Ok((len, client)) = front.recv_from(&mut buf).await else {
                    return;
                };
                let up = match upstreams.get(&client) {
                    Some(up) => up.clone(),
                    None => {
                        let Ok(up) = UdpSocket::bind(SocketAddr::new(upstream_ip, 0)).await else {
                            continue;
                        };
                        if up.connect(target).await.is_err() {
                            continue;
                        }
                        let up = Arc::new(up);
                        upstreams.insert(client, up.clone());
                        // Replies from the target go back to this client.
                        let (f, n, back, reader) =
                            (f.clone(), n.clone(), front.clone(), up.clone());
                        tokio::spawn(async move {
                            let mut buf = vec![0u8; 65_536];
                            loop {
                                match reader.recv(&mut buf).await {
                                    Ok(len) => pass(
                                        &f,
                                        &n,
                                        back.clone(),
                                        buf[..len].to_vec(),
                                        Some(client),
                                    ),
                                    // Sent while the target was down: the refusal comes back
                                    // here, and the target may be up for the next datagram.
                                    Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
                                    }
                                    Err(_) => return,
                                }
                            }
                        });
                        up
                    }
                };
                pass(&f, &n, up, buf[..len].to_vec(), None);
            }
        });
        Ok(Self {
            front: addr,
            faults,
            forwarded,
            task,
        })
    }

    /// Where clients send.
    pub fn addr(&self) -> SocketAddr {
        self.front
    }

    /// Changes the faults from now on.
    pub fn set(&self, faults: Faults) {
        *self.faults.lock().unwrap_or_else(|p| p.into_inner()) = faults;
    }

    /// Datagrams passed on so far, both directions.
    pub fn forwarded(&self) -> u64 {
        self.forwarded.load(Ordering::Relaxed)
    }
}
