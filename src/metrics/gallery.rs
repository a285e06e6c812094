//! Which images to show in a pair's galleries: the most confidently wrong target images, each with its
//! `k` nearest source images, and the most typical image (medoid) of every class in each domain.
//!
//! - Confidently wrong: target rows whose arg-max logit is not their label, ordered by the softmax
//!   probability of the predicted class, highest first (ties: lower row first). Their neighbours are the
//!   `k` nearest *source* rows by Euclidean distance in the embedding space (ties: lower row first); the
//!   distances are recomputed exactly in `f64` from the stored values.
//! - Medoid of class `c` in a domain: the row of class `c` whose summed Euclidean distance to the other
//!   rows of class `c` in that domain is smallest (ties: lower row first), with that mean distance.
//!
//! Pure computation; the pipeline turns rows into paths and thumbnails. Checked against numpy in
//! `tests/diagnose_fixtures.rs` (fixtures by `scripts/diagnose_fixtures.py`).

use ndarray::{ArrayView1, ArrayView2, Axis};
use serde::{Deserialize, Serialize};

use super::distance::{knn_indices, pooled_mean, prepare, row_sums, Elem, Precision};
use crate::neighbours::dist2_f64;

use super::{softmax_f64, DomainData, MetricsError, MetricsResult};

/// Parameters of [`gallery`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryParams {
    /// Confidently wrong target images to keep. Default 8.
    pub n_wrong: usize,
    /// Source neighbours shown per wrong image. Default 5 (fewer when the source is smaller).
    pub k: usize,
    /// Precision of the distance products that pick neighbours and medoids. Default [`Precision::F32`].
    #[serde(skip)]
    pub precision: Precision,
}

impl Default for GalleryParams {
    fn default() -> Self {
        Self {
            n_wrong: 8,
            k: 5,
            precision: Precision::F32,
        }
    }
}

impl GalleryParams {
    /// Validates the parameters.
    pub fn check(&self) -> MetricsResult<&Self> {
        if self.k == 0 {
            return Err(MetricsError::Param {
                name: "gallery k",
                expected: "at least 1 neighbour".into(),
                found: "0".into(),
            });
        }
        Ok(self)
    }
}

/// One source neighbour of a wrong target image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbour {
    /// Source row.
    pub row: usize,
    /// Its class.
    pub label: usize,
    /// Euclidean distance in the embedding space.
    pub distance: f64,
}

/// A target image the model gets wrong with high confidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WrongImage {
    /// Target row.
    pub row: usize,
    /// True class.
    pub label: usize,
    /// Predicted class (arg-max logit, lowest index on ties).
    pub predicted: usize,
    /// Softmax probability of the predicted class.
    pub confidence: f64,
    /// Its nearest source images, nearest first.
    pub neighbours: Vec<Neighbour>,
}

/// The most typical image of one class in one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Medoid {
    /// Class index.
    pub class: usize,
    /// The medoid's row.
    pub row: usize,
    /// Images of the class in the domain.
    pub n: usize,
    /// Mean Euclidean distance from the medoid to the other images of its class (0 for one image).
    pub mean_distance: f64,
}

/// The gallery picks of one pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GalleryReport {
    /// Neighbours per wrong image (the requested `k`, capped by the source size).
    pub k: usize,
    /// Wrong target images in all (before keeping the `n_wrong` most confident).
    pub n_wrong_total: usize,
    /// The most confidently wrong target images, most confident first (empty without logits).
    pub wrong: Vec<WrongImage>,
    /// Per class, the source medoid (`None`: no source image of the class).
    pub source_medoids: Vec<Option<Medoid>>,
    /// Per class, the target medoid.
    pub target_medoids: Vec<Option<Medoid>>,
}

/// Per row: the arg-max class (lowest index on ties) and its softmax probability.
pub fn predicted(logits: ArrayView2<f32>) -> Vec<(usize, f64)> {
    let p = softmax_f64(logits);
    p.outer_iter()
        .map(|row| {
            let mut best = 0;
            for (j, &v) in row.iter().enumerate() {
                if v > row[best] {
                    best = j;
                }
            }
            (best, row[best])
        })
        .collect()
}

fn labels_of(labels: ArrayView1<i64>, n_classes: usize, what: &str) -> MetricsResult<Vec<usize>> {
    labels
        .iter()
        .enumerate()
        .map(|(row, &l)| {
            if l < 0 || l as usize >= n_classes {
                Err(MetricsError::Label {
                    what: what.to_string(),
                    row,
                    label: l,
                    n_classes,
                })
            } else {
                Ok(l as usize)
            }
        })
        .collect()
}

fn nearest<'a, T: Elem>(
    source: ArrayView2<'a, f32>,
    queries: ArrayView2<'a, f32>,
    k: usize,
) -> Vec<Vec<usize>> {
    let mean = pooled_mean(&[source, queries]);
    let s = prepare::<T>(&[source], &mean);
    let q = prepare::<T>(&[queries], &mean);
    knn_indices(&q, &s, k, false)
}

/// Row sums of Euclidean distances within `x` (each row to every other row).
fn distance_sums<T: Elem>(x: ArrayView2<f32>) -> Vec<f64> {
    let mean = pooled_mean(&[x]);
    let p = prepare::<T>(&[x], &mean);
    row_sums(&p, &p, true, f64::sqrt)
}

/// The medoid of every class of one domain (`None` for a class without images).
pub fn medoids(
    embedding: ArrayView2<f32>,
    labels: &[usize],
    n_classes: usize,
    precision: Precision,
) -> Vec<Option<Medoid>> {
    (0..n_classes)
        .map(|c| {
            let rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == c).collect();
            if rows.is_empty() {
                return None;
            }
            let x = embedding.select(Axis(0), &rows);
            let sums = match precision {
                Precision::F32 => distance_sums::<f32>(x.view()),
                Precision::F64 => distance_sums::<f64>(x.view()),
            };
            let mut best = 0;
            for (i, &s) in sums.iter().enumerate() {
                if s < sums[best] {
                    best = i;
                }
            }
            let n = rows.len();
            Some(Medoid {
                class: c,
                row: rows[best],
                n,
                mean_distance: if n > 1 {
                    sums[best] / (n - 1) as f64
                } else {
                    0.0
                },
            })
        })
        .collect()
}

/// The gallery picks of a source→target pair. The target's logits give the wrong images (none without
/// logits); labels must lie in `0..n_classes`. Errors: bad shapes, non-finite values, labels out of range,
/// an empty source, or `k = 0`.
pub fn gallery(
    source: &DomainData,
    target: &DomainData,
    n_classes: usize,
    params: &GalleryParams,
) -> MetricsResult<GalleryReport> {
    params.check()?;
    source.validate("source")?;
    target.validate("target")?;
    if source.is_empty() {
        return Err(MetricsError::TooFewPoints {
            metric: "gallery (source neighbours)".into(),
            needed: 1,
            found: 0,
        });
    }
    if source.embedding.ncols() != target.embedding.ncols() {
        return Err(MetricsError::Shape {
            what: "target embedding".into(),
            expected: format!("{} columns (as the source)", source.embedding.ncols()),
            found: format!("{} columns", target.embedding.ncols()),
        });
    }
    let ls = labels_of(source.labels, n_classes, "source labels")?;
    let lt = labels_of(target.labels, n_classes, "target labels")?;
    let k = params.k.min(source.len());
    let mut wrong: Vec<(usize, usize, f64)> = match target.logits {
        Some(l) => predicted(l)
            .into_iter()
            .enumerate()
            .filter(|&(i, (p, _))| p != lt[i])
            .map(|(i, (p, conf))| (i, p, conf))
            .collect(),
        None => Vec::new(),
    };
    let n_wrong_total = wrong.len();
    wrong.sort_by(|a, b| b.2.total_cmp(&a.2).then(a.0.cmp(&b.0)));
    wrong.truncate(params.n_wrong);
    let rows: Vec<usize> = wrong.iter().map(|w| w.0).collect();
    let queries = target.embedding.select(Axis(0), &rows);
    let lists = if rows.is_empty() {
        Vec::new()
    } else {
        match params.precision {
            Precision::F32 => nearest::<f32>(source.embedding.view(), queries.view(), k),
            Precision::F64 => nearest::<f64>(source.embedding.view(), queries.view(), k),
        }
    };
    let wrong = wrong
        .into_iter()
        .zip(lists)
        .map(|((row, predicted, confidence), list)| WrongImage {
            row,
            label: lt[row],
            predicted,
            confidence,
            neighbours: list
                .into_iter()
                .map(|j| Neighbour {
                    row: j,
                    label: ls[j],
                    distance: dist2_f64(source.embedding.row(j), target.embedding.row(row)).sqrt(),
                })
                .collect(),
        })
        .collect();
    Ok(GalleryReport {
        k,
        n_wrong_total,
        wrong,
        source_medoids: medoids(source.embedding, &ls, n_classes, params.precision),
        target_medoids: medoids(target.embedding, &lt, n_classes, params.precision),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::{array, Array1};

    #[test]
    fn medoid_of_a_line_is_its_middle_point_and_ties_go_to_the_lower_row() {
        let x = array![[0.0f32], [10.0], [1.0], [2.0], [5.0]];
        let m = medoids(x.view(), &[0, 1, 0, 0, 1], 3, Precision::F64);
        assert_eq!(m[0].as_ref().unwrap().row, 2);
        assert!((m[0].as_ref().unwrap().mean_distance - 1.0).abs() < 1e-12);
        // two points: equal sums, the lower row wins
        assert_eq!(m[1].as_ref().unwrap().row, 1);
        assert_eq!(m[1].as_ref().unwrap().n, 2);
        assert!(m[2].is_none());
    }

    #[test]
    fn wrong_images_are_ordered_by_confidence_with_exact_distances() {
        let se = array![[0.0f32, 0.0], [3.0, 4.0], [10.0, 0.0]];
        let sl = Array1::from(vec![0i64, 1, 1]);
        let te = array![[0.0f32, 0.0], [3.0, 4.0], [9.0, 0.0]];
        let tl = Array1::from(vec![1i64, 0, 1]);
        // row 0 wrong (pred 0) with confidence sigmoid(1), row 1 wrong (pred 1) with sigmoid(3), row 2 right
        let lg = array![[1.0f32, 0.0], [0.0, 3.0], [0.0, 2.0]];
        let s = DomainData::new(se.view(), None, sl.view());
        let t = DomainData::new(te.view(), Some(lg.view()), tl.view());
        let p = GalleryParams {
            n_wrong: 5,
            k: 2,
            precision: Precision::F64,
        };
        let g = gallery(&s, &t, 2, &p).unwrap();
        assert_eq!(g.n_wrong_total, 2);
        let rows: Vec<usize> = g.wrong.iter().map(|w| w.row).collect();
        assert_eq!(rows, vec![1, 0]);
        assert!((g.wrong[0].confidence - 1.0 / (1.0 + (-3.0f64).exp())).abs() < 1e-12);
        let n: Vec<(usize, f64)> = g.wrong[0]
            .neighbours
            .iter()
            .map(|n| (n.row, n.distance))
            .collect();
        assert_eq!(n[0], (1, 0.0));
        assert_eq!(n[1].0, 0);
        assert!((n[1].1 - 5.0).abs() < 1e-12);
        // bad input
        assert!(gallery(&s, &t, 1, &p).is_err());
        let p0 = GalleryParams { k: 0, ..p.clone() };
        assert!(gallery(&s, &t, 2, &p0).is_err());
        let empty = ndarray::Array2::<f32>::zeros((0, 2));
        let el = Array1::<i64>::zeros(0);
        let e = DomainData::new(empty.view(), None, el.view());
        assert!(gallery(&e, &t, 2, &p).is_err());
    }
}
