//! Measurements of the Neural Feature Ansatz at one checkpoint. Each reads
//! a snapshot; none modifies it.
//!
//! * [`measure`]: a deep linear network (SPEC §1, §2.1): imbalance, the
//!   layer-1 identity `W_1ᵀW_1 = G_1^{1/L}` of TMC25 in the `relerr` and
//!   `cosine` conventions, and α̂ — with the closed-form AGOP.
//! * [`measure_network`]: any other network, fully connected or
//!   convolutional (SPEC §1, §4, §9): the layer-1 NFA
//!   `cosine(W_1ᵀW_1, G_1)` at α = 1 and α̂, and BMA24's UC-NFA and C-NFA of
//!   every weight layer but the readout — with the AGOP and PTK of
//!   [`networks::tangents`](fn@networks::tangents) (fully connected) or
//!   [`sequential_ptk`] (for a convolution, `W_1` is its flattened filter
//!   bank and `G_1` the patch AGOP `W_1ᵀK_1W_1/n`).

use faer::{Mat, MatRef};
use metrics::{AlphaEstimate, AlphaEstimator, Cutoff, MetricError, PsdEigen, Similarity};
use networks::Sequential;
use networks::ptk_nfa::{c_nfa, uc_nfa};
use networks::sequential::tangents::sequential_ptk;

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

/// The NFA quantities of one checkpoint of a network.
#[derive(Debug, Clone)]
pub struct NetworkMeasurement {
    /// Time t.
    pub time: f64,
    /// Steps so far.
    pub step: usize,
    /// Data loss.
    pub loss: f64,
    /// `cosine(W_1ᵀW_1, G_1)`: the NFA of layer 1 at α = 1, with `G_1` the
    /// AGOP `W_1ᵀK_1W_1/n` of the inputs.
    pub cosine: Result<f64, String>,
    /// α̂ of layer 1 by `corr` (cosine), `eig`, `fit`; `Err` holds why it is
    /// undefined.
    pub alpha: [(AlphaEstimator, Result<f64, String>); 3],
    /// UC-NFA `pearson(W_lᵀK_lW_l, W_lᵀW_l)` of the weight layers
    /// l = 1..L−1 before the readout (index l − 1; BMA24's convention,
    /// SPEC §4).
    pub uc_nfa: Vec<Result<f64, String>>,
    /// C-NFA `pearson(ΔW_lᵀK_lΔW_l, ΔW_lᵀΔW_l)`, `ΔW_l = W_l − W_l(0)`, of
    /// the same layers (undefined where `ΔW_l = 0`, e.g. at t = 0).
    pub c_nfa: Vec<Result<f64, String>>,
}

/// Samples per block of [`networks::tangents`](fn@networks::tangents) and
/// [`sequential_ptk`]: the unit of their parallel work (results depend on
/// it only through the order of the block sums, which is fixed).
const TANGENT_BLOCK: usize = 256;

/// Measure a snapshot of the network `net` (parameters as laid out by
/// `net`) on the inputs `x`; `init` is the run's initial parameters (for
/// the C-NFA). Errors when the parameters or data do not fit `net`.
pub fn measure_network(
    net: &Sequential,
    snapshot: &Snapshot,
    init: &[Mat<f64>],
    x: MatRef<'_, f64>,
) -> Result<NetworkMeasurement, networks::NetworkError> {
    net.check(init)?;
    let p = &snapshot.weights;
    let (ptk, g) = match net.as_mlp() {
        Some(arch) => {
            let mut tangents = networks::tangents(&arch, p, x, TANGENT_BLOCK)?;
            let g = tangents.agop.swap_remove(0);
            (tangents.ptk, g)
        }
        None => {
            let ptk = sequential_ptk(net, p, x, TANGENT_BLOCK)?;
            let g = networks::agop_from_ptk(p[0].as_ref(), ptk[0].as_ref(), x.nrows());
            (ptk, g)
        }
    };
    let f = metrics::nfm(p[0].as_ref());
    let cosine = describe(metrics::similarity(
        Similarity::Cosine,
        f.as_ref(),
        g.as_ref(),
    ));
    let options = metrics::alpha::AlphaOptions::default();
    let alpha = AlphaEstimator::ALL.map(|est| {
        (
            est,
            describe_alpha(metrics::estimate_alpha(
                f.as_ref(),
                g.as_ref(),
                est,
                &options,
            )),
        )
    });
    let before_readout = 0..ptk.len() - 1;
    let uc = before_readout
        .clone()
        .map(|l| describe(uc_nfa(Similarity::Pearson, p[l].as_ref(), ptk[l].as_ref())))
        .collect();
    let c = before_readout
        .map(|l| {
            describe(c_nfa(
                Similarity::Pearson,
                p[l].as_ref(),
                init[l].as_ref(),
                ptk[l].as_ref(),
            ))
        })
        .collect();
    Ok(NetworkMeasurement {
        time: snapshot.time,
        step: snapshot.step,
        loss: snapshot.loss,
        cosine,
        alpha,
        uc_nfa: uc,
        c_nfa: c,
    })
}
