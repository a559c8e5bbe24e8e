//! Data matrices (samples as rows) from NumPy `.npy` and CSV files, and
//! `.npy` output.
//!
//! **`.npy`** (NumPy format versions 1–3): the magic `\x93NUMPY`, a
//! major/minor version, a little-endian header length (2 bytes in version
//! 1, 4 in 2 and 3), then a Python dict literal with `'descr'` (the dtype,
//! e.g. `'<f8'`), `'fortran_order'` and `'shape'`, padded with spaces and a
//! newline, then the raw data. Accepted: float64 or float32 (either byte
//! order), C order, 1 or 2 dimensions (a 1-D array of length n is an n × 1
//! column). The header is parsed by `npyz`.
//!
//! **CSV**: one sample per line, comma-separated numbers; blank lines and
//! lines starting with `#` are skipped, and a first line that is not all
//! numbers is a header.

use std::io::{BufWriter, Write};
use std::path::Path;

use faer::{Mat, MatRef};
use npyz::{DType, NpyFile, NpyHeader, Order, TypeChar, WriterBuilder};

use crate::error::{CheckpointError, name};

const SUPPORTED: &str = "float64 (<f8, >f8), float32 (<f4, >f4)";

/// Read a data matrix; the format is chosen by the extension (`.npy` or
/// `.csv`). `role` (e.g. `data`, `labels`) names the array in messages.
pub fn read_matrix(path: &Path, role: &str) -> Result<Mat<f64>, CheckpointError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("npy") => read_npy(path, role),
        Some(e) if e.eq_ignore_ascii_case("csv") => read_csv(path, role),
        _ => Err(CheckpointError::Format {
            file: name(path),
            format: "data",
            detail: "unknown extension; expected .npy or .csv".into(),
        }),
    }
}

/// Read a 1-D or 2-D float `.npy` array in C order as a matrix (module
/// docs); non-finite entries are an error naming their position.
pub fn read_npy(path: &Path, role: &str) -> Result<Mat<f64>, CheckpointError> {
    let file = name(path);
    let bytes = std::fs::read(path).map_err(|e| CheckpointError::io(path, e))?;
    let format = |detail: String| CheckpointError::Format {
        file: file.clone(),
        format: "npy",
        detail,
    };
    let mut reader = &bytes[..];
    let header = NpyHeader::from_reader(&mut reader).map_err(|e| format(e.to_string()))?;
    let data = reader;
    let dtype = header.dtype();
    let descr = match &dtype {
        DType::Plain(t) => t.to_string(),
        other => other.descr(),
    };
    if header.order() == Order::Fortran {
        return Err(format(format!(
            "array `{role}` is in Fortran order (fortran_order: True); save it in C order, e.g. numpy.save(path, numpy.ascontiguousarray(a))"
        )));
    }
    let shape: Vec<u64> = header.shape().to_vec();
    let (rows, cols) = match shape[..] {
        [n] => (n as usize, 1),
        [n, d] => (n as usize, d as usize),
        _ => {
            return Err(CheckpointError::Shape {
                file,
                tensor: role.to_owned(),
                detail: format!(
                    "shape {shape:?} has {} dimensions; expected 2 (samples × features) or 1",
                    shape.len()
                ),
            });
        }
    };
    let item = match &dtype {
        DType::Plain(t) if t.type_char() == TypeChar::Float && t.size_field() == 8 => 8,
        DType::Plain(t) if t.type_char() == TypeChar::Float && t.size_field() == 4 => 4,
        _ => {
            return Err(CheckpointError::UnsupportedDtype {
                file,
                tensor: role.to_owned(),
                dtype: descr,
                supported: SUPPORTED,
            });
        }
    };
    let needed = rows * cols * item;
    if data.len() < needed {
        return Err(CheckpointError::Truncated {
            file,
            detail: format!(
                "array `{role}` of shape {shape:?} needs {needed} data bytes, the file has {}",
                data.len()
            ),
        });
    }
    let npy = NpyFile::with_header(header, data);
    let values: Vec<f64> = if item == 8 {
        npy.into_vec::<f64>()
    } else {
        npy.into_vec::<f32>()
            .map(|v| v.into_iter().map(f64::from).collect())
    }
    .map_err(|e| format(e.to_string()))?;
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(CheckpointError::NonFinite {
            file,
            tensor: role.to_owned(),
            value: values[k],
            position: format!("[{}, {}]", k / cols.max(1), k % cols.max(1)),
        });
    }
    Ok(Mat::from_fn(rows, cols, |i, j| values[i * cols + j]))
}

/// Write a matrix as a 2-D float64 `.npy` array in C order.
pub fn write_npy(path: &Path, m: MatRef<'_, f64>) -> Result<(), CheckpointError> {
    let io = |e| CheckpointError::io(path, e);
    let f = std::fs::File::create(path).map_err(io)?;
    let mut writer = npyz::WriteOptions::<f64>::new()
        .default_dtype()
        .shape(&[m.nrows() as u64, m.ncols() as u64])
        .writer(BufWriter::new(f))
        .begin_nd()
        .map_err(io)?;
    for i in 0..m.nrows() {
        for j in 0..m.ncols() {
            writer.push(&m[(i, j)]).map_err(io)?;
        }
    }
    writer.finish().map_err(io)
}

/// Read a CSV matrix (module docs).
pub fn read_csv(path: &Path, role: &str) -> Result<Mat<f64>, CheckpointError> {
    let file = name(path);
    let text = std::fs::read_to_string(path).map_err(|e| CheckpointError::io(path, e))?;
    let mut rows: Vec<Vec<f64>> = Vec::new();
    let mut first = true;
    for (k, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parsed: Result<Vec<f64>, _> = line.split(',').map(|v| v.trim().parse()).collect();
        let header = std::mem::take(&mut first);
        let values = match parsed {
            Ok(v) => v,
            Err(_) if header => continue,
            Err(e) => {
                let col = line
                    .split(',')
                    .position(|v| v.trim().parse::<f64>().is_err())
                    .unwrap_or(0);
                return Err(CheckpointError::Format {
                    file,
                    format: "CSV",
                    detail: format!("line {}, column {}: {e}", k + 1, col + 1),
                });
            }
        };
        if let Some(j) = values.iter().position(|v| !v.is_finite()) {
            return Err(CheckpointError::NonFinite {
                file,
                tensor: role.to_owned(),
                value: values[j],
                position: format!("line {}, column {}", k + 1, j + 1),
            });
        }
        if let Some(prev) = rows.first()
            && prev.len() != values.len()
        {
            return Err(CheckpointError::Shape {
                file,
                tensor: role.to_owned(),
                detail: format!(
                    "line {} has {} columns, earlier lines have {}",
                    k + 1,
                    values.len(),
                    prev.len()
                ),
            });
        }
        rows.push(values);
    }
    let cols = rows.first().map_or(0, Vec::len);
    if rows.is_empty() {
        return Err(CheckpointError::Shape {
            file,
            tensor: role.to_owned(),
            detail: "no rows of numbers".into(),
        });
    }
    Ok(Mat::from_fn(rows.len(), cols, |i, j| rows[i][j]))
}

/// Write a matrix as CSV (one row per line, shortest round-trip decimals).
pub fn write_csv(path: &Path, m: MatRef<'_, f64>) -> Result<(), CheckpointError> {
    let io = |e| CheckpointError::io(path, e);
    let mut w = BufWriter::new(std::fs::File::create(path).map_err(io)?);
    for i in 0..m.nrows() {
        let line: Vec<String> = (0..m.ncols()).map(|j| m[(i, j)].to_string()).collect();
        writeln!(w, "{}", line.join(",")).map_err(io)?;
    }
    w.flush().map_err(io)
}
