#![allow(clippy::unwrap_used)]
//! The feedback loop end to end, on two real app instances under an X server: Bob comments on an
//! entry of Alice's panel in his viewer window and keeps it in front past the threshold; Alice's
//! main window pops up the news at Bob's row, her chat window shows the comment and the view as
//! notices ("definitely viewed"), and her editor shows the comment, the view count and the
//! ranking. A message each way shows "delivered". Screenshots of each step, in English and in
//! Chinese, go to the artifacts directory.
//!
//! Needs `DISPLAY` (make test runs it under Xvfb) and `tauri-driver` (scripts/setup installs it).

#[path = "support/app.rs"]
mod app;

use std::time::{Duration, Instant};

use app::{App, artifacts, launch};

/// Pairs the two running apps with the CLI (the pairing windows have their own test).
fn pair(alice: &App, bob: &App) {
    alice.cli(&["name", "Alice"]);
    bob.cli(&["name", "Bob"]);
    let invite = alice.cli(&["invite"]);
    bob.cli(&["join", invite["ticket"].as_str().unwrap()]);
}

async fn text_of(app: &mut App, css: &str) -> String {
    let v = app
        .js(&format!(
            "return [...document.querySelectorAll('{css}')].map(e => e.textContent.replace(/\\s+/g, ' ').trim()).join(' | ')"
        ))
        .await;
    v.as_str().unwrap_or_default().to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_comment_and_a_long_look_reach_the_author_three_ways() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "the end-to-end test needs an X display; `make test` starts Xvfb"
    );
    let mut alice = launch("alice").await;
    let mut bob = launch("bob").await;
    pair(&alice, &bob);
    let alps = alice.cli(&[
        "post",
        "--to",
        "bob",
        "--text",
        "Hiked the Alps: Lac Blanc at dawn",
    ])["id"]
        .as_str()
        .unwrap()
        .to_string();
    alice.cli(&[
        "post",
        "--to",
        "bob",
        "--text",
        "Finished Middlemarch",
        "--category",
        "books",
    ]);

    // Bob opens Alice's panel from his main list.
    bob.main_window().await;
    bob.until(
        "Alice's panel updated",
        "const e = document.querySelector('[data-testid=their-icon]'); return e && e.dataset.state",
        |v| v == "updated",
    )
    .await;
    bob.click("[data-testid=open-viewer]").await;
    bob.window("#/viewer/").await;
    bob.until(
        "two entries",
        "return document.querySelectorAll('[data-testid=entry]').length",
        |v| v.as_u64() == Some(2),
    )
    .await;
    let opened = Instant::now();
    bob.shot("f1-viewer").await;

    // He comments on the Alps.
    let entry = format!("[data-testid=entry][data-entry-id='{alps}']");
    bob.click(&format!("{entry} [data-testid=comment-open]"))
        .await;
    bob.type_into(
        &format!("{entry} [data-testid=comment-text]"),
        "Which valley was that? It looks unreal.",
    )
    .await;
    bob.shot("f2-viewer-commenting").await;
    bob.click(&format!("{entry} [data-testid=comment-send]"))
        .await;
    bob.until(
        "his comment under the entry",
        &format!(
            "const c = document.querySelector(\"{entry} [data-testid=my-comment]\"); return c ? c.textContent : ''"
        ),
        |v| v.as_str().is_some_and(|t| t.contains("Which valley")),
    )
    .await;
    bob.shot("f3-viewer-commented").await;

    // A voice comment on the panel as a whole, recorded in the window where the webview has a
    // microphone; without one, the window says so and offers a sound file instead.
    bob.click("[data-testid=my-comments][data-entry=''] [data-testid=comment-open]")
        .await;
    bob.click("[data-testid=voice-record]").await;
    bob.until(
        "recording, or the word that there is no microphone",
        "return document.querySelector('[data-testid=voice-stop]') ? 'recording' : (document.querySelector('[data-testid=mic-refused]') ? 'refused' : '')",
        |v| v == "recording" || v == "refused",
    )
    .await;
    let recorded = bob
        .js("return !!document.querySelector('[data-testid=voice-stop]')")
        .await
        .as_bool()
        .unwrap_or(false);
    if recorded {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        bob.click("[data-testid=voice-stop]").await;
        bob.find("[data-testid=comment-audio]").await;
        bob.click("[data-testid=my-comments][data-entry=''] [data-testid=comment-send]")
            .await;
        bob.find("[data-testid=my-comments][data-entry=''] [data-testid=voice-comment]")
            .await;
    } else {
        let hint = text_of(&mut bob, "[data-testid=mic-refused]").await;
        assert!(hint.contains("sound file"), "{hint}");
        assert!(
            bob.find("[data-testid=voice-attach]")
                .await
                .is_displayed()
                .await
                .unwrap()
        );
    }
    println!("voice comment recorded in the window: {recorded}");
    bob.shot("f3b-viewer-voice").await;

    // And keeps the panel in front past the threshold (10 s).
    let past = Duration::from_secs(12);
    if let Some(left) = past.checked_sub(opened.elapsed()) {
        tokio::time::sleep(left).await;
    }

    // Alice: a pop-up at Bob's row in the main window.
    alice.main_window().await;
    alice
        .until(
            "the pop-up at Bob's row",
            "const p = document.querySelector('[data-testid=chat-popup]'); return p ? p.textContent : ''",
            |v| v.as_str().is_some_and(|t| t.contains("Bob")),
        )
        .await;
    let unread = if recorded { "3" } else { "2" };
    alice
        .until(
            "the unread count in the chat",
            "const e = document.querySelector('[data-testid=chat-count]'); return e ? e.textContent.trim() : ''",
            |v| v == unread,
        )
        .await;
    alice.shot("f4-main-popup").await;

    // Her chat window: the comment and the look, each a notice of its own.
    alice.click("[data-testid=chat-popup-open]").await;
    alice.window("#/chat/").await;
    alice
        .until(
            "both notices, the look definitely viewed",
            "return [...document.querySelectorAll('[data-testid=chat-item]')].map(i => i.dataset.kind + ':' + (i.querySelector('[data-testid=viewed-badge]')?.dataset.definitely ?? '')).join(',')",
            |v| v.as_str().is_some_and(|s| s.contains("comment:") && s.contains("viewed:true")),
        )
        .await;
    let notices = text_of(&mut alice, "[data-testid=chat-item]").await;
    assert!(
        notices.contains("Bob commented on “Hiked the Alps: Lac Blanc at dawn”"),
        "{notices}"
    );
    assert!(notices.contains("Which valley was that?"), "{notices}");
    assert!(
        notices.contains("Bob looked at your panel for"),
        "{notices}"
    );
    assert!(notices.contains("Definitely viewed"), "{notices}");
    alice.shot("f5-chat-notices").await;

    // A message each way; Alice's shows "delivered" once Bob's device has it.
    alice
        .type_into(
            "[data-testid=chat-text]",
            "The Vallée de Chamonix! Come along next time?",
        )
        .await;
    alice.click("[data-testid=chat-send]").await;
    alice
        .until(
            "her message delivered",
            "const d = [...document.querySelectorAll('[data-testid=delivered]')].pop(); return d ? d.dataset.delivered : ''",
            |v| v == "true",
        )
        .await;
    bob.main_window().await;
    bob.until(
        "Alice's message counted at her row",
        "const e = document.querySelector('[data-testid=chat-count]'); return e ? e.textContent.trim() : ''",
        |v| v == "1",
    )
    .await;
    bob.shot("f6-bob-main-message").await;
    bob.click("[data-testid=open-chat]").await;
    bob.window("#/chat/").await;
    bob.type_into("[data-testid=chat-text]", "Yes please!")
        .await;
    bob.click("[data-testid=chat-send]").await;
    bob.until(
        "both messages, and his own comments as notices",
        "return [...document.querySelectorAll('[data-testid=chat-item]')].map(i => i.dataset.kind + (i.dataset.fromMe === 'true' ? '>' : '<')).join(',')",
        |v| {
            v == if recorded {
                "comment>,comment>,message<,message>"
            } else {
                "comment>,message<,message>"
            }
        },
    )
    .await;
    bob.shot("f7-bob-chat").await;
    alice
        .until(
            "Bob's answer in her chat",
            "return document.querySelector('[data-testid=chat-items]').textContent",
            |v| v.as_str().is_some_and(|t| t.contains("Yes please!")),
        )
        .await;
    alice.shot("f8-chat-answered").await;

    // Her editor: the comment under the entry, its view count, and the ranking.
    alice.click("[data-testid=open-editor]").await;
    alice.window("#/editor/").await;
    let mine = format!("[data-testid=entry][data-entry-id='{alps}']");
    alice
        .until(
            "the comment and the count under the Alps",
            &format!(
                "const e = document.querySelector(\"{mine}\"); if (!e) return ''; \
                 const v = e.querySelector('[data-testid=entry-views]'); \
                 const c = e.querySelector('[data-testid=entry-comment]'); \
                 return (v ? v.dataset.count : '') + '|' + (c ? c.textContent : '')"
            ),
            |v| {
                v.as_str()
                    .is_some_and(|s| s.starts_with("1|") && s.contains("Which valley"))
            },
        )
        .await;
    alice
        .until(
            "the Alps first in the ranking",
            "const r = document.querySelector('[data-testid=ranking-item]'); return r ? r.dataset.entryId + ':' + r.dataset.rank : ''",
            |v| v.as_str() == Some(&format!("{alps}:1")),
        )
        .await;
    let summary = text_of(&mut alice, "[data-testid=feedback-sessions]").await;
    assert!(summary.contains("1 definitely viewed"), "{summary}");
    alice.shot("f9-editor-feedback").await;
    alice
        .js(&format!(
            "document.querySelector(\"{mine}\").scrollIntoView({{ block: 'center' }})"
        ))
        .await;
    alice.shot("f9b-editor-entry-feedback").await;

    // The threshold is Alice's to set, in her settings window.
    alice.main_window().await;
    alice.click("[data-testid=open-settings]").await;
    alice.window("#/settings").await;
    let field = alice.find("[data-testid=threshold-input]").await;
    assert_eq!(field.prop("value").await.unwrap().as_deref(), Some("10"));
    alice.type_into("[data-testid=threshold-input]", "20").await;
    alice
        .js("const i = document.querySelector('[data-testid=threshold-input]'); i.dispatchEvent(new Event('change', { bubbles: true })); i.scrollIntoView({ block: 'center' })")
        .await;
    let mut threshold = String::new();
    for _ in 0..50 {
        threshold = alice.cli(&["settings", "get", "view_threshold"])["value"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        if threshold == "20" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(threshold, "20");
    alice
        .js("document.querySelector('[data-testid=threshold-input]').scrollIntoView({ block: 'center' })")
        .await;
    alice.shot("f9c-settings-threshold").await;
    // Judged against 20 s, the 11-s look is now only "viewed".
    alice.window("#/chat/").await;
    alice
        .until(
            "the look judged again",
            "const b = document.querySelector('[data-testid=viewed-badge]'); return b ? b.dataset.definitely : ''",
            |v| v == "false",
        )
        .await;

    // The same windows in Chinese.
    alice.cli(&["settings", "set", "language", "zh-CN"]);
    bob.cli(&["settings", "set", "language", "zh-CN"]);
    alice.window("#/editor/").await;
    alice.js("location.reload()").await;
    alice
        .until(
            "the editor in Chinese",
            "return document.documentElement.lang",
            |v| v == "zh-CN",
        )
        .await;
    alice.find("[data-testid=feedback-summary]").await;
    alice.shot("f10-editor-feedback-zh").await;
    alice.window("#/chat/").await;
    alice.js("location.reload()").await;
    alice
        .until(
            "the chat in Chinese",
            "return document.querySelector('[data-testid=chat-items]')?.textContent ?? ''",
            |v| v.as_str().is_some_and(|t| t.contains("看过")),
        )
        .await;
    alice.shot("f11-chat-zh").await;
    bob.window("#/viewer/").await;
    bob.js("location.reload()").await;
    bob.until(
        "the viewer in Chinese",
        "return document.querySelector('[data-testid=my-comment]')?.textContent ?? ''",
        |v| v.as_str().is_some_and(|t| t.contains("评论")),
    )
    .await;
    bob.shot("f12-viewer-zh").await;
    alice.main_window().await;
    alice.js("location.reload()").await;
    alice.find("[data-testid=contact-row]").await;
    alice.shot("f13-main-zh").await;

    println!("screenshots in {}", artifacts().display());
    alice.client.clone().close().await.unwrap();
    bob.client.clone().close().await.unwrap();
}
