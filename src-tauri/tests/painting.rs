#![allow(clippy::unwrap_used)]
//! The app as it ships draws its windows without WebKit's compositor (`windows::tune`), which
//! the WebDriver scenarios cannot screenshot (they turn compositing on). Here the real app runs
//! that way on a private X server, and its main window, captured from the screen, shows its page:
//! the accent colour of its buttons. Its page process runs without WebKit's DMA-BUF renderer,
//! which the app turns off for itself (`windows::prepare_environment`).
//!
//! Needs Xvfb and ImageMagick (scripts/setup installs them).

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use app::apart;
use backstory_tests::screen::Screen;

#[path = "support/app.rs"]
mod app;

/// The UI's `--accent` (ui/src/app.css), the colour of "Add contact".
const ACCENT: [u8; 3] = [0x4d, 0x56, 0xd6];

/// How many pixels of a PNG are exactly the accent colour.
fn accent_pixels(png_bytes: &[u8]) -> usize {
    let mut decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    decoder.set_transformations(png::Transformations::EXPAND);
    let Ok(mut reader) = decoder.read_info() else {
        return 0;
    };
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let Ok(info) = reader.next_frame(&mut buf) else {
        return 0;
    };
    let step = info.color_type.samples();
    if step < 3 {
        // Grey: no colour at all.
        return 0;
    }
    buf[..info.buffer_size()]
        .chunks(step)
        .filter(|p| p[..3] == ACCENT)
        .count()
}

/// The environment of `pid`'s child processes (WebKit's page and network processes), by name.
fn children_environments(pid: u32) -> Vec<(String, Vec<String>)> {
    let mut found = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return found;
    };
    for task in tasks.flatten() {
        let children = std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
        for child in children.split_whitespace() {
            let name = std::fs::read_to_string(format!("/proc/{child}/comm")).unwrap_or_default();
            let environ = std::fs::read(format!("/proc/{child}/environ")).unwrap_or_default();
            let vars = environ
                .split(|b| *b == 0)
                .map(|v| String::from_utf8_lossy(v).into_owned())
                .collect();
            found.push((name.trim().to_string(), vars));
        }
    }
    found
}

#[test]
fn the_main_window_paints_without_the_compositor() {
    let screen = Screen::empty();
    let data = tempfile::tempdir().unwrap();
    let home = tempfile::tempdir().unwrap();
    // Nothing on the screen yet: the colour comes from the app or not at all.
    assert_eq!(accent_pixels(&screen.capture()), 0);
    let mut command = Command::new(env!("CARGO_BIN_EXE_backstory-app"));
    let mut app = apart(&mut command, data.path(), home.path())
        .env_remove("BACKSTORY_COMPOSITING")
        .env_remove("WEBKIT_DISABLE_DMABUF_RENDERER")
        .env_remove("WAYLAND_DISPLAY")
        .env("DISPLAY", &screen.display)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let shown = loop {
        let n = accent_pixels(&screen.capture());
        if n > 1000 || Instant::now() > deadline {
            break n;
        }
        std::thread::sleep(Duration::from_millis(500));
    };
    let children = children_environments(app.id());
    let _ = app.kill();
    let _ = app.wait();
    assert!(
        shown > 1000,
        "the main window did not show its page: {shown} accent pixels on the screen"
    );
    let page = children
        .iter()
        .find(|(name, _)| name.starts_with("WebKitWebProces"))
        .unwrap_or_else(|| {
            let names: Vec<&String> = children.iter().map(|(name, _)| name).collect();
            panic!("no page process among the app's children: {names:?}")
        });
    assert!(
        page.1
            .iter()
            .any(|v| v == "WEBKIT_DISABLE_DMABUF_RENDERER=1"),
        "the page process runs with WebKit's DMA-BUF renderer"
    );
}
