//! Units of work: how a claim family declares, runs and concludes its
//! experiments.
//!
//! A family is a [`Study`]: from its fixture it *plans* its units of work
//! (one grid point × seed each, with a stable id and an estimated cost),
//! *runs* each unit independently into plain serialisable measurements, and
//! *concludes* the measurements of all its units into claims. The runner
//! ([`crate::run_family_set`]) executes the units of every family in
//! parallel and concludes each family once its units are done; a sharded
//! run can execute the units anywhere and conclude from their stored
//! measurements.
//!
//! Measurements always pass through JSON ([`serde_json::Value`]) between
//! `run` and `conclude`, in one process as well, so a family whose
//! measurements would not survive being written to disk fails its own
//! tests, not a cluster run. Non-finite numbers do not survive JSON: store
//! them as `Option<f64>` or as an error string.

use figure::Declared;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{ClaimResult, RunOptions};

/// One unit of a family's plan, as declared by [`Study::plan`].
#[derive(Debug, Clone, PartialEq)]
pub struct Planned<P> {
    /// The unit's name within its family, e.g. `L=3,width=10,C=2`; with the
    /// family's id prefix it makes the unit's id.
    pub name: String,
    /// Estimated cost in seconds on one core (for ordering and balancing
    /// work; never for correctness).
    pub cost: f64,
    /// What the unit computes: its grid point and seed.
    pub point: P,
}

/// A claim family's experiments as units of work.
///
/// `plan`, `run` and `conclude` must be deterministic functions of their
/// arguments: the same fixture and options give the same units, each unit
/// the same measurement bits, wherever and in whatever order it runs.
pub trait Study: Sync {
    /// The family's fixture schema (`fixtures/claims/*.toml`).
    type Config: DeserializeOwned + Sync;
    /// A unit's parameters.
    type Point: Serialize + DeserializeOwned + Sync;
    /// A unit's result. Where a claim depends on one unit only, the unit
    /// may return the finished claims.
    type Measurement: Serialize + DeserializeOwned;

    /// The units, in report order.
    fn plan(&self, cfg: &Self::Config, options: &RunOptions) -> Vec<Planned<Self::Point>>;
    /// Compute one unit.
    fn run(
        &self,
        cfg: &Self::Config,
        options: &RunOptions,
        point: &Self::Point,
    ) -> Self::Measurement;
    /// The claims, from every unit's measurement in plan order.
    fn conclude(
        &self,
        cfg: &Self::Config,
        options: &RunOptions,
        measured: Vec<(Self::Point, Self::Measurement)>,
    ) -> Vec<ClaimResult>;
    /// The figures the family declares, drawn from the report's claims
    /// (its own; a figure that sets them beside another family's may read
    /// those too). A figure whose claims are absent is a [`figure::Missing`].
    fn figures(
        &self,
        _cfg: &Self::Config,
        _options: &RunOptions,
        _claims: &[ClaimResult],
    ) -> Vec<Declared> {
        Vec::new()
    }
}

/// A unit of a [`Cells`] study: one cell at one seed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CellSeed<C> {
    /// The cell (every parameter but the seed).
    pub cell: C,
    /// The unit's master seed.
    pub seed: u64,
}

/// The measurements of one cell's units, in seed order.
#[derive(Debug, Clone, PartialEq)]
pub struct Runs<C, M> {
    /// The cell.
    pub cell: C,
    /// Its seeds (the fixture's, or the block of `--seed N`).
    pub seeds: Vec<u64>,
    /// One measurement per seed.
    pub measured: Vec<M>,
}

/// A study whose units are cells × seeds, the common shape of an empirical
/// claim judged over seeds (SPEC §8). The family declares its cells and
/// writes *measure one unit* and *conclude from the cells' runs*; the
/// framework (the [`Study`] every `Cells` is) derives the units, their
/// names (`CELL,seed=N`), the `--seed` override (the block of N, SPEC §8)
/// and the grouping of the measurements by cell.
pub trait Cells: Sync {
    /// The family's fixture schema.
    type Config: DeserializeOwned + Sync;
    /// Every parameter of a unit but its seed.
    type Cell: Serialize + DeserializeOwned + Clone + PartialEq + Sync;
    /// A unit's result.
    type Measurement: Serialize + DeserializeOwned;

    /// The cells, distinct, in report order, each with the fixture's seeds
    /// for it.
    fn cells(&self, cfg: &Self::Config, options: &RunOptions) -> Vec<(Self::Cell, Vec<u64>)>;
    /// The cell's part of a unit name, e.g. `regime=a,init=b`.
    fn name(&self, cell: &Self::Cell) -> String;
    /// Estimated seconds of one unit of `cell` on one core (for ordering
    /// and balancing work only).
    fn cost(&self, cfg: &Self::Config, options: &RunOptions, cell: &Self::Cell) -> f64;
    /// Compute one unit.
    fn measure(
        &self,
        cfg: &Self::Config,
        options: &RunOptions,
        cell: &Self::Cell,
        seed: u64,
    ) -> Self::Measurement;
    /// The claims from every cell's runs, in the order of [`Cells::cells`].
    fn conclude_cells(
        &self,
        cfg: &Self::Config,
        options: &RunOptions,
        cells: Vec<Runs<Self::Cell, Self::Measurement>>,
    ) -> Vec<ClaimResult>;
    /// The family's figures, as [`Study::figures`].
    fn declare_figures(
        &self,
        _cfg: &Self::Config,
        _options: &RunOptions,
        _claims: &[ClaimResult],
    ) -> Vec<Declared> {
        Vec::new()
    }
}

impl<S: Cells> Study for S {
    type Config = S::Config;
    type Point = CellSeed<S::Cell>;
    type Measurement = S::Measurement;

    fn plan(&self, cfg: &S::Config, options: &RunOptions) -> Vec<Planned<Self::Point>> {
        let mut units = Vec::new();
        for (cell, seeds) in self.cells(cfg, options) {
            let (name, cost) = (self.name(&cell), self.cost(cfg, options, &cell));
            for seed in crate::study_seeds(&seeds, options.seed) {
                units.push(Planned {
                    name: format!("{name},seed={seed}"),
                    cost,
                    point: CellSeed {
                        cell: cell.clone(),
                        seed,
                    },
                });
            }
        }
        units
    }

    fn run(&self, cfg: &S::Config, options: &RunOptions, p: &Self::Point) -> S::Measurement {
        self.measure(cfg, options, &p.cell, p.seed)
    }

    /// The cells' runs, each from its consecutive units of the plan.
    fn conclude(
        &self,
        cfg: &S::Config,
        options: &RunOptions,
        measured: Vec<(Self::Point, S::Measurement)>,
    ) -> Vec<ClaimResult> {
        let mut cells: Vec<Runs<S::Cell, S::Measurement>> = Vec::new();
        for (p, m) in measured {
            match cells.last_mut() {
                Some(runs) if runs.cell == p.cell => {
                    runs.seeds.push(p.seed);
                    runs.measured.push(m);
                }
                _ => cells.push(Runs {
                    cell: p.cell,
                    seeds: vec![p.seed],
                    measured: vec![m],
                }),
            }
        }
        self.conclude_cells(cfg, options, cells)
    }

    fn figures(
        &self,
        cfg: &S::Config,
        options: &RunOptions,
        claims: &[ClaimResult],
    ) -> Vec<Declared> {
        self.declare_figures(cfg, options, claims)
    }
}

/// A [`Study`] with its types erased to JSON, so that families of
/// different types sit in one registry and units cross process boundaries.
pub(crate) trait ErasedStudy: Sync {
    /// The units' names, costs and points; `Err` when the fixture does not
    /// parse.
    fn plan(&self, fixture: &str, options: &RunOptions) -> Result<Vec<Planned<Value>>, String>;
    /// One unit's measurement.
    fn run(&self, fixture: &str, options: &RunOptions, point: &Value) -> Result<Value, String>;
    /// The claims from the measurements.
    fn conclude(
        &self,
        fixture: &str,
        options: &RunOptions,
        measured: Vec<(Value, Value)>,
    ) -> Result<Vec<ClaimResult>, String>;
    /// The declared figures.
    fn figures(
        &self,
        fixture: &str,
        options: &RunOptions,
        claims: &[ClaimResult],
    ) -> Result<Vec<Declared>, String>;
}

fn config<C: DeserializeOwned>(fixture: &str) -> Result<C, String> {
    crate::parse_fixture(fixture).map_err(|e| e.to_string())
}

fn to_json(what: &str, v: &impl Serialize) -> Result<Value, String> {
    serde_json::to_value(v).map_err(|e| format!("{what} does not serialise: {e}"))
}

fn from_json<T: DeserializeOwned>(what: &str, v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("{what} does not deserialise: {e}"))
}

impl<S: Study> ErasedStudy for S {
    fn plan(&self, fixture: &str, options: &RunOptions) -> Result<Vec<Planned<Value>>, String> {
        let cfg: S::Config = config(fixture)?;
        Study::plan(self, &cfg, options)
            .into_iter()
            .map(|p| {
                Ok(Planned {
                    point: to_json("a unit's point", &p.point)?,
                    name: p.name,
                    cost: p.cost,
                })
            })
            .collect()
    }

    fn run(&self, fixture: &str, options: &RunOptions, point: &Value) -> Result<Value, String> {
        let cfg: S::Config = config(fixture)?;
        let point: S::Point = from_json("a unit's point", point.clone())?;
        to_json("a measurement", &Study::run(self, &cfg, options, &point))
    }

    fn conclude(
        &self,
        fixture: &str,
        options: &RunOptions,
        measured: Vec<(Value, Value)>,
    ) -> Result<Vec<ClaimResult>, String> {
        let cfg: S::Config = config(fixture)?;
        let measured = measured
            .into_iter()
            .map(|(p, m)| {
                Ok((
                    from_json("a unit's point", p)?,
                    from_json("a measurement", m)?,
                ))
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut claims = Study::conclude(self, &cfg, options, measured);
        crate::claim::adjust_for_multiplicity(&mut claims);
        Ok(claims)
    }

    fn figures(
        &self,
        fixture: &str,
        options: &RunOptions,
        claims: &[ClaimResult],
    ) -> Result<Vec<Declared>, String> {
        let cfg: S::Config = config(fixture)?;
        Ok(Study::figures(self, &cfg, options, claims))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Mode;
    use crate::claim::Claim;

    /// Two cells with their own seed lists; a unit measures `cell · seed`.
    struct Toy;

    impl Cells for Toy {
        type Config = ();
        type Cell = u64;
        type Measurement = u64;

        fn cells(&self, _: &(), _: &RunOptions) -> Vec<(u64, Vec<u64>)> {
            vec![(2, vec![1, 2, 3]), (5, vec![7])]
        }
        fn name(&self, cell: &u64) -> String {
            format!("c={cell}")
        }
        fn cost(&self, _: &(), _: &RunOptions, cell: &u64) -> f64 {
            *cell as f64
        }
        fn measure(&self, _: &(), _: &RunOptions, cell: &u64, seed: u64) -> u64 {
            cell * seed
        }
        /// One info row per cell: its seeds and the sum of its measurements.
        fn conclude_cells(
            &self,
            _: &(),
            _: &RunOptions,
            cells: Vec<Runs<u64, u64>>,
        ) -> Vec<ClaimResult> {
            cells
                .into_iter()
                .map(|r| {
                    Claim::new("X", "toy", "", "")
                        .id_param("cell", r.cell)
                        .param("seeds", r.seeds)
                        .info(Some(r.measured.iter().sum::<u64>() as f64), "")
                })
                .collect()
        }
    }

    fn run(options: &RunOptions) -> (Vec<String>, Vec<ClaimResult>) {
        let plan = Study::plan(&Toy, &(), options);
        let names = plan.iter().map(|p| p.name.clone()).collect();
        let measured = plan
            .into_iter()
            .map(|p| {
                let m = Study::run(&Toy, &(), options, &p.point);
                (p.point, m)
            })
            .collect();
        (names, Study::conclude(&Toy, &(), options, measured))
    }

    #[test]
    fn cells_plan_their_seeds_and_conclude_grouped_by_cell() {
        let (names, claims) = run(&RunOptions::quick());
        assert_eq!(
            names,
            ["c=2,seed=1", "c=2,seed=2", "c=2,seed=3", "c=5,seed=7"]
        );
        let sums: Vec<Option<f64>> = claims.iter().map(|c| c.measured).collect();
        assert_eq!(sums, [Some(12.0), Some(35.0)]);
        assert_eq!(claims[0].params["seeds"], serde_json::json!([1, 2, 3]));
    }

    #[test]
    fn seed_n_replaces_every_cells_seeds_by_as_many_of_its_block() {
        let options = RunOptions {
            mode: Mode::Quick,
            seed: Some(4),
        };
        let (names, claims) = run(&options);
        assert_eq!(
            names,
            [
                "c=2,seed=4001",
                "c=2,seed=4002",
                "c=2,seed=4003",
                "c=5,seed=4001"
            ]
        );
        assert_eq!(claims[1].measured, Some(5.0 * 4001.0));
    }
}
