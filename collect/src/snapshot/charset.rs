//! The page's character encoding: byte order mark, then the `Content-Type` header, then
//! `<meta charset>` / `<meta http-equiv>`, then UTF-8 when the bytes are UTF-8, else
//! Windows-1252 — the order of the HTML standard's encoding sniffing, decoded by `encoding_rs`.

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252, X_USER_DEFINED};

/// How many bytes the `<meta>` prescan looks at. The standard says 1 024; pages with long heads
/// put the declaration later, so a few more are read.
const PRESCAN_BYTES: usize = 4096;

/// Decodes the page's bytes into text with the encoding it declares, or the best guess.
pub(super) fn decode(bytes: &[u8], content_type: Option<&str>) -> String {
    let (encoding, skip) = detect(bytes, content_type);
    let (text, _had_errors) = encoding.decode_without_bom_handling(&bytes[skip..]);
    text.into_owned()
}

/// The encoding, and how many bytes of byte order mark to skip.
fn detect(bytes: &[u8], content_type: Option<&str>) -> (&'static Encoding, usize) {
    if let Some((encoding, bom)) = Encoding::for_bom(bytes) {
        return (encoding, bom);
    }
    if let Some(encoding) = content_type.and_then(charset_param) {
        return (encoding, 0);
    }
    if let Some(encoding) = prescan(&bytes[..bytes.len().min(PRESCAN_BYTES)]) {
        return (encoding, 0);
    }
    (fallback(bytes), 0)
}

/// The encoding named by a media type's `charset` parameter.
fn charset_param(media_type: &str) -> Option<&'static Encoding> {
    let mime: mime::Mime = media_type.trim().parse().ok()?;
    let label = mime.get_param(mime::CHARSET)?;
    Encoding::for_label(label.as_str().trim().as_bytes())
}

/// Looks for the encoding declared in the document's first bytes, with the HTML parser: the
/// bytes are read as Windows-1252 (every byte maps to a character, and ASCII stays ASCII, which
/// is all a declaration uses).
fn prescan(head: &[u8]) -> Option<&'static Encoding> {
    let (text, _) = WINDOWS_1252.decode_without_bom_handling(head);
    let document = dom_query::Document::from(text.as_ref());
    for meta in document.select("meta").iter() {
        let declared = if let Some(label) = meta.attr("charset") {
            Encoding::for_label(label.trim().as_bytes())
        } else if meta
            .attr("http-equiv")
            .is_some_and(|value| value.trim().eq_ignore_ascii_case("content-type"))
        {
            meta.attr("content")
                .and_then(|content| charset_param(&content))
        } else {
            None
        };
        if let Some(encoding) = declared {
            // A page cannot declare itself UTF-16 in ASCII bytes: the standard reads UTF-8 then.
            return Some(if encoding == UTF_16BE || encoding == UTF_16LE {
                UTF_8
            } else if encoding == X_USER_DEFINED {
                WINDOWS_1252
            } else {
                encoding
            });
        }
    }
    None
}

/// UTF-8 when the bytes are valid UTF-8 (a sequence cut by the size limit at the very end
/// included), else Windows-1252, the web's historical default.
fn fallback(bytes: &[u8]) -> &'static Encoding {
    match std::str::from_utf8(bytes) {
        Ok(_) => UTF_8,
        Err(error) if error.error_len().is_none() => UTF_8,
        Err(_) => WINDOWS_1252,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use encoding_rs::{GBK, SHIFT_JIS};

    use super::*;

    fn page(head: &str, body: &str) -> String {
        format!(
            "<!doctype html><html><head>{head}<title>t</title></head><body>{body}</body></html>"
        )
    }

    #[test]
    fn byte_order_mark_wins() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice(page(r#"<meta charset="gbk">"#, "é").as_bytes());
        assert_eq!(
            detect(&bytes, Some("text/html; charset=windows-1252")),
            (UTF_8, 3)
        );
        assert!(decode(&bytes, None).starts_with("<!doctype"));
    }

    #[test]
    fn header_comes_before_meta() {
        let html = page(r#"<meta charset="utf-8">"#, "");
        assert_eq!(
            detect(html.as_bytes(), Some("text/html; charset=Shift_JIS")),
            (SHIFT_JIS, 0)
        );
        assert_eq!(
            detect(html.as_bytes(), Some(r#"text/html;charset="gbk""#)),
            (GBK, 0)
        );
    }

    #[test]
    fn meta_charset_and_http_equiv() {
        let charset = page(r#"<meta charset="GBK">"#, "");
        assert_eq!(detect(charset.as_bytes(), Some("text/html")), (GBK, 0));
        let equiv = page(
            r#"<meta http-equiv="Content-Type" content="text/html; charset=shift_jis">"#,
            "",
        );
        assert_eq!(detect(equiv.as_bytes(), None), (SHIFT_JIS, 0));
        let utf16 = page(r#"<meta charset="utf-16le">"#, "");
        assert_eq!(detect(utf16.as_bytes(), None), (UTF_8, 0));
    }

    #[test]
    fn gbk_declared_in_meta_decodes() {
        let html = page(r#"<meta charset="gbk">"#, "中文网页");
        let (bytes, _, _) = GBK.encode(&html);
        assert!(std::str::from_utf8(&bytes).is_err());
        assert!(decode(&bytes, Some("text/html")).contains("中文网页"));
    }

    #[test]
    fn without_declaration_utf8_or_windows_1252() {
        let utf8 = page("", "naïve – ok");
        assert_eq!(detect(utf8.as_bytes(), None), (UTF_8, 0));
        // Cut inside a multi-byte character by the size limit: still UTF-8.
        let cut = &utf8.as_bytes()[..utf8.find('ï').unwrap() + 1];
        assert_eq!(detect(cut, None), (UTF_8, 0));
        let latin1 = b"<html><body>na\xefve</body></html>";
        assert_eq!(detect(latin1, None), (WINDOWS_1252, 0));
        assert_eq!(decode(latin1, None), "<html><body>naïve</body></html>");
    }

    #[test]
    fn a_declaration_past_the_prescan_is_not_seen() {
        let html = format!(
            "<html><head><!--{}--><meta charset=gbk></head></html>",
            "x".repeat(PRESCAN_BYTES)
        );
        assert_eq!(detect(html.as_bytes(), None), (UTF_8, 0));
    }
}
