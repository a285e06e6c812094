//! Intervals of the exact measures: a seeded percentile bootstrap over the points a measure averages.
//!
//! Every exact measure is a mean of per-point terms (a silhouette coefficient, a neighbour vote, a
//! held-out prediction, an entropy), or a function of such means. Resample `b` draws each domain's
//! points with replacement ([`resample_counts`], stream `b` of a seed derived from the measure's name
//! and the domain), so the resamples are fixed by the seed alone and can run in parallel. What stays
//! fixed is named in `docs/metrics.md`: the other points a term is computed against (the class means of
//! a silhouette, the source points that vote, the fitted probe of the A-distance), so the interval
//! shows how the value moves with the points evaluated, not with a refit.
//!
//! The MMD² estimators are U-statistics: there the terms are each point's first-order projection, and
//! the resampled statistic is the linearised one (the value plus the mean of twice the centred terms
//! per domain), whose variance is the estimator's leading-order variance.

use rayon::prelude::*;

use super::sampling::{replicate_seed, Interval};
use crate::metrics::bootstrap::{percentile, resample_counts};

/// How the intervals of exact measures are formed (recorded in every [`Interval`]).
pub const METHOD: &str = "percentile bootstrap over points";

/// How the proxy A-distance's interval is formed: from the Wilson score interval of the probe's
/// held-out error, which stays informative where a bootstrap of an error of 0 would collapse.
pub const WILSON_METHOD: &str = "Wilson interval of the held-out error";

/// The Wilson score interval of `wrong` errors among `n` at `level`, mapped to the proxy A-distance
/// `2 (1 − 2 ε)` (the bounds swap: more error, less distance).
pub(super) fn a_distance_wilson(wrong: usize, n: usize, level: f64) -> Option<Interval> {
    if n == 0 {
        return None;
    }
    // The normal quantile, as Student's t with a billion degrees of freedom (within 1e-8).
    let z = super::student::t_quantile(0.5 + level / 2.0, 1_000_000_000);
    let (nf, p) = (n as f64, wrong as f64 / n as f64);
    let z2n = z * z / nf;
    let centre = (p + z2n / 2.0) / (1.0 + z2n);
    let half = z / (1.0 + z2n) * (p * (1.0 - p) / nf + z2n / (4.0 * nf)).sqrt();
    let (lo, hi) = ((centre - half).max(0.0), (centre + half).min(1.0));
    Some(Interval {
        lower: 2.0 * (1.0 - 2.0 * hi),
        upper: 2.0 * (1.0 - 2.0 * lo),
        level,
        repeats: 0,
        anchors: n,
        method: WILSON_METHOD.into(),
    })
}

/// The resampling parameters of the exact measures' intervals.
#[derive(Debug, Clone, Copy)]
pub(super) struct PointBootstrap {
    pub resamples: usize,
    pub level: f64,
    pub seed: u64,
}

impl PointBootstrap {
    /// The interval of `stat`, a statistic of the multiplicities of each domain's points (`sizes[d]`
    /// points in domain `d`). Resamples where `stat` is undefined (`None`) are skipped; `None` when
    /// resampling is off or no resample is defined.
    pub fn weighted(
        &self,
        tag: &str,
        sizes: &[usize],
        stat: impl Fn(&[Vec<u32>]) -> Option<f64> + Sync,
    ) -> Option<Interval> {
        if self.resamples == 0 || sizes.contains(&0) {
            return None;
        }
        let seeds: Vec<u64> = (0..sizes.len())
            .map(|d| replicate_seed(self.seed, tag, d))
            .collect();
        let stats: Vec<f64> = (0..self.resamples)
            .into_par_iter()
            .map(|b| {
                let counts: Vec<Vec<u32>> = sizes
                    .iter()
                    .zip(&seeds)
                    .map(|(&n, &s)| resample_counts(n, s, b as u64))
                    .collect();
                stat(&counts)
            })
            .collect::<Vec<_>>()
            .into_iter()
            .flatten()
            .filter(|v| v.is_finite())
            .collect();
        let alpha = (1.0 - self.level) / 2.0 * 100.0;
        Some(Interval {
            lower: percentile(&stats, alpha)?,
            upper: percentile(&stats, 100.0 - alpha)?,
            level: self.level,
            repeats: self.resamples,
            anchors: sizes.iter().sum(),
            method: METHOD.into(),
        })
    }

    /// The interval of `f(m)`, where `m[d]` is the mean of the per-point `terms[d]` of domain `d` in
    /// each resample.
    pub fn of_means(
        &self,
        tag: &str,
        terms: &[&[f64]],
        f: impl Fn(&[f64]) -> f64 + Sync,
    ) -> Option<Interval> {
        let sizes: Vec<usize> = terms.iter().map(|t| t.len()).collect();
        self.weighted(tag, &sizes, |counts| {
            let means: Vec<f64> = terms
                .iter()
                .zip(counts)
                .map(|(t, c)| weighted_mean(t, c))
                .collect();
            Some(f(&means))
        })
    }

    /// The interval of a mean over all points of every domain (each domain resampled on its own, so
    /// its share of the points stays fixed).
    pub fn of_pooled_mean(&self, tag: &str, terms: &[&[f64]]) -> Option<Interval> {
        let n: usize = terms.iter().map(|t| t.len()).sum();
        let shares: Vec<f64> = terms.iter().map(|t| t.len() as f64 / n as f64).collect();
        self.of_means(tag, terms, |m| {
            m.iter().zip(&shares).map(|(a, w)| a * w).sum()
        })
    }

    /// The interval of a U-statistic `value` from each domain's first-order projections `h[d]` (their
    /// means add up to `value`): the linearised statistic `value + Σ_d mean_d(2 (h − mean h))`.
    pub fn of_u_statistic(&self, tag: &str, value: f64, h: &[&[f64]]) -> Option<Interval> {
        let centred: Vec<Vec<f64>> = h
            .iter()
            .map(|t| {
                let m = t.iter().sum::<f64>() / t.len().max(1) as f64;
                t.iter().map(|v| 2.0 * (v - m)).collect()
            })
            .collect();
        let refs: Vec<&[f64]> = centred.iter().map(Vec::as_slice).collect();
        self.of_means(tag, &refs, |m| value + m.iter().sum::<f64>())
    }
}

/// `Σ c_i t_i / Σ c_i`.
pub(super) fn weighted_mean(terms: &[f64], counts: &[u32]) -> f64 {
    let (mut s, mut w) = (0.0f64, 0u64);
    for (&t, &c) in terms.iter().zip(counts) {
        s += f64::from(c) * t;
        w += u64::from(c);
    }
    s / w.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot(resamples: usize) -> PointBootstrap {
        PointBootstrap {
            resamples,
            level: 0.95,
            seed: 7,
        }
    }

    #[test]
    fn the_mean_of_normal_terms_gets_the_textbook_interval() {
        // 400 standard normal terms (Box–Muller on a fixed LCG): the 95 % interval of their mean
        // is about ±1.96/√400 = ±0.098 around it.
        let mut state = 12345u64;
        let mut uniform = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        };
        let t: Vec<f64> = (0..400)
            .map(|_| {
                let (u, v) = (uniform(), uniform());
                (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
            })
            .collect();
        let mean = t.iter().sum::<f64>() / 400.0;
        let sd = (t.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / 399.0).sqrt();
        let iv = boot(2000).of_pooled_mean("m", &[&t]).unwrap();
        let half = 1.96 * sd / 20.0;
        assert!(
            (iv.lower - (mean - half)).abs() < 0.2 * half,
            "{iv:?} {mean} {half}"
        );
        assert!(
            (iv.upper - (mean + half)).abs() < 0.2 * half,
            "{iv:?} {mean} {half}"
        );
        assert_eq!((iv.repeats, iv.anchors, iv.level), (2000, 400, 0.95));
    }

    #[test]
    fn resamples_are_fixed_by_the_seed_and_differ_by_measure() {
        let t: Vec<f64> = (0..50).map(|i| (i % 7) as f64).collect();
        let a = boot(300).of_pooled_mean("a", &[&t, &t]);
        assert_eq!(a, boot(300).of_pooled_mean("a", &[&t, &t]));
        assert_ne!(a, boot(300).of_pooled_mean("b", &[&t, &t]));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        assert_eq!(a, pool.install(|| boot(300).of_pooled_mean("a", &[&t, &t])));
    }

    #[test]
    fn constant_terms_give_a_point_interval_and_no_resamples_give_none() {
        let t = vec![0.25; 30];
        let iv = boot(200).of_pooled_mean("c", &[&t]).unwrap();
        assert_eq!((iv.lower, iv.upper), (0.25, 0.25));
        assert_eq!(boot(0).of_pooled_mean("c", &[&t]), None);
        assert_eq!(boot(200).of_pooled_mean("c", &[&t, &[]]), None);
    }

    #[test]
    fn the_a_distance_interval_is_the_wilson_interval_of_its_error() {
        // The Wilson score interval of 0 errors in 80 at 95 % (z = scipy.stats.norm.ppf(0.975)) is
        // (0, 0.0458181): an A-distance of 2 gets [2 (1 − 2 · 0.0458), 2].
        let iv = a_distance_wilson(0, 80, 0.95).unwrap();
        assert!(
            (iv.lower - 2.0 * (1.0 - 2.0 * 0.045_818_2)).abs() < 1e-5,
            "{iv:?}"
        );
        assert_eq!(iv.upper, 2.0);
        // 12 in 80: (0.0879404, 0.2441323)
        let iv = a_distance_wilson(12, 80, 0.95).unwrap();
        assert!(
            (iv.upper - 2.0 * (1.0 - 2.0 * 0.087_940_4)).abs() < 1e-6,
            "{iv:?}"
        );
        assert!(
            (iv.lower - 2.0 * (1.0 - 2.0 * 0.244_132_3)).abs() < 1e-6,
            "{iv:?}"
        );
        assert_eq!(a_distance_wilson(0, 0, 0.95), None);
    }

    #[test]
    fn a_u_statistic_interval_is_centred_on_its_value() {
        let h: Vec<f64> = (0..200).map(|i| ((i * 37) % 11) as f64 / 10.0).collect();
        let iv = boot(1000).of_u_statistic("u", 0.3, &[&h, &h]).unwrap();
        assert!(iv.lower < 0.3 && 0.3 < iv.upper, "{iv:?}");
        assert!(((iv.lower + iv.upper) / 2.0 - 0.3).abs() < 0.1 * (iv.upper - iv.lower));
    }
}
