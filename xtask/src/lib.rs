//! The harness behind `cargo xtask`: rendering of claim results (markdown
//! tables and `report.json`), of single-run trajectories (CSV and JSON),
//! and the analysis of a saved network (`analyze`).
#![warn(missing_docs)]

pub mod analyze;
pub mod figures;
pub mod plot;
pub mod progress;
pub mod render;
pub mod trajectory;
