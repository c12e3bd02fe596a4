//! The screenshot collector.
