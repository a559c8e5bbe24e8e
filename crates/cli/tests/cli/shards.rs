//! Sharded runs (`report --shard I/N`, Slurm array variables, `sweep
//! --shard`) merged with `merge DIR`: the merge equals one process apart
//! from wall times, a damaged or killed shard resumes, and records that
//! cannot be merged are refused with one line and exit status 2.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{cli, cli_env, command, path};

/// Cheap claims (6 units in quick mode) for the report tests.
const ONLY: &str = "TMC25.A.";

fn fresh(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cli-shards-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn report(only: &str, out: &Path, extra: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut args = vec![
        "report",
        "--quick",
        "--quiet",
        "--only",
        only,
        "--out",
        path(out),
    ];
    args.extend_from_slice(extra);
    let (code, _, stderr) = cli_env(&args, env);
    (code, stderr)
}

fn merge(dir: &Path) -> (Option<i32>, String, String) {
    cli(&["merge", path(dir), "--quiet"])
}

/// The claims of `dir/report.json` without their wall times (the only
/// field of a claim that depends on how the run was split).
fn claims(dir: &Path) -> Value {
    let text = std::fs::read_to_string(dir.join("report.json")).unwrap();
    let mut json: Value = serde_json::from_str(&text).unwrap();
    let mut claims = json["claims"].take();
    for c in claims.as_array_mut().unwrap() {
        c.as_object_mut().unwrap().remove("wall_time_s");
    }
    claims
}

/// `report.md` without its provenance block (versions, threads, wall
/// times): the title and tally, then everything from the first section.
fn report_md(dir: &Path) -> (String, String) {
    let md = std::fs::read_to_string(dir.join("report.md")).unwrap();
    let head = md[..md.find("| provenance").unwrap()].to_owned();
    let body = md[md.find("\n## ").unwrap()..].to_owned();
    (head, body)
}

/// Every file under `dir` but the unit records, by relative path.
fn files(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let p = entry.unwrap().path();
            let rel = p.strip_prefix(root).unwrap().to_owned();
            if rel == Path::new("units") {
                continue;
            }
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn assert_same_report(merged: &Path, one: &Path) {
    let (merged_claims, one_claims) = (claims(merged), claims(one));
    assert!(one_claims.as_array().is_some_and(|c| !c.is_empty()));
    // Compared as text: serde_json prints every f64 exactly, so equal text
    // means equal ids, verdicts and measured bits.
    assert_eq!(merged_claims.to_string(), one_claims.to_string());
    assert_eq!(report_md(merged), report_md(one));
    let svgs = |d: &Path| -> BTreeMap<PathBuf, Vec<u8>> {
        files(d)
            .into_iter()
            .filter(|(p, _)| p.extension().is_some_and(|e| e == "svg"))
            .collect()
    };
    assert_eq!(svgs(merged), svgs(one));
}

/// The unit records of one shard's directory, in name order.
fn records(dir: &Path, shard: &str) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir.join("units").join(shard))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_str().unwrap();
            name.ends_with(".json") && !name.starts_with('.')
        })
        .collect();
    paths.sort();
    paths
}

fn record_id(path: &Path) -> String {
    let record: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    record["id"].as_str().unwrap().to_owned()
}

#[test]
fn merged_shards_equal_one_process_and_a_damaged_shard_resumes() {
    let one = fresh("one");
    assert_eq!(report(ONLY, &one, &[], &[]).0, Some(0));
    let dir = fresh("three");
    for i in 0..3 {
        // Shard 2 finds itself from a Slurm array task's variables (task
        // ids 5–7), the others from --shard.
        let shard = format!("{i}/3");
        let (code, stderr) = if i == 2 {
            let env = [
                ("SLURM_ARRAY_TASK_ID", "7"),
                ("SLURM_ARRAY_TASK_MIN", "5"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_CPUS_PER_TASK", "1"),
            ];
            report(ONLY, &dir, &[], &env)
        } else {
            report(ONLY, &dir, &["--shard", &shard], &[])
        };
        assert_eq!(code, Some(0), "{stderr}");
        assert!(stderr.starts_with(&format!("shard {shard}: ")), "{stderr}");
        if i == 2 {
            assert!(stderr.contains("on 1 thread"), "{stderr}");
        }
    }
    assert!(
        !dir.join("report.json").exists(),
        "a shard writes no report"
    );
    // Damage shard 1: one record gone (a task killed before its rename),
    // one cut in half (a file damaged afterwards).
    let shard1 = records(&dir, "shard-1-of-3");
    assert!(shard1.len() >= 2, "{shard1:?}");
    let (gone, cut) = (record_id(&shard1[0]), record_id(&shard1[1]));
    std::fs::remove_file(&shard1[0]).unwrap();
    let bytes = std::fs::read(&shard1[1]).unwrap();
    std::fs::write(&shard1[1], &bytes[..bytes.len() / 2]).unwrap();

    let (code, stdout, stderr) = merge(&dir);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with(&format!(
            "warning: {}: truncated or corrupt",
            shard1[1].display()
        )),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with("error: missing 2 of 6 units: "),
        "{stderr}"
    );
    for id in [&gone, &cut] {
        assert!(lines[1].contains(id.as_str()), "{id} not named: {stderr}");
    }
    assert!(lines[1].contains("run shard 1/3 again"), "{stderr}");
    assert!(
        !dir.join("report.json").exists(),
        "a refused merge writes nothing"
    );

    // Resubmitting shard 1 recomputes exactly the two units.
    let (code, stderr) = report(ONLY, &dir, &["--shard", "1/3"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let done = shard1.len() - 2;
    assert!(
        stderr.contains(&format!("{done} already done · ran 2 ")),
        "{stderr}"
    );
    let (code, _, stderr) = merge(&dir);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.contains("over 3 shards"), "{stderr}");
    assert_same_report(&dir, &one);
}

#[test]
fn a_shard_killed_mid_way_resumes_to_the_one_process_claims() {
    // 168 small units: a one-thread shard is still running when its first
    // record appears.
    let only = "TMC25.B.optimizers";
    let one = fresh("killed-one");
    assert_eq!(report(only, &one, &["--format", "json"], &[]).0, Some(0));
    let (code, plan, _) = cli(&[
        "report", "--quick", "--plan", "--only", only, "--shard", "0/2",
    ]);
    assert_eq!(code, Some(0));
    let planned = plan.lines().count();
    let dir = fresh("killed");
    let mut child = command(
        &[
            "report",
            "--quick",
            "--quiet",
            "--only",
            only,
            "--out",
            path(&dir),
            "--shard",
            "0/2",
        ],
        &[("SLURM_CPUS_PER_TASK", "1")],
    )
    .stderr(std::process::Stdio::null())
    .spawn()
    .unwrap();
    let start = Instant::now();
    let shard_dir = dir.join("units").join("shard-0-of-2");
    while !shard_dir.exists() || records(&dir, "shard-0-of-2").is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no record appeared"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let kept = records(&dir, "shard-0-of-2").len();
    assert!(kept < planned, "the shard finished before it was killed");

    assert_eq!(report(only, &dir, &["--shard", "1/2"], &[]).0, Some(0));
    let (code, _, stderr) = merge(&dir);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("run shard 0/2 again"), "{stderr}");
    let (code, stderr) = report(only, &dir, &["--shard", "0/2"], &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "{planned} units · {kept} already done · ran {} ",
            planned - kept
        )),
        "{stderr}"
    );
    let (code, _, stderr) = cli(&["merge", path(&dir), "--quiet", "--format", "json"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(claims(&dir).to_string(), claims(&one).to_string());
}

/// Rewrite the record at `path` with `edit` applied to its text.
fn edit(path: &Path, edit: impl Fn(&str) -> String) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(path, edit(&text)).unwrap();
}

fn assert_refused(dir: &Path, needle: &str) {
    let (code, stdout, stderr) = merge(dir);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(needle),
        "{needle}: {stderr}"
    );
}

#[test]
fn merge_refuses_mixed_origins_and_disagreeing_duplicates() {
    let dir = fresh("mixed");
    for i in 0..2 {
        assert_eq!(
            report(ONLY, &dir, &["--shard", &format!("{i}/2")], &[]).0,
            Some(0)
        );
    }
    let victim = records(&dir, "shard-0-of-2")[0].clone();
    let original = std::fs::read_to_string(&victim).unwrap();
    // A copy of a unit under another split: equal values merge.
    let copy = dir
        .join("units/shard-0-of-1")
        .join(victim.file_name().unwrap());
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    std::fs::write(&copy, &original).unwrap();
    assert_eq!(merge(&dir).0, Some(0));
    // The same unit with another value is refused.
    let measurement = original.find("\"measurement\"").unwrap();
    let digit = measurement
        + original[measurement..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap();
    let changed = |t: &str| {
        let d = t.as_bytes()[digit];
        let other = if d == b'9' { '8' } else { (d + 1) as char };
        format!("{}{other}{}", &t[..digit], &t[digit + 1..])
    };
    edit(&copy, changed);
    assert_refused(&dir, "has different values in");
    std::fs::remove_file(&copy).unwrap();
    // Another mode, another commit.
    edit(&victim, |t| {
        t.replace(r#""mode":"quick""#, r#""mode":"full""#)
    });
    assert_refused(&dir, "units from different modes cannot be merged");
    std::fs::write(&victim, &original).unwrap();
    edit(&victim, |t| {
        let at = t.find(r#""commit":"#).unwrap() + r#""commit":"#.len();
        format!(
            "{}\"0000000\"{}",
            &t[..at],
            &t[at + t[at..].find(',').unwrap()..]
        )
    });
    assert_refused(&dir, "units from different commits cannot be merged");
    // Nothing to merge.
    assert_refused(&fresh("empty"), "no unit records under");
}

const SWEEP: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/sweeps/relu_digits_lr_width.toml"
);

#[test]
fn sweep_shards_merge_to_the_files_of_one_process() {
    let one = fresh("sweep-one");
    let (code, stdout, stderr) = cli(&["sweep", SWEEP, "--out", path(&one), "--quiet"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stdout.is_empty());
    let summary = std::fs::read_to_string(one.join("summary.csv")).unwrap();
    let rows: Vec<&str> = summary.lines().collect();
    assert!(
        rows[0].starts_with("learning_rate,width,seed,status,"),
        "{}",
        rows[0]
    );
    assert_eq!(rows.len(), 1 + 3 * 2 * 3);
    assert!(rows[1..].iter().all(|r| r.contains(",ok,")), "{summary}");
    let dir = fresh("sweep-shards");
    for i in 0..3 {
        let (code, _, stderr) = cli(&[
            "sweep",
            SWEEP,
            "--out",
            path(&dir),
            "--quiet",
            "--shard",
            &format!("{i}/3"),
        ]);
        assert_eq!(code, Some(0), "{stderr}");
    }
    let (code, _, stderr) = merge(&dir);
    assert_eq!(code, Some(0), "{stderr}");
    let (merged, alone) = (files(&dir), files(&one));
    assert_eq!(merged.len(), 2 + 2 * 18);
    assert_eq!(
        merged.keys().collect::<Vec<_>>(),
        alone.keys().collect::<Vec<_>>()
    );
    for (p, bytes) in &alone {
        assert!(merged[p] == *bytes, "{} differs", p.display());
    }
}

#[test]
fn a_sweep_over_a_field_that_does_not_exist_is_one_line() {
    let dir = fresh("sweep-bad");
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    let text = std::fs::read_to_string(SWEEP).unwrap();
    std::fs::write(
        &bad,
        text.replace("\"dynamics.learning_rate\"", "\"dynamics.lr\""),
    )
    .unwrap();
    let (code, stdout, stderr) = cli(&["sweep", path(&bad), "--out", path(&dir)]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!(
            "error: {}: grid.dynamics.lr: unknown field `lr`",
            bad.display()
        )),
        "{stderr}"
    );
    assert!(!dir.join("summary.csv").exists());
}
