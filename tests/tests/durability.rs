//! Durability, shown: posts through the CLI while the engine is killed with SIGKILL at random
//! moments; every entry whose id was printed must survive, intact and published, and the store
//! must open cleanly each time. (`cargo run -p backstory-tests --bin soak` runs 1000+ kills.)

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_tests::{Node, cli_ok, kill_cycle};

#[test]
fn acknowledged_entries_survive_two_hundred_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path());
    cli_ok(dir.path(), &["contacts", "add", "Dana"]);
    node.stop();
    let seed = std::env::var("BACKSTORY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("seed {seed} (rerun with BACKSTORY_SEED={seed})");
    let acked = kill_cycle(dir.path(), "dana", 200, seed);
    eprintln!(
        "{} entries acknowledged across 200 kills, all intact",
        acked.len()
    );
    assert!(
        acked.len() >= 50,
        "too few posts were acknowledged ({}) for the test to mean anything",
        acked.len()
    );
}
