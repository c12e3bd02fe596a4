//! The commands the windows call: thin wrappers over the engine, typed for the bindings.
//! Each window's capability grants only the commands it needs.

use std::path::PathBuf;

use backstory_core::engine::{ContactCard, Invite, Paired, PendingJoin};
use backstory_core::{ApiError, Contact, Engine, EngineError, EntryEdit, NewEntry, TheirPanel};
use backstory_crdt::{Category, CategoryId, Entry, EntryId, Source, Timestamp, Visibility};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, State};

use crate::windows::{self, WindowKind};

/// What commands return: data, or an error with a typed code.
pub type Answer<T> = Result<T, ApiError>;

fn answer<T>(r: Result<T, EngineError>) -> Answer<T> {
    r.map_err(ApiError::from)
}

/// Who I am and how the app is set up.
#[derive(Clone, Debug, Serialize, Deserialize, specta::Type)]
pub struct Profile {
    /// My endpoint id.
    pub id: String,
    /// My display name.
    pub name: String,
    /// Where my data lives.
    pub data_dir: String,
    /// The network mode setting (takes effect at the next start).
    pub network: String,
    /// The network mode in force now.
    pub network_in_force: String,
    /// The chosen language; none follows the system.
    pub language: Option<String>,
    /// Whether I send read receipts.
    pub receipts: bool,
    /// Whether this device finds contacts on the local network (takes effect at the next start).
    pub lan_discovery: bool,
}

/// One entry of my panel, with its rule.
#[derive(Clone, Debug, Serialize, Deserialize, specta::Type)]
pub struct MyEntry {
    /// The entry as the contact would see it.
    pub entry: Entry,
    /// Who may see it, and when.
    pub visibility: Visibility,
    /// Whether the contact can see it now.
    pub visible_now: bool,
}

/// My panel for one contact, as the editor shows it.
#[derive(Clone, Debug, Serialize, Deserialize, specta::Type)]
pub struct MyPanel {
    /// The contact.
    pub contact: Contact,
    /// Categories in display order.
    pub categories: Vec<Category>,
    /// Every entry, hidden ones included.
    pub entries: Vec<MyEntry>,
}

/// A new entry as the editor's composer makes it.
#[derive(Clone, Debug, Serialize, Deserialize, specta::Type)]
pub struct NewEntryInput {
    /// The category; the panel's first when absent.
    pub category: Option<String>,
    /// Body or caption.
    pub text: String,
    /// A web link, making this a link entry.
    pub link: Option<String>,
    /// A file to attach (absolute path), making this a media or file entry.
    pub file: Option<String>,
    /// Who may see it, and when.
    pub visibility: Visibility,
}

/// The app's state: the engine it runs.
pub struct AppState {
    /// The engine, shared with the control socket.
    pub engine: Engine,
}

async fn profile_of(engine: &Engine) -> Answer<Profile> {
    let p = answer(engine.profile().await)?;
    let prefs = answer(engine.preferences().await)?;
    Ok(Profile {
        id: p.id,
        name: p.name,
        data_dir: p.data_dir.display().to_string(),
        network: prefs.network,
        network_in_force: p.network,
        language: prefs.language,
        receipts: prefs.receipts,
        lan_discovery: prefs.lan_discovery,
    })
}

/// Who I am.
#[tauri::command]
#[specta::specta]
pub async fn profile(state: State<'_, AppState>) -> Answer<Profile> {
    profile_of(&state.engine).await
}

/// Sets my display name.
#[tauri::command]
#[specta::specta]
pub async fn set_name(state: State<'_, AppState>, name: String) -> Answer<Profile> {
    answer(state.engine.set_name(&name).await)?;
    profile_of(&state.engine).await
}

/// Sets the network mode for the next start.
#[tauri::command]
#[specta::specta]
pub async fn set_network(state: State<'_, AppState>, mode: String) -> Answer<Profile> {
    answer(state.engine.set_network(&mode).await)?;
    profile_of(&state.engine).await
}

/// Turns discovery on the local network on or off, for the next start.
#[tauri::command]
#[specta::specta]
pub async fn set_lan_discovery(state: State<'_, AppState>, on: bool) -> Answer<Profile> {
    answer(state.engine.set_lan_discovery(on).await)?;
    profile_of(&state.engine).await
}

/// Chooses the language, or follows the system with null.
#[tauri::command]
#[specta::specta]
pub async fn set_language(
    app: AppHandle,
    state: State<'_, AppState>,
    language: Option<String>,
) -> Answer<Profile> {
    answer(state.engine.set_language(language.as_deref()).await)?;
    crate::tray::refresh(&app).await;
    profile_of(&state.engine).await
}

/// Turns read receipts on or off.
#[tauri::command]
#[specta::specta]
pub async fn set_receipts(state: State<'_, AppState>, on: bool) -> Answer<Profile> {
    answer(state.engine.set_receipts(on).await)?;
    profile_of(&state.engine).await
}

/// Every contact with both panel icons' state.
#[tauri::command]
#[specta::specta]
pub async fn contacts(state: State<'_, AppState>) -> Answer<Vec<ContactCard>> {
    answer(state.engine.contact_cards().await)
}

/// Unpairs a contact: they lose access at once.
#[tauri::command]
#[specta::specta]
pub async fn remove_contact(state: State<'_, AppState>, contact: String) -> Answer<()> {
    answer(state.engine.remove_contact(&contact).await).map(|_| ())
}

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
        Some(c) => Some(answer(state.engine.contact(&c).await)?),
        None => None,
    };
    windows::open(&app, kind, contact.as_ref(), ticket.as_deref())
}

/// Makes a one-use ticket valid for `ttl_hours`.
#[tauri::command]
#[specta::specta]
pub async fn invite(state: State<'_, AppState>, ttl_hours: u32, approval: bool) -> Answer<Invite> {
    if ttl_hours == 0 || ttl_hours > 24 * 30 {
        return Err(EngineError::InvalidInput("a ticket lasts 1 hour to 30 days".into()).into());
    }
    let ttl = std::time::Duration::from_secs(u64::from(ttl_hours) * 3600);
    answer(state.engine.invite(ttl, approval).await)
}

/// Joins with a ticket (text or `backstory://pair/` link).
#[tauri::command]
#[specta::specta]
pub async fn join(state: State<'_, AppState>, ticket: String) -> Answer<Paired> {
    answer(state.engine.join(&ticket).await)
}

/// Joins waiting for my approval.
#[tauri::command]
#[specta::specta]
pub async fn pending(state: State<'_, AppState>) -> Answer<Vec<PendingJoin>> {
    Ok(state.engine.pending())
}

/// Approves or denies a waiting join.
#[tauri::command]
#[specta::specta]
pub async fn decide_join(state: State<'_, AppState>, id: u32, approve: bool) -> Answer<()> {
    answer(state.engine.decide_join(u64::from(id), approve))
}

/// My panel for a contact: every entry with its rule.
#[tauri::command]
#[specta::specta]
pub async fn my_panel(state: State<'_, AppState>, contact: String) -> Answer<MyPanel> {
    let (contact, master) = answer(state.engine.my_panel(&contact).await)?;
    let now = backstory_core::now();
    Ok(MyPanel {
        contact,
        categories: master.categories,
        entries: master
            .entries
            .into_iter()
            .map(|e| MyEntry {
                visible_now: e.visibility.is_visible_at(now),
                entry: e.entry,
                visibility: e.visibility,
            })
            .collect(),
    })
}

/// Adds an entry to my panel for a contact; returns its id once it is durable.
#[tauri::command]
#[specta::specta]
pub async fn post_entry(
    state: State<'_, AppState>,
    contact: String,
    entry: NewEntryInput,
) -> Answer<String> {
    use backstory_core::Content;
    let content = match (entry.link, entry.file) {
        (Some(_), Some(_)) => {
            return Err(EngineError::InvalidInput(
                "an entry holds a link or a file, not both".into(),
            )
            .into());
        }
        (Some(url), None) => Content::Link { url },
        (None, Some(path)) => Content::File {
            path: PathBuf::from(path),
        },
        (None, None) => Content::Text,
    };
    let new = NewEntry {
        category: entry.category.map(CategoryId::new),
        content,
        text: entry.text,
        visibility: entry.visibility,
        source: Source::Manual,
    };
    answer(state.engine.post(&contact, new).await).map(|id| id.to_string())
}

/// Changes an entry's text, category or rule.
#[tauri::command]
#[specta::specta]
pub async fn edit_entry(state: State<'_, AppState>, entry: String, edit: EntryEdit) -> Answer<()> {
    answer(state.engine.edit_entry(&EntryId::new(entry), edit).await)
}

/// Deletes an entry from my panel.
#[tauri::command]
#[specta::specta]
pub async fn delete_entry(state: State<'_, AppState>, entry: String) -> Answer<()> {
    answer(state.engine.delete_entry(&EntryId::new(entry)).await)
}

/// Adds a category; returns its id.
#[tauri::command]
#[specta::specta]
pub async fn add_category(
    state: State<'_, AppState>,
    contact: String,
    name: String,
) -> Answer<String> {
    answer(state.engine.add_category(&contact, &name).await).map(|c| c.to_string())
}

/// Renames a category.
#[tauri::command]
#[specta::specta]
pub async fn rename_category(
    state: State<'_, AppState>,
    contact: String,
    category: String,
    name: String,
) -> Answer<()> {
    answer(
        state
            .engine
            .rename_category(&contact, &CategoryId::new(category), &name)
            .await,
    )
}

/// Moves a category to a position (0 is first).
#[tauri::command]
#[specta::specta]
pub async fn move_category(
    state: State<'_, AppState>,
    contact: String,
    category: String,
    index: u32,
) -> Answer<()> {
    let to = usize::try_from(index).unwrap_or(usize::MAX);
    answer(
        state
            .engine
            .move_category(&contact, &CategoryId::new(category), to)
            .await,
    )
}

/// Removes a category; its entries move to the first remaining one.
#[tauri::command]
#[specta::specta]
pub async fn remove_category(
    state: State<'_, AppState>,
    contact: String,
    category: String,
) -> Answer<()> {
    answer(
        state
            .engine
            .remove_category(&contact, &CategoryId::new(category))
            .await,
    )
    .map(|_moved_to| ())
}

/// Reads a time as people type it ("in 3 days", "3d", "2026-12-01").
#[tauri::command]
#[specta::specta]
pub async fn parse_when(text: String) -> Answer<Timestamp> {
    backstory_core::when::parse(&text, backstory_core::now())
        .map_err(|e| EngineError::InvalidInput(e.to_string()).into())
}

/// Their panel for me, with what changed since I last looked.
#[tauri::command]
#[specta::specta]
pub async fn their_panel(state: State<'_, AppState>, contact: String) -> Answer<TheirPanel> {
    answer(state.engine.their_panel(&contact).await)
}

/// Records that I have seen their panel up to `heads`.
#[tauri::command]
#[specta::specta]
pub async fn mark_seen(
    app: AppHandle,
    state: State<'_, AppState>,
    contact: String,
    heads: Vec<String>,
) -> Answer<()> {
    answer(state.engine.mark_viewed(&contact, heads).await)?;
    crate::tray::refresh(&app).await;
    Ok(())
}

/// Fetches an entry's media from their device (progress arrives as events) and returns the local
/// path of the verified file, which the window may show.
#[tauri::command]
#[specta::specta]
pub async fn fetch_media(
    state: State<'_, AppState>,
    contact: String,
    entry: String,
) -> Answer<String> {
    answer(
        state
            .engine
            .media_for_viewing(&contact, &EntryId::new(entry))
            .await,
    )
    .map(|p| p.display().to_string())
}
