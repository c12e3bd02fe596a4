#![allow(clippy::unwrap_used)]
//! End to end on the real app: two instances under an X server, each with its own data directory,
//! driven through WebDriver (tauri-driver + WebKitWebDriver). They pair by ticket in the pairing
//! window; the author writes in the editor; the viewer sees it highlighted; an edit shows as a span
//! of its own colour with a time label; the trigger icon turns from "empty" to "has content" and
//! its count drops to zero once the viewer has looked. Screenshots of every window are kept.
//!
//! Needs `DISPLAY` (make test runs it under Xvfb) and `tauri-driver` (scripts/setup installs it).

#[path = "support/app.rs"]
mod app;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use app::{WAIT, artifacts, image_png, launch, set_name};
use backstory_tests::web::{self, Answer, Site};
use bytes::Bytes;

/// The page a link entry points to, on the test's own site.
const PAGE: &str = r#"<!doctype html><html lang="en"><head>
<title>Fallback</title>
<meta property="og:title" content="Walking the Ridgeway in Four Days">
<meta property="og:description" content="Eighty-seven miles of chalk, and a lot of sheep.">
<meta property="og:site_name" content="Example Trails">
<meta property="og:image" content="/walk.png">
</head><body><article>
<p>The Ridgeway is often called Britain's oldest road: a chalk track that has carried travellers for
five thousand years, along the top of the downs from Overton Hill to Ivinghoe Beacon.</p>
<p>We walked it in four days in late September, sleeping in village pubs, and met more sheep than
people. The second day, past Barbury Castle, was the finest of them.</p>
</article></body></html>"#;

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

    // A link keeps a snapshot of its page: Alice lets previews come from her own network (the
    // test's site is on 127.0.0.1) and posts the link in her editor; Bob's viewer shows the card
    // — picture, site, title, description, excerpt on demand — after the site is gone.
    let mut routes = std::collections::HashMap::new();
    routes.insert(
        "/walk".to_string(),
        Answer::Body("text/html", Bytes::from_static(PAGE.as_bytes())),
    );
    routes.insert(
        "/walk.png".to_string(),
        Answer::Body("image/png", Bytes::from(web::png(1200, 630))),
    );
    let mut site = Site::start(routes);
    alice.main_window().await;
    alice.click("[data-testid=open-settings]").await;
    alice.window("#/settings").await;
    alice.click("[data-testid=snapshots-private-toggle]").await;
    alice
        .until(
            "previews from private addresses allowed",
            "const e = document.querySelector('[data-testid=snapshots-private-toggle]'); return e && e.checked",
            |v| v == &serde_json::Value::Bool(true),
        )
        .await;
    alice.window("#/editor/").await;
    let entries = alice
        .client
        .execute(
            "return document.querySelectorAll('[data-testid=entry]').length",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    alice.type_into("[data-testid=new-text]", "Our walk").await;
    alice
        .type_into("[data-testid=new-link]", &site.url("/walk"))
        .await;
    alice.click("[data-testid=post-button]").await;
    alice
        .until(
            "the link entry with its card",
            "return [...document.querySelectorAll('[data-testid=link-title]')].map(e => e.textContent.trim()).join('|')",
            |v| v.as_str().is_some_and(|t| t.contains("Walking the Ridgeway")),
        )
        .await;
    let now = alice
        .client
        .execute(
            "return document.querySelectorAll('[data-testid=entry]').length",
            vec![],
        )
        .await
        .unwrap()
        .as_u64()
        .unwrap();
    assert_eq!(now, entries + 1);
    alice.shot("14-editor-link-card").await;
    site.stop();
    bob.window("#/viewer/").await;
    bob.until(
        "the link card with its picture",
        "const t = document.querySelector('[data-testid=link-title]'); const i = document.querySelector('[data-testid=link-image]');
         return [t && t.textContent.trim(), !!i && i.complete && i.naturalWidth].join('|')",
        |v| v == "Walking the Ridgeway in Four Days|1200",
    )
    .await;
    bob.click("[data-testid=link-more]").await;
    bob.until(
        "the excerpt unfolded",
        "const e = document.querySelector('[data-testid=link-excerpt]'); return e && e.textContent",
        |v| v.as_str().is_some_and(|t| t.contains("oldest road")),
    )
    .await;
    bob.shot("15-viewer-link-card").await;

    // The screenshot component: Alice captures the screen from her editor, frames nothing, and
    // adds it; it reaches Bob's viewer as a picture.
    alice.window("#/editor/").await;
    alice.click("[data-testid=open-screenshot]").await;
    alice
        .find("[data-testid=screenshot-dialog][data-ready=true]")
        .await;
    alice.click("[data-testid=shot-take]").await;
    alice.find("[data-testid=shot-preview]").await;
    alice
        .until(
            "the preview loaded",
            "const i = document.querySelector('[data-testid=shot-preview]'); return !!i && i.complete && i.naturalWidth",
            |v| v.as_u64() == Some(1600),
        )
        .await;
    alice.shot("16-editor-screenshot").await;
    alice
        .type_into("[data-testid=shot-caption]", "My desk")
        .await;
    alice.click("[data-testid=shot-add]").await;
    bob.until(
        "the screenshot in Bob's viewer",
        "return [...document.querySelectorAll('[data-testid=entry]')].filter(e => e.textContent.includes('My desk')).map(e => { const i = e.querySelector('[data-testid=media-image]'); return i && i.complete ? i.naturalWidth : 0 }).join(',')",
        |v| v == "1600",
    )
    .await;
    // Give the window a frame to paint the picture it has loaded before keeping its look.
    tokio::time::sleep(Duration::from_millis(500)).await;
    bob.shot("17-viewer-screenshot").await;

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
