//! What a snapshot keeps of a page's HTML: metadata from the HTML5 parser's tree, the readable
//! text from a readability.js port, the candidate preview images.

use dom_query::Document;
use dom_smoothie::{Readability, TextMode};
use url::Url;

use super::text;

/// The text fields and image candidates found in a page.
#[derive(Debug, Default)]
pub(super) struct Content {
    pub(super) title: Option<String>,
    pub(super) description: Option<String>,
    pub(super) site_name: Option<String>,
    pub(super) language: Option<String>,
    pub(super) excerpt: Option<String>,
    /// Preview image addresses, best first: the page's declared images, then its largest icon.
    pub(super) images: Vec<Url>,
}

/// Reads the page (blocking: parsing a large page takes a while).
pub(super) fn read(html: &str, base: &Url) -> Content {
    let document = Document::from(html);
    let title = meta(&document, &["og:title", "twitter:title"])
        .and_then(|value| text::line(&value, text::MAX_TITLE))
        .or_else(|| {
            let title = document.select("head title").first();
            let title = if title.exists() {
                title
            } else {
                document.select("title").first()
            };
            text::line(&title.text(), text::MAX_TITLE)
        });
    let description = meta(&document, &["og:description"])
        .or_else(|| meta(&document, &["description"]))
        .or_else(|| meta(&document, &["twitter:description"]))
        .and_then(|value| text::line(&value, text::MAX_DESCRIPTION));
    let site_name = meta(&document, &["og:site_name"])
        .and_then(|value| text::line(&value, text::MAX_SITE_NAME));
    let language = document
        .select("html")
        .attr("lang")
        .and_then(|lang| text::language_tag(&lang));

    let mut images: Vec<Url> = meta_all(
        &document,
        &["og:image", "og:image:url", "og:image:secure_url"],
    )
    .into_iter()
    .chain(meta_all(&document, &["twitter:image", "twitter:image:src"]))
    .filter_map(|href| resolve(base, &href))
    .collect();
    images.dedup();
    images.truncate(2);
    if let Some(icon) = largest_icon(&document, base) {
        images.push(icon);
    }

    let excerpt = readable_text(document, base).and_then(|text| text::excerpt(&text));

    Content {
        title,
        description,
        site_name,
        language,
        excerpt,
        images,
    }
}

/// The first `<meta>` whose `property` or `name` is one of `keys` (case-insensitively), in
/// document order.
fn meta(document: &Document, keys: &[&str]) -> Option<String> {
    meta_all(document, keys).into_iter().next()
}

fn meta_all(document: &Document, keys: &[&str]) -> Vec<String> {
    document
        .select("meta[content]")
        .iter()
        .filter(|node| {
            let named = |attribute: &str| {
                node.attr(attribute).is_some_and(|value| {
                    keys.iter()
                        .any(|key| value.trim().eq_ignore_ascii_case(key))
                })
            };
            named("property") || named("name")
        })
        .filter_map(|node| node.attr("content").map(|content| content.to_string()))
        .filter(|content| !content.trim().is_empty())
        .collect()
}

/// An address from the page, resolved against the page's final address; only `http` and
/// `https` addresses are kept (`javascript:`, `data:` and the like are dropped).
fn resolve(base: &Url, href: &str) -> Option<Url> {
    let url = base.join(href.trim()).ok()?;
    matches!(url.scheme(), "http" | "https").then_some(url)
}

/// The largest raster icon the page declares (`<link rel="icon">`, `apple-touch-icon`), by its
/// `sizes`; vector icons are skipped, as the image decoder reads raster formats only.
fn largest_icon(document: &Document, base: &Url) -> Option<Url> {
    document
        .select("link[rel][href]")
        .iter()
        .filter_map(|node| {
            let rel = node.attr("rel")?.to_ascii_lowercase();
            let tokens: Vec<&str> = rel.split_ascii_whitespace().collect();
            let touch = tokens
                .iter()
                .any(|t| matches!(*t, "apple-touch-icon" | "apple-touch-icon-precomposed"));
            if !touch && !tokens.contains(&"icon") {
                return None;
            }
            let kind = node.attr("type").map(|t| t.to_ascii_lowercase());
            if kind.is_some_and(|kind| kind.contains("svg")) {
                return None;
            }
            let url = resolve(base, &node.attr("href")?)?;
            if url.path().to_ascii_lowercase().ends_with(".svg") {
                return None;
            }
            let declared = node.attr("sizes").map(|sizes| {
                sizes
                    .split_ascii_whitespace()
                    .filter_map(|size| {
                        let size = size.to_ascii_lowercase();
                        let (w, h) = size.split_once('x')?;
                        Some(w.parse::<u32>().ok()?.max(h.parse::<u32>().ok()?))
                    })
                    .max()
            });
            let size = match declared {
                // `sizes="any"` marks a scalable icon.
                Some(None) => return None,
                Some(Some(size)) => size,
                // Apple's touch icons are 180 px when unsized; plain icons are often 16 px.
                None if touch => 180,
                None => 16,
            };
            Some((size, url))
        })
        .max_by_key(|(size, _)| *size)
        .map(|(_, url)| url)
}

/// The article's readable text with paragraphs on their own lines: readability.js's extraction
/// (which drops scripts, navigation and boilerplate), else the text of the page's paragraphs.
fn readable_text(document: Document, base: &Url) -> Option<String> {
    document.select(text::HIDDEN).remove();
    let fallback = paragraphs(&document);
    let config = dom_smoothie::Config {
        text_mode: TextMode::Formatted,
        disable_json_ld: true,
        ..Default::default()
    };
    let article = Readability::with_document(document, Some(base.as_str()), Some(config))
        .and_then(|mut readability| readability.parse());
    match article {
        Ok(article) if !article.text_content.trim().is_empty() => {
            Some(article.text_content.to_string())
        }
        Ok(_) => fallback,
        Err(error) => {
            tracing::debug!(%error, "no readable article; using the page's paragraphs");
            fallback
        }
    }
}

/// The text of the page's `<p>` elements, else of its body, one paragraph a line.
fn paragraphs(document: &Document) -> Option<String> {
    let found: Vec<String> = document
        .select("body p")
        .iter()
        .map(|p| p.text().to_string())
        .filter(|p| !p.trim().is_empty())
        .collect();
    if !found.is_empty() {
        return Some(found.join("\n"));
    }
    let body = document.select("body").formatted_text();
    (!body.trim().is_empty()).then(|| body.to_string())
}
