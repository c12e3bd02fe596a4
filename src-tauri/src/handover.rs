//! One app per data directory. The running app listens on a private socket, `app.sock`, beside the
//! engine's control socket; a second start hands it its `backstory://` link (or nothing, to bring
//! the main window to the front) and exits. This is the shell's business, so it lives here and not
//! in the engine.
//!
//! The message is one line: the link, or an empty line. The answer is one line, `ok`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

/// The socket file, inside the data directory.
pub const SOCKET_FILE: &str = "app.sock";

/// The longest link accepted.
const MAX_LINK: u64 = 8 * 1024;

/// What a second start finds.
#[derive(Debug)]
pub enum Found {
    /// No app runs here: start one.
    Nobody,
    /// The running app took the link.
    HandedOver,
    /// A `backstory node` without windows holds the directory.
    Node,
}

fn socket(dir: &Path) -> PathBuf {
    backstory_core::paths::socket_path(dir, SOCKET_FILE)
}

/// Hands `link` to the app running on `dir`, if there is one.
pub async fn hand_over(dir: &Path, link: Option<&str>) -> std::io::Result<Found> {
    match UnixStream::connect(socket(dir)).await {
        Ok(mut stream) => {
            let line = format!("{}\n", link.unwrap_or(""));
            stream.write_all(line.as_bytes()).await?;
            let mut answer = String::new();
            tokio::time::timeout(
                Duration::from_secs(5),
                BufReader::new(stream).read_line(&mut answer),
            )
            .await
            .map_err(|_| std::io::Error::other("the running app did not answer"))??;
            Ok(Found::HandedOver)
        }
        Err(_) => {
            // No app; but an engine answering on the control socket means a node holds the data.
            let control =
                backstory_core::paths::socket_path(dir, backstory_core::control::SOCKET_FILE);
            Ok(match UnixStream::connect(control).await {
                Ok(_) => Found::Node,
                Err(_) => Found::Nobody,
            })
        }
    }
}

/// Only `backstory://` links are passed on; anything else just brings the app to the front.
fn accepted(line: &str) -> Option<String> {
    let l = line.trim();
    l.starts_with("backstory://").then(|| l.to_string())
}

/// Listens for second starts; `open` is called with each one's link.
pub fn listen(
    dir: &Path,
    open: impl Fn(Option<String>) + Send + Sync + 'static,
) -> std::io::Result<()> {
    let path = socket(dir);
    let listener = backstory_core::paths::bind_private(&path)?;
    listener.set_nonblocking(true)?;
    let open = std::sync::Arc::new(open);
    tauri::async_runtime::spawn(async move {
        let listener = match UnixListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("second starts cannot reach this app: {e}");
                return;
            }
        };
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let open = open.clone();
            tauri::async_runtime::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut line = String::new();
                let mut limited = BufReader::new(read.take(MAX_LINK));
                if limited.read_line(&mut line).await.is_ok() {
                    open(accepted(&line));
                    let _gone = write.write_all(b"ok\n").await;
                }
            });
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_backstory_links_are_passed_on() {
        assert_eq!(
            accepted("backstory://pair/abc\n").as_deref(),
            Some("backstory://pair/abc")
        );
        assert_eq!(accepted("https://example.org/\n"), None);
        assert_eq!(accepted("\n"), None);
    }
}
