//! Sync benchmark: two engines on loopback (local network mode), in one process. Prints
//! `name value unit` lines, each figure next to its baseline from the same run.
//!
//! `cargo bench -p backstory-tests --bench sync` (BENCH_EDITS sets the offline edit count,
//! default 10000; BENCH_MEDIA_ROUNDS the media fetches set against raw QUIC streams, default 5).
//!
//! Edit to visible is set against its physical floor, both measured in the same run: a durable
//! SQLite commit of the same size on the same disk (`durable_commit_p50`) and a QUIC round trip
//! between two endpoints on the same machine (`quic_rtt_p50`). The median and the slowest edits
//! are broken down into the stages the engine reports (`backstory_core::stage`). Edits are
//! timed back to back (the next starts when the last is visible), then with both devices at rest
//! before each (`edit_isolated_to_visible_*`).

#![allow(clippy::unwrap_used)] // a benchmark fails loudly

#[path = "sync/cpu.rs"]
mod cpu;
#[path = "sync/raw.rs"]
mod raw;
#[path = "sync/slow.rs"]
mod slow;
#[path = "sync/stages.rs"]
mod stages;

use std::path::Path;
use std::time::{Duration, Instant};

use backstory_core::crdt::EntryId;
use backstory_core::net::NetworkMode;
use backstory_core::view::{EntryEdit, NewEntry};
use backstory_core::{Engine, Event, Options, op};

fn line(name: &str, value: f64, unit: &str) {
    println!("{name} {value:.3} {unit}");
}

/// Prints `<name>_p50` and `<name>_p99` of latencies sorted in milliseconds; returns both.
fn p50_p99(name: &str, sorted: &[f64]) -> (f64, f64) {
    let (p50, p99) = (percentile(sorted, 0.5), percentile(sorted, 0.99));
    line(&format!("{name}_p50"), p50, "ms");
    line(&format!("{name}_p99"), p99, "ms");
    (p50, p99)
}

fn ms_since(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1000.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

async fn open(dir: &Path) -> Engine {
    Engine::open_with(dir, Options::default().network(NetworkMode::Local))
        .await
        .unwrap()
}

/// Waits until the viewer's panel from `contact` satisfies `done`.
async fn until_seen(bob: &Engine, contact: &str, done: impl Fn(&[String]) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut events = bob.subscribe();
    loop {
        let p = bob
            .run(op::TheirPanel {
                contact: contact.into(),
            })
            .await
            .unwrap();
        let texts: Vec<String> = p
            .changes
            .entries
            .iter()
            .map(|e| e.entry.text.clone())
            .collect();
        if done(&texts) {
            return;
        }
        assert!(Instant::now() < deadline, "never arrived");
        let _ = tokio::time::timeout(Duration::from_millis(50), async {
            loop {
                if let Ok(Event::PanelReceived { .. }) = events.recv().await {
                    return;
                }
            }
        })
        .await;
    }
}

/// Names the two devices, pairs Bob with Ann (through `via` when given: the ticket then names
/// only that address), and waits until Bob sees Ann's first entry; returns that entry.
async fn pair_with_an_entry(
    ann: &Engine,
    bob: &Engine,
    via: Option<std::net::SocketAddr>,
) -> EntryId {
    ann.run(op::SetName { name: "Ann".into() }).await.unwrap();
    bob.run(op::SetName { name: "Bob".into() }).await.unwrap();
    let invite = ann
        .run(op::Invite {
            ttl_secs: 600,
            approval: false,
        })
        .await
        .unwrap();
    let mut ticket = backstory_core::ticket::Ticket::decode(&invite.ticket).unwrap();
    if let Some(addr) = via {
        ticket.addrs = vec![addr];
    }
    bob.run(op::Join {
        ticket: ticket.encode(),
    })
    .await
    .unwrap();
    let entry = ann
        .run(op::PostEntry {
            contact: "bob".into(),
            entry: NewEntry::text("0"),
        })
        .await
        .unwrap()
        .entry;
    until_seen(bob, "ann", |t| t == ["0"]).await;
    entry
}

/// Ann edits `entry` `rounds` times, each time waiting until Bob's engine shows the new text;
/// calls `after` with each edit's start and milliseconds to visible. The times, sorted.
async fn timed_edits(
    ann: &Engine,
    bob: &Engine,
    entry: &EntryId,
    (rounds, pause): (usize, Duration),
    mut after: impl FnMut(Instant, f64),
) -> Vec<f64> {
    let mut lat = Vec::new();
    for i in 1..=rounds {
        let want = if pause.is_zero() {
            format!("{i}")
        } else {
            format!("{i} at rest")
        };
        let t = Instant::now();
        ann.run(op::EditEntry {
            entry: entry.clone(),
            edit: EntryEdit {
                text: Some(want.clone()),
                ..Default::default()
            },
        })
        .await
        .unwrap();
        until_seen(bob, "ann", |t| {
            t.first().map(String::as_str) == Some(want.as_str())
        })
        .await;
        let total = ms_since(t);
        lat.push(total);
        after(t, total);
        tokio::time::sleep(pause).await;
    }
    lat.sort_by(f64::total_cmp);
    lat
}

/// [`timed_edits`] with each edit's way through the engine's stages; both sorted.
async fn timed_edits_by_stage(
    ann: &Engine,
    bob: &Engine,
    entry: &EntryId,
    pace: (usize, Duration),
) -> (Vec<f64>, Vec<stages::Way>) {
    let author = ann.run(op::Profile {}).await.unwrap().id;
    let viewer = bob.run(op::Profile {}).await.unwrap().id;
    stages::clear();
    let mut ways = Vec::new();
    let lat = timed_edits(ann, bob, entry, pace, |t, total| {
        ways.push(stages::way(t, total, (&author, &viewer)));
    })
    .await;
    ways.sort_by(|a, b| a.total.total_cmp(&b.total));
    (lat, ways)
}

/// How long Bob's engine takes to answer for Ann's panel while it does not change (the
/// windows' read after each event), over `n` reads. Milliseconds, sorted.
async fn unchanged_reads(bob: &Engine, n: usize) -> Vec<f64> {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let p = bob
            .run(op::TheirPanel {
                contact: "ann".into(),
            })
            .await
            .unwrap();
        times.push(ms_since(t));
        assert!(p.shared);
    }
    times.sort_by(f64::total_cmp);
    times
}

/// How many entries of Ann's panel Bob sees.
async fn entries_shown(bob: &Engine) -> usize {
    bob.run(op::TheirPanel {
        contact: "ann".into(),
    })
    .await
    .unwrap()
    .changes
    .entries
    .len()
}

/// Durable commits of `size` bytes as the engine makes them: WAL, `synchronous=FULL`, one row
/// updated per transaction, in a store beside the engine's. Milliseconds, sorted.
fn durable_commits(dir: &Path, size: usize) -> Vec<f64> {
    let db = rusqlite::Connection::open(dir.join("baseline.db")).unwrap();
    let mode: String = db
        .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    db.execute_batch(
        "PRAGMA synchronous=FULL; CREATE TABLE masters (contact TEXT PRIMARY KEY, panel TEXT);
         INSERT INTO masters VALUES ('c', '');",
    )
    .unwrap();
    let mut times = Vec::new();
    for i in 0..200u32 {
        let panel = format!("{i:0>size$}");
        let t = Instant::now();
        let tx = db.unchecked_transaction().unwrap();
        tx.execute("UPDATE masters SET panel = ?1 WHERE contact = 'c'", [panel])
            .unwrap();
        tx.commit().unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    stages::listen();
    let edits: usize = std::env::var("BENCH_EDITS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(10_000);
    let raw = raw::Raw::start().await;
    let quic_rtts = raw.rtts(200).await;
    let quic_p50 = percentile(&quic_rtts, 0.5);
    line("quic_rtt_p50", quic_p50, "ms");
    line("quic_rtt_p99", percentile(&quic_rtts, 0.99), "ms");

    let da = tempfile::tempdir().unwrap();
    let db = tempfile::tempdir().unwrap();
    let ann = open(da.path()).await;
    let mut bob = open(db.path()).await;

    // Edit-to-visible latency, one edit at a time.
    let entry = pair_with_an_entry(&ann, &bob, None).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = ann.traffic();
    let before_b = bob.traffic();
    let rounds = 200;
    let (lat, ways) = timed_edits_by_stage(&ann, &bob, &entry, (rounds, Duration::ZERO)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = ann.traffic();
    let after_b = bob.traffic();
    let entry_size: i64 = rusqlite::Connection::open(da.path().join("backstory.db"))
        .unwrap()
        .query_row("SELECT max(length(data)) FROM master_entries", [], |r| {
            r.get(0)
        })
        .unwrap();
    let commit_p50 = percentile(&durable_commits(da.path(), entry_size as usize), 0.5);
    line("durable_commit_p50", commit_p50, "ms");
    let (p50, p99) = p50_p99("edit_to_visible", &lat);
    let small_panel_p50 = p50;
    line("edit_to_visible_p50_over_quic_rtt_p50", p50 / quic_p50, "x");
    let floor = commit_p50 + 2.0 * quic_p50;
    line("edit_to_visible_p50_over_floor", p50 / floor, "x");
    line("edit_to_visible_p99_over_p50", p99 / p50, "x");
    stages::print("p50", &ways[ways.len() / 2]);
    stages::print(
        "p99",
        &ways[((ways.len() - 1) as f64 * 0.99).round() as usize],
    );
    let wire = (after.sent - before.sent) + (after_b.sent - before_b.sent);
    line("bytes_per_edit", wire as f64 / rounds as f64, "bytes");
    let writes = (after.writes - before.writes) + (after_b.writes - before_b.writes);
    line(
        "messages_per_edit",
        writes as f64 / rounds as f64,
        "messages",
    );

    // The same edits with both devices at rest before each (the previous edit's writes, marks
    // and receipts done): what one edit costs by itself, apart from queueing behind the last.
    let (lat, ways) =
        timed_edits_by_stage(&ann, &bob, &entry, (100, Duration::from_millis(30))).await;
    let (p50, _) = p50_p99("edit_isolated_to_visible", &lat);
    line("edit_isolated_to_visible_p50_over_floor", p50 / floor, "x");
    stages::print("isolated_p50", &ways[ways.len() / 2]);
    let small_read_p50 = percentile(&unchanged_reads(&bob, 200).await, 0.5);
    line("panel_read_1_entry_p50", small_read_p50, "ms");

    // Catch-up after offline edits.
    bob.shutdown().await;
    drop(bob);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let t = Instant::now();
    for i in 0..edits {
        ann.run(op::EditEntry {
            entry: entry.clone(),
            edit: EntryEdit {
                text: Some(format!("offline {i}")),
                ..Default::default()
            },
        })
        .await
        .unwrap();
    }
    line(
        "offline_edits_written_per_s",
        edits as f64 / t.elapsed().as_secs_f64(),
        "edits/s",
    );
    let a0 = ann.traffic();
    let t = Instant::now();
    bob = open(db.path()).await;
    let b0 = bob.traffic();
    let last = format!("offline {}", edits - 1);
    until_seen(&bob, "ann", |t| t.first() == Some(&last)).await;
    let secs = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (a1, b1) = (ann.traffic(), bob.traffic());
    let bytes = (a1.sent - a0.sent) + (b1.sent - b0.sent);
    let msgs = (a1.writes - a0.writes) + (b1.writes - b0.writes);
    line("catchup_edits", edits as f64, "edits");
    line("catchup_seconds", secs, "s");
    line("catchup_messages", msgs as f64, "messages");
    line(
        "catchup_bytes_per_edit",
        bytes as f64 / edits as f64,
        "bytes",
    );

    // Reconnect with nothing new.
    bob.shutdown().await;
    drop(bob);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let a0 = ann.traffic();
    bob = open(db.path()).await;
    let b0 = bob.traffic();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (a1, b1) = (ann.traffic(), bob.traffic());
    line(
        "reconnect_nothing_new_bytes",
        ((a1.sent - a0.sent) + (b1.sent - b0.sent)) as f64,
        "bytes",
    );

    media_throughput(&ann, &bob, da.path(), db.path(), &raw).await;
    raw.close().await;

    // The same edits in a panel of 1 000 entries: what grows with the panel on either device.
    for i in entries_shown(&bob).await..1000 {
        ann.run(op::PostEntry {
            contact: "bob".into(),
            entry: NewEntry::text(format!("entry {i}: a day out, a book, a song")),
        })
        .await
        .unwrap();
    }
    until_seen(&bob, "ann", |t| t.len() >= 1000).await;
    let (lat, ways) = timed_edits_by_stage(&ann, &bob, &entry, (50, Duration::ZERO)).await;
    let (big_p50, _) = p50_p99("edit_to_visible_1000_entries", &lat);
    line(
        "edit_to_visible_1000_entries_over_p50",
        big_p50 / small_panel_p50,
        "x",
    );
    stages::print("1000_entries_p50", &ways[ways.len() / 2]);
    let big_read_p50 = percentile(&unchanged_reads(&bob, 200).await, 0.5);
    line("panel_read_1000_entries_p50", big_read_p50, "ms");
    line(
        "panel_read_1000_entries_over_1_entry",
        big_read_p50 / small_read_p50,
        "x",
    );
    bob.shutdown().await;
    ann.shutdown().await;

    // The same edits through a link of 50 ms round trip.
    slow::measure(commit_p50, Duration::from_millis(50), 30).await;
}

/// Media throughput against raw QUIC on the same machine: rounds of one 50 MB stream on the
/// plain connection followed by the fetch of a 50 MB attachment (into the store, then out to a
/// file, as `backstory fetch --out` does), each pair next to each other so that a busier moment
/// of the machine weighs on both; then another stream and the fetch of another attachment as the
/// app fetches it (into the store, and the copy its windows show: `blob_shown_*`).
/// `BENCH_MEDIA_ROUNDS` sets the rounds (default 5).
async fn media_throughput(ann: &Engine, bob: &Engine, da: &Path, db: &Path, raw: &raw::Raw) {
    const SIZE: usize = 50_000_000;
    let rounds: usize = std::env::var("BENCH_MEDIA_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5)
        .max(1);
    let before = entries_shown(bob).await;
    let mut media = Vec::new();
    // Each round fetches one attachment out to a file and another for the windows to show.
    for round in 0..2 * rounds {
        let file = da.join(format!("big{round}.bin"));
        std::fs::write(&file, vec![round as u8; SIZE]).unwrap();
        let entry = ann
            .run(op::PostEntry {
                contact: "bob".into(),
                entry: NewEntry {
                    file: Some(file),
                    ..NewEntry::text("")
                },
            })
            .await
            .unwrap()
            .entry;
        media.push(entry);
    }
    until_seen(bob, "ann", |t| t.len() == before + 2 * rounds).await;
    let payload = vec![3u8; SIZE];
    let (mut blob, mut quic, mut ratio, mut export) = (vec![], vec![], vec![], vec![]);
    let (mut shown, mut shown_ratio) = (vec![], vec![]);
    // CPU per MB of each, both ends counted.
    let (mut quic_cpu, mut blob_cpu, mut shown_cpu) = (vec![], vec![], vec![]);
    let per_mb = |since: f64| (cpu::used_ms() - since) / (SIZE as f64 / 1e6);
    for (round, two) in media.chunks(2).enumerate() {
        let (entry, for_windows) = (two[0].clone(), two[1].clone());
        let c = cpu::used_ms();
        let quic_mbps = raw.bulk(&payload).await;
        quic_cpu.push(per_mb(c));
        let c = cpu::used_ms();
        let t = Instant::now();
        bob.run(op::FetchMedia {
            contact: "ann".into(),
            entry: entry.clone(),
            out: Some(db.join(format!("got{round}.bin"))),
        })
        .await
        .unwrap();
        let blob_mbps = SIZE as f64 / 1e6 / t.elapsed().as_secs_f64();
        blob_cpu.push(per_mb(c));
        // The part of that which is the copy out of the store (the blob is here now).
        let t = Instant::now();
        bob.run(op::FetchMedia {
            contact: "ann".into(),
            entry,
            out: Some(db.join(format!("again{round}.bin"))),
        })
        .await
        .unwrap();
        export.push(ms_since(t));
        blob.push(blob_mbps);
        quic.push(quic_mbps);
        ratio.push(blob_mbps / quic_mbps);

        // As the app fetches: into the store, and the copy its windows show.
        let c = cpu::used_ms();
        let quic_mbps = raw.bulk(&payload).await;
        quic_cpu.push(per_mb(c));
        let c = cpu::used_ms();
        let t = Instant::now();
        bob.run(op::FetchMedia {
            contact: "ann".into(),
            entry: for_windows,
            out: None,
        })
        .await
        .unwrap();
        let mbps = SIZE as f64 / 1e6 / t.elapsed().as_secs_f64();
        shown_cpu.push(per_mb(c));
        quic.push(quic_mbps);
        shown.push(mbps);
        shown_ratio.push(mbps / quic_mbps);
    }
    for v in [
        &mut blob,
        &mut quic,
        &mut ratio,
        &mut export,
        &mut shown,
        &mut shown_ratio,
        &mut quic_cpu,
        &mut blob_cpu,
        &mut shown_cpu,
    ] {
        v.sort_by(f64::total_cmp);
    }
    line("blob_export_ms", percentile(&export, 0.5), "ms");
    line("blob_fetch_throughput", percentile(&blob, 0.5), "MB/s");
    line("raw_quic_stream_throughput", percentile(&quic, 0.5), "MB/s");
    line(
        "blob_over_raw_quic_throughput",
        percentile(&ratio, 0.5),
        "x",
    );
    line("blob_over_raw_quic_throughput_min", ratio[0], "x");
    line(
        "blob_over_raw_quic_throughput_max",
        ratio[ratio.len() - 1],
        "x",
    );
    line(
        "blob_shown_fetch_throughput",
        percentile(&shown, 0.5),
        "MB/s",
    );
    line(
        "blob_shown_over_raw_quic_throughput",
        percentile(&shown_ratio, 0.5),
        "x",
    );
    // Where the cores are the limit, throughput goes as the inverse of the CPU per MB: the raw
    // stream's CPU over a fetch's bounds their throughput ratio here. BLAKE3 over the same bytes
    // on one core is what verifying them costs at least.
    let (quic_cpu, blob_cpu, shown_cpu) = (
        percentile(&quic_cpu, 0.5),
        percentile(&blob_cpu, 0.5),
        percentile(&shown_cpu, 0.5),
    );
    line("raw_quic_cpu_per_mb", quic_cpu, "ms");
    line("blob_fetch_cpu_per_mb", blob_cpu, "ms");
    line("blob_shown_cpu_per_mb", shown_cpu, "ms");
    line(
        "raw_quic_cpu_over_blob_shown_cpu",
        quic_cpu / shown_cpu,
        "x",
    );
    let t = Instant::now();
    std::hint::black_box(blake3::hash(std::hint::black_box(&payload)));
    line("blake3_per_mb", ms_since(t) / (SIZE as f64 / 1e6), "ms");
}
