//! VLC's recent list: `[RecentsMRL] list=` in `vlc-qt-interface.conf`, written by Qt's
//! `QSettings` in its INI format (values quoted and escaped, lists joined by `, `).

/// The media resource locators (MRLs) of VLC's recent list, most recent first.
pub(crate) fn recent_mrls(conf: &str) -> Vec<String> {
    let mut in_recents = false;
    let mut lines = conf.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        if line.starts_with('[') {
            in_recents = line.trim_end() == "[RecentsMRL]";
            continue;
        }
        if !in_recents || line.starts_with(';') || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if key.trim() != "list" {
            continue;
        }
        // A value continues on the next line after a backslash that ends it.
        let mut value = value.to_owned();
        while ends_in_continuation(&value) {
            let Some(next) = lines.next() else {
                break;
            };
            value.push('\n');
            value.push_str(next);
        }
        return string_list(&value);
    }
    Vec::new()
}

/// Whether a line ends in an odd number of backslashes: an escaped line break.
fn ends_in_continuation(line: &str) -> bool {
    line.bytes().rev().take_while(|byte| *byte == b'\\').count() % 2 == 1
}

/// A `QSettings` INI value read as a list of strings: `a, "b, c", d\x20` → `a`, `b, c`, `d `.
/// Unquoted items lose their trailing spaces; `\`-escapes (C-style, `\x…` hex and octal) are
/// decoded; `@Invalid()` is the empty list.
pub(crate) fn string_list(value: &str) -> Vec<String> {
    let bytes = value.as_bytes();
    let mut items = Vec::new();
    let mut item = Item::default();
    let mut in_quotes = false;
    let mut i = skip_spaces(bytes, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => {
                i += 1;
                let Some(&escaped) = bytes.get(i) else {
                    break;
                };
                i += 1;
                match escaped {
                    b'a' => item.push_unit(0x07),
                    b'b' => item.push_unit(0x08),
                    b'f' => item.push_unit(0x0c),
                    b'n' => item.push_unit(u16::from(b'\n')),
                    b'r' => item.push_unit(u16::from(b'\r')),
                    b't' => item.push_unit(u16::from(b'\t')),
                    b'v' => item.push_unit(0x0b),
                    b'"' | b'?' | b'\'' | b'\\' => item.push_unit(u16::from(escaped)),
                    b'x' => {
                        let digits = bytes[i..]
                            .iter()
                            .take_while(|byte| byte.is_ascii_hexdigit())
                            .count();
                        if digits > 0 {
                            let mut unit: u16 = 0;
                            for byte in &bytes[i..i + digits] {
                                let digit = char::from(*byte).to_digit(16).unwrap_or(0) as u16;
                                unit = unit.wrapping_shl(4).wrapping_add(digit);
                            }
                            item.push_unit(unit);
                            i += digits;
                        }
                    }
                    b'0'..=b'7' => {
                        let mut unit = u16::from(escaped - b'0');
                        while let Some(&digit @ b'0'..=b'7') = bytes.get(i) {
                            unit = unit.wrapping_shl(3).wrapping_add(u16::from(digit - b'0'));
                            i += 1;
                        }
                        item.push_unit(unit);
                    }
                    b'\n' | b'\r' => {
                        // A line break after a backslash continues the value; `\r\n` counts once.
                        if let Some(&next) = bytes.get(i)
                            && (next == b'\n' || next == b'\r')
                            && next != escaped
                        {
                            i += 1;
                        }
                    }
                    _ => {
                        // An unknown escape drops the character, all of it.
                        while bytes.get(i).is_some_and(|byte| byte & 0xc0 == 0x80) {
                            i += 1;
                        }
                    }
                }
                item.keep_spaces();
            }
            b'"' => {
                i += 1;
                item.quoted = true;
                in_quotes = !in_quotes;
                if !in_quotes {
                    i = skip_spaces(bytes, i);
                }
                item.keep_spaces();
            }
            b',' if !in_quotes => {
                items.push(std::mem::take(&mut item).finish());
                i = skip_spaces(bytes, i + 1);
            }
            _ => {
                let run = bytes[i + 1..]
                    .iter()
                    .position(|byte| matches!(byte, b'\\' | b'"' | b','))
                    .map_or(bytes.len(), |end| i + 1 + end);
                item.push_text(&value[i..run]);
                i = run;
            }
        }
    }
    let last = item.finish();
    if items.is_empty() && last == "@Invalid()" {
        return Vec::new();
    }
    items.push(last);
    items
        .into_iter()
        .map(|item| match item.strip_prefix("@@") {
            Some(rest) => format!("@{rest}"),
            None => item,
        })
        .collect()
}

/// The index of the first byte at or after `i` that is not a space or a tab.
fn skip_spaces(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// One list item being read, in UTF-16 as `QSettings` escapes code units.
#[derive(Default)]
struct Item {
    units: Vec<u16>,
    /// Trailing spaces before this length are kept (they were escaped or quoted).
    keep: usize,
    quoted: bool,
}

impl Item {
    fn push_unit(&mut self, unit: u16) {
        self.units.push(unit);
    }

    fn push_text(&mut self, text: &str) {
        self.units.extend(text.encode_utf16());
    }

    fn keep_spaces(&mut self) {
        self.keep = self.units.len();
    }

    fn finish(mut self) -> String {
        if !self.quoted {
            while self.units.len() > self.keep
                && matches!(self.units.last(), Some(&unit) if unit == 0x20 || unit == 0x09)
            {
                self.units.pop();
            }
        }
        String::from_utf16_lossy(&self.units)
    }
}

/// The entries of `now` played since the list was `before`: the ones ahead of the entry that
/// was first before (VLC moves an entry played again to the front), or, when that one is gone,
/// the ones ahead of the first entry already known.
pub(crate) fn played_since<'a>(before: &[String], now: &'a [String]) -> &'a [String] {
    let Some(first) = before.first() else {
        return now;
    };
    let end = now
        .iter()
        .position(|mrl| mrl == first)
        .or_else(|| now.iter().position(|mrl| before.contains(mrl)))
        .unwrap_or(now.len());
    &now[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|item| (*item).to_owned()).collect()
    }

    #[test]
    fn the_recent_list_is_read_from_its_section() {
        let conf = "[General]\nlist=file:///not/this.mkv\n\n[RecentsMRL]\n\
            list=file:///home/ann/b%20c.mkv, \"https://example.org/v?a=1,2\", file:///home/ann/a.mp4\n\
            times=0, 0, 125000\n";
        assert_eq!(
            recent_mrls(conf),
            strings(&[
                "file:///home/ann/b%20c.mkv",
                "https://example.org/v?a=1,2",
                "file:///home/ann/a.mp4"
            ])
        );
        assert!(recent_mrls("[RecentsMRL]\nlist=@Invalid()\n").is_empty());
        assert!(recent_mrls("").is_empty());
        assert_eq!(
            recent_mrls("[RecentsMRL]\nlist=file:///one.mkv\n"),
            strings(&["file:///one.mkv"])
        );
    }

    #[test]
    fn qsettings_escapes_are_decoded() {
        assert_eq!(
            string_list(r#"a\x20, "b ", c  "#),
            strings(&["a ", "b ", "c"])
        );
        assert_eq!(string_list(r"caf\xe9"), strings(&["café"]));
        assert_eq!(string_list(r"\xd83d\xde00"), strings(&["😀"]));
        assert_eq!(string_list(r#"say \"hi\"\\"#), strings(&["say \"hi\"\\"]));
        assert_eq!(string_list(r"\101\102"), strings(&["AB"]));
        assert_eq!(string_list("@@at"), strings(&["@at"]));
        assert_eq!(string_list("one, \\\ntwo"), strings(&["one", "two"]));
    }

    #[test]
    fn a_value_continues_after_a_trailing_backslash() {
        let conf = "[RecentsMRL]\nlist=file:///a.mkv, \\\nfile:///b.mkv\ntimes=0\n";
        assert_eq!(
            recent_mrls(conf),
            strings(&["file:///a.mkv", "file:///b.mkv"])
        );
    }

    #[test]
    fn new_and_replayed_entries_are_the_ones_played_since() {
        let before = strings(&["a", "b", "c"]);
        assert!(played_since(&before, &before).is_empty());
        assert_eq!(
            played_since(&before, &strings(&["x", "y", "a", "b"])),
            ["x", "y"]
        );
        assert_eq!(played_since(&before, &strings(&["c", "a", "b"])), ["c"]);
        assert_eq!(played_since(&[], &strings(&["a"])), ["a"]);
        assert_eq!(played_since(&before, &strings(&["z", "b", "c"])), ["z"]);
        assert!(played_since(&before, &[]).is_empty());
    }

    /// Writes a list as `QSettings` does, for the round trip.
    fn escape(items: &[String]) -> String {
        items
            .iter()
            .map(|item| {
                let mut out = String::new();
                let mut quote = false;
                for c in item.chars() {
                    match c {
                        '"' | '\\' => {
                            out.push('\\');
                            out.push(c);
                        }
                        '\n' => out.push_str("\\n"),
                        ',' | ';' | '=' => {
                            quote = true;
                            out.push(c);
                        }
                        c => out.push(c),
                    }
                }
                if quote || item.starts_with(' ') || item.ends_with(' ') {
                    format!("\"{out}\"")
                } else {
                    out
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    proptest! {
        #[test]
        fn any_value_reads_without_panic(value in "\\PC{0,80}") {
            let _ = string_list(&value);
            let _ = recent_mrls(&format!("[RecentsMRL]\nlist={value}\n"));
        }

        #[test]
        fn written_lists_read_back(items in proptest::collection::vec("[a-zA-Z0-9 ,;=\"\\\\/:%.é]{1,16}", 2..6)) {
            prop_assume!(items.iter().all(|item| !item.starts_with('@')));
            prop_assert_eq!(string_list(&escape(&items)), items);
        }
    }
}
