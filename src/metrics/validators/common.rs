//! Errors every validator raises.

use super::super::MetricsError;

pub(super) fn too_few(metric: &str, needed: usize, found: usize) -> MetricsError {
    MetricsError::TooFewPoints {
        metric: metric.into(),
        needed,
        found,
    }
}

pub(super) fn undefined(metric: &str, reason: impl Into<String>) -> MetricsError {
    MetricsError::Undefined {
        metric: metric.into(),
        reason: reason.into(),
    }
}
