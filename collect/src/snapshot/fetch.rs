//! Fetching under the guard: manual redirects, each target checked again; bounded reading.

use std::sync::Arc;

use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Response, StatusCode};
use rustls_platform_verifier::BuilderVerifierExt;
use url::{Host, Url};

use super::guard::{self, CheckedResolver};
use super::{SnapshotConfig, SnapshotError, link};

/// A plain browser's User-Agent: some sites answer unknown clients with a bare page.
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:140.0) Gecko/20100101 Firefox/140.0";

/// What a request asks for, which sets its `Accept` header.
#[derive(Debug, Clone, Copy)]
pub(super) enum Wanted {
    /// A web page.
    Html,
    /// A preview image.
    Image,
}

impl Wanted {
    fn accept(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::Html => "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5",
            Self::Image => "image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8",
        })
    }
}

/// An HTTP client whose every connection goes through the guard.
pub(super) struct Fetcher<'c> {
    client: reqwest::Client,
    resolver: Arc<CheckedResolver>,
    config: &'c SnapshotConfig,
}

impl<'c> Fetcher<'c> {
    /// A client for one snapshot: no proxy (it would connect for us, to addresses we never
    /// checked), no automatic redirects, our resolver, TLS with the platform's roots.
    pub(super) fn new(config: &'c SnapshotConfig) -> Result<Self, SnapshotError> {
        let resolver = Arc::new(CheckedResolver::default());
        let client = reqwest::Client::builder()
            .tls_backend_preconfigured(tls()?)
            .dns_resolver(resolver.clone())
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .user_agent(USER_AGENT)
            .build()
            .map_err(|error| SnapshotError::Client(error.to_string()))?;
        Ok(Self {
            client,
            resolver,
            config,
        })
    }

    /// The limits this client works under.
    pub(super) fn config(&self) -> &SnapshotConfig {
        self.config
    }

    /// Requests `url` and follows redirects by hand, checking each target like the first link,
    /// until a response that is not a redirect. Only success statuses are returned.
    pub(super) async fn open(&self, url: Url, wanted: Wanted) -> Result<Response, SnapshotError> {
        let mut url = link::check_parsed(url)?;
        let mut redirects = 0u8;
        loop {
            let addrs = guard::resolve(&url, self.config).await?;
            if let Some(Host::Domain(name)) = url.host() {
                self.resolver.admit(name, addrs);
            }
            let response = self
                .client
                .get(url.clone())
                .header(header::ACCEPT, wanted.accept())
                .send()
                .await
                .map_err(SnapshotError::Fetch)?;
            let status = response.status();
            if is_followed_redirect(status) {
                if redirects >= self.config.max_redirects {
                    return Err(SnapshotError::TooManyRedirects {
                        max: self.config.max_redirects,
                    });
                }
                redirects += 1;
                let target = response
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|value| value.to_str().ok())
                    .and_then(|location| url.join(location).ok())
                    .ok_or(SnapshotError::BadRedirect)?;
                tracing::debug!(from = %url, to = %target, "following a redirect");
                url = link::check_parsed(target)?;
                continue;
            }
            if !status.is_success() {
                return Err(SnapshotError::Status {
                    status: status.as_u16(),
                });
            }
            return Ok(response);
        }
    }
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::MOVED_PERMANENTLY
            | StatusCode::FOUND
            | StatusCode::SEE_OTHER
            | StatusCode::TEMPORARY_REDIRECT
            | StatusCode::PERMANENT_REDIRECT
    )
}

/// TLS with the ring provider and the platform's certificate verifier, HTTP/1.1 only.
fn tls() -> Result<rustls::ClientConfig, SnapshotError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| SnapshotError::Client(error.to_string()))?
        .with_platform_verifier()
        .map_err(|error| SnapshotError::Client(error.to_string()))?
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tls)
}

/// A body read up to a limit.
pub(super) struct Body {
    /// At most the limit's worth of bytes, decompressed.
    pub(super) bytes: Vec<u8>,
    /// Whether the body went on past the limit (the rest was not read).
    pub(super) truncated: bool,
}

/// Reads at most `max` bytes of the (decompressed) body and stops there, whatever
/// `Content-Length` said: the connection is dropped with the rest unread.
pub(super) async fn read_limited(
    mut response: Response,
    max: usize,
) -> Result<Body, reqwest::Error> {
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = max - bytes.len();
        if chunk.len() > room {
            bytes.extend_from_slice(&chunk[..room]);
            return Ok(Body {
                bytes,
                truncated: true,
            });
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Body {
        bytes,
        truncated: false,
    })
}

/// A header's value as text, when present and printable.
pub(super) fn header(headers: &HeaderMap, name: HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}
