//! A private X server for the screenshot and painting tests: Xvfb on a display number it picks
//! itself, with ImageMagick's `display` drawing a picture at the top left (or nothing), and
//! ImageMagick's `import` capturing the screen.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// The screen's width in pixels.
pub const WIDTH: u32 = 1280;
/// The screen's height in pixels.
pub const HEIGHT: u32 = 800;

/// A private X server with a picture on it, stopped when dropped.
pub struct Screen {
    xvfb: Child,
    picture: Option<Child>,
    /// Its `DISPLAY`, e.g. `:7`.
    pub display: String,
}

impl Screen {
    /// Starts the server and shows `picture` on it.
    pub fn start(picture: &std::path::Path) -> Self {
        let mut screen = Self::empty();
        let shown = Command::new("display")
            .args(["-geometry", "+0+0"])
            .arg(picture)
            .env("DISPLAY", &screen.display)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ImageMagick's display (scripts/setup installs imagemagick)");
        screen.picture = Some(shown);
        screen
    }

    /// Starts the server with nothing on it.
    pub fn empty() -> Self {
        let mut xvfb = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                &format!("{WIDTH}x{HEIGHT}x24"),
                "-nolisten",
                "tcp",
                "-noreset",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (scripts/setup installs xvfb)");
        let mut line = String::new();
        BufReader::new(xvfb.stdout.take().expect("Xvfb's stdout"))
            .read_line(&mut line)
            .expect("Xvfb's display number");
        let display = format!(":{}", line.trim());
        Self {
            xvfb,
            picture: None,
            display,
        }
    }

    /// The whole screen as an RGB PNG (ImageMagick's `import`).
    pub fn capture(&self) -> Vec<u8> {
        let out = Command::new("import")
            .args(["-window", "root", "png24:-"])
            .env("DISPLAY", &self.display)
            .stderr(Stdio::null())
            .output()
            .expect("ImageMagick's import (scripts/setup installs imagemagick)");
        out.stdout
    }
}

impl Drop for Screen {
    fn drop(&mut self) {
        if let Some(mut p) = self.picture.take() {
            let _ = p.kill();
            let _ = p.wait();
        }
        let _ = self.xvfb.kill();
        let _ = self.xvfb.wait();
    }
}
