//! What the diagnosis parts of a run's report section show, beyond its evaluation: the galleries
//! (confidently wrong target images with their nearest source images, per-class medoids), the
//! comparison with the run's source-only baseline, and the domain discriminator's view. The batch job
//! fills these in ([`crate::pipeline::diagnose`]); the formats only render them.

use std::path::PathBuf;

use crate::metrics::discriminator::DomainSeparation;

/// One image as a gallery shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct GalleryImage {
    /// Path relative to the data root.
    pub path: String,
    /// Domain name.
    pub domain: String,
    /// True class.
    pub class: String,
    /// Predicted class (when the model has logits).
    pub predicted: Option<String>,
    /// Softmax probability of the predicted class.
    pub confidence: Option<f64>,
    /// Euclidean distance in the embedding space to the image it is shown for (neighbours), or the mean
    /// distance to its class (medoids).
    pub distance: Option<f64>,
    /// The thumbnail as a `data:image/jpeg;base64,…` URI (`None`: the image could not be read).
    pub thumbnail: Option<String>,
}

/// A confidently wrong target image and its nearest source images.
#[derive(Debug, Clone, PartialEq)]
pub struct WrongCase {
    /// The target image.
    pub image: GalleryImage,
    /// Its nearest source images, nearest first.
    pub neighbours: Vec<GalleryImage>,
}

/// The most typical source and target image of one class.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassMedoids {
    /// Class name.
    pub class: String,
    /// Source medoid (`None`: no source image of the class).
    pub source: Option<GalleryImage>,
    /// Target medoid.
    pub target: Option<GalleryImage>,
}

/// The galleries of one run's pair.
#[derive(Debug, Clone, PartialEq)]
pub struct Gallery {
    /// Source neighbours per wrong image.
    pub k: usize,
    /// Wrong target images in all.
    pub n_wrong_total: usize,
    /// Target images in all.
    pub n_target: usize,
    /// The most confidently wrong target images.
    pub wrong: Vec<WrongCase>,
    /// Per class, its medoids.
    pub medoids: Vec<ClassMedoids>,
    /// The gallery CSV (paths of every image shown), copied next to the report.
    pub csv: Option<PathBuf>,
}

/// One class's target accuracy under the baseline and the run.
#[derive(Debug, Clone, PartialEq)]
pub struct ClassDelta {
    /// Class name.
    pub class: String,
    /// Target images of the class.
    pub n: usize,
    /// The baseline's accuracy on the class.
    pub baseline: Option<f64>,
    /// The run's accuracy on the class.
    pub run: Option<f64>,
    /// Run − baseline.
    pub delta: Option<f64>,
}

/// A run against its source-only baseline on the same target images (baseline = model A, run = B).
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineComparison {
    /// The baseline's display name.
    pub baseline: String,
    /// The baseline run's identifier in the report, when it is one of the report's runs.
    pub baseline_id: Option<String>,
    /// Target images both models were run on.
    pub n: usize,
    /// The baseline's target accuracy.
    pub accuracy_baseline: f64,
    /// The run's target accuracy.
    pub accuracy_run: f64,
    /// Run − baseline.
    pub difference: f64,
    /// Paired bootstrap interval of the difference (lower, upper).
    pub difference_ci: Option<(f64, f64)>,
    /// Confidence level of the interval.
    pub level: f64,
    /// Images only the baseline gets right.
    pub baseline_only: u64,
    /// Images only the run gets right.
    pub run_only: u64,
    /// McNemar's exact p-value.
    pub p_value: f64,
    /// Per-class target accuracy under both models.
    pub per_class: Vec<ClassDelta>,
    /// Mean kNN Jaccard overlap of the two embedding spaces per domain: name, k, value.
    pub overlap: Vec<(String, usize, Option<f64>)>,
    /// Some of the images the run fixes (baseline wrong, run right).
    pub fixed: Vec<GalleryImage>,
    /// Some of the images the run breaks (baseline right, run wrong).
    pub broken: Vec<GalleryImage>,
    /// The comparison's JSON file (everything, including every fixed and broken image).
    pub json: Option<PathBuf>,
}

/// The discriminator's separation of the run's pair, and per checkpoint when the run has them.
#[derive(Debug, Clone, PartialEq)]
pub struct DiscriminatorView {
    /// Of the run's model.
    pub last: DomainSeparation,
    /// Per checkpoint: epoch and its separation (empty without checkpoints with domain logits).
    pub epochs: Vec<(u32, DomainSeparation)>,
    /// The figure as an SVG document (histograms, and AUROC per epoch when there are checkpoints).
    pub svg: Option<String>,
}

/// The diagnosis parts of one run (each absent when it does not apply).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunDiagnosis {
    /// Galleries.
    pub gallery: Option<Gallery>,
    /// Against the source-only baseline.
    pub baseline: Option<BaselineComparison>,
    /// The discriminator's view.
    pub discriminator: Option<DiscriminatorView>,
    /// Problems that did not stop the run (e.g. a baseline that could not be compared).
    pub notices: Vec<String>,
}
