//! The engine's error types and the stable codes front ends switch on.
//!
//! This module sits under everything that can fail in the engine: it takes the error types of the
//! leaf modules (store, paths, identity, ticket, pairing protocol, clock) and is imported by the
//! engine, the network and the API, never the other way round.

use std::path::PathBuf;

use backstory_crdt::{DocError, EntryId, PanelError};
use serde::{Deserialize, Serialize};

pub use crate::pairing::PairError;
use crate::paths::DataDirError;
use crate::store::StoreError;

/// A stable, machine-readable error code. Front ends switch on this, never on message text.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// No such contact.
    UnknownContact,
    /// No such category.
    UnknownCategory,
    /// No such draft or suggestion.
    UnknownDraft,
    /// No such entry.
    UnknownEntry,
    /// The request is malformed or contradicts itself.
    InvalidInput,
    /// A named file does not exist.
    FileNotFound,
    /// A file is over the size limit.
    TooLarge,
    /// An imported file is not a valid panel, or not from that contact.
    BadImport,
    /// A ticket could not be read: it is not a ticket, or has characters a ticket never has.
    BadTicket,
    /// A ticket was cut short.
    TicketTruncated,
    /// A ticket's checksum does not match: a character was changed.
    TicketDamaged,
    /// A ticket was made by a newer Backstory.
    TicketTooNew,
    /// The ticket expired.
    TicketExpired,
    /// The ticket was used already.
    TicketUsed,
    /// The inviter knows no invitation with this ticket's secret.
    TicketUnknown,
    /// A device cannot pair with itself.
    SelfPairing,
    /// The two are paired already.
    AlreadyPaired,
    /// The inviter denied the join, or did not decide in time.
    Denied,
    /// The other device could not be reached.
    Unreachable,
    /// The store or a file could not be read or written.
    Storage,
    /// The disk holding the data directory is full: nothing more can be saved until space is
    /// freed. Nothing saved before is lost.
    DiskFull,
    /// The disk filled up under a change just made: it was neither saved nor sent, and waits in
    /// memory to be saved and sent as soon as space is freed. Sending it again would send it
    /// twice.
    WaitsForSpace,
    /// No engine is running on the data directory.
    NoEngine,
    /// Another engine holds the data directory.
    Busy,
    /// A screenshot could not be taken: no display, the desktop refused, nothing to capture.
    CaptureFailed,
    /// Pairing named a document already in use here.
    DocumentInUse,
    /// A contact's panel was written by a newer Backstory.
    PanelTooNew,
    /// A contact's panel does not have the shape of a panel.
    PanelUnreadable,
    /// Anything else.
    Internal,
}

/// An error with its code, as it crosses the control socket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[error("{message}")]
pub struct ApiError {
    /// The code to switch on.
    pub code: ErrorCode,
    /// A sentence for people.
    pub message: String,
}

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// No contact matches.
    #[error("unknown contact `{0}`; `backstory contacts` lists them")]
    UnknownContact(String),
    /// Several contacts match a name.
    #[error("`{0}` names several contacts; use the contact id")]
    AmbiguousContact(String),
    /// No entry has this id.
    #[error("unknown entry `{0}`")]
    UnknownEntry(EntryId),
    /// No draft has this id.
    #[error("unknown draft `{0}`; `backstory drafts` lists them")]
    UnknownDraft(String),
    /// The panel refused the operation.
    #[error(transparent)]
    Panel(#[from] PanelError),
    /// The input is malformed.
    #[error("{0}")]
    InvalidInput(String),
    /// A file to attach does not exist.
    #[error("file not found: {0}")]
    FileNotFound(PathBuf),
    /// A file to attach is over the limit.
    #[error("{path} is {size} bytes, over the {limit}-byte limit for attachments")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// A contact's device sent other than the size its entry announced; the transfer stopped
    /// at the first byte too many.
    #[error(
        "{name}: the sender announced {announced} bytes but sent {received}; the download was stopped"
    )]
    Oversent {
        /// The media's file name.
        name: String,
        /// The size its entry announced.
        announced: u64,
        /// The bytes that arrived before the transfer stopped.
        received: u64,
    },
    /// An imported panel file was refused.
    #[error("cannot import: {0}")]
    BadImport(String),
    /// The disk is full: a file in the data directory could not be written.
    #[error(
        "the disk is full: {path} cannot be written; free some space on that disk and try again \
         (nothing saved before is lost)"
    )]
    DiskFull {
        /// The file or folder that could not grow.
        path: PathBuf,
    },
    /// The disk filled up while a change was being written: it waits in memory, unsent.
    #[error(
        "the disk is full: {path} cannot be written; this change waits in memory, unsent, and \
         is saved and sent as soon as space is freed on that disk (if Backstory stops before, it \
         is lost; nothing saved before is)"
    )]
    WaitsForSpace {
        /// The file or folder that could not grow.
        path: PathBuf,
    },
    /// The disk has less free space than a file to be stored there needs.
    #[error(
        "not enough free space for {size} bytes on the disk holding {path} ({free} bytes free); \
         free some space on that disk and try again (nothing saved before is lost)"
    )]
    NoRoom {
        /// The folder the file would go to.
        path: PathBuf,
        /// The bytes to store.
        size: u64,
        /// The bytes free.
        free: u64,
    },
    /// The blob store stopped after a write to its database failed; only a restart brings it
    /// back.
    #[error(
        "the media store {path} stopped after a write to it failed (a full disk does that): free \
         some space on that disk if it is full, then restart Backstory to attach or fetch media \
         again (nothing saved before is lost)"
    )]
    MediaStoreStopped {
        /// The blob store's folder.
        path: PathBuf,
    },
    /// A contact's device holds an entry but cannot read its media from its own store.
    #[error(
        "{contact}'s device cannot read {name} (BLAKE3 {hash}) from its media store: the file is \
         missing or damaged there; ask {contact} to attach it again"
    )]
    MediaUnavailable {
        /// The contact's name.
        contact: String,
        /// The media's file name.
        name: String,
        /// The media's hash.
        hash: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: std::io::Error,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A document could not be read or written.
    #[error(transparent)]
    Doc(Box<DocError>),
    /// A document write waits to be made durable, or a read failed; nothing more is accepted
    /// until the write goes through or the engine restarts.
    #[error(
        "storage failure, no further changes accepted until the store can be written again or the \
         engine restarts: {0}"
    )]
    StorageFailed(String),
    /// The data directory cannot be used.
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    /// The identity could not be loaded.
    #[error(transparent)]
    Identity(#[from] crate::identity::IdentityError),
    /// A document the store should hold cannot be loaded.
    #[error(
        "document {id} cannot be loaded from the store {store}; the store may be damaged: restore \
         it from a backup or move it away"
    )]
    MissingDocument {
        /// The document id.
        id: String,
        /// The database file.
        store: PathBuf,
    },
    /// Pairing failed.
    #[error(transparent)]
    Pair(#[from] PairError),
    /// Networking failed.
    #[error(transparent)]
    Net(#[from] NetError),
    /// The clock could not be moved.
    #[error(transparent)]
    Clock(#[from] crate::clock::ClockError),
    /// A screenshot could not be taken.
    #[error("no screenshot: {0}")]
    Capture(String),
    /// The engine is shutting down.
    #[error("the engine is stopping")]
    Stopped,
}

/// Why networking failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NetError {
    /// The endpoint could not be bound.
    #[error("cannot start networking: {0}")]
    Bind(String),
    /// A peer could not be reached.
    #[error("cannot reach {peer}: {reason}")]
    Unreachable {
        /// Who.
        peer: String,
        /// Why.
        reason: String,
    },
}

impl EngineError {
    /// Refuses a path that is not absolute: the engine runs in another process with another
    /// working directory, so a relative path would name some other file.
    pub(crate) fn unless_absolute(path: &std::path::Path) -> Result<(), Self> {
        if path.is_absolute() {
            Ok(())
        } else {
            Err(Self::InvalidInput(format!(
                "{} must be an absolute path",
                path.display()
            )))
        }
    }

    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::UnknownContact(_) | Self::AmbiguousContact(_) => ErrorCode::UnknownContact,
            Self::UnknownEntry(_) | Self::Panel(PanelError::UnknownEntry(_)) => {
                ErrorCode::UnknownEntry
            }
            Self::UnknownDraft(_) => ErrorCode::UnknownDraft,
            Self::Clock(_) => ErrorCode::InvalidInput,
            Self::Panel(PanelError::UnknownCategory(_)) => ErrorCode::UnknownCategory,
            Self::Panel(_) | Self::InvalidInput(_) => ErrorCode::InvalidInput,
            Self::FileNotFound(_) | Self::MediaUnavailable { .. } => ErrorCode::FileNotFound,
            Self::DiskFull { .. } | Self::NoRoom { .. } | Self::Store(StoreError::Full { .. }) => {
                ErrorCode::DiskFull
            }
            Self::WaitsForSpace { .. } => ErrorCode::WaitsForSpace,
            Self::TooLarge { .. } | Self::Oversent { .. } => ErrorCode::TooLarge,
            Self::BadImport(_) => ErrorCode::BadImport,
            Self::Doc(d) if matches!(**d, DocError::UnsupportedSchema { .. }) => {
                ErrorCode::PanelTooNew
            }
            Self::Doc(d) if matches!(**d, DocError::Shape(_)) => ErrorCode::PanelUnreadable,
            Self::Io { .. }
            | Self::MediaStoreStopped { .. }
            | Self::Store(_)
            | Self::Doc(_)
            | Self::StorageFailed(_)
            | Self::MissingDocument { .. }
            | Self::Identity(_) => ErrorCode::Storage,
            Self::DataDir(DataDirError::Locked { .. }) => ErrorCode::Busy,
            Self::Pair(p) => p.code(),
            Self::Net(_) => ErrorCode::Unreachable,
            Self::Capture(_) => ErrorCode::CaptureFailed,
            Self::DataDir(_) => ErrorCode::Storage,
            Self::Stopped => ErrorCode::Internal,
        }
    }
}

impl PairError {
    /// The stable code for this error.
    pub fn code(&self) -> ErrorCode {
        use crate::pairing::Refusal as R;
        use crate::ticket::TicketError as T;
        match self {
            Self::Ticket(T::Expired) | Self::Refused(R::Expired) => ErrorCode::TicketExpired,
            Self::Ticket(T::Truncated) => ErrorCode::TicketTruncated,
            Self::Ticket(T::Damaged) => ErrorCode::TicketDamaged,
            Self::Ticket(T::UnsupportedVersion(_)) => ErrorCode::TicketTooNew,
            Self::Ticket(_) | Self::Refused(R::BadRequest) => ErrorCode::BadTicket,
            Self::Refused(R::Used) => ErrorCode::TicketUsed,
            Self::Refused(R::UnknownTicket) => ErrorCode::TicketUnknown,
            Self::SelfPairing => ErrorCode::SelfPairing,
            Self::AlreadyPaired(_) | Self::Refused(R::AlreadyPaired) => ErrorCode::AlreadyPaired,
            Self::Refused(R::Denied | R::TimedOut) => ErrorCode::Denied,
            Self::Refused(R::DocumentInUse) => ErrorCode::DocumentInUse,
            Self::Lost(_) => ErrorCode::Unreachable,
        }
    }
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        Self {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<DocError> for EngineError {
    fn from(e: DocError) -> Self {
        Self::Doc(Box::new(e))
    }
}

impl From<samod::Stopped> for EngineError {
    fn from(_: samod::Stopped) -> Self {
        Self::Stopped
    }
}

/// Whether an operating system error says the disk is full.
pub(crate) fn is_disk_full(e: &std::io::Error) -> bool {
    e.kind() == std::io::ErrorKind::StorageFull
}

/// The operating system's error somewhere inside `e` (the innermost one), if it carries one.
pub(crate) fn os_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut found = None;
    let mut next = Some(e);
    while let Some(cur) = next {
        next = match cur.downcast_ref::<std::io::Error>() {
            Some(io) => {
                found = Some(io);
                // An io::Error's `source` skips the error it wraps: look at that one too.
                io.get_ref()
                    .map(|inner| inner as &(dyn std::error::Error + 'static))
            }
            None => cur.source(),
        };
    }
    found
}
