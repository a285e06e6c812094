//! Classification quality of one domain: accuracy, macro one-vs-rest AUROC, per-class figures, confusion
//! matrix and percentile bootstrap intervals.

use super::bootstrap::{interval, resample_counts, BootstrapInterval};
use super::{check_finite, softmax_f64, MetricsError, MetricsResult};
use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::Serialize;

/// Hyper-parameters of [`classification_report`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassificationParams {
    /// Bootstrap resamples (0 disables the intervals). Default 1000.
    pub n_resamples: usize,
    /// Confidence level of the intervals, in (0, 1). Default 0.95.
    pub level: f64,
    /// Seed of the resampling generator. Default 0.
    pub seed: u64,
    /// Class names in label order, to name classes in notices (empty: classes go by index).
    #[serde(skip)]
    pub class_names: Vec<String>,
}

impl Default for ClassificationParams {
    fn default() -> Self {
        Self {
            n_resamples: 1000,
            level: 0.95,
            seed: 0,
            class_names: Vec::new(),
        }
    }
}

impl ClassificationParams {
    /// Sets the class names used in notices.
    pub fn class_names(mut self, names: &[String]) -> Self {
        self.class_names = names.to_vec();
        self
    }

    /// Sets the number of bootstrap resamples.
    pub fn n_resamples(mut self, n: usize) -> Self {
        self.n_resamples = n;
        self
    }
    /// Sets the confidence level.
    pub fn level(mut self, level: f64) -> Self {
        self.level = level;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Validates the parameters.
    pub fn check(&self) -> MetricsResult<&Self> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(MetricsError::Param {
                name: "level",
                expected: "a confidence level strictly between 0 and 1".into(),
                found: self.level.to_string(),
            });
        }
        Ok(self)
    }
}

/// How notices name class `c`: `"name"` when `names` has it, else its index.
pub fn class_label(names: &[String], c: usize) -> String {
    names
        .get(c)
        .map(|n| format!("\"{n}\""))
        .unwrap_or_else(|| c.to_string())
}

/// The notice for a class without points in a domain (`label` from [`class_label`]).
pub fn absent_class_notice(label: &str) -> String {
    format!("class {label} has no points in this domain: left out of the macro AUROC")
}

/// Figures for one class.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ClassStats {
    /// Class index.
    pub class: usize,
    /// Number of points whose true label is this class.
    pub support: usize,
    /// Share of this class's points predicted as this class (recall); `None` when the class is absent.
    pub accuracy: Option<f64>,
    /// One-vs-rest AUROC of this class's softmax probability; `None` without positives or negatives.
    pub auroc: Option<f64>,
}

/// Classification quality of one domain.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct ClassificationReport {
    /// Number of points.
    pub n: usize,
    /// Number of classes (logit columns).
    pub n_classes: usize,
    /// Share of points whose argmax logit (lowest index on ties) equals the label.
    pub accuracy: f64,
    /// Bootstrap interval of the accuracy.
    pub accuracy_ci: Option<BootstrapInterval>,
    /// Macro mean of the one-vs-rest AUROCs over the classes in `auroc_classes`.
    pub auroc: Option<f64>,
    /// Bootstrap interval of the macro AUROC.
    pub auroc_ci: Option<BootstrapInterval>,
    /// Classes whose one-vs-rest AUROC is defined (both positives and negatives present).
    pub auroc_classes: Vec<usize>,
    /// Per-class figures, in class order.
    pub per_class: Vec<ClassStats>,
    /// Confusion matrix `[true][predicted]`.
    pub confusion: Vec<Vec<u64>>,
    /// Notices (e.g. classes left out of the macro AUROC).
    pub notices: Vec<String>,
}

/// Binary AUROC of `scores` for `positive` labels, ties counted as one half (the area under the
/// trapezoidal ROC curve, equal to scikit-learn's `roc_auc_score`). `None` without positives or negatives.
pub fn binary_auroc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    Ranked::new(scores, |i| positive[i]).auc(None)
}

/// Points sorted by ascending score, ready for repeated weighted AUROCs: the sorted indices, and per
/// position whether the point is positive and whether it closes a run of tied scores. A bootstrap
/// resample then reads its weights in this order in one sequential pass, touching neither the scores
/// nor the labels again.
struct Ranked {
    order: Vec<u32>,
    flags: Vec<u8>,
}

const POSITIVE: u8 = 1;
const RUN_END: u8 = 2;

impl Ranked {
    fn new(scores: &[f64], is_pos: impl Fn(usize) -> bool) -> Self {
        let n = scores.len();
        // indices fit u32, and 2·n² (the largest count) fits u64
        assert!(n < 1 << 31, "2^31 or more points in one domain");
        let mut order: Vec<u32> = (0..n as u32).collect();
        order.sort_by(|&a, &b| scores[a as usize].total_cmp(&scores[b as usize]));
        let flags = (0..n)
            .map(|k| {
                let i = order[k] as usize;
                let end = k + 1 == n || scores[order[k + 1] as usize] != scores[i];
                u8::from(is_pos(i)) * POSITIVE + u8::from(end) * RUN_END
            })
            .collect();
        Self { order, flags }
    }

    /// AUROC with integer point weights (`None`: every weight 1); `None` without positive or negative
    /// weight.
    fn auc(&self, w: Option<&[u32]>) -> Option<f64> {
        // Mann–Whitney count: each (negative below, positive) pair scores 2, each tied pair scores 1.
        let (mut acc, mut neg_below, mut pos_total) = (0u128, 0u64, 0u64);
        let (mut gp, mut gn) = (0u64, 0u64);
        for (&i, &f) in self.order.iter().zip(&self.flags) {
            let wi = w.map_or(1, |w| u64::from(w[i as usize]));
            if f & POSITIVE != 0 {
                gp += wi;
            } else {
                gn += wi;
            }
            if f & RUN_END != 0 {
                acc += u128::from(2 * neg_below * gp + gp * gn);
                neg_below += gn;
                pos_total += gp;
                gp = 0;
                gn = 0;
            }
        }
        if pos_total == 0 || neg_below == 0 {
            return None;
        }
        Some(acc as f64 / (2.0 * pos_total as f64 * neg_below as f64))
    }
}

/// Argmax with the lowest index on ties (as numpy's `argmax`).
fn argmax(row: ArrayView1<f32>) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// Scores one domain from its logits `[N, C]` and labels `[N]`.
///
/// Errors on an empty domain, a shape mismatch, non-finite logits or labels outside `0..n_classes`.
/// Classes without positives (absent) or without negatives get no one-vs-rest AUROC and are left out of
/// the macro mean with a notice (scikit-learn raises instead). Bootstrap resamples in which one of the
/// scored classes loses all positives or all negatives are skipped for the AUROC interval; the number
/// used is recorded.
pub fn classification_report(
    logits: ArrayView2<f32>,
    labels: ArrayView1<i64>,
    n_classes: usize,
    params: &ClassificationParams,
) -> MetricsResult<ClassificationReport> {
    params.check()?;
    let n = logits.nrows();
    if n == 0 {
        return Err(MetricsError::TooFewPoints {
            metric: "classification".into(),
            needed: 1,
            found: 0,
        });
    }
    if logits.ncols() != n_classes {
        return Err(MetricsError::Shape {
            what: "logits".into(),
            expected: format!("{n_classes} columns (one per class)"),
            found: format!("{} columns", logits.ncols()),
        });
    }
    if labels.len() != n {
        return Err(MetricsError::Shape {
            what: "labels".into(),
            expected: format!("{n} labels (one per logit row)"),
            found: labels.len().to_string(),
        });
    }
    check_finite(logits, "logits")?;
    let mut y = Vec::with_capacity(n);
    for (row, &l) in labels.iter().enumerate() {
        if l < 0 || l as u64 >= n_classes as u64 {
            return Err(MetricsError::Label {
                what: "labels".into(),
                row,
                label: l,
                n_classes,
            });
        }
        y.push(l as usize);
    }
    let pred: Vec<usize> = logits.outer_iter().map(argmax).collect();
    let correct: Vec<bool> = pred.iter().zip(&y).map(|(p, t)| p == t).collect();
    let mut confusion = vec![vec![0u64; n_classes]; n_classes];
    for (&t, &p) in y.iter().zip(&pred) {
        confusion[t][p] += 1;
    }
    let accuracy = correct.iter().filter(|&&c| c).count() as f64 / n as f64;

    let prob = softmax_f64(logits);
    let columns: Vec<Vec<f64>> = (0..n_classes).map(|c| prob.column(c).to_vec()).collect();
    let ranked: Vec<Ranked> = columns
        .par_iter()
        .enumerate()
        .map(|(c, col)| Ranked::new(col, |i| y[i] == c))
        .collect();
    drop(columns);
    let class_auc = |c: usize, w: Option<&[u32]>| ranked[c].auc(w);

    let mut notices = Vec::new();
    let mut per_class = Vec::with_capacity(n_classes);
    let mut auroc_classes = Vec::new();
    for (c, conf_row) in confusion.iter().enumerate() {
        let support = conf_row.iter().sum::<u64>() as usize;
        let auroc = class_auc(c, None);
        if auroc.is_some() {
            auroc_classes.push(c);
        } else if support == 0 {
            notices.push(absent_class_notice(&class_label(&params.class_names, c)));
        } else {
            notices.push(format!(
                "class {} holds every point of this domain (no negatives): left out of the macro AUROC",
                class_label(&params.class_names, c)
            ));
        }
        per_class.push(ClassStats {
            class: c,
            support,
            accuracy: (support > 0).then(|| conf_row[c] as f64 / support as f64),
            auroc,
        });
    }
    let macro_of = |aucs: &[Option<f64>]| -> Option<f64> {
        let mut s = 0.0;
        for a in aucs {
            s += (*a)?;
        }
        Some(s / aucs.len() as f64)
    };
    let auroc = if auroc_classes.is_empty() {
        notices.push("no class has both positives and negatives: macro AUROC undefined".into());
        None
    } else {
        let v: Vec<Option<f64>> = auroc_classes.iter().map(|&c| per_class[c].auroc).collect();
        macro_of(&v)
    };

    let (mut accuracy_ci, mut auroc_ci) = (None, None);
    if params.n_resamples > 0 {
        let stats: Vec<(f64, Option<f64>)> = (0..params.n_resamples as u64)
            .into_par_iter()
            .map(|b| {
                let w = resample_counts(n, params.seed, b);
                let hits: u64 = w
                    .iter()
                    .zip(&correct)
                    .filter(|(_, &c)| c)
                    .map(|(&k, _)| u64::from(k))
                    .sum();
                let acc = hits as f64 / n as f64;
                let auc = if auroc_classes.is_empty() {
                    None
                } else {
                    let v: Vec<Option<f64>> = auroc_classes
                        .iter()
                        .map(|&c| class_auc(c, Some(&w)))
                        .collect();
                    macro_of(&v)
                };
                (acc, auc)
            })
            .collect();
        let accs: Vec<Option<f64>> = stats.iter().map(|s| Some(s.0)).collect();
        let aucs: Vec<Option<f64>> = stats.iter().map(|s| s.1).collect();
        accuracy_ci = interval(&accs, params.level);
        auroc_ci = interval(&aucs, params.level);
        if let Some(ci) = &auroc_ci {
            if ci.used < ci.resamples {
                notices.push(format!(
                    "{} of {} bootstrap resamples had an undefined AUROC and were skipped",
                    ci.resamples - ci.used,
                    ci.resamples
                ));
            }
        }
    }

    Ok(ClassificationReport {
        n,
        n_classes,
        accuracy,
        accuracy_ci,
        auroc,
        auroc_ci,
        auroc_classes,
        per_class,
        confusion,
        notices,
    })
}
