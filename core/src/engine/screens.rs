//! The screenshot component: what can be captured, a capture kept as a draft with its preview,
//! and cropping that draft. Capturing needs the device's display (X11, or a Wayland desktop's
//! portal); where there is none, or the desktop refuses, the error says so.

use backstory_collect::screenshot::{self, Rect, ScreenshotError, Target, WindowRef};
use backstory_crdt::{Kind, MediaRef, Visibility};

use super::device::Device;
use super::drafts::Drafts;
use super::media::Media;
use crate::contact::Contact;
use crate::draft::{Draft, DraftId, DraftSource};
use crate::error::EngineError;
use crate::view::{CropRect, MonitorSource, ScreenSources, ScreenTarget, Shot, WindowSource};

/// The screens part; cheap to clone.
#[derive(Clone)]
pub(crate) struct Screens {
    device: Device,
    media: Media,
    drafts: Drafts,
}

fn capture_error(e: ScreenshotError) -> EngineError {
    EngineError::Capture(e.to_string())
}

/// Runs a blocking capture call off the async threads.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, ScreenshotError> + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| EngineError::Stopped)?
        .map_err(capture_error)
}

impl Screens {
    pub(crate) fn new(device: Device, media: Media, drafts: Drafts) -> Self {
        Self {
            device,
            media,
            drafts,
        }
    }

    /// The monitors and windows there are to capture.
    pub(crate) async fn sources(&self) -> Result<ScreenSources, EngineError> {
        let found = blocking(screenshot::sources).await?;
        Ok(ScreenSources {
            monitors: found
                .monitors
                .into_iter()
                .map(|m| MonitorSource {
                    index: u32::try_from(m.index).unwrap_or(u32::MAX),
                    name: m.name,
                    width: m.width,
                    height: m.height,
                    primary: m.primary,
                })
                .collect(),
            windows: found
                .windows
                .into_iter()
                .map(|w| WindowSource {
                    id: w.id,
                    title: w.title,
                    app: w.app_name,
                })
                .collect(),
            windows_note: found.windows_unavailable.map(|e| e.to_string()),
        })
    }

    /// Captures a monitor or a window and keeps the picture as a draft for `contact`.
    pub(crate) async fn take(
        &self,
        contact: Option<&Contact>,
        target: ScreenTarget,
        text: String,
    ) -> Result<Shot, EngineError> {
        crate::engine::panels::check_text(&text)?;
        let target = match target {
            ScreenTarget::Primary => Target::Primary,
            ScreenTarget::Monitor { index } => Target::Monitor(index as usize),
            ScreenTarget::Window { id } => Target::Window(WindowRef::Id(id)),
            ScreenTarget::WindowTitled { title } => Target::Window(WindowRef::Title(title)),
        };
        let capture = blocking(move || screenshot::capture(&target, None)).await?;
        let size = (capture.width, capture.height);
        let media = self.keep(capture.png, "screenshot.png").await?;
        let draft = Draft {
            id: DraftId::new(self.device.new_id("d", 8)),
            created: self.device.now(),
            contact: contact.map(|c| c.id.clone()),
            category: None,
            kind: Kind::Screenshot { media },
            text,
            visibility: Visibility::Visible,
            source: DraftSource::Screenshot,
            note: None,
        };
        self.shot(self.drafts.keep(draft).await?, size).await
    }

    /// Crops the picture of a screenshot draft.
    pub(crate) async fn crop(&self, id: &DraftId, rect: CropRect) -> Result<Shot, EngineError> {
        let mut draft = self.drafts.get(id).await?;
        let Kind::Screenshot { media } = &draft.kind else {
            return Err(EngineError::InvalidInput(format!(
                "{id} is not a screenshot"
            )));
        };
        let png = self.media.read(media).await?;
        let rect = Rect {
            x: rect.x,
            y: rect.y,
            width: rect.width,
            height: rect.height,
        };
        let capture = blocking(move || screenshot::crop_png(&png, rect)).await?;
        let size = (capture.width, capture.height);
        let media = self.keep(capture.png, "screenshot.png").await?;
        draft.kind = Kind::Screenshot { media };
        self.shot(self.drafts.keep(draft).await?, size).await
    }

    async fn keep(&self, png: Vec<u8>, name: &str) -> Result<MediaRef, EngineError> {
        self.media.import_bytes(png, "image/png", name).await
    }

    async fn shot(&self, draft: Draft, (width, height): (u32, u32)) -> Result<Shot, EngineError> {
        let media =
            draft.kind.media().cloned().ok_or_else(|| {
                EngineError::InvalidInput("a screenshot without a picture".into())
            })?;
        let hash = media
            .hash
            .parse()
            .map_err(|_| EngineError::InvalidInput(format!("bad hash {}", media.hash)))?;
        let path = self.media.viewing_copy(hash, &media.mime).await?;
        Ok(Shot {
            draft,
            path,
            width,
            height,
        })
    }
}
