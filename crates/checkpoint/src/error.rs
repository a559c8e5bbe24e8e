use std::borrow::Cow;
use std::path::Path;

/// A file that cannot be used. Every variant names the file and, where
/// there is one, the tensor or dimension at fault; `Display` is one line
/// (control characters in the fields, e.g. a line break in a tensor name
/// read from the file, are shown escaped: `\n`).
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file cannot be read or written.
    #[error("{}: {}", esc(.file), esc(&.source.to_string()))]
    Io {
        /// The file.
        file: String,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file ends before the data its header declares.
    #[error("{}: truncated file: {}", esc(.file), esc(.detail))]
    Truncated {
        /// The file.
        file: String,
        /// What is missing.
        detail: String,
    },
    /// The file is not in the expected format.
    #[error("{}: not a valid {format} file: {}", esc(.file), esc(.detail))]
    Format {
        /// The file.
        file: String,
        /// `safetensors`, `npy` or `CSV`.
        format: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A tensor that is needed is not in the file.
    #[error("{}: no tensor `{}` (the file has: {})", esc(.file), esc(.tensor), esc(.available))]
    MissingTensor {
        /// The file.
        file: String,
        /// The name looked for.
        tensor: String,
        /// The names in the file (the first few).
        available: String,
    },
    /// A tensor's element type cannot be read as a float.
    #[error("{}: `{}` has dtype {}; supported: {supported}", esc(.file), esc(.tensor), esc(.dtype))]
    UnsupportedDtype {
        /// The file.
        file: String,
        /// The tensor (for `.npy`, the array).
        tensor: String,
        /// Its dtype as the file spells it.
        dtype: String,
        /// The dtypes that are accepted.
        supported: &'static str,
    },
    /// A tensor holds NaN or ±∞.
    #[error("{}: `{}` has a non-finite entry {value} at {}", esc(.file), esc(.tensor), esc(.position))]
    NonFinite {
        /// The file.
        file: String,
        /// The tensor.
        tensor: String,
        /// The offending value.
        value: f64,
        /// Its position, e.g. `[3, 7]` or `line 4, column 2`.
        position: String,
    },
    /// A tensor's shape does not fit its role or its neighbours.
    #[error("{}: `{}`: {}", esc(.file), esc(.tensor), esc(.detail))]
    Shape {
        /// The file.
        file: String,
        /// The tensor.
        tensor: String,
        /// Which dimension and what was expected.
        detail: String,
    },
    /// The layers of the file cannot be determined.
    #[error("{}: {}", esc(.file), esc(.detail))]
    Layers {
        /// The file.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// Two files do not fit together (data vs network, labels vs data,
    /// initial vs trained weights).
    #[error("{}: {}", esc(.file), esc(.detail))]
    Mismatch {
        /// The file at fault.
        file: String,
        /// The dimension, its value and what the other file requires.
        detail: String,
    },
}

impl CheckpointError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        CheckpointError::Io {
            file: path.display().to_string(),
            source,
        }
    }
}

/// `s` with its control characters escaped (`\n`, `\r`, `\t`, `\u{1b}`),
/// so that text from a file cannot break a message into lines.
fn esc(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| {
                    if c.is_control() {
                        c.escape_default().to_string()
                    } else {
                        c.to_string()
                    }
                })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// A library's message as one line: its lines joined and runs of
/// whitespace collapsed (e.g. a parser's multi-line report with a caret
/// under the offending character).
pub(crate) fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The path as printed in messages.
pub(crate) fn name(path: &Path) -> String {
    path.display().to_string()
}
