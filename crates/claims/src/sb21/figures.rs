//! SB21's figures: the specialisation matrix of each setting as a heat
//! map.

use figure::{Declared, Figure, HeatMap, Missing, Plot};

use crate::ClaimResult;
use crate::figure_input::{gaps, text};

/// A heat map per specialisation claim in SB21's convention.
pub(crate) fn declared(claims: &[ClaimResult]) -> Vec<Declared> {
    claims
        .iter()
        .filter(|r| r.paper == "SB21" && r.key == "specialisation" && sb21_convention(r))
        .map(|r| {
            specialisation(r).ok_or_else(|| {
                Missing::new(r.id.clone(), "no specialisation matrix in its details")
            })
        })
        .collect()
}

/// (f) SB21's specialisation matrix `S_cc' = A(K_c, y_c')` of one setting
/// (kernel motion, data set and target, network) as a heat map, in SB21's
/// convention (uncentred alignment of the full kernels): the linear
/// network's claim and the ReLU network's contrast-from-init claim in that
/// convention: true for those claims.
fn sb21_convention(r: &ClaimResult) -> bool {
    match text(r, "by") {
        None => true,
        Some("contrast") => {
            text(r, "vs") == Some("init")
                && text(r, "kernel") == Some("full")
                && text(r, "alignment") == Some("uncentred")
        }
        Some(_) => false,
    }
}

/// The heat map of one claim in SB21's convention.
fn specialisation(r: &ClaimResult) -> Option<Figure> {
    let matrix = r.details.as_ref()?.matrix.as_ref()?;
    let (data, net, motion) = (text(r, "data")?, text(r, "net")?, text(r, "kernel_motion")?);
    let (task, task_file) = match text(r, "target") {
        Some(target) => (
            format!("{data} ({target} targets)"),
            format!("{data}_{target}"),
        ),
        None => (data.to_owned(), data.to_owned()),
    };
    let map = HeatMap {
        title: format!(
            "SB21: specialisation matrix, {net} network, {task}, {motion} kernel motion"
        ),
        x_label: "target column y_c'".into(),
        y_label: "per-output kernel K_c".into(),
        columns: matrix.columns.clone(),
        rows: matrix.rows.clone(),
        values: matrix.values.iter().map(|row| gaps(row)).collect(),
        colour_label: "A(K_c, y_c') = y_c'ᵀK_c y_c'/(‖K_c‖_F‖y_c'‖²)".into(),
        range: None,
    };
    Some(Figure {
        file: format!("sb21_specialisation_{task_file}_{net}_{motion}_motion.svg"),
        caption: format!(
            "Specialisation matrix `S_cc' = A(K_c, y_c')` (uncentred kernel–target alignment of output c's empirical NTK with target column c') \
             of the {net} network on {task} in the regime of {motion} kernel motion after training, mean over seeds. Specialisation shows as a \
             diagonal above the off-diagonal entries (SB21's rows judge its rise from init); a linear network's kernels share their feature part, \
             so its rows differ only by a per-output weight."
        ),
        plot: Plot::HeatMap(map),
    })
}
