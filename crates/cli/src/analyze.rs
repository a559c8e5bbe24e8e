//! `analyze`: the metrics of a saved network (`checkpoint`
//! reads the files, `analysis` computes), printed as markdown tables and
//! written as JSON; optionally the per-layer matrices as `.npy`.
//!
//! JSON: the record of [`analysis::record`] (`schema = 1`) with the paths
//! of the files read, `"weights"`, `"data"`, `"labels"` and `"init"`.
//!
//! Memory: the NTK metrics come from tiles of samples
//! ([`ntk::statistics`]) in the budget of `--memory` (default: half of the
//! memory available when the command starts); what cannot fit in it — the
//! smallest tiling, or the dense n × n kernels of `--save-ntk` — is refused
//! before any work, exit status 2.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use std::process::ExitCode;

use analysis::series::{Point, Skipped};
use analysis::{Analysis, AnalysisError, Exponent, Inputs, MatrixValue, Options, Value};
use checkpoint::{ArchSpec, Checkpoint, CheckpointError};
use faer::{Mat, MatRef};
use indicatif::ProgressBar;
use metrics::Similarity;
use networks::{Activation, Sequential};

use crate::render::{Precision, number};
use crate::{CliError, create_dir, progress, write_file};

/// Options of `analyze`.
#[derive(Debug, Clone, clap::Args)]
pub struct AnalyzeArgs {
    /// Trained weights: a safetensors file or a PyTorch state dict (torch.save, .pt/.pth), in PyTorch's layout (Linear weight [out, in], Conv2d weight [out, in, h, w], optional bias [out]). A directory or a quoted glob pattern ('ckpt/*.pt') is a series of checkpoints, analysed in order against one --data, --labels and --init: series.json, series.csv and series.svg in --out.
    #[arg(long, value_name = "FILE|DIR|GLOB")]
    pub weights: PathBuf,
    /// Order of a series of checkpoints: natural order of the names (epoch_2 before epoch_10), or modification time.
    #[arg(long, value_enum, default_value = "name")]
    pub order: Order,
    /// The network's layers (TOML: input shape, then conv2d, pooling, activations, flatten, linear); needed for convolutional networks. Without it the weights are a fully connected network with --activation between layers.
    #[arg(long, value_name = "FILE.toml", conflicts_with = "activation")]
    pub arch: Option<PathBuf>,
    /// Inputs, one sample per row: .npy (float32/float64, C order; images as (n, C, H, W)) or .csv.
    #[arg(long, value_name = "FILE")]
    pub data: PathBuf,
    /// Targets (samples × outputs, .npy or .csv): adds the NTK kernel–target alignment and specialisation matrix.
    #[arg(long, value_name = "FILE")]
    pub labels: Option<PathBuf>,
    /// Initial weights (same layers), for C-NFA.
    #[arg(long, value_name = "FILE")]
    pub init: Option<PathBuf>,
    /// Activation of the hidden layers of a fully connected network: identity, relu, leaky_relu (slope 0.01), tanh, gelu (tanh form), quadratic.
    #[arg(long, value_name = "NAME", required_unless_present = "arch")]
    pub activation: Option<String>,
    /// Layer order as weight tensor names (`first.0.weight`) or their module names (`first.0`, as in the model's state dict); default: every `*.weight`, in natural order of the names.
    #[arg(long, value_name = "A,B,C", value_delimiter = ',')]
    pub layers: Option<Vec<String>>,
    /// Exponent of the table's last NFA column: a number, or `fit` for the fitted α̂.
    #[arg(long, value_name = "A|fit", default_value = "fit")]
    pub alpha: String,
    /// Similarity convention of the table: cosine, pearson, relerr or relerr_scaled (the JSON has all).
    #[arg(long, value_name = "NAME", default_value = "cosine")]
    pub similarity: String,
    /// Also the NFA against RBPB22's gradient-centred AGOP (input gradients centred over samples before their Gram): two more passes over the data.
    #[arg(long)]
    pub centred_agop: bool,
    /// Write layer{l}_nfm.npy, layer{l}_agop.npy and layer{l}_ptk.npy (f64) for each layer l here (and layer{l}_centred_agop.npy with --centred-agop).
    #[arg(long, value_name = "DIR")]
    pub save_matrices: Option<PathBuf>,
    /// Write each output's empirical NTK Θ_c as ntk{c}.npy (n × n, f64, c from 1) here; refused when the n × n kernels do not fit in the memory budget.
    #[arg(long, value_name = "DIR")]
    pub save_ntk: Option<PathBuf>,
    /// Memory budget in GB (default: half of the memory available at start, from /proc/meminfo; 4 GB where that cannot be read).
    #[arg(long, value_name = "GB", allow_negative_numbers = true)]
    pub memory: Option<f64>,
    /// JSON output (default: target/analyze/STEM.json, STEM from the weights file); for a series, the directory of series.json, series.csv and series.svg (default: target/analyze/series).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// The order of a series of checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Order {
    /// Natural order of the file names (digit runs compared as numbers).
    Name,
    /// Modification time, oldest first.
    Mtime,
}

/// The memory budget in bytes: `--memory GB`, or
/// [`analysis::default_memory_budget`].
fn memory_budget(arg: Option<f64>) -> Result<u64, CliError> {
    match arg {
        Some(gb) if gb.is_finite() && gb > 0.0 => Ok((gb * 1e9) as u64),
        Some(gb) => Err(CliError::usage(format!(
            "--memory: {gb} is not a positive number of GB"
        ))),
        None => Ok(analysis::default_memory_budget()),
    }
}

/// Peak bytes of the dense per-output kernels of `--save-ntk`: the C
/// kernels (n × n), and what they are computed from for all n samples: a
/// fully connected network's forward pass and stacked gradients, or a
/// convolutional network's per-sample parameter gradients.
fn dense_ntk_bytes(net: &Sequential, samples: usize) -> u64 {
    let (n, outputs) = (samples as u64, net.outputs() as u64);
    let tangents = match net.as_mlp() {
        Some(arch) => {
            let hidden: u64 = arch.widths[1..].iter().map(|&w| w as u64).sum();
            2 * hidden + outputs * hidden
        }
        None => outputs * networks::sequential::tangents::parameter_count(net) as u64,
    };
    8 * (outputs * n * n + n * tangents)
}

/// A file that cannot be read or does not fit the network: bad input.
fn read_failure(e: CheckpointError) -> CliError {
    CliError::usage(e.to_string())
}

/// A result that cannot be written: exit status 1.
fn write_failure(e: CheckpointError) -> CliError {
    CliError::failure(e.to_string())
}

/// What `--alpha` asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AlphaArg {
    Fit,
    Given(f64),
}

fn parse_alpha(s: &str) -> Result<AlphaArg, CliError> {
    if s == "fit" {
        return Ok(AlphaArg::Fit);
    }
    match s.parse::<f64>() {
        Ok(a) if a.is_finite() && a >= 0.0 => Ok(AlphaArg::Given(a)),
        _ => Err(CliError::usage(format!(
            "--alpha: `{s}` is neither `fit` nor a finite exponent ≥ 0"
        ))),
    }
}

/// How the checkpoints' layers are read: from an architecture file, or as
/// a fully connected network with one hidden activation.
enum Layout {
    Arch(ArchSpec),
    Mlp(Activation),
}

fn layout(args: &AnalyzeArgs) -> Result<Layout, CliError> {
    match (&args.arch, &args.activation) {
        (Some(arch), _) => Ok(Layout::Arch(ArchSpec::read(arch).map_err(read_failure)?)),
        (None, activation) => {
            let activation = Activation::from_str(activation.as_deref().unwrap_or_default())
                .map_err(|e| CliError::usage(format!("--activation: {e}")))?;
            Ok(Layout::Mlp(activation))
        }
    }
}

/// The network saved in `path`, with its layers in the order of `layers`.
fn read_net(
    layout: &Layout,
    path: &Path,
    layers: Option<&[String]>,
) -> Result<(Checkpoint, Sequential), CliError> {
    match layout {
        Layout::Arch(arch) => checkpoint::read_network(path, arch, layers).map_err(read_failure),
        Layout::Mlp(activation) => {
            let net = checkpoint::read_checkpoint(path, layers).map_err(read_failure)?;
            let seq = Sequential::from_mlp(&net.architecture(*activation))
                .map_err(|e| CliError::usage(format!("{}: {e}", net.file)))?;
            Ok((net, seq))
        }
    }
}

/// The initial weights in `path`, read in the layer order of `net` and of
/// the same shapes.
fn read_init(layout: &Layout, path: &Path, net: &Checkpoint) -> Result<Vec<Mat<f64>>, CliError> {
    let names = net.weight_names();
    let (init, _) = read_net(layout, path, Some(&names))?;
    net.check_same_shapes(&init).map_err(read_failure)?;
    Ok(init.layers.into_iter().map(|l| l.weight).collect())
}

/// The analysis options of the arguments.
fn options(args: &AnalyzeArgs, alpha: AlphaArg) -> Result<Options, CliError> {
    Ok(Options {
        alpha: match alpha {
            AlphaArg::Fit => None,
            AlphaArg::Given(a) => Some(a),
        },
        memory: Some(memory_budget(args.memory)?),
        centred_agop: args.centred_agop,
        ..Options::default()
    })
}

/// Analyse `seq` with `params` on the data, reporting the NTK pass on
/// `bar`.
fn analyse(
    seq: &Sequential,
    params: &[Mat<f64>],
    init: Option<&[Mat<f64>]>,
    (x, y): (MatRef<'_, f64>, Option<MatRef<'_, f64>>),
    options: &Options,
    bar: &ProgressBar,
) -> Result<Analysis, AnalysisError> {
    analysis::analyse_with_progress(
        Inputs {
            net: seq,
            params,
            init,
            x,
            y,
        },
        options,
        &mut |done, total| {
            bar.set_length(total);
            bar.set_position(done);
        },
    )
}

/// Whether an analysis failed for want of memory (the budget, not the
/// checkpoint, is at fault).
fn out_of_budget(e: &AnalysisError) -> bool {
    matches!(e, AnalysisError::Ntk(ntk::NtkError::Memory { .. }))
}

/// An analysis that failed, as bad input: the memory budget, or the
/// checkpoint `file`.
fn analysis_failure(file: &str, e: AnalysisError) -> CliError {
    if out_of_budget(&e) {
        CliError::usage(format!("--memory: {e}"))
    } else {
        CliError::usage(format!("{file}: {e}"))
    }
}

/// Run the command: read, analyse, print the tables, write the JSON (and
/// the matrices). Returns the markdown printed and the exit status: 1 when
/// a checkpoint of a series was skipped.
pub fn run(args: &AnalyzeArgs) -> Result<(String, ExitCode), CliError> {
    let kind = Similarity::from_str(&args.similarity)
        .map_err(|e| CliError::usage(format!("--similarity: {e}")))?;
    let alpha = parse_alpha(&args.alpha)?;
    if let Some(files) = series_files(&args.weights, args.order)? {
        return series(args, kind, alpha, &files);
    }
    let layout = layout(args)?;
    let layers = args.layers.as_deref();
    let (net, seq) = read_net(&layout, &args.weights, layers)?;
    let init = match &args.init {
        Some(path) => Some(read_init(&layout, path, &net)?),
        None => None,
    };
    let data_file = args.data.display().to_string();
    let (x, sample) = checkpoint::read_samples(&args.data, "data").map_err(read_failure)?;
    checkpoint::check_data(&seq, &net, &data_file, &x, &sample).map_err(read_failure)?;
    let y = match &args.labels {
        Some(path) => {
            let y = checkpoint::read_matrix(path, "labels").map_err(read_failure)?;
            checkpoint::check_labels(&seq, &net, &data_file, &x, &path.display().to_string(), &y)
                .map_err(read_failure)?;
            Some(y)
        }
        None => None,
    };

    let options = options(args, alpha)?;
    let budget = options.memory.unwrap_or_default();
    if args.save_ntk.is_some() {
        let needed = dense_ntk_bytes(&seq, x.nrows());
        if needed > budget {
            return Err(CliError::usage(format!(
                "--save-ntk: the {} per-output kernels at n = {} need {} of memory, more than the budget of {} (--memory)",
                seq.outputs(),
                x.nrows(),
                ntk::Bytes(needed),
                ntk::Bytes(budget)
            )));
        }
    }
    let params = net.params();
    let bar = progress::bar(0, "tile pairs of the NTK", args.quiet);
    let result = analyse(
        &seq,
        &params,
        init.as_deref(),
        (x.as_ref(), y.as_ref().map(|y| y.as_ref())),
        &options,
        &bar,
    )
    .map_err(|e| analysis_failure(&net.file, e))?;
    bar.finish_and_clear();

    let markdown = markdown(&net, &seq, &result, kind, alpha);
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .weights
            .file_stem()
            .map_or_else(|| "analysis".into(), |s| s.to_string_lossy().into_owned());
        Path::new("target/analyze").join(format!("{stem}.json"))
    });
    let json = json_report(args, &net, &seq, &result);
    write_file(
        &out,
        &serde_json::to_string_pretty(&json).expect("analysis serialises"),
    )?;
    if let Some(dir) = &args.save_matrices {
        save_matrices(dir, &result)?;
    }
    if let Some(dir) = &args.save_ntk {
        let mlp = seq.as_mlp();
        let model = match &mlp {
            Some(arch) => ntk::Model::Mlp(arch),
            None => ntk::Model::Sequential(&seq),
        };
        let kernels = ntk::per_output_ntk_of(model, &params, x.as_ref(), faer::Par::rayon(0))
            .map_err(|e| CliError::usage(format!("{}: {e}", net.file)))?;
        create_dir(dir)?;
        for (c, k) in kernels.iter().enumerate() {
            checkpoint::write_npy(&dir.join(format!("ntk{}.npy", c + 1)), k.as_ref())
                .map_err(write_failure)?;
        }
    }
    Ok((markdown, ExitCode::SUCCESS))
}

/// Whether `--weights` names a series — a directory (its `.pt`, `.pth`
/// and `.safetensors` files) or a glob pattern — and then its files, in
/// natural order of their names or by modification time. A series
/// without a file is bad input.
fn series_files(weights: &Path, order: Order) -> Result<Option<Vec<PathBuf>>, CliError> {
    let text = weights.to_string_lossy();
    let mut files: Vec<PathBuf> = if weights.is_dir() {
        let entries = std::fs::read_dir(weights)
            .map_err(|e| CliError::usage(format!("--weights {}: {e}", weights.display())))?;
        entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.is_file()
                    && p.extension().is_some_and(|e| {
                        ["pt", "pth", "safetensors"].contains(&&*e.to_string_lossy())
                    })
            })
            .collect()
    } else if text.contains(['*', '?', '[']) && !weights.exists() {
        glob::glob(&text)
            .map_err(|e| CliError::usage(format!("--weights `{text}`: not a glob pattern: {e}")))?
            .filter_map(Result::ok)
            .filter(|p| p.is_file())
            .collect()
    } else {
        return Ok(None);
    };
    if files.is_empty() {
        return Err(CliError::usage(format!(
            "--weights {text}: no checkpoint file (.pt, .pth or .safetensors in a directory, or a file matching the pattern)"
        )));
    }
    match order {
        Order::Name => files
            .sort_by(|a, b| checkpoint::natural_cmp(&a.to_string_lossy(), &b.to_string_lossy())),
        Order::Mtime => {
            let mtime = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
            files.sort_by(|a, b| mtime(a).cmp(&mtime(b)).then_with(|| a.cmp(b)));
        }
    }
    Ok(Some(files))
}

/// The step of each checkpoint: the last number in its file name when
/// every name has one (`epoch_012.pt` → 12), else its position from 0.
fn steps(files: &[PathBuf]) -> Vec<f64> {
    let number = |p: &PathBuf| -> Option<f64> {
        let stem = p.file_stem()?.to_string_lossy().into_owned();
        let end = stem.rfind(|c: char| c.is_ascii_digit())? + 1;
        let start = stem[..end]
            .rfind(|c: char| !c.is_ascii_digit())
            .map_or(0, |i| i + 1);
        stem[start..end].parse().ok()
    };
    let numbers: Option<Vec<f64>> = files.iter().map(number).collect();
    numbers.unwrap_or_else(|| (0..files.len()).map(|i| i as f64).collect())
}

/// Why a checkpoint of a series gives no point: it is skipped (it cannot
/// be read or does not fit), or the whole series stops (the initial
/// weights or the memory budget are at fault).
enum Miss {
    Skip(CliError),
    Stop(CliError),
}

/// The series JSON: the series, and the files it was computed from.
#[derive(serde::Serialize)]
struct SeriesReport<'a> {
    #[serde(flatten)]
    series: analysis::series::SeriesJson<'a>,
    data: String,
    labels: Option<String>,
    init: Option<String>,
}

/// `analyze` over a series of checkpoints: the data, labels and initial
/// weights read once, every checkpoint analysed against them in order;
/// `series.json`, `series.csv` and `series.svg` in `--out` (default
/// `target/analyze/series`). A checkpoint that cannot be read or does not
/// fit is reported, skipped, and makes the exit status 1.
fn series(
    args: &AnalyzeArgs,
    kind: Similarity,
    alpha: AlphaArg,
    files: &[PathBuf],
) -> Result<(String, ExitCode), CliError> {
    for (flag, given) in [
        ("--save-matrices", args.save_matrices.is_some()),
        ("--save-ntk", args.save_ntk.is_some()),
    ] {
        if given {
            return Err(CliError::usage(format!(
                "{flag}: not available for a series of checkpoints (analyse one checkpoint)"
            )));
        }
    }
    let layout = layout(args)?;
    let data_file = args.data.display().to_string();
    let (x, sample) = checkpoint::read_samples(&args.data, "data").map_err(read_failure)?;
    let y = match &args.labels {
        Some(path) => Some(checkpoint::read_matrix(path, "labels").map_err(read_failure)?),
        None => None,
    };
    let options = options(args, alpha)?;
    let bar = progress::bar(files.len() as u64, "checkpoints", args.quiet);
    let mut series: Option<analysis::series::Series> = None;
    let mut init: Option<Vec<Mat<f64>>> = None;
    let mut skipped = Vec::new();
    let hidden = ProgressBar::hidden();
    for (file, step) in files.iter().zip(steps(files)) {
        let point = (|| {
            let (net, seq) = read_net(&layout, file, args.layers.as_deref()).map_err(Miss::Skip)?;
            if let Some(first) = &series
                && first.net != seq
            {
                return Err(Miss::Skip(CliError::usage(format!(
                    "{}: its layers differ from those of the series' first checkpoint",
                    file.display()
                ))));
            }
            checkpoint::check_data(&seq, &net, &data_file, &x, &sample)
                .map_err(|e| Miss::Skip(read_failure(e)))?;
            if let (Some(path), Some(y)) = (&args.labels, &y) {
                checkpoint::check_labels(
                    &seq,
                    &net,
                    &data_file,
                    &x,
                    &path.display().to_string(),
                    y,
                )
                .map_err(|e| Miss::Skip(read_failure(e)))?;
            }
            if let (Some(path), None) = (&args.init, &init) {
                // The initial weights, once, in the first checkpoint's
                // layer order: an unreadable init stops the series.
                init =
                    Some(read_init(&layout, path, &net).map_err(|e| {
                        Miss::Stop(CliError::usage(format!("--init: {}", e.message)))
                    })?);
            }
            let result = analyse(
                &seq,
                &net.params(),
                init.as_deref(),
                (x.as_ref(), y.as_ref().map(|y| y.as_ref())),
                &options,
                &hidden,
            )
            .map_err(|e| {
                // A budget too small stops the series: every checkpoint
                // would fail alike.
                if out_of_budget(&e) {
                    Miss::Stop(analysis_failure(&net.file, e))
                } else {
                    Miss::Skip(analysis_failure(&net.file, e))
                }
            })?;
            let point = Point::new(
                step,
                Some(file.display().to_string()),
                result,
                net.tensor_names(),
            );
            Ok((seq, point))
        })();
        match point {
            Ok((seq, point)) => series
                .get_or_insert_with(|| {
                    analysis::series::Series::new(seq, kind, analysis::series::Tracked::ALL)
                })
                .points
                .push(point),
            Err(Miss::Stop(e)) => return Err(e),
            Err(Miss::Skip(e)) => {
                bar.suspend(|| eprintln!("skipped: {}", e.message));
                skipped.push(Skipped {
                    checkpoint: file.display().to_string(),
                    error: e.message,
                });
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let Some(mut series) = series else {
        return Err(CliError::failure(format!(
            "--weights {}: none of the {} checkpoints could be analysed",
            args.weights.display(),
            files.len()
        )));
    };
    series.skipped = skipped;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| PathBuf::from("target/analyze/series"));
    let report = SeriesReport {
        series: series.json(),
        data: data_file,
        labels: args.labels.as_ref().map(|p| p.display().to_string()),
        init: args.init.as_ref().map(|p| p.display().to_string()),
    };
    write_file(
        &dir.join("series.json"),
        &serde_json::to_string_pretty(&report).expect("the series serialises"),
    )?;
    let mut csv = Vec::new();
    series
        .write_csv(&mut csv)
        .map_err(|e| CliError::failure(format!("{}: {e}", dir.join("series.csv").display())))?;
    write_file(
        &dir.join("series.csv"),
        &String::from_utf8(csv).expect("the CSV is UTF-8"),
    )?;
    let svg = series
        .svg()
        .map_err(|e| CliError::failure(format!("{}: {e}", dir.join("series.svg").display())))?;
    write_file(&dir.join("series.svg"), &svg)?;
    let status = if series.skipped.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    };
    Ok((series_markdown(&series, &dir), status))
}

/// The series as a table of its first layer (the NFA's layer, TMC25) and
/// the NTK alignment, with the files written.
fn series_markdown(series: &analysis::series::Series, dir: &Path) -> String {
    let kind = series.similarity;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} checkpoints analysed, {} skipped; similarity {kind}; every layer in {}/series.{{json,csv,svg}}\n",
        series.points.len(),
        series.skipped.len(),
        dir.display()
    );
    let _ = writeln!(
        s,
        "| step | checkpoint | NFA {kind} α=1, layer 1 | α̂, layer 1 | UC-NFA {kind}, layer 1 | C-NFA {kind}, layer 1 | mean A(Θ_c, y_c) |"
    );
    let _ = writeln!(s, "|---:|---|---:|---:|---:|---:|---:|");
    for p in &series.points {
        let first = p.layers.first();
        let alignment = p.ntk.as_ref().map(|n| {
            n.mean_alignment()
                .map_or_else(|| "undefined".into(), stable)
        });
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {} | {} | {} | {} |",
            p.step,
            p.checkpoint.as_deref().unwrap_or_default(),
            cell(first.and_then(|m| m.nfa(kind, Exponent::One))),
            first
                .and_then(|m| m.alpha_hat.alpha())
                .map_or_else(|| "unidentifiable".into(), stable),
            cell(first.and_then(|m| m.uc_nfa(kind))),
            cell(first.and_then(|m| m.c_nfa(kind))),
            alignment.unwrap_or_else(|| "—".into()),
        );
    }
    s
}

/// `layer{l}_nfm.npy`, `layer{l}_agop.npy` (chain rule) and
/// `layer{l}_ptk.npy`, l from 1.
fn save_matrices(dir: &Path, result: &Analysis) -> Result<(), CliError> {
    create_dir(dir)?;
    for layer in &result.layers {
        let l = layer.metrics.layer;
        let m = &layer.matrices;
        let centred = m.centred_agop.as_ref().map(|g| ("centred_agop", g));
        for (what, mat) in [("nfm", &m.nfm), ("agop", &m.agop), ("ptk", &m.ptk)]
            .into_iter()
            .chain(centred)
        {
            checkpoint::write_npy(&dir.join(format!("layer{l}_{what}.npy")), mat.as_ref())
                .map_err(write_failure)?;
        }
    }
    Ok(())
}

/// A number for the tables: rounded to six significant digits first, so
/// that round-off (`0.999…9` vs `1`) cannot change the three digits shown,
/// then printed as [`Precision::Stable`].
fn stable(x: f64) -> String {
    let rounded = if x == 0.0 {
        0.0
    } else {
        let scale = 10f64.powi(5 - x.abs().log10().floor() as i32);
        (x * scale).round() / scale
    };
    number(rounded, Precision::Stable)
}

fn cell(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(x)) => stable(*x),
        Some(Value::Undefined(_)) => "undefined".into(),
        None => "—".into(),
    }
}

/// The per-layer table (and, with labels, the NTK tables). Numbers have
/// three significant digits, round-off-level values are shown as bounds
/// (`≤1e-15`), so the output is the same on every machine.
fn markdown(
    net: &Checkpoint,
    seq: &Sequential,
    result: &Analysis,
    kind: Similarity,
    alpha: AlphaArg,
) -> String {
    let mut s = String::new();
    let description = match seq.as_mlp() {
        Some(arch) => format!(
            "widths {}, {}, activation {}",
            arch.widths
                .iter()
                .map(usize::to_string)
                .collect::<Vec<_>>()
                .join(" → "),
            if arch.bias { "biases" } else { "no biases" },
            arch.activation
        ),
        None => format!(
            "input {} → {}",
            seq.input(),
            seq.layers()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(" → ")
        ),
    };
    let _ = writeln!(
        s,
        "`{}`: {} layers, {description}; {} samples; similarity {kind}\n",
        net.file,
        net.layers.len(),
        result.samples,
    );
    let (last_label, last) = match alpha {
        AlphaArg::Fit => ("α̂".to_owned(), Exponent::Fitted),
        AlphaArg::Given(a) => (format!("α={a}"), Exponent::Given(a)),
    };
    let _ = writeln!(
        s,
        "| layer | tensor | shape | AGOP relerr (chain rule vs input gradients) | {kind} α=1 | {kind} α=1/2 | α̂ | {kind} {last_label} | UC-NFA {kind} | C-NFA {kind} |"
    );
    let _ = writeln!(s, "|---:|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for (layer, info) in result.layers.iter().zip(&net.layers) {
        let m = &layer.metrics;
        let alpha_hat = m
            .alpha_hat
            .alpha()
            .map_or_else(|| "unidentifiable".into(), stable);
        let _ = writeln!(
            s,
            "| {} | `{}` | {}×{}{} | {} | {} | {} | {} | {} | {} | {} |",
            m.layer,
            info.weight_name,
            m.outputs,
            m.inputs,
            if m.kind == "conv2d" { " (patches)" } else { "" },
            cell(Some(&m.agop_agreement)),
            cell(m.nfa(kind, Exponent::One)),
            cell(m.nfa(kind, Exponent::Half)),
            alpha_hat,
            cell(m.nfa(kind, last)),
            cell(m.uc_nfa(kind)),
            cell(m.c_nfa(kind)),
        );
    }
    if result
        .layers
        .iter()
        .any(|l| l.metrics.centred_nfa.is_some())
    {
        let _ = writeln!(
            s,
            "\nNFA against RBPB22's gradient-centred AGOP (input gradients centred over samples):\n\n| layer | {kind} α=1 | {kind} α=1/2 |\n|---:|---:|---:|"
        );
        for layer in &result.layers {
            let m = &layer.metrics;
            let _ = writeln!(
                s,
                "| {} | {} | {} |",
                m.layer,
                cell(m.centred_nfa(kind, Exponent::One)),
                cell(m.centred_nfa(kind, Exponent::Half)),
            );
        }
    }
    if let Some(ntk) = &result.ntk {
        let _ = writeln!(
            s,
            "\nNTK kernel–target alignment of each output's kernel Θ_c with its label column y_c:\n"
        );
        let _ = writeln!(
            s,
            "| output c | ‖Θ_c‖_F | A(Θ_c, y_c) | centred A(Θ_c, y_c) |"
        );
        let _ = writeln!(s, "|---:|---:|---:|---:|");
        for (c, ((a, ac), norm)) in ntk
            .alignment
            .iter()
            .zip(&ntk.centered_alignment)
            .zip(&ntk.kernel_norm)
            .enumerate()
        {
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} |",
                c + 1,
                stable(*norm),
                cell(Some(a)),
                cell(Some(ac))
            );
        }
        match &ntk.kernel_alignment {
            MatrixValue::Matrix(rows) if rows.len() >= 2 => {
                let pairs = rows
                    .iter()
                    .enumerate()
                    .flat_map(|(c, row)| row.iter().enumerate().filter(move |(c2, _)| *c2 != c));
                let min = pairs.clone().map(|(_, v)| *v).fold(f64::INFINITY, f64::min);
                let max = pairs.map(|(_, v)| *v).fold(f64::NEG_INFINITY, f64::max);
                let _ = writeln!(
                    s,
                    "\nKernel–kernel alignment A(Θ_c, Θ_c') over c ≠ c': min {}, max {}",
                    stable(min),
                    stable(max)
                );
            }
            MatrixValue::Matrix(_) => {}
            MatrixValue::Undefined(reason) => {
                let _ = writeln!(s, "\nKernel–kernel alignment: undefined ({reason})");
            }
        }
        match &ntk.specialisation {
            MatrixValue::Matrix(rows) => {
                let excess = ntk
                    .diagonal_contrast
                    .as_ref()
                    .map(|v| {
                        format!(
                            "; diagonal contrast {} (0 without specialisation)",
                            cell(Some(v))
                        )
                    })
                    .unwrap_or_default()
                    + &ntk
                        .diagonal_excess
                        .as_ref()
                        .map(|v| format!("; diagonal excess {}", cell(Some(v))))
                        .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "\nSpecialisation S_cc' = A(Θ_c, y_c') (row: kernel c, column: label c'){excess}:\n"
                );
                let header: String = (1..=rows.len()).map(|c| format!(" y_{c} |")).collect();
                let _ = writeln!(s, "| |{header}");
                let _ = writeln!(s, "|---|{}", "---:|".repeat(rows.len()));
                for (c, row) in rows.iter().enumerate() {
                    let cells: String = row.iter().map(|v| format!(" {} |", stable(*v))).collect();
                    let _ = writeln!(s, "| Θ_{} |{cells}", c + 1);
                }
            }
            MatrixValue::Undefined(reason) => {
                let _ = writeln!(s, "\nSpecialisation matrix: undefined ({reason})");
            }
        }
    }
    s
}

/// The JSON record `analyze` writes: the analysis's record and the files
/// it was computed from.
#[derive(serde::Serialize)]
struct JsonReport<'a> {
    #[serde(flatten)]
    record: analysis::record::Record<'a>,
    weights: String,
    data: String,
    labels: Option<String>,
    init: Option<String>,
}

fn json_report(
    args: &AnalyzeArgs,
    net: &Checkpoint,
    seq: &Sequential,
    result: &Analysis,
) -> serde_json::Value {
    let path = |p: &Option<PathBuf>| p.as_ref().map(|p| p.display().to_string());
    let names = net.tensor_names();
    let report = JsonReport {
        record: analysis::record::record(result, seq, &names),
        weights: args.weights.display().to_string(),
        data: args.data.display().to_string(),
        labels: path(&args.labels),
        init: path(&args.init),
    };
    serde_json::to_value(report).expect("the record serialises")
}
