//! # backstory-core — the local engine
//!
//! Everything Backstory does on one device, without a window: the identity, the SQLite store (with
//! samod's document storage on it), contacts, the author's master panels and their publication into
//! outbox documents, the scheduler that applies `reveal_after`/`visible_until` rules at the right
//! instant, the viewer's "what changed since I last looked", drafts, pairing, sync and media over
//! iroh, and the control socket through which the CLI (and tests) drive a running engine.
//!
//! One typed API serves every front end: each operation is a request with a typed answer
//! ([`api`]), run by one dispatcher ([`Engine::call`], [`Engine::run`]); the control socket
//! ([`control`]) carries exactly those types, and the desktop app generates its commands from the
//! same list. What the front ends show (contact cards, my panel with what each contact sees now,
//! their panel annotated) is computed here, in [`view`] types; the events ([`Event`]) say which
//! contact and which document changed.
//!
//! The control loop: every write goes to a master panel in SQLite (durable before the call returns),
//! then [`backstory_crdt::publish`] projects it and only the difference is written into the outbox
//! document. The scheduler waits on the engine's [`clock::Clock`] until the earliest next rule flip
//! and publishes again. At start the engine publishes every panel, catching up whatever came due
//! while it was not running.

pub mod access;
pub mod api;
pub mod clock;
pub mod contact;
pub mod control;
pub mod draft;
pub mod engine;
pub mod error;
pub mod event;
pub mod feedback;
pub mod identity;
pub mod media;
pub mod net;
pub mod pairing;
pub mod paths;
pub mod stage;
pub mod storage;
pub mod store;
pub mod ticket;
pub mod view;
pub mod when;
pub mod words;

/// The document layer, re-exported so the API's types can be named from any front end.
pub use backstory_crdt as crdt;

pub use api::{OPERATIONS, Op, Request, Response, op};
pub use contact::{Contact, ContactId, PeerState};
/// The panel file reader, public so it can be tested with any bytes.
pub use engine::transfer::{PanelFileHeader, parse_panel_file};
pub use engine::{Engine, Options};
pub use error::{ApiError, EngineError, ErrorCode};
pub use event::{Document, Event};
