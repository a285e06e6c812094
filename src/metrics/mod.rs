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
mod data;
pub mod discriminator;
pub mod distance;
pub mod domain_classifier;
pub(crate) mod error;
pub mod eval;
pub mod gallery;
pub mod transfer;
pub mod validators;

pub use bootstrap::{percentile, BootstrapInterval};
pub use classification::{
    absent_class_notice, binary_auroc, class_label, classification_report, ClassificationParams,
    ClassificationReport,
};
pub use cohesion::{
    cohesion, domain_knn_purity, information_maximization, knn_transfer_accuracy, mmd2_linear,
    mmd2_rbf, rbf_bandwidth, silhouette_domain, silhouette_joint, silhouette_score,
    silhouette_source, silhouette_target, snd, CohesionMode, CohesionParams, CohesionReport,
    Interval, MetricValue, ScaleParams,
};
pub use data::{check_finite, softmax_f64, DomainData};
pub use distance::Precision;
pub use domain_classifier::{
    proxy_a_distance, proxy_a_distance_on_split, stratified_split, LogisticFit, ProxyADistance,
    ProxyAParams,
};
pub use error::{MetricsError, MetricsResult};
