//! Decoder soak: every decoder we own fed arbitrary bytes and damaged valid encodings, many times
//! over (the same inputs and checks as `tests/decoders.rs`). Prints `name value unit` lines: the
//! cases run, the panics and the wrong answers for each decoder, and the time taken. Exits non-zero
//! if any case panicked or was answered wrongly.
//!
//! `cargo bench -p backstory-tests --bench decoders` (BENCH_CASES sets the cases per decoder,
//! default 20000).

use std::time::Instant;

use backstory_core::pairing::{Answer, Join};
use backstory_tests::decoders::{self, Tally, outbox};
use proptest::strategy::Strategy;
use proptest::test_runner::TestRunner;

fn line(name: &str, value: f64, unit: &str) {
    println!("{name} {value:.0} {unit}");
}

/// Runs one decoder and prints its figures; returns whether it came through clean.
fn run<S: Strategy>(
    name: &str,
    runner: &mut TestRunner,
    strategy: S,
    check: impl Fn(&S::Value) -> decoders::Check,
    cases: u64,
    total: &mut u64,
) -> bool {
    let start = Instant::now();
    let t = match decoders::tally(runner, strategy, check, cases) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{name}: {e}");
            Tally {
                failures: 1,
                ..Tally::default()
            }
        }
    };
    let elapsed = start.elapsed();
    line(&format!("decoders_{name}_cases"), t.cases as f64, "cases");
    line(&format!("decoders_{name}_panics"), t.panics as f64, "count");
    line(
        &format!("decoders_{name}_wrong"),
        t.failures as f64,
        "count",
    );
    line(
        &format!("decoders_{name}_time"),
        elapsed.as_secs_f64() * 1000.0,
        "ms",
    );
    if let Some(first) = &t.first {
        let mut first = first.clone();
        first.truncate(4000);
        eprintln!("{name}: {first}");
    }
    *total += t.cases;
    t.panics == 0 && t.failures == 0
}

fn main() {
    let cases: u64 = std::env::var("BENCH_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    // Panics are counted and the first is reported with its input; the default hook would print
    // every one.
    std::panic::set_hook(Box::new(|_| {}));
    let mut runner = TestRunner::default();
    let mut total = 0;
    let start = Instant::now();
    let mut clean = true;
    let r = &mut runner;
    let n = cases;
    let t = &mut total;
    clean &= run(
        "ticket",
        r,
        decoders::ticket_input(),
        decoders::check_ticket,
        n,
        t,
    );
    clean &= run(
        "control_request",
        r,
        decoders::frame_input(),
        decoders::check_frame,
        n,
        t,
    );
    clean &= run(
        "control_reply",
        r,
        decoders::reply_input(),
        decoders::check_reply,
        n,
        t,
    );
    clean &= run(
        "pairing_join",
        r,
        decoders::message_input(decoders::join()),
        decoders::check_message::<Join>,
        n,
        t,
    );
    clean &= run(
        "pairing_answer",
        r,
        decoders::message_input(decoders::answer()),
        decoders::check_message::<Answer>,
        n,
        t,
    );
    clean &= run(
        "panel_file",
        r,
        decoders::panel_file_input(),
        decoders::check_panel_file,
        n,
        t,
    );
    clean &= run(
        "outbox_shape",
        r,
        outbox::shape(),
        |top| outbox::check_shape(top),
        n,
        t,
    );
    clean &= run(
        "outbox_wrong_kind",
        r,
        outbox::damage(),
        outbox::check_damage,
        n,
        t,
    );
    clean &= run(
        "outbox_saved",
        r,
        outbox::saved_input(),
        outbox::check_saved,
        n,
        t,
    );
    let _ = std::panic::take_hook();
    line("decoders_total_cases", total as f64, "cases");
    line(
        "decoders_total_time",
        start.elapsed().as_secs_f64() * 1000.0,
        "ms",
    );
    if !clean {
        eprintln!("some decoder panicked or answered wrongly (see above)");
        std::process::exit(1);
    }
}
