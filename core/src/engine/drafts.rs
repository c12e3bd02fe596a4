//! Preparing entries, and the drafts kept between preparing and posting. The one place that decides
//! what a new entry is: text, link or file (never both), its text within limits, its attachment
//! imported.

use backstory_crdt::{Kind, Source};

use super::device::Device;
use super::media::Media;
use super::panels::{Prepared, check_text};
use super::snapshots::{Snapshots, Taken};
use crate::contact::Contact;
use crate::draft::{Draft, DraftEdit, DraftId, DraftSource};
use crate::error::EngineError;
use crate::event::Event;
use crate::view::NewEntry;

/// The drafts part; cheap to clone.
#[derive(Clone)]
pub(crate) struct Drafts {
    device: Device,
    media: Media,
    snapshots: Snapshots,
}

/// Checks a link: http or https only.
pub(crate) fn check_link(url: &str) -> Result<String, EngineError> {
    let parsed = url::Url::parse(url.trim())
        .map_err(|e| EngineError::InvalidInput(format!("bad link `{url}`: {e}")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(EngineError::InvalidInput(format!(
            "bad link `{url}`: only http and https links can be shared"
        )));
    }
    Ok(parsed.to_string())
}

impl Drafts {
    pub(crate) fn new(device: Device, media: Media, snapshots: Snapshots) -> Self {
        Self {
            device,
            media,
            snapshots,
        }
    }

    /// Validates a new entry and imports its attachment, without publishing or keeping it.
    pub(crate) async fn prepare(&self, new: NewEntry) -> Result<Prepared, EngineError> {
        check_text(&new.text)?;
        let mut note = None;
        let kind = match (new.link, new.file) {
            (Some(_), Some(_)) => {
                return Err(EngineError::InvalidInput(
                    "an entry holds a link or a file, not both".into(),
                ));
            }
            (Some(url), None) => {
                let url = check_link(&url)?;
                let Taken { snapshot, note: n } = self.snapshots.take(&url).await?;
                note = n;
                Kind::Link { url, snapshot }
            }
            (None, Some(path)) => {
                if !path.is_absolute() {
                    return Err(EngineError::InvalidInput(format!(
                        "{} must be an absolute path",
                        path.display()
                    )));
                }
                self.media.import(&path).await?
            }
            (None, None) => {
                if new.text.trim().is_empty() {
                    return Err(EngineError::InvalidInput(
                        "a text entry cannot be empty".into(),
                    ));
                }
                Kind::Text
            }
        };
        Ok(Prepared {
            category: new.category,
            kind,
            text: new.text,
            visibility: new.visibility,
            source: Source::Manual,
            note,
        })
    }

    /// Prepares an entry and keeps it as a draft.
    pub(crate) async fn save(
        &self,
        contact: Option<&Contact>,
        new: NewEntry,
    ) -> Result<Draft, EngineError> {
        let prepared = self.prepare(new).await?;
        self.keep(Draft {
            id: DraftId::new(self.device.new_id("d", 8)),
            created: self.device.now(),
            contact: contact.map(|c| c.id.clone()),
            category: prepared.category,
            kind: prepared.kind,
            text: prepared.text,
            visibility: prepared.visibility,
            source: DraftSource::Manual,
            note: prepared.note,
        })
        .await
    }

    /// Keeps a draft durably (a new one, or a changed one).
    pub(crate) async fn keep(&self, draft: Draft) -> Result<Draft, EngineError> {
        let d = draft.clone();
        self.device.blocking(move |s| s.save_draft(&d)).await?;
        self.device.emit(Event::DraftSaved {
            draft: draft.id.clone(),
        });
        Ok(draft)
    }

    /// Every draft and suggestion, newest first.
    pub(crate) async fn list(&self) -> Result<Vec<Draft>, EngineError> {
        self.device.blocking(|s| s.drafts()).await
    }

    /// One draft.
    pub(crate) async fn get(&self, id: &DraftId) -> Result<Draft, EngineError> {
        let i = id.clone();
        self.device
            .blocking(move |s| s.draft(&i))
            .await?
            .ok_or_else(|| EngineError::UnknownDraft(id.to_string()))
    }

    /// Deletes a draft.
    pub(crate) async fn discard(&self, id: &DraftId) -> Result<(), EngineError> {
        let i = id.clone();
        if !self.device.blocking(move |s| s.delete_draft(&i)).await? {
            return Err(EngineError::UnknownDraft(id.to_string()));
        }
        self.device.emit(Event::DraftRemoved { draft: id.clone() });
        Ok(())
    }
}

/// A draft with its last changes, ready to be written into a panel.
pub(crate) fn prepared(draft: &Draft, edit: &DraftEdit) -> Result<Prepared, EngineError> {
    let text = edit.text.clone().unwrap_or_else(|| draft.text.clone());
    check_text(&text)?;
    if matches!(draft.kind, Kind::Text) && text.trim().is_empty() {
        return Err(EngineError::InvalidInput(
            "a text entry cannot be empty".into(),
        ));
    }
    Ok(Prepared {
        category: edit.category.clone().or_else(|| draft.category.clone()),
        kind: draft.kind.clone(),
        text,
        visibility: edit.visibility.unwrap_or(draft.visibility),
        source: draft.source.entry_source(),
        note: draft.note.clone(),
    })
}
