//! BMA24's convolutional NFA study (`nfa.uc_vs_c`, `regime=conv`): UC-NFA
//! and C-NFA of every convolution of a VGG-style network over training, in
//! the regime of BMA24's `Conv/main.py` reconstructed on the digits as
//! 1×8×8 images (SPEC §4).

use experiment::config::{CheckpointConfig, DataConfig, DynamicsConfig, MomentumConfig};
use experiment::run::run_prepared;
use experiment::{Experiment, ExperimentConfig};
use serde::Deserialize;

use super::training::{Setting, measure, warmed_weights};
use super::{LayerSeries, Regime, TrainingData, mse_step};
use crate::{Mode, PerMode, RunOptions, UnitError};

/// `[conv]` of `fixtures/claims/bma24.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Conv {
    /// Seeds.
    pub seeds: Vec<u64>,
    /// The code's learning rate under `nn.MSELoss()` ([`mse_step`]).
    pub pytorch_learning_rate: f64,
    /// The code's learning rate of the warm-up epoch.
    pub pytorch_warmup_learning_rate: f64,
    /// Heavy-ball momentum μ (PyTorch's SGD momentum).
    pub momentum: f64,
    /// Minibatch size.
    pub batch_size: usize,
    /// Checkpoint epochs after the warm-up epoch (per mode).
    pub epochs: PerMode<Vec<usize>>,
    /// Digits trained on (per mode; 1797 = all).
    pub samples: PerMode<usize>,
    /// The first training images on which the PTK is measured (per mode;
    /// the code takes the first 1,000).
    pub ptk_samples: PerMode<usize>,
    /// The network, its data and init (`fixtures/experiments/bma24_conv.toml`);
    /// its seed, sample count, dynamics and checkpoints are set per run.
    pub experiment: ExperimentConfig,
}

/// The experiment of one phase of a run: the fixture's network on
/// `samples` digits, heavy-ball SGD at the code's learning rate `lr`
/// (converted by [`mse_step`]), recorded after the given updates.
pub(super) fn conv_experiment(
    c: &Conv,
    mode: Mode,
    seed: u64,
    lr: f64,
    steps: Vec<usize>,
) -> Result<Experiment, UnitError> {
    let mut cfg = c.experiment.clone();
    cfg.seed = seed;
    if let DataConfig::Digits { samples, .. } = &mut cfg.data {
        *samples = Some(c.samples.get(mode));
    }
    cfg.dynamics = DynamicsConfig::Momentum(MomentumConfig {
        learning_rate: mse_step(lr, datasets::DIGITS_CLASSES),
        weight_decay: 0.0,
        momentum: c.momentum,
        batch_size: Some(c.batch_size),
    });
    cfg.checkpoints = CheckpointConfig::Steps { steps };
    cfg.validate()
        .map_err(|e| UnitError::new(format!("config: {e}")))
}

/// One run: a warm-up epoch at the code's warm-up rate, then SGD with
/// momentum at its rate from the warmed weights (a new optimiser, so the
/// momentum restarts), measured at the fixture's epochs after the warm-up
/// on the first `ptk_samples` training images; `ΔW_l` from the init before
/// the warm-up.
pub(super) fn conv_run(c: &Conv, mode: Mode, seed: u64) -> Result<Vec<LayerSeries>, UnitError> {
    let per_epoch = c.samples.get(mode).div_ceil(c.batch_size);
    let warm_up = conv_experiment(
        c,
        mode,
        seed,
        c.pytorch_warmup_learning_rate,
        vec![per_epoch],
    )?;
    let mut prepared = experiment::prepare(&warm_up)?;
    let init = prepared.init.weights.clone();
    prepared.init.weights = warmed_weights(&warm_up, &prepared)?;
    let steps = c.epochs.get(mode).iter().map(|e| e * per_epoch).collect();
    let exp = conv_experiment(c, mode, seed, c.pytorch_learning_rate, steps)?;
    let traj = run_prepared(&exp, &prepared)?;
    let n = c.ptk_samples.get(mode).min(prepared.data.x.nrows());
    let x = prepared.data.x.subrows(0, n).to_owned();
    measure(&exp.network(), &traj.snapshots, &x, &init)
}

impl Setting {
    pub(super) fn conv(c: &Conv, options: &RunOptions) -> Result<Self, UnitError> {
        let mode = options.mode;
        let exp = conv_experiment(c, mode, 0, c.pytorch_learning_rate, vec![0])?;
        Ok(Setting {
            regime: Regime::Conv,
            data: vec![(TrainingData::Digits, c.samples.get(mode))],
            depth: exp.depth(),
            width: None,
            init: "Kaiming normal N(0, 2/(k_out·h·w)) for the convolutions, N(0, 0.01²) for the readout (the code's)",
            learning_rate: mse_step(c.pytorch_learning_rate, datasets::DIGITS_CLASSES),
            batch_size: c.batch_size,
            epochs: c.epochs.get(mode),
            seeds: crate::study_seeds(&c.seeds, options.seed),
            network: Some(exp.network()),
        })
    }
}

/// The estimated seconds of one run, from the experiment cost model: the
/// warm-up and training updates, and per measured epoch about
/// `MEASURE_PASSES` passes of the PTK's images (one backward pass per
/// output and the Gram matrices).
pub(super) fn conv_cost(c: &Conv, mode: Mode) -> f64 {
    const MEASURE_PASSES: usize = 10;
    let epochs = c.epochs.get(mode);
    let per_epoch = c.samples.get(mode).div_ceil(c.batch_size);
    let last = epochs.last().copied().unwrap_or(0);
    conv_experiment(
        c,
        mode,
        0,
        c.pytorch_learning_rate,
        vec![(1 + last) * per_epoch],
    )
    .map_or(0.0, |exp| {
        let measured = epochs.len() * MEASURE_PASSES * c.ptk_samples.get(mode);
        let per_sample = exp.estimated_seconds() / ((1 + last) * per_epoch * c.batch_size) as f64;
        exp.estimated_seconds() + measured as f64 * per_sample
    })
}

/// What the reconstruction changes from BMA24's `Conv/main.py`, and why
/// (reported with every row of the regime).
pub(super) const DIFFERS: &str = "BMA24's code trains VGG-11 (batch norm removed; 8 convolutions of 64–512 channels, then a 4096–4096–C classifier with dropout) on 32×32 images of CIFAR-10 and others for 100 epochs; here, so that a run costs seconds on 2 cores: the 1797 8×8 digits as 1×8×8 images (pixels standardised per pixel, not per channel), a VGG-style network of 4 convolutions (32, 64, 128, 128 channels, two max-pools, a global average pool) and one linear readout, 30 epochs. Kept: 3×3 convolutions with padding 1, the code's init, one-hot − 1/C targets, MSE, batch 256, SGD with momentum 0.9 at its learning rate 1.0 after a warm-up epoch at 1e-4, and its measurement (the PTK on the first 1,000 training images, Pearson correlation). Biases: the code's convolutions have biases when it trains but its measuring copy drops them, so its PTK is of another network than the one trained; ours has none, so the network measured is the network trained. Momentum: the code builds a new optimiser every epoch (its momentum restarts each epoch); ours restarts after the warm-up epoch only.";
