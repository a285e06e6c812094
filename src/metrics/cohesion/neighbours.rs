//! Nearest-neighbour measures: kNN transfer accuracy (source labels voting for target points) and
//! domain kNN purity.

use ndarray::ArrayView2;

use super::shared::{check_dims, prep, undefined};
use crate::metrics::distance::{knn_indices, pooled_mean, prepare, Elem, Precision};
use crate::metrics::{DomainData, MetricsError, MetricsResult};

/// Majority class among `neighbours` (nearest first); ties go to the tied class met first, i.e. the one
/// holding the nearest neighbour among the tied classes (the rule of the kNN transfer accuracy).
pub(crate) fn vote<T: Copy + PartialEq>(neighbours: &[usize], labels: &[T]) -> T {
    let mut counts: Vec<(T, usize)> = Vec::new();
    for &j in neighbours {
        match counts.iter_mut().find(|c| c.0 == labels[j]) {
            Some(c) => c.1 += 1,
            None => counts.push((labels[j], 1)),
        }
    }
    let mut best = counts[0];
    for &c in &counts[1..] {
        if c.1 > best.1 {
            best = c;
        }
    }
    best.0
}

/// Per target point, 1 when its label wins the vote of its `k` nearest source points, else 0.
fn knn_impl<T: Elem>(source: &DomainData, target: &DomainData, k: usize) -> Vec<f64> {
    let mean = pooled_mean(&[source.embedding.view(), target.embedding.view()]);
    let s = prepare::<T>(&[source.embedding], &mean);
    let t = prepare::<T>(&[target.embedding], &mean);
    let nn = knn_indices(&t, &s, k, false);
    let sl = source.labels.to_vec();
    nn.iter()
        .zip(target.labels.iter())
        .map(|(nb, &y)| f64::from(u8::from(vote(nb, &sl) == y)))
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Share of target points whose label equals the majority label of their `k` nearest source points
/// (Euclidean; equal distances ordered by source index; vote ties go to the class of the nearest of the
/// tied neighbours). Needs source and target labels.
pub fn knn_transfer_accuracy(
    source: &DomainData,
    target: &DomainData,
    k: usize,
    precision: Precision,
) -> MetricsResult<f64> {
    knn_transfer_points(source, target, k, precision).map(|v| mean(&v))
}

/// The terms of [`knn_transfer_accuracy`]: 1 or 0 per target point.
pub(super) fn knn_transfer_points(
    source: &DomainData,
    target: &DomainData,
    k: usize,
    precision: Precision,
) -> MetricsResult<Vec<f64>> {
    check_dims(source.embedding, target.embedding)?;
    if k == 0 || source.len() < k {
        return Err(MetricsError::TooFewPoints {
            metric: format!("knn_transfer_accuracy (k = {k})"),
            needed: k.max(1),
            found: source.len(),
        });
    }
    if target.is_empty() {
        return Err(MetricsError::TooFewPoints {
            metric: "knn_transfer_accuracy (target)".into(),
            needed: 1,
            found: 0,
        });
    }
    Ok(match precision {
        Precision::F32 => knn_impl::<f32>(source, target, k),
        Precision::F64 => knn_impl::<f64>(source, target, k),
    })
}

/// Per pooled point, the share of its `k` nearest pooled neighbours from its own domain.
fn purity_impl<T: Elem>(source: ArrayView2<f32>, target: ArrayView2<f32>, k: usize) -> Vec<f64> {
    let x = prep::<T>(&[source.view(), target.view()]);
    let ns = source.nrows();
    let nn = knn_indices(&x, &x, k, true);
    nn.iter()
        .enumerate()
        .map(|(i, nb)| nb.iter().filter(|&&j| (j < ns) == (i < ns)).count() as f64 / k as f64)
        .collect()
}

/// Mean over all pooled points of the share of their `k` nearest pooled neighbours (self excluded,
/// equal distances ordered by pooled index) that come from their own domain. 0.5-ish means mixed domains
/// (for equal sizes); 1 means separated. No labels needed.
pub fn domain_knn_purity(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    k: usize,
    precision: Precision,
) -> MetricsResult<f64> {
    purity_points(source, target, k, precision).map(|v| mean(&v))
}

/// The terms of [`domain_knn_purity`]: one per pooled point, source points first.
pub(super) fn purity_points(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    k: usize,
    precision: Precision,
) -> MetricsResult<Vec<f64>> {
    check_dims(source, target)?;
    let n = source.nrows() + target.nrows();
    if k == 0 || n < k + 1 {
        return Err(MetricsError::TooFewPoints {
            metric: format!("domain_knn_purity (k = {k})"),
            needed: k + 1,
            found: n,
        });
    }
    if source.nrows() == 0 || target.nrows() == 0 {
        return Err(undefined("domain_knn_purity", "one domain is empty"));
    }
    Ok(match precision {
        Precision::F32 => purity_impl::<f32>(source, target, k),
        Precision::F64 => purity_impl::<f64>(source, target, k),
    })
}
