//! Scale benchmark: many contacts, a long panel, a long history. Prints `name value unit` lines,
//! each figure next to its baseline from the same run.
//!
//! `cargo bench -p backstory-tests --bench scale`. `BENCH_CONTACTS` (default 200) and
//! `BENCH_ENTRIES` (default 100) size the contact list, `BENCH_PANEL` (default 1000) the panel the
//! viewer opens and its author edits, `BENCH_HISTORY` (default 100000) the number of edits of the long history. Line
//! names carry the default sizes so figures stay comparable; the sizes used are printed too.
//! `BENCH_DIR` keeps the generated data directories there instead of in a temporary directory.
//!
//! Engine start and idle memory are measured in a fresh process (this benchmark run again on the
//! data directory), so what the generation left in memory does not count.

#![allow(clippy::unwrap_used)] // a benchmark fails loudly

#[path = "scale/app.rs"]
mod app;
#[path = "scale/window.rs"]
mod window;

use std::path::Path;
use std::time::{Duration, Instant};

use backstory_core::net::NetworkMode;
use backstory_core::view::{EntryEdit, NewEntry};
use backstory_core::{Engine, Options, op};

/// Set in the process that measures an engine start: the data directory to open.
const CHILD: &str = "BENCH_SCALE_START";
const WINDOW: &str = "BENCH_SCALE_WINDOW";
const VIEWER: &str = "BENCH_SCALE_VIEWER";

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

/// Opens the engine on `dir`; an engine of this process that was just shut down may still hold
/// the directory for a moment while its tasks end.
async fn open(dir: &Path) -> Engine {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match Engine::open_with(dir, Options::default().network(NetworkMode::Local)).await {
            Ok(engine) => return engine,
            Err(backstory_core::EngineError::DataDir(
                backstory_core::paths::DataDirError::Locked { .. },
            )) if Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("cannot open {}: {e}", dir.display()),
        }
    }
}

/// Shuts an engine down and lets go of it.
async fn close(engine: Engine) {
    engine.shutdown().await;
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
/// reports its memory. Prints `start_ms contacts rss_mb open_ms` on one line.
async fn child(dir: &Path) {
    let t = Instant::now();
    let engine = open(dir).await;
    let opened = ms(t.elapsed());
    let cards = engine.run(op::Contacts {}).await.unwrap();
    let start = ms(t.elapsed());
    // Idle: the start-up publishing and the first network work are over.
    tokio::time::sleep(Duration::from_secs(3)).await;
    println!("{start} {} {} {opened}", cards.len(), rss_mb());
    close(engine).await;
}

/// Makes sure the engine started on `dir` finds the UDP port it used last free, as it does after
/// the app quits: an engine that was shut down inside this process keeps its port until the
/// process ends (found by this benchmark; left alone, since an app's restart is a new process), and
/// a start that finds its port taken waits 2 s for it before taking another — a different thing
/// from what is measured here. Waits a little, then has the engine take any port.
pub fn until_port_free(dir: &Path) {
    let db = rusqlite::Connection::open(dir.join("backstory.db")).unwrap();
    let port: Option<u16> = db
        .query_row("SELECT value FROM settings WHERE key = 'port'", [], |r| {
            r.get::<_, String>(0)
        })
        .ok()
        .and_then(|p| p.parse().ok());
    let Some(port) = port else { return };
    let deadline = Instant::now() + Duration::from_secs(3);
    while std::net::UdpSocket::bind(("0.0.0.0", port)).is_err() {
        if Instant::now() > deadline {
            eprintln!("port {port} is still held by this process: the engine will take another");
            db.execute("DELETE FROM settings WHERE key = 'port'", [])
                .unwrap();
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs [`child`] in a fresh process on `dir`: (start to list in ms, contacts, idle RSS in MB,
/// start to an open engine in ms).
fn start_in_fresh_process(dir: &Path) -> (f64, usize, f64, f64) {
    until_port_free(dir);
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
    close(engine).await;
}

/// Bytes this process has handed to `write` and its kin so far (`wchar` of `/proc/self/io`): the
/// store's writes, for an engine alone in the process with nothing to send.
fn bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("wchar: "))
        .unwrap()
        .parse()
        .unwrap()
}

/// What an author's edits cost: each edit's time, sorted, and the bytes written per edit.
struct Edits {
    times: Vec<f64>,
    bytes: f64,
}

/// An author's panel for "Viewer" with one entry edited `edits` times, or `entries` entries;
/// exported to `file`. Returns the time the author's own panel takes to open after a restart.
async fn author_panel(dir: &Path, file: &Path, entries: usize, edits: usize) -> (f64, Edits) {
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
    let mut times = Vec::with_capacity(edits);
    let written = bytes_written();
    for i in 0..edits {
        let edit = EntryEdit {
            // Of a length that changes, as an edit's text usually does.
            text: Some(format!(
                "the same entry, told for the {i}th time{}",
                "!".repeat(i % 4)
            )),
            ..EntryEdit::default()
        };
        let t = Instant::now();
        engine
            .run(op::EditEntry {
                entry: entry.clone(),
                edit,
            })
            .await
            .unwrap();
        times.push(ms(t.elapsed()));
    }
    let bytes = (bytes_written() - written) as f64 / edits.max(1) as f64;
    times.sort_by(f64::total_cmp);
    close(engine).await;
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
    close(engine).await;
    (opened, Edits { times, bytes })
}

/// Imports `file` as the panel of "Author" on a fresh device; restarts with the view of it the
/// engine kept taken out of the store and times the opening (the document is loaded: what an
/// opening costs without a kept view), restarts again and times the opening with the view kept,
/// then the next one: (ms, ms, ms, entries shown).
async fn viewer_opens(dir: &Path, file: &Path) -> (f64, f64, f64, usize) {
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
    close(engine).await;
    rusqlite::Connection::open(dir.join("backstory.db"))
        .unwrap()
        .execute("DELETE FROM panel_views", [])
        .unwrap();
    let engine = open(dir).await;
    let unkept = timed_opening(&engine).await.0;
    close(engine).await;
    let engine = open(dir).await;
    let (opened, shown) = timed_opening(&engine).await;
    // Again: what every later opening costs.
    let again = timed_opening(&engine).await.0;
    close(engine).await;
    (unkept, opened, again, shown)
}

/// One opening of the Author's panel: (ms, entries shown).
async fn timed_opening(engine: &Engine) -> (f64, usize) {
    let t = Instant::now();
    let panel = engine
        .run(op::TheirPanel {
            contact: "Author".into(),
        })
        .await
        .unwrap();
    (ms(t.elapsed()), panel.changes.entries.len())
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    if let Some(dir) = std::env::var_os(CHILD) {
        child(Path::new(&dir)).await;
        return;
    }
    let contacts = size("BENCH_CONTACTS", 200);
    // Only the main window on a data directory kept before (`BENCH_DIR`), to look at it again:
    // `BENCH_SCALE_WINDOW=$BENCH_DIR/many` (with `BENCH_CONTACTS`, the rows to wait for).
    if let Some(dir) = std::env::var_os(WINDOW) {
        let bin = app::built("backstory-app", "BACKSTORY_APP").expect("the app is built");
        if let Some(ms) = window::rows_shown(&bin, Path::new(&dir), contacts).await {
            line("app_start_to_rows", ms, "ms");
        }
        return;
    }
    // Only the viewer window on a panel kept before: `BENCH_SCALE_VIEWER=$BENCH_DIR/viewer-1000`
    // (with `BENCH_PANEL`, the entries to wait for).
    if let Some(dir) = std::env::var_os(VIEWER) {
        let bin = app::built("backstory-app", "BACKSTORY_APP").expect("the app is built");
        let entries = size("BENCH_PANEL", 1000);
        if let Some((first, all)) = window::viewer_shown(&bin, Path::new(&dir), entries).await {
            line("viewer_window_first", first, "ms");
            line("viewer_window", all, "ms");
        }
        return;
    }
    let entries = size("BENCH_ENTRIES", 100);
    let panel = size("BENCH_PANEL", 1000);
    let history = size("BENCH_HISTORY", 100_000);
    // BENCH_DIR keeps what is generated there (fresh subdirectories), to profile a start again:
    // `BENCH_SCALE_START=$BENCH_DIR/many perf record … <this benchmark's binary>`.
    let kept = std::env::var_os("BENCH_DIR").map(std::path::PathBuf::from);
    let temp = tempfile::tempdir().unwrap();
    let root = kept.as_deref().unwrap_or(temp.path());
    if kept.is_some() {
        std::fs::create_dir_all(root).unwrap();
        for sub in ["empty", "many", "history-author", "history-viewer"] {
            let _ = std::fs::remove_dir_all(root.join(sub));
        }
        for n in [1, panel] {
            let _ = std::fs::remove_dir_all(root.join(format!("author-{n}")));
            let _ = std::fs::remove_dir_all(root.join(format!("viewer-{n}")));
        }
    }

    // Baseline: the same start on a data directory with no contact at all.
    let empty = root.join("empty");
    many_contacts(&empty, 0, 0).await;
    let (empty_start, _, empty_rss, _) = start_in_fresh_process(&empty);
    let many = root.join("many");
    let t = Instant::now();
    many_contacts(&many, contacts, entries).await;
    let generated = t.elapsed().as_secs_f64();
    let (start, listed, rss, open_ms) = start_in_fresh_process(&many);
    assert_eq!(listed, contacts);
    line("contacts", contacts as f64, "contacts");
    line("entries_per_contact", entries as f64, "entries");
    line("generation_seconds", generated, "s");
    line("empty_start_to_list", empty_start, "ms");
    line("contacts_200_start_to_list", start, "ms");
    line("contacts_200_start_to_open_engine", open_ms, "ms");
    line(
        "contacts_200_start_over_empty_start",
        start / empty_start,
        "x",
    );
    line("empty_engine_idle_rss", empty_rss, "MB");
    line("engine_idle_rss", rss, "MB");

    // The desktop app on the same data, and on the empty one.
    let built = (
        app::built("backstory-app", "BACKSTORY_APP"),
        app::built("backstory", "BACKSTORY_BIN"),
    );
    match built {
        (Some(bin), Some(cli)) => {
            eprintln!("app: {}", bin.display());
            let rest = Duration::from_secs(5);
            let empty_app = app::idle(&bin, &cli, &empty, rest);
            let full = app::idle(&bin, &cli, &many, rest);
            assert_eq!(full.contacts, contacts);
            line("app_empty_start_to_list", empty_app.start_to_list, "ms");
            line("app_contacts_200_start_to_list", full.start_to_list, "ms");
            line("app_empty_idle_rss", empty_app.rss, "MB");
            line("app_idle_rss", full.rss, "MB");
            line("app_idle_pss", full.pss, "MB");
            line("app_processes", full.processes as f64, "processes");
            // The main window itself: from the app's start until every row is on the page.
            if let (Some(empty_ms), Some(rows_ms)) = (
                window::rows_shown(&bin, &empty, 0).await,
                window::rows_shown(&bin, &many, contacts).await,
            ) {
                line("app_empty_start_to_window", empty_ms, "ms");
                line("app_contacts_200_start_to_rows", rows_ms, "ms");
                line(
                    "app_contacts_200_start_to_rows_over_empty",
                    rows_ms / empty_ms,
                    "x",
                );
            }
        }
        _ => eprintln!(
            "app_idle_rss not measured: the app and the CLI are not built (`make build`, or set \
             BACKSTORY_APP and BACKSTORY_BIN)"
        ),
    }

    // A panel of `panel` entries, and its baseline of one entry, opened in the viewer.
    // Its last entry is edited 50 times first: what one edit costs as the panel grows.
    let (mut opened, mut unkept, mut edit, mut written) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for n in [1, panel] {
        let author = root.join(format!("author-{n}"));
        let viewer = root.join(format!("viewer-{n}"));
        let file = root.join(format!("panel-{n}.backstory"));
        let (_, edits) = author_panel(&author, &file, n, 50).await;
        edit.push(edits.times[edits.times.len() / 2]);
        written.push(edits.bytes);
        let (without, ms, _, shown) = viewer_opens(&viewer, &file).await;
        assert_eq!(shown, n);
        opened.push(ms);
        unkept.push(without);
    }
    line("panel_entries", panel as f64, "entries");
    line("viewer_open_1_entry", opened[0], "ms");
    line("viewer_open_1000_entries", opened[1], "ms");
    line("viewer_open_1000_over_1_entry", opened[1] / opened[0], "x");
    line(
        "viewer_open_1000_entries_without_kept_view",
        unkept[1],
        "ms",
    );
    // The same openings as a person meets them: the viewer window, from the click on their
    // panel's icon in the main window until its page shows every entry.
    if let Some(bin) = app::built("backstory-app", "BACKSTORY_APP") {
        let mut shown = Vec::new();
        for n in [1, panel] {
            let viewer = root.join(format!("viewer-{n}"));
            shown.extend(window::viewer_shown(&bin, &viewer, n).await);
        }
        if let [(_, one), (first, many)] = shown[..] {
            line("viewer_window_1_entry", one, "ms");
            line("viewer_window_1000_entries_first", first, "ms");
            line("viewer_window_1000_entries", many, "ms");
            line("viewer_window_1000_first_over_1_entry", first / one, "x");
            line("viewer_window_1000_over_1_entry", many / one, "x");
        }
    }
    line("edit_in_1_entry_panel_p50", edit[0], "ms");
    line("edit_in_1000_entry_panel_p50", edit[1], "ms");
    line("edit_in_1000_over_1_entry_panel", edit[1] / edit[0], "x");
    line("edit_in_1_entry_panel_bytes_written", written[0], "bytes");
    line(
        "edit_in_1000_entry_panel_bytes_written",
        written[1],
        "bytes",
    );

    // One entry edited `history` times.
    let author = root.join("history-author");
    let viewer = root.join("history-viewer");
    let file = root.join("history.backstory");
    let t = Instant::now();
    let (mine, _) = author_panel(&author, &file, 1, history).await;
    let per_edit = ms(t.elapsed()) / history.max(1) as f64;
    let (theirs_unkept, theirs, theirs_again, _) = viewer_opens(&viewer, &file).await;
    // The store with its write-ahead log (what is not checkpointed yet lives there).
    let db: u64 = ["backstory.db", "backstory.db-wal"]
        .iter()
        .filter_map(|f| std::fs::metadata(author.join(f)).ok())
        .map(|m| m.len())
        .sum();
    let exported = std::fs::metadata(&file).unwrap().len();
    line("history_edits", history as f64, "edits");
    line("history_ms_per_edit", per_edit, "ms");
    line("history_store_bytes", db as f64, "bytes");
    line("history_panel_file_bytes", exported as f64, "bytes");
    line("history_100000_open_mine", mine, "ms");
    line("history_100000_open_without_kept_view", theirs_unkept, "ms");
    line("history_100000_open", theirs, "ms");
    line("history_100000_open_again", theirs_again, "ms");
    line("history_100000_open_over_1_entry", theirs / opened[0], "x");
}
