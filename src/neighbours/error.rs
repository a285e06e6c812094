//! Errors of the neighbour search.

/// Errors raised by [`crate::neighbours`].
#[derive(Debug, thiserror::Error)]
pub enum NeighbourError {
    /// More neighbours asked for than the reference set can give.
    #[error(
        "{k} neighbours asked for, but the reference set has only {available} candidate points"
    )]
    TooFewPoints {
        /// Neighbours asked for.
        k: usize,
        /// Points available as neighbours (the set's size, minus one for a graph of one set).
        available: usize,
    },
    /// The two sets do not have the same number of columns.
    #[error(
        "query set has {queries} columns, the reference set {reference}; expected the same width"
    )]
    Width {
        /// Columns of the reference set.
        reference: usize,
        /// Columns of the query set.
        queries: usize,
    },
    /// A non-finite value in an input matrix.
    #[error(
        "{what} row {row}, column {col} is not finite (found {value}); expected finite numbers"
    )]
    NonFinite {
        /// Which matrix (reference or query set).
        what: &'static str,
        /// Row of the offending value.
        row: usize,
        /// Column of the offending value.
        col: usize,
        /// The offending value.
        value: f32,
    },
    /// A parameter outside its valid range.
    #[error("invalid neighbour-search parameter {name}: expected {expected}, found {found}")]
    InvalidParam {
        /// Parameter name.
        name: &'static str,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// More points than 32-bit indices can address.
    #[error("{found} points; the neighbour search handles at most {max}")]
    TooManyPoints {
        /// Points found.
        found: usize,
        /// Largest supported size.
        max: usize,
    },
}
