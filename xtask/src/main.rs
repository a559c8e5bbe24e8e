//! `cargo xtask report | run | sweep | merge | analyze`: the command line of the [`cli`]
//! crate (installed as `feature-learning-checks`) under the workspace alias
//! of `.cargo/config.toml`, with `cargo xtask` in its usage lines.

use std::process::ExitCode;

/// The name shown in usage lines and help.
const BIN_NAME: &str = "cargo xtask";

fn main() -> ExitCode {
    cli::main_with(BIN_NAME, std::env::args_os())
}

#[cfg(test)]
mod tests {
    use super::BIN_NAME;

    #[test]
    fn help_lists_the_delegated_commands_under_the_alias() {
        let help = cli::command(BIN_NAME).render_help().to_string();
        assert!(help.contains("Usage: cargo xtask <COMMAND>"), "{help}");
        for name in ["report", "run", "sweep", "merge", "analyze"] {
            assert!(
                help.lines().any(|l| l.trim_start().starts_with(name)),
                "`{name}` missing from:\n{help}"
            );
        }
    }

    #[test]
    fn the_alias_parses_each_command() {
        for args in [
            &["xtask", "report", "--quick", "--format", "json"][..],
            &["xtask", "run", "fixtures/experiments/adamw_digits.toml"],
            &[
                "xtask",
                "sweep",
                "fixtures/sweeps/relu_digits_lr_width.toml",
            ],
            &["xtask", "merge", "target/cluster/report"],
            &[
                "xtask",
                "analyze",
                "--weights",
                "w",
                "--data",
                "x",
                "--activation",
                "relu",
            ],
        ] {
            let matches = cli::command(BIN_NAME)
                .try_get_matches_from(args)
                .unwrap_or_else(|e| panic!("{args:?}: {e}"));
            assert_eq!(matches.subcommand_name(), Some(args[1]));
        }
    }
}
