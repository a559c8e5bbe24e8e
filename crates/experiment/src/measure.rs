//! Measurements of the Neural Feature Ansatz at one checkpoint of a deep
//! linear network (SPEC §1, §2.1). Reads a snapshot; never modifies it.

use faer::Mat;
use metrics::{AlphaEstimate, AlphaEstimator, Cutoff, MetricError, PsdEigen, Similarity};

use crate::run::Snapshot;

/// The NFA quantities of one checkpoint.
#[derive(Debug, Clone)]
pub struct CheckpointMeasurement {
    /// Time t.
    pub time: f64,
    /// Steps so far.
    pub step: usize,
    /// Data loss.
    pub loss: f64,
    /// `max_l ‖D_l‖_F`.
    pub max_imbalance: f64,
    /// `relerr(W_1ᵀW_1, G_1^{1/L})` (SPEC §2.1, unscaled: tests the constant 1).
    pub relerr: Result<f64, String>,
    /// `cosine(W_1ᵀW_1, G_1^{1/L})`.
    pub cosine: Result<f64, String>,
    /// α̂ by `corr` (cosine), `eig`, `fit`; `Err` holds why it is undefined.
    pub alpha: [(AlphaEstimator, Result<f64, String>); 3],
}

/// `relerr(W_lᵀW_l, G_l^{1/(L−l+1)})` for layer `l` (1-based) — the exact
/// layerwise identity of TMC25 under balancedness.
pub fn layer_relerr(weights: &[Mat<f64>], l: usize) -> Result<f64, MetricError> {
    let depth = weights.len();
    let f = deep_linear::nfm(weights, l);
    let g = deep_linear::agop(weights, l)?;
    let exponent = 1.0 / (depth - l + 1) as f64;
    let root = PsdEigen::new(g.as_ref(), Cutoff::for_dim(g.nrows()), "AGOP")?.power(exponent)?;
    metrics::similarity(Similarity::RelErr, f.as_ref(), root.as_ref())
}

fn describe(r: Result<f64, MetricError>) -> Result<f64, String> {
    r.map_err(|e| e.to_string())
}

fn describe_alpha(r: Result<AlphaEstimate, MetricError>) -> Result<f64, String> {
    match r {
        Ok(AlphaEstimate::Identified { alpha, .. }) => Ok(alpha),
        Ok(AlphaEstimate::Unidentifiable(u)) => Err(u.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Measure a snapshot of a deep linear network of depth L: imbalance, the
/// layer-1 NFA at α = 1/L in the `relerr` and `cosine` conventions, and α̂.
pub fn measure(snapshot: &Snapshot) -> CheckpointMeasurement {
    let w = &snapshot.weights;
    let depth = w.len();
    let max_imbalance = snapshot.imbalance_norms().into_iter().fold(0.0, f64::max);
    let f = deep_linear::nfm(w, 1);
    let g = deep_linear::agop(w, 1);
    let cosine = g.as_ref().map_err(Clone::clone).and_then(|g| {
        let root = PsdEigen::new(g.as_ref(), Cutoff::for_dim(g.nrows()), "AGOP")?
            .power(1.0 / depth as f64)?;
        metrics::similarity(Similarity::Cosine, f.as_ref(), root.as_ref())
    });
    let options = metrics::alpha::AlphaOptions::default();
    let alpha = AlphaEstimator::ALL.map(|est| {
        let r = g
            .as_ref()
            .map_err(Clone::clone)
            .and_then(|g| metrics::estimate_alpha(f.as_ref(), g.as_ref(), est, &options));
        (est, describe_alpha(r))
    });
    CheckpointMeasurement {
        time: snapshot.time,
        step: snapshot.step,
        loss: snapshot.loss,
        max_imbalance,
        relerr: describe(layer_relerr(w, 1)),
        cosine: describe(cosine),
        alpha,
    }
}
