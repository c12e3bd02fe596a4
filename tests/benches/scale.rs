//! Scale benchmark: many contacts, a long panel, a long history. Prints `name value unit` lines,
//! each figure next to its baseline from the same run.
//!
//! `cargo bench -p backstory-tests --bench scale`. `BENCH_CONTACTS` (default 200) and
//! `BENCH_ENTRIES` (default 100) size the contact list, `BENCH_PANEL` (default 1000) the panel the
//! viewer opens, `BENCH_HISTORY` (default 100000) the number of edits of the long history. Line
//! names carry the default sizes so figures stay comparable; the sizes used are printed too.
//!
//! Engine start and idle memory are measured in a fresh process (this benchmark run again on the
//! data directory), so what the generation left in memory does not count.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly

use std::path::Path;
use std::time::{Duration, Instant};

use backstory_core::net::NetworkMode;
use backstory_core::view::{EntryEdit, NewEntry};
use backstory_core::{Engine, Options, op};

/// Set in the process that measures an engine start: the data directory to open.
const CHILD: &str = "BENCH_SCALE_START";

fn line(name: &str, value: f64, unit: &str) {
    println!("{name} {value:.3} {unit}");
}

fn size(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn open(dir: &Path) -> Engine {
    Engine::open_with(dir, Options::default().network(NetworkMode::Local))
        .await
        .unwrap()
}

/// The resident memory of this process, in MB.
fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// The child's part: opens the engine on `dir`, times the first contact list, rests, and
/// reports its memory. Prints `start_ms contacts rss_mb` on one line.
async fn child(dir: &Path) {
    let t = Instant::now();
    let engine = open(dir).await;
    let cards = engine.run(op::Contacts {}).await.unwrap();
    let start = ms(t.elapsed());
    // Idle: the start-up publishing and the first network work are over.
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("{start} {} {}", cards.len(), rss_mb());
    engine.shutdown().await;
}

/// Runs [`child`] in a fresh process on `dir`: (start to list in ms, contacts, idle RSS in MB).
fn start_in_fresh_process(dir: &Path) -> (f64, usize, f64) {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .env(CHILD, dir)
        .env("BACKSTORY_NETWORK", "local")
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut parts = text.split_whitespace();
    let mut next = || parts.next().unwrap().to_string();
    (
        next().parse().unwrap(),
        next().parse().unwrap(),
        next().parse().unwrap(),
    )
}

/// `contacts` contacts with `entries` entries each, every tenth entry edited once (a history),
/// written through the engine's API.
async fn many_contacts(dir: &Path, contacts: usize, entries: usize) {
    let engine = open(dir).await;
    for c in 0..contacts {
        let name = format!("contact {c:03}");
        engine
            .run(op::AddContact { name: name.clone() })
            .await
            .unwrap();
        for e in 0..entries {
            let posted = engine
                .run(op::PostEntry {
                    contact: name.clone(),
                    entry: NewEntry::text(format!("entry {e} for {name}: what I did that day")),
                })
                .await
                .unwrap();
            if e % 10 == 0 {
                let edit = EntryEdit {
                    text: Some(format!("entry {e} for {name}, told better")),
                    ..EntryEdit::default()
                };
                engine
                    .run(op::EditEntry {
                        entry: posted.entry,
                        edit,
                    })
                    .await
                    .unwrap();
            }
        }
    }
    engine.shutdown().await;
}

/// An author's panel for "Viewer" with one entry edited `edits` times, or `entries` entries;
/// exported to `file`. Returns the time the author's own panel takes to open after a restart.
async fn author_panel(dir: &Path, file: &Path, entries: usize, edits: usize) -> f64 {
    let engine = open(dir).await;
    engine
        .run(op::AddContact {
            name: "Viewer".into(),
        })
        .await
        .unwrap();
    let mut last = None;
    for e in 0..entries {
        let posted = engine
            .run(op::PostEntry {
                contact: "Viewer".into(),
                entry: NewEntry::text(format!("entry {e}: a day out, a book, a song")),
            })
            .await
            .unwrap();
        last = Some(posted.entry);
    }
    let entry = last.unwrap();
    for i in 0..edits {
        let edit = EntryEdit {
            text: Some(format!("the same entry, told for the {i}th time")),
            ..EntryEdit::default()
        };
        engine
            .run(op::EditEntry {
                entry: entry.clone(),
                edit,
            })
            .await
            .unwrap();
    }
    engine.shutdown().await;
    let engine = open(dir).await;
    let t = Instant::now();
    engine
        .run(op::MyPanel {
            contact: "Viewer".into(),
        })
        .await
        .unwrap();
    let opened = ms(t.elapsed());
    engine
        .run(op::ExportPanel {
            contact: "Viewer".into(),
            path: file.to_path_buf(),
        })
        .await
        .unwrap();
    engine.shutdown().await;
    opened
}

/// Imports `file` as the panel of "Author" on a fresh device, restarts, and times the first
/// opening of that panel in the viewer: (ms, entries shown).
async fn viewer_opens(dir: &Path, file: &Path) -> (f64, usize) {
    let engine = open(dir).await;
    engine
        .run(op::AddContact {
            name: "Author".into(),
        })
        .await
        .unwrap();
    engine
        .run(op::ImportPanel {
            contact: "Author".into(),
            path: file.to_path_buf(),
        })
        .await
        .unwrap();
    engine.shutdown().await;
    let engine = open(dir).await;
    let t = Instant::now();
    let panel = engine
        .run(op::TheirPanel {
            contact: "Author".into(),
        })
        .await
        .unwrap();
    let opened = ms(t.elapsed());
    engine.shutdown().await;
    (opened, panel.changes.entries.len())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(Path::new(&dir)).await;
        return;
    }
    let contacts = size("BENCH_CONTACTS", 200);
    let entries = size("BENCH_ENTRIES", 100);
    let panel = size("BENCH_PANEL", 1000);
    let history = size("BENCH_HISTORY", 100_000);
    let root = tempfile::tempdir().unwrap();

    // Baseline: the same start on a data directory with no contact at all.
    let empty = root.path().join("empty");
    many_contacts(&empty, 0, 0).await;
    let (empty_start, _, empty_rss) = start_in_fresh_process(&empty);
    let many = root.path().join("many");
    let t = Instant::now();
    many_contacts(&many, contacts, entries).await;
    let generated = t.elapsed().as_secs_f64();
    let (start, listed, rss) = start_in_fresh_process(&many);
    assert_eq!(listed, contacts);
    line("contacts", contacts as f64, "contacts");
    line("entries_per_contact", entries as f64, "entries");
    line("generation_seconds", generated, "s");
    line("empty_start_to_list", empty_start, "ms");
    line("contacts_200_start_to_list", start, "ms");
    line(
        "contacts_200_start_over_empty_start",
        start / empty_start,
        "x",
    );
    line("empty_engine_idle_rss", empty_rss, "MB");
    line("engine_idle_rss", rss, "MB");

    // A panel of `panel` entries, and its baseline of one entry, opened in the viewer.
    let mut opened = Vec::new();
    for n in [1, panel] {
        let author = root.path().join(format!("author-{n}"));
        let viewer = root.path().join(format!("viewer-{n}"));
        let file = root.path().join(format!("panel-{n}.backstory"));
        author_panel(&author, &file, n, 0).await;
        let (ms, shown) = viewer_opens(&viewer, &file).await;
        assert_eq!(shown, n);
        opened.push(ms);
    }
    line("panel_entries", panel as f64, "entries");
    line("viewer_open_1_entry", opened[0], "ms");
    line("viewer_open_1000_entries", opened[1], "ms");
    line("viewer_open_1000_over_1_entry", opened[1] / opened[0], "x");

    // One entry edited `history` times.
    let author = root.path().join("history-author");
    let viewer = root.path().join("history-viewer");
    let file = root.path().join("history.backstory");
    let t = Instant::now();
    let mine = author_panel(&author, &file, 1, history).await;
    let per_edit = ms(t.elapsed()) / history.max(1) as f64;
    let (theirs, _) = viewer_opens(&viewer, &file).await;
    let db = std::fs::metadata(author.join("backstory.db"))
        .unwrap()
        .len();
    let exported = std::fs::metadata(&file).unwrap().len();
    line("history_edits", history as f64, "edits");
    line("history_ms_per_edit", per_edit, "ms");
    line("history_store_bytes", db as f64, "bytes");
    line("history_panel_file_bytes", exported as f64, "bytes");
    line("history_100000_open_mine", mine, "ms");
    line("history_100000_open", theirs, "ms");
    line("history_100000_open_over_1_entry", theirs / opened[0], "x");
}
