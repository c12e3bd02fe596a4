//! Which kind of display session this is, and what xcap's errors mean in it.

use std::env;
use std::ffi::OsStr;

use xcap::XCapError;

use super::ScreenshotError;

/// The kind of display session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Session {
    /// An X11 display (`DISPLAY`), Xvfb included.
    X11,
    /// A Wayland session (`WAYLAND_DISPLAY`, or `XDG_SESSION_TYPE=wayland` as xcap reads it).
    Wayland,
}

/// The session this process runs in, from its environment.
pub(super) fn current() -> Result<Session, ScreenshotError> {
    from_env(
        env::var_os("DISPLAY").as_deref(),
        env::var_os("WAYLAND_DISPLAY").as_deref(),
        env::var_os("XDG_SESSION_TYPE").as_deref(),
    )
}

fn from_env(
    display: Option<&OsStr>,
    wayland_display: Option<&OsStr>,
    session_type: Option<&OsStr>,
) -> Result<Session, ScreenshotError> {
    let set = |value: Option<&OsStr>| value.is_some_and(|value| !value.is_empty());
    if set(wayland_display) || session_type.is_some_and(|value| value == "wayland") {
        if set(display) || set(wayland_display) {
            return Ok(Session::Wayland);
        }
        return Err(ScreenshotError::NoDisplay);
    }
    if set(display) {
        return Ok(Session::X11);
    }
    Err(ScreenshotError::NoDisplay)
}

impl Session {
    /// What a failed capture means here: on Wayland, a portal that answers anything but success
    /// has refused (the user cancelled, or the desktop does not allow it).
    pub(super) fn capture_error(self, error: XCapError) -> ScreenshotError {
        let message = error.to_string();
        if self == Self::Wayland
            && (message.contains("canceled") || message.contains("Response code"))
        {
            return ScreenshotError::Refused;
        }
        if is_connection_error(&error) {
            return ScreenshotError::DisplayUnreachable(message);
        }
        ScreenshotError::Failed(message)
    }
}

/// What a failure to list monitors means: mostly that the display cannot be reached.
pub(super) fn display_error(error: XCapError) -> ScreenshotError {
    if is_connection_error(&error) {
        ScreenshotError::DisplayUnreachable(error.to_string())
    } else {
        ScreenshotError::Failed(error.to_string())
    }
}

/// What a failure to list windows means: without a window manager the X server has no
/// `_NET_CLIENT_LIST_STACKING`, and xcap says that atom is "not supported".
pub(super) fn window_list_error(error: XCapError) -> ScreenshotError {
    let message = error.to_string();
    if message.contains("not supported") {
        ScreenshotError::NoWindows
    } else if is_connection_error(&error) {
        ScreenshotError::DisplayUnreachable(message)
    } else {
        ScreenshotError::Failed(message)
    }
}

fn is_connection_error(error: &XCapError) -> bool {
    match error {
        XCapError::XcbConnError(_) => true,
        // xcap turns a failed connection into a plain message.
        XCapError::Error(message) => {
            let message = message.to_ascii_lowercase();
            message.contains("connect") || message.contains("connection")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(value: &str) -> Option<&OsStr> {
        Some(OsStr::new(value))
    }

    #[test]
    fn sessions_from_the_environment() {
        assert_eq!(from_env(None, None, None), Err(ScreenshotError::NoDisplay));
        assert_eq!(
            from_env(os(""), os(""), None),
            Err(ScreenshotError::NoDisplay)
        );
        assert_eq!(from_env(os(":0"), None, None), Ok(Session::X11));
        assert_eq!(from_env(os(":0"), None, os("x11")), Ok(Session::X11));
        assert_eq!(from_env(None, os("wayland-0"), None), Ok(Session::Wayland));
        assert_eq!(
            from_env(os(":0"), os("wayland-0"), os("wayland")),
            Ok(Session::Wayland)
        );
        assert_eq!(
            from_env(None, None, os("wayland")),
            Err(ScreenshotError::NoDisplay)
        );
    }

    #[test]
    fn portal_refusals_are_told_apart() {
        let cancelled = XCapError::new("Z-Bus canceled");
        assert_eq!(
            Session::Wayland.capture_error(cancelled),
            ScreenshotError::Refused
        );
        let denied = XCapError::new("Response code is 2");
        assert_eq!(
            Session::Wayland.capture_error(denied),
            ScreenshotError::Refused
        );
        let other = XCapError::new("Not found pixmap format");
        assert!(matches!(
            Session::X11.capture_error(other),
            ScreenshotError::Failed(_)
        ));
    }

    #[test]
    fn a_missing_window_list_means_no_window_manager() {
        let error = XCapError::new("_NET_CLIENT_LIST_STACKING not supported");
        assert_eq!(window_list_error(error), ScreenshotError::NoWindows);
    }
}
