//! Errors of the metrics stage.

/// Errors of the metrics stage.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MetricsError {
    /// A NaN or infinite value in an input array.
    #[error(
        "{what}: non-finite value {value} at row {row}, column {col} (expected finite numbers)"
    )]
    NonFinite {
        /// Which array (e.g. "source embedding").
        what: String,
        /// Row index (0-based).
        row: usize,
        /// Column index (0-based).
        col: usize,
        /// The offending value.
        value: f32,
    },
    /// Arrays whose shapes do not fit together.
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// Which array.
        what: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// A class label outside `0..n_classes`.
    #[error("{what}: label {label} at row {row} is outside 0..{n_classes}")]
    Label {
        /// Which array.
        what: String,
        /// Row index.
        row: usize,
        /// The label found.
        label: i64,
        /// Number of classes expected.
        n_classes: usize,
    },
    /// Too few points for a measure.
    #[error("{metric}: needs at least {needed} points, found {found}")]
    TooFewPoints {
        /// The measure.
        metric: String,
        /// Minimum number of points.
        needed: usize,
        /// Number of points given.
        found: usize,
    },
    /// The measure is undefined for this input (e.g. a single class).
    #[error("{metric}: undefined: {reason}")]
    Undefined {
        /// The measure.
        metric: String,
        /// Why it is undefined.
        reason: String,
    },
    /// A hyper-parameter out of range.
    #[error("invalid parameter {name}: expected {expected}, found {found}")]
    Param {
        /// Parameter name.
        name: &'static str,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
    /// An iterative solver did not converge.
    #[error("{metric}: {reason}")]
    NoConvergence {
        /// The measure.
        metric: String,
        /// What happened.
        reason: String,
    },
}

/// Result alias for the metrics stage.
pub type MetricsResult<T> = Result<T, MetricsError>;

impl MetricsError {
    /// For a measure that has no value here (undefined, too few points, no convergence): the reason to
    /// record in its place. Any other error (bad input) stays an error.
    pub fn into_reason(self) -> MetricsResult<String> {
        match self {
            e @ (MetricsError::Undefined { .. }
            | MetricsError::TooFewPoints { .. }
            | MetricsError::NoConvergence { .. }) => Ok(e.to_string()),
            e => Err(e),
        }
    }
}
