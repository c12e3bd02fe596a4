//! The client side of the control socket, used by the CLI and by tests.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use super::{Reply, Request, SOCKET_FILE};
use crate::error::{ApiError, ErrorCode};
use crate::event::Event;

/// Why a call through the control socket failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// Nothing listens on the data directory's socket.
    #[error("no Backstory engine is running on {0}; start one with `backstory node`")]
    NoEngine(PathBuf),
    /// The engine refused the request.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The connection broke or a reply did not decode.
    #[error("control connection: {0}")]
    Connection(String),
}

impl ClientError {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::NoEngine(_) => ErrorCode::NoEngine,
            Self::Api(e) => e.code,
            Self::Connection(_) => ErrorCode::Internal,
        }
    }
}

/// A connection to a running engine.
pub struct Client {
    lines: Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

impl Client {
    /// Connects to the engine running on a data directory.
    pub async fn connect(data_dir: &Path) -> Result<Self, ClientError> {
        let path = data_dir.join(SOCKET_FILE);
        let stream = UnixStream::connect(&path)
            .await
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused => {
                    ClientError::NoEngine(data_dir.to_path_buf())
                }
                _ => ClientError::Connection(format!("{}: {e}", path.display())),
            })?;
        let (read, write) = stream.into_split();
        Ok(Self {
            lines: BufReader::new(read).lines(),
            write,
        })
    }

    async fn exchange(&mut self, request: &Request) -> Result<serde_json::Value, ClientError> {
        let conn = |e: &dyn std::fmt::Display| ClientError::Connection(e.to_string());
        let mut line = serde_json::to_vec(request).map_err(|e| conn(&e))?;
        line.push(b'\n');
        self.write.write_all(&line).await.map_err(|e| conn(&e))?;
        let reply = self
            .lines
            .next_line()
            .await
            .map_err(|e| conn(&e))?
            .ok_or_else(|| conn(&"the engine closed the connection"))?;
        match serde_json::from_str::<Reply>(&reply).map_err(|e| conn(&e))? {
            Reply::Ok(v) => Ok(v),
            Reply::Err(e) => Err(ClientError::Api(e)),
        }
    }

    /// Sends a request and decodes the reply.
    pub async fn call<T: DeserializeOwned>(&mut self, request: &Request) -> Result<T, ClientError> {
        let value = self.exchange(request).await?;
        serde_json::from_value(value).map_err(|e| ClientError::Connection(e.to_string()))
    }

    /// Turns the connection into a stream of events.
    pub async fn events(mut self) -> Result<EventStream, ClientError> {
        self.exchange(&Request::Events).await?;
        Ok(EventStream { lines: self.lines })
    }
}

/// Events from a running engine.
pub struct EventStream {
    lines: Lines<BufReader<OwnedReadHalf>>,
}

impl EventStream {
    /// The next event, or `None` when the engine stopped.
    pub async fn next(&mut self) -> Result<Option<Event>, ClientError> {
        match self.lines.next_line().await {
            Ok(Some(l)) => serde_json::from_str(&l)
                .map(Some)
                .map_err(|e| ClientError::Connection(e.to_string())),
            Ok(None) => Ok(None),
            Err(e) => Err(ClientError::Connection(e.to_string())),
        }
    }
}
