//! The app's windows. Each has a fixed label so its capability grants it only its own commands:
//! `main`, `pairing`, `settings`, `inbox`, `editor-<contact>`, `viewer-<contact>`, `chat-<contact>`.
use backstory_core::{ApiError, EngineError, ErrorCode};
use serde::{Deserialize, Serialize};
use tauri::webview::{NewWindowResponse, PermissionKind, PermissionResponse};
use tauri::{AppHandle, Manager, Url, WebviewUrl, WebviewWindowBuilder};

/// Which window to open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, specta::Type)]
#[serde(rename_all = "snake_case")]
pub enum WindowKind {
    /// Contacts and their panel icons.
    Main,
    /// Invite and join.
    Pairing,
    /// Name, network, language, receipts, the video watcher.
    Settings,
    /// The video watcher's suggestions, waiting for approval.
    Inbox,
    /// My panel for one contact.
    Editor,
    /// Their panel for me.
    Viewer,
    /// The chat with one contact, with both panel icons.
    Chat,
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Label, route and title for a window.
fn place(
    kind: WindowKind,
    contact: Option<(&str, &str)>,
    ticket: Option<&str>,
) -> Result<(String, String, String, (f64, f64)), ApiError> {
    let need = || {
        ApiError::from(EngineError::InvalidInput(
            "this window needs a contact".into(),
        ))
    };
    Ok(match kind {
        WindowKind::Main => (
            "main".into(),
            "#/main".into(),
            "Backstory".into(),
            (420.0, 640.0),
        ),
        WindowKind::Pairing => {
            let route = match ticket {
                Some(t) => format!("#/pairing?ticket={}", encode(t)),
                None => "#/pairing".into(),
            };
            ("pairing".into(), route, "Backstory".into(), (720.0, 620.0))
        }
        WindowKind::Settings => (
            "settings".into(),
            "#/settings".into(),
            "Backstory".into(),
            (520.0, 560.0),
        ),
        WindowKind::Inbox => (
            "inbox".into(),
            "#/inbox".into(),
            "Backstory".into(),
            (620.0, 640.0),
        ),
        WindowKind::Editor => {
            let (id, name) = contact.ok_or_else(need)?;
            (
                format!("editor-{id}"),
                format!("#/editor/{}", encode(id)),
                format!("Backstory — {name}"),
                (760.0, 720.0),
            )
        }
        WindowKind::Viewer => {
            let (id, name) = contact.ok_or_else(need)?;
            (
                format!("viewer-{id}"),
                format!("#/viewer/{}", encode(id)),
                format!("Backstory — {name}"),
                (680.0, 720.0),
            )
        }
        WindowKind::Chat => {
            let (id, name) = contact.ok_or_else(need)?;
            (
                format!("chat-{id}"),
                format!("#/chat/{}", encode(id)),
                format!("Backstory — {name}"),
                (460.0, 640.0),
            )
        }
    })
}

/// Opens a window, or brings it to the front if it is open (a ticket replaces the pairing
/// window's route so a link always lands).
pub fn open(
    app: &AppHandle,
    kind: WindowKind,
    contact: Option<(&str, &str)>,
    ticket: Option<&str>,
) -> Result<(), ApiError> {
    let (label, route, title, (w, h)) = place(kind, contact, ticket)?;
    let fail = |e: tauri::Error| ApiError {
        code: ErrorCode::Internal,
        message: format!("cannot open the window: {e}"),
    };
    if let Some(window) = app.get_webview_window(&label) {
        if ticket.is_some() {
            let mut url = window.url().map_err(fail)?;
            url.set_fragment(Some(route.trim_start_matches('#')));
            window.navigate(url).map_err(fail)?;
        }
        let _ = window.unminimize();
        window.show().map_err(fail)?;
        return window.set_focus().map_err(fail);
    }
    let viewer = kind == WindowKind::Viewer;
    let window = WebviewWindowBuilder::new(
        app,
        &label,
        WebviewUrl::App(format!("index.html{route}").into()),
    )
    // A viewer may record a voice comment: the microphone is asked for only when the person
    // presses "record" there, and no other window gets it.
    .on_permission_request(move |_, kind| match kind {
        PermissionKind::Microphone if viewer => PermissionResponse::Allow,
        _ => PermissionResponse::Deny,
    })
    // The windows never leave the app: a link from a panel opens in the system's browser.
    .on_navigation(|url| {
        let inside = is_app_url(url);
        if !inside {
            open_external(url);
        }
        inside
    })
    .on_new_window(|url, _| {
        open_external(&url);
        NewWindowResponse::Deny
    })
    .title(title)
    .inner_size(w, h)
    .min_inner_size(360.0, 420.0)
    .build()
    .map_err(fail)?;
    tune(&window, viewer);
    Ok(())
}

/// Whether the windows draw through WebKit's compositor (`BACKSTORY_COMPOSITING=1`; see
/// [`tune`]).
fn compositing() -> bool {
    std::env::var_os("BACKSTORY_COMPOSITING").is_some_and(|v| v == "1")
}

/// What WebKit reads from the environment, set before anything else runs (the process has one
/// thread then, so nothing reads the environment while it changes): drawn without the
/// compositor, the windows have no use for WebKit's DMA-BUF renderer, which still starts threads
/// in both the app and its page process: 14-17 MB less resident memory without it (the README's
/// memory figures). A value the user set is kept.
pub fn prepare_environment() {
    #[cfg(target_os = "linux")]
    if !compositing() {
        // g_setenv fails only for a name with `=` in it.
        webkit2gtk::glib::setenv("WEBKIT_DISABLE_DMABUF_RENDERER", "1", false).ok();
    }
}

/// Settings of the window's WebKit view, made as it opens:
/// - pages are drawn by the CPU without a compositor: the windows are lists and cards, and
///   compositing makes WebKit's page process load a GL driver and keep layer buffers, 55-70 MB
///   of the app's memory (the README's memory figures). `BACKSTORY_COMPOSITING=1` keeps
///   WebKit's default (a large screen may scroll more smoothly with it; WebDriver's screenshots
///   wait for a composited frame, so the end-to-end tests set it);
/// - a viewer window's page may ask for the microphone (WebKitGTK keeps media capture off unless
///   the embedder turns it on); elsewhere the page offers attaching a sound file instead.
fn tune(window: &tauri::WebviewWindow, viewer: bool) {
    #[cfg(target_os = "linux")]
    {
        let compositing = compositing();
        let done = window.with_webview(move |w| {
            use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};
            if let Some(settings) = w.inner().settings() {
                if !compositing {
                    settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
                }
                if viewer {
                    settings.set_enable_media_stream(true);
                }
            }
        });
        if let Err(e) = done {
            tracing::info!("the window keeps WebKit's default settings: {e}");
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (window, viewer);
}

/// Whether a URL is one of the app's own pages.
fn is_app_url(url: &Url) -> bool {
    match url.scheme() {
        "tauri" => true,
        "http" | "https" => matches!(url.host_str(), Some("tauri.localhost")),
        _ => false,
    }
}

/// Opens a web link in the system's browser; anything but http(s) is ignored.
fn open_external(url: &Url) {
    if !matches!(url.scheme(), "http" | "https") {
        tracing::info!("not opening a {} link", url.scheme());
        return;
    }
    if let Err(e) = std::process::Command::new("xdg-open")
        .arg(url.as_str())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        tracing::warn!("cannot open {url}: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tickets_are_encoded_into_the_route() {
        let (label, route, ..) =
            place(WindowKind::Pairing, None, Some("backstory://pair/ab c#d")).expect("place");
        assert_eq!(label, "pairing");
        assert_eq!(
            route,
            "#/pairing?ticket=backstory%3A%2F%2Fpair%2Fab%20c%23d"
        );
    }

    #[test]
    fn only_the_apps_own_pages_load_in_its_windows() {
        let url = |s: &str| Url::parse(s).expect("url");
        assert!(is_app_url(&url("tauri://localhost/index.html#/main")));
        assert!(is_app_url(&url("http://tauri.localhost/index.html")));
        assert!(!is_app_url(&url("https://example.org/")));
        assert!(!is_app_url(&url("file:///etc/passwd")));
        assert!(!is_app_url(&url("https://tauri.localhost.evil.example/")));
    }

    #[test]
    fn contact_windows_need_a_contact() {
        assert!(place(WindowKind::Editor, None, None).is_err());
        assert!(place(WindowKind::Viewer, None, None).is_err());
        assert!(place(WindowKind::Chat, None, None).is_err());
        let (label, route, ..) = place(WindowKind::Chat, Some(("c 1", "Bob")), None).expect("chat");
        assert_eq!(
            (label.as_str(), route.as_str()),
            ("chat-c 1", "#/chat/c%201")
        );
    }
}
