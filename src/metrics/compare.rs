//! Two models on the same images: paired accuracy difference with a bootstrap interval, McNemar's exact
//! test, per-class accuracy deltas, the images one model fixes or breaks, and how much the two embedding
//! spaces agree on each image's neighbours. Pure computation; see `docs/metrics.md`.

use ndarray::{ArrayView1, ArrayView2};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::bootstrap::{interval, resample_counts, BootstrapInterval};
use super::distance::{knn_indices, pooled_mean, prepare, Elem, Precision};
use super::{check_finite, MetricsError, MetricsResult};

/// Parameters of [`compare_predictions`] and [`knn_jaccard`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CompareParams {
    /// Paired bootstrap resamples of the accuracy difference (0 = no interval). Default 1000.
    pub n_resamples: usize,
    /// Confidence level of the interval. Default 0.95.
    pub level: f64,
    /// Seed of the resamples (resample `b` is fixed by `(seed, b)`, see [`super::bootstrap`]).
    pub seed: u64,
    /// Neighbours per image in [`knn_jaccard`]. Default 10.
    pub k: usize,
    /// Precision of the distance products. Default [`Precision::F32`].
    #[serde(skip)]
    pub precision: Precision,
}

impl Default for CompareParams {
    fn default() -> Self {
        Self {
            n_resamples: 1000,
            level: 0.95,
            seed: 0,
            k: 10,
            precision: Precision::F32,
        }
    }
}

impl CompareParams {
    /// Validates the parameters.
    pub fn check(&self) -> MetricsResult<&Self> {
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(MetricsError::Param {
                name: "level",
                expected: "a confidence level strictly between 0 and 1".into(),
                found: self.level.to_string(),
            });
        }
        if self.k == 0 {
            return Err(MetricsError::Param {
                name: "k",
                expected: "at least 1 neighbour".into(),
                found: "0".into(),
            });
        }
        Ok(self)
    }
}

/// McNemar's exact test on the discordant pairs of two classifiers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McNemar {
    /// Images model A gets right and model B wrong.
    pub a_only: u64,
    /// Images model B gets right and model A wrong.
    pub b_only: u64,
    /// Two-sided exact p-value: `binomtest(a_only, a_only + b_only, 0.5)`; 1 without discordant pairs.
    pub p_value: f64,
}

/// Accuracy of one class under both models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassDelta {
    /// Class index.
    pub class: usize,
    /// Images of the class.
    pub n: usize,
    /// Model A's accuracy (recall) on the class; `None` without images.
    pub accuracy_a: Option<f64>,
    /// Model B's accuracy on the class.
    pub accuracy_b: Option<f64>,
    /// `accuracy_b − accuracy_a`.
    pub delta: Option<f64>,
}

/// Two models' predictions on the same labelled images.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictionComparison {
    /// Images.
    pub n: usize,
    /// Model A's accuracy.
    pub accuracy_a: f64,
    /// Model B's accuracy.
    pub accuracy_b: f64,
    /// `accuracy_b − accuracy_a`.
    pub difference: f64,
    /// Paired percentile bootstrap interval of the difference (images resampled, the same resample for
    /// both models); `None` with 0 resamples.
    pub difference_ci: Option<BootstrapInterval>,
    /// McNemar's exact test.
    pub mcnemar: McNemar,
    /// Per-class accuracies and deltas, in class order.
    pub per_class: Vec<ClassDelta>,
    /// Rows model A gets wrong and model B right (ascending).
    pub fixed: Vec<usize>,
    /// Rows model A gets right and model B wrong (ascending).
    pub broken: Vec<usize>,
}

/// Predicted class per row: the index of the largest logit (ties: lowest index, as numpy's `argmax`).
pub fn predictions(logits: ArrayView2<f32>) -> Vec<usize> {
    logits
        .outer_iter()
        .map(|r| {
            let mut best = 0;
            for (j, &v) in r.iter().enumerate() {
                if v > r[best] {
                    best = j;
                }
            }
            best
        })
        .collect()
}

/// `P(X ≤ k)` for `X ~ Binomial(n, ½)`, summed in log space (no underflow of the terms before the end).
pub fn binom_cdf_half(k: u64, n: u64) -> f64 {
    if k >= n {
        return 1.0;
    }
    // ln C(n, j) by the recurrence C(n, j+1) = C(n, j)·(n−j)/(j+1)
    let mut ln_c = 0.0f64;
    let mut terms = Vec::with_capacity(k as usize + 1);
    for j in 0..=k {
        if j > 0 {
            ln_c += ((n - j + 1) as f64).ln() - (j as f64).ln();
        }
        terms.push(ln_c);
    }
    let max = terms.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let sum: f64 = terms.iter().map(|t| (t - max).exp()).sum();
    (max + sum.ln() - n as f64 * std::f64::consts::LN_2).exp()
}

/// Two-sided exact McNemar p-value of `b` against `c` discordant pairs: the two-sided binomial test of
/// `b` successes in `b + c` trials at ½, `min(1, 2·P(X ≤ min(b, c)))` — what scipy's
/// `binomtest(b, b + c, 0.5).pvalue` gives (its likelihood rule reduces to this for p = ½). Without
/// discordant pairs the p-value is 1 (as statsmodels' exact `mcnemar`).
pub fn mcnemar_exact(b: u64, c: u64) -> f64 {
    let n = b + c;
    if n == 0 || b == c {
        return 1.0;
    }
    (2.0 * binom_cdf_half(b.min(c), n)).min(1.0)
}

/// Compare the predictions `pred_a` and `pred_b` of two models on the same images with true `labels`
/// (`n_classes` classes).
pub fn compare_predictions(
    labels: ArrayView1<i64>,
    pred_a: &[usize],
    pred_b: &[usize],
    n_classes: usize,
    params: &CompareParams,
) -> MetricsResult<PredictionComparison> {
    params.check()?;
    let n = labels.len();
    for (what, p) in [
        ("model A predictions", pred_a),
        ("model B predictions", pred_b),
    ] {
        if p.len() != n {
            return Err(MetricsError::Shape {
                what: what.into(),
                expected: format!("{n} predictions (one per label)"),
                found: p.len().to_string(),
            });
        }
    }
    if n == 0 {
        return Err(MetricsError::TooFewPoints {
            metric: "model comparison".into(),
            needed: 1,
            found: 0,
        });
    }
    let mut y = Vec::with_capacity(n);
    for (row, &l) in labels.iter().enumerate() {
        match usize::try_from(l) {
            Ok(v) if v < n_classes => y.push(v),
            _ => {
                return Err(MetricsError::Label {
                    what: "labels".into(),
                    row,
                    label: l,
                    n_classes,
                })
            }
        }
    }
    let ok_a: Vec<bool> = pred_a.iter().zip(&y).map(|(p, y)| p == y).collect();
    let ok_b: Vec<bool> = pred_b.iter().zip(&y).map(|(p, y)| p == y).collect();
    let count = |v: &[bool]| v.iter().filter(|&&x| x).count();
    let acc = |v: &[bool]| count(v) as f64 / n as f64;
    let (accuracy_a, accuracy_b) = (acc(&ok_a), acc(&ok_b));
    let fixed: Vec<usize> = (0..n).filter(|&i| !ok_a[i] && ok_b[i]).collect();
    let broken: Vec<usize> = (0..n).filter(|&i| ok_a[i] && !ok_b[i]).collect();
    // per-row difference in {−1, 0, 1}; each resample's mean is a sum of integers over n
    let diff: Vec<i64> = ok_a
        .iter()
        .zip(&ok_b)
        .map(|(&a, &b)| i64::from(b) - i64::from(a))
        .collect();
    let stats: Vec<Option<f64>> = (0..params.n_resamples as u64)
        .into_par_iter()
        .map(|b| {
            let counts = resample_counts(n, params.seed, b);
            let s: i64 = counts
                .iter()
                .zip(&diff)
                .map(|(&c, &d)| i64::from(c) * d)
                .sum();
            Some(s as f64 / n as f64)
        })
        .collect();
    let difference_ci = if params.n_resamples > 0 {
        interval(&stats, params.level)
    } else {
        None
    };
    let mut per_class = Vec::with_capacity(n_classes);
    for c in 0..n_classes {
        let rows: Vec<usize> = (0..n).filter(|&i| y[i] == c).collect();
        let m = rows.len();
        let a = (m > 0).then(|| rows.iter().filter(|&&i| ok_a[i]).count() as f64 / m as f64);
        let b = (m > 0).then(|| rows.iter().filter(|&&i| ok_b[i]).count() as f64 / m as f64);
        per_class.push(ClassDelta {
            class: c,
            n: m,
            accuracy_a: a,
            accuracy_b: b,
            delta: a.zip(b).map(|(a, b)| b - a),
        });
    }
    let (a_only, b_only) = (broken.len() as u64, fixed.len() as u64);
    Ok(PredictionComparison {
        n,
        accuracy_a,
        accuracy_b,
        difference: accuracy_b - accuracy_a,
        difference_ci,
        mcnemar: McNemar {
            a_only,
            b_only,
            p_value: mcnemar_exact(a_only, b_only),
        },
        per_class,
        fixed,
        broken,
    })
}

fn self_knn<T: Elem>(x: ArrayView2<f32>, k: usize) -> Vec<Vec<usize>> {
    let mean = pooled_mean(&[x]);
    let p = prepare::<T>(&[x], &mean);
    knn_indices(&p, &p, k, true)
}

/// Per row, the Jaccard overlap `|N_A ∩ N_B| / |N_A ∪ N_B|` of its `k` nearest other rows in embedding
/// `a` and in embedding `b` (the same images, row for row, in two models' spaces; Euclidean, equal
/// distances ordered by row index). `k` is reduced to `n − 1` when there are fewer rows.
pub fn knn_jaccard_rows(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    k: usize,
    precision: Precision,
) -> MetricsResult<Vec<f64>> {
    if a.nrows() != b.nrows() {
        return Err(MetricsError::Shape {
            what: "model B embedding".into(),
            expected: format!("{} rows like model A's", a.nrows()),
            found: format!("{} rows", b.nrows()),
        });
    }
    let n = a.nrows();
    if n < 2 || k == 0 {
        return Err(MetricsError::TooFewPoints {
            metric: "kNN Jaccard overlap".into(),
            needed: 2,
            found: n,
        });
    }
    check_finite(a, "model A embedding")?;
    check_finite(b, "model B embedding")?;
    let k = k.min(n - 1);
    let (na, nb) = match precision {
        Precision::F32 => (self_knn::<f32>(a, k), self_knn::<f32>(b, k)),
        Precision::F64 => (self_knn::<f64>(a, k), self_knn::<f64>(b, k)),
    };
    Ok(na
        .iter()
        .zip(&nb)
        .map(|(x, y)| {
            let common = x.iter().filter(|i| y.contains(i)).count();
            common as f64 / (2 * k - common) as f64
        })
        .collect())
}

/// Mean over rows of [`knn_jaccard_rows`]: 1 when both spaces give every image the same neighbours.
pub fn knn_jaccard(
    a: ArrayView2<f32>,
    b: ArrayView2<f32>,
    k: usize,
    precision: Precision,
) -> MetricsResult<f64> {
    let rows = knn_jaccard_rows(a, b, k, precision)?;
    Ok(rows.iter().sum::<f64>() / rows.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn mcnemar_small_cases_by_hand() {
        // b = 0, c = 3: 2 · (1/8)
        assert!((mcnemar_exact(0, 3) - 0.25).abs() < 1e-15);
        assert!((mcnemar_exact(3, 0) - 0.25).abs() < 1e-15);
        assert_eq!(mcnemar_exact(2, 2), 1.0);
        assert_eq!(mcnemar_exact(0, 0), 1.0);
        // b = 1, c = 4: 2 · (1 + 5)/32
        assert!((mcnemar_exact(1, 4) - 0.375).abs() < 1e-15);
    }

    #[test]
    fn fixed_broken_and_deltas() {
        let y = array![0i64, 0, 1, 1];
        let a = [0, 1, 1, 0];
        let b = [0, 0, 0, 0];
        let r = compare_predictions(y.view(), &a, &b, 2, &CompareParams::default()).unwrap();
        assert_eq!(r.fixed, vec![1]);
        assert_eq!(r.broken, vec![2]);
        assert_eq!((r.accuracy_a, r.accuracy_b, r.difference), (0.5, 0.5, 0.0));
        assert_eq!(r.per_class[0].delta, Some(0.5));
        assert_eq!(r.per_class[1].delta, Some(-0.5));
        assert_eq!(r.mcnemar.p_value, 1.0);
        let ci = r.difference_ci.unwrap();
        assert!(ci.lower <= 0.0 && 0.0 <= ci.upper && ci.used == 1000);
    }

    #[test]
    fn identical_spaces_overlap_fully() {
        let x = array![
            [0.0f32, 0.0],
            [1.0, 0.0],
            [0.0, 2.0],
            [3.0, 3.0],
            [5.0, 1.0]
        ];
        assert_eq!(
            knn_jaccard(x.view(), x.view(), 2, Precision::F32).unwrap(),
            1.0
        );
        // a scaled copy has the same neighbours
        let y = x.mapv(|v| 3.0 * v);
        assert_eq!(
            knn_jaccard(x.view(), y.view(), 3, Precision::F64).unwrap(),
            1.0
        );
    }
}
