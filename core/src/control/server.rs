//! The engine side of the control socket.

use serde::Serialize;
use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;

use super::{Frame, FrameError, Reply, SOCKET_FILE, read_frame};
use crate::engine::Engine;
use crate::error::{ApiError, EngineError, ErrorCode};

/// A bound control socket, ready to serve.
pub struct Server {
    engine: Engine,
    listener: UnixListener,
    path: std::path::PathBuf,
}

/// Binds the control socket of a running engine. The engine holds the data directory's lock, so a
/// socket file left behind by a killed engine is stale and is replaced.
pub fn bind(engine: Engine) -> Result<Server, EngineError> {
    let path = crate::paths::socket_path(engine.data_dir(), SOCKET_FILE);
    let io = |source| EngineError::Io {
        path: path.clone(),
        source,
    };
    let listener = crate::paths::bind_private(&path).map_err(io)?;
    listener.set_nonblocking(true).map_err(io)?;
    let listener = UnixListener::from_std(listener).map_err(io)?;
    Ok(Server {
        engine,
        listener,
        path,
    })
}

impl Server {
    /// Serves requests until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let Server {
            engine,
            listener,
            path,
        } = self;
        let mut tasks = tokio::task::JoinSet::new();
        loop {
            tokio::select! {
                biased;
                _ = stop.changed() => break,
                accepted = listener.accept() => match accepted {
                    Ok((stream, _)) => {
                        tasks.spawn(connection(engine.clone(), stream, stop.clone()));
                    }
                    Err(e) => tracing::warn!("control socket accept failed: {e}"),
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
        tasks.abort_all();
        let _already_gone = std::fs::remove_file(&path);
    }
}

fn error_reply(code: ErrorCode, message: String) -> Reply {
    Reply::Err(ApiError { code, message })
}

async fn connection(engine: Engine, stream: UnixStream, mut stop: watch::Receiver<bool>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    let mut line = String::new();
    loop {
        let frame = tokio::select! {
            biased;
            _ = stop.changed() => return,
            frame = read_frame(&mut lines, &mut line) => frame,
        };
        let reply = match frame {
            Ok(None) | Err(FrameError::Io(_)) => return,
            Err(FrameError::TooLong) => {
                // The rest of an oversized line cannot be told from the next request: hang up.
                let reply = error_reply(ErrorCode::InvalidInput, "request too long".into());
                let _gone = send(&mut write, &reply).await;
                return;
            }
            Ok(Some(Frame::Events)) => {
                stream_events(&engine, &mut write, &mut stop).await;
                return;
            }
            Ok(Some(Frame::Call { request })) => match engine.call(request).await {
                Ok(r) => Reply::Ok(Box::new(r)),
                Err(e) => Reply::Err(e),
            },
            Err(e @ FrameError::Invalid(_)) => error_reply(ErrorCode::InvalidInput, e.to_string()),
        };
        if send(&mut write, &reply).await.is_err() {
            return;
        }
    }
}

async fn send<T: Serialize>(
    write: &mut tokio::net::unix::OwnedWriteHalf,
    value: &T,
) -> std::io::Result<()> {
    let mut bytes = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    bytes.push(b'\n');
    write.write_all(&bytes).await
}

async fn stream_events(
    engine: &Engine,
    write: &mut tokio::net::unix::OwnedWriteHalf,
    stop: &mut watch::Receiver<bool>,
) {
    let mut events = engine.subscribe();
    if send(write, &Reply::Streaming).await.is_err() {
        return;
    }
    loop {
        let event = tokio::select! {
            biased;
            _ = stop.changed() => return,
            e = events.recv() => e,
        };
        match event {
            Ok(e) => {
                if send(write, &e).await.is_err() {
                    return;
                }
            }
            Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!("event subscriber lagged by {n} events");
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        }
    }
}
