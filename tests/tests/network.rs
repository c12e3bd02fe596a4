//! Two devices through a bad network: a UDP proxy on loopback between them adds delay, loss,
//! reordering and a partition that heals. Edits made on both sides converge, nothing a command
//! acknowledged is lost, and each side shows the other offline while they are cut off.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::collections::BTreeSet;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use backstory_tests::proxy::{Faults, Proxy};
use backstory_tests::{Device, cli_json, cli_ok, eventually, pair, wait_sees};

fn endpoint(d: &Device) -> (String, SocketAddr) {
    let p = cli_json(d.path(), &["id"]);
    let addr = p["addrs"][0].as_str().unwrap().parse().unwrap();
    (p["id"].as_str().unwrap().to_string(), addr)
}

/// Makes `d` reach `peer` only at `via` from its next start.
fn reach_through(d: &Device, peer: &str, via: SocketAddr) {
    let db = rusqlite::Connection::open(d.path().join("backstory.db")).unwrap();
    let changed = db
        .execute(
            "UPDATE peer_addrs SET addrs = ?1 WHERE peer = ?2",
            [serde_json::json!([via]).to_string(), peer.to_string()],
        )
        .unwrap();
    assert_eq!(changed, 1, "no address was kept for the peer");
}

fn sees(d: &Device, contact: &str) -> BTreeSet<String> {
    d.sees(contact).into_iter().collect()
}

fn wait_sees_all(d: &Device, contact: &str, want: &[&str], within: Duration) {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    let got = eventually(within, || (sees(d, contact) == want).then_some(()));
    assert!(
        got.is_some(),
        "expected {want:?}, sees {:?}",
        sees(d, contact)
    );
}

fn state(d: &Device) -> String {
    cli_json(d.path(), &["contacts"])[0]["state"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn edits_converge_through_delay_loss_reordering_and_a_partition() {
    let mut ann = Device::new("Ann");
    let mut bob = Device::new("Bob");
    pair(&ann, &bob);
    cli_ok(ann.path(), &["post", "--to", "bob", "--text", "before"]);
    wait_sees(&bob, "ann", &["before"]);
    let (ann_id, _) = endpoint(&ann);
    let (bob_id, bob_addr) = endpoint(&bob);
    ann.stop();
    bob.stop();

    // From now on Bob has only 127.0.0.1 and Ann only ::1: neither can reach the other except
    // through a proxy that listens on one family and sends on the other.
    bob.set_env("BACKSTORY_LOOPBACK", "v4");
    ann.set_env("BACKSTORY_LOOPBACK", "v6");
    let bob_now = SocketAddr::from((Ipv4Addr::LOCALHOST, bob_addr.port()));
    let to_bob = Proxy::start(Ipv6Addr::LOCALHOST.into(), bob_now)
        .await
        .unwrap();
    reach_through(&ann, &bob_id, to_bob.addr());
    ann.start();
    let (_, ann_now) = endpoint(&ann);
    assert!(ann_now.is_ipv6(), "{ann_now}");
    let to_ann = Proxy::start(Ipv4Addr::LOCALHOST.into(), ann_now)
        .await
        .unwrap();
    reach_through(&bob, &ann_id, to_ann.addr());
    bob.start();
    assert_eq!(endpoint(&bob).1, bob_now, "Bob came back on another port");
    let bad = Faults {
        delay: Duration::from_millis(25),
        jitter: Duration::from_millis(15),
        loss: 0.2,
        partitioned: false,
    };
    to_ann.set(bad);
    to_bob.set(bad);

    // 50 ms round trip, a fifth of the datagrams lost, some overtaking others.
    cli_ok(ann.path(), &["post", "--to", "bob", "--text", "a1 slow"]);
    cli_ok(bob.path(), &["post", "--to", "ann", "--text", "b1 slow"]);
    cli_ok(ann.path(), &["post", "--to", "bob", "--text", "a2 slow"]);
    wait_sees_all(
        &bob,
        "ann",
        &["before", "a1 slow", "a2 slow"],
        Duration::from_secs(60),
    );
    wait_sees_all(&ann, "bob", &["b1 slow"], Duration::from_secs(60));
    // One side dials (the other answers on the same connection), so one proxy carries it.
    assert!(
        to_ann.forwarded() + to_bob.forwarded() > 0,
        "the devices did not talk through the proxies"
    );

    // Cut off: each shows the other offline, and keeps every edit made meanwhile.
    let cut = Faults {
        partitioned: true,
        ..bad
    };
    to_ann.set(cut);
    to_bob.set(cut);
    let since = Instant::now();
    for d in [&ann, &bob] {
        let offline = eventually(Duration::from_secs(20), || {
            (state(d) == "offline").then_some(())
        });
        assert!(offline.is_some(), "still shown {} while cut off", state(d));
    }
    eprintln!(
        "network_offline_after_cut {:.1} s",
        since.elapsed().as_secs_f64()
    );
    cli_ok(ann.path(), &["post", "--to", "bob", "--text", "a3 cut off"]);
    cli_ok(bob.path(), &["post", "--to", "ann", "--text", "b2 cut off"]);
    cli_ok(bob.path(), &["post", "--to", "ann", "--text", "b3 cut off"]);
    assert_eq!(
        sees(&bob, "ann").len(),
        3,
        "something crossed the partition"
    );
    // The partition lasts 30 s, then heals (the delay and loss stay).
    let left = Duration::from_secs(30).saturating_sub(since.elapsed());
    tokio::time::sleep(left).await;
    assert_eq!(state(&ann), "offline");
    to_ann.set(bad);
    to_bob.set(bad);
    let healed = Instant::now();

    wait_sees_all(
        &bob,
        "ann",
        &["before", "a1 slow", "a2 slow", "a3 cut off"],
        Duration::from_secs(60),
    );
    wait_sees_all(
        &ann,
        "bob",
        &["b1 slow", "b2 cut off", "b3 cut off"],
        Duration::from_secs(60),
    );
    eprintln!(
        "network_converged_after_heal {:.1} s",
        healed.elapsed().as_secs_f64()
    );
    for d in [&ann, &bob] {
        let back = eventually(Duration::from_secs(30), || {
            (state(d) != "offline").then_some(())
        });
        assert!(back.is_some(), "still shown offline after the heal");
    }
    // Nothing acknowledged was lost on either side, through a restart too.
    ann.stop();
    ann.start();
    let mine = cli_json(ann.path(), &["panel", "bob"]);
    let texts: BTreeSet<&str> = mine["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["entry"]["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        BTreeSet::from(["before", "a1 slow", "a2 slow", "a3 cut off"])
    );
}
