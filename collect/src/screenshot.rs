//! Screenshots: a monitor or a window captured into a PNG picture for an entry.
//!
//! [`sources`] lists what can be captured; [`capture`] takes the picture, cropped if asked. Both
//! block (X11 round trips, PNG encoding): call them from `tokio::task::spawn_blocking`.
//!
//! Capture goes through `xcap`: on X11 it reads the screen directly, on Wayland it asks GNOME
//! Shell, then the desktop portal (which may ask the user), then wlroots. Where capture is
//! refused or impossible the error says why: no display, a portal that said no, no window
//! manager to list windows. A capture that comes back empty — all transparent, or every pixel
//! the same value, as an X server's bare black root window does — is not passed on as a picture:
//! it is retried, and reported as [`ScreenshotError::Blank`] if it stays that way. X11 captures
//! fail now and then; failures are retried a few times as well.

mod picture;
mod session;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::Duration;

use image::RgbaImage;
use xcap::{Monitor, Window};

/// How many times a capture (or a listing) is tried before its failure is reported.
pub const ATTEMPTS: u32 = 5;
/// The pause between two attempts.
const PAUSE: Duration = Duration::from_millis(250);

/// What can be captured now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// The monitors, in the order [`Target::Monitor`] counts them.
    pub monitors: Vec<MonitorInfo>,
    /// The windows, topmost first; empty when they cannot be listed.
    pub windows: Vec<WindowInfo>,
    /// Why [`windows`](Self::windows) is empty when windows cannot be listed (no window manager,
    /// a Wayland session); `None` when the list is complete.
    pub windows_unavailable: Option<ScreenshotError>,
}

/// A monitor that can be captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorInfo {
    /// Its position in [`Sources::monitors`], for [`Target::Monitor`].
    pub index: usize,
    /// The output's name (`HDMI-1`, `eDP-1`, `screen`…).
    pub name: String,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Whether it is the primary monitor.
    pub primary: bool,
}

/// A window that can be captured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowInfo {
    /// The window's id, for [`WindowRef::Id`].
    pub id: u32,
    /// Its title.
    pub title: String,
    /// The application's name (its X11 class).
    pub app_name: String,
}

/// What to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The primary monitor (the first one when none is marked primary).
    Primary,
    /// A monitor by its [`MonitorInfo::index`].
    Monitor(usize),
    /// A window.
    Window(WindowRef),
}

/// How a window is named.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowRef {
    /// By [`WindowInfo::id`].
    Id(u32),
    /// The topmost window whose title contains this text, ignoring case.
    Title(String),
}

/// A rectangle in the captured picture's pixels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    /// Left edge.
    pub x: u32,
    /// Top edge.
    pub y: u32,
    /// Width.
    pub width: u32,
    /// Height.
    pub height: u32,
}

/// A captured picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The picture, PNG-encoded.
    pub png: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// Why no screenshot could be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScreenshotError {
    /// Neither `DISPLAY` nor `WAYLAND_DISPLAY` is set: there is no screen to capture.
    #[error("there is no display to capture (neither an X11 nor a Wayland session)")]
    NoDisplay,
    /// A display is named but could not be reached.
    #[error("the display could not be reached: {0}")]
    DisplayUnreachable(String),
    /// The desktop (its screenshot portal, or the user through it) refused the capture.
    #[error("the desktop refused the screenshot")]
    Refused,
    /// Windows cannot be listed or captured here.
    #[error(
        "windows cannot be listed here: capturing a window needs an X11 session with a window \
         manager; capture a monitor instead"
    )]
    NoWindows,
    /// The monitor or window asked for does not exist.
    #[error("{0} was not found")]
    NotFound(String),
    /// Every attempt came back as an empty picture.
    #[error("the capture came back blank after {ATTEMPTS} attempts")]
    Blank,
    /// The crop rectangle lies outside the picture or has no area.
    #[error("the crop leaves nothing of the {width}×{height} picture")]
    EmptyCrop {
        /// The picture's width.
        width: u32,
        /// The picture's height.
        height: u32,
    },
    /// Capturing failed after every attempt.
    #[error("the screenshot failed: {0}")]
    Failed(String),
}

impl ScreenshotError {
    /// Whether another attempt may succeed. X11 connections made by the capture library drop now
    /// and then ("Connection error"), so an unreachable display is tried again too.
    fn is_transient(&self) -> bool {
        matches!(
            self,
            Self::Failed(_) | Self::DisplayUnreachable(_) | Self::Blank
        )
    }
}

/// Runs `step` up to [`ATTEMPTS`] times while it fails transiently. When every attempt failed,
/// [`ScreenshotError::Blank`] is reported if any attempt came back blank (the display works but
/// showed nothing), else the last failure.
fn retried<T>(mut step: impl FnMut() -> Result<T, ScreenshotError>) -> Result<T, ScreenshotError> {
    let mut blank = false;
    let mut attempt = 1;
    loop {
        match step() {
            Ok(value) => return Ok(value),
            Err(error) if error.is_transient() && attempt < ATTEMPTS => {
                tracing::debug!(attempt, %error, "screenshot attempt failed");
                blank |= error == ScreenshotError::Blank;
            }
            Err(error) if error.is_transient() && blank => {
                tracing::debug!(attempt, %error, "screenshot attempt failed");
                return Err(ScreenshotError::Blank);
            }
            Err(error) => return Err(error),
        }
        attempt += 1;
        thread::sleep(PAUSE);
    }
}

/// Lists the monitors and windows that can be captured. Blocking.
pub fn sources() -> Result<Sources, ScreenshotError> {
    let session = session::current()?;
    let monitors = retried(|| {
        guarded(Monitor::all)
            .map_err(session::display_error)?
            .iter()
            .enumerate()
            .map(|(index, monitor)| monitor_info(index, monitor))
            .collect::<Result<Vec<_>, _>>()
    })?;
    let (windows, windows_unavailable) = match retried(|| list_windows(session)) {
        Ok(windows) => (windows, None),
        Err(error) => (Vec::new(), Some(error)),
    };
    Ok(Sources {
        monitors,
        windows,
        windows_unavailable,
    })
}

/// Captures `target` and crops the picture to `crop`, clipped to the picture. Blocking.
///
/// Failed and blank captures are tried [`ATTEMPTS`] times; a blank picture is never returned.
/// The blank test looks at the whole capture, before the crop.
pub fn capture(target: &Target, crop: Option<Rect>) -> Result<Capture, ScreenshotError> {
    let session = session::current()?;
    let picture = retried(|| {
        let picture = capture_once(session, target)?;
        if picture::is_blank(&picture) {
            return Err(ScreenshotError::Blank);
        }
        Ok(picture)
    })?;
    let picture = match crop {
        Some(rect) => picture::crop(&picture, rect)?,
        None => picture,
    };
    picture::encode(&picture)
}

/// Crops a PNG picture taken earlier (a preview the author then framed). Blocking.
pub fn crop_png(png: &[u8], rect: Rect) -> Result<Capture, ScreenshotError> {
    let picture = image::load_from_memory_with_format(png, image::ImageFormat::Png)
        .map_err(|error| ScreenshotError::Failed(format!("the picture cannot be read: {error}")))?
        .to_rgba8();
    picture::encode(&picture::crop(&picture, rect)?)
}

fn capture_once(session: session::Session, target: &Target) -> Result<RgbaImage, ScreenshotError> {
    match target {
        Target::Primary | Target::Monitor(_) => {
            let monitors = guarded(Monitor::all).map_err(session::display_error)?;
            let monitor = match target {
                Target::Monitor(index) => monitors
                    .get(*index)
                    .ok_or_else(|| ScreenshotError::NotFound(format!("monitor {index}")))?,
                _ => {
                    let mut primary = None;
                    for monitor in &monitors {
                        if monitor.is_primary().map_err(session::display_error)? {
                            primary = Some(monitor);
                            break;
                        }
                    }
                    primary
                        .or_else(|| monitors.first())
                        .ok_or_else(|| ScreenshotError::NotFound("a monitor".to_owned()))?
                }
            };
            guarded(|| monitor.capture_image()).map_err(|error| session.capture_error(error))
        }
        Target::Window(wanted) => {
            let windows = window_handles(session)?;
            let window = windows
                .iter()
                .find(|window| match wanted {
                    WindowRef::Id(id) => window.id().is_ok_and(|found| found == *id),
                    WindowRef::Title(text) => window
                        .title()
                        .is_ok_and(|title| title.to_lowercase().contains(&text.to_lowercase())),
                })
                .ok_or_else(|| {
                    ScreenshotError::NotFound(match wanted {
                        WindowRef::Id(id) => format!("window {id}"),
                        WindowRef::Title(text) => format!("a window titled \"{text}\""),
                    })
                })?;
            guarded(|| window.capture_image()).map_err(|error| session.capture_error(error))
        }
    }
}

fn monitor_info(index: usize, monitor: &Monitor) -> Result<MonitorInfo, ScreenshotError> {
    let failed = session::display_error;
    Ok(MonitorInfo {
        index,
        name: monitor.name().map_err(failed)?,
        width: monitor.width().map_err(failed)?,
        height: monitor.height().map_err(failed)?,
        primary: monitor.is_primary().map_err(failed)?,
    })
}

fn list_windows(session: session::Session) -> Result<Vec<WindowInfo>, ScreenshotError> {
    window_handles(session)?
        .iter()
        .map(|window| {
            Ok(WindowInfo {
                id: window
                    .id()
                    .map_err(|error| ScreenshotError::Failed(error.to_string()))?,
                title: window.title().unwrap_or_default(),
                app_name: window.app_name().unwrap_or_default(),
            })
        })
        .collect()
}

/// The windows, topmost first. Window capture reads X11 windows; a Wayland session has none to
/// offer, and an X server without a window manager keeps no list of them.
fn window_handles(session: session::Session) -> Result<Vec<Window>, ScreenshotError> {
    if session == session::Session::Wayland {
        return Err(ScreenshotError::NoWindows);
    }
    guarded(Window::all).map_err(session::window_list_error)
}

/// Runs an xcap call, turning a panic inside it into an error rather than a crash.
fn guarded<T>(call: impl FnOnce() -> xcap::XCapResult<T>) -> xcap::XCapResult<T> {
    catch_unwind(AssertUnwindSafe(call))
        .unwrap_or_else(|_| Err(xcap::XCapError::new("the capture library panicked")))
}
