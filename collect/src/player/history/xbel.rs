//! GTK's list of recently used files, `recently-used.xbel`, read without changing it.

use quick_xml::XmlVersion;
use quick_xml::events::{BytesStart, Event};

/// One bookmark: a file or stream some application opened.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Bookmark {
    /// The URI (`file:///…`, `https://…`).
    pub href: String,
    /// When the bookmark last changed (RFC 3339).
    pub modified: Option<String>,
    /// When the file was last visited (RFC 3339).
    pub visited: Option<String>,
    /// Its MIME type.
    pub mime_type: Option<String>,
    /// The groups it is in (Totem uses `Totem` and `TotemStreams`).
    pub groups: Vec<String>,
    /// The applications that opened it.
    pub applications: Vec<Application>,
}

/// An application that opened a bookmark.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Application {
    /// Its name (`Celluloid`, or a translated name like `Videos` for Totem).
    pub name: String,
    /// Its command, quoted (`'totem %u'`).
    pub exec: String,
    /// When it last opened the file (RFC 3339).
    pub modified: Option<String>,
    /// How often it opened the file.
    pub count: u64,
}

impl Application {
    /// The program of its command: `'totem %u'` → `totem`.
    pub fn program(&self) -> String {
        let first = self
            .exec
            .trim()
            .trim_start_matches(['\'', '"'])
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .trim_end_matches(['\'', '"']);
        first.rsplit('/').next().unwrap_or_default().to_owned()
    }
}

/// Whether a MIME type is a video's. MPRIS and GTK cannot tell a song from a video otherwise.
pub(crate) fn is_video_mime(mime: &str) -> bool {
    let mime = mime.trim().to_ascii_lowercase();
    mime.starts_with("video/")
        || matches!(
            mime.as_str(),
            "application/x-matroska"
                | "application/vnd.rn-realmedia"
                | "application/x-flash-video"
                | "application/x-shockwave-flash"
                | "application/mxf"
                | "application/x-mpegurl"
                | "application/vnd.apple.mpegurl"
        )
}

/// The bookmarks of an xbel document. A document that breaks off yields the bookmarks read up
/// to the break, and the error.
pub(crate) fn parse(xml: &str) -> (Vec<Bookmark>, Option<quick_xml::Error>) {
    let mut reader = quick_xml::Reader::from_str(xml);
    reader.config_mut().trim_text(true);
    let mut parser = Parser::default();
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => return (parser.bookmarks, None),
            Ok(Event::Start(element)) => parser.open(&element, false),
            Ok(Event::Empty(element)) => parser.open(&element, true),
            Ok(Event::Text(text)) => {
                if parser.in_group
                    && let Some(bookmark) = parser.current.as_mut()
                {
                    let group = text.xml_content(XmlVersion::Implicit1_0).into_owned();
                    bookmark.groups.push(group);
                }
            }
            Ok(Event::End(element)) => match element.local_name().as_ref() {
                "bookmark" => parser.bookmarks.extend(parser.current.take()),
                "group" => parser.in_group = false,
                _ => {}
            },
            Ok(_) => {}
            Err(error) => return (parser.bookmarks, Some(error)),
        }
    }
}

/// What the reader has gathered so far.
#[derive(Default)]
struct Parser {
    bookmarks: Vec<Bookmark>,
    current: Option<Bookmark>,
    in_group: bool,
}

impl Parser {
    /// An opening (or self-closing, `empty`) tag.
    fn open(&mut self, element: &BytesStart<'_>, empty: bool) {
        let name = element.local_name();
        if name.as_ref() == "bookmark" {
            let bookmark = Bookmark {
                href: attribute(element, "href").unwrap_or_default(),
                modified: attribute(element, "modified"),
                visited: attribute(element, "visited"),
                ..Bookmark::default()
            };
            if empty {
                self.bookmarks.push(bookmark);
            } else {
                self.current = Some(bookmark);
            }
            return;
        }
        let Some(bookmark) = self.current.as_mut() else {
            return;
        };
        match name.as_ref() {
            "mime-type" => bookmark.mime_type = attribute(element, "type"),
            "group" => self.in_group = !empty,
            "application" => bookmark.applications.push(Application {
                name: attribute(element, "name").unwrap_or_default(),
                exec: attribute(element, "exec").unwrap_or_default(),
                modified: attribute(element, "modified"),
                count: attribute(element, "count")
                    .and_then(|count| count.parse().ok())
                    .unwrap_or(0),
            }),
            _ => {}
        }
    }
}

/// An attribute's value, unescaped, by its local name.
fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|attribute| attribute.key.local_name().as_ref() == name)
        .and_then(|attribute| attribute.normalized_value(XmlVersion::Implicit1_0).ok())
        .map(|value| value.into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(crate) const SAMPLE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<xbel version="1.0"
      xmlns:bookmark="http://www.freedesktop.org/standards/desktop-bookmarks"
      xmlns:mime="http://www.freedesktop.org/standards/shared-mime-info"
>
  <bookmark href="file:///home/ann/Videos/sea%20trip.mkv" added="2024-05-01T10:00:00.000000Z" modified="2024-05-02T10:00:00.000000Z" visited="2024-05-02T10:00:00.000000Z">
    <info>
      <metadata owner="http://freedesktop.org">
        <mime:mime-type type="video/x-matroska"/>
        <bookmark:groups>
          <bookmark:group>Totem</bookmark:group>
        </bookmark:groups>
        <bookmark:applications>
          <bookmark:application name="Videos" exec="&apos;totem %u&apos;" modified="2024-05-02T10:00:00.123456Z" count="2"/>
        </bookmark:applications>
      </metadata>
    </info>
  </bookmark>
  <bookmark href="file:///home/ann/report.pdf" added="2024-05-01T10:00:00Z" modified="2024-05-01T10:00:00Z" visited="2024-05-01T10:00:00Z">
    <info>
      <metadata owner="http://freedesktop.org">
        <mime:mime-type type="application/pdf"/>
        <bookmark:applications>
          <bookmark:application name="Document Viewer" exec="&apos;evince %u&apos;" modified="2024-05-01T10:00:00Z" count="1"/>
        </bookmark:applications>
      </metadata>
    </info>
  </bookmark>
</xbel>
"#;

    #[test]
    fn bookmarks_are_read_with_mime_groups_and_applications() {
        let (bookmarks, error) = parse(SAMPLE);
        assert!(error.is_none());
        assert_eq!(bookmarks.len(), 2);
        let video = &bookmarks[0];
        assert_eq!(video.href, "file:///home/ann/Videos/sea%20trip.mkv");
        assert_eq!(video.mime_type.as_deref(), Some("video/x-matroska"));
        assert_eq!(video.groups, vec!["Totem".to_owned()]);
        assert_eq!(video.applications.len(), 1);
        assert_eq!(video.applications[0].name, "Videos");
        assert_eq!(video.applications[0].program(), "totem");
        assert_eq!(video.applications[0].count, 2);
        assert_eq!(
            video.applications[0].modified.as_deref(),
            Some("2024-05-02T10:00:00.123456Z")
        );
        assert_eq!(bookmarks[1].mime_type.as_deref(), Some("application/pdf"));
    }

    #[test]
    fn a_broken_document_yields_what_came_before_and_an_error() {
        let cut = SAMPLE
            .find("<bookmark href=\"file:///home/ann/report.pdf")
            .unwrap_or(0);
        let broken = format!("{}<bookmark href=\"x\"><info></bookmark>", &SAMPLE[..cut]);
        let (bookmarks, error) = parse(&broken);
        assert_eq!(bookmarks.len(), 1);
        assert!(error.is_some());
    }

    #[test]
    fn video_mime_types_are_recognised() {
        assert!(is_video_mime("video/mp4"));
        assert!(is_video_mime("application/x-matroska"));
        assert!(!is_video_mime("audio/mpeg"));
        assert!(!is_video_mime("application/pdf"));
    }

    proptest! {
        #[test]
        fn any_text_parses_without_panic(text in "\\PC{0,200}") {
            let _ = parse(&text);
        }

        #[test]
        fn any_cut_of_a_real_document_parses_without_panic(cut in 0usize..2000) {
            let cut = (0..=cut.min(SAMPLE.len())).rev().find(|i| SAMPLE.is_char_boundary(*i)).unwrap_or(0);
            let (bookmarks, _) = parse(&SAMPLE[..cut]);
            prop_assert!(bookmarks.len() <= 2);
        }
    }
}
