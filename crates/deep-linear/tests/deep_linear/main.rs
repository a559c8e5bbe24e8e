//! Integration tests of `deep-linear`, one binary: each module below is a
//! test file of its own.

mod gradients;
mod weight_decay;
