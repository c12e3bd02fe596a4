//! Plain text out of a page's fields: no markup, no control characters, whitespace collapsed,
//! bounded length.

/// Elements whose text is never shown: code, styles and embedded documents.
pub(super) const HIDDEN: &str =
    "script, style, noscript, template, iframe, object, embed, svg, math";

/// Longest title kept, in characters.
pub(super) const MAX_TITLE: usize = 300;
/// Longest description kept, in characters.
pub(super) const MAX_DESCRIPTION: usize = 1000;
/// Longest site name kept, in characters.
pub(super) const MAX_SITE_NAME: usize = 100;
/// Longest excerpt kept, in characters.
pub(super) const MAX_EXCERPT: usize = 1500;
/// Most paragraphs in an excerpt.
pub(super) const MAX_PARAGRAPHS: usize = 6;

/// One line of plain text from a value that may hold markup (an attribute such as
/// `og:title="<b>Hi</b>"`, or an element's text): tags are parsed away by the HTML parser, with
/// whatever scripts and styles they held; control characters go, whitespace collapses, and the
/// result is cut to `max` characters. `None` when nothing is left.
pub(super) fn line(value: &str, max: usize) -> Option<String> {
    let text = if value.contains('<') {
        let fragment = dom_query::Document::fragment(value);
        fragment.select(HIDDEN).remove();
        fragment.root().text().to_string()
    } else {
        value.to_owned()
    };
    let collapsed = collapse(&text);
    (!collapsed.is_empty()).then(|| cut(&collapsed, max))
}

/// Removes control and invisible formatting characters (bidirectional overrides, zero-width
/// characters, byte order marks), keeps words apart with single spaces, and trims.
pub(super) fn collapse(text: &str) -> String {
    let visible: String = text
        .chars()
        .filter_map(|c| {
            if c.is_whitespace() {
                Some(' ')
            } else if c.is_control() || is_invisible_format(c) {
                None
            } else {
                Some(c)
            }
        })
        .collect();
    visible.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{FFF9}'..='\u{FFFB}'
    )
}

/// At most `max` characters: at the last sentence end when there is one in the second half,
/// else at the last space with an ellipsis.
pub(super) fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    if let Some(sentences) = sentence_cut(text, max) {
        return sentences;
    }
    let head: String = text.chars().take(max.saturating_sub(1)).collect();
    let kept = match head.rfind(' ') {
        Some(space) if head[..space].chars().count() >= max / 2 => &head[..space],
        _ => &head,
    };
    format!("{}…", kept.trim_end())
}

/// The longest run of whole sentences within `max` characters, if it reaches half of `max`.
fn sentence_cut(text: &str, max: usize) -> Option<String> {
    let head: String = text.chars().take(max).collect();
    let mut end = None;
    let mut chars = head.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let closes = match c {
            '。' | '！' | '？' => true,
            '.' | '!' | '?' => chars.peek().is_none_or(|(_, next)| *next == ' '),
            _ => false,
        };
        if closes {
            end = Some(at + c.len_utf8());
        }
    }
    let end = end?;
    (head[..end].chars().count() >= max / 2).then(|| head[..end].to_owned())
}

/// A few paragraphs of plain text: each paragraph collapsed to one line, paragraphs joined by a
/// blank line, whole paragraphs while they fit in [`MAX_EXCERPT`] characters; a first paragraph
/// that is longer is cut at a sentence end, a later one only when a sentence of it fits.
pub(super) fn excerpt(text: &str) -> Option<String> {
    let mut kept: Vec<String> = Vec::new();
    let mut used = 0;
    for paragraph in text.split('\n').map(collapse).filter(|p| !p.is_empty()) {
        if kept.len() == MAX_PARAGRAPHS {
            break;
        }
        let separator = if kept.is_empty() { 0 } else { 2 };
        let length = paragraph.chars().count();
        if used + separator + length <= MAX_EXCERPT {
            used += separator + length;
            kept.push(paragraph);
            continue;
        }
        if kept.is_empty() {
            kept.push(cut(&paragraph, MAX_EXCERPT));
        } else if let Some(sentences) = sentence_cut(&paragraph, MAX_EXCERPT - used - separator) {
            kept.push(sentences);
        }
        break;
    }
    (!kept.is_empty()).then(|| kept.join("\n\n"))
}

/// A language tag such as `en`, `zh-CN` or `de-CH-1996`, or `None` for anything else.
pub(super) fn language_tag(value: &str) -> Option<String> {
    let tag = value.trim();
    let mut parts = tag.split('-');
    let primary = parts.next()?;
    let primary_ok =
        (1..=8).contains(&primary.len()) && primary.chars().all(|c| c.is_ascii_alphabetic());
    let rest_ok = parts.all(|part| {
        (1..=8).contains(&part.len()) && part.chars().all(|c| c.is_ascii_alphanumeric())
    });
    (primary_ok && rest_ok && tag.len() <= 35).then(|| tag.to_owned())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn markup_in_a_value_is_parsed_away() {
        assert_eq!(line("<b>Bold</b> claim", 100).unwrap(), "Bold claim");
        assert_eq!(
            line("Hi<script>alert('x')</script> there<style>p{}</style>", 100).unwrap(),
            "Hi there"
        );
        assert_eq!(line("<img src=x onerror=alert(1)>", 100), None);
        assert_eq!(line("a < b and c > d", 100).unwrap(), "a < b and c > d");
    }

    #[test]
    fn control_and_invisible_characters_go() {
        assert_eq!(
            line("a\u{0}b\u{7}c\u{1b}[31m\u{202e}d\u{200b}e\u{9f}", 100).unwrap(),
            "abc[31mde"
        );
        assert_eq!(
            line("  many \t\n\r spaces\u{a0} here ", 100).unwrap(),
            "many spaces here"
        );
        assert_eq!(line(" \u{200b} ", 100), None);
    }

    #[test]
    fn cut_prefers_sentences_then_words() {
        let text = "First sentence here. Second one follows! Third is long and goes on and on";
        assert_eq!(cut(text, 50), "First sentence here. Second one follows!");
        assert_eq!(cut("word ".repeat(30).trim(), 22), "word word word word…");
        assert_eq!(cut("short", 22), "short");
        assert_eq!(
            cut("第一句。第二句很长很长很长很长", 10),
            "第一句。第二句很长…"
        );
        assert_eq!(
            cut("第一句话。第二句。第三句很长很长", 12),
            "第一句话。第二句。"
        );
    }

    #[test]
    fn excerpt_keeps_whole_paragraphs_within_the_limit() {
        let paragraph = "A sentence that is here. ".repeat(10);
        let text = format!(
            "{paragraph}\n\n\n{paragraph}\n{paragraph}\n{paragraph}\n{paragraph}\n{paragraph}\n{paragraph}"
        );
        let excerpt = excerpt(&text).unwrap();
        let paragraphs: Vec<&str> = excerpt.split("\n\n").collect();
        assert!(excerpt.chars().count() <= MAX_EXCERPT);
        assert!(paragraphs.len() >= 5, "{}", paragraphs.len());
        assert!(paragraphs.iter().all(|p| p.ends_with("here.")));
    }

    #[test]
    fn a_long_first_paragraph_is_cut_at_a_sentence() {
        let text = "One more sentence. ".repeat(200);
        let excerpt = excerpt(&text).unwrap();
        assert!(excerpt.chars().count() <= MAX_EXCERPT);
        assert!(excerpt.ends_with("sentence."));
    }

    #[test]
    fn language_tags() {
        assert_eq!(language_tag(" zh-CN ").unwrap(), "zh-CN");
        assert_eq!(language_tag("de-CH-1996").unwrap(), "de-CH-1996");
        assert_eq!(language_tag("en\"><script>"), None);
        assert_eq!(language_tag(""), None);
        assert_eq!(language_tag("x".repeat(40).as_str()), None);
    }
}
