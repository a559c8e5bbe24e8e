//! The units of work of the report: stable, unique ids, declared before
//! anything runs, with finite positive cost estimates.

use claims::{Mode, RunOptions, plan_units};

fn options(mode: Mode) -> RunOptions {
    RunOptions { mode, seed: None }
}

#[test]
fn unit_ids_are_unique_stable_and_prefixed_by_their_family() {
    for mode in [Mode::Quick, Mode::Full] {
        let units = plan_units(&options(mode), None).unwrap();
        assert_eq!(units, plan_units(&options(mode), None).unwrap());
        let mut ids: Vec<&str> = units.iter().map(|u| u.id.as_str()).collect();
        ids.sort_unstable();
        let before = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), before, "{mode:?}: duplicate unit ids");
        for u in &units {
            assert!(u.id.starts_with(&u.family.replace(' ', ".")), "{}", u.id);
            assert!(u.cost.is_finite() && u.cost > 0.0, "{}: {}", u.id, u.cost);
        }
        for family in claims::families() {
            assert!(
                units.iter().any(|u| u.family == family.label()),
                "{mode:?}: {} has no unit",
                family.label()
            );
        }
    }
    // The full report covers at least the quick one's grid.
    let quick = plan_units(&options(Mode::Quick), None).unwrap().len();
    assert!(plan_units(&options(Mode::Full), None).unwrap().len() >= quick);
}

/// `--only` selects whole families: the plan of a prefix is the part of the
/// whole plan whose family may produce it.
#[test]
fn a_prefix_plans_only_its_families() {
    let all = plan_units(&options(Mode::Quick), None).unwrap();
    let only = plan_units(&options(Mode::Quick), Some("TMC25.A.")).unwrap();
    assert!(!only.is_empty());
    assert!(only.iter().all(|u| u.family == "TMC25 A"));
    assert_eq!(
        only.len(),
        all.iter().filter(|u| u.family == "TMC25 A").count()
    );
}
