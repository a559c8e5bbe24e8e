//! Integration tests of `cli`, one binary: each module below is a test
//! file of its own; `support` builds their input files and runs the binary.

mod analyze_conv;
mod analyze_errors;
mod analyze_fixture;
mod analyze_formats;
mod analyze_round_trip;
mod analyze_series;
mod analyze_torch;
mod analyze_torch_cnn;
mod cli_errors;
mod cli_report;
mod details;
mod empirical;
mod figures;
mod report_snapshot;
mod shards;
mod support;
