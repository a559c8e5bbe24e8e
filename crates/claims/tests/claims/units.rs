//! The runner split in two, as a sharded report uses it: units run in any
//! subsets (here three, in turn) with their measurements stored as JSON
//! text, then every family concluded from the stored measurements gives
//! the claims of one process, bit for bit.

use std::collections::HashMap;
use std::sync::Mutex;

use claims::{ConcludeError, Measured, RunOptions, Unit, conclude_families, plan_units, run_units};

const ONLY: &str = "TMC25.A.";

/// Every unit of `ONLY` run in three subsets, each measurement written
/// to and read back from JSON text.
fn stored_measurements(options: &RunOptions) -> HashMap<String, Measured> {
    let plan = plan_units(options, Some(ONLY)).unwrap();
    let stored = Mutex::new(HashMap::new());
    for part in 0..3 {
        let subset: Vec<Unit> = plan.iter().skip(part).step_by(3).cloned().collect();
        run_units(&subset, options, &|unit: &Unit, m: Measured| {
            let text = serde_json::to_string(&m.value).unwrap();
            let value: Result<serde_json::Value, String> = serde_json::from_str(&text).unwrap();
            let previous = stored.lock().unwrap().insert(
                unit.id.clone(),
                Measured {
                    value,
                    seconds: m.seconds,
                },
            );
            assert!(previous.is_none(), "{} ran twice", unit.id);
        });
    }
    stored.into_inner().unwrap()
}

#[test]
fn stored_measurements_conclude_to_the_claims_of_one_process() {
    let options = RunOptions::quick();
    let stored = stored_measurements(&options);
    assert_eq!(
        stored.len(),
        plan_units(&options, Some(ONLY)).unwrap().len()
    );
    let concluded: Vec<_> = conclude_families(&options, Some(ONLY), stored)
        .unwrap()
        .into_iter()
        .flat_map(|f| f.claims)
        .collect();
    let one = claims::run_claims(&options, Some(ONLY));
    assert!(!one.is_empty());
    // As JSON text: every f64 printed exactly, so equal text is equal bits.
    assert_eq!(
        serde_json::to_string(&concluded).unwrap(),
        serde_json::to_string(&one).unwrap()
    );
}

#[test]
fn a_missing_measurement_is_named_and_nothing_is_concluded() {
    let options = RunOptions::quick();
    let mut stored = stored_measurements(&options);
    let plan = plan_units(&options, Some(ONLY)).unwrap();
    stored.remove(&plan[1].id);
    match conclude_families(&options, Some(ONLY), stored) {
        Err(ConcludeError::Missing(ids)) => assert_eq!(ids, [plan[1].id.clone()]),
        other => panic!("expected the missing unit, got {other:?}"),
    }
}
