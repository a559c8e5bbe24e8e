//! Integration tests of `optim`, one binary: each module below is a
//! test file of its own.

mod dynamics;
mod optimizers;
