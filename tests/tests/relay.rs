//! The network modes beyond `local`, without the internet: `relay=URL` against a real iroh relay
//! server on 127.0.0.1, and discovery on the local network (mDNS) when the relay is unreachable.
//! Tickets in these modes carry no IP address, so every pairing here proves the path it took.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::net::Ipv4Addr;

use backstory_core::ticket::Ticket;
use backstory_tests::{Device, cli, cli_ok, wait_sees};
use iroh_relay::server::{RelayConfig, Server, ServerConfig};

fn env(relay: &str, lan: &str) -> Vec<(String, String)> {
    vec![
        ("BACKSTORY_NETWORK".into(), format!("relay={relay}")),
        ("BACKSTORY_LAN_DISCOVERY".into(), lan.into()),
    ]
}

/// Pairs by a ticket that names `relay` and no address; returns whether it worked.
fn pair_by_relay_ticket(ann: &Device, bob: &Device, relay: &str) -> bool {
    let ticket = ann.invite(&[]);
    let decoded = Ticket::decode(&ticket).unwrap();
    assert_eq!(decoded.relay.as_deref(), Some(relay));
    assert!(decoded.addrs.is_empty(), "{:?}", decoded.addrs);
    cli(bob.path(), &["--json", "join", &ticket])
        .status
        .success()
}

#[test]
fn two_devices_pair_and_sync_through_a_self_hosted_relay() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt
        .block_on(async {
            let mut cfg: ServerConfig = ServerConfig::default();
            cfg.relay = Some(RelayConfig::new((Ipv4Addr::LOCALHOST, 0)));
            Server::spawn(cfg).await
        })
        .unwrap();
    let url = format!("http://{}/", server.http_addr().unwrap());
    // No discovery on the local network: the relay is the only way the two can meet.
    let (mut ann, mut bob) = (
        Device::new_with("Ann", &env(&url, "off")),
        Device::new_with("Bob", &env(&url, "off")),
    );

    assert!(pair_by_relay_ticket(&ann, &bob, &url), "pairing failed");
    assert_eq!(bob.contacts()[0]["name"], "Ann");
    assert_eq!(ann.contacts()[0]["name"], "Bob");
    cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--text", "Relayed from Ann."],
    );
    cli_ok(
        bob.path(),
        &["post", "--to", "ann", "--text", "Relayed from Bob."],
    );
    wait_sees(&bob, "ann", &["Relayed from Ann."]);
    wait_sees(&ann, "bob", &["Relayed from Bob."]);
    let metrics = &server.metrics().server;
    assert!(metrics.accepts.get() >= 2, "both devices use the relay");
    let forwarded = metrics.send_packets_sent.get();
    assert!(forwarded > 0, "the relay forwarded packets between them");

    // After both restart, knowing each other only by id, they meet through the relay again.
    ann.stop();
    bob.stop();
    ann.start();
    bob.start();
    cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--text", "Relayed after a restart."],
    );
    wait_sees(
        &bob,
        "ann",
        &["Relayed from Ann.", "Relayed after a restart."],
    );
    assert!(
        metrics.send_packets_sent.get() > forwarded,
        "the relay carried the reconnection"
    );
    drop((ann, bob));
    rt.block_on(server.shutdown()).unwrap();
}

#[test]
fn with_the_relay_unreachable_contacts_on_the_same_network_find_each_other() {
    // A relay address where nothing listens.
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", dead.local_addr().unwrap());
    drop(dead);

    // Discovery off: the ticket leads nowhere, and the join says so without recording anything.
    let ann = Device::new_with("Ann", &env(&url, "off"));
    let bob = Device::new_with("Bob", &env(&url, "off"));
    assert!(
        !pair_by_relay_ticket(&ann, &bob, &url),
        "paired with no way to meet"
    );
    assert_eq!(bob.contacts().as_array().unwrap().len(), 0);
    assert_eq!(ann.contacts().as_array().unwrap().len(), 0);
    drop((ann, bob));

    // Discovery on: each announces itself on the local network, and they pair and sync.
    let ann = Device::new_with("Ann", &env(&url, "on"));
    let bob = Device::new_with("Bob", &env(&url, "on"));
    assert!(
        pair_by_relay_ticket(&ann, &bob, &url),
        "no pairing through mDNS: this test needs a network interface with multicast"
    );
    cli_ok(
        ann.path(),
        &["post", "--to", "bob", "--text", "Found you nearby."],
    );
    wait_sees(&bob, "ann", &["Found you nearby."]);
}
