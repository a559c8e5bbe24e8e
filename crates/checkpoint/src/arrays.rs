//! Data matrices (samples as rows) from NumPy `.npy` and CSV files, and
//! `.npy` output.
//!
//! **`.npy`** (NumPy format versions 1–3): the magic `\x93NUMPY`, a
//! major/minor version, a little-endian header length (2 bytes in version
//! 1, 4 in 2 and 3), then a Python dict literal with `'descr'` (the dtype,
//! e.g. `'<f8'`), `'fortran_order'` and `'shape'`, padded with spaces and a
//! newline, then the raw data. Accepted: float64 or float32 (either byte
//! order), C order, one or more dimensions: a 1-D array of length n is an
//! n × 1 column, and an array of shape `(n, d_1, …, d_k)` is n rows of
//! `d_1·…·d_k` values in C order (an image batch `(n, C, H, W)` becomes
//! its NCHW rows; [`read_samples`] also returns `[d_1, …, d_k]`). The header is parsed by `npyz`.
//!
//! **CSV**: one sample per line, comma-separated numbers; blank lines and
//! lines starting with `#` are skipped, and a first line that is not all
//! numbers is a header.

use std::io::{BufWriter, Write};
use std::path::Path;

use faer::{Mat, MatRef};
use npyz::{DType, NpyFile, NpyHeader, Order, TypeChar, WriterBuilder};

use crate::error::{CheckpointError, name, one_line};

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

/// Read a float `.npy` array in C order as a matrix of samples (module
/// docs); non-finite entries are an error naming their position.
pub fn read_npy(path: &Path, role: &str) -> Result<Mat<f64>, CheckpointError> {
    read_npy_samples(path, role).map(|(m, _)| m)
}

/// Read a data file as [`read_matrix`] does, with the shape of one sample:
/// `[d_1, …, d_k]` of an `.npy` array `(n, d_1, …, d_k)`, `[d]` of a CSV
/// file or a 1-D or 2-D array.
pub fn read_samples(path: &Path, role: &str) -> Result<(Mat<f64>, Vec<usize>), CheckpointError> {
    match path.extension().and_then(|e| e.to_str()) {
        Some(e) if e.eq_ignore_ascii_case("npy") => read_npy_samples(path, role),
        _ => read_matrix(path, role).map(|m| {
            let d = m.ncols();
            (m, vec![d])
        }),
    }
}

fn read_npy_samples(path: &Path, role: &str) -> Result<(Mat<f64>, Vec<usize>), CheckpointError> {
    let file = name(path);
    let bytes = std::fs::read(path).map_err(|e| CheckpointError::io(path, e))?;
    let format = |detail: String| CheckpointError::Format {
        file: file.clone(),
        format: "npy",
        detail,
    };
    if let Some(detail) = oversized_shape(&bytes) {
        return Err(format(detail));
    }
    let mut reader = &bytes[..];
    let header =
        NpyHeader::from_reader(&mut reader).map_err(|e| format(one_line(&e.to_string())))?;
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
    let (rows, sample) = match &shape[..] {
        [n] => (*n as usize, vec![1]),
        [n, rest @ ..] => (*n as usize, rest.iter().map(|&d| d as usize).collect()),
        [] => {
            return Err(CheckpointError::Shape {
                file,
                tensor: role.to_owned(),
                detail: "a 0-dimensional array; expected samples × features".into(),
            });
        }
    };
    // The product is within u64 (`oversized_shape`).
    let cols: usize = sample.iter().product();
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
    // rows · cols fits in u64 (`oversized_shape`); the byte count may not.
    let needed = rows.checked_mul(cols).and_then(|n| n.checked_mul(item));
    if needed.is_none_or(|needed| data.len() < needed) {
        let needed = needed.map_or_else(|| "more than 2^64".to_owned(), |n| n.to_string());
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
    .map_err(|e| format(one_line(&e.to_string())))?;
    if let Some(k) = values.iter().position(|v| !v.is_finite()) {
        return Err(CheckpointError::NonFinite {
            file,
            tensor: role.to_owned(),
            value: values[k],
            position: format!("[{}, {}]", k / cols.max(1), k % cols.max(1)),
        });
    }
    Ok((
        Mat::from_fn(rows, cols, |i, j| values[i * cols + j]),
        sample,
    ))
}

/// Whether the header of `.npy` bytes may declare a shape of more than
/// `u64::MAX` elements, which `npyz` multiplies out unchecked (a panic, or
/// in a release build a wrapped count). Checked before `npyz` sees the
/// header, on its text: the integer literals there (Python's decimal,
/// `0x`, `0o` and `0b` forms with `_`, as `npyz`'s literal parser reads
/// them: runs of letters, digits and `_` starting with a digit) are
/// multiplied, zeros skipped. The shape's dimensions are among them, so a
/// product within `u64::MAX` bounds every partial product `npyz` forms; a
/// standard header holds no other integers, so the bound is then exact.
fn oversized_shape(bytes: &[u8]) -> Option<String> {
    if !bytes.starts_with(b"\x93NUMPY") {
        return None;
    }
    // Magic (6), version (2), header length (2 bytes in version 1, else 4).
    let (len, start): (usize, usize) = match bytes.get(6)? {
        1 => (
            u16::from_le_bytes(bytes.get(8..10)?.try_into().ok()?) as usize,
            10,
        ),
        _ => (
            u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize,
            12,
        ),
    };
    let text = bytes.get(start..start.saturating_add(len).min(bytes.len()))?;
    let too_large = Some("the header's shape has more than 2^64 − 1 elements".to_owned());
    let mut product: u64 = 1;
    for token in text.split(|c| !(c.is_ascii_alphanumeric() || *c == b'_')) {
        if !token.first().is_some_and(u8::is_ascii_digit) {
            continue;
        }
        match int_literal(token) {
            Ok(Some(0)) | Ok(None) => {}
            Ok(Some(v)) => match product.checked_mul(v) {
                Some(p) => product = p,
                None => return too_large,
            },
            Err(()) => return too_large,
        }
    }
    None
}

/// The value of a Python integer literal: `Ok(None)` if `token` is not one
/// (a float, say), `Err` if it exceeds `u64`.
fn int_literal(token: &[u8]) -> Result<Option<u64>, ()> {
    let (radix, body) = match token {
        [b'0', b'x' | b'X', rest @ ..] => (16, rest),
        [b'0', b'o' | b'O', rest @ ..] => (8, rest),
        [b'0', b'b' | b'B', rest @ ..] => (2, rest),
        _ => (10, token),
    };
    let digits: Option<Vec<u32>> = body
        .iter()
        .filter(|&&c| c != b'_')
        .map(|&c| (c as char).to_digit(radix))
        .collect();
    match digits {
        Some(digits) if !digits.is_empty() => digits
            .iter()
            .try_fold(0u64, |v, &d| {
                v.checked_mul(u64::from(radix))?.checked_add(u64::from(d))
            })
            .map(Some)
            .ok_or(()),
        _ => Ok(None),
    }
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
