//! mpv's history: `watch_history.jsonl` (`--save-watch-history`) and the `watch_later/` files
//! (`--write-filename-in-watch-later-config`).

use serde::Deserialize;

/// One line of `watch_history.jsonl`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub(crate) struct Watched {
    /// When it was played, in seconds since the Unix epoch.
    pub time: f64,
    /// The path or URL as mpv had it.
    pub path: String,
    /// The media title, when mpv knew one.
    #[serde(default)]
    pub title: Option<String>,
}

/// The complete lines of a watch-history text; lines that are not an entry are skipped (and
/// counted).
pub(crate) fn watched(text: &str) -> (Vec<Watched>, usize) {
    let mut entries = Vec::new();
    let mut skipped = 0;
    for line in text.lines().map(str::trim).filter(|line| !line.is_empty()) {
        match serde_json::from_str::<Watched>(line) {
            Ok(entry) if entry.time.is_finite() => entries.push(entry),
            _ => skipped += 1,
        }
    }
    (entries, skipped)
}

/// The file a `watch_later` entry is for: its first line `# /path/or/url`, when mpv wrote it.
pub(crate) fn watch_later_target(text: &str) -> Option<String> {
    let first = text.lines().next()?;
    let name = first.strip_prefix("# ")?.trim();
    if name.is_empty() || name == "redirect entry" {
        return None;
    }
    Some(name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn history_lines_are_read_and_broken_ones_skipped() {
        let text = r#"{"time":1718000000,"path":"/home/ann/a.mkv","title":"A"}
not json
{"time":1718000100.5,"path":"https://example.org/v"}
{"path":"/no/time.mkv"}
"#;
        let (entries, skipped) = watched(text);
        assert_eq!(skipped, 2);
        assert_eq!(
            entries,
            vec![
                Watched {
                    time: 1_718_000_000.0,
                    path: "/home/ann/a.mkv".into(),
                    title: Some("A".into())
                },
                Watched {
                    time: 1_718_000_100.5,
                    path: "https://example.org/v".into(),
                    title: None
                },
            ]
        );
    }

    #[test]
    fn watch_later_files_name_their_file_on_the_first_line() {
        assert_eq!(
            watch_later_target("# /home/ann/a b.mkv\nstart=12.5\n").as_deref(),
            Some("/home/ann/a b.mkv")
        );
        assert_eq!(watch_later_target("# redirect entry\n"), None);
        assert_eq!(watch_later_target("start=12.5\n"), None);
        assert_eq!(watch_later_target(""), None);
    }

    proptest! {
        #[test]
        fn any_text_reads_without_panic(text in "\\PC{0,200}") {
            let _ = watched(&text);
            let _ = watch_later_target(&text);
        }
    }
}
