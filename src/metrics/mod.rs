//! Metrics stage: classification quality per domain and cohesion/alignment measures per
//! source→target pair.
//!
//! Everything here works on plain `ndarray` views:
//! - per domain an embedding `[N, D]` (`f32`), optional logits `[N, C]` (`f32`) and class labels `[N]`
//!   (`i64`, index into the model's logit order);
//! - [`classification::classification_report`] scores one domain (accuracy, macro one-vs-rest AUROC,
//!   per-class figures, confusion matrix, percentile bootstrap intervals);
//! - [`cohesion::cohesion`] scores a source/target pair (silhouettes, proxy A-distance, MMD², kNN transfer
//!   accuracy, information maximisation, soft neighbourhood density, domain kNN purity).
//!
//! Quadratic measures run over tiles of rows with matrix products (`‖x‖² + ‖y‖² − 2x·y`) in parallel and
//! never hold an `N × N` matrix; each point's sums are accumulated in a fixed order, so results do not
//! depend on the number of threads. See `docs/metrics.md` for formulas and sources.

pub mod bootstrap;
pub mod classification;
pub mod cohesion;
pub mod compare;
pub mod distance;
pub mod domain_classifier;
pub mod eval;
pub mod transfer;
pub mod validators;

pub use bootstrap::{percentile, BootstrapInterval};
pub use classification::{
    binary_auroc, classification_report, ClassificationParams, ClassificationReport,
};
pub use cohesion::{
    cohesion, domain_knn_purity, information_maximization, knn_transfer_accuracy, mmd2_linear,
    mmd2_rbf, rbf_bandwidth, silhouette_domain, silhouette_joint, silhouette_score,
    silhouette_source, silhouette_target, snd, CohesionMode, CohesionParams, CohesionReport,
    Interval, MetricValue, ScaleParams,
};
pub use distance::Precision;
pub use domain_classifier::{
    proxy_a_distance, proxy_a_distance_on_split, stratified_split, LogisticFit, ProxyADistance,
    ProxyAParams,
};

use ndarray::{ArrayView1, ArrayView2};

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

/// One domain's arrays, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct DomainData<'a> {
    /// Embedding `[N, D]`.
    pub embedding: ArrayView2<'a, f32>,
    /// Logits `[N, C]`, if the model has a classification head.
    pub logits: Option<ArrayView2<'a, f32>>,
    /// Class labels `[N]` (index into the logit order).
    pub labels: ArrayView1<'a, i64>,
}

impl<'a> DomainData<'a> {
    /// Bundles borrowed arrays; call [`DomainData::validate`] to check them.
    pub fn new(
        embedding: ArrayView2<'a, f32>,
        logits: Option<ArrayView2<'a, f32>>,
        labels: ArrayView1<'a, i64>,
    ) -> Self {
        Self {
            embedding,
            logits,
            labels,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.embedding.nrows()
    }

    /// Whether the domain holds no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks shapes (rows agree), finiteness of embedding and logits, and that labels are non-negative.
    /// `name` prefixes error messages (e.g. "source").
    pub fn validate(&self, name: &str) -> MetricsResult<()> {
        let n = self.embedding.nrows();
        if self.labels.len() != n {
            return Err(MetricsError::Shape {
                what: format!("{name} labels"),
                expected: format!("{n} labels (one per embedding row)"),
                found: format!("{}", self.labels.len()),
            });
        }
        check_finite(self.embedding, &format!("{name} embedding"))?;
        if let Some(l) = self.logits {
            if l.nrows() != n {
                return Err(MetricsError::Shape {
                    what: format!("{name} logits"),
                    expected: format!("{n} rows (one per embedding row)"),
                    found: format!("{} rows", l.nrows()),
                });
            }
            check_finite(l, &format!("{name} logits"))?;
        }
        if let Some((row, &label)) = self.labels.iter().enumerate().find(|(_, &v)| v < 0) {
            return Err(MetricsError::Shape {
                what: format!("{name} labels"),
                expected: "non-negative class labels".into(),
                found: format!("{label} at row {row}"),
            });
        }
        Ok(())
    }
}

/// Returns an error naming the first row/column holding a NaN or infinity.
pub fn check_finite(a: ArrayView2<f32>, what: &str) -> MetricsResult<()> {
    for (row, r) in a.outer_iter().enumerate() {
        if let Some((col, &value)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(MetricsError::NonFinite {
                what: what.to_string(),
                row,
                col,
                value,
            });
        }
    }
    Ok(())
}

/// Row-wise softmax in `f64` (max-subtracted, so large logits do not overflow).
pub fn softmax_f64(logits: ArrayView2<f32>) -> ndarray::Array2<f64> {
    let mut out = ndarray::Array2::<f64>::zeros(logits.raw_dim());
    for (src, mut dst) in logits.outer_iter().zip(out.outer_iter_mut()) {
        let m = src
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
        let mut z = 0.0;
        for (d, &s) in dst.iter_mut().zip(src.iter()) {
            *d = (f64::from(s) - m).exp();
            z += *d;
        }
        dst.mapv_inplace(|v| v / z);
    }
    out
}
