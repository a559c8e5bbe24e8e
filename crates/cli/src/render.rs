//! Markdown tables and the JSON report (contract: `schema = 2`).

use std::fmt::Write as _;

use claims::details::Summary;
use claims::{ClaimResult, Mode, Verdict};
use serde::Serialize;
use serde_json::Value;

/// How numbers are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Precision {
    /// Three significant digits (the report).
    Display,
    /// Stable across machines (snapshot tests): three significant digits
    /// from 1e-6 up; below, exact powers of ten as such (tolerances), values
    /// under 1e-10 as `<1e-10`, and others as their bounding power of ten
    /// (`≤1e-9`): round-off-level values differ between CPUs.
    Stable,
}

/// Below this, a measured value is round-off of a double-precision
/// computation on these problem sizes and differs between CPUs.
const ROUND_OFF_FLOOR: f64 = 1e-10;

/// Format a number for a table cell.
pub fn number(x: f64, precision: Precision) -> String {
    if x == 0.0 {
        return "0".to_owned();
    }
    let a = x.abs();
    if precision == Precision::Stable && a < 1e-6 {
        let sign = if x < 0.0 { "-" } else { "" };
        let e = a.log10();
        if (e - e.round()).abs() < 1e-12 {
            return format!("{sign}1e{}", e.round() as i32);
        }
        if a < ROUND_OFF_FLOOR {
            return format!("{sign}<1e-10");
        }
        return format!("{sign}≤1e-{}", (-e).floor() as i32);
    }
    if !(1e-3..1e4).contains(&a) {
        format!("{x:.2e}")
    } else {
        let digits = (2 - a.log10().floor() as i32).max(0) as usize;
        format!("{x:.digits$}")
    }
}

fn cell(x: Option<f64>, precision: Precision) -> String {
    x.map_or_else(|| "—".to_owned(), |v| number(v, precision))
}

/// A predicted or measured value printed finely enough to see its deviation
/// against a tolerance `tol < 1`: for an absolute tolerance two decimals
/// beyond the tolerance's (`1e-4` → six decimals) when the value is O(1);
/// for a relative one, two significant digits beyond it.
fn resolved_cell(x: Option<f64>, r: &ClaimResult, precision: Precision) -> String {
    match (x, r.tolerance, r.comparison) {
        (Some(v), Some(tol), claims::Comparison::Absolute)
            if tol > 0.0 && tol < 1.0 && (1e-3..1e4).contains(&v.abs()) =>
        {
            let decimals = ((-tol.log10()).ceil() as usize + 2).min(12);
            format!("{v:.decimals$}")
        }
        (Some(v), Some(tol), claims::Comparison::Relative)
            if tol > 0.0 && tol < 1.0 && v != 0.0 =>
        {
            let digits = ((-tol.log10()).ceil() as i32 + 2).min(12);
            let decimals = (digits - 1 - v.abs().log10().floor() as i32).max(0) as usize;
            if (1e-3..1e4).contains(&v.abs()) {
                format!("{v:.decimals$}")
            } else {
                format!("{v:.prec$e}", prec = (digits - 1) as usize)
            }
        }
        _ => cell(x, precision),
    }
}

/// Counts of each verdict, in [`Verdict::ALL`] order.
pub fn tally(results: &[ClaimResult]) -> [(Verdict, usize); 9] {
    Verdict::ALL.map(|v| (v, results.iter().filter(|r| r.verdict == v).count()))
}

/// `pass 3 · fail 0 · undefined 1 · info 2`, followed by the empirical
/// verdicts when there are any.
pub fn tally_text(results: &[ClaimResult]) -> String {
    let t = tally(results);
    let empirical = t[4..].iter().any(|(_, n)| *n > 0);
    t.iter()
        .enumerate()
        .filter(|(k, _)| *k < 4 || empirical)
        .map(|(_, (v, n))| format!("{} {n}", v.name()))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The id parameters of a claim as shown in its table row:
/// `A.alpha[L=3,C=3,estimator=eig]` → `A.alpha L=3 C=3 estimator=eig`.
fn row_label(r: &ClaimResult) -> String {
    let stem = format!("{}.", r.paper);
    let short = r.id.strip_prefix(&stem).unwrap_or(&r.id);
    short
        .replacen('[', " ", 1)
        .trim_end_matches(']')
        .replace(',', " ")
}

/// One markdown table per (paper, claim group), grouped by paper, with the
/// statement and measurement convention of each key listed above its table.
pub fn markdown_tables(results: &[ClaimResult], precision: Precision) -> String {
    let mut out = String::new();
    let mut papers: Vec<&str> = Vec::new();
    for r in results {
        if !papers.contains(&r.paper.as_str()) {
            papers.push(&r.paper);
        }
    }
    for paper in papers {
        let _ = writeln!(out, "## {paper} — {}\n", claims::paper_title(paper));
        let rows: Vec<&ClaimResult> = results.iter().filter(|r| r.paper == paper).collect();
        let mut groups: Vec<&str> = Vec::new();
        for r in &rows {
            let g = r.key.split('.').next().unwrap_or(&r.key);
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        for group in groups {
            let _ = writeln!(out, "### {}\n", claims::group_title(paper, group));
            let in_group: Vec<&&ClaimResult> = rows
                .iter()
                .filter(|r| r.key.split('.').next() == Some(group))
                .collect();
            // Statement and convention(s) of each key, once, above the table.
            let mut keys: Vec<(&str, &str, Vec<&str>)> = Vec::new();
            for r in &in_group {
                match keys
                    .iter_mut()
                    .find(|(k, s, _)| *k == r.key && *s == r.statement)
                {
                    Some((_, _, conventions)) => {
                        if !conventions.contains(&r.convention.as_str()) {
                            conventions.push(&r.convention);
                        }
                    }
                    None => keys.push((&r.key, &r.statement, vec![&r.convention])),
                }
            }
            for (k, s, conventions) in keys {
                let _ = writeln!(out, "- `{k}`: {s}. Measured: {}.", conventions.join("; "));
            }
            let (wide, plain): (Vec<&ClaimResult>, Vec<&ClaimResult>) = in_group
                .iter()
                .map(|r| **r)
                .partition(|r| summary(r).is_some());
            if !plain.is_empty() {
                plain_table(&mut out, &plain, precision);
            }
            wide_tables(&mut out, &wide, precision);
            out.push('\n');
        }
    }
    out
}

fn verdict_cell(r: &ClaimResult) -> String {
    match r.verdict {
        Verdict::Fail => "**FAIL**".to_owned(),
        Verdict::Contradicted => "**contradicted**".to_owned(),
        v => v.name().to_owned(),
    }
}

/// The predicted cell: the value, or the paper's direction of an empirical
/// claim (`> 0`, `< 0`).
fn predicted_cell(r: &ClaimResult, precision: Precision) -> String {
    match &r.evidence {
        Some(e) => match e.direction {
            claims::Direction::Positive => "> 0".to_owned(),
            claims::Direction::Negative => "< 0".to_owned(),
        },
        None => resolved_cell(r.predicted, r, precision),
    }
}

/// The tolerance cell, or an empirical claim's interval, seeds, δ, MDE
/// and Holm-adjusted p-value.
fn tolerance_cell(r: &ClaimResult, precision: Precision) -> String {
    match &r.evidence {
        Some(e) => format!(
            "{:.0} % CI [{}, {}], {} seeds; δ {}, MDE {}, p {}{}",
            100.0 * e.level,
            number(e.lower, precision),
            number(e.upper, precision),
            e.seeds,
            number(e.delta, precision),
            number(e.mde, precision),
            p_value(e.p_value),
            if r.is_tested() {
                format!(" (Holm {} of {})", p_value(e.holm_p_value), e.family_size)
            } else {
                String::new()
            }
        ),
        None => cell(r.tolerance, precision),
    }
}

/// A p-value: two decimals from 0.01, one significant digit below
/// (`4e-3`), `<1e-4` below that.
fn p_value(p: f64) -> String {
    if p < 1e-4 {
        "<1e-4".to_owned()
    } else if p < 0.01 {
        format!("{p:.0e}")
    } else {
        format!("{p:.2}")
    }
}

/// The empirical claims' section at the head of `report.md` (SPEC §8): a
/// tally line per verdict; the rows that contradict a paper, each with the
/// statement it contradicts and the likely cause; one compact table per
/// quoted statement with every row that tests it; the untestable rows with
/// why. Empty when there is no empirical claim.
pub fn disagreements(results: &[ClaimResult], precision: Precision) -> String {
    let rows: Vec<&ClaimResult> = results
        .iter()
        .filter(|r| r.verdict.is_empirical() && r.evidence.is_some())
        .collect();
    if rows.is_empty() {
        return String::new();
    }
    let count = |v: Verdict| rows.iter().filter(|r| r.verdict == v).count();
    let mut out = String::from(
        "## Empirical claims

",
    );
    let _ = writeln!(
        out,
        "{}
",
        Verdict::ALL
            .into_iter()
            .filter(|v| v.is_empirical())
            .map(|v| format!("{} {}", v.name(), count(v)))
            .collect::<Vec<_>>()
            .join(" · ")
    );
    out.push_str(
        "A paper's observation without a theorem, judged over seeds (SPEC §8): `reproduced` — the 95 % interval \
         excludes 0 in the paper's direction; `contradicted` — it excludes 0 the other way and the effect exceeds \
         the smallest effect of interest δ; `negligible` — the 90 % interval lies inside ±δ; `inconclusive` — none \
         of these; `untestable` — a declared precondition (its own row) is not established, so the \
         comparison is not tested. Decisions use Holm's adjustment over the rows of each quoted statement; MDE is the minimum detectable effect at 80 % power. These are findings, \
         not errors: the exit status is 0 unless `--strict`.\n\n",
    );
    let mut statements: Vec<&str> = Vec::new();
    for r in &rows {
        let e = r.evidence.as_ref().expect("filtered on evidence");
        if !statements.contains(&e.statement.as_str()) {
            statements.push(&e.statement);
        }
    }
    let of = |statement: &str| -> Vec<&ClaimResult> {
        rows.iter()
            .filter(|r| r.evidence.as_ref().map(|e| e.statement.as_str()) == Some(statement))
            .copied()
            .collect()
    };
    out.push_str("### Where we disagree with the papers\n\n");
    let contradicted: Vec<&&ClaimResult> = rows
        .iter()
        .filter(|r| r.verdict == Verdict::Contradicted)
        .collect();
    if contradicted.is_empty() {
        out.push_str("No empirical row contradicts a paper's statement.\n\n");
    }
    for r in contradicted {
        let e = r.evidence.as_ref().expect("filtered on evidence");
        let _ = writeln!(
            out,
            "- **{}** contradicts {} (“{}”{}): effect {} [{}, {}] over {} seeds against δ {}. Likely cause: {}",
            r.id,
            e.source,
            e.quote,
            if e.differs.is_empty() {
                String::new()
            } else {
                format!("; operationalised: {}", e.differs)
            },
            cell(r.measured, precision),
            number(e.lower, precision),
            number(e.upper, precision),
            e.seeds,
            number(e.delta, precision),
            r.reason
        );
    }
    out.push('\n');
    for statement in statements {
        let mine = of(statement);
        let e = mine[0].evidence.as_ref().expect("filtered on evidence");
        let _ = writeln!(out, "### {statement}\n");
        let _ = writeln!(out, "> “{}” — {}\n", e.quote, e.source);
        if !e.differs.is_empty() {
            let _ = writeln!(out, "Operationalised: {}.\n", e.differs);
        }
        let _ = writeln!(
            out,
            "{}\n",
            Verdict::ALL
                .into_iter()
                .filter(|v| v.is_empirical())
                .filter_map(|v| {
                    let n = mine.iter().filter(|r| r.verdict == v).count();
                    (n > 0).then(|| format!("{} {n}", v.name()))
                })
                .collect::<Vec<_>>()
                .join(" · ")
        );
        let underpowered = mine
            .iter()
            .filter(|r| r.evidence.as_ref().is_some_and(|e| e.mde > e.delta))
            .count();
        if underpowered > 0 {
            let _ = writeln!(
                out,
                "The minimum detectable effect exceeds δ in {underpowered} of {} rows: there the seeds, chosen within the report's time budget, cannot detect an effect as small as δ (SPEC §8).\n",
                mine.len()
            );
        }
        out.push_str(
            "| row | verdict | effect | 95 % CI | 90 % CI | seeds | δ | MDE | p | p (Holm) |\n\
             |---|---|---:|---:|---:|---:|---:|---:|---:|---:|\n",
        );
        for r in &mine {
            let e = r.evidence.as_ref().expect("filtered on evidence");
            let _ = writeln!(
                out,
                "| {} | {} | {} | [{}, {}] | [{}, {}] | {} | {} | {} | {} | {} |",
                row_label(r),
                verdict_cell(r),
                cell(r.measured, precision),
                number(e.lower, precision),
                number(e.upper, precision),
                number(e.lower_90, precision),
                number(e.upper_90, precision),
                e.seeds,
                number(e.delta, precision),
                number(e.mde, precision),
                p_value(e.p_value),
                if r.is_tested() {
                    p_value(e.holm_p_value)
                } else {
                    "—".to_owned()
                }
            );
        }
        out.push('\n');
        // The reasons of the untestable rows, each once with its count.
        let mut reasons: Vec<(&str, usize)> = Vec::new();
        for r in mine.iter().filter(|r| r.verdict == Verdict::Untestable) {
            match reasons.iter_mut().find(|(why, _)| *why == r.reason) {
                Some((_, n)) => *n += 1,
                None => reasons.push((&r.reason, 1)),
            }
        }
        for (why, n) in reasons {
            let rows = if n == 1 { "row" } else { "rows" };
            let _ = writeln!(out, "- untestable ({n} {rows}): {why}");
        }
        out.push('\n');
    }
    out
}

/// predicted | measured | tolerance | verdict [| reason].
fn plain_table(out: &mut String, rows: &[&ClaimResult], precision: Precision) {
    let with_reason = rows.iter().any(|r| !r.reason.is_empty());
    let _ = write!(
        out,
        "\n| claim | predicted | measured | tolerance | verdict |"
    );
    let _ = writeln!(out, "{}", if with_reason { " reason |" } else { "" });
    let _ = write!(out, "|---|---:|---:|---:|---|");
    let _ = writeln!(out, "{}", if with_reason { "---|" } else { "" });
    for r in rows {
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {} |",
            row_label(r),
            predicted_cell(r, precision),
            resolved_cell(r.measured, r, precision),
            tolerance_cell(r, precision),
            verdict_cell(r)
        );
        let _ = writeln!(
            out,
            "{}",
            if with_reason {
                format!(" {} |", r.reason)
            } else {
                String::new()
            }
        );
    }
}

/// The summary columns of a claim's details, when it has any.
fn summary(r: &ClaimResult) -> Option<&[Summary]> {
    let columns = &r.details.as_ref()?.summary;
    (!columns.is_empty()).then_some(columns.as_slice())
}

/// The names of a claim's summary columns.
fn names(r: &ClaimResult) -> Vec<&str> {
    summary(r).map_or_else(Vec::new, |s| s.iter().map(|c| c.name.as_str()).collect())
}

/// Claims with summary columns (studies over seeds): one wide table per set
/// of column names, each cell `mean [95 % interval]` over seeds (`mean ±
/// spread` where no interval is defined), then the theorem check or the
/// empirical claim's interval and seeds.
fn wide_tables(out: &mut String, rows: &[&ClaimResult], precision: Precision) {
    let mut done = vec![false; rows.len()];
    for i in 0..rows.len() {
        if done[i] {
            continue;
        }
        let columns = names(rows[i]);
        let _ = write!(
            out,
            "\nCells: mean over the row's seeds with its 95 % Student t interval (geometric mean and log-scale interval for the positive quantities marked so).\n\n| claim |"
        );
        for c in summary(rows[i]).into_iter().flatten() {
            let geometric = if c.geometric { " (geometric)" } else { "" };
            let _ = write!(out, " {}{geometric} |", c.name);
        }
        let _ = writeln!(out, " measured | tolerance | verdict | note |");
        let _ = writeln!(
            out,
            "|---|{}---:|---:|---|---|",
            "---:|".repeat(columns.len())
        );
        for j in i..rows.len() {
            if done[j] || names(rows[j]) != columns {
                continue;
            }
            done[j] = true;
            let r = rows[j];
            let _ = write!(out, "| {} |", row_label(r));
            for c in summary(r).into_iter().flatten() {
                let mean = cell(c.mean, precision);
                match (c.interval, c.spread) {
                    (Some([lo, hi]), _) => {
                        let _ = write!(
                            out,
                            " {mean} [{}, {}] |",
                            number(lo, precision),
                            number(hi, precision)
                        );
                    }
                    (None, Some(sd)) => {
                        let _ = write!(out, " {mean} ± {} |", number(sd, precision));
                    }
                    (None, None) => {
                        let _ = write!(out, " {mean} |");
                    }
                }
            }
            let _ = writeln!(
                out,
                " {} | {} | {} | {} |",
                cell(r.measured, precision),
                tolerance_cell(r, precision),
                verdict_cell(r),
                r.reason
            );
        }
    }
}

/// Title and tally line of the report.
fn header(results: &[ClaimResult], mode: Mode, precision: Precision) -> String {
    let mut out = String::from("# Feature-learning theory: checked claims\n\n");
    let _ = writeln!(
        out,
        "mode: {} · claims: {} · {}\n",
        mode.name(),
        results.len(),
        tally_text(results)
    );
    out.push_str(&disagreements(results, precision));
    out
}

/// The whole markdown report: a header with the tally, then the tables.
pub fn markdown_report(results: &[ClaimResult], mode: Mode, precision: Precision) -> String {
    let mut out = header(results, mode, precision);
    out.push_str(&markdown_tables(results, precision));
    out
}

/// The wall time of one claim family in a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FamilyTime {
    /// The family's label.
    pub family: String,
    /// How many claims it reported.
    pub claims: usize,
    /// Its units' and conclusion's wall time, summed, in seconds.
    pub wall_time_s: f64,
}

impl FamilyTime {
    /// The time of a family that ran.
    pub fn of(run: &claims::FamilyRun) -> Self {
        Self {
            family: run.label.clone(),
            claims: run.claims.len(),
            wall_time_s: run.seconds,
        }
    }
}

/// The estimated and measured time of one unit of work.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UnitTime {
    /// The unit's id.
    pub id: String,
    /// Estimated seconds on one core.
    pub estimated_s: f64,
    /// Measured wall time in seconds.
    pub wall_time_s: f64,
}

/// Where and how a report was produced; serialised as the `provenance`
/// object of `report.json` (with the [`TIMING_NOTE`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Provenance {
    /// Version of the workspace crates.
    pub version: String,
    /// `git rev-parse HEAD` at run time, when in a git checkout.
    pub commit: Option<String>,
    /// Whether tracked files differed from that commit.
    pub dirty: bool,
    /// Problem sizes.
    pub mode: Mode,
    /// `--seed N`, replacing every fixture's seeds by N's block.
    pub seed: Option<u64>,
    /// Threads of the rayon pool that ran the families (of each shard's
    /// pool, the most, for a merged report).
    pub threads: usize,
    /// For a report merged from shards, how many shards computed its units
    /// (`None` for one process).
    pub shards: Option<usize>,
    /// Wall time of the whole run, in seconds; for a merged report, from
    /// the first shard's start to the last unit's end.
    #[serde(rename = "wall_time_s")]
    pub wall_seconds: f64,
    /// Per family that ran, in report order.
    pub families: Vec<FamilyTime>,
    /// Families not started because an earlier one failed.
    pub not_run: Vec<String>,
    /// Per unit of work that ran, in plan order.
    pub units: Vec<UnitTime>,
}

/// What `wall_time_s` of a claim measures.
pub const TIMING_NOTE: &str = "summed wall time of the units of work of the claim's family (units run concurrently on the thread pool, so these times add up to more than the total)";

impl Provenance {
    fn seeds(&self) -> String {
        match self.seed {
            None => "the fixtures' seeds (each claim's in its params)".to_owned(),
            Some(s) => format!(
                "--seed {s} (studies over k seeds use the block {}, …, {} + k and single-seed experiments {}, disjoint from the fixtures' seeds)",
                claims::seed_block_base(s).wrapping_add(1),
                claims::seed_block_base(s),
                claims::seed_block_base(s).wrapping_add(1)
            ),
        }
    }

    fn commit_text(&self) -> String {
        match &self.commit {
            None => "unknown (not a git checkout)".to_owned(),
            Some(c) if self.dirty => format!("{c} (with uncommitted changes)"),
            Some(c) => c.clone(),
        }
    }

    /// `2 (rayon)`, or for a merged report `2 (rayon) per shard, 4 shards`.
    pub fn threads_text(&self) -> String {
        match self.shards {
            None => format!("{} (rayon)", self.threads),
            Some(k) => format!(
                "{} (rayon) per shard, {k} shard{} merged",
                self.threads,
                if k == 1 { "" } else { "s" }
            ),
        }
    }

    /// `61.0 s`, or for a merged report the span it measures.
    pub fn wall_text(&self) -> String {
        match self.shards {
            None => format!("{:.1} s", self.wall_seconds),
            Some(_) => format!(
                "{:.1} s (from the first shard's start to the last unit's end)",
                self.wall_seconds
            ),
        }
    }

    /// The provenance block at the top of `report.md`, with the wall time
    /// per claim family.
    pub fn markdown(&self) -> String {
        let mut out = String::from("| provenance | |\n|---|---|\n");
        for (k, v) in [
            ("crate version", format!("{} (workspace)", self.version)),
            ("git commit", self.commit_text()),
            ("mode", self.mode.name().to_owned()),
            ("seeds", self.seeds()),
            ("threads", self.threads_text()),
            ("wall time", self.wall_text()),
        ] {
            let _ = writeln!(out, "| {k} | {v} |");
        }
        if !self.not_run.is_empty() {
            let _ = writeln!(
                out,
                "| not run | {} (stopped after the first failure; `--keep-going` runs everything) |",
                self.not_run.join(", ")
            );
        }
        let _ = writeln!(
            out,
            "\nWall time per claim: the {TIMING_NOTE}.\n\n| family | claims | wall time (s) |\n|---|---:|---:|"
        );
        for f in &self.families {
            let _ = writeln!(
                out,
                "| {} | {} | {:.2} |",
                f.family, f.claims, f.wall_time_s
            );
        }
        out.push('\n');
        out
    }
}

/// `report.md` as written by the `report` command: title and tally, the
/// provenance, the figures section, then the tables.
pub fn markdown_document(
    results: &[ClaimResult],
    provenance: &Provenance,
    figures: &str,
) -> String {
    let mut out = header(results, provenance.mode, Precision::Display);
    out.push_str(&provenance.markdown());
    out.push_str(figures);
    out.push_str(&markdown_tables(results, Precision::Display));
    out
}

/// The version of the `report.json` contract: 2 since `details` is typed
/// ([`claims::Details`]).
pub const SCHEMA: u32 = 2;

/// `report.json`: the schema, the mode, the provenance where there is one,
/// and the claims (with their family's label and wall time where known).
#[derive(Serialize)]
struct ReportJson<'a> {
    schema: u32,
    mode: Mode,
    #[serde(skip_serializing_if = "Option::is_none")]
    provenance: Option<ProvenanceJson<'a>>,
    claims: Vec<ClaimRow<'a>>,
}

/// The provenance with what its wall times measure.
#[derive(Serialize)]
struct ProvenanceJson<'a> {
    #[serde(flatten)]
    provenance: &'a Provenance,
    timing: &'static str,
}

/// A claim of `report.json`: the [`ClaimResult`], and in a report its
/// family's label and wall time (see [`TIMING_NOTE`]).
#[derive(Serialize)]
struct ClaimRow<'a> {
    #[serde(flatten)]
    claim: &'a ClaimResult,
    #[serde(skip_serializing_if = "Option::is_none")]
    family: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wall_time_s: Option<f64>,
}

impl ReportJson<'_> {
    /// As JSON, keys in alphabetical order at every level.
    fn value(&self) -> Value {
        serde_json::to_value(self).expect("a report serialises: its maps have string keys")
    }
}

/// `report.json` without provenance: `{"schema": 2, "mode": …, "claims": [...]}`.
pub fn json_report(results: &[ClaimResult], mode: Mode) -> Value {
    ReportJson {
        schema: SCHEMA,
        mode,
        provenance: None,
        claims: results
            .iter()
            .map(|claim| ClaimRow {
                claim,
                family: None,
                wall_time_s: None,
            })
            .collect(),
    }
    .value()
}

/// `report.json` as written by the `report` command: [`json_report`] of the
/// families' claims plus `"provenance": {…}` and, per claim, `"family"` and
/// `"wall_time_s"` (see [`TIMING_NOTE`]).
pub fn json_document(runs: &[claims::FamilyRun], provenance: &Provenance) -> Value {
    ReportJson {
        schema: SCHEMA,
        mode: provenance.mode,
        provenance: Some(ProvenanceJson {
            provenance,
            timing: TIMING_NOTE,
        }),
        claims: runs
            .iter()
            .flat_map(|run| {
                run.claims.iter().map(move |claim| ClaimRow {
                    claim,
                    family: Some(&run.label),
                    wall_time_s: Some(run.seconds),
                })
            })
            .collect(),
    }
    .value()
}
