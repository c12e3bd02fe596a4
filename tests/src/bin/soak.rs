//! Long durability soak: `cargo run -p backstory-tests --bin soak -- [KILLS] [SEED]` posts entries
//! through the CLI while killing the engine with SIGKILL at random moments, restarting it each time,
//! and checks that every acknowledged entry is present and intact. Default: 1000 kills.

fn main() {
    let mut args = std::env::args().skip(1);
    let kills: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let seed: u64 = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(rand::random);
    let dir = tempfile::tempdir().expect("tempdir");
    backstory_tests::cli_ok(dir.path(), &["--help"]);
    let setup = backstory_tests::Node::start(dir.path());
    backstory_tests::cli_ok(dir.path(), &["contacts", "add", "Soak"]);
    setup.stop();
    let started = std::time::Instant::now();
    let acked = backstory_tests::kill_cycle(dir.path(), "soak", kills, seed);
    println!(
        "soak: {kills} kills, {} acknowledged entries, all intact, seed {seed}, {:.1} s",
        acked.len(),
        started.elapsed().as_secs_f64()
    );
}
