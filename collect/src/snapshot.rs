//! The snapshot collector.
