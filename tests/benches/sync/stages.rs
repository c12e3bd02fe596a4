//! The per-stage breakdown of an edit: a tracing layer that notes when each of the engine's stage
//! events (`backstory_core::stage`) fires and on which device, and what each edit's stages add up
//! to.

use std::sync::Mutex;
use std::time::Instant;

use backstory_core::stage;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;

/// Each stage event: its stage, the device that reached it (empty where the event names none),
/// and when.
static SEEN: Mutex<Vec<(&'static str, String, Instant)>> = Mutex::new(Vec::new());

struct Recorder;

#[derive(Default)]
struct StageEvent {
    stage: Option<&'static str>,
    device: String,
}

impl Visit for StageEvent {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "stage" {
            self.stage = stage::STAGES.iter().copied().find(|s| *s == value);
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "device" {
            self.device = format!("{value:?}");
        }
    }
}

impl<S: tracing::Subscriber> Layer<S> for Recorder {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        if event.metadata().target() != stage::TARGET {
            return;
        }
        let mut seen = StageEvent::default();
        event.record(&mut seen);
        if let Some(n) = seen.stage {
            SEEN.lock().unwrap().push((n, seen.device, Instant::now()));
        }
    }
}

/// Starts listening to stage events (and nothing else).
pub fn listen() {
    let only_stages = tracing_subscriber::filter::Targets::new()
        .with_target(stage::TARGET, tracing::Level::TRACE);
    tracing_subscriber::registry()
        .with(Recorder.with_filter(only_stages))
        .init();
}

/// Forgets what was noted so far.
pub fn clear() {
    SEEN.lock().unwrap().clear();
}

/// One edit's way: milliseconds from its start to each stage, in the order of the chain (each
/// stage taken at its first firing after the one before), then to "visible".
#[derive(Clone, Debug)]
pub struct Way {
    pub at: Vec<(&'static str, Option<f64>)>,
    pub total: f64,
    /// Every stage event from 60 ms before the start on, with the side that fired it, in ms from
    /// the start (printed with `BENCH_TIMELINE=1`).
    pub raw: Vec<(&'static str, &'static str, f64)>,
}

/// The chain an edit goes through, author's side then viewer's.
const CHAIN: [&str; 7] = [
    stage::COMMIT,
    stage::PROJECTION,
    stage::OUTBOX,
    stage::SEND,
    stage::RECEIVE,
    stage::APPLY,
    stage::EVENT,
];

/// What was noted since `start`, for an edit that became visible after `total` ms, on the
/// devices `by` (the author's id, then the viewer's). The author's stages are each taken at their
/// first firing on the author's device after the start (samod may send from inside the outbox
/// write, before it returns); the viewer's at their first firing on the viewer's device after the
/// stage before.
pub fn way(start: Instant, total: f64, by: (&str, &str)) -> Way {
    let seen = SEEN.lock().unwrap().clone();
    let first = |name: &str, device: &str, from: Instant| {
        seen.iter()
            .find(|(n, d, t)| *n == name && d == device && *t >= from)
            .map(|(_, _, t)| *t)
    };
    let mut at = Vec::new();
    let mut from = start;
    for name in CHAIN {
        let author = [stage::COMMIT, stage::PROJECTION, stage::OUTBOX, stage::SEND].contains(&name);
        let hit = if author {
            first(name, by.0, start)
        } else {
            first(name, by.1, from)
        };
        if let Some(t) = hit
            && (name == stage::SEND || !author)
        {
            from = t;
        }
        at.push((name, hit.map(|t| ms(t - start))));
    }
    let raw = seen
        .iter()
        .filter(|(_, _, t)| *t + std::time::Duration::from_millis(60) >= start)
        .map(|(n, d, t)| {
            let at = if *t >= start {
                ms(*t - start)
            } else {
                -ms(start - *t)
            };
            let on = if d == by.0 {
                "author"
            } else if d == by.1 {
                "viewer"
            } else {
                ""
            };
            (*n, on, at)
        })
        .collect();
    Way { at, total, raw }
}

fn ms(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Prints `stage_<which>_<stage> <ms since the stage before> ms` lines for one edit, in the order
/// the stages came, ending with `visible`; a stage that did not fire prints `-`.
pub fn print(which: &str, way: &Way) {
    let mut came: Vec<(&str, f64)> = way
        .at
        .iter()
        .filter_map(|(n, t)| t.map(|t| (*n, t)))
        .collect();
    came.sort_by(|a, b| a.1.total_cmp(&b.1));
    let mut before = 0.0;
    for (name, t) in came {
        println!("stage_{which}_{name} {:.3} ms", t - before);
        before = t;
    }
    for (name, t) in &way.at {
        if t.is_none() {
            println!("stage_{which}_{name} - ms");
        }
    }
    println!("stage_{which}_visible {:.3} ms", way.total - before);
    if std::env::var_os("BENCH_TIMELINE").is_some() {
        for (name, on, t) in &way.raw {
            eprintln!("  {which} {t:8.3} ms {name} {on}");
        }
    }
}
