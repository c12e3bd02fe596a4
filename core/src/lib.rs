//! # backstory-core — the local engine
//!
//! Everything Backstory does on one device, without a window: the identity, the SQLite store (with
//! samod's document storage on it), contacts, the author's master panels and their publication into
//! outbox documents, the scheduler that applies `reveal_after`/`visible_until` rules at the right
//! instant, the viewer's "what changed since I last looked", and the control socket through which
//! the CLI (and tests) drive a running engine.
//!
//! The control loop: every write goes to a master panel in SQLite (durable before the call returns),
//! then [`backstory_crdt::publish`] projects it and only the difference is written into the outbox
//! document. The scheduler sleeps until the earliest next rule flip and publishes again. At start the
//! engine publishes every panel, catching up whatever came due while it was not running.
//!
//! One typed async API ([`Engine`]) and one event stream ([`Event`]) serve every front end.

pub mod access;
pub mod contact;
pub mod control;
pub mod engine;
pub mod error;
pub mod event;
pub mod identity;
pub mod media;
pub mod net;
pub mod pairing;
pub mod paths;
pub mod storage;
pub mod store;
pub mod ticket;
pub mod when;
pub mod words;

pub use contact::{Contact, ContactId};
pub use engine::{Content, Engine, EntryEdit, NewEntry, Profile, TheirPanel, now};
pub use error::{ApiError, EngineError, ErrorCode};
pub use event::Event;
