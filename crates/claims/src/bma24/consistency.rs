//! BMA24's `ptk.consistency`: the PTK-based AGOP against input gradients at
//! initialisation, per activation.

use experiment::ExperimentConfig;
use networks::tangents;

use super::instantiate;
use crate::ClaimResult;
use crate::claim::{Claim, Comparison};
use crate::details::Details;

/// The two AGOP computations differ only in the association of the same
/// products: agreement to 1e-12 relative (~d·ε_mach per product).
const CONSISTENCY_TOL: f64 = 1e-12;

pub(super) fn consistency(
    template: &ExperimentConfig,
    activation: &str,
    seed: Option<u64>,
) -> ClaimResult {
    let claim = Claim::new(
        "BMA24",
        "ptk.consistency",
        "The AGOP of layer l equals W_lᵀK_lW_l/n (chain rule through the pre-activation tangent kernel)",
        "max over layers of ‖G_l(input gradients) − W_lᵀK_lW_l/n‖_F / ‖G_l‖_F",
    )
    .id_param("activation", activation);
    let exp = match instantiate(
        template,
        crate::master_seed(template.seed, seed),
        Some(activation),
    ) {
        Ok(e) => e,
        Err(e) => return claim.failed(Some(0.0), e),
    };
    let claim = claim
        .param("widths", exp.widths.clone())
        .param("n", exp.data.samples())
        .param("seed", exp.seed);
    let prepared = match experiment::prepare(&exp) {
        Ok(p) => p,
        Err(e) => return claim.failed(Some(0.0), e.to_string()),
    };
    let (arch, params, x) = (
        exp.architecture(),
        &prepared.init.weights,
        prepared.data.x.as_ref(),
    );
    let both = tangents(&arch, params, x, 16).and_then(|t| {
        Ok((
            t,
            networks::agop_from_input_gradients(&arch, params, x, 16)?,
        ))
    });
    match both {
        Err(e) => claim.failed(Some(0.0), e.to_string()),
        Ok((t, from_gradients)) => {
            let per_layer: Vec<f64> = (0..arch.depth())
                .map(|l| (&t.agop[l] - &from_gradients[l]).norm_l2() / from_gradients[l].norm_l2())
                .collect();
            let worst = per_layer.iter().copied().fold(0.0, f64::max);
            claim
                .details(Details::new().with_list("relerr_per_layer", per_layer))
                .check(
                    0.0,
                    worst,
                    CONSISTENCY_TOL,
                    Comparison::Absolute,
                    "two associations of the same products: ~d·ε_mach",
                )
        }
    }
}
