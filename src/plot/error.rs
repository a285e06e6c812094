//! The error type of the plot stage.

use std::path::PathBuf;

/// Errors from the plot stage.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// There is nothing to draw.
    #[error("nothing to plot: {0}")]
    Empty(String),
    /// Two inputs that must have the same length do not.
    #[error("length mismatch: {what}: expected {expected}, found {found}")]
    LengthMismatch {
        /// Which input is the wrong length.
        what: String,
        /// The length implied by the other inputs.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A coordinate or value is NaN or infinite.
    #[error("{what}: expected finite numbers, found {value} at index {index}")]
    NonFinite {
        /// Which input holds the value.
        what: String,
        /// Position of the value (row for coordinates).
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A class label is not below the number of class names.
    #[error("label {label} at row {index} is out of range: expected a label below {n_classes} (the number of class names)")]
    LabelOutOfRange {
        /// Row of the label.
        index: usize,
        /// The label found.
        label: u32,
        /// Number of class names given.
        n_classes: usize,
    },
    /// A value lies outside its allowed range.
    #[error("{what}: expected a value in {expected}, found {found}")]
    OutOfRange {
        /// Which value.
        what: String,
        /// The allowed range, in words.
        expected: String,
        /// The value found.
        found: f64,
    },
    /// An argument is not usable (e.g. zero grid columns).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The embedded font could not be loaded.
    #[error("font: {0}")]
    Font(String),
    /// The drawing backend reported an error.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// Encoding a PNG or GIF failed.
    #[error("encoding {format} failed: {message}")]
    Encode {
        /// The image format.
        format: &'static str,
        /// The encoder's message.
        message: String,
    },
}

impl From<crate::atomic::FileError> for PlotError {
    fn from(e: crate::atomic::FileError) -> Self {
        PlotError::Io {
            path: e.path,
            source: e.source,
        }
    }
}
