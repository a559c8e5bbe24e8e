//! The per-checkpoint table of one run (the `run` command), as CSV and JSON.
//!
//! Columns: time, step, loss, max imbalance `max_l ‖D_l‖_F`,
//! `relerr(W_1ᵀW_1, G_1^{1/L})`, `cosine(W_1ᵀW_1, G_1^{1/L})`, and α̂ by
//! the corr, eig and fit estimators. An undefined value is the word
//! `undefined` in CSV and `null` in JSON, with the reason in the JSON.

use std::fmt::Write as _;

use experiment::CheckpointMeasurement;
use serde_json::{Value, json};

const HEADER: &str = "time,step,loss,max_imbalance,relerr,cosine,alpha_corr,alpha_eig,alpha_fit";

fn csv_value(v: &Result<f64, String>) -> String {
    match v {
        Ok(x) => format!("{x:e}"),
        Err(_) => "undefined".to_owned(),
    }
}

fn json_value(v: &Result<f64, String>) -> Value {
    match v {
        Ok(x) => json!(x),
        Err(_) => Value::Null,
    }
}

/// CSV with one row per checkpoint.
pub fn csv(rows: &[CheckpointMeasurement]) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for m in rows {
        let _ = write!(
            out,
            "{:e},{},{:e},{:e},{},{}",
            m.time,
            m.step,
            m.loss,
            m.max_imbalance,
            csv_value(&m.relerr),
            csv_value(&m.cosine)
        );
        for (_, a) in &m.alpha {
            let _ = write!(out, ",{}", csv_value(a));
        }
        out.push('\n');
    }
    out
}

/// JSON: the experiment's name, its widths, and one object per checkpoint.
pub fn json(name: &str, widths: &[usize], rows: &[CheckpointMeasurement]) -> Value {
    let checkpoints: Vec<Value> = rows
        .iter()
        .map(|m| {
            let mut undefined = serde_json::Map::new();
            let mut alpha = serde_json::Map::new();
            for (est, a) in &m.alpha {
                alpha.insert(est.name().to_owned(), json_value(a));
                if let Err(why) = a {
                    undefined.insert(format!("alpha_{}", est.name()), json!(why));
                }
            }
            for (k, v) in [("relerr", &m.relerr), ("cosine", &m.cosine)] {
                if let Err(why) = v {
                    undefined.insert(k.to_owned(), json!(why));
                }
            }
            json!({
                "time": m.time,
                "step": m.step,
                "loss": m.loss,
                "max_imbalance": m.max_imbalance,
                "relerr": json_value(&m.relerr),
                "cosine": json_value(&m.cosine),
                "alpha": alpha,
                "undefined": undefined,
            })
        })
        .collect();
    json!({ "name": name, "widths": widths, "convention": "layer 1, α = 1/L; alpha by corr (cosine), eig, fit (relerr_scaled)", "checkpoints": checkpoints })
}
