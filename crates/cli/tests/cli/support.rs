//! Shared helpers of the command-line tests: the quick claims (computed
//! once per test binary), running the binary, and (for the `analyze` tests)
//! files built byte by byte from the published format specifications
//! (independent of the crates that read and write them).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use claims::{ClaimResult, FamilyRun, RunHooks, RunOptions, run_families};

/// The quick families on a pool of `threads` threads.
pub fn quick_runs_on(threads: usize) -> Vec<FamilyRun> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(|| run_families(&RunOptions::quick(), None, &RunHooks::default()))
}

/// The quick families run once on two threads, shared by the tests that
/// only read them (and compared with a one-thread run by
/// `quick_report_is_bitwise_identical_on_one_and_two_threads`).
pub fn quick_runs() -> &'static [FamilyRun] {
    static RUNS: OnceLock<Vec<FamilyRun>> = OnceLock::new();
    RUNS.get_or_init(|| quick_runs_on(2))
}

/// Every quick claim of [`quick_runs`].
pub fn quick_claims() -> &'static [ClaimResult] {
    static CLAIMS: OnceLock<Vec<ClaimResult>> = OnceLock::new();
    CLAIMS.get_or_init(|| quick_runs().iter().flat_map(|f| f.claims.clone()).collect())
}

/// A fresh directory for one test.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("cli-analyze-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A tensor for [`safetensors_bytes`]: name, dtype string, shape, raw
/// little-endian bytes.
pub struct RawTensor {
    pub name: String,
    pub dtype: &'static str,
    pub shape: Vec<usize>,
    pub bytes: Vec<u8>,
}

/// An F32 tensor of the row-major `values`.
pub fn f32_tensor(name: &str, shape: &[usize], values: &[f64]) -> RawTensor {
    RawTensor {
        name: name.into(),
        dtype: "F32",
        shape: shape.to_vec(),
        bytes: values
            .iter()
            .flat_map(|&v| (v as f32).to_le_bytes())
            .collect(),
    }
}

/// An F64 tensor of the row-major `values`.
pub fn f64_tensor(name: &str, shape: &[usize], values: &[f64]) -> RawTensor {
    RawTensor {
        name: name.into(),
        dtype: "F64",
        shape: shape.to_vec(),
        bytes: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
    }
}

/// A safetensors file per the format specification: an 8-byte
/// little-endian header length N, N bytes of JSON (here with a
/// `__metadata__` entry, as PyTorch's `save_file` writes, and padded with
/// spaces to a multiple of 8), then the tensors' raw bytes at their
/// `data_offsets` (in the order given).
pub fn safetensors_bytes(tensors: &[RawTensor]) -> Vec<u8> {
    let mut entries = vec![r#""__metadata__":{"format":"pt"}"#.to_owned()];
    let mut offset = 0;
    for t in tensors {
        let shape: Vec<String> = t.shape.iter().map(usize::to_string).collect();
        entries.push(format!(
            r#""{}":{{"dtype":"{}","shape":[{}],"data_offsets":[{},{}]}}"#,
            t.name,
            t.dtype,
            shape.join(","),
            offset,
            offset + t.bytes.len()
        ));
        offset += t.bytes.len();
    }
    let mut header = format!("{{{}}}", entries.join(",")).into_bytes();
    while header.len() % 8 != 0 {
        header.push(b' ');
    }
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend(header);
    for t in tensors {
        out.extend(&t.bytes);
    }
    out
}

/// An `.npy` file per the NumPy format specification: magic `\x93NUMPY`,
/// version (major, minor), header length (u16 LE for version 1, u32 LE for
/// 2), the dict literal padded with spaces and a final newline so that the
/// data start at a multiple of 64, then the raw data.
pub fn npy_bytes(descr: &str, fortran: bool, shape: &[usize], data: &[u8], version: u8) -> Vec<u8> {
    let shape_text = match shape {
        [n] => format!("({n},)"),
        _ => format!(
            "({})",
            shape
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    let fortran = if fortran { "True" } else { "False" };
    let mut dict =
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}");
    let prefix = if version == 1 { 10 } else { 12 };
    while (prefix + dict.len() + 1) % 64 != 0 {
        dict.push(' ');
    }
    dict.push('\n');
    let mut out = b"\x93NUMPY".to_vec();
    out.extend([version, 0]);
    if version == 1 {
        out.extend((dict.len() as u16).to_le_bytes());
    } else {
        out.extend((dict.len() as u32).to_le_bytes());
    }
    out.extend(dict.as_bytes());
    out.extend(data);
    out
}

/// Little-endian f64 bytes of `values`.
pub fn le_f64(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Little-endian f32 bytes of `values`.
pub fn le_f32(values: &[f64]) -> Vec<u8> {
    values
        .iter()
        .flat_map(|&v| (v as f32).to_le_bytes())
        .collect()
}

/// The variables by which a Slurm job array hands each task its shard and
/// CPUs; the tests set them explicitly or not at all, so that they behave
/// the same inside a Slurm job.
pub const SLURM_VARS: [&str; 4] = [
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_CPUS_PER_TASK",
];

/// `feature-learning-checks ARGS` as a command, with the Slurm variables
/// removed and `env` set.
pub fn command<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_feature-learning-checks"));
    for v in SLURM_VARS {
        cmd.env_remove(v);
    }
    cmd.envs(env.iter().copied()).args(args);
    cmd
}

/// Run `feature-learning-checks ARGS` with `env` (and no other Slurm
/// variable): (exit code, stdout, stderr).
pub fn cli_env<S: AsRef<std::ffi::OsStr>>(
    args: &[S],
    env: &[(&str, &str)],
) -> (Option<i32>, String, String) {
    let out = command(args, env).output().unwrap();
    (
        out.status.code(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Run `feature-learning-checks ARGS`: (exit code, stdout, stderr).
pub fn cli<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Option<i32>, String, String) {
    cli_env(args, &[])
}

/// Run `feature-learning-checks analyze ARGS`: (exit code, stdout, stderr).
pub fn analyze(args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["analyze"];
    all.extend_from_slice(args);
    cli(&all)
}

/// The workspace's root directory.
pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Round-off allowed between the command's numbers and the same analysis
/// computed in a test: the two are separate binaries whose faer kernels
/// may sum products in a different order, so results agree to a few ulps
/// rather than bit for bit (observed: 1 ulp).
pub const CROSS_BINARY_RTOL: f64 = 1e-12;

/// `a` and `b` are equal JSON, numbers within [`CROSS_BINARY_RTOL`]
/// (relative, or absolute below 1).
pub fn assert_json_close(a: &serde_json::Value, b: &serde_json::Value, at: &str) {
    use serde_json::Value;
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            assert!(
                (x - y).abs() <= CROSS_BINARY_RTOL * x.abs().max(y.abs()).max(1.0),
                "{at}: {x} vs {y}"
            );
        }
        (Value::Array(x), Value::Array(y)) => {
            assert_eq!(x.len(), y.len(), "{at}: lengths");
            for (k, (p, q)) in x.iter().zip(y).enumerate() {
                assert_json_close(p, q, &format!("{at}[{k}]"));
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            let mut kx: Vec<_> = x.keys().collect();
            let mut ky: Vec<_> = y.keys().collect();
            kx.sort();
            ky.sort();
            assert_eq!(kx, ky, "{at}: keys");
            for (k, p) in x {
                assert_json_close(p, &y[k], &format!("{at}.{k}"));
            }
        }
        _ => assert_eq!(a, b, "{at}"),
    }
}
