//! Errors of the explore page.

/// Errors of the explore page.
#[derive(Debug, thiserror::Error)]
pub enum ExploreError {
    /// No rows.
    #[error("explore page: no points")]
    Empty,
    /// No class names.
    #[error("explore page: no class names")]
    NoClasses,
    /// An input has the wrong number of rows.
    #[error("explore page: {what} has {got} rows, expected {expected} (one per point)")]
    Rows {
        /// Which input.
        what: &'static str,
        /// Rows of the map.
        expected: usize,
        /// Rows found.
        got: usize,
    },
    /// An input has the wrong number of columns.
    #[error("explore page: {what} has {got} columns, expected {expected}")]
    Columns {
        /// Which input.
        what: &'static str,
        /// Columns expected.
        expected: usize,
        /// Columns found.
        got: usize,
    },
    /// A label is not a class index.
    #[error("explore page: row {row} has label {label}, but there are only {classes} classes")]
    Label {
        /// The row.
        row: usize,
        /// Its label.
        label: u32,
        /// Number of class names.
        classes: usize,
    },
    /// A NaN or infinite value.
    #[error("explore page: {what} is not finite in row {row}")]
    NonFinite {
        /// Which input.
        what: &'static str,
        /// The first such row.
        row: usize,
    },
    /// A parameter out of range.
    #[error("explore page: {0}")]
    Param(String),
    /// An atlas page could not be encoded.
    #[error("explore page: cannot encode thumbnail page {page}: {message}")]
    Encode {
        /// Page number.
        page: usize,
        /// The encoder's message.
        message: String,
    },
    /// The approximate neighbour search failed.
    #[error("explore page: neighbour search: {0}")]
    Neighbours(#[from] crate::neighbours::NeighbourError),
    /// The file could not be written.
    #[error("{path}: {source}")]
    Write {
        /// The page file.
        path: std::path::PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl From<crate::atomic::FileError> for ExploreError {
    fn from(e: crate::atomic::FileError) -> Self {
        ExploreError::Write {
            path: e.path,
            source: e.source,
        }
    }
}
