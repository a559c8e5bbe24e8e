//! Integration tests of `experiment`, one binary: each module below is a
//! test file of its own.

mod config_errors;
mod constructions;
mod data_kinds;
mod digit_pair;
mod measurement;
mod paths;
mod until_converged;

use experiment::Experiment;

/// A validated experiment from TOML text (panics with the error otherwise).
pub fn experiment(text: &str) -> Experiment {
    Experiment::from_toml(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// A configuration with the given `[data]` and `[network]` bodies, a
/// Gaussian init, full-batch GD with η = 0.05 and checkpoints at steps 0,
/// 10, 50.
pub fn with(data: &str, network: &str) -> String {
    format!(
        "seed = 3\n[data]\n{data}\n[network]\n{network}\n[init]\nkind = \"gaussian\"\nsigma = 1.0\n\
         [dynamics]\nkind = \"gd\"\nlearning_rate = 0.05\n\
         [checkpoints]\nkind = \"steps\"\nsteps = [0, 10, 50]\n"
    )
}
