//! Library error type.
use std::path::PathBuf;

/// Errors returned by the dannscope library.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Input that does not match what was expected.
    #[error("{0}")]
    Invalid(String),
}

/// Result alias for the library.
pub type Result<T, E = Error> = std::result::Result<T, E>;
