//! Core's modules form layers: no module reaches, through the modules it uses, back to itself.
//!
//! Read from the source: every `crate::module` a top-level module's files name (outside their
//! tests and comments) is an edge from that module to the other; the test fails on any cycle, naming it.

#![allow(clippy::unwrap_used)] // tests fail loudly by design

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`, but test files.
fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs")
            && !path
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .ends_with("tests")
        {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src` belongs to (`lib` for `lib.rs`).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The top-level modules named after `crate::` in `code`, including the groups of
/// `use crate::{a::X, b};`.
fn named_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Names at the group's first level, each up to `::`, `,` or the closing brace.
            let mut depth = 0;
            let mut name = String::new();
            let mut taking = true;
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        if !name.is_empty() {
                            found.insert(std::mem::take(&mut name));
                        }
                        taking = true;
                        continue;
                    }
                    _ => {}
                }
                if depth == 0 && taking {
                    if c.is_alphanumeric() || c == '_' {
                        name.push(c);
                        continue;
                    }
                    if !name.is_empty() {
                        found.insert(std::mem::take(&mut name));
                        taking = false;
                    }
                }
            }
            if !name.is_empty() {
                found.insert(name);
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

/// Each module's edges to the other top-level modules of `src`.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    sources(src, &mut files);
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(src, f)).collect();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        // A file's tests come last, after `#[cfg(test)]`: they may reach anywhere.
        let code: String = text
            .split("\n#[cfg(test)]")
            .next()
            .unwrap()
            .lines()
            // Comments may name any module.
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        let from = module_of(src, file);
        let to = edges.entry(from.clone()).or_default();
        for name in named_modules(&code) {
            if name != from && modules.contains(&name) {
                to.insert(name);
            }
        }
    }
    edges
}

/// A cycle through `start`, if there is one: the modules in order, `start` first and last.
fn cycle_through(edges: &BTreeMap<String, BTreeSet<String>>, start: &str) -> Option<Vec<String>> {
    fn walk(
        edges: &BTreeMap<String, BTreeSet<String>>,
        start: &str,
        path: &mut Vec<String>,
        seen: &mut BTreeSet<String>,
    ) -> bool {
        let here = path.last().unwrap().clone();
        for next in edges.get(&here).into_iter().flatten() {
            if next == start {
                path.push(next.clone());
                return true;
            }
            if seen.insert(next.clone()) {
                path.push(next.clone());
                if walk(edges, start, path, seen) {
                    return true;
                }
                path.pop();
            }
        }
        false
    }
    let mut path = vec![start.to_string()];
    walk(edges, start, &mut path, &mut BTreeSet::new()).then_some(path)
}

#[test]
fn the_group_syntax_is_read() {
    let names = named_modules(
        "use crate::{contact::{A, B}, view, store::X};\nlet _ = crate::error::ErrorCode::Busy;",
    );
    let expected: BTreeSet<String> = ["contact", "view", "store", "error"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(names, expected);
}

#[test]
fn the_cycle_search_finds_a_cycle_it_is_shown() {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    edges.entry("a".into()).or_default().insert("b".into());
    edges.entry("b".into()).or_default().insert("c".into());
    edges.entry("c".into()).or_default().insert("a".into());
    assert_eq!(
        cycle_through(&edges, "a").unwrap(),
        ["a", "b", "c", "a"].map(String::from)
    );
    edges.get_mut("c").unwrap().clear();
    assert_eq!(cycle_through(&edges, "a"), None);
}

#[test]
fn core_has_no_import_cycle_between_its_modules() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let edges = graph(&src);
    // The reading is live: the engine does use the store, and the store does not use the engine.
    assert!(edges["engine"].contains("store"), "{edges:?}");
    assert!(!edges["store"].contains("engine"), "{edges:?}");
    let cycles: Vec<String> = edges
        .keys()
        .filter_map(|m| cycle_through(&edges, m))
        .map(|c| c.join(" -> "))
        .collect();
    assert!(cycles.is_empty(), "import cycles in core: {cycles:#?}");
    // The two modules everything reports through sit low: nothing they use uses them.
    for low in ["error", "event"] {
        for used in &edges[low] {
            assert!(
                !edges[used].contains(low),
                "{low} and {used} use each other"
            );
        }
    }
}
