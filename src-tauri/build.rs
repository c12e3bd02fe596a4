//! Builds the Tauri context and declares the app's commands, so each window's capability can grant
//! exactly the ones it needs.

fn main() {
    let commands = &[
        "profile",
        "set_name",
        "set_network",
        "set_lan_discovery",
        "set_language",
        "set_receipts",
        "contacts",
        "remove_contact",
        "open_window",
        "invite",
        "join",
        "pending",
        "decide_join",
        "my_panel",
        "post_entry",
        "edit_entry",
        "delete_entry",
        "add_category",
        "rename_category",
        "move_category",
        "remove_category",
        "parse_when",
        "their_panel",
        "mark_seen",
        "fetch_media",
    ];
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri build failed: {e:#}");
        std::process::exit(1);
    }
}
