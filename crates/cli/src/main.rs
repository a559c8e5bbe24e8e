//! `feature-learning-checks report | run | sweep | merge | analyze`: the command line of
//! the [`cli`] library.

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::main_with("feature-learning-checks", std::env::args_os())
}
