//! The cost of one process poll, next to the floor of listing `/proc` and reading each process's
//! `comm`, at about 100 and 1 000 processes (`sleep` children make up the count). Prints
//! `name value unit` lines:
//!
//! ```text
//! cargo bench -p backstory-collect --bench poll
//! ```
//!
//! The poll is measured as the engine pays it: `Watcher::poll_now` on a running watcher (the
//! request, the hop to a blocking thread, the refresh, the matching of new processes). Times are
//! medians of many runs; CPU time is the process's user and system time over all runs.
#![allow(clippy::unwrap_used)]
#![cfg_attr(not(target_os = "linux"), allow(dead_code, unused_imports))]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

#[cfg(target_os = "linux")]
fn main() {
    use backstory_collect::player::{Dirs, Watcher, WatcherConfig};

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let root = std::env::temp_dir().join(format!("backstory-poll-bench-{}", std::process::id()));
    let config = WatcherConfig {
        poll: true,
        mpris: false,
        history: false,
        dirs: Dirs {
            data_home: root.join("data"),
            config_home: root.join("config"),
            state_home: root.join("state"),
        },
        ..WatcherConfig::default()
    };
    let mut children = Children::default();
    let mut poll_1000_us = 0.0;
    for target in [100, 1000] {
        children.fill_to(target);
        let count = process_count();

        let started = Instant::now();
        let (watcher, _sightings) = runtime.block_on(Watcher::start(config.clone())).unwrap();
        let start_us = micros(started.elapsed());

        let runs = if target < 500 { 400 } else { 100 };
        let mut floor = Vec::with_capacity(runs);
        let mut poll = Vec::with_capacity(runs);
        let (mut floor_cpu, mut poll_cpu) = (Duration::ZERO, Duration::ZERO);
        for _ in 0..runs {
            let cpu = cpu_time();
            let started = Instant::now();
            std::hint::black_box(comm_floor());
            floor.push(micros(started.elapsed()));
            floor_cpu += cpu_time().saturating_sub(cpu);

            let cpu = cpu_time();
            let started = Instant::now();
            runtime.block_on(watcher.poll_now()).unwrap();
            poll.push(micros(started.elapsed()));
            poll_cpu += cpu_time().saturating_sub(cpu);
        }
        drop(watcher);
        let floor_us = median(&mut floor);
        let poll_us = median(&mut poll);
        println!("processes_{target} {count} processes");
        println!("start_with_first_poll_{target}_procs_us {start_us:.0} us");
        println!("poll_{target}_procs_us {poll_us:.0} us");
        println!("proc_comm_floor_{target}_procs_us {floor_us:.0} us");
        println!("poll_over_floor_{target} {:.2} ratio", poll_us / floor_us);
        println!(
            "poll_{target}_procs_cpu_us {:.0} us",
            micros(poll_cpu) / runs as f64
        );
        println!(
            "proc_comm_floor_{target}_procs_cpu_us {:.0} us",
            micros(floor_cpu) / runs as f64
        );
        poll_1000_us = poll_us;
    }
    let share = poll_1000_us / 600e6 * 100.0;
    println!("cpu_share_default_interval {share:.6} percent_of_core");
    drop(children);
    let _ = std::fs::remove_dir_all(root);
}

#[cfg(not(target_os = "linux"))]
fn main() {
    println!("the process poll benchmark runs on Linux only");
}

/// The floor: list `/proc` and read each process's `comm`. Returns how many were read.
#[cfg(target_os = "linux")]
fn comm_floor() -> usize {
    let mut read = 0;
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name();
        if !name.as_encoded_bytes().iter().all(u8::is_ascii_digit) {
            continue;
        }
        let mut path = entry.path();
        path.push("comm");
        if std::fs::read(&path).is_ok() {
            read += 1;
        }
    }
    read
}

/// How many processes there are.
#[cfg(target_os = "linux")]
fn process_count() -> usize {
    comm_floor()
}

/// This process's user and system time, from `/proc/self/stat` (in clock ticks of 10 ms).
#[cfg(target_os = "linux")]
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// `sleep` processes making up a process count, killed when dropped.
#[derive(Default)]
struct Children(Vec<Child>);

impl Children {
    #[cfg(target_os = "linux")]
    fn fill_to(&mut self, target: usize) {
        let missing = target.saturating_sub(process_count());
        for _ in 0..missing {
            let child = Command::new("sleep")
                .arg("3600")
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .spawn()
                .unwrap();
            self.0.push(child);
        }
    }
}

impl Drop for Children {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
        }
        for child in &mut self.0 {
            let _ = child.wait();
        }
    }
}
