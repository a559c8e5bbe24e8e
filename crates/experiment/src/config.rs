//! Experiment configuration: the TOML schema and its validation.
//!
//! ```toml
//! seed = 7
//!
//! [data]            # a linear teacher task (SPEC §2)
//! kind = "teacher"
//! samples = 64
//! input_dim = 8
//! outputs = 3
//! teacher_rank = 3  # optional, default min(outputs, input_dim)
//! noise = 0.0       # optional label noise σ_ε
//! anisotropy = 0.0  # optional
//! target = "linear" # optional: linear | argmax_one_hot
//!
//! [network]         # d_0 = input_dim → hidden widths → outputs
//! depth = 3
//! width = 10        # every hidden width (or `hidden = [10, 12]`)
//! activation = "identity" # optional: identity | relu | leaky_relu | tanh | gelu | quadratic
//! biases = false    # optional
//!
//! [init]
//! kind = "balanced" # balanced | gaussian | orthogonal | small | uniform (gain = 1: PyTorch's default)
//! scale = 1.0
//!
//! [dynamics]
//! kind = "gradient_flow" # gradient_flow | gd | sgd | momentum | nesterov | adam_l2 | adamw | speed_limited
//! rtol = 1e-12
//! atol = 1e-14
//! weight_decay = 0.0
//!
//! [checkpoints]
//! kind = "log"      # log | linear | steps | log_steps | until_converged
//! t_min = 0.01
//! t_end = 50.0
//! count = 20
//! ```
//!
//! The other data sets (`noise` is optional everywhere and adds `σ_ε ξ` to
//! the final targets from the label-noise stream):
//!
//! ```toml
//! [data]            # UCI digits, d = 64 (all 1797 rows when `samples` is absent)
//! kind = "digits"
//! samples = 500
//! target = "one_hot" # one_hot (C = 10, one-hot − 1/C) | parity (C = 1, ±1; SB21) | one_vs_rest (C = 10, ±1)
//! held_out = 0      # the last rows of a seeded order, left out of the standardisation
//!
//! [data]            # SB21 (SPEC §6): Y_ik = (x_ik + (x_ik² − 1)/√2)/√2, k < C ≤ d
//! kind = "synthetic"
//! samples = 200
//! input_dim = 16
//! outputs = 1       # optional, default 1
//!
//! [data]            # TMC25 (SPEC §3): Y = relu(X T_1ᵀ) T_2ᵀ, random teacher
//! kind = "relu_teacher"
//! samples = 100
//! input_dim = 10
//! teacher_width = 4
//! outputs = 1
//!
//! [data]            # ABP22 (SPEC §5): y = s·Xβ, X partially whitened, ‖β‖ = 1
//! kind = "whitened_teacher"
//! samples = 100
//! input_dim = 20
//! gamma = 0.0       # optional: 0 whitens, 1 keeps the raw spectrum
//! anisotropy = 0.0  # optional: raw column k scaled by (k+1)^{−a}
//! signal = 1.0      # optional: s
//!
//! [data]            # BMA24 (SPEC §4): X and Y i.i.d. N(0, 1), independent
//! kind = "gaussian"
//! samples = 60
//! input_dim = 10
//! outputs = 3
//!
//! [data]            # ABP22 (SPEC §5, §8): two digit classes, ±1 targets, d = 64
//! kind = "digit_pair"
//! classes = [0, 1]  # classes[0] → +1, classes[1] → −1
//! samples = 240     # training rows; the other rows of the two classes are held out
//! gamma = 0.0       # optional: 0 whitens (ZCA fitted on the training rows), 1 centres only
//! ```
//!
//! `teacher` with `target = "argmax_one_hot"` replaces the teacher's
//! outputs by one-hot − 1/C of their arg-max (BMA24, SPEC §4; needs C ≥ 2).
//!
//! The other checkpoint schedules:
//!
//! ```toml
//! [checkpoints]     # discrete optimisers: the updates after which to record
//! kind = "steps"
//! steps = [0, 10, 100, 1000]
//!
//! [checkpoints]     # discrete optimisers: 0 and count − 1 log-spaced steps up to total
//! kind = "log_steps"
//! total = 1000
//! count = 20
//!
//! [checkpoints]     # gradient flow until ℒ ≤ tolerance·ℒ(0) (ABP22)
//! kind = "until_converged"
//! t_first = 0.01    # t = 0, t_first, then times growing by 10^{1/per_decade}
//! per_decade = 4
//! tolerance = 1e-10
//! ```
//!
//! `log` and `linear` give times; a discrete optimiser records at the
//! nearest steps `k = round(t/η)`.
//!
//! Unknown keys are errors. [`ExperimentConfig::validate`] turns the raw
//! configuration into an [`Experiment`]; its errors name the field, e.g.
//! `network.depth: must be at least 1, got 0`.

use datasets::{
    DigitPairSpec, DigitsSpec, GaussianSpec, ReluTeacherSpec, SyntheticSpec, TeacherSpec,
    WhitenedTeacherSpec,
};
use init::InitScheme;
use networks::{Activation, Architecture, Sequential, Shape};
use optim::{Decay, GradientFlow, Method, Optimizer, OptimizerParams, Schedule};
use serde::{Deserialize, Serialize};

/// A configuration error, printed on one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConfigError {
    /// The text is not valid TOML for the schema (unknown key, wrong type).
    #[error("line {line}: {message}")]
    Parse {
        /// 1-based line of the offending text (0 when unknown).
        line: usize,
        /// The parser's message, on one line.
        message: String,
    },
    /// A value is out of range; `field` is its dotted path.
    #[error("{field}: {message}")]
    Invalid {
        /// Dotted path of the offending field.
        field: String,
        /// What is wrong.
        message: String,
    },
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        message: message.into(),
    }
}

/// Raw experiment configuration, as written in TOML.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    /// Optional name, used in output file names.
    #[serde(default)]
    pub name: Option<String>,
    /// Master seed; data, label noise and init use separate streams of it.
    #[serde(default)]
    pub seed: u64,
    /// The data set.
    pub data: DataConfig,
    /// The architecture.
    pub network: NetworkConfig,
    /// The initialisation.
    pub init: InitConfig,
    /// The dynamics.
    pub dynamics: DynamicsConfig,
    /// When to record the state.
    pub checkpoints: CheckpointConfig,
}

/// `[data]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DataConfig {
    /// Linear teacher `Y = XBᵀ + σ_ε ξ`, or one-hot labels of its arg-max.
    Teacher {
        /// n.
        samples: usize,
        /// d.
        input_dim: usize,
        /// C.
        outputs: usize,
        /// rank of B; default min(C, d).
        #[serde(default)]
        teacher_rank: Option<usize>,
        /// σ_ε.
        #[serde(default)]
        noise: f64,
        /// Input anisotropy exponent.
        #[serde(default)]
        anisotropy: f64,
        /// The targets: the teacher's outputs or their arg-max labels.
        #[serde(default)]
        target: TeacherTarget,
        /// Rescale the noisy targets to the Frobenius norm of the clean
        /// ones (a control that separates the noise from the larger label
        /// norm it brings; linear targets only).
        #[serde(default)]
        keep_label_norm: bool,
    },
    /// The digits data set (d = 64), standardised pixels, one-hot − 1/C
    /// labels (C = 10), their ±1 one-vs-rest coding (C = 10) or their
    /// parity (C = 1).
    Digits {
        /// Seeded subset size; all 1797 rows when absent.
        #[serde(default)]
        samples: Option<usize>,
        /// σ_ε.
        #[serde(default)]
        noise: f64,
        /// The targets.
        #[serde(default)]
        target: DigitsTarget,
        /// Rows held out (the last of the seeded subset; the
        /// standardisation is fitted on the others).
        #[serde(default)]
        held_out: usize,
    },
    /// SB21's synthetic task (SPEC §6), [`datasets::synthetic`].
    Synthetic {
        /// n.
        samples: usize,
        /// d.
        input_dim: usize,
        /// C ≤ d; default 1.
        #[serde(default = "one_output")]
        outputs: usize,
        /// σ_ε.
        #[serde(default)]
        noise: f64,
    },
    /// A random two-layer ReLU teacher (TMC25, SPEC §3),
    /// [`datasets::relu_teacher`].
    ReluTeacher {
        /// n.
        samples: usize,
        /// d.
        input_dim: usize,
        /// The teacher's hidden width m.
        teacher_width: usize,
        /// C.
        outputs: usize,
        /// σ_ε.
        #[serde(default)]
        noise: f64,
    },
    /// ABP22's scalar teacher on partially whitened inputs (SPEC §5),
    /// [`datasets::whitened_teacher`].
    WhitenedTeacher {
        /// P.
        samples: usize,
        /// D.
        input_dim: usize,
        /// Whitening exponent γ; default 0 (whitened).
        #[serde(default)]
        gamma: f64,
        /// Raw-input anisotropy a; default 0.
        #[serde(default)]
        anisotropy: f64,
        /// Teacher scale s; default 1.
        #[serde(default = "one")]
        signal: f64,
        /// σ_ε.
        #[serde(default)]
        noise: f64,
    },
    /// Independent Gaussian inputs and targets (BMA24, SPEC §4),
    /// [`datasets::gaussian`].
    Gaussian {
        /// n.
        samples: usize,
        /// d.
        input_dim: usize,
        /// C.
        outputs: usize,
        /// σ_ε.
        #[serde(default)]
        noise: f64,
    },
    /// Two digit classes with ±1 targets and held-out rows (ABP22, SPEC
    /// §5, §8), [`datasets::digit_pair`].
    DigitPair {
        /// The two classes (+1, −1).
        classes: [usize; 2],
        /// Training rows.
        samples: usize,
        /// Whitening exponent γ; default 0 (whitened).
        #[serde(default)]
        gamma: f64,
        /// σ_ε.
        #[serde(default)]
        noise: f64,
    },
}

fn one_output() -> usize {
    1
}

impl DataConfig {
    /// Set whether a teacher's noisy targets keep the clean targets' norm
    /// (`keep_label_norm`); other data sets have no such option.
    pub fn set_keep_label_norm(&mut self, keep: bool) {
        if let DataConfig::Teacher {
            keep_label_norm, ..
        } = self
        {
            *keep_label_norm = keep;
        }
    }

    /// Replace the label noise σ_ε.
    pub fn set_noise(&mut self, sigma: f64) {
        match self {
            DataConfig::Teacher { noise, .. }
            | DataConfig::Digits { noise, .. }
            | DataConfig::Synthetic { noise, .. }
            | DataConfig::ReluTeacher { noise, .. }
            | DataConfig::WhitenedTeacher { noise, .. }
            | DataConfig::Gaussian { noise, .. }
            | DataConfig::DigitPair { noise, .. } => *noise = sigma,
        }
    }
}

/// `target` of `kind = "teacher"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum TeacherTarget {
    /// `Y = XBᵀ` (plus noise): `"linear"`.
    #[default]
    Linear,
    /// [`datasets::argmax_one_hot`] of `XBᵀ` (BMA24, SPEC §4), then noise:
    /// `"argmax_one_hot"`.
    ArgmaxOneHot,
}

/// `target` of `kind = "digits"`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum DigitsTarget {
    /// One-hot − 1/C, C = 10: `"one_hot"`.
    #[default]
    OneHot,
    /// [`datasets::parity_targets`]: +1 for an even digit, −1 for an odd
    /// one (SB21, SPEC §6), then noise: `"parity"`.
    Parity,
    /// [`datasets::one_vs_rest_targets`]: +1 for the sample's class and −1
    /// for the other nine (SB21's ±1 coding, SPEC §8), then noise:
    /// `"one_vs_rest"`.
    OneVsRest,
}

/// The member of `all` called `name`; otherwise a message naming the
/// field `data.target` and the names of `all`.
fn choose<T: Copy>(name: &str, all: &[T], name_of: fn(T) -> &'static str) -> Result<T, String> {
    all.iter()
        .copied()
        .find(|&t| name_of(t) == name)
        .ok_or_else(|| {
            let names: Vec<String> = all.iter().map(|&t| format!("`{}`", name_of(t))).collect();
            format!(
                "data.target: unknown target `{name}`, expected {}",
                names.join(" or ")
            )
        })
}

impl TeacherTarget {
    /// Every target.
    pub const ALL: [TeacherTarget; 2] = [TeacherTarget::Linear, TeacherTarget::ArgmaxOneHot];

    /// The name in configs.
    pub fn name(self) -> &'static str {
        match self {
            TeacherTarget::Linear => "linear",
            TeacherTarget::ArgmaxOneHot => "argmax_one_hot",
        }
    }
}

impl DigitsTarget {
    /// Every target.
    pub const ALL: [DigitsTarget; 3] = [
        DigitsTarget::OneHot,
        DigitsTarget::Parity,
        DigitsTarget::OneVsRest,
    ];

    /// The name in configs.
    pub fn name(self) -> &'static str {
        match self {
            DigitsTarget::OneHot => "one_hot",
            DigitsTarget::Parity => "parity",
            DigitsTarget::OneVsRest => "one_vs_rest",
        }
    }
}

impl TryFrom<String> for TeacherTarget {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        choose(&name, &Self::ALL, Self::name)
    }
}

impl From<TeacherTarget> for &'static str {
    fn from(t: TeacherTarget) -> Self {
        t.name()
    }
}

impl TryFrom<String> for DigitsTarget {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        choose(&name, &Self::ALL, Self::name)
    }
}

impl From<DigitsTarget> for &'static str {
    fn from(t: DigitsTarget) -> Self {
        t.name()
    }
}

/// The data set of a validated experiment. A target transform is applied
/// to the noiseless targets; the label noise `σ_ε ξ` is added after it.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    /// Synthetic linear teacher.
    Teacher {
        /// Inputs, teacher and noise.
        spec: TeacherSpec,
        /// The targets.
        target: TeacherTarget,
        /// The noisy targets rescaled to the clean targets' norm.
        keep_label_norm: bool,
    },
    /// Digits.
    Digits {
        /// Subset and noise.
        spec: DigitsSpec,
        /// The targets.
        target: DigitsTarget,
    },
    /// SB21's synthetic task.
    Synthetic(SyntheticSpec),
    /// A two-layer ReLU teacher.
    ReluTeacher(ReluTeacherSpec),
    /// ABP22's whitened scalar teacher.
    WhitenedTeacher(WhitenedTeacherSpec),
    /// Independent Gaussian inputs and targets.
    Gaussian(GaussianSpec),
    /// Two digit classes with held-out rows.
    DigitPair(DigitPairSpec),
}

impl DataSpec {
    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        match self {
            DataSpec::Teacher { spec, .. } => spec.input_dim,
            DataSpec::Digits { .. } => datasets::DIGITS_PIXELS,
            DataSpec::Synthetic(s) => s.input_dim,
            DataSpec::ReluTeacher(s) => s.input_dim,
            DataSpec::WhitenedTeacher(s) => s.input_dim,
            DataSpec::Gaussian(s) => s.input_dim,
            DataSpec::DigitPair(_) => datasets::DIGITS_PIXELS,
        }
    }
    /// Output dimension C.
    pub fn outputs(&self) -> usize {
        match self {
            DataSpec::Teacher { spec, .. } => spec.outputs,
            DataSpec::Digits {
                target: DigitsTarget::OneHot | DigitsTarget::OneVsRest,
                ..
            } => datasets::DIGITS_CLASSES,
            DataSpec::Digits {
                target: DigitsTarget::Parity,
                ..
            } => 1,
            DataSpec::Synthetic(s) => s.outputs,
            DataSpec::ReluTeacher(s) => s.outputs,
            DataSpec::WhitenedTeacher(_) => 1,
            DataSpec::Gaussian(s) => s.outputs,
            DataSpec::DigitPair(_) => 1,
        }
    }
    /// Number of samples n.
    pub fn samples(&self) -> usize {
        match self {
            DataSpec::Teacher { spec, .. } => spec.samples,
            DataSpec::Digits { spec, .. } => spec.samples,
            DataSpec::Synthetic(s) => s.samples,
            DataSpec::ReluTeacher(s) => s.samples,
            DataSpec::WhitenedTeacher(s) => s.samples,
            DataSpec::Gaussian(s) => s.samples,
            DataSpec::DigitPair(s) => s.samples,
        }
    }
    /// Label-noise σ_ε.
    pub fn noise(&self) -> f64 {
        match self {
            DataSpec::Teacher { spec, .. } => spec.noise,
            DataSpec::Digits { spec, .. } => spec.noise,
            DataSpec::Synthetic(s) => s.noise,
            DataSpec::ReluTeacher(s) => s.noise,
            DataSpec::WhitenedTeacher(s) => s.noise,
            DataSpec::Gaussian(s) => s.noise,
            DataSpec::DigitPair(s) => s.noise,
        }
    }
}

/// `[network]`: a fully connected network of `depth` layers,
/// `h_l = W_l a_{l−1} (+ b_l)`, `a_l = φ(h_l)`, `f = h_L` (SPEC §0); with
/// the identity and no biases, a deep linear network. Or a sequential
/// (convolutional) network (SPEC §9): the shape of one sample, `input`,
/// and its `[[network.layers]]` in the format of [`networks::LayerSpec`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Number of layers L ≥ 1 (a fully connected network; exclusive with
    /// `layers`).
    #[serde(default)]
    pub depth: Option<usize>,
    /// Width of every hidden layer (exclusive with `hidden`).
    #[serde(default)]
    pub width: Option<usize>,
    /// Widths d_1..d_{L−1} of the hidden layers.
    #[serde(default)]
    pub hidden: Option<Vec<usize>>,
    /// φ of the hidden layers, by its [`Activation`] name; the identity
    /// when absent.
    #[serde(default)]
    pub activation: Option<String>,
    /// Whether every layer (every convolution and linear layer) has a bias
    /// (initialised to 0).
    #[serde(default)]
    pub biases: bool,
    /// The shape of one sample of a sequential network,
    /// `[channels, height, width]` or `[features]`, whose size is the
    /// data's input dimension (default `[input_dim]`): the digits are the
    /// 1×8×8 images `input = [1, 8, 8]`.
    #[serde(default)]
    pub input: Option<Vec<usize>>,
    /// The layers of a sequential network, in order (exclusive with
    /// `depth`, `width`, `hidden` and `activation`).
    #[serde(default)]
    pub layers: Option<Vec<networks::LayerSpec>>,
}

impl NetworkConfig {
    /// The field that gives the hidden widths: `network.hidden` or
    /// `network.width`.
    fn width_field(&self) -> &'static str {
        if self.hidden.is_some() {
            "network.hidden"
        } else {
            "network.width"
        }
    }

    /// A fully connected network of `depth` layers of hidden width `width`
    /// and activation `activation`.
    pub fn mlp(depth: usize, width: usize, activation: Activation, biases: bool) -> Self {
        NetworkConfig {
            depth: Some(depth),
            width: Some(width),
            hidden: None,
            activation: Some(activation.name().to_owned()),
            biases,
            input: None,
            layers: None,
        }
    }
}

/// `[init]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum InitConfig {
    /// Balanced (SPEC §2.3).
    Balanced {
        /// Scale of the end-to-end matrix.
        #[serde(default = "one")]
        scale: f64,
        /// Rank r; default min(C, d).
        #[serde(default)]
        rank: Option<usize>,
    },
    /// Gaussian `N(0, σ²/d_{l−1})`.
    Gaussian {
        /// σ for every layer.
        #[serde(default)]
        sigma: Option<f64>,
        /// σ per layer.
        #[serde(default)]
        sigmas: Option<Vec<f64>>,
    },
    /// Scaled semi-orthogonal.
    Orthogonal {
        /// Gain.
        #[serde(default = "one")]
        gain: f64,
    },
    /// Small Gaussian (ABP22).
    Small {
        /// σ ≤ 0.1.
        sigma: f64,
    },
    /// Uniform `U(−g/√d_{l−1}, g/√d_{l−1})`; g = 1 is PyTorch's default
    /// `nn.Linear` init.
    Uniform {
        /// Gain g.
        #[serde(default = "one")]
        gain: f64,
    },
}

fn one() -> f64 {
    1.0
}

/// `[dynamics]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DynamicsConfig {
    /// Gradient flow by Dormand–Prince 5(4).
    GradientFlow {
        /// Relative tolerance.
        #[serde(default = "default_rtol")]
        rtol: f64,
        /// Absolute tolerance.
        #[serde(default = "default_atol")]
        atol: f64,
        /// Weight decay λ.
        #[serde(default)]
        weight_decay: f64,
        /// Step budget.
        #[serde(default = "default_max_steps")]
        max_steps: usize,
    },
    /// Full-batch gradient descent.
    Gd {
        /// η.
        learning_rate: f64,
        /// Weight decay λ (coupled L2).
        #[serde(default)]
        weight_decay: f64,
    },
    /// Minibatch SGD (seeded batch order).
    Sgd {
        /// η.
        learning_rate: f64,
        /// Weight decay λ (coupled L2).
        #[serde(default)]
        weight_decay: f64,
        /// Minibatch size.
        batch_size: usize,
    },
    /// SGD with heavy-ball momentum.
    Momentum(MomentumConfig),
    /// SGD with Nesterov momentum.
    Nesterov(MomentumConfig),
    /// Adam with L2-coupled weight decay (plain Adam when λ = 0).
    AdamL2(AdamConfig),
    /// AdamW: Adam with decoupled weight decay.
    Adamw(AdamConfig),
    /// GD or SGD with a speed limit on one weight matrix (BMA24's
    /// speed-limited optimisation, reconstructed: SPEC §4).
    SpeedLimited(SpeedLimitedConfig),
}

/// The fields of `kind = "speed_limited"`: weight matrix `W_layer` steps by
/// `speed·d/‖d‖_F` (d its gradient, with the coupled decay), every other
/// parameter by `η d`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SpeedLimitedConfig {
    /// η of the other parameters.
    pub learning_rate: f64,
    /// Weight decay λ (coupled L2).
    #[serde(default)]
    pub weight_decay: f64,
    /// Step length of the speed-limited weight matrix (Frobenius norm).
    pub speed: f64,
    /// The speed-limited weight matrix `W_layer`, 1-based (1 = the first
    /// layer, `depth` = the readout).
    pub layer: usize,
    /// Minibatch size; full batch when absent.
    #[serde(default)]
    pub batch_size: Option<usize>,
}

/// The fields of `kind = "momentum"` and `kind = "nesterov"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MomentumConfig {
    /// η.
    pub learning_rate: f64,
    /// Weight decay λ (coupled L2).
    #[serde(default)]
    pub weight_decay: f64,
    /// μ.
    #[serde(default = "default_momentum")]
    pub momentum: f64,
    /// Minibatch size; full batch when absent.
    #[serde(default)]
    pub batch_size: Option<usize>,
}

/// The fields of `kind = "adam_l2"` and `kind = "adamw"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// η.
    pub learning_rate: f64,
    /// Weight decay λ (L2-coupled for `adam_l2`, decoupled for `adamw`).
    #[serde(default)]
    pub weight_decay: f64,
    /// β₁.
    #[serde(default = "default_beta1")]
    pub beta1: f64,
    /// β₂.
    #[serde(default = "default_beta2")]
    pub beta2: f64,
    /// ε.
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    /// Minibatch size; full batch when absent.
    #[serde(default)]
    pub batch_size: Option<usize>,
}

impl MomentumConfig {
    fn params(&self, method: Method, batch_seed: u64) -> OptimizerParams {
        OptimizerParams {
            method,
            learning_rate: self.learning_rate,
            weight_decay: self.weight_decay,
            decay: Decay::L2,
            batch_size: self.batch_size,
            batch_seed,
        }
    }
}

impl AdamConfig {
    fn params(&self, decay: Decay, batch_seed: u64) -> OptimizerParams {
        OptimizerParams {
            method: Method::Adam {
                beta1: self.beta1,
                beta2: self.beta2,
                epsilon: self.epsilon,
            },
            learning_rate: self.learning_rate,
            weight_decay: self.weight_decay,
            decay,
            batch_size: self.batch_size,
            batch_seed,
        }
    }
}

fn default_momentum() -> f64 {
    0.9
}
fn default_beta1() -> f64 {
    0.9
}
fn default_beta2() -> f64 {
    0.999
}
fn default_epsilon() -> f64 {
    1e-8
}

impl DynamicsConfig {
    /// The `kind` name (`gradient_flow`, `gd`, `sgd`, `momentum`, `nesterov`,
    /// `adam_l2`, `adamw`).
    pub fn name(&self) -> &'static str {
        match self {
            DynamicsConfig::GradientFlow { .. } => "gradient_flow",
            DynamicsConfig::Gd { .. } => "gd",
            DynamicsConfig::Sgd { .. } => "sgd",
            DynamicsConfig::Momentum { .. } => "momentum",
            DynamicsConfig::Nesterov { .. } => "nesterov",
            DynamicsConfig::AdamL2 { .. } => "adam_l2",
            DynamicsConfig::Adamw { .. } => "adamw",
            DynamicsConfig::SpeedLimited { .. } => "speed_limited",
        }
    }

    /// Replace the weight decay λ.
    pub fn set_weight_decay(&mut self, lambda: f64) {
        match self {
            DynamicsConfig::GradientFlow { weight_decay, .. }
            | DynamicsConfig::Gd { weight_decay, .. }
            | DynamicsConfig::Sgd { weight_decay, .. }
            | DynamicsConfig::Momentum(MomentumConfig { weight_decay, .. })
            | DynamicsConfig::Nesterov(MomentumConfig { weight_decay, .. })
            | DynamicsConfig::AdamL2(AdamConfig { weight_decay, .. })
            | DynamicsConfig::Adamw(AdamConfig { weight_decay, .. })
            | DynamicsConfig::SpeedLimited(SpeedLimitedConfig { weight_decay, .. }) => {
                *weight_decay = lambda
            }
        }
    }

    /// The step size η of a discrete optimiser (`None` for gradient flow).
    pub fn learning_rate(&self) -> Option<f64> {
        match *self {
            DynamicsConfig::GradientFlow { .. } => None,
            DynamicsConfig::Gd { learning_rate, .. }
            | DynamicsConfig::Sgd { learning_rate, .. }
            | DynamicsConfig::Momentum(MomentumConfig { learning_rate, .. })
            | DynamicsConfig::Nesterov(MomentumConfig { learning_rate, .. })
            | DynamicsConfig::AdamL2(AdamConfig { learning_rate, .. })
            | DynamicsConfig::Adamw(AdamConfig { learning_rate, .. })
            | DynamicsConfig::SpeedLimited(SpeedLimitedConfig { learning_rate, .. }) => {
                Some(learning_rate)
            }
        }
    }

    /// The discrete optimiser's unchecked hyperparameters (`None` for
    /// gradient flow); `batch_seed` seeds the batch order.
    pub fn optimizer_params(&self, batch_seed: u64) -> Option<OptimizerParams> {
        let p =
            |method, learning_rate: f64, weight_decay: f64, decay, batch_size| OptimizerParams {
                method,
                learning_rate,
                weight_decay,
                decay,
                batch_size,
                batch_seed,
            };
        Some(match *self {
            DynamicsConfig::GradientFlow { .. } => return None,
            DynamicsConfig::Gd {
                learning_rate,
                weight_decay,
            } => p(Method::Gd, learning_rate, weight_decay, Decay::L2, None),
            DynamicsConfig::Sgd {
                learning_rate,
                weight_decay,
                batch_size,
            } => p(
                Method::Gd,
                learning_rate,
                weight_decay,
                Decay::L2,
                Some(batch_size),
            ),
            DynamicsConfig::Momentum(ref m) => m.params(
                Method::HeavyBall {
                    momentum: m.momentum,
                },
                batch_seed,
            ),
            DynamicsConfig::Nesterov(ref m) => m.params(
                Method::Nesterov {
                    momentum: m.momentum,
                },
                batch_seed,
            ),
            DynamicsConfig::AdamL2(ref a) => a.params(Decay::L2, batch_seed),
            DynamicsConfig::Adamw(ref a) => a.params(Decay::Decoupled, batch_seed),
            // Layer 0 (invalid) maps out of range, which `run_optimizer`
            // refuses naming `dynamics.layer` (`validate` refuses it first).
            DynamicsConfig::SpeedLimited(ref s) => p(
                Method::SpeedLimited {
                    layer: s.layer.wrapping_sub(1),
                    speed: s.speed,
                },
                s.learning_rate,
                s.weight_decay,
                Decay::L2,
                s.batch_size,
            ),
        })
    }
}

fn default_rtol() -> f64 {
    GradientFlow::default().rtol
}
fn default_atol() -> f64 {
    GradientFlow::default().atol
}
fn default_max_steps() -> usize {
    GradientFlow::default().max_steps
}

/// `[checkpoints]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckpointConfig {
    /// Log-spaced in `[t_min, t_end]`, plus t = 0.
    Log {
        /// First positive time.
        t_min: f64,
        /// Last time.
        t_end: f64,
        /// Number of positive times.
        count: usize,
    },
    /// Equally spaced in `(0, t_end]`, plus t = 0.
    Linear {
        /// Last time.
        t_end: f64,
        /// Number of positive times.
        count: usize,
    },
    /// The given updates of a discrete optimiser (strictly increasing; 0
    /// is the initial state).
    Steps {
        /// Step counts k.
        steps: Vec<usize>,
    },
    /// Step 0 and log-spaced steps up to `total`: [`log_steps`].
    LogSteps {
        /// Last step.
        total: usize,
        /// Number of checkpoints, step 0 included (fewer when rounding
        /// makes small steps coincide).
        count: usize,
    },
    /// Gradient flow observed at 0, `t_first`, then at times growing by
    /// `10^{1/per_decade}` until `ℒ ≤ tolerance·ℒ(0)`: [`UntilConverged`].
    UntilConverged {
        /// First positive time.
        t_first: f64,
        /// Checkpoints per decade of time.
        per_decade: usize,
        /// Convergence threshold relative to the initial loss.
        tolerance: f64,
    },
}

/// `[0]` and up to `count − 1` distinct log-spaced steps from 1 to `total`:
/// `k_j = clamp(round(total^{j/max(count−2, 1)}), 1, total)` for
/// `j = 0, …, max(count−1, 1) − 1`, each kept when it exceeds the last one
/// kept (SB21's checkpoints, SPEC §6: log-spaced so that the local exponent
/// `−d log ℒ / d log t` is resolved at every scale).
pub fn log_steps(total: usize, count: usize) -> Vec<usize> {
    let mut steps = vec![0];
    let top = (total.max(1) as f64).ln();
    for k in 0..count.saturating_sub(1).max(1) {
        let frac = k as f64 / (count.saturating_sub(2).max(1)) as f64;
        let s = ((top * frac).exp().round() as usize).clamp(1, total.max(1));
        if s > *steps.last().unwrap_or(&0) {
            steps.push(s);
        }
    }
    steps
}

/// Gradient flow run until it has converged (ABP22, SPEC §5). The run is
/// observed at `t_0 = 0`, `t_1 = t_first` and `t_{k+1} = t_k·g` with
/// `g = 10^{1/per_decade}`; each interval `[t_k, t_{k+1}]` is a separate
/// integration from the state at `t_k` (the flow is autonomous, so this is
/// exact up to the integrator's tolerance), and the run stops at the first
/// checkpoint where `ℒ(t_k) ≤ tolerance·ℒ(0)`: deep networks leave their
/// plateau abruptly, and integrating a converged network over a long
/// interval costs steps bounded by stability, not accuracy. A run that has
/// not converged after [`UntilConverged::max_intervals`] intervals (ten
/// decades of time beyond `t_first`) is an error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UntilConverged {
    /// `t_1 > 0`.
    pub t_first: f64,
    /// Checkpoints per decade of time, ≥ 1.
    pub per_decade: usize,
    /// Threshold on `ℒ(t)/ℒ(0)`, in (0, 1).
    pub tolerance: f64,
}

impl UntilConverged {
    /// The most intervals a run integrates, `10·per_decade + 2`.
    pub fn max_intervals(&self) -> usize {
        10 * self.per_decade + 2
    }

    /// The growth factor `10^{1/per_decade}` of the checkpoint times.
    pub fn growth(&self) -> f64 {
        10f64.powf(1.0 / self.per_decade.max(1) as f64)
    }
}

/// The checkpoints of a validated experiment.
#[derive(Debug, Clone, PartialEq)]
pub enum Checkpoints {
    /// Times (from `log` or `linear`); a discrete optimiser records at the
    /// nearest steps ([`Schedule::steps`]).
    Times(Schedule),
    /// Steps of a discrete optimiser (from `steps` or `log_steps`).
    Steps(Vec<usize>),
    /// Gradient flow until converged.
    UntilConverged(UntilConverged),
}

/// The dynamics of a validated experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dynamics {
    /// Gradient flow.
    GradientFlow(GradientFlow),
    /// A discrete optimiser (GD, SGD, momentum, Adam, AdamW, speed-limited).
    Discrete(Optimizer),
}

impl Dynamics {
    /// Weight decay λ.
    pub fn weight_decay(&self) -> f64 {
        match self {
            Dynamics::GradientFlow(g) => g.weight_decay,
            Dynamics::Discrete(o) => o.params().weight_decay,
        }
    }
}

/// A validated experiment: every value is in range.
#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    /// Name.
    pub name: String,
    /// Master seed.
    pub seed: u64,
    /// Data set.
    pub data: DataSpec,
    /// `[d_0, …, d_L]`.
    pub widths: Vec<usize>,
    /// φ of the hidden layers.
    pub activation: Activation,
    /// Whether the layers have biases (initialised to 0).
    pub biases: bool,
    /// The sequential (convolutional) network of `[[network.layers]]`;
    /// `None` for a fully connected network. When present, `widths` is
    /// `[d_0, C]` and `activation` the identity: [`Experiment::network`]
    /// is the network.
    pub layers: Option<Sequential>,
    /// Initialisation of the weights.
    pub init: InitScheme,
    /// Dynamics.
    pub dynamics: Dynamics,
    /// Checkpoints.
    pub checkpoints: Checkpoints,
}

impl Experiment {
    /// Parse and validate a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Experiment, ConfigError> {
        ExperimentConfig::from_toml(text)?.validate()
    }

    /// Depth L: the number of weight layers (convolutions and linear
    /// layers of a sequential network).
    pub fn depth(&self) -> usize {
        match &self.layers {
            Some(network) => network.weight_layers().count(),
            None => self.widths.len() - 1,
        }
    }

    /// The fully connected network of the run (parameters `[W_1..W_L]`,
    /// or `[W_1..W_L, b_1..b_L]` with biases); a run of
    /// `[[network.layers]]` has [`Experiment::network`] instead.
    pub fn architecture(&self) -> Architecture {
        Architecture {
            widths: self.widths.clone(),
            activation: self.activation,
            bias: self.biases,
        }
    }

    /// The network of any run as a sequential network (a fully connected
    /// one as `[Linear, φ, …, Linear]`).
    pub fn network(&self) -> Sequential {
        match &self.layers {
            Some(network) => network.clone(),
            None => {
                Sequential::from_mlp(&self.architecture()).expect("validated widths make a network")
            }
        }
    }

    /// The number of weights `Σ_l d_l d_{l−1}` (biases not counted); for a
    /// sequential network, the entries of its weight matrices.
    pub fn weight_count(&self) -> usize {
        match &self.layers {
            Some(network) => network
                .parameter_layers()
                .iter()
                .map(|&(_, (rows, cols), _)| rows * cols)
                .sum(),
            None => self.widths.windows(2).map(|w| w[0] * w[1]).sum(),
        }
    }

    /// The multiply–adds of one sample through the network: the weight
    /// count of a fully connected network; a convolution's weights count
    /// once per output position.
    pub fn sample_work(&self) -> usize {
        match &self.layers {
            Some(network) => network
                .parameter_layers()
                .iter()
                .map(|&(k, (rows, cols), _)| {
                    let positions = network.conv_geometry(k).map_or(1, |g| g.positions());
                    rows * cols * positions
                })
                .sum(),
            None => self.weight_count(),
        }
    }

    /// A rough cost of the run in seconds on one core, for ordering and
    /// balancing units of work only: its gradient evaluations — a discrete
    /// optimiser's updates or, for gradient flow, whose steps are adaptive,
    /// a stand-in of 100 per checkpoint — times the cost of one: for a deep
    /// linear network, which evaluates from the statistics `XᵀX/n`,
    /// `YᵀX/n`, [`SECONDS_PER_WEIGHT`] per weight; for any other,
    /// [`SECONDS_PER_SAMPLE_WEIGHT`] per sample of the batch and per
    /// multiply–add of [`Experiment::sample_work`], plus ten per unit of a
    /// fully connected network (the elementwise work of `d_1 + … + d_L`
    /// units; a convolution's is small beside its multiply–adds).
    pub fn estimated_seconds(&self) -> f64 {
        let evaluations = self
            .updates()
            .unwrap_or(100 * crate::run::checkpoint_count(self))
            .max(1) as f64;
        let per_evaluation = if self.is_deep_linear() {
            SECONDS_PER_WEIGHT * self.weight_count() as f64
        } else {
            let n = self.data.samples();
            let batch = match &self.dynamics {
                Dynamics::Discrete(o) => o.params().batch_size.map_or(n, |b| b.min(n)),
                Dynamics::GradientFlow(_) => n,
            };
            let units: usize = match self.layers {
                Some(_) => 0,
                None => self.widths[1..].iter().sum(),
            };
            SECONDS_PER_SAMPLE_WEIGHT * batch as f64 * (self.sample_work() + 10 * units) as f64
        };
        evaluations * per_evaluation
    }

    /// True for a deep linear network (identity, no biases): the run
    /// evaluates the loss from the sufficient statistics `XᵀX/n`, `YᵀX/n`
    /// ([`deep_linear::LinearObjective`]) instead of backpropagating
    /// through the samples.
    pub fn is_deep_linear(&self) -> bool {
        self.layers.is_none() && self.activation == Activation::Identity && !self.biases
    }

    /// The updates a discrete optimiser makes: the step of its last
    /// checkpoint (`round(t/η)` of the last time); `None` for gradient
    /// flow.
    pub fn updates(&self) -> Option<usize> {
        let Dynamics::Discrete(o) = &self.dynamics else {
            return None;
        };
        match &self.checkpoints {
            Checkpoints::Steps(steps) => steps.last().copied(),
            Checkpoints::Times(s) => s.steps(o.params().learning_rate).last().copied(),
            Checkpoints::UntilConverged(_) => None,
        }
    }
}

/// Seconds per sample and weight of one gradient evaluation of a network
/// trained through the samples, fitted (with ten per unit for the
/// elementwise work) to the single-core unit times of SB21's full-batch GD
/// runs in `report` and `report --quick` (release build, 2-core reference
/// machine): within a factor 1.3 for every unit.
pub const SECONDS_PER_SAMPLE_WEIGHT: f64 = 1.2e-10;

/// Seconds per weight of one gradient evaluation of a deep linear network
/// (from its sufficient statistics), fitted to the unit times of TMC25's
/// optimiser study (210 weights on the teacher, 3392 on digits): within a
/// factor 2–3.
pub const SECONDS_PER_WEIGHT: f64 = 2e-8;

/// Turn a TOML parse error into one line with its line number.
pub fn parse_error(text: &str, err: &toml::de::Error) -> ConfigError {
    let line = err
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
        .unwrap_or(0);
    ConfigError::Parse {
        line,
        message: err.message().replace('\n', " ").trim().to_owned(),
    }
}

fn finite_pos(field: &str, v: f64) -> Result<(), ConfigError> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(invalid(field, format!("must be finite and > 0, got {v}")))
    }
}

impl ExperimentConfig {
    /// Parse TOML (unknown keys are errors).
    pub fn from_toml(text: &str) -> Result<ExperimentConfig, ConfigError> {
        toml::from_str(text).map_err(|e| parse_error(text, &e))
    }

    /// Check every field and build the [`Experiment`].
    pub fn validate(&self) -> Result<Experiment, ConfigError> {
        let data = self.data.validate()?;
        let (input_dim, outputs) = (data.input_dim(), data.outputs());

        let net = &self.network;
        let (widths, activation, layers) = match &net.layers {
            Some(specs) => {
                let network = sequential_network(net, specs, input_dim, outputs)?;
                (
                    vec![input_dim, outputs],
                    Activation::Identity,
                    Some(network),
                )
            }
            None => {
                let (widths, activation) = fully_connected(net, input_dim, outputs)?;
                (widths, activation, None)
            }
        };
        let depth = match &layers {
            Some(network) => network.weight_layers().count(),
            None => widths.len() - 1,
        };
        let width_field = net.width_field();
        let hidden = &widths[1..widths.len() - 1];

        let init = match &self.init {
            InitConfig::Balanced { .. } if layers.is_some() => {
                return Err(invalid(
                    "init.kind",
                    "balanced needs a fully connected network, not `network.layers`",
                ));
            }
            InitConfig::Balanced { scale, rank } => {
                finite_pos("init.scale", *scale)?;
                let max_rank = outputs.min(input_dim);
                let r = rank.unwrap_or(max_rank);
                if r == 0 || r > max_rank {
                    return Err(invalid(
                        "init.rank",
                        format!("must be in 1..={max_rank} (min(outputs, input_dim)), got {r}"),
                    ));
                }
                if let Some(w) = hidden.iter().find(|&&w| w < r) {
                    return Err(invalid(
                        width_field,
                        format!(
                            "hidden width {w} is smaller than the rank r = {r} a balanced init needs"
                        ),
                    ));
                }
                InitScheme::Balanced {
                    scale: *scale,
                    rank: Some(r),
                }
            }
            InitConfig::Gaussian { sigma, sigmas } => {
                let sigma = match (sigma, sigmas) {
                    (Some(s), None) => vec![*s],
                    (None, Some(v)) => v.clone(),
                    (None, None) => vec![1.0],
                    (Some(_), Some(_)) => {
                        return Err(invalid("init", "give either `sigma` or `sigmas`, not both"));
                    }
                };
                InitScheme::Gaussian { sigma }
            }
            InitConfig::Orthogonal { gain } => InitScheme::Orthogonal { gain: *gain },
            InitConfig::Small { sigma } => InitScheme::Small { sigma: *sigma },
            InitConfig::Uniform { gain } => InitScheme::Uniform { gain: *gain },
        };
        init.validate(depth).map_err(|e| match e {
            init::InitError::Invalid { field, message } => invalid(field, message),
            other => invalid("init", other.to_string()),
        })?;

        let dynamics = match &self.dynamics {
            DynamicsConfig::GradientFlow {
                rtol,
                atol,
                weight_decay,
                max_steps,
            } => Dynamics::GradientFlow(GradientFlow {
                rtol: *rtol,
                atol: *atol,
                weight_decay: *weight_decay,
                max_steps: *max_steps,
            }),
            DynamicsConfig::SpeedLimited(s) if !(1..=depth).contains(&s.layer) => {
                return Err(invalid(
                    "dynamics.layer",
                    format!(
                        "must be a weight layer 1..={depth} of this network, got {}",
                        s.layer
                    ),
                ));
            }
            other => Dynamics::Discrete(
                other
                    .optimizer_params(common::seed::batch_seed(self.seed))
                    .expect("every other kind is discrete")
                    .validate()
                    .map_err(dynamics_field)?,
            ),
        };
        if let Dynamics::GradientFlow(g) = &dynamics {
            g.validate().map_err(dynamics_field)?;
        }

        let checkpoints = self.checkpoints.validate(&dynamics)?;

        Ok(Experiment {
            name: self.name.clone().unwrap_or_else(|| "experiment".to_owned()),
            seed: self.seed,
            data,
            widths,
            activation,
            biases: net.biases,
            layers,
            init,
            dynamics,
            checkpoints,
        })
    }
}

/// `[d_0, …, d_L]` and φ of a fully connected `[network]`.
fn fully_connected(
    net: &NetworkConfig,
    input_dim: usize,
    outputs: usize,
) -> Result<(Vec<usize>, Activation), ConfigError> {
    if net.input.is_some() {
        return Err(invalid(
            "network.input",
            "is the sample shape of `network.layers`; a fully connected network takes the data's input_dim",
        ));
    }
    let depth = match net.depth {
        None => return Err(invalid("network", "give `depth` or `layers`")),
        Some(0) => return Err(invalid("network.depth", "must be at least 1, got 0")),
        Some(d) => d,
    };
    let hidden: Vec<usize> = match (&net.width, &net.hidden) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "network",
                "give either `width` or `hidden`, not both",
            ));
        }
        (Some(w), None) => vec![*w; depth - 1],
        (None, Some(h)) => {
            if h.len() != depth - 1 {
                return Err(invalid(
                    "network.hidden",
                    format!("needs depth − 1 = {} widths, got {}", depth - 1, h.len()),
                ));
            }
            h.clone()
        }
        (None, None) if depth == 1 => vec![],
        (None, None) => return Err(invalid("network.width", "is required when depth > 1")),
    };
    let width_field = net.width_field();
    if let Some(w) = hidden.iter().find(|&&w| w == 0) {
        return Err(invalid(width_field, format!("must be at least 1, got {w}")));
    }
    let mut widths = vec![input_dim];
    widths.extend(&hidden);
    widths.push(outputs);
    let activation = match &net.activation {
        None => Activation::Identity,
        Some(name) => name
            .parse()
            .map_err(|e: networks::activation::UnknownActivation| {
                invalid("network.activation", e.to_string())
            })?,
    };
    Ok((widths, activation))
}

/// The sequential network of `[network]` with `layers`: its samples of
/// shape `network.input` (of the data's `input_dim` values), ending in
/// the data's `outputs`.
fn sequential_network(
    net: &NetworkConfig,
    specs: &[networks::LayerSpec],
    input_dim: usize,
    outputs: usize,
) -> Result<Sequential, ConfigError> {
    for (given, key) in [
        (net.depth.is_some(), "depth"),
        (net.width.is_some(), "width"),
        (net.hidden.is_some(), "hidden"),
        (net.activation.is_some(), "activation"),
    ] {
        if given {
            return Err(invalid(
                format!("network.{key}"),
                "belongs to a fully connected network; with `layers`, activations are layers",
            ));
        }
    }
    let shape = match &net.input {
        None => Shape::Flat(input_dim),
        Some(v) => {
            networks::sequential::spec::input_shape(v).map_err(|e| invalid("network.input", e))?
        }
    };
    if shape.size() != input_dim {
        return Err(invalid(
            "network.input",
            format!(
                "{shape} holds {} values, but the data's samples have {input_dim}",
                shape.size()
            ),
        ));
    }
    let layers = specs.iter().map(|l| l.layer(net.biases)).collect();
    let network =
        Sequential::new(shape, layers).map_err(|e| invalid("network.layers", e.to_string()))?;
    if network.weight_layers().next().is_none() {
        return Err(invalid(
            "network.layers",
            "need at least one conv2d or linear layer",
        ));
    }
    if network.outputs() != outputs {
        return Err(invalid(
            "network.layers",
            format!(
                "the network ends in {} values, but the data has {outputs} outputs",
                network.outputs()
            ),
        ));
    }
    Ok(network)
}

impl DataConfig {
    /// Check every field and build the [`DataSpec`].
    pub fn validate(&self) -> Result<DataSpec, ConfigError> {
        let data = match *self {
            DataConfig::Teacher {
                samples,
                input_dim,
                outputs,
                teacher_rank,
                noise,
                anisotropy,
                target,
                keep_label_norm,
            } => {
                let spec = TeacherSpec {
                    samples,
                    input_dim,
                    outputs,
                    rank: teacher_rank.unwrap_or(outputs.min(input_dim)),
                    noise,
                    anisotropy,
                };
                spec.validate().map_err(data_field)?;
                if target == TeacherTarget::ArgmaxOneHot && outputs < 2 {
                    return Err(invalid(
                        "data.outputs",
                        format!(
                            "target = \"argmax_one_hot\" needs at least 2 outputs, got {outputs}"
                        ),
                    ));
                }
                if keep_label_norm && target != TeacherTarget::Linear {
                    return Err(invalid(
                        "data.keep_label_norm",
                        "applies to linear teacher targets only",
                    ));
                }
                DataSpec::Teacher {
                    spec,
                    target,
                    keep_label_norm,
                }
            }
            DataConfig::Digits {
                samples,
                noise,
                target,
                held_out,
            } => {
                let spec = DigitsSpec {
                    samples: samples.unwrap_or(datasets::DIGITS_ROWS),
                    noise,
                    held_out,
                };
                spec.validate().map_err(data_field)?;
                DataSpec::Digits { spec, target }
            }
            DataConfig::Synthetic {
                samples,
                input_dim,
                outputs,
                noise,
            } => {
                let spec = SyntheticSpec {
                    samples,
                    input_dim,
                    outputs,
                    noise,
                };
                spec.validate().map_err(data_field)?;
                DataSpec::Synthetic(spec)
            }
            DataConfig::ReluTeacher {
                samples,
                input_dim,
                teacher_width,
                outputs,
                noise,
            } => {
                let spec = ReluTeacherSpec {
                    samples,
                    input_dim,
                    teacher_width,
                    outputs,
                    noise,
                };
                spec.validate().map_err(data_field)?;
                DataSpec::ReluTeacher(spec)
            }
            DataConfig::WhitenedTeacher {
                samples,
                input_dim,
                gamma,
                anisotropy,
                signal,
                noise,
            } => {
                let spec = WhitenedTeacherSpec {
                    samples,
                    input_dim,
                    gamma,
                    anisotropy,
                    signal,
                    noise,
                };
                spec.validate().map_err(data_field)?;
                DataSpec::WhitenedTeacher(spec)
            }
            DataConfig::Gaussian {
                samples,
                input_dim,
                outputs,
                noise,
            } => {
                let spec = GaussianSpec {
                    samples,
                    input_dim,
                    outputs,
                    noise,
                };
                spec.validate().map_err(data_field)?;
                DataSpec::Gaussian(spec)
            }
            DataConfig::DigitPair {
                classes,
                samples,
                gamma,
                noise,
            } => {
                let spec = DigitPairSpec {
                    classes,
                    samples,
                    gamma,
                    noise,
                };
                spec.validate().map_err(data_field)?;
                DataSpec::DigitPair(spec)
            }
        };
        Ok(data)
    }
}

impl CheckpointConfig {
    /// Check every field, and that the schedule suits `dynamics` (times
    /// for gradient flow, or for a discrete optimiser through `k =
    /// round(t/η)`; steps only for a discrete optimiser; `until_converged`
    /// only for gradient flow).
    pub fn validate(&self, dynamics: &Dynamics) -> Result<Checkpoints, ConfigError> {
        let flow = matches!(dynamics, Dynamics::GradientFlow(_));
        let checkpoints = match *self {
            CheckpointConfig::Log {
                t_min,
                t_end,
                count,
            } => Checkpoints::Times(Schedule::Log {
                t_min,
                t_end,
                count,
            }),
            CheckpointConfig::Linear { t_end, count } => {
                Checkpoints::Times(Schedule::Linear { t_end, count })
            }
            CheckpointConfig::Steps { ref steps } => {
                if steps.is_empty() {
                    return Err(invalid("checkpoints.steps", "needs at least one step"));
                }
                if let Some(w) = steps.windows(2).find(|w| w[1] <= w[0]) {
                    return Err(invalid(
                        "checkpoints.steps",
                        format!("must be strictly increasing, got {} after {}", w[1], w[0]),
                    ));
                }
                Checkpoints::Steps(steps.clone())
            }
            CheckpointConfig::LogSteps { total, count } => {
                if total == 0 {
                    return Err(invalid("checkpoints.total", "must be at least 1, got 0"));
                }
                if count == 0 {
                    return Err(invalid("checkpoints.count", "must be at least 1, got 0"));
                }
                Checkpoints::Steps(log_steps(total, count))
            }
            CheckpointConfig::UntilConverged {
                t_first,
                per_decade,
                tolerance,
            } => {
                finite_pos("checkpoints.t_first", t_first)?;
                if per_decade == 0 {
                    return Err(invalid(
                        "checkpoints.per_decade",
                        "must be at least 1, got 0",
                    ));
                }
                if !(tolerance.is_finite() && tolerance > 0.0 && tolerance < 1.0) {
                    return Err(invalid(
                        "checkpoints.tolerance",
                        format!("must be in (0, 1), got {tolerance}"),
                    ));
                }
                Checkpoints::UntilConverged(UntilConverged {
                    t_first,
                    per_decade,
                    tolerance,
                })
            }
        };
        match (&checkpoints, flow) {
            (Checkpoints::Times(schedule), _) => schedule.validate().map_err(dynamics_field)?,
            (Checkpoints::Steps(_), true) => {
                return Err(invalid(
                    "checkpoints.kind",
                    "steps count the updates of a discrete optimiser; gradient flow takes \"log\", \"linear\" or \"until_converged\"",
                ));
            }
            (Checkpoints::UntilConverged(_), false) => {
                return Err(invalid(
                    "checkpoints.kind",
                    "\"until_converged\" integrates gradient flow; a discrete optimiser takes \"log\", \"linear\", \"steps\" or \"log_steps\"",
                ));
            }
            _ => {}
        }
        Ok(checkpoints)
    }
}

fn data_field(e: datasets::DataError) -> ConfigError {
    let datasets::DataError::Invalid { field, message } = e;
    let field = if field == "rank" {
        "teacher_rank"
    } else {
        field
    };
    invalid(format!("data.{field}"), message)
}

fn dynamics_field(e: optim::DynamicsError) -> ConfigError {
    match e {
        optim::DynamicsError::Invalid { field, message } => invalid(field, message),
        other => invalid("dynamics", other.to_string()),
    }
}
