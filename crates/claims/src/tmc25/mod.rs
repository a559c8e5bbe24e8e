//! Claims of TMC25 (Tansley, Massart, Cartis, *On the Neural Feature Ansatz
//! for Deep Neural Networks*, AISTATS 2026).
//!
//! * [`theorem_a`]: balanced init + gradient flow ⇒ `W_1ᵀW_1 = G_1^{1/L}`
//!   exactly (SPEC §2.1).

pub mod theorem_a;

use experiment::config::{DataConfig, ExperimentConfig};
use experiment::{ConfigError, Experiment};

/// A grid point of a claim family: depth L, hidden width, outputs C.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GridPoint {
    pub depth: usize,
    pub width: usize,
    pub outputs: usize,
}

/// A fixture template with the grid point's depth, hidden width, outputs and
/// seed filled in.
pub(crate) fn instantiate(
    template: &ExperimentConfig,
    point: GridPoint,
    seed: Option<u64>,
) -> Result<Experiment, ConfigError> {
    let GridPoint {
        depth,
        width,
        outputs,
    } = point;
    let mut cfg = template.clone();
    cfg.network.depth = depth;
    cfg.network.width = Some(width);
    cfg.network.hidden = None;
    if let DataConfig::Teacher { outputs: c, .. } = &mut cfg.data {
        *c = outputs;
    }
    if let Some(s) = seed {
        cfg.seed = s;
    }
    cfg.validate()
}
