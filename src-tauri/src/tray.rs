//! The tray icon: the count of unseen updates from contacts, and a menu to show the app or quit.

use tauri::menu::{Menu, MenuItem};
use tauri::tray::{TrayIcon, TrayIconBuilder};
use tauri::{AppHandle, Manager};

use crate::commands::AppState;
use crate::strings::{Text, language, language_of, text};
use crate::windows::{self, WindowKind};

/// The tray icon's id.
const TRAY: &str = "backstory";

/// Builds the tray icon. Without a tray host (a bare X server) this fails harmlessly: the app is
/// fully usable from its windows.
pub fn build(app: &AppHandle, language: &str) -> tauri::Result<TrayIcon> {
    let open = MenuItem::with_id(app, "open", text(language, Text::Open), true, None::<&str>)?;
    let quit = MenuItem::with_id(app, "quit", text(language, Text::Quit), true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &quit])?;
    let mut builder = TrayIconBuilder::with_id(TRAY)
        .menu(&menu)
        .tooltip("Backstory")
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => {
                if let Err(e) = windows::open(app, WindowKind::Main, None, None) {
                    tracing::warn!("cannot open the main window: {}", e.message);
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

/// The number of updates from contacts I have not seen, summed over contacts, and the shell's
/// language.
async fn unseen(app: &AppHandle) -> (u32, String) {
    let Some(state) = app.try_state::<AppState>() else {
        return (0, language(None));
    };
    let lang = language_of(&state.engine).await;
    let n = match state.engine.contact_cards().await {
        Ok(cards) => cards.iter().map(|c| c.theirs.unseen).sum(),
        Err(e) => {
            tracing::warn!("cannot count unseen updates: {e}");
            0
        }
    };
    (n, lang)
}

/// Shows the current unseen count on the tray icon.
pub async fn refresh(app: &AppHandle) {
    let (n, lang) = unseen(app).await;
    if let Some(tray) = app.tray_by_id(TRAY) {
        let tip = match n {
            0 => "Backstory".to_string(),
            n => text(&lang, Text::Unseen).replace("{n}", &n.to_string()),
        };
        let _ = tray.set_tooltip(Some(&tip));
        let _ = tray.set_title(if n == 0 { None } else { Some(n.to_string()) });
    }
}
