//! Integration tests of `metrics`, one binary: each module below is a
//! test file of its own.

mod common;
mod invariants;
