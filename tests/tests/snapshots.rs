//! Link snapshots on real node processes, against a real web server on 127.0.0.1 (reachable
//! because the author's `snapshots.allow_private` setting is on). The author's device fetches the
//! page once; the paired viewer reads the snapshot and its picture without any route to the site.
//! A link that gets no snapshot is posted anyway, with a note saying why.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::time::Duration;

use backstory_tests::web::{Answer, Site, png};
use backstory_tests::{Device, cli, cli_json, cli_ok, eventually, pair};
use bytes::Bytes;
use serde_json::Value;

const ARTICLE: &str = r#"<!doctype html>
<html lang="en-GB"><head>
<meta charset="utf-8">
<title>Fallback title</title>
<meta property="og:title" content="Walking the Ridgeway in Four Days">
<meta property="og:description" content="Eighty-seven miles of chalk, and a lot of sheep.">
<meta property="og:site_name" content="Example Trails">
<meta property="og:image" content="/photo.png">
<script>document.title = 'stolen ' + document.cookie</script>
</head><body>
<nav><a href="/">Home</a> <a href="/about">About us</a></nav>
<article>
<h1>Walking the Ridgeway</h1>
<p onclick="alert(1)">The Ridgeway is often called Britain's oldest road: a chalk track that has carried
travellers for five thousand years, along the top of the downs from Overton Hill to Ivinghoe Beacon.</p>
<p>We walked it in four days in late September, sleeping in village pubs, and met more sheep than
people. The second day, from Ogbourne St George past Barbury Castle, was the finest of them.</p>
<p><a href="javascript:alert(2)">Our route as a map</a> — mostly on the ancient track itself, with a
few detours to water taps, which are rare along the way and worth knowing before you set out.</p>
</article></body></html>"#;

fn site() -> Site {
    let mut routes = HashMap::new();
    routes.insert(
        "/walk".to_string(),
        Answer::Body(
            "text/html; charset=utf-8",
            Bytes::from_static(ARTICLE.as_bytes()),
        ),
    );
    routes.insert(
        "/photo.png".to_string(),
        Answer::Body("image/png", Bytes::from(png(1600, 900))),
    );
    routes.insert(
        "/paper.pdf".to_string(),
        Answer::Body("application/pdf", Bytes::from_static(b"%PDF-1.4 not much")),
    );
    routes.insert("/loop".to_string(), Answer::Redirect("/loop".into()));
    routes.insert("/slow".to_string(), Answer::Trickle);
    Site::start(routes)
}

/// Posts a link and returns the JSON answer (`id`, `note`).
fn post_link(d: &Device, url: &str, text: &str) -> Value {
    cli_json(
        d.path(),
        &["post", "--to", "bob", "--link", url, "--text", text],
    )
}

fn my_entry(d: &Device, id: &str) -> Value {
    let panel = cli_json(d.path(), &["panel", "bob"]);
    panel["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["entry"]["id"] == id)
        .cloned()
        .unwrap()
}

#[test]
fn a_link_keeps_a_snapshot_the_viewer_reads_without_the_site() {
    let mut site = site();
    let ann = Device::new("Ann");
    let bob = Device::new("Bob");
    pair(&ann, &bob);
    cli_ok(
        ann.path(),
        &["settings", "set", "snapshots.allow_private", "on"],
    );

    let posted = post_link(&ann, &site.url("/walk"), "Our walk");
    let id = posted["id"].as_str().unwrap().to_string();
    assert_eq!(posted["note"], Value::Null, "{posted}");
    let entry = my_entry(&ann, &id);
    let snapshot = &entry["entry"]["snapshot"];
    assert_eq!(snapshot["title"], "Walking the Ridgeway in Four Days");
    assert_eq!(
        snapshot["description"],
        "Eighty-seven miles of chalk, and a lot of sheep."
    );
    assert_eq!(snapshot["site"], "Example Trails");
    assert_eq!(snapshot["language"], "en-GB");
    assert_eq!(snapshot["final_url"], site.url("/walk"));
    let excerpt = snapshot["excerpt"].as_str().unwrap();
    assert!(excerpt.contains("Britain's oldest road"), "{excerpt}");
    // Scripts and markup never survive: the snapshot is text and a re-encoded picture.
    let all = snapshot.to_string();
    for hostile in ["<script", "alert", "javascript:", "onclick", "cookie", "<p"] {
        assert!(!all.contains(hostile), "{hostile} survived: {all}");
    }
    let image = &snapshot["image"];
    assert_eq!(image["mime"], "image/jpeg");
    assert_eq!(site.hits(), ["/walk", "/photo.png"]);

    // Bob's device never reaches the site: it is stopped before he looks.
    site.stop();
    let arrived = eventually(Duration::from_secs(20), || {
        let theirs = cli_json(bob.path(), &["show", "Ann", "--keep-unseen"]);
        let e = theirs["changes"]["entries"][0]["entry"].clone();
        (e["snapshot"]["title"] == "Walking the Ridgeway in Four Days").then_some(e)
    })
    .expect("the snapshot reached Bob");
    assert_eq!(arrived["kind"], "link");
    let out = bob.path().join("preview.jpg");
    cli_ok(
        bob.path(),
        &["fetch", "Ann", &id, "--out", out.to_str().unwrap()],
    );
    let bytes = std::fs::read(&out).unwrap();
    assert_eq!(&bytes[..3], b"\xff\xd8\xff", "a JPEG, re-encoded");
    assert_eq!(bytes.len() as u64, image["size"].as_u64().unwrap());

    // Removed by the author: a plain link again, for Bob too.
    cli_ok(ann.path(), &["snapshot", "rm", &id]);
    assert_eq!(my_entry(&ann, &id)["entry"]["snapshot"], Value::Null);
    let plain = eventually(Duration::from_secs(20), || {
        let theirs = cli_json(bob.path(), &["show", "Ann", "--keep-unseen"]);
        (theirs["changes"]["entries"][0]["entry"]["snapshot"] == Value::Null).then_some(())
    });
    assert!(plain.is_some(), "the removal reached Bob");
    // Refreshed while the site is down: still a link, with a note saying why.
    let refreshed = cli_json(ann.path(), &["snapshot", "refresh", &id]);
    let note = refreshed["note"].as_str().unwrap();
    assert!(note.contains("No preview"), "{note}");
    assert_eq!(my_entry(&ann, &id)["note"], note);
}

#[test]
fn a_link_without_a_snapshot_is_posted_with_the_reason() {
    let site = site();
    let ann = Device::new("Ann");
    cli_ok(ann.path(), &["contacts", "add", "Bob"]);

    // The setting off: 127.0.0.1 is a loopback address, refused before any request.
    let refused = post_link(&ann, &site.url("/walk"), "refused");
    let note = refused["note"].as_str().unwrap();
    assert!(note.contains("loopback"), "{note}");
    assert!(site.hits().is_empty(), "{:?}", site.hits());
    let entry = my_entry(&ann, refused["id"].as_str().unwrap());
    assert_eq!(entry["entry"]["kind"], "link");
    assert_eq!(entry["entry"]["snapshot"], Value::Null);
    assert_eq!(entry["note"], note);
    // People see the note; scripts get the id alone on standard output.
    let plain = cli(
        ann.path(),
        &["post", "--to", "bob", "--link", &site.url("/walk")],
    );
    assert!(plain.status.success());
    let stdout = String::from_utf8_lossy(&plain.stdout);
    assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
    assert!(String::from_utf8_lossy(&plain.stderr).contains("loopback"));

    cli_ok(
        ann.path(),
        &["settings", "set", "snapshots.allow_private", "on"],
    );
    // A PDF: a link entry naming its type.
    let pdf = post_link(&ann, &site.url("/paper.pdf"), "the paper");
    let entry = my_entry(&ann, pdf["id"].as_str().unwrap());
    assert_eq!(
        entry["entry"]["snapshot"]["content_type"],
        "application/pdf"
    );
    // A redirect loop, and a server sending a byte a second: each its own reason.
    let looped = post_link(&ann, &site.url("/loop"), "loop");
    assert!(
        looped["note"]
            .as_str()
            .unwrap()
            .contains("redirects more than 5"),
        "{looped}"
    );
    let slow = post_link(&ann, &site.url("/slow"), "slow");
    assert!(
        slow["note"].as_str().unwrap().contains("within 10"),
        "{slow}"
    );
    // Every one of them is an entry.
    let panel = cli_json(ann.path(), &["panel", "bob"]);
    assert_eq!(panel["entries"].as_array().unwrap().len(), 5);

    // Snapshots off: the page is not fetched at all.
    let before = site.hits().len();
    cli_ok(ann.path(), &["settings", "set", "snapshots.enabled", "off"]);
    let off = post_link(&ann, &site.url("/walk"), "off");
    assert_eq!(off["note"], Value::Null);
    assert_eq!(site.hits().len(), before);
}
