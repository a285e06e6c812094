//! Seeded stratified anchor samples and the interval over repeated samples used by the scalable mode.
//!
//! One replicate draws, without replacement, `m` anchors spread over the strata in proportion to their
//! sizes (largest remainders, at least one anchor per non-empty stratum) and estimates the measure as
//! `Σ_c (N_c / N) · mean of the anchors' values in stratum c`; each anchor's value is exact (computed
//! against all points), so every replicate is an unbiased estimate of the exact value. `R` replicates
//! with independent seeds give the estimate (their mean) and a Student-t interval
//! `mean ± t((1 + level)/2, R − 1) · sd / √R` at the chosen level (default 0.99, see `ScaleParams`).

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::student::t_quantile;
use serde::{Deserialize, Serialize};

/// An interval of a cohesion measure: from repeated anchor samples (scalable mode), a bootstrap over
/// the points of an exact value, or a Wilson interval (`method` says which).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Confidence level, e.g. 0.99 (files written before the level was recorded held 0.95 intervals).
    #[serde(default = "legacy_level")]
    pub level: f64,
    /// Repeated samples (scalable), bootstrap resamples, or 0 (Wilson).
    pub repeats: usize,
    /// Anchors per sample (scalable), points resampled (bootstrap), or held-out points (Wilson).
    pub anchors: usize,
    /// How the interval was formed.
    pub method: String,
}

fn legacy_level() -> f64 {
    0.95
}

/// The seed of replicate `r` of measure `tag`.
pub(crate) fn replicate_seed(seed: u64, tag: &str, r: usize) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in tag.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    seed ^ h ^ (r as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Anchors per stratum: proportional to the stratum sizes with largest remainders (ties: lower
/// stratum), at least one per non-empty stratum, never more than the stratum holds.
pub(crate) fn allocation(sizes: &[usize], m: usize) -> Vec<usize> {
    let n: usize = sizes.iter().sum();
    if n == 0 {
        return vec![0; sizes.len()];
    }
    let m = m.min(n);
    let mut alloc: Vec<usize> = sizes.iter().map(|&s| s * m / n).collect();
    let mut rem: Vec<(usize, usize)> = sizes
        .iter()
        .enumerate()
        .map(|(c, &s)| ((s * m) % n, c))
        .collect();
    rem.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut left = m - alloc.iter().sum::<usize>();
    for &(_, c) in &rem {
        if left == 0 {
            break;
        }
        if alloc[c] < sizes[c] {
            alloc[c] += 1;
            left -= 1;
        }
    }
    for (a, &s) in alloc.iter_mut().zip(sizes) {
        if s > 0 && *a == 0 {
            *a = 1;
        }
    }
    alloc
}

/// One stratified sample: `strata[c]` lists the members of stratum `c`; returns per stratum the chosen
/// members (sorted).
pub(crate) fn stratified(strata: &[Vec<usize>], m: usize, seed: u64) -> Vec<Vec<usize>> {
    let sizes: Vec<usize> = strata.iter().map(Vec::len).collect();
    let alloc = allocation(&sizes, m);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    strata
        .iter()
        .zip(&alloc)
        .map(|(members, &k)| {
            let mut pick: Vec<usize> = rand::seq::index::sample(&mut rng, members.len(), k)
                .into_iter()
                .map(|i| members[i])
                .collect();
            pick.sort_unstable();
            pick
        })
        .collect()
}

/// A seeded stratified sample of `m` members of `strata` (proportional allocation, see
/// [`stratified`]), as one sorted list.
pub fn stratified_sample(strata: &[Vec<usize>], m: usize, seed: u64) -> Vec<usize> {
    let mut all: Vec<usize> = stratified(strata, m, replicate_seed(seed, "sample", 0))
        .into_iter()
        .flatten()
        .collect();
    all.sort_unstable();
    all
}

/// Members of each stratum `0..n_strata` in index order.
pub(crate) fn strata_of(labels: &[usize], n_strata: usize) -> Vec<Vec<usize>> {
    let mut s = vec![Vec::new(); n_strata];
    for (i, &l) in labels.iter().enumerate() {
        s[l].push(i);
    }
    s
}

/// The stratified estimate `Σ_c (N_c/N) · mean(values of stratum c)` of one replicate, where
/// `values[c]` are the anchor values of stratum `c` (strata without anchors are skipped and the weights
/// renormalised).
pub(crate) fn stratified_mean(sizes: &[usize], values: &[Vec<f64>]) -> f64 {
    let mut num = 0.0;
    let mut den = 0.0;
    for (&s, v) in sizes.iter().zip(values) {
        if !v.is_empty() {
            num += s as f64 * v.iter().sum::<f64>() / v.len() as f64;
            den += s as f64;
        }
    }
    if den > 0.0 {
        num / den
    } else {
        f64::NAN
    }
}

/// The estimate (mean of the replicates) and its interval at `level`.
pub(crate) fn combine(replicates: &[f64], anchors: usize, level: f64) -> (f64, Interval) {
    let r = replicates.len();
    let mean = replicates.iter().sum::<f64>() / r as f64;
    let var = if r > 1 {
        replicates.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (r - 1) as f64
    } else {
        f64::INFINITY
    };
    let half = t_quantile((1.0 + level) / 2.0, r.saturating_sub(1)) * (var / r as f64).sqrt();
    (
        mean,
        Interval {
            lower: mean - half,
            upper: mean + half,
            level,
            repeats: r,
            anchors,
            method: "mean of R seeded stratified anchor samples ± t((1+level)/2, R−1)·sd/√R".into(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocation_is_proportional_and_keeps_every_stratum() {
        assert_eq!(allocation(&[500, 300, 200], 10), vec![5, 3, 2]);
        assert_eq!(allocation(&[998, 1, 1], 10), vec![10, 1, 1]);
        assert_eq!(allocation(&[3, 2], 100), vec![3, 2]);
        assert_eq!(allocation(&[0, 4], 2), vec![0, 2]);
    }

    #[test]
    fn stratified_samples_are_seeded_and_inside_their_strata() {
        let labels: Vec<usize> = (0..100).map(|i| i % 3).collect();
        let st = strata_of(&labels, 3);
        let a = stratified(&st, 30, 7);
        assert_eq!(a, stratified(&st, 30, 7));
        assert_ne!(a, stratified(&st, 30, 8));
        for (c, pick) in a.iter().enumerate() {
            assert_eq!(pick.len(), 10);
            assert!(pick.iter().all(|&i| labels[i] == c));
        }
    }

    #[test]
    fn interval_uses_the_t_quantile_of_its_level() {
        // sd of [1, 2, 3] is 1; scipy.stats.t.ppf(0.975, 2) = 4.302652729749464, t.ppf(0.995, 2) = 9.924843200918287
        let (m, iv) = combine(&[1.0, 2.0, 3.0], 5, 0.95);
        assert_eq!(m, 2.0);
        assert!((iv.upper - (2.0 + 4.302652729749464 / 3f64.sqrt())).abs() < 1e-9);
        assert_eq!(iv.level, 0.95);
        let (_, wide) = combine(&[1.0, 2.0, 3.0], 5, 0.99);
        assert!((wide.lower - (2.0 - 9.924843200918287 / 3f64.sqrt())).abs() < 1e-9);
        let old: Interval = serde_json::from_str(
            r#"{"lower":0.1,"upper":0.2,"repeats":10,"anchors":400,"method":"m"}"#,
        )
        .unwrap();
        assert_eq!(old.level, 0.95);
    }
}
