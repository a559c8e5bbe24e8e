//! Why a unit of work could not produce (part of) its measurement.

use serde::{Deserialize, Serialize};

/// The one-line reason a run, a metric or a conclusion step of a unit
/// failed, as its claim rows print it. Any error converts into it with
/// `?`; it is stored in the unit's measurement as its text (JSON string),
/// so that measurements survive a trip through a unit record.
///
/// Like `anyhow::Error`, it does not implement [`std::error::Error`]
/// itself, which is what lets every error type convert into it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct UnitError(String);

impl UnitError {
    /// An error of the unit's own (a condition it checks), with `message`.
    pub fn new(message: impl Into<String>) -> Self {
        Self(message.into())
    }
}

impl std::fmt::Display for UnitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl<E: std::error::Error> From<E> for UnitError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

impl From<UnitError> for String {
    fn from(e: UnitError) -> Self {
        e.0
    }
}

impl From<&UnitError> for String {
    fn from(e: &UnitError) -> Self {
        e.0.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error's text is all there is to it, in JSON as well.
    #[test]
    fn a_unit_error_is_its_text_in_json() {
        let e: UnitError = std::fmt::Error.into();
        assert_eq!(e.to_string(), std::fmt::Error.to_string());
        let json = serde_json::to_string(&Err::<(), _>(UnitError::new("no checkpoints"))).unwrap();
        assert_eq!(json, r#"{"Err":"no checkpoints"}"#);
        let back: Result<(), UnitError> = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Err(UnitError::new("no checkpoints")));
    }
}
