//! Executable claims: each runs experiments configured in `fixtures/` and
//! returns data — paper key, statement, parameters, prediction, measurement,
//! tolerance with its reason, verdict.
//!
//! The same code runs under `cargo test` (the proof checker: the tests
//! assert the verdicts) and under `cargo xtask report` (which renders them).
//! One module per paper; papers are cited by the keys of SPEC (TMC25, BMA24,
//! ABP22, SB21).
#![warn(missing_docs)]

pub mod abp22;
pub mod bma24;
pub mod claim;
pub mod details;
mod figure_input;
mod runner;
pub mod sb21;
pub mod study;
pub mod tmc25;
mod unit_error;

pub use claim::{
    ClaimResult, Comparison, Direction, Evidence, Precondition, Statement, Test, Verdict,
    adjust_for_multiplicity,
};
pub use details::Details;
pub use executor::{Measured, Unit};
pub use runner::{
    ConcludeError, FamilyHook, FamilyRun, MeasuredHook, PlanError, PlanHook, RunHooks, UnitHook,
    conclude_families, figures, plan_units, run_claims, run_families, run_family_set, run_units,
};
pub use study::{CellSeed, Cells, Planned, Runs, Study};
pub use unit_error::UnitError;

use study::ErasedStudy;

/// Problem sizes: `Quick` for tests and CI, `Full` for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Smaller grids.
    Quick,
    /// The full grids of the issues and SPEC.
    Full,
}

impl Mode {
    /// `"quick"` or `"full"`.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Quick => "quick",
            Mode::Full => "full",
        }
    }
}

/// How to run the claims.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunOptions {
    /// Problem sizes.
    pub mode: Mode,
    /// Replaces every fixture's master seed when set.
    pub seed: Option<u64>,
}

impl RunOptions {
    /// Quick mode with the fixtures' seeds (what `cargo test` checks).
    pub fn quick() -> Self {
        RunOptions {
            mode: Mode::Quick,
            seed: None,
        }
    }
}

/// A family of claims sharing experiments (e.g. all of TMC25 Theorem A):
/// its fixture and the [`Study`] that plans, runs and concludes its units.
pub struct Family {
    /// Paper key.
    pub paper: &'static str,
    /// Claim keys the family produces (e.g. `A.identity`).
    pub keys: &'static [&'static str],
    /// The fixture's file name (under `fixtures/claims/`), for messages.
    pub fixture_file: &'static str,
    fixture: &'static str,
    study: &'static dyn ErasedStudy,
    label: Option<&'static str>,
}

impl Family {
    /// The family of `study`, configured by the TOML text `fixture` (read
    /// from `fixture_file`).
    pub const fn new<S: Study>(
        paper: &'static str,
        keys: &'static [&'static str],
        fixture_file: &'static str,
        fixture: &'static str,
        study: &'static S,
    ) -> Self {
        Family {
            paper,
            keys,
            fixture_file,
            fixture,
            study,
            label: None,
        }
    }

    /// The family with the label `label` (where the derived one would be
    /// another family's).
    pub const fn labelled(self, label: &'static str) -> Self {
        Family {
            label: Some(label),
            ..self
        }
    }

    /// True when some claim of the family can have an id starting with
    /// `prefix` (ids are `PAPER.KEY[params]`).
    pub fn may_match(&self, prefix: &str) -> bool {
        self.keys.iter().any(|k| {
            let stem = format!("{}.{}", self.paper, k);
            stem.starts_with(prefix) || prefix.starts_with(&stem)
        })
    }

    /// A short name for progress and timing tables: the one given by
    /// [`Family::labelled`], else the key of a one-key family, else the
    /// group all keys share (`TMC25 A`), else the paper.
    pub fn label(&self) -> String {
        if let Some(label) = self.label {
            return label.to_owned();
        }
        let group = |k: &str| k.split('.').next().unwrap_or(k).to_owned();
        match self.keys {
            [one] => format!("{} {one}", self.paper),
            [first, rest @ ..] if rest.iter().all(|k| group(k) == group(first)) => {
                format!("{} {}", self.paper, group(first))
            }
            _ => self.paper.to_owned(),
        }
    }
}

/// The seeds of a study over seeds: the fixture's list, or with
/// `--seed N` the block `1000·N + 1, …, 1000·N + k` of as many seeds
/// (SPEC §8: a block disjoint from the fixtures' own seeds, which lie in
/// 1…999, for every N ≥ 1, and from every other N's block).
pub(crate) fn study_seeds(fixture: &[u64], seed: Option<u64>) -> Vec<u64> {
    match seed {
        Some(s) => (1..=fixture.len() as u64)
            .map(|k| seed_block_base(s).wrapping_add(k))
            .collect(),
        None => fixture.to_vec(),
    }
}

/// The master seed of a single-seed experiment: the fixture's, or with
/// `--seed N` the first of N's block (`1000·N + 1`), as [`study_seeds`]
/// gives a study of one seed — disjoint from every fixture seed.
pub(crate) fn master_seed(fixture: u64, seed: Option<u64>) -> u64 {
    seed.map_or(fixture, |n| seed_block_base(n).wrapping_add(1))
}

/// The stride of the seed blocks of `--seed N` (`study_seeds`); every
/// fixture seed of a study is below it.
pub const SEED_BLOCK: u64 = 1000;

/// The base `1000·N` of the seed block of `--seed N`: a study over k seeds
/// uses `base + 1, …, base + k`.
pub fn seed_block_base(n: u64) -> u64 {
    n.wrapping_mul(SEED_BLOCK)
}

/// A fixture value that may differ between the quick and the full mode:
/// one value for both (`steps = 2000`), or one per mode
/// (`steps = { quick = 2000, full = 5000 }`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(untagged)]
pub enum PerMode<T> {
    /// The same value in both modes.
    Both(T),
    /// A value per mode.
    Split(QuickFull<T>),
}

/// The two values of [`PerMode::Split`].
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QuickFull<T> {
    /// The value of `--quick`.
    pub quick: T,
    /// The value of the full report.
    pub full: T,
}

impl<T: Clone> PerMode<T> {
    /// The value in `mode`.
    pub fn get(&self, mode: Mode) -> T {
        match (self, mode) {
            (PerMode::Both(v), _) => v.clone(),
            (PerMode::Split(s), Mode::Quick) => s.quick.clone(),
            (PerMode::Split(s), Mode::Full) => s.full.clone(),
        }
    }
}

/// Parse a claim family's fixture (`deny_unknown_fields` schemas); errors
/// carry the line.
pub fn parse_fixture<T: serde::de::DeserializeOwned>(
    text: &str,
) -> Result<T, experiment::ConfigError> {
    toml::from_str(text).map_err(|e| experiment::config::parse_error(text, &e))
}

/// Every claim family, in report order.
pub fn families() -> Vec<Family> {
    vec![
        tmc25::theorem_a::FAMILY,
        tmc25::theorem_b::FAMILY,
        tmc25::optimizers::FAMILY,
        tmc25::label_noise::FAMILY,
        tmc25::counterexamples::FAMILY,
        bma24::FAMILY,
        abp22::FAMILY,
        abp22::RELU,
        sb21::PHASES,
        sb21::DEPTH,
        sb21::SPECIALISATION,
    ]
}

/// Full citation of a paper key of SPEC.
pub fn paper_title(key: &str) -> &'static str {
    match key {
        "TMC25" => {
            "Tansley, Massart, Cartis — On the Neural Feature Ansatz for Deep Neural Networks (AISTATS 2026)"
        }
        "BMA24" => "Beaglehole, Mitliagkas, Agarwala — Feature learning as alignment (TMLR 2024)",
        "ABP22" => {
            "Atanasov, Bordelon, Pehlevan — Neural Networks as Kernel Learners: The Silent Alignment Effect (ICLR 2022)"
        }
        "SB21" => {
            "Shan, Bordelon — A Theory of Neural Tangent Kernel Alignment and Its Influence on Training"
        }
        _ => "",
    }
}

/// Heading of a claim group: the part of the key before its first `.`
/// (`A.identity` → `A`).
pub fn group_title(paper: &str, group: &str) -> String {
    match (paper, group) {
        ("TMC25", "A") => {
            "Theorem A — balanced init, gradient flow: W_1ᵀW_1 = G_1^{1/L}".to_owned()
        }
        ("TMC25", "B") => {
            "Theorem B — weight decay restores the NFA from unbalanced init".to_owned()
        }
        (_, g) => g.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Mode, PerMode};

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Fixture {
        steps: PerMode<usize>,
        depths: PerMode<Vec<usize>>,
    }

    /// `--seed N` gives a block of seeds disjoint from the fixture's and
    /// from another N's.
    #[test]
    fn seed_blocks_are_disjoint() {
        let fixture = [1, 2, 3];
        assert_eq!(super::study_seeds(&fixture, None), vec![1, 2, 3]);
        assert_eq!(
            super::study_seeds(&fixture, Some(7)),
            vec![7001, 7002, 7003]
        );
        assert_eq!(
            super::study_seeds(&fixture, Some(8)),
            vec![8001, 8002, 8003]
        );
        // A single-seed experiment takes the first seed of the block, as a
        // study of one seed does: `--seed 11` does not rerun fixture seed 11.
        assert_eq!(super::master_seed(11, None), 11);
        assert_eq!(super::master_seed(11, Some(11)), 11001);
        assert_eq!(
            super::master_seed(5, Some(7)),
            super::study_seeds(&[5], Some(7))[0]
        );
    }

    /// One value serves both modes; a `{quick, full}` table gives one per
    /// mode; a misspelt mode key is an error, not a silent default.
    #[test]
    fn per_mode_values_parse_in_both_forms() {
        let f: Fixture =
            toml::from_str("steps = 7\ndepths = { quick = [2], full = [2, 3] }").unwrap();
        assert_eq!((f.steps.get(Mode::Quick), f.steps.get(Mode::Full)), (7, 7));
        assert_eq!(f.depths.get(Mode::Quick), vec![2]);
        assert_eq!(f.depths.get(Mode::Full), vec![2, 3]);
        assert!(
            toml::from_str::<Fixture>("steps = { quick = 1, fulll = 2 }\ndepths = [1]").is_err()
        );
    }
}
