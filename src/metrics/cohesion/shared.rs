//! Helpers shared by the measure families: the input checks and the centred, stacked rows the
//! distance kernels work on.

use ndarray::ArrayView2;

use crate::metrics::distance::{pooled_mean, prepare, Elem, Prepared};
use crate::metrics::{MetricsError, MetricsResult};

/// The error of a measure that is undefined for this input.
pub(super) fn undefined(metric: &str, reason: impl Into<String>) -> MetricsError {
    MetricsError::Undefined {
        metric: metric.into(),
        reason: reason.into(),
    }
}

/// Source and target embeddings must have the same number of columns.
pub(super) fn check_dims(a: ArrayView2<f32>, b: ArrayView2<f32>) -> MetricsResult<()> {
    if a.ncols() != b.ncols() {
        return Err(MetricsError::Shape {
            what: "target embedding".into(),
            expected: format!("{} columns like the source embedding", a.ncols()),
            found: format!("{} columns", b.ncols()),
        });
    }
    Ok(())
}

/// Prepares the stacked parts centred on their pooled mean.
pub(super) fn prep<T: Elem>(parts: &[ArrayView2<f32>]) -> Prepared<T> {
    let mean = pooled_mean(parts);
    prepare(parts, &mean)
}
