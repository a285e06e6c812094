//! The scalable mode of the quadratic measures: each is a mean over points of a per-point value, and
//! each sampled anchor's value is computed exactly against all points (one pass of anchor × point
//! tiles), so a stratified anchor sample gives an unbiased estimate. `R` seeded samples give the
//! estimate and its interval ([`sampling`](super::sampling)). Cost: `R · m · N · D` instead of `N² · D`.
//!
//! - silhouettes: anchors stratified by cluster label; each anchor's `a`, `b` from its distance sums to
//!   every point;
//! - RBF MMD²: anchors stratified by domain; the mean over source anchors of
//!   `mean_{S∖i} k − mean_T k` plus the mean over target anchors of `mean_{T∖j} k − mean_S k` is the
//!   unbiased estimator;
//! - kNN transfer accuracy: target anchors stratified by class, exact `k` nearest source points;
//! - domain kNN purity: pooled anchors stratified by domain, exact `k` nearest pooled points;
//! - SND: target anchors (one stratum), entropy over all other target points.

use ndarray::{ArrayView2, Axis};

use super::blocked::{anchor_label_sums, Grouped, Kernel};
use super::entropy::{snd_entropies, snd_points};
use super::neighbours::vote;
use super::params::{CohesionParams, ScaleParams};
use super::sampling::{combine, replicate_seed, strata_of, stratified, stratified_mean, Interval};
use super::shared::undefined;
use crate::metrics::distance::{knn_indices, pooled_mean, prepare, Prepared};
use crate::metrics::{MetricsError, MetricsResult};

/// A scalable estimate and its interval.
#[derive(Debug, Clone, PartialEq)]
pub struct Scaled {
    /// The estimate (mean of the repeats).
    pub value: f64,
    /// Its interval at [`ScaleParams::level`].
    pub interval: Interval,
}

/// The anchors of every repeat, per stratum.
fn draws(strata: &[Vec<usize>], s: &ScaleParams, seed: u64, tag: &str) -> Vec<Vec<Vec<usize>>> {
    (0..s.repeats)
        .map(|r| stratified(strata, s.anchors, replicate_seed(seed, tag, r)))
        .collect()
}

/// Runs `values(anchors) → one value per anchor` once over the anchors of all repeats and combines the
/// repeats' stratified means.
fn estimate(
    strata: &[Vec<usize>],
    s: &ScaleParams,
    seed: u64,
    tag: &str,
    values: impl FnOnce(&[usize]) -> Vec<f64>,
) -> Scaled {
    let d = draws(strata, s, seed, tag);
    let flat: Vec<usize> = d.iter().flatten().flatten().copied().collect();
    let v = values(&flat);
    let sizes: Vec<usize> = strata.iter().map(Vec::len).collect();
    let mut at = 0;
    let reps: Vec<f64> = d
        .iter()
        .map(|rep| {
            let per: Vec<Vec<f64>> = rep
                .iter()
                .map(|st| {
                    let out = v[at..at + st.len()].to_vec();
                    at += st.len();
                    out
                })
                .collect();
            stratified_mean(&sizes, &per)
        })
        .collect();
    let (value, interval) = combine(&reps, s.anchors.min(sizes.iter().sum()), s.level);
    Scaled { value, interval }
}

/// Dense labels `0..L` of `labels` and `L`.
fn dense(labels: &[i64]) -> (Vec<usize>, usize) {
    let mut uniq = labels.to_vec();
    uniq.sort_unstable();
    uniq.dedup();
    let d = labels
        .iter()
        .map(|l| uniq.binary_search(l).unwrap_or(0))
        .collect();
    (d, uniq.len())
}

/// Scalable silhouette of the stacked `parts` clustered by `labels` (same definition and undefined
/// cases as [`silhouette_score`](super::silhouette_score)).
pub fn silhouette_scalable(
    parts: &[ArrayView2<f32>],
    labels: &[i64],
    params: &CohesionParams,
    tag: &str,
) -> MetricsResult<Scaled> {
    let n: usize = parts.iter().map(|p| p.nrows()).sum();
    if n != labels.len() {
        return Err(MetricsError::Shape {
            what: "silhouette labels".into(),
            expected: format!("{n} labels (one per row)"),
            found: labels.len().to_string(),
        });
    }
    let (lab, nl) = dense(labels);
    if nl < 2 || nl > n.saturating_sub(1) {
        return Err(undefined(
            "silhouette",
            format!("needs 2 to n−1 distinct labels, found {nl} labels among {n} points"),
        ));
    }
    let strata = strata_of(&lab, nl);
    let freq: Vec<usize> = strata.iter().map(Vec::len).collect();
    let gr = Grouped::new(parts, &lab);
    Ok(estimate(
        &strata,
        &params.scale,
        params.seed,
        tag,
        |anchors| {
            let sums = anchor_label_sums(&gr, nl, anchors, Kernel::Distance);
            anchors
                .iter()
                .zip(sums.chunks_exact(nl))
                .map(|(&i, row)| {
                    let own = lab[i];
                    if freq[own] < 2 {
                        return 0.0;
                    }
                    let a = row[own] / (freq[own] - 1) as f64;
                    let b = (0..nl)
                        .filter(|&l| l != own)
                        .map(|l| row[l] / freq[l] as f64)
                        .fold(f64::INFINITY, f64::min);
                    let m = a.max(b);
                    if m > 0.0 {
                        (b - a) / m
                    } else {
                        0.0
                    }
                })
                .collect()
        },
    ))
}

/// Scalable unbiased RBF MMD² with bandwidth `sigma2`.
pub fn mmd2_rbf_scalable(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    sigma2: f64,
    params: &CohesionParams,
) -> Scaled {
    let (m, n) = (source.nrows(), target.nrows());
    let dom: Vec<usize> = std::iter::repeat_n(0, m)
        .chain(std::iter::repeat_n(1, n))
        .collect();
    let strata = strata_of(&dom, 2);
    let gr = Grouped::new(&[source.view(), target.view()], &dom);
    let (mf, nf) = (m as f64, n as f64);
    estimate(&strata, &params.scale, params.seed, "mmd2_rbf", |anchors| {
        let sums = anchor_label_sums(&gr, 2, anchors, Kernel::Rbf((1.0 / sigma2) as f32));
        anchors
            .iter()
            .zip(sums.chunks_exact(2))
            .map(|(&i, k)| {
                // MMD² is the sum of the two domains' means, not their size-weighted mean: scale
                // each value by N / N_domain so that the stratified mean gives that sum
                if i < m {
                    (k[0] / (mf - 1.0) - k[1] / nf) * (mf + nf) / mf
                } else {
                    (k[1] / (nf - 1.0) - k[0] / mf) * (mf + nf) / nf
                }
            })
            .collect()
    })
}

fn rows(x: ArrayView2<f32>, idx: &[usize]) -> ndarray::Array2<f32> {
    x.select(Axis(0), idx)
}

/// Scalable kNN transfer accuracy: target anchors stratified by target class.
pub fn knn_transfer_scalable(
    source: ArrayView2<f32>,
    source_labels: &[i64],
    target: ArrayView2<f32>,
    target_labels: &[i64],
    k: usize,
    params: &CohesionParams,
) -> Scaled {
    let (lab, nl) = dense(target_labels);
    let strata = strata_of(&lab, nl);
    let mean = pooled_mean(&[source.view(), target.view()]);
    let s: Prepared<f32> = prepare(&[source], &mean);
    estimate(
        &strata,
        &params.scale,
        params.seed,
        "knn_transfer_accuracy",
        |anchors| {
            let q: Prepared<f32> = prepare(&[rows(target, anchors).view()], &mean);
            knn_indices(&q, &s, k, false)
                .iter()
                .zip(anchors)
                .map(|(nb, &i)| f64::from(u8::from(vote(nb, source_labels) == target_labels[i])))
                .collect()
        },
    )
}

/// Scalable domain kNN purity: pooled anchors stratified by domain; each anchor's `k + 1` nearest
/// pooled points without itself (or without the farthest when it is not among them) are its exact `k`
/// nearest others.
pub fn purity_scalable(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    k: usize,
    params: &CohesionParams,
) -> Scaled {
    let ns = source.nrows();
    let n = ns + target.nrows();
    let dom: Vec<usize> = (0..n).map(|i| usize::from(i >= ns)).collect();
    let strata = strata_of(&dom, 2);
    let mean = pooled_mean(&[source.view(), target.view()]);
    let x: Prepared<f32> = prepare(&[source.view(), target.view()], &mean);
    estimate(
        &strata,
        &params.scale,
        params.seed,
        "domain_knn_purity",
        |anchors| {
            let q = Prepared {
                data: x.data.select(Axis(0), anchors),
                norms: anchors.iter().map(|&i| x.norms[i]).collect(),
            };
            knn_indices(&q, &x, k + 1, false)
                .into_iter()
                .zip(anchors)
                .map(|(mut nb, &i)| {
                    match nb.iter().position(|&j| j == i) {
                        Some(p) => {
                            nb.remove(p);
                        }
                        None => {
                            nb.truncate(k);
                        }
                    }
                    nb.iter().filter(|&&j| (j < ns) == (i < ns)).count() as f64 / k as f64
                })
                .collect()
        },
    )
}

/// Scalable SND on the target logits (target anchors, one stratum).
pub fn snd_scalable(
    logits: ArrayView2<f32>,
    temperature: f64,
    params: &CohesionParams,
) -> MetricsResult<Scaled> {
    let x = snd_points(logits)?;
    let strata = vec![(0..x.data.nrows()).collect::<Vec<_>>()];
    Ok(estimate(
        &strata,
        &params.scale,
        params.seed,
        "snd",
        |anchors| {
            let q = Prepared {
                data: x.data.select(Axis(0), anchors),
                norms: vec![0.0; anchors.len()],
            };
            snd_entropies(&x, &q, anchors, temperature)
        },
    ))
}
