//! A grid of experiments: a base config and a `[grid]` of fields with
//! their values, every combination a validated [`Experiment`] (the format
//! of `sweep` files).
//!
//! An axis is a field's dotted path in the config (`dynamics.learning_rate`,
//! or nested `[grid.dynamics]` tables) with a non-empty list of values.
//! Axes are taken in alphabetical order of their paths, the last varying
//! fastest. A point is named by its values (`learning_rate=0.01,seed=1`:
//! the last component of each path, or the whole path where two axes share
//! it), and its experiment is named `NAME/POINT`. Everything is validated
//! before anything runs: an axis that names no field, or a value a field
//! does not take, is an error naming it, on one line.

use toml::{Table, Value as Toml};

use crate::{Experiment, ExperimentConfig};

/// Why a grid cannot be read, on one line (without the file's name).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GridError(String);

/// One grid point: its name, values (one per axis) and experiment.
#[derive(Debug, Clone)]
pub struct GridPoint {
    /// `learning_rate=0.01,seed=1`.
    pub name: String,
    /// One value per axis, in axis order.
    pub values: Vec<Toml>,
    /// The validated experiment of the point.
    pub experiment: Experiment,
}

/// A parsed and validated grid.
#[derive(Debug, Clone)]
pub struct Grid {
    /// The base config's `name`, or the default given to [`Grid::parse`].
    pub name: String,
    /// The axes: dotted path and values, in alphabetical order of paths.
    pub axes: Vec<(String, Vec<Toml>)>,
    /// Column names of the axes (last path component when unique).
    pub columns: Vec<String>,
    /// Every grid point, the last axis varying fastest.
    pub points: Vec<GridPoint>,
}

/// Flatten `[grid]` into (dotted path, values).
fn axes(grid: &Table, prefix: &str, out: &mut Vec<(String, Vec<Toml>)>) -> Result<(), String> {
    for (key, value) in grid {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Toml::Table(t) => axes(t, &path, out)?,
            Toml::Array(values) if !values.is_empty() => out.push((path, values.clone())),
            Toml::Array(_) => return Err(format!("grid.{path}: the list of values is empty")),
            other => {
                return Err(format!(
                    "grid.{path}: expected a list of values, e.g. [{other}]"
                ));
            }
        }
    }
    Ok(())
}

/// Replace the field at the dotted `path` of `table` (creating it and its
/// parent tables when absent).
fn set(table: &mut Table, path: &str, value: Toml) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let mut here = table;
    for (k, part) in parts[..parts.len() - 1].iter().enumerate() {
        here = here
            .entry(*part)
            .or_insert_with(|| Toml::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| {
                format!(
                    "grid.{path}: `{}` is a value, not a table of fields",
                    parts[..=k].join(".")
                )
            })?;
    }
    here.insert(parts[parts.len() - 1].to_owned(), value);
    Ok(())
}

/// A value as shown in names and tables: strings without quotes, floats
/// in Rust's shortest round-trip form (`0.01`, `1e-5`).
pub fn show(v: &Toml) -> String {
    match v {
        Toml::String(s) => s.clone(),
        Toml::Float(x) => format!("{x:?}"),
        other => other.to_string(),
    }
}

/// Read `table` as an experiment config; the message of the error on one
/// line.
fn config(table: &Table) -> Result<ExperimentConfig, String> {
    Toml::Table(table.clone())
        .try_into::<ExperimentConfig>()
        .map_err(|e| e.message().replace('\n', " ").trim().to_owned())
}

impl Grid {
    /// Parse and validate a config with a `[grid]`; `default_name` is the
    /// name when the base has none.
    pub fn parse(text: &str, default_name: &str) -> Result<Grid, GridError> {
        let fail = GridError;
        let mut base: Table = toml::from_str(text)
            .map_err(|e| fail(crate::config::parse_error(text, &e).to_string()))?;
        let grid = match base.remove("grid") {
            Some(Toml::Table(g)) => g,
            Some(_) => return Err(fail("grid: expected a table, `[grid]`".into())),
            None => {
                return Err(fail(
                    "no [grid]: add one with a field and its values, e.g. `[grid]` `seed = [1, 2, 3]`"
                        .into(),
                ));
            }
        };
        let mut axes_ = Vec::new();
        axes(&grid, "", &mut axes_).map_err(fail)?;
        axes_.sort_by(|a, b| a.0.cmp(&b.0));
        if let Some(w) = axes_.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(fail(format!("grid.{}: given twice", w[0].0)));
        }
        if axes_.is_empty() {
            return Err(fail("[grid] is empty: give a field and its values".into()));
        }
        config(&base).map_err(|m| fail(format!("the base config: {m}")))?;
        // Each axis alone, at its first value: an error here is the axis's.
        for (path, values) in &axes_ {
            let mut one = base.clone();
            set(&mut one, path, values[0].clone()).map_err(fail)?;
            config(&one).map_err(|m| fail(format!("grid.{path}: {m}")))?;
        }
        let name = match base.get("name") {
            Some(Toml::String(n)) => n.clone(),
            _ => default_name.to_owned(),
        };
        let leaves: Vec<&str> = axes_
            .iter()
            .map(|(p, _)| p.rsplit('.').next().unwrap_or(p))
            .collect();
        let columns: Vec<String> = axes_
            .iter()
            .zip(&leaves)
            .map(|((path, _), leaf)| {
                if leaves.iter().filter(|l| *l == leaf).count() == 1 {
                    (*leaf).to_owned()
                } else {
                    path.clone()
                }
            })
            .collect();
        let mut points = Vec::new();
        let total: usize = axes_.iter().map(|(_, v)| v.len()).product();
        for k in 0..total {
            // Mixed radix, the last axis fastest.
            let mut rest = k;
            let mut values = vec![Toml::Boolean(false); axes_.len()];
            for (a, (_, vals)) in axes_.iter().enumerate().rev() {
                values[a] = vals[rest % vals.len()].clone();
                rest /= vals.len();
            }
            let point_name = columns
                .iter()
                .zip(&values)
                .map(|(c, v)| format!("{c}={}", show(v)))
                .collect::<Vec<_>>()
                .join(",");
            let mut table = base.clone();
            for ((path, _), v) in axes_.iter().zip(&values) {
                set(&mut table, path, v.clone()).map_err(fail)?;
            }
            table.insert("name".into(), Toml::String(format!("{name}/{point_name}")));
            let experiment = config(&table)
                .map_err(|m| m.to_string())
                .and_then(|c| c.validate().map_err(|e| e.to_string()))
                .map_err(|m| fail(format!("grid point {point_name}: {m}")))?;
            points.push(GridPoint {
                name: point_name,
                values,
                experiment,
            });
        }
        Ok(Grid {
            name,
            axes: axes_,
            columns,
            points,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = r#"
name = "t"
seed = 1
[data]
kind = "teacher"
samples = 16
input_dim = 4
outputs = 2
[network]
depth = 2
width = 3
[init]
kind = "gaussian"
sigma = 1.0
[dynamics]
kind = "gd"
learning_rate = 0.1
[checkpoints]
kind = "steps"
steps = [0, 5]
"#;

    fn parse(grid: &str) -> Result<Grid, GridError> {
        Grid::parse(&format!("{BASE}[grid]\n{grid}"), "s")
    }

    #[test]
    fn the_grid_is_the_product_of_its_axes_in_path_order() {
        let s =
            parse("seed = [1, 2]\ndynamics.learning_rate = [0.01, 1e-5]\n\"network.width\" = [3]")
                .unwrap();
        let names: Vec<&str> = s.points.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "learning_rate=0.01,width=3,seed=1",
                "learning_rate=0.01,width=3,seed=2",
                "learning_rate=1e-5,width=3,seed=1",
                "learning_rate=1e-5,width=3,seed=2",
            ]
        );
        let last = &s.points[3].experiment;
        assert_eq!(last.seed, 2);
        assert_eq!(last.dynamics.weight_decay(), 0.0);
        assert_eq!(last.name, "t/learning_rate=1e-5,width=3,seed=2");
    }

    #[test]
    fn an_axis_that_is_no_field_is_an_error_naming_it() {
        for (grid, needle) in [
            (
                "\"dynamics.lr\" = [0.1]",
                "grid.dynamics.lr: unknown field `lr`",
            ),
            (
                "optimizer.lr = [0.1]",
                "grid.optimizer.lr: unknown field `optimizer`",
            ),
            ("\"seed.x\" = [1]", "grid.seed.x: `seed` is a value"),
            ("seed = []", "grid.seed: the list of values is empty"),
            ("seed = 3", "grid.seed: expected a list of values"),
            (
                "\"dynamics.learning_rate\" = [0.1, -1.0]",
                "grid point learning_rate=-1.0: dynamics.learning_rate",
            ),
        ] {
            let e = parse(grid).unwrap_err().to_string();
            assert!(e.contains(needle), "{grid}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        let e = Grid::parse(BASE, "s").unwrap_err();
        assert!(e.to_string().contains("no [grid]"), "{e}");
    }

    /// Two axes with the same last component are named by their paths; a
    /// path given twice (quoted and as nested keys) is an error.
    #[test]
    fn shared_leaf_names_use_the_whole_path() {
        let s = parse("\"dynamics.kind\" = [\"gd\", \"momentum\"]\n\"init.kind\" = [\"gaussian\"]\n\"data.samples\" = [16]")
            .unwrap();
        assert_eq!(s.columns, ["samples", "dynamics.kind", "init.kind"]);
        assert_eq!(
            s.points[1].name,
            "samples=16,dynamics.kind=momentum,init.kind=gaussian"
        );
        let e = parse("\"network.width\" = [3]\nnetwork.width = [4]").unwrap_err();
        assert!(
            e.to_string().contains("grid.network.width: given twice"),
            "{e}"
        );
    }
}
