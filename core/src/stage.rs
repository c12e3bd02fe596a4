//! Where an edit is on its way to the other device: one trace event per stage and device, under
//! the target [`TARGET`], so a profiler (the sync benchmark's breakdown) can time each stage
//! without the engine keeping clocks of its own. With no subscriber listening these cost a check
//! of a flag.

/// The tracing target of the stage events; the stage's name is in the field `stage`.
pub const TARGET: &str = "backstory::stage";

/// The stages of an edit, in order, on the author's device and then on the viewer's.
pub const STAGES: [&str; 8] = [
    COMMIT, PROJECTION, OUTBOX, SEND, RECEIVE, APPLY, EVENT, DURABLE,
];

/// The master panel is durable in SQLite.
pub const COMMIT: &str = "commit";
/// The master is projected into what the contact may see.
pub const PROJECTION: &str = "projection";
/// The difference is written into the outbox document.
pub const OUTBOX: &str = "outbox_write";
/// Bytes of a sync message are handed to the QUIC stream.
pub const SEND: &str = "sync_send";
/// A whole sync message arrived from a peer and passed the gate.
pub const RECEIVE: &str = "receive";
/// The change is applied to the received document and its watcher woke.
pub const APPLY: &str = "apply";
/// The windows were told (`PanelReceived`).
pub const EVENT: &str = "event";
/// A document chunk is durable in the store (on either device).
pub const DURABLE: &str = "doc_durable";

/// Marks that `device` (its endpoint id, in the field `device`) reached a stage: with two devices
/// in one process, as in the sync benchmark, each stage is told apart by who reached it.
#[inline]
pub fn reached(stage: &'static str, device: impl std::fmt::Display) {
    tracing::trace!(target: TARGET, stage, %device);
}

/// Marks that a document chunk is durable in a store ([`DURABLE`]; the store does not know whose
/// it is).
#[inline]
pub fn durable() {
    tracing::trace!(target: TARGET, stage = DURABLE);
}

/// The tracing target of reads of a document (field `doc`: its id): counting them tells which
/// contacts a piece of work touched.
pub const WORK_TARGET: &str = "backstory::work";

/// Marks that a document was opened to be read or written.
#[inline]
pub fn opened(doc: &str) {
    tracing::trace!(target: WORK_TARGET, doc);
}
