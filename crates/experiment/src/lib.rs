//! From a configuration to a trajectory of measured checkpoints.
//!
//! The data flow of one experiment (see `ARCHITECTURE.md`):
//!
//! ```text
//! TOML ──► config::ExperimentConfig ──validate──► config::Experiment
//!      ──► run::prepare (data set, statistics of a deep linear network,
//!          initial network)
//!      ──► run::run (gradient flow or an optimiser, on
//!          deep_linear::LinearObjective, networks::MlpObjective or
//!          SequentialObjective)
//!      ──► run::Trajectory (snapshots)
//!      ──► measure::measure (deep linear: NFM, AGOP, similarities, α̂,
//!          imbalance) or measure::measure_network (NFA, α̂, UC/C-NFA)
//! ```
//!
//! Configurations are checked into a validated [`config::Experiment`]
//! before any numerics run, so invalid settings cannot reach them; every
//! error names its field in one line.
#![warn(missing_docs)]

pub mod config;
pub mod grid;
pub mod measure;
pub mod run;

pub use config::{ConfigError, Experiment, ExperimentConfig};
pub use grid::{Grid, GridError, GridPoint};
pub use measure::{CheckpointMeasurement, NetworkMeasurement, measure, measure_network};
pub use run::{Prepared, RunError, Snapshot, Trajectory, initial_params, prepare, run};
