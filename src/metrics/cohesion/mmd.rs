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
    mmd2_linear_terms(source, target).map(|t| t.value)
}

/// An MMD² estimate with each point's first-order projection: `source[i]` is
/// `Σ_{j≠i} k(s_i, s_j)/(m−1) − Σ_j k(s_i, t_j)/n` (and alike for `target`), so that the two means add
/// up to the value (up to rounding).
pub(super) struct UTerms {
    pub value: f64,
    pub source: Vec<f64>,
    pub target: Vec<f64>,
}

/// [`mmd2_linear`] with its [`UTerms`].
pub(super) fn mmd2_linear_terms(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
) -> MetricsResult<UTerms> {
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
    let value = (dot(&ss, &ss) - sq_s) / (mf * (mf - 1.0))
        + (dot(&st, &st) - sq_t) / (nf * (nf - 1.0))
        - 2.0 * dot(&ss, &st) / (mf * nf);
    // x·(S_own − x)/(size − 1) − x·S_other/other_size, on the centred rows
    let terms = |x: ArrayView2<f32>, own: &[f64], other: &[f64], size: f64, other_size: f64| {
        x.outer_iter()
            .map(|r| {
                let c: Vec<f64> = r
                    .iter()
                    .zip(&mean)
                    .map(|(&v, mu)| f64::from(v) - mu)
                    .collect();
                (dot(&c, own) - dot(&c, &c)) / (size - 1.0) - dot(&c, other) / other_size
            })
            .collect()
    };
    Ok(UTerms {
        value,
        source: terms(source, &ss, &st, mf, nf),
        target: terms(target, &st, &ss, nf, mf),
    })
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

/// The RBF MMD², and with `with_terms` its [`UTerms`] (one more pass over the cross pairs).
fn mmd_rbf_impl<T: Elem>(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    sigma2: f64,
    with_terms: bool,
) -> UTerms {
    let mean = pooled_mean(&[source.view(), target.view()]);
    let s = prepare::<T>(&[source], &mean);
    let t = prepare::<T>(&[target], &mean);
    let k = |d2: f64| (-d2 / sigma2).exp();
    let sum = |v: &[f64]| v.iter().sum::<f64>();
    let (m, n) = (source.nrows() as f64, target.nrows() as f64);
    let kss = row_sums(&s, &s, true, k);
    let ktt = row_sums(&t, &t, true, k);
    let kst = row_sums(&s, &t, false, k);
    let value =
        sum(&kss) / (m * (m - 1.0)) + sum(&ktt) / (n * (n - 1.0)) - 2.0 * sum(&kst) / (m * n);
    if !with_terms {
        return UTerms {
            value,
            source: Vec::new(),
            target: Vec::new(),
        };
    }
    let kts = row_sums(&t, &s, false, k);
    let terms = |own: &[f64], cross: &[f64], size: f64, other_size: f64| {
        own.iter()
            .zip(cross)
            .map(|(a, c)| a / (size - 1.0) - c / other_size)
            .collect()
    };
    UTerms {
        value,
        source: terms(&kss, &kst, m, n),
        target: terms(&ktt, &kts, n, m),
    }
}

/// Unbiased MMD² with the Gaussian kernel `k(x, y) = exp(−‖x − y‖² / σ²)`, `σ²` from [`rbf_bandwidth`];
/// same estimator as [`mmd2_linear`]. Returns `(mmd², σ²)`.
pub fn mmd2_rbf(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
) -> MetricsResult<(f64, f64)> {
    let (terms, sigma2) = mmd2_rbf_terms(source, target, params, false)?;
    Ok((terms.value, sigma2))
}

/// [`mmd2_rbf`], with its [`UTerms`] when `with_terms`. Returns the terms and `σ²`.
pub(super) fn mmd2_rbf_terms(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &CohesionParams,
    with_terms: bool,
) -> MetricsResult<(UTerms, f64)> {
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
    let terms = match params.precision {
        Precision::F32 => mmd_rbf_impl::<f32>(source, target, sigma2, with_terms),
        Precision::F64 => mmd_rbf_impl::<f64>(source, target, sigma2, with_terms),
    };
    Ok((terms, sigma2))
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn the_projections_of_both_estimators_add_up_to_their_value() {
        let s = Array2::from_shape_fn((40, 5), |(i, j)| ((i * 7 + j * 3) % 11) as f32 / 4.0);
        let t = Array2::from_shape_fn((30, 5), |(i, j)| ((i * 5 + j) % 9) as f32 / 3.0 + 0.5);
        let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
        let lin = mmd2_linear_terms(s.view(), t.view()).unwrap();
        let (rbf, _) =
            mmd2_rbf_terms(s.view(), t.view(), &CohesionParams::default(), true).unwrap();
        for u in [lin, rbf] {
            assert_eq!((u.source.len(), u.target.len()), (40, 30));
            let sum = mean(&u.source) + mean(&u.target);
            assert!(
                (sum - u.value).abs() < 1e-9 * u.value.abs().max(1.0),
                "{sum} {}",
                u.value
            );
        }
    }
}
