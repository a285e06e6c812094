//! Maximum mean discrepancy between the domains: linear kernel, and Gaussian kernel with a
//! median-heuristic bandwidth.

use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::params::CohesionParams;
use super::shared::{check_dims, prep, undefined};
use crate::metrics::distance::{
    pair_sq_distances, pooled_mean, prepare, row_sums, Elem, Precision,
};
use crate::metrics::{MetricsError, MetricsResult};

/// Unbiased MMD² with the linear kernel `k(x, y) = x·y`:
/// `Σ_{i≠j} k(s_i,s_j)/(m(m−1)) + Σ_{i≠j} k(t_i,t_j)/(n(n−1)) − 2 Σ k(s_i,t_j)/(mn)`, computed exactly
/// in `O((m+n)·D)` from sums (in `f64`, on data centred at the pooled mean, which leaves it unchanged).
pub fn mmd2_linear(source: ArrayView2<f32>, target: ArrayView2<f32>) -> MetricsResult<f64> {
    check_dims(source, target)?;
    let (m, n) = (source.nrows(), target.nrows());
    if m < 2 || n < 2 {
        return Err(MetricsError::TooFewPoints {
            metric: "mmd2_linear".into(),
            needed: 2,
            found: m.min(n),
        });
    }
    let mean = pooled_mean(&[source.view(), target.view()]);
    let sums = |x: ArrayView2<f32>| {
        let mut s = vec![0.0f64; mean.len()];
        let mut sq = 0.0f64;
        for r in x.outer_iter() {
            for ((a, &v), &mu) in s.iter_mut().zip(r.iter()).zip(&mean) {
                let c = f64::from(v) - mu;
                *a += c;
                sq += c * c;
            }
        }
        (s, sq)
    };
    let (ss, sq_s) = sums(source);
    let (st, sq_t) = sums(target);
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let (mf, nf) = (m as f64, n as f64);
    Ok(
        (dot(&ss, &ss) - sq_s) / (mf * (mf - 1.0)) + (dot(&st, &st) - sq_t) / (nf * (nf - 1.0))
            - 2.0 * dot(&ss, &st) / (mf * nf),
    )
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let k = v.len() / 2;
    let (_, hi, _) = v.select_nth_unstable_by(k, f64::total_cmp);
    let hi = *hi;
    if v.len() % 2 == 1 {
        return Some(hi);
    }
    let lo = v[..k].iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some((lo + hi) / 2.0)
}

fn bandwidth_impl<T: Elem>(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
) -> MetricsResult<f64> {
    let n = source.nrows() + target.nrows();
    let cap = params.mmd_median_max_points;
    let pooled = if n <= cap {
        prep::<T>(&[source.view(), target.view()])
    } else {
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        let mut idx = rand::seq::index::sample(&mut rng, n, cap).into_vec();
        idx.sort_unstable();
        let d = source.ncols();
        let mut sub = Array2::<f32>::zeros((cap, d));
        for (mut dst, &i) in sub.outer_iter_mut().zip(&idx) {
            if i < source.nrows() {
                dst.assign(&source.row(i));
            } else {
                dst.assign(&target.row(i - source.nrows()));
            }
        }
        prep::<T>(&[sub.view()])
    };
    let med = median(pair_sq_distances(&pooled))
        .ok_or_else(|| undefined("mmd2_rbf", "fewer than 2 pooled points"))?;
    if med <= 0.0 {
        return Err(undefined(
            "mmd2_rbf",
            "median pairwise squared distance is 0 (points coincide): no bandwidth",
        ));
    }
    Ok(med)
}

/// RBF bandwidth `σ²`: the median of `‖z_i − z_j‖²` over all pairs `i < j` of the pooled sample (numpy's
/// median: mean of the two middle values for an even count). When the pooled sample has more than
/// `params.mmd_median_max_points` points, the median is taken over the pairs of a seeded subsample of that
/// many points (ChaCha8, `params.seed`, drawn without replacement).
pub fn rbf_bandwidth(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
) -> MetricsResult<f64> {
    check_dims(source, target)?;
    match params.precision {
        Precision::F32 => bandwidth_impl::<f32>(source, target, params),
        Precision::F64 => bandwidth_impl::<f64>(source, target, params),
    }
}

fn mmd_rbf_impl<T: Elem>(source: ArrayView2<f32>, target: ArrayView2<f32>, sigma2: f64) -> f64 {
    let mean = pooled_mean(&[source.view(), target.view()]);
    let s = prepare::<T>(&[source], &mean);
    let t = prepare::<T>(&[target], &mean);
    let k = |d2: f64| (-d2 / sigma2).exp();
    let sum = |v: Vec<f64>| v.iter().sum::<f64>();
    let (m, n) = (source.nrows() as f64, target.nrows() as f64);
    let kss = sum(row_sums(&s, &s, true, k));
    let ktt = sum(row_sums(&t, &t, true, k));
    let kst = sum(row_sums(&s, &t, false, k));
    kss / (m * (m - 1.0)) + ktt / (n * (n - 1.0)) - 2.0 * kst / (m * n)
}

/// Unbiased MMD² with the Gaussian kernel `k(x, y) = exp(−‖x − y‖² / σ²)`, `σ²` from [`rbf_bandwidth`];
/// same estimator as [`mmd2_linear`]. Returns `(mmd², σ²)`.
pub fn mmd2_rbf(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
) -> MetricsResult<(f64, f64)> {
    check_dims(source, target)?;
    let (m, n) = (source.nrows(), target.nrows());
    if m < 2 || n < 2 {
        return Err(MetricsError::TooFewPoints {
            metric: "mmd2_rbf".into(),
            needed: 2,
            found: m.min(n),
        });
    }
    let sigma2 = rbf_bandwidth(source, target, params)?;
    let v = match params.precision {
        Precision::F32 => mmd_rbf_impl::<f32>(source, target, sigma2),
        Precision::F64 => mmd_rbf_impl::<f64>(source, target, sigma2),
    };
    Ok((v, sigma2))
}
