//! # backstory-crdt — the documents
//!
//! Backstory keeps, for every contact, a *panel*: categories and entries the author shows that one
//! person. This crate is the pure data layer under it. It does no IO, spawns nothing and reads no
//! clock: every function that needs the time takes `now`.
//!
//! - [`master`]: the author's local, never-synced master panel, with a visibility rule per entry, and
//!   [`publish`], the projection to what the viewer may see at an instant.
//! - [`outbox`]: the synced Automerge document one author writes for one contact (schema over
//!   autosurgeon, versioned): the published panel, written by difference with a commit time on every
//!   change.
//! - [`feedback`]: comments, view receipts, per-entry signals and chat, kept in the viewer's own outbox
//!   so each document keeps exactly one writer.
//! - [`changes`]: what changed since given heads, with each text split into spans attributed to the
//!   edit session (change) that wrote them; [`KeptChanges`] keeps that view and brings it forward
//!   by the entries later changes touch.
//!
//! The control loop lives in `backstory-core`: it edits the master, calls [`publish`], and applies the
//! result to the outbox with [`outbox::apply_published`].

pub mod category;
pub mod changes;
pub mod entry;
pub mod feedback;
pub mod ids;
pub mod master;
pub mod outbox;

pub use automerge;
pub use category::{Category, DefaultCategory};
pub use changes::{ChangedEntry, EntryState, KeptChanges, PanelChanges, Span, changes_since};
pub use entry::{Entry, Kind, LinkSnapshot, MediaRef, Source, Visibility};
pub use ids::{CategoryId, EntryId, Timestamp};
pub use master::{MasterEdit, MasterEntry, MasterPanel, PanelError, Published, publish};
pub use outbox::{
    DocError, PanelView, SCHEMA_VERSION, Written, apply_published, apply_published_after,
    new_outbox, read_panel,
};
