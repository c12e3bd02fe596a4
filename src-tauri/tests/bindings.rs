#![allow(clippy::unwrap_used)]
//! The committed TypeScript bindings are exactly what the Rust commands generate. Run
//! `make bindings` after changing a command or a type the windows see.

#[test]
fn committed_bindings_match_the_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let fresh = tmp.path().join("bindings.ts");
    backstory_app::export_bindings(&fresh).unwrap();
    let fresh = std::fs::read_to_string(&fresh).unwrap();
    let committed_path = backstory_app::bindings_path();
    if std::env::var_os("BACKSTORY_WRITE_BINDINGS").is_some() {
        std::fs::write(&committed_path, &fresh).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == fresh,
        "{} differs from what the Rust commands generate; run `make bindings`",
        committed_path.display()
    );
    for command in ["profile", "contacts", "postEntry", "theirPanel", "markSeen"] {
        assert!(fresh.contains(&format!("\t{command}: (")), "{command}");
    }
    assert!(fresh.contains("engineEvent"));
}
