//! What a player's command line says it plays: URLs and file paths, options skipped.

use std::path::Path;

use super::sighting::{has_scheme, normalise_path, target_of};

/// Options that take the next argument as their value, per player (the forms written without
/// `=`). mpv and other players not listed take values only as `--option=value`.
fn options_with_values(program: &str) -> &'static [(&'static str, usize)] {
    match program {
        "vlc" | "cvlc" | "qvlc" | "nvlc" => &[
            ("-I", 1),
            ("--intf", 1),
            ("--extraintf", 1),
            ("-A", 1),
            ("--aout", 1),
            ("-V", 1),
            ("--vout", 1),
            ("--config", 1),
            ("--sub-file", 1),
            ("--input-slave", 1),
            ("--start-time", 1),
            ("--stop-time", 1),
            ("--run-time", 1),
            ("--audio-track", 1),
            ("--sub-track", 1),
            ("--audio-language", 1),
            ("--sub-language", 1),
            ("--meta-title", 1),
            ("--video-title", 1),
            ("--width", 1),
            ("--height", 1),
            ("--aspect-ratio", 1),
            ("--crop", 1),
            ("--rate", 1),
            ("--zoom", 1),
            ("--sout", 1),
            ("--audio-filter", 1),
            ("--video-filter", 1),
            ("--avcodec-hw", 1),
            ("--file-caching", 1),
            ("--network-caching", 1),
            ("--http-host", 1),
            ("--http-port", 1),
            ("--http-password", 1),
        ],
        "mplayer" | "gmplayer" => &[
            ("-sub", 1),
            ("-subfile", 1),
            ("-audiofile", 1),
            ("-vo", 1),
            ("-ao", 1),
            ("-vc", 1),
            ("-ac", 1),
            ("-vf", 1),
            ("-af", 1),
            ("-ss", 1),
            ("-endpos", 1),
            ("-frames", 1),
            ("-aid", 1),
            ("-sid", 1),
            ("-vid", 1),
            ("-alang", 1),
            ("-slang", 1),
            ("-subcp", 1),
            ("-subdelay", 1),
            ("-delay", 1),
            ("-include", 1),
            ("-input", 1),
            ("-playlist", 1),
            ("-dumpfile", 1),
            ("-profile", 1),
            ("-x", 1),
            ("-y", 1),
            ("-xy", 1),
            ("-geometry", 1),
            ("-aspect", 1),
            ("-title", 1),
            ("-font", 1),
            ("-cache", 1),
            ("-speed", 1),
            ("-volume", 1),
            ("-chapter", 1),
            ("-loop", 1),
            ("-fps", 1),
            ("-wid", 1),
            ("-demuxer", 1),
            ("-dvd-device", 1),
            ("-cdrom-device", 1),
            ("-lavdopts", 1),
            ("-user-agent", 1),
        ],
        "smplayer" => &[
            ("-sub", 1),
            ("-media-title", 1),
            ("-config-path", 1),
            ("-send-action", 1),
            ("-actions", 1),
            ("-pos", 2),
            ("-size", 2),
        ],
        "celluloid" | "gnome-mpv" => &[
            ("--mpv-options", 1),
            ("--role", 1),
            ("--display", 1),
            ("--gtk-module", 1),
        ],
        "totem" => &[("--seek", 1), ("--display", 1), ("--gtk-module", 1)],
        _ => &[],
    }
}

/// The URLs and file paths a player's command line names, in order and without repeats.
///
/// `cmd` is the whole command line, program first; the player (and so which options take a
/// separate value) is known from the program's file name. Options are skipped: `--opt`,
/// `--opt=value`, `-o value` for the player's options that take one; `--` ends the options;
/// `-` (standard input) and VLC's `:option=value` item options are not targets. `file://` URIs
/// are percent-decoded to paths, relative paths are resolved against `cwd` (and dropped
/// without it), `.` and `..` are resolved. Other URLs are kept as written.
///
/// This only reads the text: whether a path names an existing video file is for the caller to
/// check.
pub fn parse_command_line(cmd: &[String], cwd: Option<&Path>) -> Vec<String> {
    let Some((program, args)) = cmd.split_first() else {
        return Vec::new();
    };
    let program = Path::new(program)
        .file_name()
        .map(|name| name.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let with_values = options_with_values(&program);
    let vlc_like = with_values
        .first()
        .is_some_and(|(option, _)| *option == "-I");

    let mut targets: Vec<String> = Vec::new();
    let mut options_ended = false;
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        i += 1;
        if !options_ended {
            if arg == "--" {
                options_ended = true;
                continue;
            }
            if arg.len() > 1 && arg.starts_with('-') {
                if !arg.contains('=')
                    && let Some((_, count)) = with_values.iter().find(|(option, _)| option == arg)
                {
                    i += count;
                }
                continue;
            }
            if vlc_like && arg.starts_with(':') {
                continue;
            }
        }
        if arg == "-" {
            continue;
        }
        if let Some(target) = target_of_arg(arg, cwd)
            && !targets.contains(&target)
        {
            targets.push(target);
        }
    }
    targets
}

/// One argument as a target: a URL, an absolute path, or a path relative to `cwd`.
fn target_of_arg(arg: &str, cwd: Option<&Path>) -> Option<String> {
    if arg.trim().is_empty() {
        return None;
    }
    if arg.starts_with('/') || has_scheme(arg) {
        return target_of(arg);
    }
    let cwd = cwd?;
    if !cwd.is_absolute() {
        return None;
    }
    Some(
        normalise_path(&cwd.join(arg))
            .to_string_lossy()
            .into_owned(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| (*word).to_owned()).collect()
    }

    #[test]
    fn mpv_options_before_and_after_are_skipped() {
        let cmd = args(&[
            "/usr/bin/mpv",
            "--fs",
            "--volume=50",
            "clip one.mkv",
            "--loop-file=inf",
            "https://example.org/v/1",
            "-",
        ]);
        assert_eq!(
            parse_command_line(&cmd, Some(Path::new("/home/ann/Videos"))),
            vec![
                "/home/ann/Videos/clip one.mkv".to_owned(),
                "https://example.org/v/1".to_owned()
            ]
        );
    }

    #[test]
    fn vlc_options_with_a_separate_value_skip_it() {
        let cmd = args(&[
            "vlc",
            "-I",
            "dummy",
            "--sub-file",
            "/home/ann/subs.srt",
            "-Iqt",
            "file:///home/ann/My%20Videos/a%23b.mp4",
            ":start-time=30",
            "--start-time",
            "12",
            "../b.mkv",
        ]);
        assert_eq!(
            parse_command_line(&cmd, Some(Path::new("/home/ann/x"))),
            vec![
                "/home/ann/My Videos/a#b.mp4".to_owned(),
                "/home/ann/b.mkv".to_owned()
            ]
        );
    }

    #[test]
    fn mplayer_and_smplayer_values_are_skipped() {
        let cmd = args(&["mplayer", "-vo", "xv", "-sub", "s.srt", "-fs", "/v/a.avi"]);
        assert_eq!(parse_command_line(&cmd, None), vec!["/v/a.avi".to_owned()]);
        let cmd = args(&[
            "smplayer", "-pos", "10", "20", "-size", "640", "480", "/v/b.avi",
        ]);
        assert_eq!(parse_command_line(&cmd, None), vec!["/v/b.avi".to_owned()]);
    }

    #[test]
    fn double_dash_ends_the_options() {
        let cmd = args(&["mpv", "--", "--weird-name.mkv", "-", "/v/c.mkv"]);
        assert_eq!(
            parse_command_line(&cmd, Some(Path::new("/v"))),
            vec!["/v/--weird-name.mkv".to_owned(), "/v/c.mkv".to_owned()]
        );
    }

    #[test]
    fn repeats_collapse_and_relative_paths_need_a_cwd() {
        let cmd = args(&["mpv", "a.mkv", "./a.mkv", "/v/a.mkv", "file:///v/a.mkv"]);
        assert_eq!(
            parse_command_line(&cmd, Some(Path::new("/v"))),
            vec!["/v/a.mkv".to_owned()]
        );
        assert_eq!(parse_command_line(&cmd, None), vec!["/v/a.mkv".to_owned()]);
        assert!(parse_command_line(&[], None).is_empty());
        assert!(parse_command_line(&args(&["mpv"]), None).is_empty());
    }

    /// An option as players write them, never a target.
    fn option() -> impl Strategy<Value = String> {
        prop_oneof![
            "--[a-z][a-z-]{0,12}",
            "--[a-z][a-z-]{0,12}=[a-z0-9/.]{0,10}",
            "-[a-zA-Z]",
        ]
    }

    /// A file name that is not an option, a URL, `-` or empty.
    fn file_name() -> impl Strategy<Value = String> {
        "[a-zA-Z0-9_][a-zA-Z0-9 _.%#-]{0,20}".prop_filter("not a dot entry", |name| {
            name != "." && name != ".." && !name.contains(':')
        })
    }

    proptest! {
        #[test]
        fn never_panics_and_yields_absolute_paths_or_urls(
            cmd in proptest::collection::vec("\\PC{0,30}", 0..8),
            cwd in proptest::option::of("/[a-z/]{0,10}"),
        ) {
            for target in parse_command_line(&cmd, cwd.as_deref().map(Path::new)) {
                prop_assert!(target.starts_with('/') || has_scheme(&target), "{target}");
            }
        }

        #[test]
        fn options_never_become_targets_and_files_keep_their_order(
            program in prop_oneof![Just("mpv"), Just("/usr/bin/mpv"), Just("unknown-player")],
            items in proptest::collection::vec(
                prop_oneof![option().prop_map(Err), file_name().prop_map(Ok)], 0..10),
        ) {
            let mut cmd = vec![program.to_owned()];
            cmd.extend(items.iter().map(|item| match item { Ok(f) | Err(f) => f.clone() }));
            let mut expected: Vec<String> = Vec::new();
            for name in items.iter().filter_map(|item| item.as_ref().ok()) {
                let path = normalise_path(&Path::new("/work dir").join(name))
                    .to_string_lossy().into_owned();
                if !expected.contains(&path) {
                    expected.push(path);
                }
            }
            prop_assert_eq!(parse_command_line(&cmd, Some(Path::new("/work dir"))), expected);
        }

        #[test]
        fn after_double_dash_everything_is_a_target(names in proptest::collection::vec("-?[a-z]{1,8}", 1..6)) {
            let mut cmd = vec!["vlc".to_owned(), "--".to_owned()];
            cmd.extend(names.iter().cloned());
            let found = parse_command_line(&cmd, Some(Path::new("/d")));
            let mut unique = names.clone();
            unique.dedup();
            let mut expected: Vec<String> = Vec::new();
            for name in names {
                let path = format!("/d/{name}");
                if !expected.contains(&path) {
                    expected.push(path);
                }
            }
            prop_assert_eq!(found, expected);
        }

        #[test]
        fn file_uris_decode_to_their_path(name in "[^/\u{0}]{1,20}") {
            prop_assume!(name != "." && name != "..");
            let path = format!("/home/ann/{name}");
            let uri = url::Url::from_file_path(&path).unwrap().to_string();
            let cmd = vec!["celluloid".to_owned(), uri];
            prop_assert_eq!(parse_command_line(&cmd, None), vec![path]);
        }
    }
}
