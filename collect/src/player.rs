//! The player collector.
