//! The tray icon: the count of unseen updates from contacts, and a menu to show the app or quit.

use std::collections::HashMap;

use backstory_core::ContactId;
use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};

use crate::commands::AppState;
use crate::strings::{Text, language_of, text};
use crate::windows::{self, WindowKind};

/// The tray icon's id.
const TRAY: &str = "backstory";

/// The tray menu item that opens the inbox.
const INBOX: &str = "inbox";

/// The inbox item of the tray menu, kept to update its count.
struct InboxItem(MenuItem<tauri::Wry>);

/// Shows the number of suggestions waiting on the tray menu's inbox item.
pub async fn refresh_inbox(app: &AppHandle) {
    let (Some(state), Some(item)) = (app.try_state::<AppState>(), app.try_state::<InboxItem>())
    else {
        return;
    };
    let n = match state.engine.run(backstory_core::op::Inbox {}).await {
        Ok(inbox) => inbox.suggestions.len(),
        Err(e) => {
            tracing::warn!("cannot count the inbox: {e}");
            return;
        }
    };
    let lang = language_of(&state.engine).await;
    let _ = item
        .0
        .set_text(text(&lang, Text::Inbox).replace("{n}", &n.to_string()));
}

/// Builds the tray icon. Without a tray host (a bare X server) this fails harmlessly: the app is
/// fully usable from its windows.
pub fn build(app: &AppHandle, language: &str) -> tauri::Result<TrayIcon> {
    let open = MenuItem::with_id(app, "open", text(language, Text::Open), true, None::<&str>)?;
    let inbox = MenuItem::with_id(
        app,
        INBOX,
        text(language, Text::Inbox).replace("{n}", "0"),
        true,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", text(language, Text::Quit), true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &inbox, &quit])?;
    app.manage(InboxItem(inbox));
    let mut builder = TrayIconBuilder::with_id(TRAY)
        .menu(&menu)
        .tooltip("Backstory")
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => {
                if let Err(e) = windows::open(app, WindowKind::Main, None, None) {
                    tracing::warn!("cannot open the main window: {}", e.message);
                }
            }
            INBOX => {
                if let Err(e) = windows::open(app, WindowKind::Inbox, None, None) {
                    tracing::warn!("cannot open the inbox: {}", e.message);
                }
            }
            "quit" => app.exit(0),
            _ => {}
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)
}

/// Unseen updates per contact, kept from the events so one contact's change costs one update.
#[derive(Default)]
pub struct Unseen(tokio::sync::Mutex<HashMap<ContactId, usize>>);

/// Records one contact's unseen count and shows the new total; returns the count before.
pub async fn set_unseen(app: &AppHandle, contact: &ContactId, n: usize) -> usize {
    let Some(unseen) = app.try_state::<Unseen>() else {
        return 0;
    };
    let (before, total) = {
        let mut map = unseen.0.lock().await;
        let before = if n == 0 {
            map.remove(contact)
        } else {
            map.insert(contact.clone(), n)
        };
        (before.unwrap_or(0), map.values().sum::<usize>())
    };
    show(app, total).await;
    before
}

/// Reads every contact's count once (at start, and when the language changes).
pub async fn refresh_all(app: &AppHandle) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let cards = match state.engine.run(backstory_core::op::Contacts {}).await {
        Ok(cards) => cards,
        Err(e) => {
            tracing::warn!("cannot count unseen updates: {e}");
            return;
        }
    };
    let total = match app.try_state::<Unseen>() {
        Some(unseen) => {
            let mut map = unseen.0.lock().await;
            *map = cards
                .iter()
                .filter(|c| c.theirs.unseen > 0)
                .map(|c| (c.id.clone(), c.theirs.unseen as usize))
                .collect();
            map.values().sum()
        }
        None => 0,
    };
    show(app, total).await;
}

/// Shows a total on the tray icon, in the app's language.
async fn show(app: &AppHandle, n: usize) {
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let lang = language_of(&state.engine).await;
    if let Some(tray) = app.tray_by_id(TRAY) {
        let tip = match n {
            0 => "Backstory".to_string(),
            n => text(&lang, Text::Unseen).replace("{n}", &n.to_string()),
        };
        let _ = tray.set_tooltip(Some(&tip));
        let _ = tray.set_title(if n == 0 { None } else { Some(n.to_string()) });
    }
}
