//! The report's figures: each claim family declares its figures as data
//! ([`claims::figures`]); this module draws them as SVG files written next
//! to `report.md` and lists them in its "Figures" section, with every
//! declared figure whose claims are absent (not run, or filtered out by
//! `--only`) named as not drawn.
//!
//! | file | family | shows |
//! |---|---|---|
//! | `tmc25_nfa_relerr.svg` | TMC25 B (beside `A.identity`) | `relerr(W_1ᵀW_1, G_1^{1/L})` vs t, balanced/unbalanced × with/without decay |
//! | `tmc25_imbalance_decay.svg` | TMC25 B | `‖D_l(t)‖_F` (log) vs `2λt` against `‖D_l(0)‖_F e^{−2λt}` |
//! | `tmc25_alpha_depth.svg` | TMC25 A | α̂ by each estimator vs depth against `1/L` |
//! | `bma24_nfa_DATA_REGIME.svg` | BMA24 | UC- and C-NFA per layer over training, mean and 95 % interval over seeds |
//! | `abp22_silent_alignment.svg` | ABP22 | kernel–target alignment and loss vs t (log), whitened and anisotropic inputs |
//! | `abp22_relu_silent_alignment.svg` | ABP22 | two-layer ReLU on whitened digits 0/1: loss, kernel scale and alignments vs t (log), mean over seeds with 95 % bands |
//! | `sb21_specialisation_DATA[_TARGET]_NET_MOTION_motion.svg` | SB21 | heat map of `S_cc' = A(K_c, y_c')` after training (mean over seeds; uncentred, full kernels) |

use std::fmt::Write as _;

use claims::{FamilyRun, RunOptions};
use figure::{Missing, PlotError};

/// One drawn figure of the report.
#[derive(Debug, Clone)]
pub struct Figure {
    /// File name, written next to `report.md`.
    pub file: String,
    /// What the figure shows, with its conventions (the markdown caption).
    pub caption: String,
    /// The SVG document.
    pub svg: String,
}

/// The figures of the report: those the families of `runs` declare,
/// drawn; and those whose claims are absent.
pub fn figures(
    options: &RunOptions,
    runs: &[FamilyRun],
) -> Result<(Vec<Figure>, Vec<Missing>), PlotError> {
    let (mut drawn, mut missing) = (Vec::new(), Vec::new());
    for declared in claims::figures(options, runs) {
        match declared {
            Ok(f) => drawn.push(Figure {
                svg: f.svg()?,
                file: f.file,
                caption: f.caption,
            }),
            Err(m) => missing.push(m),
        }
    }
    Ok((drawn, missing))
}

/// The "Figures" section of `report.md`: each figure as an image link with
/// its caption, then the declared figures not drawn and why.
pub fn markdown_section(figures: &[Figure], missing: &[Missing]) -> String {
    if figures.is_empty() && missing.is_empty() {
        return String::new();
    }
    let mut out = String::from("## Figures\n\n");
    for f in figures {
        let _ = writeln!(out, "![{}]({})\n\n{}\n", f.file, f.file, f.caption);
    }
    if !missing.is_empty() {
        out.push_str("Not drawn (their claims are not in this report):\n\n");
        for m in missing {
            let _ = writeln!(out, "- `{}`: {}", m.file, m.why);
        }
        out.push('\n');
    }
    out
}
