//! The checks a link passes before anything is fetched: pure, no network.

use url::Url;

use super::{MAX_URL_CHARS, SnapshotError};

/// Checks a link without touching the network and returns it parsed.
///
/// Refuses links that are not `http` or `https`, longer than [`MAX_URL_CHARS`] characters (as
/// written, and once normalised), with a user name or password, or without a host. The engine can
/// call this before posting, to tell at once that a link gets no snapshot. Addresses are checked
/// later, when the host is resolved.
pub fn check_url(url: &str) -> Result<Url, SnapshotError> {
    let url = url.trim();
    let chars = url.chars().count();
    if chars > MAX_URL_CHARS {
        return Err(SnapshotError::UrlTooLong {
            chars,
            max: MAX_URL_CHARS,
        });
    }
    let parsed = Url::parse(url)?;
    check_parsed(parsed)
}

/// The same checks for a link that is already parsed (a redirect target, an image address).
pub(super) fn check_parsed(url: Url) -> Result<Url, SnapshotError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(SnapshotError::UnsupportedScheme {
            scheme: url.scheme().to_owned(),
        });
    }
    let chars = url.as_str().chars().count();
    if chars > MAX_URL_CHARS {
        return Err(SnapshotError::UrlTooLong {
            chars,
            max: MAX_URL_CHARS,
        });
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(SnapshotError::Credentials);
    }
    if url.host().is_none() {
        return Err(SnapshotError::NoHost);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn http_and_https_pass() {
        assert_eq!(
            check_url("https://example.org/a?b=c#d").unwrap().as_str(),
            "https://example.org/a?b=c#d"
        );
        assert_eq!(
            check_url("  http://EXAMPLE.org  ").unwrap().as_str(),
            "http://example.org/"
        );
    }

    #[test]
    fn other_schemes_are_refused() {
        for (link, scheme) in [
            ("javascript:alert(1)", "javascript"),
            ("file:///etc/passwd", "file"),
            ("ftp://example.org/", "ftp"),
            ("data:text/html,<p>hi</p>", "data"),
            ("gopher://example.org/", "gopher"),
            ("ws://example.org/", "ws"),
        ] {
            match check_url(link) {
                Err(SnapshotError::UnsupportedScheme { scheme: got }) => assert_eq!(got, scheme),
                other => panic!("{link}: {other:?}"),
            }
        }
    }

    #[test]
    fn links_over_4096_characters_are_refused() {
        let base = "https://example.org/";
        let fits = format!("{base}{}", "a".repeat(MAX_URL_CHARS - base.len()));
        assert_eq!(fits.chars().count(), MAX_URL_CHARS);
        assert!(check_url(&fits).is_ok());

        let over = format!("{fits}a");
        match check_url(&over) {
            Err(SnapshotError::UrlTooLong { chars, max }) => {
                assert_eq!((chars, max), (MAX_URL_CHARS + 1, MAX_URL_CHARS));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_link_that_grows_past_the_limit_when_normalised_is_refused() {
        // Each space becomes %20: 2 620 characters written, 5 220 once normalised.
        let link = format!("https://example.org/{}", " x".repeat(1300));
        assert!(link.chars().count() < MAX_URL_CHARS);
        assert!(matches!(
            check_url(&link),
            Err(SnapshotError::UrlTooLong { .. })
        ));
    }

    #[test]
    fn user_and_password_are_refused() {
        for link in [
            "https://user:secret@example.org/",
            "https://user@example.org/",
            "https://:secret@example.org/",
        ] {
            assert!(
                matches!(check_url(link), Err(SnapshotError::Credentials)),
                "{link}"
            );
        }
    }

    #[test]
    fn text_that_is_no_link_is_refused() {
        assert!(matches!(
            check_url("example.org/page"),
            Err(SnapshotError::InvalidUrl(_))
        ));
        assert!(matches!(
            check_url("http://"),
            Err(SnapshotError::InvalidUrl(_))
        ));
    }
}
