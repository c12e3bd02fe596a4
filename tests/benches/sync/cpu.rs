//! The CPU time the whole process has used, summed over its threads from
//! `/proc/self/task/*/schedstat` (nanoseconds on a CPU): what a phase costs the machine, next to
//! how long it takes. Both engines of the benchmark run in this process, so a transfer's figure
//! holds the sender's and the receiver's work.

/// Milliseconds of CPU used so far by the threads alive now.
pub fn used_ms() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    let ns: u64 = tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .sum();
    ns as f64 / 1e6
}
