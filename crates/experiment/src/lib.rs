//! From a configuration to a trajectory of measured checkpoints.
//!
//! The data flow of one experiment (see `ARCHITECTURE.md`):
//!
//! ```text
//! TOML ──► config::ExperimentConfig ──validate──► config::Experiment
//!      ──► run::prepare (data set, statistics, initial network)
//!      ──► run::run (gradient flow or GD) ──► run::Trajectory (snapshots)
//!      ──► measure::measure (NFM, AGOP, similarities, α̂, imbalance)
//! ```
//!
//! Configurations are checked into a validated [`config::Experiment`]
//! before any numerics run, so invalid settings cannot reach them; every
//! error names its field in one line.
#![warn(missing_docs)]

pub mod config;
pub mod measure;
pub mod run;

pub use config::{ConfigError, Experiment, ExperimentConfig};
pub use measure::{CheckpointMeasurement, measure};
pub use run::{Prepared, RunError, Snapshot, Trajectory, prepare, run};
