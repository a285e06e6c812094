//! How well the model's own domain discriminator tells a pair's domains apart, from its stored
//! `domain_logits` (one logit per image; `sigmoid(logit)` = p(target), as `models/train_dann.py`
//! trains it: source 0, target 1).
//!
//! [`domain_separation`] gives per-domain histograms of p(target) on equal bins of `[0, 1]` (the bin
//! edges of `numpy.histogram(p, bins, range=(0, 1))`, the last bin closed), the mean p(target) per
//! domain, the AUROC of target against source with the logit as score (0.5: the discriminator cannot
//! tell the domains apart, which is what adversarial training aims for; 1 or 0: fully separated), the
//! separability `|2·AUROC − 1|` and the balanced accuracy of the 0.5 threshold. Pure computation, checked
//! against scikit-learn and numpy in `tests/diagnose_fixtures.rs`.

use ndarray::ArrayView1;
use serde::{Deserialize, Serialize};

use super::classification::binary_auroc;
use super::{MetricsError, MetricsResult};

/// Default number of histogram bins.
pub const DEFAULT_BINS: usize = 20;

/// The discriminator's view of one pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainSeparation {
    /// Source images.
    pub n_source: usize,
    /// Target images.
    pub n_target: usize,
    /// Counts of source images per bin of p(target) (equal bins of `[0, 1]`).
    pub source_hist: Vec<u64>,
    /// Counts of target images per bin.
    pub target_hist: Vec<u64>,
    /// Mean p(target) over the source images.
    pub mean_p_source: f64,
    /// Mean p(target) over the target images.
    pub mean_p_target: f64,
    /// AUROC of target (positive) against source, score = domain logit.
    pub auroc: Option<f64>,
    /// `|2·AUROC − 1|`: 0 when the discriminator cannot tell the domains apart, 1 when it separates them.
    pub separability: Option<f64>,
    /// Balanced accuracy of "target when p(target) ≥ 0.5".
    pub balanced_accuracy: f64,
}

/// `sigmoid(z)` in `f64`.
pub fn sigmoid(z: f32) -> f64 {
    1.0 / (1.0 + (-f64::from(z)).exp())
}

/// Bin of `p` among `bins` equal bins of `[0, 1]`, as numpy's histogram assigns it (edges
/// `i / bins` as `numpy.linspace` computes them; the last bin includes 1).
pub fn bin_of(p: f64, bins: usize) -> usize {
    let step = 1.0 / bins as f64;
    let edge = |i: usize| if i == bins { 1.0 } else { i as f64 * step };
    let mut i = ((p * bins as f64) as usize).min(bins - 1);
    if i > 0 && p < edge(i) {
        i -= 1;
    }
    if i + 1 < bins && p >= edge(i + 1) {
        i += 1;
    }
    i
}

fn check(z: ArrayView1<f32>, what: &str) -> MetricsResult<()> {
    if z.is_empty() {
        return Err(MetricsError::TooFewPoints {
            metric: format!("domain separation ({what} domain logits)"),
            needed: 1,
            found: 0,
        });
    }
    if let Some((row, &value)) = z.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(MetricsError::NonFinite {
            what: format!("{what} domain logits"),
            row,
            col: 0,
            value,
        });
    }
    Ok(())
}

/// The discriminator's separation of `source` and `target` (their domain logits) with `bins`
/// histogram bins. Errors: an empty domain, a non-finite logit, or `bins = 0`.
pub fn domain_separation(
    source: ArrayView1<f32>,
    target: ArrayView1<f32>,
    bins: usize,
) -> MetricsResult<DomainSeparation> {
    if bins == 0 {
        return Err(MetricsError::Param {
            name: "bins",
            expected: "at least 1".into(),
            found: "0".into(),
        });
    }
    check(source, "source")?;
    check(target, "target")?;
    let hist = |z: ArrayView1<f32>| {
        let mut h = vec![0u64; bins];
        for &v in z {
            h[bin_of(sigmoid(v), bins)] += 1;
        }
        h
    };
    let mean = |z: ArrayView1<f32>| z.iter().map(|&v| sigmoid(v)).sum::<f64>() / z.len() as f64;
    let scores: Vec<f64> = source
        .iter()
        .chain(target.iter())
        .map(|&v| f64::from(v))
        .collect();
    let positive: Vec<bool> = (0..scores.len()).map(|i| i >= source.len()).collect();
    let auroc = binary_auroc(&scores, &positive);
    let right_s = source.iter().filter(|&&v| sigmoid(v) < 0.5).count();
    let right_t = target.iter().filter(|&&v| sigmoid(v) >= 0.5).count();
    Ok(DomainSeparation {
        n_source: source.len(),
        n_target: target.len(),
        source_hist: hist(source),
        target_hist: hist(target),
        mean_p_source: mean(source),
        mean_p_target: mean(target),
        auroc,
        separability: auroc.map(|a| (2.0 * a - 1.0).abs()),
        balanced_accuracy: 0.5
            * (right_s as f64 / source.len() as f64 + right_t as f64 / target.len() as f64),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    #[test]
    fn bins_follow_numpy_edges() {
        assert_eq!(bin_of(0.0, 20), 0);
        assert_eq!(bin_of(0.05, 20), 1);
        assert_eq!(bin_of(0.0499999, 20), 0);
        assert_eq!(bin_of(1.0, 20), 19);
        // numpy's 19th edge is 19 · 0.05 = 0.9500000000000001, so 0.95 falls in bin 18 (as 0.15 in 2)
        assert_eq!(bin_of(0.95, 20), 18);
        assert_eq!(bin_of(0.15, 20), 2);
        assert_eq!(bin_of(0.5, 4), 2);
    }

    #[test]
    fn separated_domains_and_bad_input() {
        let s = array![-3.0f32, -2.0, -1.0];
        let t = array![1.0f32, 2.0];
        let r = domain_separation(s.view(), t.view(), 2).unwrap();
        assert_eq!(r.auroc, Some(1.0));
        assert_eq!(r.separability, Some(1.0));
        assert_eq!(r.balanced_accuracy, 1.0);
        assert_eq!(r.source_hist, vec![3, 0]);
        assert_eq!(r.target_hist, vec![0, 2]);
        // swapped: fully separated the wrong way round
        let w = domain_separation(t.view(), s.view(), 2).unwrap();
        assert_eq!(w.auroc, Some(0.0));
        assert_eq!(w.separability, Some(1.0));
        assert_eq!(w.balanced_accuracy, 0.0);
        let same = domain_separation(s.view(), s.view(), 3).unwrap();
        assert_eq!(same.auroc, Some(0.5));
        assert_eq!(same.separability, Some(0.0));
        let empty = ndarray::Array1::<f32>::zeros(0);
        assert!(domain_separation(empty.view(), t.view(), 2).is_err());
        assert!(domain_separation(s.view(), t.view(), 0).is_err());
        let nan = array![f32::NAN];
        let e = domain_separation(s.view(), nan.view(), 2).unwrap_err();
        assert!(e.to_string().contains("target domain logits"), "{e}");
    }
}
