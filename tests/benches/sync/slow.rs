//! Edit to visible through a slow link: two engines on different loopback address families,
//! reachable only through the userspace UDP proxy (`backstory_tests::proxy`) that delays every
//! datagram, next to a raw QUIC round trip through the same kind of proxy.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::Path;
use std::time::{Duration, Instant};

use backstory_core::net::NetworkMode;
use backstory_core::{Engine, Options, op};
use backstory_tests::proxy::{Faults, Proxy};
use iroh::endpoint::presets;
use iroh::{Endpoint, EndpointAddr, RelayMode};

use super::{line, p50_p99, pair_with_an_entry, percentile, timed_edits};

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

fn delay(rtt: Duration) -> Faults {
    Faults {
        delay: rtt / 2,
        ..Faults::default()
    }
}

/// Round trips (ms, sorted) of one byte on a QUIC stream from ::1 to 127.0.0.1 through a proxy.
async fn raw_rtts(rtt: Duration, rounds: usize) -> Vec<f64> {
    let bind = |ip: IpAddr, alpn: bool| {
        let b = Endpoint::builder(presets::Minimal)
            .relay_mode(RelayMode::Disabled)
            .clear_ip_transports();
        let b = if alpn {
            b.alpns(vec![b"bench".to_vec()])
        } else {
            b
        };
        b.bind_addr(SocketAddr::new(ip, 0)).unwrap().bind()
    };
    let a = bind(V4, true).await.unwrap();
    let b = bind(V6, false).await.unwrap();
    let target = a.bound_sockets()[0];
    let proxy = Proxy::start(V6, target).await.unwrap();
    proxy.set(delay(rtt));
    let id = a.id();
    let server = tokio::spawn(async move {
        let conn = a.accept().await.unwrap().await.unwrap();
        let (mut s, mut r) = conn.accept_bi().await.unwrap();
        let mut byte = [0u8; 1];
        while r.read_exact(&mut byte).await.is_ok() {
            if s.write_all(&byte).await.is_err() {
                break;
            }
        }
        a.close().await;
    });
    let conn = b
        .connect(EndpointAddr::new(id).with_ip_addr(proxy.addr()), b"bench")
        .await
        .unwrap();
    let (mut s, mut r) = conn.open_bi().await.unwrap();
    let mut byte = [1u8; 1];
    let mut out = Vec::new();
    for i in 0..=rounds {
        let t = Instant::now();
        s.write_all(&byte).await.unwrap();
        r.read_exact(&mut byte).await.unwrap();
        // The first round trip also opens the stream.
        if i > 0 {
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
    }
    s.finish().unwrap();
    conn.close(0u32.into(), b"done");
    server.abort();
    b.close().await;
    out.sort_by(f64::total_cmp);
    out
}

async fn open(dir: &Path, ip: IpAddr) -> Engine {
    Engine::open_with(
        dir,
        Options::default().network(NetworkMode::Local).loopback(ip),
    )
    .await
    .unwrap()
}

/// Prints the slow link's figures: `slow_link_rtt_p50`, `slow_link_edit_to_visible_p50`/`p99`,
/// and the p50 over its floor (a durable commit plus 0.6 round trips).
pub async fn measure(commit_p50: f64, rtt: Duration, rounds: usize) {
    let rtts = raw_rtts(rtt, rounds).await;
    let rtt_p50 = percentile(&rtts, 0.5);

    // Ann on 127.0.0.1, Bob on ::1: Bob reaches Ann only through the proxy, on the address her
    // ticket names; the one connection he opens carries both directions.
    let (da, db) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let ann = open(da.path(), V4).await;
    let bob = open(db.path(), V6).await;
    let ann_addr: SocketAddr = ann.run(op::Profile {}).await.unwrap().addrs[0]
        .parse()
        .unwrap();
    let proxy = Proxy::start(V6, ann_addr).await.unwrap();
    proxy.set(delay(rtt));
    let entry = pair_with_an_entry(&ann, &bob, Some(proxy.addr())).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let lat = timed_edits(&ann, &bob, &entry, (rounds, Duration::ZERO), |_, _| {}).await;
    line("slow_link_rtt_p50", rtt_p50, "ms");
    let (p50, _) = p50_p99("slow_link_edit_to_visible", &lat);
    line(
        "slow_link_edit_to_visible_p50_over_floor",
        p50 / (commit_p50 + 0.6 * rtt_p50),
        "x",
    );
    assert!(
        proxy.forwarded() > 0,
        "the engines did not talk through the proxy"
    );
    bob.shutdown().await;
    ann.shutdown().await;
}
