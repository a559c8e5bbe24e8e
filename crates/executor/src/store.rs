//! Unit records: how a shard stores its finished units of work, how a
//! resumed shard finds them, and how a merge reads them back.
//!
//! Each finished unit is one file, `DIR/units/shard-I-of-N/ID.json`,
//! holding one JSON line (a [`Record`]: the unit's id, family, point,
//! measurement and seconds, and the [`Origin`] of the run: what job, which
//! toolkit version and git commit). A record is written to a hidden
//! temporary file in the same directory, flushed to disk and renamed onto
//! its name, so a task killed at any moment leaves either the whole record
//! or none (at most a stray `.ID.json.PID.tmp`, which readers ignore). A
//! file that does not parse as one record ending in a newline — truncated
//! or corrupted after the fact — is listed in [`Store::corrupt`], skipped,
//! and counts as not done: a resumed shard recomputes it.
//!
//! One file per unit makes the three properties simple: atomic (rename),
//! resume (a unit is done when its file parses), and corruption detected
//! per unit (one bad file costs one unit, not a shard). Shards write into
//! their own directories, so two records of the same unit (from runs split
//! differently) can be compared by a merge: equal ones are duplicates,
//! different ones are refused.
//!
//! The job a record belongs to is the caller's type ([`Job`]); this module
//! knows nothing of claims or sweeps, and prints nothing.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{Measured, Shard, Unit};

/// The version of the record format.
pub const FORMAT: u32 = 1;

/// What a set of records computes (a report's claims, a sweep's grid):
/// records of different jobs are never merged.
pub trait Job: Serialize + DeserializeOwned + Clone + PartialEq {
    /// The first way `self` and `other` differ: (self's value, other's
    /// value, what differs, in the plural), e.g. `("mode quick", "mode
    /// full", "modes")`.
    fn difference(&self, other: &Self) -> Option<(String, String, &'static str)>;
}

/// Why records cannot be read or written, on one line.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or directory could not be read or written.
    #[error("{}: {error}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        error: std::io::Error,
    },
    /// The records under a directory are unreadable or cannot be used
    /// together (another job's records, units that disagree): the
    /// caller's input is wrong.
    #[error("{0}")]
    BadInput(String),
}

impl StoreError {
    fn io(path: &Path, error: std::io::Error) -> Self {
        StoreError::Io {
            path: path.to_owned(),
            error,
        }
    }
}

/// Where a record comes from; records of different origins are never
/// merged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Origin<J> {
    /// What was computed.
    pub job: J,
    /// Version of the workspace crates.
    pub version: String,
    /// `git rev-parse HEAD` in the working directory, when in a checkout.
    pub commit: Option<String>,
    /// Whether tracked files differed from that commit.
    pub dirty: bool,
}

/// `git rev-parse HEAD` and whether tracked files differ from it; `None`
/// outside a git checkout or without git.
pub fn git_commit() -> Option<(String, bool)> {
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
    };
    let commit = git(&["rev-parse", "HEAD"])?;
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
    Some((commit, dirty))
}

impl<J: Job> Origin<J> {
    /// `job` as run by this program now: the workspace version, the
    /// working directory's commit.
    pub fn current(job: J) -> Self {
        let (commit, dirty) = git_commit().map_or((None, false), |(c, d)| (Some(c), d));
        Origin {
            job,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            commit,
            dirty,
        }
    }

    fn commit_text(&self) -> String {
        match (&self.commit, self.dirty) {
            (None, _) => "no git commit".to_owned(),
            (Some(c), false) => format!("commit {c}"),
            (Some(c), true) => format!("commit {c} with uncommitted changes"),
        }
    }

    /// The first way `self` and `other` differ: (self's value, other's
    /// value, what differs, in the plural).
    fn difference(&self, other: &Self) -> Option<(String, String, &'static str)> {
        let pair = |a: String, b: String, what| (a != b).then_some((a, b, what));
        pair(
            format!("version {}", self.version),
            format!("version {}", other.version),
            "toolkit versions",
        )
        .or_else(|| pair(self.commit_text(), other.commit_text(), "commits"))
        .or_else(|| self.job.difference(&other.job))
    }
}

/// One finished unit of work, as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record<J> {
    /// [`FORMAT`].
    pub format: u32,
    /// What run computed it.
    pub origin: Origin<J>,
    /// The shard that computed it, `I/N`.
    pub shard: String,
    /// Threads of that shard.
    pub threads: usize,
    /// The unit's id.
    pub id: String,
    /// Its family (a claim family's label, or the sweep's name).
    pub family: String,
    /// Its parameters.
    pub point: Value,
    /// Its estimated seconds on one core.
    pub estimated_s: f64,
    /// Its measured seconds.
    pub seconds: f64,
    /// When the shard that computed it started (seconds since the Unix
    /// epoch).
    pub started: f64,
    /// When the unit finished (seconds since the Unix epoch).
    pub finished: f64,
    /// The measurement, or why the unit could not run.
    pub measurement: Result<Value, String>,
}

impl<J> Record<J> {
    /// The measurement and seconds, as [`crate::execute`] hands them over.
    pub fn measured(&self) -> Measured {
        Measured {
            value: self.measurement.clone(),
            seconds: self.seconds,
        }
    }
}

/// Seconds since the Unix epoch.
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The longest file name a record gets (file systems allow 255 bytes).
const MAX_NAME: usize = 200;

/// The file stem of a unit id: letters, digits and `._,=+-` as they are,
/// any other byte as `%XX` (so the mapping is one to one; `/` becomes
/// `%2F`), a leading `.` as `%2E`. A stem longer than 200 bytes is cut and
/// ends in `~` and the 64-bit FNV-1a hash of the id in hex.
pub fn file_stem(id: &str) -> String {
    let mut out = String::new();
    for (k, b) in id.bytes().enumerate() {
        let plain = b.is_ascii_alphanumeric() || (b"._,=+-".contains(&b) && !(k == 0 && b == b'.'));
        if plain {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    if out.len() > MAX_NAME {
        let hash = id.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
        let mut cut = MAX_NAME - 17;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str(&format!("~{hash:016x}"));
    }
    out
}

/// The directory of all records under `out`.
pub fn units_dir(out: &Path) -> PathBuf {
    out.join("units")
}

/// Store `record` as `out/units/shard-I-of-N/ID.json`, atomically: a
/// temporary file, flushed, then renamed.
pub fn write<J: Job>(out: &Path, shard: Shard, record: &Record<J>) -> Result<(), StoreError> {
    let dir = units_dir(out).join(shard.dir_name());
    std::fs::create_dir_all(&dir).map_err(|e| StoreError::io(&dir, e))?;
    let name = format!("{}.json", file_stem(&record.id));
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut line = serde_json::to_string(record).map_err(|e| {
        StoreError::io(
            &tmp,
            std::io::Error::new(std::io::ErrorKind::InvalidData, e),
        )
    })?;
    line.push('\n');
    let written = std::fs::File::create(&tmp).and_then(|mut f| {
        f.write_all(line.as_bytes())?;
        f.sync_all()
    });
    written.map_err(|e| StoreError::io(&tmp, e))?;
    let path = dir.join(name);
    std::fs::rename(&tmp, &path).map_err(|e| StoreError::io(&path, e))
}

/// The records found under a directory.
#[derive(Debug)]
pub struct Store<J> {
    /// The directory (`DIR`, holding `DIR/units/`).
    pub dir: PathBuf,
    /// Every record that parses, by path, in path order.
    pub records: Vec<(PathBuf, Record<J>)>,
    /// Files that do not: path and why.
    pub corrupt: Vec<(PathBuf, String)>,
}

/// Parse one record file's text.
fn parse<J: Job>(text: &str) -> Result<Record<J>, String> {
    let Some(line) = text.strip_suffix('\n') else {
        return Err("no end of line".to_owned());
    };
    if line.contains('\n') {
        return Err("more than one line".to_owned());
    }
    let record: Record<J> = serde_json::from_str(line).map_err(|e| e.to_string())?;
    if record.format != FORMAT {
        return Err(format!(
            "record format {}, this program reads {FORMAT}",
            record.format
        ));
    }
    Ok(record)
}

/// Every record under `out/units/*/` (none when the directory does not
/// exist). A directory or file that cannot be read is an error naming it.
pub fn load<J: Job>(out: &Path) -> Result<Store<J>, StoreError> {
    let root = units_dir(out);
    let mut store = Store {
        dir: out.to_owned(),
        records: Vec::new(),
        corrupt: Vec::new(),
    };
    if !root.exists() {
        return Ok(store);
    }
    let list = |dir: &Path| -> Result<Vec<PathBuf>, StoreError> {
        let mut paths = std::fs::read_dir(dir)
            .and_then(|d| {
                d.map(|e| e.map(|e| e.path()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .map_err(|e| StoreError::BadInput(format!("{}: {e}", dir.display())))?;
        paths.sort();
        Ok(paths)
    };
    for dir in list(&root)?.into_iter().filter(|p| p.is_dir()) {
        for path in list(&dir)? {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') || !name.ends_with(".json") {
                continue;
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| StoreError::BadInput(format!("{}: {e}", path.display())))?;
            match String::from_utf8(bytes)
                .map_err(|_| "not UTF-8 text".to_owned())
                .and_then(|t| parse(&t))
            {
                Ok(r) => store.records.push((path, r)),
                Err(why) => store.corrupt.push((path, why)),
            }
        }
    }
    Ok(store)
}

impl<J: Job> Store<J> {
    /// Every record has the origin `expected` (which `expected_is` names,
    /// e.g. `this run has`), or the first that does not is refused, naming
    /// it and what differs, followed by `advice`.
    pub fn check_origin(
        &self,
        expected: &Origin<J>,
        expected_is: &str,
        advice: &str,
    ) -> Result<(), StoreError> {
        for (path, r) in &self.records {
            if let Some((theirs, ours, what)) = r.origin.difference(expected) {
                return Err(StoreError::BadInput(format!(
                    "{}: {theirs}, but {expected_is} {ours}: units from different {what} cannot be merged{advice}",
                    path.display()
                )));
            }
        }
        Ok(())
    }

    /// The records by unit id, each once: records of the same unit must
    /// agree in point and measurement (then any one stands for them), or
    /// the first disagreement is refused, naming both files.
    pub fn by_id(&self) -> Result<HashMap<&str, &Record<J>>, StoreError> {
        let mut seen: HashMap<&str, (&Path, &Record<J>)> = HashMap::new();
        for (path, r) in &self.records {
            if let Some((first, earlier)) = seen.get(r.id.as_str()) {
                if earlier.point != r.point || earlier.measurement != r.measurement {
                    return Err(StoreError::BadInput(format!(
                        "unit {} has different values in {} and {}: duplicated units must agree",
                        r.id,
                        first.display(),
                        path.display()
                    )));
                }
                continue;
            }
            seen.insert(&r.id, (path, r));
        }
        Ok(seen.into_iter().map(|(id, (_, r))| (id, r)).collect())
    }
}

/// How a shard computes its units: run each, calling the hook with its
/// measurement as it finishes.
pub type Runner<'a> = &'a dyn Fn(&[Unit], &(dyn Fn(&Unit, Measured) + Sync));

/// What [`run_shard`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct ShardRun {
    /// The shard's units.
    pub units: usize,
    /// Of which already stored before this run.
    pub already_done: usize,
    /// Wall time in seconds.
    pub seconds: f64,
    /// The shard's record directory.
    pub dir: PathBuf,
}

/// One shard of a plan: the units of `shard` (balanced by cost over the
/// whole `plan`) that `store` (what [`load`] found) does not already hold
/// for `origin`, each run by `run` and stored as a record in the store's
/// directory as it finishes. A record of another origin in the store is
/// refused (they could never be merged); corrupt records' units are
/// recomputed.
/// `started(n)` is called with the number of units to run before the
/// first runs, `finished` with each unit and its seconds.
pub fn run_shard<J: Job + Sync>(
    store: &Store<J>,
    shard: Shard,
    origin: &Origin<J>,
    plan: &[Unit],
    run: Runner,
    started: &dyn Fn(usize),
    finished: &(dyn Fn(&Unit, f64) + Sync),
) -> Result<ShardRun, StoreError> {
    let start = Instant::now();
    let started_at = now();
    store.check_origin(origin, "this run has", " (give this run another --out DIR)")?;
    let done: HashSet<(&str, &Value)> = store
        .records
        .iter()
        .map(|(_, r)| (r.id.as_str(), &r.point))
        .collect();
    let mine = crate::select(plan, |u| u.cost, shard);
    let todo: Vec<Unit> = mine
        .iter()
        .filter(|u| !done.contains(&(u.id.as_str(), &u.point)))
        .cloned()
        .collect();
    started(todo.len());
    let threads = rayon::current_num_threads();
    let failure = Mutex::new(None);
    let on_done = |unit: &Unit, m: Measured| {
        let seconds = m.seconds;
        let record = Record {
            format: FORMAT,
            origin: origin.clone(),
            shard: shard.to_string(),
            threads,
            id: unit.id.clone(),
            family: unit.family.clone(),
            point: unit.point.clone(),
            estimated_s: unit.cost,
            seconds,
            started: started_at,
            finished: now(),
            measurement: m.value,
        };
        if let Err(e) = write(&store.dir, shard, &record)
            && let Ok(mut first) = failure.lock()
        {
            first.get_or_insert(e);
        }
        finished(unit, seconds);
    };
    run(&todo, &on_done);
    if let Some(e) = failure.into_inner().ok().flatten() {
        return Err(e);
    }
    Ok(ShardRun {
        units: mine.len(),
        already_done: mine.len() - todo.len(),
        seconds: start.elapsed().as_secs_f64(),
        dir: units_dir(&store.dir).join(shard.dir_name()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Sweep(String);

    impl Job for Sweep {
        fn difference(&self, other: &Self) -> Option<(String, String, &'static str)> {
            (self != other).then(|| (self.0.clone(), other.0.clone(), "sweeps"))
        }
    }

    #[test]
    fn file_stems_are_one_to_one_and_portable() {
        assert_eq!(file_stem("TMC25.A/L=3,width=10"), "TMC25.A%2FL=3,width=10");
        assert_eq!(file_stem("a b%"), "a%20b%25");
        assert_eq!(file_stem(".x"), "%2Ex");
        assert_ne!(file_stem("a/b"), file_stem("a_b"));
        let long = "x/".repeat(300);
        let stem = file_stem(&long);
        assert!(stem.len() <= MAX_NAME, "{}", stem.len());
        assert_ne!(stem, file_stem(&"x/".repeat(301)));
    }

    #[test]
    fn a_record_line_must_be_whole() {
        let r = Record {
            format: FORMAT,
            origin: Origin::current(Sweep("s".into())),
            shard: "0/1".into(),
            threads: 1,
            id: "s/seed=1".into(),
            family: "s".into(),
            point: serde_json::json!({"seed": 1}),
            estimated_s: 1.0,
            seconds: 0.5,
            started: 1.0,
            finished: 2.0,
            measurement: Ok(serde_json::json!([0.1, 1e-300])),
        };
        let line = serde_json::to_string(&r).unwrap() + "\n";
        assert_eq!(parse(&line), Ok(r));
        assert!(
            parse::<Sweep>(&line[..line.len() - 1])
                .unwrap_err()
                .contains("no end of line")
        );
        assert!(parse::<Sweep>(&line[..line.len() / 2]).is_err());
        assert!(
            parse::<Sweep>(&format!("{line}{line}"))
                .unwrap_err()
                .contains("more than one line")
        );
    }
}
