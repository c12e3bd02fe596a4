//! The control socket: a Unix socket in the data directory (mode 0600) through which the CLI and
//! tests drive a running engine. It carries exactly the API's types ([`crate::api`]): one
//! [`Frame`] per line from the client, one [`Reply`] per line back; [`Frame::Events`] turns the
//! connection into a stream of [`crate::Event`]s, one per line.

mod client;
mod server;

use serde::{Deserialize, Serialize};

use crate::api::{Request, Response};
use crate::error::ApiError;

pub use client::{Client, ClientError, EventStream};
pub use server::{Server, bind};

/// The socket file, inside the data directory.
pub const SOCKET_FILE: &str = "control.sock";

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
