//! The screenshot component on real node processes: a private X server showing a picture, a
//! capture posted with `backstory screenshot`, fetched by the paired contact and checked; and
//! without a display, the clear error.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use backstory_tests::screen::{HEIGHT, Screen, WIDTH};
use backstory_tests::{Device, cli, cli_json, eventually, local, pair};

fn with_display(display: Option<&str>) -> Vec<(String, String)> {
    let mut env = local();
    env.push(("DISPLAY".into(), display.unwrap_or_default().into()));
    env.push(("WAYLAND_DISPLAY".into(), String::new()));
    env
}

/// Width, height and whether more than one colour is in a PNG.
fn examine(png_bytes: &[u8]) -> (u32, u32, bool) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let pixels = &buf[..info.buffer_size()];
    let step = info.color_type.samples();
    let first = &pixels[..step];
    let varied = pixels.chunks(step).any(|p| p[..3] != first[..3]);
    (info.width, info.height, varied)
}

#[test]
fn a_screenshot_is_posted_with_the_screens_size_and_not_blank() {
    let dir = tempfile::tempdir().unwrap();
    let picture = dir.path().join("shown.png");
    std::fs::write(&picture, backstory_tests::web::png(640, 360)).unwrap();
    let screen = Screen::start(&picture);
    let ann = Device::new_with("Ann", &with_display(Some(&screen.display)));
    let bob = Device::new("Bob");
    pair(&ann, &bob);

    let sources = cli_json(ann.path(), &["screenshot", "--list"]);
    assert_eq!(sources["monitors"][0]["width"], WIDTH);
    assert_eq!(sources["monitors"][0]["height"], HEIGHT);
    // The picture window needs a moment to be drawn: a blank capture is retried, then refused.
    let posted = eventually(Duration::from_secs(20), || {
        let out = cli(
            ann.path(),
            &["--json", "screenshot", "--to", "bob", "--text", "my desk"],
        );
        out.status
            .success()
            .then(|| serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap())
    })
    .expect("a screenshot was posted");
    let id = posted["id"].as_str().unwrap().to_string();

    let arrived = eventually(Duration::from_secs(20), || {
        let theirs = cli_json(bob.path(), &["show", "Ann", "--keep-unseen"]);
        let e = theirs["changes"]["entries"][0]["entry"].clone();
        (e["kind"] == "screenshot").then_some(e)
    })
    .expect("the screenshot reached Bob");
    assert_eq!(arrived["text"], "my desk");
    let out = bob.path().join("shot.png");
    let fetched = cli(
        bob.path(),
        &["fetch", "Ann", &id, "--out", out.to_str().unwrap()],
    );
    assert!(fetched.status.success(), "{fetched:?}");
    let (w, h, varied) = examine(&std::fs::read(&out).unwrap());
    assert_eq!((w, h), (WIDTH, HEIGHT));
    assert!(varied, "the screenshot is blank");
}

#[test]
fn without_a_display_the_screenshot_says_why() {
    let ann = Device::new_with("Ann", &with_display(None));
    let before = cli_json(ann.path(), &["drafts"]);
    cli(ann.path(), &["contacts", "add", "Bob"]);
    let out = cli(ann.path(), &["--json", "screenshot", "--to", "bob"]);
    assert_eq!(out.status.code(), Some(1));
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let err = &answer["error"];
    assert_eq!(err["code"], "capture_failed", "{answer}");
    assert!(
        err["message"].as_str().unwrap().contains("no display"),
        "{answer}"
    );
    // Nothing was kept: no draft, no entry.
    assert_eq!(cli_json(ann.path(), &["drafts"]), before);
    let panel = cli_json(ann.path(), &["panel", "bob"]);
    assert!(panel["entries"].as_array().unwrap().is_empty());
}
