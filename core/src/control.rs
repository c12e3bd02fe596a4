//! The control socket: a Unix socket in the data directory (mode 0600) through which the CLI and
//! tests drive a running engine. It carries exactly the API's types ([`crate::api`]): one
//! [`Frame`] per line from the client, one [`Reply`] per line back; [`Frame::Events`] turns the
//! connection into a stream of [`crate::Event`]s, one per line.

mod client;
mod server;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

use crate::api::{Request, Response};
use crate::error::ApiError;

pub use client::{Client, ClientError, EventStream};
pub use server::{Server, bind};

/// The socket file, inside the data directory.
pub const SOCKET_FILE: &str = "control.sock";

/// The longest request line accepted.
pub const MAX_LINE: usize = 1024 * 1024;

/// What a client sends.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "frame", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Frame {
    /// Run one operation.
    Call {
        /// The request.
        request: Request,
    },
    /// Stream events until the connection closes.
    Events,
}

/// One reply.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply {
    /// The operation's answer.
    Ok(Box<Response>),
    /// The engine refused.
    Err(ApiError),
    /// The event stream starts after this line.
    Streaming,
}

/// Why a request line could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    /// The connection failed, or the line is not UTF-8.
    #[error("control connection: {0}")]
    Io(#[from] std::io::Error),
    /// The line is longer than [`MAX_LINE`]: the rest of it cannot be told from the next request.
    #[error("request too long")]
    TooLong,
    /// The line is not a [`Frame`].
    #[error("bad request: {0}")]
    Invalid(#[from] serde_json::Error),
}

/// Reads one request line from a client, into `line` (a buffer kept between calls); `None` when the
/// client hung up.
pub async fn read_frame<R: AsyncBufRead + Unpin>(
    reader: &mut R,
    line: &mut String,
) -> Result<Option<Frame>, FrameError> {
    line.clear();
    let n = reader.take(MAX_LINE as u64 + 1).read_line(line).await?;
    if n == 0 {
        return Ok(None);
    }
    if line.len() > MAX_LINE {
        return Err(FrameError::TooLong);
    }
    Ok(Some(serde_json::from_str(line)?))
}
