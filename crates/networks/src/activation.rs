//! Pointwise activations φ and their derivatives φ'.

use std::fmt;
use std::str::FromStr;

/// √(2/π), for the tanh form of GELU.
const SQRT_2_OVER_PI: f64 = 0.797_884_560_802_865_4;

/// A pointwise activation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Activation {
    /// φ(h) = h.
    Identity,
    /// φ(h) = max(h, 0); φ'(0) := 0.
    Relu,
    /// φ(h) = h for h > 0, slope·h otherwise.
    LeakyRelu {
        /// Negative-side slope.
        slope: f64,
    },
    /// φ(h) = tanh h.
    Tanh,
    /// GELU in its tanh form, `½h(1 + tanh(√(2/π)(h + 0.044715h³)))`.
    Gelu,
    /// φ(h) = h².
    Quadratic,
}

impl Activation {
    /// Every activation, leaky ReLU with the slope its name parses to
    /// (0.01): the sweep of the property tests and of BMA24's consistency
    /// claim.
    pub const ALL: [Activation; 6] = [
        Activation::Identity,
        Activation::Relu,
        Activation::LeakyRelu { slope: 0.01 },
        Activation::Tanh,
        Activation::Gelu,
        Activation::Quadratic,
    ];

    /// φ(h).
    #[inline]
    pub fn apply(self, h: f64) -> f64 {
        match self {
            Activation::Identity => h,
            Activation::Relu => h.max(0.0),
            Activation::LeakyRelu { slope } => {
                if h > 0.0 {
                    h
                } else {
                    slope * h
                }
            }
            Activation::Tanh => h.tanh(),
            Activation::Gelu => {
                0.5 * h * (1.0 + (SQRT_2_OVER_PI * (h + 0.044715 * h * h * h)).tanh())
            }
            Activation::Quadratic => h * h,
        }
    }

    /// φ'(h).
    #[inline]
    pub fn derivative(self, h: f64) -> f64 {
        match self {
            Activation::Identity => 1.0,
            Activation::Relu => {
                if h > 0.0 {
                    1.0
                } else {
                    0.0
                }
            }
            Activation::LeakyRelu { slope } => {
                if h > 0.0 {
                    1.0
                } else {
                    slope
                }
            }
            Activation::Tanh => {
                let t = h.tanh();
                1.0 - t * t
            }
            Activation::Gelu => {
                let u = SQRT_2_OVER_PI * (h + 0.044715 * h * h * h);
                let t = u.tanh();
                let du = SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * h * h);
                0.5 * (1.0 + t) + 0.5 * h * (1.0 - t * t) * du
            }
            Activation::Quadratic => 2.0 * h,
        }
    }

    /// Name used in configs and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::LeakyRelu { .. } => "leaky_relu",
            Activation::Tanh => "tanh",
            Activation::Gelu => "gelu",
            Activation::Quadratic => "quadratic",
        }
    }

    /// True when φ(ch) = cφ(h) for c > 0 (identity, ReLU, leaky ReLU): the
    /// rescaling symmetry of TMC25's counterexample applies.
    pub fn positively_homogeneous(self) -> bool {
        matches!(
            self,
            Activation::Identity | Activation::Relu | Activation::LeakyRelu { .. }
        )
    }
}

impl fmt::Display for Activation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown activation name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown activation `{0}`, expected one of identity, relu, leaky_relu, tanh, gelu, quadratic"
)]
pub struct UnknownActivation(pub String);

impl FromStr for Activation {
    type Err = UnknownActivation;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "identity" => Activation::Identity,
            "relu" => Activation::Relu,
            "leaky_relu" => Activation::LeakyRelu { slope: 0.01 },
            "tanh" => Activation::Tanh,
            "gelu" => Activation::Gelu,
            "quadratic" => Activation::Quadratic,
            other => return Err(UnknownActivation(other.to_owned())),
        })
    }
}
