//! Link snapshots: what a link entry shows instead of the page itself.
//!
//! When the author posts a link, [`take`] fetches the page once, on the author's device, and keeps
//! plain text fields and a re-encoded preview image. The viewer reads the snapshot and never
//! contacts the site.
//!
//! The fetch is bounded and guarded:
//! - only `http` and `https` links, at most 4 096 characters, without a user name or password
//!   ([`check_url`], also usable before posting);
//! - the host is resolved here and every address checked: loopback, private, link-local, CGNAT,
//!   unique-local, multicast, unspecified and reserved addresses are refused, IP-literal links
//!   included, and the connection goes only to the addresses that were checked;
//! - at most [`SnapshotConfig::max_redirects`] redirects, each checked again like the first link;
//! - one deadline, [`SnapshotConfig::timeout`], for everything (redirects and the image too);
//! - at most [`SnapshotConfig::max_html`] bytes of HTML and [`SnapshotConfig::max_image`] bytes of
//!   image are read, counted after decompression; `Content-Length` is never trusted.
//!
//! A page longer than `max_html` still gives a snapshot, from its first `max_html` bytes (the HTML
//! parser copes with a cut document), and [`Snapshot::truncated`] says so. A body that does not
//! arrive within the deadline gives [`SnapshotError::Timeout`].
//!
//! Nothing of the page's markup survives: every field is plain text (no tags, no control
//! characters, whitespace collapsed) and the image is decoded and encoded again, which drops its
//! metadata.

mod charset;
mod fetch;
mod guard;
mod link;
mod page;
mod preview;
mod text;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use tokio::time::Instant;

pub use link::check_url;

/// Longest link accepted, in characters.
pub const MAX_URL_CHARS: usize = 4096;

/// Limits and permissions for one snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotConfig {
    /// Allow private and local addresses (loopback, 10/8, 172.16/12, 192.168/16, CGNAT, link-local,
    /// unique-local), for people who link to pages on their own network. Unroutable addresses
    /// (unspecified, multicast, broadcast, reserved, documentation) stay refused, and so do
    /// schemes other than `http` and `https`.
    pub allow_private: bool,
    /// Exact socket addresses allowed even when [`allow_private`](Self::allow_private) is off.
    ///
    /// The engine leaves this empty. Tests list the loopback server they run, so that the guard
    /// can be seen refusing every *other* private address, on the first request and on redirects,
    /// over real sockets.
    pub allowed_sockets: Vec<SocketAddr>,
    /// One deadline for the whole snapshot: resolving, redirects, the page and the image.
    pub timeout: Duration,
    /// Most bytes of HTML read (after decompression); the rest of the page is not read.
    pub max_html: usize,
    /// Most bytes of image read (after decompression); a larger image is left out.
    pub max_image: usize,
    /// Most redirects followed, for the page and for the image each.
    pub max_redirects: u8,
    /// Longest side of the preview image, in pixels; larger images are scaled down.
    pub max_side: u32,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        Self {
            allow_private: false,
            allowed_sockets: Vec::new(),
            timeout: Duration::from_secs(10),
            max_html: 1024 * 1024,
            max_image: 5 * 1024 * 1024,
            max_redirects: 5,
            max_side: 1280,
        }
    }
}

/// What a link entry keeps of a page: plain text and a re-encoded image, nothing else.
#[derive(Debug)]
pub struct Snapshot {
    /// The address the page was finally read from, after redirects.
    pub final_url: String,
    /// `og:title`, else the document's `<title>`.
    pub title: Option<String>,
    /// `og:description`, else `<meta name="description">`.
    pub description: Option<String>,
    /// `og:site_name`, else the host of [`final_url`](Self::final_url).
    pub site_name: Option<String>,
    /// A few paragraphs of the article's readable text (about 1 500 characters at most, cut at a
    /// paragraph or sentence end), paragraphs separated by a blank line.
    pub excerpt: Option<String>,
    /// The page's language tag: `<html lang>`, else the `Content-Language` header.
    pub language: Option<String>,
    /// The preview image: `og:image` (or `twitter:image`), else the largest icon.
    pub image: Option<PreviewImage>,
    /// Why the page's preview image was left out, when it named one that could not be used. The
    /// rest of the snapshot is complete regardless.
    pub image_error: Option<ImageError>,
    /// True when the page was longer than [`SnapshotConfig::max_html`] and only its beginning was
    /// read.
    pub truncated: bool,
}

/// A preview image, decoded and encoded again: no metadata survives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewImage {
    /// The encoded image.
    pub bytes: Vec<u8>,
    /// `image/jpeg` for opaque images, `image/png` for images with transparency.
    pub mime: String,
    /// Width in pixels, at most [`SnapshotConfig::max_side`].
    pub width: u32,
    /// Height in pixels, at most [`SnapshotConfig::max_side`].
    pub height: u32,
}

/// Why a link got no snapshot. The engine posts a plain link entry with this message instead.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The text is not a link at all.
    #[error("this is not a valid link: {0}")]
    InvalidUrl(#[from] url::ParseError),
    /// Only `http` and `https` links get a snapshot.
    #[error("only http and https links get a snapshot, not {scheme}: links")]
    UnsupportedScheme {
        /// The link's scheme.
        scheme: String,
    },
    /// The link is longer than [`MAX_URL_CHARS`].
    #[error("the link is {chars} characters long; links over {max} characters get no snapshot")]
    UrlTooLong {
        /// The link's length in characters.
        chars: usize,
        /// The limit.
        max: usize,
    },
    /// The link carries a user name or password.
    #[error("links with a user name or password get no snapshot")]
    Credentials,
    /// The link has no host to connect to.
    #[error("the link names no host")]
    NoHost,
    /// The host is, or resolves to, an address that is refused.
    #[error("{}", refused_message(host, addr, *kind))]
    RefusedAddress {
        /// The host as written in the link.
        host: String,
        /// The refused address.
        addr: IpAddr,
        /// What kind of address it is.
        kind: AddressKind,
    },
    /// The host name could not be resolved.
    #[error("could not look up {host}: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        source: std::io::Error,
    },
    /// The host name resolved to no address.
    #[error("{host} has no address")]
    NoAddress {
        /// The host name.
        host: String,
    },
    /// The snapshot took longer than [`SnapshotConfig::timeout`].
    #[error("the page did not arrive within {} s", .after.as_secs_f32())]
    Timeout {
        /// The deadline that passed.
        after: Duration,
    },
    /// More redirects than [`SnapshotConfig::max_redirects`].
    #[error("the page redirects more than {max} times")]
    TooManyRedirects {
        /// The limit.
        max: u8,
    },
    /// A redirect without a usable `Location`.
    #[error("the site sent a redirect without a valid target")]
    BadRedirect,
    /// The server answered with an error status.
    #[error("the site answered {status}")]
    Status {
        /// The HTTP status code.
        status: u16,
    },
    /// The page is not HTML: the link entry names the type and size instead.
    #[error("not a web page: {mime}{}", .size.map(|s| format!(", {s} bytes")).unwrap_or_default())]
    NotHtml {
        /// The media type the server declared (`application/octet-stream` when none).
        mime: String,
        /// The size from `Content-Length`, when the server sent one.
        size: Option<u64>,
    },
    /// Connecting or reading failed. The message carries the whole chain of causes
    /// ("… Connection refused"), so the error has no separate source.
    #[error("could not fetch the page: {}", causes(.0))]
    Fetch(reqwest::Error),
    /// The HTTP client could not be set up (no TLS roots, for one).
    #[error("could not set up the connection: {0}")]
    Client(String),
    /// Reading the page failed inside (a worker thread stopped).
    #[error("could not read the page: {0}")]
    Internal(String),
}

/// Why a page's preview image was left out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImageError {
    /// Fetching the image failed: a refused address, a redirect loop, an error status…
    #[error("could not fetch the image: {0}")]
    Fetch(#[source] Box<SnapshotError>),
    /// The deadline passed while the image was fetched or decoded.
    #[error("the image did not arrive in time")]
    Timeout,
    /// The image is larger than [`SnapshotConfig::max_image`] bytes.
    #[error("the image is larger than {max} bytes")]
    TooManyBytes {
        /// The limit.
        max: usize,
    },
    /// The image has more pixels than are decoded.
    #[error(
        "the image is {width}×{height} pixels; at most {MAX_DECODE_SIDE} pixels a side and \
         {MAX_DECODE_MIB} MiB decoded are accepted"
    )]
    TooManyPixels {
        /// Width in pixels.
        width: u32,
        /// Height in pixels.
        height: u32,
    },
    /// The bytes are not an image in a format that is decoded (PNG, JPEG, GIF, WebP, ICO, BMP).
    #[error("not an image in a supported format")]
    UnknownFormat,
    /// Decoding or encoding failed.
    #[error("the image could not be decoded: {0}")]
    Decode(String),
}

/// An error's message followed by its causes', each once.
fn causes(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

fn refused_message(host: &str, addr: &IpAddr, kind: AddressKind) -> String {
    let literal = host.trim_start_matches('[').trim_end_matches(']');
    let at = if literal.parse::<IpAddr>().is_ok_and(|ip| ip == *addr) {
        format!("{host} is {kind}")
    } else {
        format!("{host} is at {addr}, {kind}")
    };
    if kind.is_local() {
        format!(
            "{at}: links to addresses on a private network get no snapshot unless the setting allows them"
        )
    } else {
        format!("{at}: links to such addresses get no snapshot")
    }
}

/// Longest side of an image that is decoded at all, in pixels.
pub const MAX_DECODE_SIDE: u32 = 16_384;
/// Most memory a decoded image may take, in MiB.
pub const MAX_DECODE_MIB: u64 = 128;

/// What kind of refused address a host had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum AddressKind {
    /// 127.0.0.0/8, ::1.
    Loopback,
    /// 10/8, 172.16/12, 192.168/16.
    Private,
    /// 100.64/10, shared by carrier-grade NAT.
    SharedCgnat,
    /// 169.254/16, fe80::/10.
    LinkLocal,
    /// fc00::/7 (and the deprecated site-local fec0::/10).
    UniqueLocal,
    /// 0.0.0.0/8, ::.
    Unspecified,
    /// 224/4, ff00::/8.
    Multicast,
    /// 255.255.255.255.
    Broadcast,
    /// Documentation and benchmarking ranges (192.0.2/24, 198.18/15, 2001:db8::/32…).
    Documentation,
    /// Reserved or special-purpose ranges (240/4, 192.0.0/24, discard-only, deprecated forms).
    Reserved,
}

impl AddressKind {
    /// Whether [`SnapshotConfig::allow_private`] lifts the refusal: addresses a page on one's own
    /// network may have, as opposed to addresses no page can have.
    pub fn is_local(self) -> bool {
        matches!(
            self,
            Self::Loopback
                | Self::Private
                | Self::SharedCgnat
                | Self::LinkLocal
                | Self::UniqueLocal
        )
    }
}

impl std::fmt::Display for AddressKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::SharedCgnat => "a carrier-grade NAT address",
            Self::LinkLocal => "a link-local address",
            Self::UniqueLocal => "a unique-local address",
            Self::Unspecified => "the unspecified address",
            Self::Multicast => "a multicast address",
            Self::Broadcast => "the broadcast address",
            Self::Documentation => "a documentation or benchmarking address",
            Self::Reserved => "a reserved address",
        })
    }
}

/// Fetches `url` and keeps a snapshot of it, within `config`'s limits.
///
/// Errors mean "no snapshot": the engine posts a plain link entry carrying the error's message
/// ([`SnapshotError::NotHtml`] gives the type and size for that entry). A preview image that
/// cannot be used does not fail the snapshot; see [`Snapshot::image_error`].
pub async fn take(url: &str, config: &SnapshotConfig) -> Result<Snapshot, SnapshotError> {
    let url = check_url(url)?;
    let deadline = Instant::now() + config.timeout;
    let fetcher = fetch::Fetcher::new(config)?;

    let page = tokio::time::timeout_at(deadline, read_page(&fetcher, url))
        .await
        .map_err(|_| SnapshotError::Timeout {
            after: config.timeout,
        })??;

    let (image, image_error) = if page.content.images.is_empty() {
        (None, None)
    } else {
        match tokio::time::timeout_at(
            deadline,
            preview::fetch_first(&fetcher, &page.content.images, config),
        )
        .await
        {
            Ok(Ok(image)) => (Some(image), None),
            Ok(Err(error)) => (None, Some(error)),
            Err(_) => (None, Some(ImageError::Timeout)),
        }
    };
    if let Some(error) = &image_error {
        tracing::debug!(url = %page.final_url, %error, "preview image left out");
    }

    let content = page.content;
    Ok(Snapshot {
        site_name: content
            .site_name
            .or_else(|| page.final_url.host_str().map(str::to_owned)),
        language: content.language.or(page.content_language),
        final_url: page.final_url.into(),
        title: content.title,
        description: content.description,
        excerpt: content.excerpt,
        image,
        image_error,
        truncated: page.truncated,
    })
}

/// The page as read: where from, its extracted content and the headers that matter.
struct ReadPage {
    final_url: url::Url,
    content: page::Content,
    content_language: Option<String>,
    truncated: bool,
}

async fn read_page(fetcher: &fetch::Fetcher<'_>, url: url::Url) -> Result<ReadPage, SnapshotError> {
    let response = fetcher.open(url, fetch::Wanted::Html).await?;
    let final_url = response.url().clone();
    let headers = response.headers().clone();
    let content_type = fetch::header(&headers, reqwest::header::CONTENT_TYPE);
    let essence = content_type
        .as_deref()
        .and_then(|value| value.parse::<mime::Mime>().ok())
        .map(|mime| mime.essence_str().to_ascii_lowercase());
    if !matches!(
        essence.as_deref(),
        Some("text/html" | "application/xhtml+xml")
    ) {
        return Err(SnapshotError::NotHtml {
            mime: essence
                .or_else(|| content_type.and_then(|value| text::line(&value, 100)))
                .unwrap_or_else(|| "application/octet-stream".to_owned()),
            size: response.content_length(),
        });
    }

    let body = fetch::read_limited(response, fetcher.config().max_html)
        .await
        .map_err(SnapshotError::Fetch)?;
    let content_language = fetch::header(&headers, reqwest::header::CONTENT_LANGUAGE)
        .and_then(|value| text::language_tag(value.split(',').next().unwrap_or_default()));

    let base = final_url.clone();
    let content = tokio::task::spawn_blocking(move || {
        let html = charset::decode(&body.bytes, content_type.as_deref());
        page::read(&html, &base)
    })
    .await
    .map_err(|error| SnapshotError::Internal(error.to_string()))?;

    Ok(ReadPage {
        final_url,
        content,
        content_language,
        truncated: body.truncated,
    })
}
