//! Errors of settings values that are parsed from text.

/// A pair that is not `SOURCE-TARGET`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pair {given:?}: {reason}; expected SOURCE-TARGET, e.g. R-P")]
pub struct PairError {
    /// What was given.
    pub given: String,
    /// What is wrong.
    pub reason: &'static str,
}
