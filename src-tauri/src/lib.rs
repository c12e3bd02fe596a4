//! Backstory's desktop app: a thin Tauri shell over the engine. It runs the same engine as
//! `backstory node` (networking, sync, scheduler, control socket), so the CLI can script a running
//! app, and exposes it to the windows as typed commands and one typed event.

pub mod commands;
pub mod events;
pub mod handover;
pub mod strings;
pub mod tray;
pub mod windows;

use std::path::{Path, PathBuf};

use backstory_core::{Engine, Options, paths};
use tauri::{Manager, RunEvent};
use tauri_specta::collect_events;

use crate::commands::AppState;
use crate::windows::WindowKind;

/// The builder of the typed commands and events; also what the bindings are generated from.
pub fn bindings() -> tauri_specta::Builder<tauri::Wry> {
    tauri_specta::Builder::<tauri::Wry>::new()
        .commands(commands::all())
        .events(collect_events![events::EngineEvent])
        .dangerously_cast_bigints_to_number()
        .disable_serde_phases()
}

/// Where the generated TypeScript bindings live in the repository.
pub fn bindings_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/lib/bindings.ts")
}

/// Writes the TypeScript bindings to `path`.
pub fn export_bindings(path: &Path) -> Result<(), String> {
    let ts = specta_typescript::Typescript::default()
        .header("// Generated from the Rust commands by `make bindings`; do not edit.\n");
    bindings().export(ts, path).map_err(|e| e.to_string())
}

/// A `backstory://` link among the program's arguments (how the desktop opens links with us).
fn link_argument() -> Option<String> {
    std::env::args()
        .skip(1)
        .find(|a| a.starts_with("backstory://"))
}

/// Runs the app until its last window closes or it is told to quit.
pub fn run() -> anyhow::Result<()> {
    let dir = paths::resolve(None)?;
    paths::ensure(&dir)?;
    let link = link_argument();
    // One app per data directory: a second start brings the first to the front instead.
    match tauri::async_runtime::block_on(handover::hand_over(&dir, link.as_deref()))? {
        handover::Found::HandedOver => return Ok(()),
        handover::Found::Node => anyhow::bail!(
            "this data directory is in use by a `backstory node` without windows; stop it before \
             starting the app"
        ),
        handover::Found::Nobody => {}
    }
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let engine = tauri::async_runtime::block_on(async {
        // A test clock when BACKSTORY_TEST_CLOCK says so, else the system's.
        let clock = backstory_core::clock::from_env()?;
        let engine = Engine::open_with(&dir, Options::default().clock(clock)).await?;
        // The same control socket as `backstory node`, so the CLI can script the running app.
        let server = backstory_core::control::bind(engine.clone())?;
        tokio::spawn(server.run(stopped));
        Ok::<_, anyhow::Error>(engine)
    })?;

    let builder = bindings();
    let setup_engine = engine.clone();
    let app = tauri::Builder::default()
        .plugin(tauri_plugin_notification::init())
        .plugin(tauri_plugin_dialog::init())
        .manage(AppState {
            engine: engine.clone(),
        })
        .manage(tray::Unseen::default())
        .invoke_handler(builder.invoke_handler())
        .setup(move |app| {
            builder.mount_events(app);
            app.asset_protocol_scope()
                .allow_directory(backstory_core::media::viewing_dir(&dir), true)?;
            let handle = app.handle();
            windows::open(handle, WindowKind::Main, None, None)
                .map_err(|e| anyhow::anyhow!(e.message))?;
            if let Some(link) = link.as_deref() {
                windows::open(handle, WindowKind::Pairing, None, Some(link))
                    .map_err(|e| anyhow::anyhow!(e.message))?;
            }
            let lang = tauri::async_runtime::block_on(strings::language_of(&setup_engine));
            if let Err(e) = tray::build(handle, &lang) {
                tracing::info!("no tray icon: {e}");
            }
            events::forward(handle.clone(), setup_engine.subscribe());
            let h = handle.clone();
            tauri::async_runtime::spawn(async move { tray::refresh_all(&h).await });
            let h = handle.clone();
            handover::listen(&dir, move |link| events::open_request(&h, link.as_deref()))?;
            Ok(())
        })
        .build(tauri::generate_context!())?;
    app.run(move |_app, event| {
        if let RunEvent::Exit = event {
            stop.send_replace(true);
            tauri::async_runtime::block_on(engine.shutdown());
        }
    });
    Ok(())
}
