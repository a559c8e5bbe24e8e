//! Claims of TMC25 (Tansley, Massart, Cartis, *On the Neural Feature Ansatz
//! for Deep Neural Networks*, AISTATS 2026).
//!
//! * [`theorem_a`]: balanced init + gradient flow ⇒ `W_1ᵀW_1 = G_1^{1/L}`
//!   exactly (SPEC §2.1).
//! * [`theorem_b`]: unbalanced init + weight decay ⇒ `D_l(t) = e^{−2λt}D_l(0)`
//!   and the NFA holds asymptotically; without decay it fails (SPEC §2.2).
//! * [`counterexamples`]: nonlinear networks that fit their data and break
//!   the NFA (SPEC §3).
//! * [`optimizers`]: the NFA across optimisers, decay, init, label noise
//!   and data sets (SPEC §2.4).

pub mod counterexamples;
mod figures;
pub mod label_noise;
pub mod optimizers;
pub mod theorem_a;
pub mod theorem_b;

use experiment::config::{DataConfig, ExperimentConfig};
use experiment::{ConfigError, Experiment};
use faer::Mat;

/// A grid point of a claim family: depth L, hidden width, outputs C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct GridPoint {
    pub depth: usize,
    pub width: usize,
    pub outputs: usize,
}

impl GridPoint {
    /// `L=3,width=10,C=2`: the point's part of a unit id.
    pub fn name(&self) -> String {
        format!("L={},width={},C={}", self.depth, self.width, self.outputs)
    }
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
    cfg.network.depth = Some(depth);
    cfg.network.width = Some(width);
    cfg.network.hidden = None;
    if let DataConfig::Teacher { outputs: c, .. } = &mut cfg.data {
        *c = outputs;
    }
    cfg.seed = crate::master_seed(cfg.seed, seed);
    cfg.validate()
}

/// The imbalances `D_1, …, D_{L−1}` of a stack of layers.
pub(crate) fn imbalance_mats(weights: &[Mat<f64>]) -> Vec<Mat<f64>> {
    metrics::imbalances(&common::views(weights)).expect("layers of a run chain")
}

/// `‖A − B‖_F`.
pub(crate) fn frob_diff(a: &Mat<f64>, b: &Mat<f64>) -> f64 {
    (a - b).norm_l2()
}
