//! The desktop app on a data directory: started as a person starts it (under a private Xvfb when
//! there is no display), asked for its contact list through its control socket as the CLI asks,
//! then left idle and measured: its own process and the web views it started.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A binary of the workspace: `$<var>`, else the one built beside this benchmark, else the debug
/// build that `make run` and `make test` leave.
pub fn built(name: &str, var: &str) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(var) {
        return Some(PathBuf::from(p));
    }
    let beside = backstory_tests::built_beside(name);
    let debug = beside.parent()?.parent()?.join("debug").join(name);
    [beside, debug].into_iter().find(|p| p.exists())
}

/// What the app's idle memory came to.
pub struct Idle {
    /// Milliseconds from the start until its engine answered the contact list.
    pub start_to_list: f64,
    pub contacts: usize,
    /// Resident memory of the app and the processes it started, in MB (shared pages counted in
    /// each process).
    pub rss: f64,
    /// The same, each shared page split among the processes that share it (PSS), in MB.
    pub pss: f64,
    pub processes: usize,
}

/// Kills the whole process group on drop.
pub struct Group(pub Child);

impl Drop for Group {
    fn drop(&mut self) {
        let pid = self.0.id().to_string();
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{pid}")])
            .status();
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{pid}")])
            .status();
        let _ = self.0.wait();
    }
}

fn status_kb(pid: u32, file: &str, key: &str) -> Option<f64> {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Field `n` (counted from 1, as `proc(5)` does) of `/proc/<pid>/stat`, from the state (3) on.
pub fn stat_field(pid: u32, n: usize) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: the fields after it are plain.
    let rest = stat.rsplit_once(')')?.1;
    rest.split_whitespace()
        .nth(n.checked_sub(3)?)
        .map(str::to_owned)
}

fn parent(pid: u32) -> Option<u32> {
    stat_field(pid, 4)?.parse().ok()
}

fn all_pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// `root` and every process below it.
fn tree(root: u32) -> Vec<u32> {
    let pids = all_pids();
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        out.extend(pids.iter().copied().filter(|c| parent(*c) == Some(p)));
        i += 1;
    }
    out
}

/// The process running `exe` under `root` (the app itself, below xvfb-run when there is one).
pub fn find_exe(root: u32, exe: &Path) -> Option<u32> {
    let exe = exe.canonicalize().ok()?;
    tree(root)
        .into_iter()
        .find(|p| std::fs::read_link(format!("/proc/{p}/exe")).ok().as_deref() == Some(&exe))
}

/// Starts `program` (the app, or what starts it) with `args` on `data`, as the app is measured:
/// the local network, no accessibility bus, its own process group, and under a private Xvfb when
/// there is no display.
pub fn start_on(program: &OsStr, args: &[String], data: &Path) -> Group {
    use std::os::unix::process::CommandExt;
    let mut cmd = if std::env::var_os("DISPLAY").is_some() {
        Command::new(program)
    } else {
        let mut c = Command::new("xvfb-run");
        c.args(["--auto-servernum", "--server-args=-screen 0 1600x1000x24"])
            .arg(program);
        c
    };
    let child = cmd
        .args(args)
        .env("BACKSTORY_DATA_DIR", data)
        .env("BACKSTORY_NETWORK", "local")
        .env("NO_AT_BRIDGE", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("start {program:?} (xvfb-run is needed without a display): {e}")
        });
    Group(child)
}

/// Starts `app` on `data`, waits until it lists the contacts, rests `rest`, and measures it.
pub fn idle(app: &Path, cli: &Path, data: &Path, rest: Duration) -> Idle {
    super::until_port_free(data);
    let t = Instant::now();
    let group = start_on(app.as_os_str(), &[], data);
    let deadline = t + Duration::from_secs(120);
    let (start_to_list, contacts) = loop {
        let out = Command::new(cli)
            .arg("--data-dir")
            .arg(data)
            .args(["--json", "contacts"])
            .env_remove("BACKSTORY_DATA_DIR")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success()
            && let Ok(serde_json::Value::Array(list)) = serde_json::from_slice(&out.stdout)
        {
            break (t.elapsed().as_secs_f64() * 1000.0, list.len());
        }
        assert!(Instant::now() < deadline, "the app never answered");
        std::thread::sleep(Duration::from_millis(20));
    };
    std::thread::sleep(rest);
    let root = find_exe(group.0.id(), app).expect("the app is running");
    let pids = tree(root);
    let rss: f64 = pids
        .iter()
        .filter_map(|p| status_kb(*p, "status", "VmRSS:"))
        .sum();
    let pss: f64 = pids
        .iter()
        .filter_map(|p| status_kb(*p, "smaps_rollup", "Pss:"))
        .sum();
    drop(group);
    Idle {
        start_to_list,
        contacts,
        rss: rss / 1024.0,
        pss: pss / 1024.0,
        processes: pids.len(),
    }
}
