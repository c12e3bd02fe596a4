//! Durability, shown: posts through the CLI while the engine is killed with SIGKILL at random
//! moments; every entry whose id was printed must survive, intact and published, and the store
//! must open cleanly each time. (`make soak` runs 1000 kills.)
//!
//! What this shows is that nothing acknowledged lives only in the engine's memory: a killed process
//! loses nothing it answered for. A power cut also needs the data to have reached the disk; that
//! rests on SQLite in WAL mode with `synchronous=FULL` (the WAL is synced before a commit returns)
//! and on the disk honouring the sync, and is not something a test on a running machine can show.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use backstory_tests::{Node, cli_ok, kill_cycle};

/// Kills in `make test`; the soak runs many more.
const KILLS: usize = 50;

#[test]
fn acknowledged_entries_survive_fifty_sigkills() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start(dir.path());
    cli_ok(dir.path(), &["contacts", "add", "Dana"]);
    node.stop();
    let seed = std::env::var("BACKSTORY_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random);
    eprintln!("seed {seed} (rerun with BACKSTORY_SEED={seed})");
    let acked = kill_cycle(dir.path(), "dana", KILLS, seed);
    eprintln!(
        "{} entries acknowledged across {KILLS} kills, all intact",
        acked.len()
    );
    assert!(
        acked.len() >= KILLS / 4,
        "too few posts were acknowledged ({}) for the test to mean anything",
        acked.len()
    );
}
