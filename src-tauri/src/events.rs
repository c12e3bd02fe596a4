//! Engine events to the windows (one typed event), plus what the shell does with some of them:
//! a notification and the tray count when a contact's panel changes, and bringing the app to the
//! front when a second start or a `backstory://` link asks for it.

use backstory_core::feedback::{ChatBody, ChatItem};
use backstory_core::{ContactId, Event};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager};
use tauri_plugin_notification::NotificationExt;
use tauri_specta::Event as _;
use tokio::sync::broadcast;

use crate::commands::AppState;
use crate::strings::{Text, language_of, text};
use crate::windows::{self, WindowKind};

/// Something the engine did or noticed, as every window receives it.
#[derive(Clone, Debug, Serialize, Deserialize, specta::Type, tauri_specta::Event)]
pub struct EngineEvent(pub Event);

/// Forwards the engine's events until it stops.
pub fn forward(app: AppHandle, mut events: broadcast::Receiver<Event>) {
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(e) => e,
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("the windows missed {n} events");
                    continue;
                }
                Err(broadcast::error::RecvError::Closed) => return,
            };
            match &event {
                Event::PanelReceived {
                    contact,
                    unseen: now,
                } => {
                    let before = crate::tray::set_unseen(&app, contact, *now).await;
                    if *now > before {
                        notify(&app, contact, *now).await;
                    }
                }
                Event::ChatReceived { contact, items, .. } => {
                    notify_chat(&app, contact, items).await;
                }
                Event::ContactRemoved { contact } => {
                    crate::tray::set_unseen(&app, contact, 0).await;
                }
                Event::SettingChanged { key } if key == "language" => {
                    crate::tray::refresh_all(&app).await;
                }
                Event::SuggestionAdded { text: watched, .. } => {
                    crate::tray::refresh_inbox(&app).await;
                    notify_watched(&app, watched).await;
                }
                Event::DraftRemoved { .. } => {
                    crate::tray::refresh_inbox(&app).await;
                }
                _ => {}
            }
            if let Err(e) = EngineEvent(event).emit(&app) {
                tracing::warn!("cannot send an event to the windows: {e}");
            }
        }
    });
}

/// Brings a window to the front for a second start of the app, or a `backstory://` link.
pub fn open_request(app: &AppHandle, link: Option<&str>) {
    let (kind, ticket) = match link {
        Some(l) if l.starts_with("backstory://pair/") => (WindowKind::Pairing, Some(l)),
        _ => (WindowKind::Main, None),
    };
    if let Err(e) = windows::open(app, kind, None, ticket) {
        tracing::warn!("cannot open a window: {}", e.message);
    }
}

/// A desktop notification that the video watcher has a suggestion. Not shown while the inbox is
/// in front.
async fn notify_watched(app: &AppHandle, watched: &str) {
    let looking = app
        .get_webview_window("inbox")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    if looking {
        return;
    }
    let lang = language_of(&state.engine).await;
    let title: String = watched
        .chars()
        .filter(|c| !c.is_control())
        .take(80)
        .collect();
    let shown = app
        .notification()
        .builder()
        .title(text(&lang, Text::Watched).replace("{name}", &title))
        .body(text(&lang, Text::WatchedBody))
        .show();
    if let Err(e) = shown {
        tracing::debug!("notification not shown: {e}");
    }
}

/// A contact's name and the app's language, for a notification about them — unless the window
/// `label` is in front (the news is on screen already).
async fn about(app: &AppHandle, label: &str, contact: &ContactId) -> Option<(String, String)> {
    let in_front = app
        .get_webview_window(label)
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    if in_front {
        return None;
    }
    let state = app.try_state::<AppState>()?;
    let c = state
        .engine
        .run(backstory_core::op::Contact {
            contact: contact.to_string(),
        })
        .await
        .ok()?;
    Some((c.name, language_of(&state.engine).await))
}

/// A desktop notification that a contact's panel has news. Not shown while I am reading it.
async fn notify(app: &AppHandle, contact: &ContactId, n: usize) {
    let Some((name, lang)) = about(app, &format!("viewer-{contact}"), contact).await else {
        return;
    };
    let shown = app
        .notification()
        .builder()
        .title(text(&lang, Text::Updated).replace("{name}", &name))
        .body(text(&lang, Text::UpdatedBody).replace("{n}", &n.to_string()))
        .show();
    if let Err(e) = shown {
        // No notification service (a bare X server): the tray and the main window still show it.
        tracing::debug!("notification not shown: {e}");
    }
}

/// What one chat item says, for a notification.
fn describe(lang: &str, name: &str, item: &ChatItem) -> String {
    let short = |t: &str| {
        let mut s: String = t.chars().filter(|c| !c.is_control()).take(120).collect();
        if t.chars().count() > 120 {
            s.push('…');
        }
        s
    };
    match &item.body {
        ChatBody::Message { text: t } => text(lang, Text::Message)
            .replace("{name}", name)
            .replace("{text}", &short(t)),
        ChatBody::Comment {
            entry_label,
            text: t,
            audio,
            ..
        } => {
            let said = match (t.trim().is_empty(), audio.is_some()) {
                (true, true) => text(lang, Text::Voice).to_string(),
                _ => short(t),
            };
            let template = match entry_label {
                Some(_) => text(lang, Text::Commented),
                None => text(lang, Text::CommentedPanel),
            };
            template
                .replace("{name}", name)
                .replace("{entry}", entry_label.as_deref().unwrap_or(""))
                .replace("{text}", &said)
        }
        ChatBody::Viewed {
            open_for_ms,
            definitely,
            ..
        } => {
            let t = if *definitely {
                Text::LookedLong
            } else {
                Text::Looked
            };
            text(lang, t)
                .replace("{name}", name)
                .replace("{s}", &(open_for_ms.saturating_add(500) / 1000).to_string())
        }
    }
}

/// A desktop notification for new chat items from a contact — their messages and their feedback
/// on my panel — unless I am in that chat. The main window shows the same at the contact's row.
async fn notify_chat(app: &AppHandle, contact: &ContactId, items: &[ChatItem]) {
    let Some(last) = items.last() else {
        return;
    };
    let Some((name, lang)) = about(app, &format!("chat-{contact}"), contact).await else {
        return;
    };
    let mut body = describe(&lang, &name, last);
    if items.len() > 1 {
        body.push_str(&format!(
            " ({})",
            text(&lang, Text::More).replace("{n}", &(items.len() - 1).to_string())
        ));
    }
    let shown = app
        .notification()
        .builder()
        .title("Backstory")
        .body(body)
        .show();
    if let Err(e) = shown {
        // No notification service: the pop-up at the contact's row and the chat still show it.
        tracing::debug!("notification not shown: {e}");
    }
}
