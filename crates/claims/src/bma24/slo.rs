//! BMA24's `slo.intervention`: the speed-limited optimiser against plain SGD
//! in the code regime.

use super::training::{NAMES, Setting};
use super::{CodeRun, NFA_DELTA, NFA_DELTA_REASON, Slo};
use crate::claim::{Claim, Direction, Statement, Test};
use crate::details::{Details, Summary};
use crate::{ClaimResult, UnitError};

/// BMA24's speed-limited rule (SPEC §4, §8).
const SPEED_LIMITED: Statement = Statement {
    family: "BMA24.slo.intervention",
    quote: "a simple optimization rule that dramatically increases the NFA correlations at any given layer and improves the quality of features learned",
    source: "BMA24 (TMLR), abstract",
    differs: "the rule is a reconstruction (normalised steps of one layer at a fixed speed); 'increases the NFA correlations' is measured as the layer's final UC-NFA against plain SGD, 'the quality of features' as the held-out error; 'dramatically' is not tested",
};

/// δ of the held-out error drop.
const ERROR_DELTA: f64 = 0.005;

/// slo.intervention in the code's regime: per seed, the plain run (the
/// `Code` unit) and the speed-limited run share init, warm-up and batch
/// order; an info row with both rules' final values, and the two effects
/// judged over the paired seeds (SPEC §8).
pub(super) fn slo_claims(
    s: &Slo,
    (speed, held_out): (f64, usize),
    setting: &Setting,
    plain: &[Result<CodeRun, UnitError>],
    limited: &[Result<CodeRun, UnitError>],
) -> Vec<ClaimResult> {
    const STATEMENT: &str = "Reconstruction of BMA24's speed-limited optimisation: a normalised, speed-limited step on one layer raises its NFA correlation and improves the learned features";
    let base = |convention: &str| {
        Claim::new("BMA24", "slo.intervention", STATEMENT, convention)
            .id_param("data", "digits")
            .id_param("layer", s.layer)
            .id_param("regime", setting.regime.name())
            .param("depth", setting.depth)
            .param("width", setting.width)
            .param("init", setting.init)
            .param("learning_rate", setting.learning_rate)
            .param("speed", speed)
            .param("held_out", held_out)
            .param("batch_size", setting.batch_size)
            .param("n", setting.data[0].1)
            .param("seeds", setting.seeds.clone())
            .param("epochs", setting.epochs.last().copied())
    };
    let info = base(
        "final epoch, plain SGD vs the speed-limited layer (same init, warm-up and batch order); mean [95 % interval] over seeds",
    );
    let gain = base(
        "UC-NFA (Pearson, α = 1) of the chosen layer at the last epoch; effect per seed = speed-limited − plain",
    )
    .id_param("quantity", "uc_gain");
    let drop = base(
        "held-out classification error at the last epoch; effect per seed = plain − speed-limited",
    )
    .id_param("quantity", "error_drop");
    let l = s.layer - 1;
    // Per seed, the final measurements of the layer under both rules.
    let mut pairs: Vec<(&CodeRun, &CodeRun)> = Vec::new();
    for (a, b) in plain.iter().zip(limited) {
        match (a, b) {
            (Ok(a), Ok(b)) => pairs.push((a, b)),
            (Err(e), _) | (_, Err(e)) => {
                return [info, gain, drop].map(|c| c.failed(None, e.clone())).into();
            }
        }
    }
    let final_value =
        |r: &CodeRun, q: usize| r.series.last().and_then(|c| c.get(l)).and_then(|v| v[q]);
    let column = |name: &str, f: &dyn Fn(&CodeRun) -> Option<f64>, of_limited: bool| {
        let v: Vec<f64> = pairs
            .iter()
            .filter_map(|(a, b)| f(if of_limited { b } else { a }))
            .collect();
        Summary::over_seeds(name, &v)
    };
    let mut details = Details::new();
    for (rule, of_limited) in [("plain", false), ("speed-limited", true)] {
        for q in [0, 1, 3] {
            details = details.with_column(column(
                &format!("{}, {rule}", NAMES[q]),
                &|r| final_value(r, q),
                of_limited,
            ));
        }
        details = details.with_column(column(
            &format!("test error, {rule}"),
            &|r| Some(r.test_error),
            of_limited,
        ));
    }
    let gains: Vec<f64> = pairs
        .iter()
        .filter_map(|(a, b)| Some(final_value(b, 0)? - final_value(a, 0)?))
        .collect();
    let drops: Vec<f64> = pairs
        .iter()
        .map(|(a, b)| a.test_error - b.test_error)
        .collect();
    vec![
        info.details(details).info(
            None,
            "no theorem (reconstruction): the data of the rows with `quantity` (judged over seeds)",
        ),
        gain.judge_per_seed(
            "uc_gain",
            &gains,
            &Test {
                statement: &SPEED_LIMITED,
                direction: Direction::Positive,
                delta: NFA_DELTA,
                delta_reason: NFA_DELTA_REASON,
                method: "paired Student t",
                resolution: 0.0,
            },
            "the speed-limited layer does not end with a higher UC-NFA than under plain SGD in this regime",
        ),
        drop.judge_per_seed(
            "error_drop",
            &drops,
            &Test {
                statement: &SPEED_LIMITED,
                direction: Direction::Positive,
                delta: ERROR_DELTA,
                delta_reason: "half a point of held-out error (about 4 of the 773 held-out digits)",
                method: "paired Student t",
                resolution: 0.0,
            },
            "the speed-limited layer does not lower the held-out error in this regime",
        ),
    ]
}
