use std::path::Path;

/// A file that cannot be used. Every variant names the file and, where
/// there is one, the tensor or dimension at fault; `Display` is one line.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// The file cannot be read or written.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The operating-system error.
        source: std::io::Error,
    },
    /// The file ends before the data its header declares.
    #[error("{file}: truncated file: {detail}")]
    Truncated {
        /// The file.
        file: String,
        /// What is missing.
        detail: String,
    },
    /// The file is not in the expected format.
    #[error("{file}: not a valid {format} file: {detail}")]
    Format {
        /// The file.
        file: String,
        /// `safetensors`, `npy` or `CSV`.
        format: &'static str,
        /// What is wrong.
        detail: String,
    },
    /// A tensor that is needed is not in the file.
    #[error("{file}: no tensor `{tensor}` (the file has: {available})")]
    MissingTensor {
        /// The file.
        file: String,
        /// The name looked for.
        tensor: String,
        /// The names in the file (the first few).
        available: String,
    },
    /// A tensor's element type cannot be read as a float.
    #[error("{file}: `{tensor}` has dtype {dtype}; supported: {supported}")]
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
    #[error("{file}: `{tensor}` has a non-finite entry {value} at {position}")]
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
    #[error("{file}: `{tensor}`: {detail}")]
    Shape {
        /// The file.
        file: String,
        /// The tensor.
        tensor: String,
        /// Which dimension and what was expected.
        detail: String,
    },
    /// The layers of the file cannot be determined.
    #[error("{file}: {detail}")]
    Layers {
        /// The file.
        file: String,
        /// What is wrong.
        detail: String,
    },
    /// Two files do not fit together (data vs network, labels vs data,
    /// initial vs trained weights).
    #[error("{file}: {detail}")]
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

/// The path as printed in messages.
pub(crate) fn name(path: &Path) -> String {
    path.display().to_string()
}
