//! The commands the windows call. One per operation of the engine's API, generated from the
//! engine's own list ([`backstory_core::with_operations!`]), each a one-line call of the same
//! dispatcher the control socket uses; plus the one command that belongs to the shell alone,
//! opening a window. Each window's capability grants only the commands it needs.

use backstory_core::{ApiError, Engine};
use tauri::{AppHandle, State};

use crate::windows::{self, WindowKind};

/// What commands return: data, or an error with a typed code.
pub type Answer<T> = Result<T, ApiError>;

/// The app's state: the engine it runs.
pub struct AppState {
    /// The engine, shared with the control socket.
    pub engine: Engine,
}

macro_rules! api_commands {
    ($(
        $(#[$doc:meta])*
        $op:ident $name:ident {
            $( $(#[$fdoc:meta])* pub $field:ident : $fty:ty ),* $(,)?
        } -> $out:ty;
    )+) => {
        $(
            $(#[$doc])*
            #[tauri::command]
            #[specta::specta]
            pub async fn $name(state: State<'_, AppState>, $($field: $fty),*) -> Answer<$out> {
                state.engine.run(backstory_core::op::$op { $($field),* }).await
            }
        )+

        /// The names of the commands generated from the API, in its order.
        pub const API_COMMANDS: &[&str] = &[$(stringify!($name)),+];

        /// Every command, for the bindings and the invoke handler.
        pub fn all() -> tauri_specta::Commands<tauri::Wry> {
            tauri_specta::collect_commands![$($name,)+ open_window]
        }
    };
}

backstory_core::with_operations!(api_commands);

/// The commands that belong to the shell alone.
pub const SHELL_COMMANDS: &[&str] = &["open_window"];

/// Opens (or brings to the front) one of the app's windows.
#[tauri::command]
#[specta::specta]
pub async fn open_window(
    app: AppHandle,
    state: State<'_, AppState>,
    kind: WindowKind,
    contact: Option<String>,
    ticket: Option<String>,
) -> Answer<()> {
    let contact = match contact {
        Some(c) => Some(
            state
                .engine
                .run(backstory_core::op::Contact { contact: c })
                .await?,
        ),
        None => None,
    };
    windows::open(
        &app,
        kind,
        contact.as_ref().map(|c| (c.id.as_str(), c.name.as_str())),
        ticket.as_deref(),
    )
}
