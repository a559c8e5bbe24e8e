//! Integration tests of `claims`, one binary: each module below is a
//! test file of its own.

mod abp22;
mod bma24;
mod common;
mod counterexamples;
mod determinism;
mod label_noise;
mod plan;
mod sb21;
mod spec;
mod stop_after_failure;
mod theorem_a;
mod theorem_b;
mod units;
