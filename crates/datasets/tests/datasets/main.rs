//! Integration tests of `datasets`, one binary: each module below is a
//! test file of its own.

mod digits;
mod pair;
mod tasks;
mod whiten;
