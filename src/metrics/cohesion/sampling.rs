//! Seeded stratified anchor samples and the interval over repeated samples used by the scalable mode.
//!
//! One replicate draws, without replacement, `m` anchors spread over the strata in proportion to their
//! sizes (largest remainders, at least one anchor per non-empty stratum) and estimates the measure as
//! `Σ_c (N_c / N) · mean of the anchors' values in stratum c`; each anchor's value is exact (computed
//! against all points), so every replicate is an unbiased estimate of the exact value. `R` replicates
//! with independent seeds give the estimate (their mean) and a Student-t interval
//! `mean ± t(0.975, R − 1) · sd / √R`.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// A 95 % interval from repeated anchor samples.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower bound.
    pub lower: f64,
    /// Upper bound.
    pub upper: f64,
    /// Repeated samples.
    pub repeats: usize,
    /// Anchors per sample.
    pub anchors: usize,
    /// How the interval was formed.
    pub method: String,
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

/// Two-sided 97.5 % quantile of Student's t with `df` degrees of freedom.
pub(crate) fn t975(df: usize) -> f64 {
    const T: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => T[df - 1],
        _ => {
            // Cornish-Fisher expansion around the normal quantile
            let z: f64 = 1.959_964;
            let d = df as f64;
            z + (z.powi(3) + z) / (4.0 * d)
                + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * d * d)
        }
    }
}

/// The estimate (mean of the replicates) and its interval.
pub(crate) fn combine(replicates: &[f64], anchors: usize) -> (f64, Interval) {
    let r = replicates.len();
    let mean = replicates.iter().sum::<f64>() / r as f64;
    let var = if r > 1 {
        replicates.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (r - 1) as f64
    } else {
        f64::INFINITY
    };
    let half = t975(r.saturating_sub(1)) * (var / r as f64).sqrt();
    (
        mean,
        Interval {
            lower: mean - half,
            upper: mean + half,
            repeats: r,
            anchors,
            method: "mean of R seeded stratified anchor samples ± t(0.975, R−1)·sd/√R".into(),
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
    fn t_quantiles_and_interval() {
        assert_eq!(t975(9), 2.262);
        assert!((t975(1000) - 1.962).abs() < 1e-3);
        let (m, iv) = combine(&[1.0, 2.0, 3.0], 5);
        assert_eq!(m, 2.0);
        assert!((iv.upper - (2.0 + 4.303 / 3f64.sqrt())).abs() < 1e-12);
    }
}
