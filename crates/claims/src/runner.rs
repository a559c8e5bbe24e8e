//! Running the report's units of work: plan every selected family, run the
//! units through [`executor::execute`], conclude each family once its units
//! are done.
//!
//! Each unit is a deterministic function of its point, and a family is
//! concluded from its measurements in plan order, so the claims do not
//! depend on the number of threads or on the order in which units finish.
//!
//! The same two halves serve a run split over processes: [`run_units`] runs
//! any chosen subset of the plan and hands each measurement to a hook (which
//! may store it), and [`conclude_families`] concludes every family from
//! stored measurements without running anything.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use executor::{Measured, Unit};
use figure::{Declared, Missing};
use serde_json::Value;

use crate::claim::Claim;
use crate::study::Planned;
use crate::{ClaimResult, Family, RunOptions, Verdict, families};

/// The claims of one family and the time its units took.
#[derive(Debug, Clone)]
pub struct FamilyRun {
    /// [`Family::label`].
    pub label: String,
    /// Its claims that match the `only` prefix, in report order.
    pub claims: Vec<ClaimResult>,
    /// Wall time of the family's units and conclusion, summed, in seconds
    /// (units run concurrently, so the times of families overlap).
    pub seconds: f64,
}

/// Called once with every unit about to run, in plan order.
pub type PlanHook<'a> = &'a (dyn Fn(&[Unit]) + Sync);
/// Called from the worker thread as each unit finishes, with its seconds.
pub type UnitHook<'a> = &'a (dyn Fn(&Unit, f64) + Sync);
/// Called from the worker thread as each family is concluded.
pub type FamilyHook<'a> = &'a (dyn Fn(&FamilyRun) + Sync);

/// Observers of [`run_families`]; the library prints nothing itself.
#[derive(Default)]
pub struct RunHooks<'a> {
    /// Called once before any unit runs.
    pub on_plan: Option<PlanHook<'a>>,
    /// Called as each unit finishes.
    pub on_unit: Option<UnitHook<'a>>,
    /// Called as each family is concluded.
    pub on_family: Option<FamilyHook<'a>>,
    /// When true, units not yet started are skipped once a concluded
    /// family has a failing claim (make-like: work under way completes);
    /// families with skipped units are not concluded.
    pub stop_after_failure: bool,
}

/// Called from the worker thread with each unit's measurement as it
/// finishes ([`run_units`]).
pub type MeasuredHook<'a> = &'a (dyn Fn(&Unit, Measured) + Sync);

/// Why stored measurements cannot be concluded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ConcludeError {
    /// A selected family's fixture cannot be planned.
    #[error(transparent)]
    Plan(#[from] PlanError),
    /// Units of the plan without a measurement, by id in plan order.
    #[error("{} units have no measurement", .0.len())]
    Missing(Vec<String>),
}

/// A family whose fixture cannot be planned.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("fixture {file}: {message}")]
pub struct PlanError {
    /// The fixture's file name.
    pub file: String,
    /// What is wrong, on one line.
    pub message: String,
}

impl Family {
    /// The prefix of its units' ids: the label with `.` for spaces
    /// (`TMC25.A`).
    pub fn unit_prefix(&self) -> String {
        self.label().replace(' ', ".")
    }

    fn units(&self, options: &RunOptions) -> Result<Vec<Unit>, PlanError> {
        let planned = self
            .study
            .plan(self.fixture, options)
            .map_err(|message| PlanError {
                file: self.fixture_file.to_owned(),
                message,
            })?;
        let (prefix, label) = (self.unit_prefix(), self.label());
        Ok(planned
            .into_iter()
            .map(|Planned { name, cost, point }| Unit {
                id: format!("{prefix}/{name}"),
                family: label.clone(),
                cost,
                point,
            })
            .collect())
    }

    /// One failed claim per key, for a family that could not run.
    fn failure(&self, why: &str) -> Vec<ClaimResult> {
        self.keys
            .iter()
            .map(|k| Claim::new(self.paper, k, "the family's experiments", "").failed(None, why))
            .collect()
    }

    /// The claims from every unit's measurement in plan order, and the
    /// seconds of the family: its units' plus its conclusion's. The one
    /// conclusion of a family, whether its units ran in this process or
    /// were read back from shards.
    fn conclude_timed(
        &self,
        options: &RunOptions,
        measured: Vec<(Value, Measured)>,
    ) -> (Vec<ClaimResult>, f64) {
        let start = Instant::now();
        let units: f64 = measured.iter().map(|(_, m)| m.seconds).sum();
        let measured = measured.into_iter().map(|(p, m)| (p, m.value)).collect();
        let claims = self.conclude(options, measured);
        (claims, units + start.elapsed().as_secs_f64())
    }

    fn conclude(
        &self,
        options: &RunOptions,
        measured: Vec<(Value, Result<Value, String>)>,
    ) -> Vec<ClaimResult> {
        let measured: Result<Vec<(Value, Value)>, String> =
            measured.into_iter().map(|(p, m)| Ok((p, m?))).collect();
        match measured.and_then(|m| self.study.conclude(self.fixture, options, m)) {
            Ok(claims) => claims,
            Err(why) => self.failure(&why),
        }
    }
}

/// The [`FamilyRun`] of `family`: its claims that match `only`.
fn family_run(
    family: &Family,
    claims: Vec<ClaimResult>,
    only: Option<&str>,
    seconds: f64,
) -> FamilyRun {
    FamilyRun {
        label: family.label(),
        claims: claims
            .into_iter()
            .filter(|c| only.is_none_or(|p| c.id.starts_with(p)))
            .collect(),
        seconds,
    }
}

fn selected(families: Vec<Family>, only: Option<&str>) -> Vec<Family> {
    families
        .into_iter()
        .filter(|f| only.is_none_or(|p| f.may_match(p)))
        .collect()
}

/// The units of every family that may match `only`, in report order; the
/// first fixture that cannot be planned is an error.
pub fn plan_units(options: &RunOptions, only: Option<&str>) -> Result<Vec<Unit>, PlanError> {
    let mut units = Vec::new();
    for f in selected(families(), only) {
        units.extend(f.units(options)?);
    }
    Ok(units)
}

/// Run every claim whose id starts with `only` (all when `None`).
pub fn run_claims(options: &RunOptions, only: Option<&str>) -> Vec<ClaimResult> {
    run_families(options, only, &RunHooks::default())
        .into_iter()
        .flat_map(|f| f.claims)
        .collect()
}

/// Run the claim families that may match `only` and return, in report
/// order, every family that was concluded.
pub fn run_families(options: &RunOptions, only: Option<&str>, hooks: &RunHooks) -> Vec<FamilyRun> {
    run_family_set(families(), options, only, hooks)
}

/// The measurements of one family as its units finish.
struct Pending {
    /// Index of the family.
    family: usize,
    /// Its units, in plan order.
    units: Vec<Unit>,
    measured: Mutex<Vec<Option<Measured>>>,
    remaining: AtomicUsize,
}

/// [`run_families`] over a given list of families (the registry, or a
/// test's own families to exercise the failure path).
pub fn run_family_set(
    families: Vec<Family>,
    options: &RunOptions,
    only: Option<&str>,
    hooks: &RunHooks,
) -> Vec<FamilyRun> {
    let families = selected(families, only);
    let plans: Vec<Result<Vec<Unit>, PlanError>> =
        families.iter().map(|f| f.units(options)).collect();
    if let Some(plan) = hooks.on_plan {
        let all: Vec<Unit> = plans.iter().flatten().flatten().cloned().collect();
        plan(&all);
    }
    let failed = AtomicBool::new(false);
    let concluded: Vec<Mutex<Option<FamilyRun>>> =
        families.iter().map(|_| Mutex::new(None)).collect();
    let finish = |k: usize, claims: Vec<ClaimResult>, seconds: f64| {
        let run = family_run(&families[k], claims, only, seconds);
        if run.claims.iter().any(|c| c.verdict == Verdict::Fail) {
            failed.store(true, Ordering::SeqCst);
        }
        if let Some(done) = hooks.on_family {
            done(&run);
        }
        *concluded[k].lock().expect("no poisoned lock") = Some(run);
    };
    let mut pending = Vec::new();
    for (k, plan) in plans.into_iter().enumerate() {
        match plan {
            Err(e) => finish(k, families[k].failure(&e.to_string()), 0.0),
            Ok(units) if units.is_empty() => {
                finish(k, families[k].conclude(options, Vec::new()), 0.0)
            }
            Ok(units) => pending.push(Pending {
                family: k,
                measured: Mutex::new(vec![None; units.len()]),
                remaining: AtomicUsize::new(units.len()),
                units,
            }),
        }
    }
    // Every unit of every pending family, in plan order, with where its
    // measurement goes.
    let slots: Vec<(usize, usize)> = pending
        .iter()
        .enumerate()
        .flat_map(|(p, f)| (0..f.units.len()).map(move |u| (p, u)))
        .collect();
    let units: Vec<Unit> = pending.iter().flat_map(|f| f.units.clone()).collect();
    let run = |unit: &Unit| run_unit(&families, options, unit);
    let done = |k: usize, unit: &Unit, m: Measured| {
        let (p, u) = slots[k];
        let family = &pending[p];
        if let Some(done) = hooks.on_unit {
            done(unit, m.seconds);
        }
        family.measured.lock().expect("no poisoned lock")[u] = Some(m);
        if family.remaining.fetch_sub(1, Ordering::SeqCst) == 1 {
            let measured = std::mem::take(&mut *family.measured.lock().expect("no poisoned lock"));
            let measured = family
                .units
                .iter()
                .zip(measured)
                .map(|(unit, m)| (unit.point.clone(), m.expect("every unit has finished")))
                .collect();
            let (claims, seconds) = families[family.family].conclude_timed(options, measured);
            finish(family.family, claims, seconds);
        }
    };
    let stop = hooks.stop_after_failure.then_some(&failed);
    executor::execute(&units, &run, stop, &done);
    concluded
        .into_iter()
        .filter_map(|c| c.into_inner().expect("no poisoned lock"))
        .collect()
}

/// Run `units` (some of [`plan_units`] with the same `options`) through
/// [`executor::execute`] and hand each measurement to `on_done` as it
/// finishes; nothing is concluded. A unit whose family is not in the
/// registry gets an `Err` measurement.
pub fn run_units(units: &[Unit], options: &RunOptions, on_done: MeasuredHook) {
    let registry = families();
    let run = |unit: &Unit| run_unit(&registry, options, unit);
    executor::execute(units, &run, None, &|_, unit, m| on_done(unit, m));
}

/// One unit's measurement, by the family of `registry` it names.
fn run_unit(registry: &[Family], options: &RunOptions, unit: &Unit) -> Result<Value, String> {
    match registry.iter().find(|f| f.label() == unit.family) {
        Some(f) => f.study.run(f.fixture, options, &unit.point),
        None => Err(format!("no claim family `{}`", unit.family)),
    }
}

/// The figures declared by the families of `runs` (in report order), each
/// drawn from the claims of every run.
pub fn figures(options: &RunOptions, runs: &[FamilyRun]) -> Vec<Declared> {
    let claims: Vec<ClaimResult> = runs.iter().flat_map(|r| r.claims.clone()).collect();
    let registry = families();
    runs.iter()
        .filter_map(|run| registry.iter().find(|f| f.label() == run.label))
        .flat_map(|f| {
            f.study
                .figures(f.fixture, options, &claims)
                .unwrap_or_else(|why| vec![Err(Missing::new(f.fixture_file, why))])
        })
        .collect()
}

/// Conclude every family that may match `only` from stored measurements
/// (keyed by unit id), without running anything, and return them as
/// [`run_families`] does: in report order, each family's claims filtered
/// by `only`, its seconds the sum of its units' seconds plus the time of
/// its conclusion. Each family is concluded from its measurements in plan
/// order, so the claims equal those of [`run_families`] whenever the
/// measurements do. Every unit of the plan must have a measurement
/// (measurements of other ids are ignored).
pub fn conclude_families(
    options: &RunOptions,
    only: Option<&str>,
    mut measured: HashMap<String, Measured>,
) -> Result<Vec<FamilyRun>, ConcludeError> {
    let families = selected(families(), only);
    let plans = families
        .iter()
        .map(|f| f.units(options))
        .collect::<Result<Vec<_>, _>>()?;
    let mut missing = Vec::new();
    let mut found = Vec::new();
    for units in plans {
        let mut family = Vec::new();
        for u in units {
            match measured.remove(&u.id) {
                Some(m) => family.push((u.point, m)),
                None => missing.push(u.id),
            }
        }
        found.push(family);
    }
    if !missing.is_empty() {
        return Err(ConcludeError::Missing(missing));
    }
    Ok(families
        .iter()
        .zip(found)
        .map(|(f, family)| {
            let (claims, seconds) = f.conclude_timed(options, family);
            family_run(f, claims, only, seconds)
        })
        .collect())
}
