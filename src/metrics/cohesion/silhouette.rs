//! Silhouette coefficients: by class within each domain and jointly, and by domain.

use ndarray::ArrayView2;

use super::blocked::label_distance_sums_f32;
use super::shared::{check_dims, prep, undefined};
use crate::metrics::distance::{label_distance_sums, Elem, Precision};
use crate::metrics::{DomainData, MetricsError, MetricsResult};

/// The silhouette coefficient of every point (0 for a point alone in its cluster).
fn silhouette_impl<T: Elem>(
    parts: &[ArrayView2<f32>],
    labels: &[i64],
    blocked_f32: bool,
) -> MetricsResult<Vec<f64>> {
    let n = labels.len();
    let mut uniq: Vec<i64> = labels.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    let n_labels = uniq.len();
    if n_labels < 2 || n_labels > n.saturating_sub(1) {
        return Err(undefined(
            "silhouette",
            format!("needs 2 to n−1 distinct labels, found {n_labels} labels among {n} points"),
        ));
    }
    let dense: Vec<usize> = labels
        .iter()
        .map(|l| uniq.binary_search(l).unwrap_or(0))
        .collect();
    let mut freq = vec![0usize; n_labels];
    for &l in &dense {
        freq[l] += 1;
    }
    let sums = if blocked_f32 {
        label_distance_sums_f32(parts, &dense, n_labels)
    } else {
        label_distance_sums(&prep::<T>(parts), &dense, n_labels)
    };
    let mut points = vec![0.0f64; n];
    for (i, &own) in dense.iter().enumerate() {
        if freq[own] < 2 {
            continue; // singleton cluster scores 0
        }
        let row = &sums[i * n_labels..(i + 1) * n_labels];
        let a = row[own] / (freq[own] - 1) as f64;
        let b = row
            .iter()
            .zip(&freq)
            .enumerate()
            .filter(|(l, _)| *l != own)
            .map(|(_, (&s, &f))| s / f as f64)
            .fold(f64::INFINITY, f64::min);
        let m = a.max(b);
        if m > 0.0 {
            points[i] = (b - a) / m;
        }
    }
    Ok(points)
}

/// Mean silhouette coefficient of the rows of `parts` (stacked) clustered by `labels` (Euclidean, as
/// scikit-learn's `silhouette_score`; a point alone in its cluster scores 0). Undefined unless there are
/// between 2 and `n − 1` distinct labels.
pub fn silhouette_score(
    parts: &[ArrayView2<f32>],
    labels: &[i64],
    precision: Precision,
) -> MetricsResult<f64> {
    let points = silhouette_points(parts, labels, precision)?;
    Ok(points.iter().sum::<f64>() / points.len() as f64)
}

/// The silhouette coefficient of every row of `parts` (stacked); their mean is [`silhouette_score`].
pub(super) fn silhouette_points(
    parts: &[ArrayView2<f32>],
    labels: &[i64],
    precision: Precision,
) -> MetricsResult<Vec<f64>> {
    let n: usize = parts.iter().map(|p| p.nrows()).sum();
    if n != labels.len() {
        return Err(MetricsError::Shape {
            what: "silhouette labels".into(),
            expected: format!("{n} labels (one per row)"),
            found: labels.len().to_string(),
        });
    }
    match precision {
        Precision::F32 => silhouette_impl::<f32>(parts, labels, true),
        Precision::F64 => silhouette_impl::<f64>(parts, labels, false),
    }
}

/// Silhouette of the source embedding by class label.
pub fn silhouette_source(source: &DomainData, precision: Precision) -> MetricsResult<f64> {
    silhouette_score(&[source.embedding], &source.labels.to_vec(), precision)
}

/// Silhouette of the target embedding by class label (needs target labels).
pub fn silhouette_target(target: &DomainData, precision: Precision) -> MetricsResult<f64> {
    silhouette_score(&[target.embedding], &target.labels.to_vec(), precision)
}

/// Silhouette of source and target together by class label.
pub fn silhouette_joint(
    source: &DomainData,
    target: &DomainData,
    precision: Precision,
) -> MetricsResult<f64> {
    check_dims(source.embedding, target.embedding)?;
    let labels: Vec<i64> = source
        .labels
        .iter()
        .chain(target.labels.iter())
        .copied()
        .collect();
    silhouette_score(
        &[source.embedding.view(), target.embedding.view()],
        &labels,
        precision,
    )
}

/// Silhouette of source and target together with the domain as cluster label (source 0, target 1).
pub fn silhouette_domain(
    source: &DomainData,
    target: &DomainData,
    precision: Precision,
) -> MetricsResult<f64> {
    check_dims(source.embedding, target.embedding)?;
    let labels: Vec<i64> = std::iter::repeat_n(0, source.len())
        .chain(std::iter::repeat_n(1, target.len()))
        .collect();
    silhouette_score(
        &[source.embedding.view(), target.embedding.view()],
        &labels,
        precision,
    )
}
