//! BMA24's `early.prediction`: the C-NFA after one small GD step against its
//! prediction from statistics at initialisation.

use experiment::ExperimentConfig;
use experiment::run::run_prepared;
use faer::{Mat, Par};
use metrics::Similarity;
use networks::ptk_nfa::c_nfa;
use networks::tangents;

use super::{Early, EarlyPairs, instantiate};
use crate::claim::{Claim, Comparison};
use crate::details::Details;
use crate::{ClaimResult, UnitError};

/// One step of GD changes ΔW and K_l by O(η) relative; the prediction is
/// the η → 0 limit, so 1e-2 holds for η = 1e-3 with two orders of
/// magnitude to spare.
const EARLY_TOL: f64 = 1e-2;

/// `pearson(X_lᵀ(rrᵀ⊙Q)X_l, X_lᵀ(rrᵀ⊙Q²)X_l)` per hidden layer, formed
/// explicitly from `Q = GᵀG` over (output, sample) pairs at init (SPEC §4,
/// reconstruction), and the C-NFA after the experiment's one GD step. Every
/// activation backpropagates through the samples ([`MlpObjective`]; the
/// identity too, without the statistics of a deep linear network), as the
/// prediction's pre-activation gradients do.
pub(super) fn early_pairs(template: &ExperimentConfig, activation: &str, seed: u64) -> EarlyPairs {
    let exp = instantiate(template, seed, Some(activation))?;
    let mut prepared = experiment::prepare(&exp)?;
    prepared.stats = None;
    let traj = run_prepared(&exp, &prepared)?;
    let after = &traj
        .snapshots
        .last()
        .ok_or_else(|| UnitError::new("no checkpoint"))?
        .weights;
    let (arch, init) = (exp.architecture(), &prepared.init.weights);
    let (x, y) = (&prepared.data.x, &prepared.data.y);
    let fwd = networks::forward(&arch, init, x.as_ref(), Par::Seq)?;
    let grads = networks::pre_activation_gradients(&arch, init, x.as_ref(), Par::Seq)?;
    let (n, c) = (x.nrows(), y.ncols());
    // Residuals r_{(c,i)} in the row order of the stacked gradients.
    let r: Vec<f64> = (0..c * n)
        .map(|k| fwd.output()[(k % n, k / n)] - y[(k % n, k / n)])
        .collect();
    let tan = tangents(&arch, after, x.as_ref(), 64)?;
    (0..arch.depth() - 1)
        .map(|l| {
            let s = &grads[l];
            let q = s * s.transpose();
            let q2 = &q * &q;
            let xl = if l == 0 {
                x.clone()
            } else {
                fwd.post[l - 1].clone()
            };
            let xrep = Mat::from_fn(c * n, xl.ncols(), |k, j| xl[(k % n, j)]);
            let weighted =
                |m: &Mat<f64>| Mat::from_fn(c * n, c * n, |a, b| r[a] * r[b] * m[(a, b)]);
            let m1 = xrep.transpose() * weighted(&q) * &xrep;
            let m2 = xrep.transpose() * weighted(&q2) * &xrep;
            let predicted = metrics::similarity(Similarity::Pearson, m2.as_ref(), m1.as_ref())?;
            let actual = c_nfa(
                Similarity::Pearson,
                after[l].as_ref(),
                init[l].as_ref(),
                tan.ptk[l].as_ref(),
            )?;
            Ok((predicted, actual))
        })
        .collect()
}

pub(super) fn early_claims(
    e: &Early,
    activation: &str,
    seed: Option<u64>,
    runs: &[EarlyPairs],
) -> Vec<ClaimResult> {
    let seeds: Vec<u64> = crate::study_seeds(&e.seeds, seed);
    let hidden = e.experiment.network.depth.unwrap_or(0).saturating_sub(1);
    (0..hidden)
        .map(|l| {
            let claim = Claim::new(
                "BMA24",
                "early.prediction",
                "Reconstruction of BMA24's early-time prediction: after one small GD step the C-NFA equals pearson(X_lᵀ(rrᵀ⊙Q)X_l, X_lᵀ(rrᵀ⊙Q²)X_l) from init statistics (= 1 for a linear network with one output)",
                "C-NFA (Pearson) after one GD step vs the prediction; worst seed",
            )
            .id_param("activation", activation)
            .id_param("layer", l + 1)
            .param("seeds", seeds.clone())
            .param("learning_rate", e.experiment.dynamics.learning_rate());
            if let Some(err) = runs.iter().find_map(|r| r.as_ref().err()) {
                return claim.failed(None, err.clone());
            }
            let pairs: Vec<(f64, f64)> = runs.iter().filter_map(|r| r.as_ref().ok()).map(|v| v[l]).collect();
            let Some(worst) = pairs
                .iter()
                .copied()
                .max_by(|a, b| (a.0 - a.1).abs().total_cmp(&(b.0 - b.1).abs()))
            else {
                return claim.failed(None, "no seeds");
            };
            claim
                .details(
                    Details::new()
                        .with_list("predicted_per_seed", pairs.iter().map(|p| p.0))
                        .with_list("after_one_step_per_seed", pairs.iter().map(|p| p.1)),
                )
                .check(worst.0, worst.1, EARLY_TOL, Comparison::Absolute, "O(η) change of ΔW and K_l in one step of η = 1e-3")
        })
        .collect()
}
