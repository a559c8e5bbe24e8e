//! The harness behind `cargo xtask`: rendering of claim results (markdown
//! tables and `report.json`) and of single-run trajectories (CSV and JSON).
#![warn(missing_docs)]

pub mod figures;
pub mod plot;
pub mod progress;
pub mod render;
pub mod trajectory;
