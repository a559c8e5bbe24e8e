//! TMC25's nonlinear counterexamples as a test: every claim passes, and the
//! trained ReLU network is the stand-alone experiment of
//! `fixtures/experiments/tmc25_counterexamples.toml`.

use crate::common::assert_pass;
use counterexamples::{best_alpha_cosine, first_nfm};
use experiment::ExperimentConfig;

const EXAMPLE: &str = include_str!("../../../../fixtures/experiments/tmc25_counterexamples.toml");

#[test]
fn counterexample_claims_hold() {
    let results = crate::common::quick("TMC25.C.");
    let cfg = claims::tmc25::counterexamples::config().unwrap();
    assert_eq!(results.len(), 2 + cfg.quadratic.scales.len() + 1);
    for r in &results {
        assert_pass(r);
    }
    // The rescaling sweep really moves the similarity while the loss stays.
    let sweep = results
        .iter()
        .find(|r| r.key == "C.rescaling")
        .and_then(|r| r.details.as_ref()?.series_named("best_cosine"))
        .expect("the sweep's best cosine over s");
    let first = sweep.y.first().copied().flatten().unwrap();
    let last = sweep.y.last().copied().flatten().unwrap();
    assert!(first - last > 0.3, "similarity {first} → {last}");
}

/// C.trained's measurement is the best-α cosine of the final network of
/// the example experiment (its ReLU unit), bit for bit: the claim runs the
/// same configuration through the same path.
#[test]
fn the_trained_relu_network_is_the_example_experiment() {
    let cfg = claims::tmc25::counterexamples::config().unwrap();
    let example = ExperimentConfig::from_toml(EXAMPLE).unwrap();
    assert_eq!(example, cfg.trained.experiment);
    let exp = example.validate().unwrap();
    let (prepared, trajectory) = experiment::run(&exp).unwrap();
    let end = trajectory.snapshots.last().unwrap();
    let g = networks::tangents(
        &exp.architecture(),
        &end.weights,
        prepared.data.x.as_ref(),
        256,
    )
    .unwrap();
    let (cosine, _) = best_alpha_cosine(first_nfm(&end.weights).as_ref(), g.agop[0].as_ref())
        .unwrap()
        .unwrap();
    let trained = crate::common::quick("TMC25.C.trained");
    assert_eq!(trained[0].measured, Some(cosine));
}
