//! Every validator of one checkpoint at once, and Spearman correlation to judge them against the truth.

use serde::{Deserialize, Serialize};

use super::super::cohesion::{information_maximization, snd, MetricValue};
use super::super::{check_finite, DomainData, MetricsResult};
use super::atc::{atc, AtcScore};
use super::clustering::{class_ami, KMeansParams};
use super::common::undefined;
use super::confidence::{bnm, entropy_score};
use super::dev::{dev, DevParams};

/// Names of the validators of [`label_free_validators`], in output order.
pub const VALIDATORS: [&str; 8] = [
    "entropy",
    "im",
    "snd",
    "bnm",
    "class_ami",
    "dev",
    "atc_mc",
    "atc_ne",
];

/// Parameters of [`label_free_validators`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorParams {
    /// SND temperature. Default 0.05.
    pub snd_temperature: f64,
    /// k-means of ClassAMI.
    pub kmeans: KMeansParams,
    /// DEV discriminator split.
    pub dev: DevParams,
}

impl Default for ValidatorParams {
    fn default() -> Self {
        Self {
            snd_temperature: 0.05,
            kmeans: KMeansParams::default(),
            dev: DevParams::default(),
        }
    }
}

/// Every validator of [`VALIDATORS`] for one checkpoint: target logits and embeddings, plus the labelled
/// source for DEV and ATC. Target labels are not read. A validator that cannot be computed (no logits,
/// too few points, constant weights) gets `value: None` and a reason; invalid input is `Err`.
pub fn label_free_validators(
    source: &DomainData,
    target: &DomainData,
    params: &ValidatorParams,
) -> MetricsResult<Vec<MetricValue>> {
    source.validate("source")?;
    check_finite(target.embedding, "target embedding")?;
    let mut out = Vec::new();
    let mut push = |name: &str, r: MetricsResult<f64>| -> MetricsResult<()> {
        let (value, reason) = match r {
            Ok(v) => (Some(v), None),
            Err(e) => (None, Some(e.into_reason()?)),
        };
        out.push(MetricValue::exact(name, value, reason));
        Ok(())
    };
    let Some(tl) = target.logits else {
        for name in VALIDATORS {
            push(name, Err(undefined(name, "target logits absent")))?;
        }
        return Ok(out);
    };
    push("entropy", entropy_score(tl))?;
    push("im", information_maximization(tl))?;
    push("snd", snd(tl, params.snd_temperature))?;
    push("bnm", bnm(tl))?;
    push("class_ami", class_ami(target.embedding, tl, &params.kmeans))?;
    push(
        "dev",
        dev(source, target.embedding, &params.dev).map(|d| d.score),
    )?;
    push("atc_mc", atc(source, tl, AtcScore::MaxConfidence))?;
    push("atc_ne", atc(source, tl, AtcScore::NegativeEntropy))?;
    Ok(out)
}

/// Average ranks (1-based; ties share the mean of their ranks), as scipy's `rankdata`.
fn ranks(v: &[f64]) -> Vec<f64> {
    let mut idx: Vec<usize> = (0..v.len()).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            r[k] = avg;
        }
        i = j + 1;
    }
    r
}

/// Spearman rank correlation (Pearson correlation of average ranks, as scipy's `spearmanr`); `None`
/// for fewer than 2 pairs or a constant series.
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    if x.len() != y.len() || x.len() < 2 {
        return None;
    }
    let (rx, ry) = (ranks(x), ranks(y));
    let n = rx.len() as f64;
    let (mx, my) = (rx.iter().sum::<f64>() / n, ry.iter().sum::<f64>() / n);
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in rx.iter().zip(&ry) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx) * (a - mx);
        syy += (b - my) * (b - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}
