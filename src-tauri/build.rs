//! Builds the Tauri context and declares the app's commands, so each window's capability can grant
//! exactly the ones it needs.

fn main() {
    let commands = &[
        // Every operation of the engine API (a test checks this list against it).
        "profile",
        "set_name",
        "settings",
        "get_setting",
        "set_setting",
        "contacts",
        "contact",
        "add_contact",
        "remove_contact",
        "my_panel",
        "preview",
        "post_entry",
        "edit_entry",
        "remove_entry",
        "refresh_snapshot",
        "remove_snapshot",
        "screens",
        "take_screenshot",
        "crop_screenshot",
        "add_category",
        "rename_category",
        "move_category",
        "remove_category",
        "prepare_entry",
        "drafts",
        "commit_draft",
        "discard_draft",
        "inbox",
        "reject_suggestion",
        "allow_player",
        "disallow_player",
        "their_panel",
        "mark_seen",
        "fetch_media",
        "export_panel",
        "import_panel",
        "invite",
        "join",
        "pending_joins",
        "decide_join",
        "parse_when",
        "clock",
        "advance_clock",
        "inspect",
        "comment",
        "remove_comment",
        "feedback",
        "fetch_comment_audio",
        "begin_view",
        "view_signal",
        "end_view",
        "set_contact_receipts",
        "chat",
        "send_message",
        "mark_chat_read",
        // The shell's own.
        "open_window",
    ];
    let attributes = tauri_build::Attributes::new()
        .app_manifest(tauri_build::AppManifest::new().commands(commands));
    if let Err(e) = tauri_build::try_build(attributes) {
        eprintln!("tauri build failed: {e:#}");
        std::process::exit(1);
    }
}
