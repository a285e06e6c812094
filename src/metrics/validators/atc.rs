//! Average thresholded confidence: a target accuracy estimate from the source's confidence threshold.

use ndarray::ArrayView2;
use serde::{Deserialize, Serialize};

use super::super::{softmax_f64, DomainData, MetricsResult};
use super::common::{too_few, undefined};

/// The per-point score that ATC thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AtcScore {
    /// Largest softmax probability.
    MaxConfidence,
    /// Negative entropy `Σ_c p_c ln(p_c + 1e-20)` (the authors' `get_entropy`).
    NegativeEntropy,
}

/// ATC scores of every row.
pub fn atc_scores(logits: ArrayView2<f32>, kind: AtcScore) -> Vec<f64> {
    let p = softmax_f64(logits);
    p.outer_iter()
        .map(|r| match kind {
            AtcScore::MaxConfidence => r.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            AtcScore::NegativeEntropy => r.iter().map(|&v| v * (v + 1e-20).ln()).sum(),
        })
        .collect()
}

/// ATC threshold (the authors' `find_ATC_threshold`): walk the source scores in ascending order (stable
/// sort) and keep the score at which `|#wrong above − #right at or below|` is smallest (first minimum).
/// The walk starts from "every point above the threshold", whose threshold is −∞ (the authors start
/// from 0, which is −∞ for max-confidence scores but not for negative entropy).
pub fn atc_threshold(scores: &[f64], correct: &[bool]) -> f64 {
    let mut idx: Vec<usize> = (0..scores.len()).collect();
    idx.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    let mut fp = correct.iter().filter(|&&c| !c).count() as i64;
    let mut fn_ = 0i64;
    let mut best = (fp - fn_).abs();
    let mut thres = f64::NEG_INFINITY;
    for &i in &idx {
        if correct[i] {
            fn_ += 1;
        } else {
            fp -= 1;
        }
        if (fp - fn_).abs() < best {
            best = (fp - fn_).abs();
            thres = scores[i];
        }
    }
    thres
}

/// ATC (Garg et al. 2022, "Leveraging unlabeled data to predict out-of-distribution performance"):
/// the share of target points whose score is at least the threshold learnt on the labelled source.
pub fn atc(
    source: &DomainData,
    target_logits: ArrayView2<f32>,
    kind: AtcScore,
) -> MetricsResult<f64> {
    let sl = source
        .logits
        .ok_or_else(|| undefined("atc", "source logits absent"))?;
    if source.is_empty() || target_logits.nrows() == 0 {
        return Err(too_few("atc", 1, 0));
    }
    let pred = super::super::compare::predictions(sl);
    let correct: Vec<bool> = pred
        .iter()
        .zip(source.labels.iter())
        .map(|(&p, &y)| i64::try_from(p).is_ok_and(|p| p == y))
        .collect();
    let t = atc_threshold(&atc_scores(sl, kind), &correct);
    let ts = atc_scores(target_logits, kind);
    Ok(ts.iter().filter(|&&s| s >= t).count() as f64 / ts.len() as f64)
}
