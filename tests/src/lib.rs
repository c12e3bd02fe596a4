//! # backstory-tests — cross-crate scenarios
//!
//! Real engines as real processes: `backstory node` started on a temporary data directory, driven
//! through the `backstory` CLI exactly as a person or a script would, killed and restarted at will.
//! This library holds the harness; the scenarios are in `tests/`, and `soak` is a long-running
//! durability check.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The `backstory` binary: `$BACKSTORY_BIN`, else the one cargo built beside this test.
/// `make test` builds it before running the tests (`cargo build -p backstory` does too).
pub fn backstory_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("BACKSTORY_BIN") {
        return PathBuf::from(p);
    }
    let bin = built_beside("backstory");
    assert!(
        bin.exists(),
        "{} is missing: build it first with `cargo build -p backstory` (`make test` does)",
        bin.display()
    );
    bin
}

/// Where cargo puts the binary `name` of this workspace, beside the running test or benchmark
/// (whether or not it was built).
pub fn built_beside(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let mut dir = exe.parent().expect("exe dir").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    dir.join(name)
}

/// Runs `backstory --data-dir DIR ARGS…` and returns its output.
pub fn cli(dir: &Path, args: &[&str]) -> Output {
    Command::new(backstory_bin())
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("BACKSTORY_DATA_DIR")
        .stdin(Stdio::null())
        .output()
        .expect("run backstory")
}

/// Runs the CLI and returns its trimmed stdout, failing the test with its stderr if it failed.
pub fn cli_ok(dir: &Path, args: &[&str]) -> String {
    let out = cli(dir, args);
    assert!(
        out.status.success(),
        "backstory {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Runs the CLI with `--json` and parses its output.
pub fn cli_json(dir: &Path, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&cli_ok(dir, &all)).expect("json output")
}

/// A `backstory node` process on a data directory.
pub struct Node {
    child: Option<Child>,
    dir: PathBuf,
}

impl Node {
    /// Starts a node in `local` network mode and waits until its control socket answers.
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, &local())
    }

    /// Starts a node with the given environment (`BACKSTORY_NETWORK` among it); a variable
    /// given an empty value is removed from the node's environment.
    pub fn start_with(dir: &Path, env: &[(String, String)]) -> Self {
        let mut command = Command::new(backstory_bin());
        command
            .arg("--data-dir")
            .arg(dir)
            .arg("node")
            .env_remove("BACKSTORY_DATA_DIR");
        for (k, v) in env {
            if v.is_empty() {
                command.env_remove(k);
            } else {
                command.env(k, v);
            }
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn node");
        let mut node = Self {
            child: Some(child),
            dir: dir.to_path_buf(),
        };
        node.wait_ready();
        node
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let socket =
            backstory_core::paths::socket_path(&self.dir, backstory_core::control::SOCKET_FILE);
        loop {
            if std::os::unix::net::UnixStream::connect(&socket).is_ok() {
                return;
            }
            let child = self.child.as_mut().expect("running");
            if let Some(status) = child.try_wait().expect("try_wait") {
                let mut err = String::new();
                if let Some(mut e) = child.stderr.take() {
                    use std::io::Read;
                    let _ = e.read_to_string(&mut err);
                }
                panic!("node exited early ({status}): {err}");
            }
            assert!(Instant::now() < deadline, "node did not become ready");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Kills the node with SIGKILL, as a power cut would.
    pub fn kill(mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends `signal` (as `kill` names it: STOP, CONT, …) to the node.
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Stops the node with SIGTERM and waits for a clean exit.
    pub fn stop(mut self) {
        if let Some(mut c) = self.child.take() {
            let status = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status()
                .expect("kill -TERM");
            assert!(status.success());
            let exit = c.wait().expect("wait");
            assert!(exit.success(), "node did not exit cleanly: {exit}");
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Polls `f` every 20 ms until it returns `Some`, for up to `timeout`.
pub fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A randomized run of posts interrupted by SIGKILLs: returns every (id, text) the CLI
/// acknowledged, after checking each one survived every restart intact.
pub fn kill_cycle(dir: &Path, contact: &str, kills: usize, seed: u64) -> Vec<(String, String)> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut acked: Vec<(String, String)> = Vec::new();
    for round in 0..kills {
        let node = Node::start(dir);
        verify(dir, contact, &acked);
        // Post in the background while a kill lands at a random moment.
        let bin = backstory_bin();
        let posts: usize = rng.random_range(1..4);
        let texts: Vec<String> = (0..posts)
            .map(|i| format!("round {round} post {i} {}", rng.random::<u32>()))
            .collect();
        let dir2 = dir.to_path_buf();
        let contact2 = contact.to_string();
        let poster = std::thread::spawn(move || {
            let mut got = Vec::new();
            for text in texts {
                let out = Command::new(&bin)
                    .arg("--data-dir")
                    .arg(&dir2)
                    .args(["post", "--to", &contact2, "--text", &text])
                    .output()
                    .expect("run post");
                if out.status.success() {
                    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
                    assert!(!id.is_empty(), "post succeeded without printing an id");
                    got.push((id, text));
                }
            }
            got
        });
        std::thread::sleep(Duration::from_millis(rng.random_range(0..150)));
        node.kill();
        acked.extend(poster.join().expect("poster"));
    }
    let node = Node::start(dir);
    verify(dir, contact, &acked);
    node.stop();
    acked
}

/// Checks that every acknowledged entry is in the master panel and in what the viewer sees.
pub fn verify(dir: &Path, contact: &str, acked: &[(String, String)]) {
    let master = cli_json(dir, &["panel", contact]);
    let entries = master["entries"].as_array().expect("entries");
    let preview = cli_json(dir, &["panel", contact, "--as-viewer"]);
    let published = preview["panel"]["entries"].as_array().expect("entries");
    for (id, text) in acked {
        let found = entries
            .iter()
            .find(|e| e["entry"]["id"] == id.as_str())
            .unwrap_or_else(|| panic!("acknowledged entry {id} is missing after a crash"));
        assert_eq!(found["entry"]["text"], text.as_str(), "entry {id} damaged");
        let p = published
            .iter()
            .find(|e| e["id"] == id.as_str())
            .unwrap_or_else(|| panic!("acknowledged entry {id} is not published after restart"));
        assert_eq!(p["text"], text.as_str());
    }
}

/// The environment of a node in `local` mode. Tests never need the internet: no relays, no
/// lookups, direct loopback addresses (unless a test runs its own relay).
pub fn local() -> Vec<(String, String)> {
    vec![("BACKSTORY_NETWORK".into(), "local".into())]
}

/// The environment of a node in `local` mode on a test clock standing at `start_ms`; it moves only
/// with `backstory clock advance`.
pub fn local_on_clock(start_ms: i64) -> Vec<(String, String)> {
    let mut env = local();
    env.push((
        backstory_core::clock::TEST_CLOCK_ENV.into(),
        start_ms.to_string(),
    ));
    env
}

/// The wall clock now, in milliseconds: a start for test clocks that tickets and QUIC agree with.
pub fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Every entry text that a document in the store at `dir` ever held, at any point of its
/// history: each change is replayed and the panel read as it was then. What the documents were
/// made of is decoded, so a marker that is absent here never reached this device (and a marker
/// present here shows the scan can find one).
pub fn texts_ever_held(dir: &Path) -> Vec<String> {
    use backstory_crdt::automerge::Automerge;
    let store = backstory_core::store::Store::open(dir).expect("open the store");
    let mut texts = Vec::new();
    for id in store.doc_ids().expect("document ids") {
        let mut doc = Automerge::new();
        for (key, bytes) in store.doc_range(&id).expect("chunks") {
            // Chunks only; what samod remembers of peers is not document content.
            if key.contains("/snapshot/") || key.contains("/incremental/") {
                doc.load_incremental(&bytes).expect("a chunk loads");
            }
        }
        for change in doc.get_changes(&[]) {
            let then = doc.fork_at(&[change.hash()]).expect("history");
            if let Ok(panel) = backstory_crdt::read_panel(&then) {
                texts.extend(panel.entries.into_iter().map(|e| e.text));
            }
        }
    }
    texts.sort();
    texts.dedup();
    texts
}

/// One device: a data directory and, while running, its node.
pub struct Device {
    dir: tempfile::TempDir,
    node: Option<Node>,
    env: Vec<(String, String)>,
}

impl Device {
    /// Starts a node on a fresh data directory, in `local` mode, and sets its name.
    pub fn new(name: &str) -> Self {
        Self::new_with(name, &local())
    }

    /// Starts a node on a fresh data directory with the given environment, and sets its name.
    pub fn new_with(name: &str, env: &[(String, String)]) -> Self {
        let dir = tempfile::tempdir().expect("as expected");
        let node = Node::start_with(dir.path(), env);
        cli_ok(dir.path(), &["name", name]);
        Self {
            dir,
            node: Some(node),
            env: env.to_vec(),
        }
    }

    /// The data directory.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Stops the node cleanly.
    pub fn stop(&mut self) {
        if let Some(n) = self.node.take() {
            n.stop();
        }
    }

    /// Kills the node.
    pub fn kill(&mut self) {
        if let Some(n) = self.node.take() {
            n.kill();
        }
    }

    /// Freezes the node (SIGSTOP): its connections stay open but it answers nothing.
    pub fn pause(&self) {
        self.node.as_ref().expect("running").signal("STOP");
    }

    /// Lets a frozen node run again (SIGCONT).
    pub fn resume(&self) {
        self.node.as_ref().expect("running").signal("CONT");
    }

    /// The running node's process id.
    pub fn pid(&self) -> u32 {
        self.node.as_ref().expect("running").pid()
    }

    /// Sets a variable of the node's environment from its next start.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.into(), value.into()));
    }

    /// Starts the node again.
    pub fn start(&mut self) {
        assert!(self.node.is_none());
        self.node = Some(Node::start_with(self.dir.path(), &self.env));
    }

    /// Makes a ticket.
    pub fn invite(&self, extra: &[&str]) -> String {
        let mut args = vec!["invite"];
        args.extend_from_slice(extra);
        cli_json(self.path(), &args)["ticket"]
            .as_str()
            .expect("as expected")
            .to_string()
    }

    /// The endpoint id.
    pub fn id(&self) -> String {
        cli_json(self.path(), &["id"])["id"]
            .as_str()
            .expect("as expected")
            .to_string()
    }

    /// The texts of `contact`'s panel for me, as I see it now.
    pub fn sees(&self, contact: &str) -> Vec<String> {
        let v = cli_json(self.path(), &["show", contact, "--keep-unseen"]);
        v["changes"]["entries"]
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|e| {
                        e["entry"]["text"]
                            .as_str()
                            .expect("as expected")
                            .to_string()
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The contact list.
    pub fn contacts(&self) -> serde_json::Value {
        cli_json(self.path(), &["contacts"])
    }

    /// Moves the node's test clock forward (it must run on one: [`local_on_clock`]).
    pub fn advance(&self, by: &str) {
        cli_ok(self.path(), &["clock", "advance", by]);
    }
}

/// Pairs two devices by ticket; returns the safety words.
pub fn pair(inviter: &Device, joiner: &Device) -> String {
    let ticket = inviter.invite(&[]);
    let paired = cli_json(joiner.path(), &["join", &ticket]);
    paired["words"].as_str().expect("as expected").to_string()
}

/// Waits until `d` sees exactly `want` in `contact`'s panel.
pub fn wait_sees(d: &Device, contact: &str, want: &[&str]) {
    let got = eventually(Duration::from_secs(20), || {
        let s = d.sees(contact);
        (s == want).then_some(s)
    });
    assert!(
        got.is_some(),
        "expected {want:?}, sees {:?}",
        d.sees(contact)
    );
}

/// Arbitrary and damaged bytes for every decoder, with the checks of their answers.
pub mod decoders;
/// Adversarial devices for privacy tests.
pub mod intruder;
/// Stand-in video players for the watcher's tests.
pub mod players;
/// A bad network between two devices: a UDP proxy with delay, loss and partitions.
pub mod proxy;
/// A private X server showing a picture, for screenshots.
pub mod screen;
/// A web site on 127.0.0.1 for link snapshots.
pub mod web;
