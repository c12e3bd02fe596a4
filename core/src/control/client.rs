//! The client side of the control socket, used by the CLI and by tests.

use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use super::{Frame, Reply, SOCKET_FILE};
use crate::api::{Op, Request, Response};
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

fn broken(e: impl std::fmt::Display) -> ClientError {
    ClientError::Connection(e.to_string())
}

impl Client {
    /// Connects to the engine running on a data directory.
    pub async fn connect(data_dir: &Path) -> Result<Self, ClientError> {
        let path = crate::paths::socket_path(data_dir, SOCKET_FILE);
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

    async fn exchange(&mut self, frame: &Frame) -> Result<Reply, ClientError> {
        let mut line = serde_json::to_vec(frame).map_err(broken)?;
        line.push(b'\n');
        self.write.write_all(&line).await.map_err(broken)?;
        let reply = self
            .lines
            .next_line()
            .await
            .map_err(broken)?
            .ok_or_else(|| broken("the engine closed the connection"))?;
        serde_json::from_str::<Reply>(&reply).map_err(broken)
    }

    /// Runs one request.
    pub async fn request(&mut self, request: Request) -> Result<Response, ClientError> {
        let name = request.name();
        tracing::debug!(target: "backstory::api", op = %name, "call");
        match self.exchange(&Frame::Call { request }).await? {
            Reply::Ok(r) => Ok(*r),
            Reply::Err(e) => Err(ClientError::Api(e)),
            Reply::Streaming => Err(broken("the engine started streaming unasked")),
        }
    }

    /// Runs one operation and returns its typed answer.
    pub async fn call<O: Op>(&mut self, op: O) -> Result<O::Output, ClientError> {
        let response = self.request(op.request()).await?;
        let name = response.name();
        O::output(response).ok_or_else(|| broken(format!("{} was answered as {name}", O::NAME)))
    }

    /// Turns the connection into a stream of events.
    pub async fn events(mut self) -> Result<EventStream, ClientError> {
        match self.exchange(&Frame::Events).await? {
            Reply::Streaming => Ok(EventStream { lines: self.lines }),
            Reply::Err(e) => Err(ClientError::Api(e)),
            Reply::Ok(_) => Err(broken("the engine answered instead of streaming")),
        }
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
            Ok(Some(l)) => serde_json::from_str(&l).map(Some).map_err(broken),
            Ok(None) => Ok(None),
            Err(e) => Err(broken(e)),
        }
    }
}
