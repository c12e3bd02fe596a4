//! The app's windows as a person meets them: the app started on a data directory through
//! WebDriver (tauri-driver and WebKitWebDriver, under a private Xvfb when there is no display),
//! and its pages asked until they show what they are for. A page answering is what makes its
//! window interactive: a script of the driver runs on the page's main thread, as a click would.
//!
//! - The main window is timed from the app process's own start, as the kernel recorded it, so the
//!   driver's start before it does not count; both ends are read from the kernel's clock of ticks
//!   (10 ms), until the list shows every contact.
//! - A viewer window is timed from the click on their panel's icon in the main window until its
//!   page shows the first entry, and until it shows them all.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::WindowHandle;
use fantoccini::{Client, ClientBuilder, Locator};

use super::app::{Group, find_exe, start_on, stat_field};

/// How long a step may take before the benchmark gives up.
const WAIT: Duration = Duration::from_secs(120);

/// Rows on the page once the list is read: its rows, 0 for the empty list's note, -1 before.
const ROWS: &str = "const rows = document.querySelectorAll('[data-testid=\"contact-row\"]').length;
    if (rows > 0) return rows;
    return document.querySelector('[data-testid=\"contacts-empty\"]') ? 0 : -1;";

/// Entries on a viewer's page, -1 in another window.
const ENTRIES: &str = "if (!location.hash.startsWith('#/viewer')) return -1;
    return document.querySelectorAll('[data-testid=\"entry\"]').length;";

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Seconds since boot, from the kernel's clock (`/proc/uptime`).
fn uptime() -> f64 {
    let text = std::fs::read_to_string("/proc/uptime").unwrap();
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// When `pid` started, in seconds since boot (`/proc/<pid>/stat`, field 22, in clock ticks).
fn started(pid: u32) -> f64 {
    let ticks: f64 = stat_field(pid, 22).unwrap().parse().unwrap();
    let per_second: f64 = Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0);
    ticks / per_second
}

/// The app on a data directory under WebDriver, its main window current.
pub struct Window {
    client: Client,
    main: WindowHandle,
    group: Group,
}

impl Window {
    /// Starts the app on `data` through tauri-driver, or `None` without tauri-driver.
    pub async fn start(app: &Path, data: &Path) -> Option<Self> {
        if Command::new("tauri-driver")
            .arg("--help")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_err()
        {
            eprintln!(
                "the windows not timed: tauri-driver is not installed (make test installs it)"
            );
            return None;
        }
        super::until_port_free(data);
        let (port, native) = (free_port(), free_port());
        let ports = [
            "--port".into(),
            port.to_string(),
            "--native-port".into(),
            native.to_string(),
        ];
        let group = start_on("tauri-driver".as_ref(), &ports, data);
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), "wry".into());
        caps.insert(
            "tauri:options".into(),
            serde_json::json!({ "application": app }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let deadline = Instant::now() + WAIT;
        let client = loop {
            match ClientBuilder::native()
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(c) => break c,
                Err(e) => {
                    assert!(Instant::now() < deadline, "no WebDriver session: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        };
        let main = client.window().await.unwrap();
        Some(Self {
            client,
            main,
            group,
        })
    }

    /// Waits until the main window shows `rows` contact rows (the empty list's note for 0);
    /// answers when, in seconds since boot.
    pub async fn until_rows(&self, rows: usize) -> f64 {
        let deadline = Instant::now() + WAIT;
        loop {
            let now = self.client.execute(ROWS, vec![]).await.unwrap();
            if now.as_i64() == Some(rows as i64) {
                return uptime();
            }
            assert!(
                Instant::now() < deadline,
                "the window never showed {rows} rows: {now}"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// When the app process started, in seconds since boot.
    pub fn app_started(&self, app: &Path) -> f64 {
        started(find_exe(self.group.0.id(), app).expect("the app is running"))
    }

    /// Clicks their panel's icon in the first row and waits for the viewer window to show
    /// `entries` entries: milliseconds from the click until the first of them is on its page, and
    /// until all are (a long panel comes a part at a time).
    pub async fn open_viewer(&self, entries: usize) -> (f64, f64) {
        let icon = self
            .client
            .find(Locator::Css("[data-testid=\"open-viewer\"]"))
            .await
            .unwrap();
        let t = Instant::now();
        icon.click().await.unwrap();
        let deadline = t + WAIT;
        let mut first = None;
        loop {
            for handle in self.client.windows().await.unwrap() {
                if handle == self.main || self.client.switch_to_window(handle).await.is_err() {
                    continue;
                }
                let shown = self.client.execute(ENTRIES, vec![]).await.unwrap();
                let shown = shown.as_i64().unwrap_or(-1);
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                if shown > 0 {
                    first.get_or_insert(ms);
                }
                if shown == entries as i64 {
                    return (first.unwrap_or(ms), ms);
                }
            }
            assert!(
                Instant::now() < deadline,
                "the viewer never showed {entries} entries"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }

    pub async fn close(self) {
        let _ = self.client.close().await;
        drop(self.group);
    }
}

/// Milliseconds from the app's start on `data` until its main window shows `rows` contact rows
/// (the empty list's note for 0), or `None` without tauri-driver.
pub async fn rows_shown(app: &Path, data: &Path, rows: usize) -> Option<f64> {
    let window = Window::start(app, data).await?;
    let shown = window.until_rows(rows).await;
    let ms = (shown - window.app_started(app)) * 1000.0;
    window.close().await;
    Some(ms)
}

/// Milliseconds from the click on their panel's icon, in the app started on `data` with one
/// contact, until the viewer window shows the first of their `entries` entries, and all of them.
pub async fn viewer_shown(app: &Path, data: &Path, entries: usize) -> Option<(f64, f64)> {
    let window = Window::start(app, data).await?;
    window.until_rows(1).await;
    let ms = window.open_viewer(entries).await;
    window.close().await;
    Some(ms)
}
