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
//!
//! [network]         # deep linear network d_0 = input_dim → … → outputs
//! depth = 3
//! width = 10        # every hidden width (or `hidden = [10, 12]`)
//!
//! [init]
//! kind = "balanced" # balanced | gaussian | orthogonal | small
//! scale = 1.0
//!
//! [dynamics]
//! kind = "gradient_flow" # gradient_flow | gd | sgd | momentum | nesterov | adam_l2 | adamw
//! rtol = 1e-12
//! atol = 1e-14
//! weight_decay = 0.0
//!
//! [checkpoints]
//! kind = "log"      # log | linear
//! t_min = 0.01
//! t_end = 50.0
//! count = 20
//! ```
//!
//! Unknown keys are errors. [`ExperimentConfig::validate`] turns the raw
//! configuration into an [`Experiment`]; its errors name the field, e.g.
//! `network.depth: must be at least 1, got 0`.

use datasets::{DigitsSpec, TeacherSpec};
use init::InitScheme;
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
    /// Linear teacher `Y = XBᵀ + σ_ε ξ`.
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
    },
    /// The digits data set (d = 64, C = 10), standardised pixels,
    /// one-hot − 1/C labels.
    Digits {
        /// Seeded subset size; all 1797 rows when absent.
        #[serde(default)]
        samples: Option<usize>,
        /// σ_ε.
        #[serde(default)]
        noise: f64,
    },
}

/// The data set of a validated experiment.
#[derive(Debug, Clone, PartialEq)]
pub enum DataSpec {
    /// Synthetic linear teacher.
    Teacher(TeacherSpec),
    /// Digits.
    Digits(DigitsSpec),
}

impl DataSpec {
    /// Input dimension d.
    pub fn input_dim(&self) -> usize {
        match self {
            DataSpec::Teacher(t) => t.input_dim,
            DataSpec::Digits(_) => datasets::DIGITS_PIXELS,
        }
    }
    /// Output dimension C.
    pub fn outputs(&self) -> usize {
        match self {
            DataSpec::Teacher(t) => t.outputs,
            DataSpec::Digits(_) => datasets::DIGITS_CLASSES,
        }
    }
    /// Number of samples n.
    pub fn samples(&self) -> usize {
        match self {
            DataSpec::Teacher(t) => t.samples,
            DataSpec::Digits(d) => d.samples,
        }
    }
    /// Label-noise σ_ε.
    pub fn noise(&self) -> f64 {
        match self {
            DataSpec::Teacher(t) => t.noise,
            DataSpec::Digits(d) => d.noise,
        }
    }
}

/// `[network]`: a deep linear network of `depth` layers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkConfig {
    /// Number of layers L ≥ 1.
    pub depth: usize,
    /// Width of every hidden layer (exclusive with `hidden`).
    #[serde(default)]
    pub width: Option<usize>,
    /// Widths d_1..d_{L−1} of the hidden layers.
    #[serde(default)]
    pub hidden: Option<Vec<usize>>,
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
            | DynamicsConfig::Adamw(AdamConfig { weight_decay, .. }) => *weight_decay = lambda,
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
            | DynamicsConfig::Adamw(AdamConfig { learning_rate, .. }) => Some(learning_rate),
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
}

/// The dynamics of a validated experiment.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Dynamics {
    /// Gradient flow.
    GradientFlow(GradientFlow),
    /// A discrete optimiser (GD, SGD, momentum, Adam, AdamW).
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
    /// Initialisation.
    pub init: InitScheme,
    /// Dynamics.
    pub dynamics: Dynamics,
    /// Checkpoints.
    pub schedule: Schedule,
}

impl Experiment {
    /// Parse and validate a TOML configuration.
    pub fn from_toml(text: &str) -> Result<Experiment, ConfigError> {
        ExperimentConfig::from_toml(text)?.validate()
    }

    /// Depth L.
    pub fn depth(&self) -> usize {
        self.widths.len() - 1
    }
}

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
        let data = match self.data.clone() {
            DataConfig::Teacher {
                samples,
                input_dim,
                outputs,
                teacher_rank,
                noise,
                anisotropy,
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
                DataSpec::Teacher(spec)
            }
            DataConfig::Digits { samples, noise } => {
                let spec = DigitsSpec {
                    samples: samples.unwrap_or(datasets::DIGITS_ROWS),
                    noise,
                };
                spec.validate().map_err(data_field)?;
                DataSpec::Digits(spec)
            }
        };
        let (input_dim, outputs) = (data.input_dim(), data.outputs());

        let net = &self.network;
        if net.depth == 0 {
            return Err(invalid("network.depth", "must be at least 1, got 0"));
        }
        let hidden: Vec<usize> = match (&net.width, &net.hidden) {
            (Some(_), Some(_)) => {
                return Err(invalid(
                    "network",
                    "give either `width` or `hidden`, not both",
                ));
            }
            (Some(w), None) => vec![*w; net.depth - 1],
            (None, Some(h)) => {
                if h.len() != net.depth - 1 {
                    return Err(invalid(
                        "network.hidden",
                        format!(
                            "needs depth − 1 = {} widths, got {}",
                            net.depth - 1,
                            h.len()
                        ),
                    ));
                }
                h.clone()
            }
            (None, None) if net.depth == 1 => vec![],
            (None, None) => return Err(invalid("network.width", "is required when depth > 1")),
        };
        let width_field = if net.hidden.is_some() {
            "network.hidden"
        } else {
            "network.width"
        };
        if let Some(w) = hidden.iter().find(|&&w| w == 0) {
            return Err(invalid(width_field, format!("must be at least 1, got {w}")));
        }
        let mut widths = vec![input_dim];
        widths.extend(&hidden);
        widths.push(outputs);

        let init = match &self.init {
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
        };
        init.validate(net.depth).map_err(|e| match e {
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

        let schedule = match self.checkpoints {
            CheckpointConfig::Log {
                t_min,
                t_end,
                count,
            } => Schedule::Log {
                t_min,
                t_end,
                count,
            },
            CheckpointConfig::Linear { t_end, count } => Schedule::Linear { t_end, count },
        };
        schedule.validate().map_err(dynamics_field)?;

        Ok(Experiment {
            name: self.name.clone().unwrap_or_else(|| "experiment".to_owned()),
            seed: self.seed,
            data,
            widths,
            init,
            dynamics,
            schedule,
        })
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
