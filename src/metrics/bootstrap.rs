//! Percentile bootstrap helpers.
//!
//! Resample `b` draws `N` indices with replacement from its own ChaCha8 stream: the generator is seeded
//! from the user's `u64` seed and switched to stream `b`, so every resample is fixed by `(seed, b)` alone
//! and resamples can run in parallel without changing the result.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

/// A percentile bootstrap interval.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct BootstrapInterval {
    /// Lower bound (percentile `(1 − level)/2`).
    pub lower: f64,
    /// Upper bound (percentile `(1 + level)/2`).
    pub upper: f64,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    /// Resamples requested.
    pub resamples: usize,
    /// Resamples that contributed (the others were undefined and skipped).
    pub used: usize,
}

/// Multiplicity of each of the `n` points in resample `b` (counts sum to `n`).
pub fn resample_counts(n: usize, seed: u64, b: u64) -> Vec<u32> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(b);
    let mut counts = vec![0u32; n];
    for _ in 0..n {
        counts[rng.gen_range(0..n)] += 1;
    }
    counts
}

/// Percentile `q` (0–100) of `values` with linear interpolation between order statistics
/// (numpy's default `method="linear"`). Returns `None` for an empty slice.
pub fn percentile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = (q / 100.0).clamp(0.0, 1.0) * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = pos.ceil() as usize;
    let frac = pos - lo as f64;
    let diff = v[hi] - v[lo];
    // same interpolation as numpy's `_lerp` (exact at both ends)
    Some(if frac >= 0.5 {
        v[hi] - diff * (1.0 - frac)
    } else {
        v[lo] + diff * frac
    })
}

/// Interval at `level` from resample statistics (`None` entries are skipped resamples).
pub(crate) fn interval(stats: &[Option<f64>], level: f64) -> Option<BootstrapInterval> {
    let used: Vec<f64> = stats.iter().flatten().copied().collect();
    let alpha = (1.0 - level) / 2.0 * 100.0;
    Some(BootstrapInterval {
        lower: percentile(&used, alpha)?,
        upper: percentile(&used, 100.0 - alpha)?,
        level,
        resamples: stats.len(),
        used: used.len(),
    })
}
