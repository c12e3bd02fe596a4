//! Link snapshots, taken on the author's device when a link entry is made (or refreshed): the
//! page's title, description, site, a readable excerpt, its language and a re-encoded preview
//! image kept as a blob under the same access rules as other media. The viewer never contacts the
//! site. A link that gets no snapshot is still posted, as a plain link, with a note for the author
//! saying why.

use backstory_collect::snapshot::{self, SnapshotConfig, SnapshotError};
use backstory_crdt::LinkSnapshot;

use super::media::Media;
use super::settings::Settings;
use crate::error::EngineError;

/// What a link gets: its snapshot, if any, and a note for the author about what is missing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Taken {
    pub(crate) snapshot: Option<LinkSnapshot>,
    pub(crate) note: Option<String>,
}

/// The snapshots part; cheap to clone.
#[derive(Clone)]
pub(crate) struct Snapshots {
    settings: Settings,
    media: Media,
}

impl Snapshots {
    pub(crate) fn new(settings: Settings, media: Media) -> Self {
        Self { settings, media }
    }

    /// Takes a snapshot of `url` within the limits, unless snapshots are off. Never fails: what
    /// went wrong becomes the note.
    pub(crate) async fn take(&self, url: &str) -> Result<Taken, EngineError> {
        if !self.settings.on("snapshots.enabled").await? {
            return Ok(Taken::default());
        }
        let config = SnapshotConfig {
            allow_private: self.settings.on("snapshots.allow_private").await?,
            ..SnapshotConfig::default()
        };
        let page = match snapshot::take(url, &config).await {
            Ok(page) => page,
            Err(SnapshotError::NotHtml { mime, size }) => {
                return Ok(Taken {
                    snapshot: Some(LinkSnapshot {
                        content_type: Some(mime),
                        size,
                        ..LinkSnapshot::default()
                    }),
                    note: None,
                });
            }
            Err(e) => {
                tracing::info!("no snapshot of {url}: {e}");
                return Ok(Taken {
                    snapshot: None,
                    note: Some(format!("No preview: {e}.")),
                });
            }
        };
        let mut notes = Vec::new();
        let image = match page.image {
            Some(image) => {
                let ext = if image.mime == "image/png" {
                    "png"
                } else {
                    "jpg"
                };
                match self
                    .media
                    .import_bytes(image.bytes, &image.mime, &format!("preview.{ext}"))
                    .await
                {
                    Ok(media) => Some(media),
                    Err(e) => {
                        notes.push(format!("The preview image could not be kept: {e}."));
                        None
                    }
                }
            }
            None => None,
        };
        if let Some(e) = page.image_error {
            notes.push(format!("No preview image: {e}."));
        }
        if page.truncated {
            notes.push(format!(
                "The page is longer than {} KiB; its preview comes from the beginning.",
                config.max_html / 1024
            ));
        }
        Ok(Taken {
            snapshot: Some(LinkSnapshot {
                title: page.title,
                description: page.description,
                site: page.site_name,
                excerpt: page.excerpt,
                image,
                final_url: Some(page.final_url),
                language: page.language,
                content_type: None,
                size: None,
            }),
            note: (!notes.is_empty()).then(|| notes.join(" ")),
        })
    }
}
