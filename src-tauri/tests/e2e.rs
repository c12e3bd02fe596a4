#![allow(clippy::unwrap_used)]
//! End to end on the real app: two instances under an X server, each with its own data directory,
//! driven through WebDriver (tauri-driver + WebKitWebDriver). They pair by ticket in the pairing
//! window; the author writes in the editor; the viewer sees it highlighted; an edit shows as a span
//! of its own colour with a time label; the trigger icon turns from "empty" to "has content" and
//! its count drops to zero once the viewer has looked. Screenshots of every window are kept.
//!
//! Needs `DISPLAY` (make test runs it under Xvfb) and `tauri-driver` (scripts/setup installs it).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};

const WAIT: Duration = Duration::from_secs(40);

/// One app instance: its tauri-driver, its data directory and its WebDriver session.
struct App {
    name: &'static str,
    client: Client,
    driver: Child,
    data: tempfile::TempDir,
    /// Holds an `xdg-open` of the test's, first on the app's PATH: it records the links the app
    /// hands to "the system's browser".
    tools: tempfile::TempDir,
    main: fantoccini::wd::WindowHandle,
}

impl Drop for App {
    fn drop(&mut self) {
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

fn artifacts() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn launch(name: &'static str) -> App {
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
    let driver = Command::new("tauri-driver")
        .args([
            "--port",
            &port.to_string(),
            "--native-port",
            &native.to_string(),
        ])
        .env("BACKSTORY_DATA_DIR", data.path())
        .env("BACKSTORY_NETWORK", "local")
        .env("NO_AT_BRIDGE", "1")
        .env("PATH", path)
        .env("BACKSTORY_TEST_OPENED", tools.path().join("opened.txt"))
        // The video watcher reads this instance's own history folders, not the machine's.
        .env("XDG_DATA_HOME", tools.path().join("data"))
        .env("XDG_CONFIG_HOME", tools.path().join("config"))
        .env("XDG_STATE_HOME", tools.path().join("state"))
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", tools.path().join("no-bus").display()),
        )
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
    async fn find(&mut self, css: &str) -> Element {
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
    async fn until(
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

    async fn click(&mut self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    async fn type_into(&mut self, css: &str, text: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(text).await.unwrap();
    }

    /// Switches to the window whose route starts with `route` (e.g. `#/pairing`).
    async fn window(&mut self, route: &str) {
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

    async fn main_window(&mut self) {
        self.client
            .switch_to_window(self.main.clone())
            .await
            .unwrap();
    }

    async fn shot(&mut self, label: &str) {
        if let Ok(png) = self.client.screenshot().await {
            let path = artifacts().join(format!("{}-{label}.png", self.name));
            std::fs::write(&path, png).unwrap();
        }
    }

    async fn attr(&mut self, css: &str, name: &str) -> Option<String> {
        self.find(css).await.attr(name).await.unwrap()
    }
}

/// Writes a 16×16 PNG (one colour), made by hand so the test needs no image library.
fn image_png(path: &Path) {
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

async fn set_name(app: &mut App, name: &str) {
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

#[tokio::test(flavor = "multi_thread")]
async fn two_apps_pair_write_read_and_see_receipts() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the end-to-end test needs an X display; `make test` starts Xvfb"
    );
    let mut alice = launch("alice").await;
    let mut bob = launch("bob").await;
    set_name(&mut alice, "Alice").await;
    // Bob names himself in the first-start prompt of the main window instead.
    bob.type_into("[data-testid=welcome-name]", "Bob").await;
    bob.click("[data-testid=welcome-save]").await;
    bob.until(
        "Bob's name",
        "const e = document.querySelector('[data-testid=my-name]'); return e && e.textContent.trim()",
        |v| v == "Bob",
    )
    .await;
    alice.shot("1-main-empty").await;

    // Alice makes a ticket in the pairing window; Bob pastes it into his.
    alice.click("[data-testid=add-contact]").await;
    alice.window("#/pairing").await;
    alice.click("[data-testid=make-ticket]").await;
    alice
        .until(
            "a ticket",
            "const e = document.querySelector('[data-testid=ticket-text]'); return e && (e.value || e.textContent).trim()",
            |v| v.as_str().is_some_and(|t| t.starts_with("backstory1")),
        )
        .await;
    let ticket = alice
        .client
        .execute(
            "const e = document.querySelector('[data-testid=ticket-text]'); return (e.value || e.textContent).trim()",
            vec![],
        )
        .await
        .unwrap();
    let ticket = ticket.as_str().unwrap().to_string();
    alice.shot("2-pairing-invite").await;

    bob.click("[data-testid=add-contact]").await;
    bob.window("#/pairing").await;
    bob.type_into("[data-testid=ticket-input]", &ticket).await;
    bob.click("[data-testid=join-button]").await;
    let words = bob
        .find("[data-testid=safety-words]")
        .await
        .text()
        .await
        .unwrap();
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    assert_eq!(words.split(' ').count(), 5, "{words}");
    bob.shot("3-pairing-joined").await;

    // Both list each other, with the same safety words.
    alice.main_window().await;
    alice.find("[data-testid=contact-row]").await;
    alice.shot("3-main-paired").await;
    let alice_words = alice
        .client
        .execute(
            "return document.querySelector('[data-testid=contact-row]').textContent",
            vec![],
        )
        .await
        .unwrap();
    let alice_words = alice_words
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(alice_words.contains(&words), "{alice_words} / {words}");
    assert!(alice_words.contains("Bob"), "{alice_words}");
    assert_eq!(
        alice
            .attr("[data-testid=trigger-icon]", "data-state")
            .await
            .as_deref(),
        Some("empty")
    );
    let empty_src = alice
        .attr("[data-testid=trigger-icon]", "src")
        .await
        .unwrap();

    // Alice writes a text and a link entry in her editor for Bob.
    alice.click("[data-testid=open-editor]").await;
    alice.window("#/editor/").await;
    alice
        .type_into("[data-testid=new-text]", "Climbed Mont Ventoux")
        .await;
    alice.click("[data-testid=post-button]").await;
    alice
        .until(
            "the first entry",
            "return document.querySelectorAll('[data-testid=entry]').length",
            |v| v.as_u64() == Some(1),
        )
        .await;
    alice
        .type_into("[data-testid=new-text]", "The route I took")
        .await;
    alice
        .type_into("[data-testid=new-link]", "https://example.org/ventoux")
        .await;
    alice.click("[data-testid=post-button]").await;
    alice
        .until(
            "two entries",
            "return document.querySelectorAll('[data-testid=entry]').length",
            |v| v.as_u64() == Some(2),
        )
        .await;
    alice.shot("4-editor").await;

    // The trigger icon now shows the other image, with two updates Bob has not seen.
    alice.main_window().await;
    alice
        .until(
            "the content icon",
            "const e = document.querySelector('[data-testid=trigger-icon]'); return e && e.dataset.state",
            |v| v == "content",
        )
        .await;
    let content_src = alice
        .attr("[data-testid=trigger-icon]", "src")
        .await
        .unwrap();
    assert_ne!(empty_src, content_src, "the two states use two images");
    alice
        .until(
            "two unseen by Bob",
            "const e = document.querySelector('[data-testid=trigger-count]'); return e && e.textContent.trim()",
            |v| v == "2",
        )
        .await;

    // Bob sees Alice's panel updated and opens it: both entries are new.
    bob.main_window().await;
    bob.until(
        "their icon updated",
        "const e = document.querySelector('[data-testid=their-icon]'); return e && e.dataset.state",
        |v| v == "updated",
    )
    .await;
    bob.shot("5-main-updated").await;
    bob.click("[data-testid=open-viewer]").await;
    bob.window("#/viewer/").await;
    bob.until(
        "two new entries",
        "return [...document.querySelectorAll('[data-testid=entry]')].map(e => e.dataset.state).join(',')",
        |v| v == "new,new",
    )
    .await;
    bob.shot("6-viewer-new").await;

    // Once Bob has looked, Alice's count goes to zero.
    alice.main_window().await;
    alice
        .until(
            "nothing unseen by Bob",
            "const e = document.querySelector('[data-testid=trigger-count]'); return e ? e.textContent.trim() : '0'",
            |v| v == "0" || v == "",
        )
        .await;
    alice.shot("7-main-seen").await;

    // Alice edits the text; Bob's open viewer shows the new span in another colour, with a time.
    alice.window("#/editor/").await;
    let entry = "[data-testid=entry]:first-of-type";
    alice
        .click(&format!("{entry} [data-testid=entry-edit]"))
        .await;
    let edit = alice.find("[data-testid=edit-text]").await;
    edit.send_keys(" in the rain").await.unwrap();
    alice.click("[data-testid=edit-save]").await;

    bob.until(
        "the edited entry",
        "return [...document.querySelectorAll('[data-testid=entry]')].map(e => e.dataset.state).join(',')",
        |v| v.as_str().is_some_and(|s| s.contains("edited")),
    )
    .await;
    bob.until(
        "two spans of two colours with time labels",
        "const spans = [...document.querySelectorAll('[data-testid=entry][data-state=edited] [data-testid=span]')];
         const changes = new Set(spans.map(s => s.dataset.change));
         const colours = new Set(spans.map(s => [...s.classList].find(c => c.startsWith('span-c'))));
         const times = document.querySelectorAll('[data-testid=entry][data-state=edited] [data-testid=span-time]').length;
         const text = spans.map(s => s.textContent).join('');
         return [changes.size, colours.size, times > 0, text.includes('in the rain')].join(',')",
        |v| v == "2,2,true,true",
    )
    .await;
    bob.shot("8-viewer-edited").await;

    // A link from a panel never replaces the viewer (it goes to the system's browser).
    let windows = bob.client.windows().await.unwrap().len();
    bob.click("[data-testid=entry-link]").await;
    // The click did something: the link reached the system's opener (the test's).
    let opened = bob.tools.path().join("opened.txt");
    let deadline = Instant::now() + WAIT;
    while !std::fs::read_to_string(&opened)
        .unwrap_or_default()
        .contains("https://example.org/ventoux")
    {
        assert!(
            Instant::now() < deadline,
            "the link never reached the opener"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let hash = bob
        .client
        .execute("return location.hash", vec![])
        .await
        .unwrap();
    assert!(hash.as_str().unwrap().starts_with("#/viewer/"), "{hash}");
    assert_eq!(bob.client.windows().await.unwrap().len(), windows);

    // A picture posted by scripting Alice's running app with the CLI arrives in Bob's viewer:
    // fetched from Alice's device by itself, verified, and shown in place.
    let picture = artifacts().join("summit.png");
    image_png(&picture);
    let cli = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../debug/backstory");
    assert!(cli.exists(), "{} is built by `make test`", cli.display());
    let posted = Command::new(&cli)
        .arg("--data-dir")
        .arg(alice.data.path())
        .args(["post", "--to", "Bob", "--text", "Summit photo", "--file"])
        .arg(&picture)
        .output()
        .unwrap();
    assert!(
        posted.status.success(),
        "{}",
        String::from_utf8_lossy(&posted.stderr)
    );
    bob.until(
        "the picture shown",
        "const i = document.querySelector('[data-testid=media-image]'); return !!i && i.complete && i.naturalWidth",
        |v| v.as_u64() == Some(16),
    )
    .await;
    bob.shot("9-viewer-picture").await;

    alice.main_window().await;
    alice
        .until(
            "nothing unseen after Bob looked again",
            "const e = document.querySelector('[data-testid=trigger-count]'); return e ? e.textContent.trim() : '0'",
            |v| v == "0" || v == "",
        )
        .await;
    alice.shot("9-main-final").await;

    // The video watcher: a player plays a film on Alice's device; her inbox badge shows it, she
    // approves it with one click, and it appears in Bob's viewer. Nothing of it reached Bob
    // before that.
    alice.main_window().await;
    alice.click("[data-testid=open-settings]").await;
    alice.window("#/settings").await;
    alice
        .type_into("[data-testid=watcher-interval]", "5s")
        .await;
    alice.click("[data-testid=save-watcher]").await;
    alice
        .until(
            "the watcher settings saved",
            "const e = document.querySelector('[data-testid=watcher-interval]'); return e && e.value",
            |v| v == "5s",
        )
        .await;
    alice.shot("10-settings-watcher").await;
    let films = alice.tools.path().join("films");
    backstory_tests::players::videos(&films, &["Lake_walk.mkv"]);
    let mut players = backstory_tests::players::Players::default();
    players.start(
        &alice.tools.path().join("bin"),
        "mpv",
        &["--fs", "Lake_walk.mkv"],
        &films,
    );
    alice.main_window().await;
    alice
        .until(
            "one suggestion on the inbox badge",
            "const e = document.querySelector('[data-testid=inbox-badge]'); return e && e.textContent.trim()",
            |v| v == "1",
        )
        .await;
    alice.shot("11-main-inbox-badge").await;
    alice.click("[data-testid=open-inbox]").await;
    alice.window("#/inbox").await;
    let text = alice
        .find("[data-testid=suggestion-text]")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(text.trim(), "Lake walk");
    alice.shot("12-inbox").await;
    bob.window("#/viewer/").await;
    let shown = bob
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=entry]')].map(e => e.textContent).join('|')",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        !shown.as_str().unwrap_or_default().contains("Lake walk"),
        "shared before approval: {shown}"
    );
    alice.click("[data-testid=approve]").await;
    alice
        .until(
            "the inbox empty",
            "return !!document.querySelector('[data-testid=inbox-empty]')",
            |v| v == &serde_json::Value::Bool(true),
        )
        .await;
    bob.until(
        "the watched film in Bob's viewer",
        "return [...document.querySelectorAll('[data-testid=entry-watched]')].map(e => e.closest('[data-testid=entry]').textContent).join('|')",
        |v| v.as_str().is_some_and(|t| t.contains("Lake walk") && t.contains("mpv")),
    )
    .await;
    bob.shot("13-viewer-watched").await;
    drop(players);

    // A second start on the same data directory, as the desktop does for a backstory:// link,
    // hands the link to the running app and exits; the pairing window shows the ticket.
    let data = alice.data.path().to_path_buf();
    let second = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_backstory-app"))
            .arg("backstory://pair/backstory1secondstart")
            .env("BACKSTORY_DATA_DIR", data)
            .env("BACKSTORY_NETWORK", "local")
            .output()
    });
    let second = tokio::time::timeout(WAIT, second)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        second.status.success(),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    alice.window("#/pairing").await;
    alice
        .until(
            "the link in the pairing window",
            "return [...document.querySelectorAll('textarea, input')].map(e => e.value).join(' ')",
            |v| {
                v.as_str()
                    .is_some_and(|t| t.contains("backstory1secondstart"))
            },
        )
        .await;
    println!("screenshots in {}", artifacts().display());

    alice.client.clone().close().await.unwrap();
    bob.client.clone().close().await.unwrap();
}
