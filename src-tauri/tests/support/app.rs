//! The app under WebDriver for the end-to-end scenarios: an instance with its own data
//! directory, tauri-driver and WebKitWebDriver; finding, waiting, typing, switching windows, and
//! screenshots kept as artifacts.
#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

/// How long a step may take before the scenario fails.
pub const WAIT: Duration = Duration::from_secs(40);

/// One app instance: its tauri-driver, its data directory and its WebDriver session.
pub struct App {
    pub name: &'static str,
    pub client: Client,
    pub driver: Child,
    pub data: tempfile::TempDir,
    /// Holds an `xdg-open` of the test's, first on the app's PATH: it records the links the app
    /// hands to "the system's browser".
    pub tools: tempfile::TempDir,
    pub main: fantoccini::wd::WindowHandle,
}

impl Drop for App {
    fn drop(&mut self) {
        // tauri-driver leads its own process group: WebKitWebDriver and the app it started go
        // with it (killing tauri-driver alone left WebKitWebDriver running after the tests).
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Sets up `app` (the app, or what starts it) as an instance of its own: its data directory,
/// the local network mode, and `home` for the history folders the video watcher reads and for a
/// session bus that is not there, so nothing of the machine's is read or announced.
pub fn apart<'a>(app: &'a mut Command, data: &Path, home: &Path) -> &'a mut Command {
    app.env("BACKSTORY_DATA_DIR", data)
        .env("BACKSTORY_NETWORK", "local")
        .env("NO_AT_BRIDGE", "1")
        .env("XDG_DATA_HOME", home.join("data"))
        .env("XDG_CONFIG_HOME", home.join("config"))
        .env("XDG_STATE_HOME", home.join("state"))
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", home.join("no-bus").display()),
        )
}

pub async fn launch(name: &'static str) -> App {
    let data = tempfile::tempdir().unwrap();
    let tools = tempfile::tempdir().unwrap();
    let opener = tools.path().join("xdg-open");
    std::fs::write(
        &opener,
        "#!/bin/sh\nprintf '%s\\n' \"$1\" >> \"$BACKSTORY_TEST_OPENED\"\n",
    )
    .unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&opener, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let path = format!(
        "{}:{}",
        tools.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let port = free_port();
    let native = free_port();
    let log = std::fs::File::create(artifacts().join(format!("{name}-driver.log"))).unwrap();
    let mut driver = Command::new("tauri-driver");
    apart(&mut driver, data.path(), tools.path());
    let driver = driver
        .process_group(0)
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        // WebKitWebDriver's screenshots wait for a composited frame, which the app's windows
        // do not draw by default (`windows::tune`).
        .env("BACKSTORY_COMPOSITING", "1")
        .env("PATH", path)
        .env("BACKSTORY_TEST_OPENED", tools.path().join("opened.txt"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect(
            "tauri-driver is needed: `cargo install tauri-driver --locked` (make test does it)",
        );
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), "wry".into());
    caps.insert(
        "tauri:options".into(),
        serde_json::json!({ "application": env!("CARGO_BIN_EXE_backstory-app") }),
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
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            Err(e) => panic!("{name}: no WebDriver session: {e}"),
        }
    };
    let main = client.window().await.unwrap();
    let mut app = App {
        name,
        client,
        driver,
        data,
        tools,
        main,
    };
    app.find("[data-testid=my-name]").await;
    app
}

impl App {
    /// Waits for an element to be there.
    pub async fn find(&mut self, css: &str) -> Element {
        let deadline = Instant::now() + WAIT;
        loop {
            match self.client.find(Locator::Css(css)).await {
                Ok(e) => return e,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
                Err(e) => {
                    self.shot("failed").await;
                    panic!("{}: no `{css}`: {e}", self.name)
                }
            }
        }
    }

    /// Waits until `check` holds for the value of JavaScript `script`.
    pub async fn until(
        &mut self,
        what: &str,
        script: &str,
        check: impl Fn(&serde_json::Value) -> bool,
    ) {
        let deadline = Instant::now() + WAIT;
        loop {
            let v = self
                .client
                .execute(script, vec![])
                .await
                .unwrap_or_default();
            if check(&v) {
                return;
            }
            if Instant::now() > deadline {
                self.shot("failed").await;
                panic!("{}: waited in vain for {what}; last value {v}", self.name);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub async fn click(&mut self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    pub async fn type_into(&mut self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Switches to the window whose route starts with `route` (e.g. `#/pairing`).
    pub async fn window(&mut self, route: &str) {
        let deadline = Instant::now() + WAIT;
        loop {
            for handle in self.client.windows().await.unwrap() {
                if self.client.switch_to_window(handle).await.is_err() {
                    continue;
                }
                let hash = self
                    .client
                    .execute("return location.hash", vec![])
                    .await
                    .unwrap_or_default();
                if hash.as_str().is_some_and(|h| h.starts_with(route)) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "{}: no window {route}",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    pub async fn main_window(&mut self) {
        self.client
            .switch_to_window(self.main.clone())
            .await
            .unwrap();
    }

    pub async fn shot(&mut self, label: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let path = artifacts().join(format!("{}-{label}.png", self.name));
            std::fs::write(&path, png).unwrap();
        }
    }

    pub async fn attr(&mut self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.unwrap()
    }
}

/// Writes a 16×16 PNG (one colour), made by hand so the test needs no image library.
pub fn image_png(path: &Path) {
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend((data.len() as u32).to_be_bytes());
        let start = out.len();
        out.extend(kind);
        out.extend(data);
        out.extend(crc32(&out[start..]).to_be_bytes());
    }
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn adler32(bytes: &[u8]) -> u32 {
        let (mut a, mut b) = (1u32, 0u32);
        for &x in bytes {
            a = (a + u32::from(x)) % 65521;
            b = (b + a) % 65521;
        }
        (b << 16) | a
    }
    let (w, h) = (16u32, 16u32);
    // Each row: filter byte 0 (none), then the pixels.
    let row: Vec<u8> = std::iter::once(0)
        .chain((0..w).flat_map(|_| [0x5b, 0x7c, 0xfa]))
        .collect();
    let raw: Vec<u8> = (0..h).flat_map(|_| row.iter().copied()).collect();
    // zlib with one stored (uncompressed) block.
    let mut z = vec![0x78, 0x01, 0x01];
    z.extend((raw.len() as u16).to_le_bytes());
    z.extend((!(raw.len() as u16)).to_le_bytes());
    z.extend(&raw);
    z.extend(adler32(&raw).to_be_bytes());
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &z);
    chunk(&mut png, b"IEND", &[]);
    std::fs::write(path, png).unwrap();
}

pub async fn set_name(app: &mut App, name: &str) {
    app.main_window().await;
    app.click("[data-testid=open-settings]").await;
    app.window("#/settings").await;
    app.type_into("[data-testid=name-input]", name).await;
    app.click("[data-testid=save-name]").await;
    app.shot("settings").await;
    app.main_window().await;
    let want = serde_json::Value::from(name);
    app.until(
        "my name on the main window",
        "const e = document.querySelector('[data-testid=my-name]'); return e && e.textContent.trim()",
        |v| v == &want,
    )
    .await;
}

/// The `backstory` CLI, built beside the app by `make test`.
pub fn cli_bin() -> PathBuf {
    let cli = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../debug/backstory");
    assert!(cli.exists(), "{} is built by `make test`", cli.display());
    cli
}

impl App {
    /// Scripts this running app with the CLI; answers its JSON.
    pub fn cli(&self, args: &[&str]) -> serde_json::Value {
        let out = Command::new(cli_bin())
            .arg("--data-dir")
            .arg(self.data.path())
            .arg("--json")
            .args(args)
            .env_remove("BACKSTORY_DATA_DIR")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: backstory {args:?}: {}",
            self.name,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
    }

    /// Runs JavaScript in the current window and answers its value.
    pub async fn js(&mut self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap()
    }
}
