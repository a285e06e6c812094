//! One verdict per adapted run, and one summary for the study: what the comparison with the
//! source-only baseline of the same pair shows, stated in a sentence with its numbers.
//!
//! The rules (also in `docs/metrics.md`, "Verdicts"):
//! - the accuracy change is *significant* when McNemar's exact p is below [`ALPHA`] **and** the
//!   paired bootstrap interval of the difference excludes 0 (when there is an interval); the
//!   verdict is then a gain or negative transfer by its sign;
//! - when only one of the two holds, the verdict is a *possible* gain or negative transfer, and says
//!   which evidence is missing; when neither holds, "no clear change";
//! - the domains are *closer* when the proxy A-distance of the adapted run is lower than the
//!   baseline's by at least [`A_DISTANCE_MARGIN`], *further apart* when it is higher by that much,
//!   otherwise about as separable;
//! - a run without a comparable baseline gets no verdict.

use std::fmt::Write as _;

use super::effect::{points_interval, signed_points, EffectRow};
use super::input::{pair_arrow, RunOutcome};
use crate::text::p_value;

/// Significance level of the accuracy change (McNemar's exact test).
pub const ALPHA: f64 = 0.05;

/// Smallest change of the proxy A-distance (range 0–2) read as domains closer or further apart.
pub const A_DISTANCE_MARGIN: f64 = 0.1;

/// What the comparison with the baseline shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Target accuracy significantly higher than the baseline's.
    Gain,
    /// Target accuracy significantly lower than the baseline's.
    NegativeTransfer,
    /// Higher target accuracy on one of the two pieces of evidence only (test or interval).
    PossibleGain,
    /// Lower target accuracy on one of the two pieces of evidence only (test or interval).
    PossibleNegativeTransfer,
    /// No significant change of target accuracy.
    NoClearChange,
}

impl Outcome {
    /// A short key for styles and machine readers: `gain`, `negative`, `possible-gain`,
    /// `possible-negative`, `unclear`.
    pub fn key(self) -> &'static str {
        match self {
            Outcome::Gain => "gain",
            Outcome::NegativeTransfer => "negative",
            Outcome::PossibleGain => "possible-gain",
            Outcome::PossibleNegativeTransfer => "possible-negative",
            Outcome::NoClearChange => "unclear",
        }
    }
}

/// The verdict of one adapted run.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// Pair in domain codes.
    pub pair: String,
    /// What the comparison shows.
    pub outcome: Outcome,
    /// Adapted − source-only target accuracy, in points.
    pub delta: f64,
    /// The sentence, with its numbers.
    pub text: String,
}

/// The outcome of an accuracy change of `delta` points with its interval and McNemar p-value.
pub fn classify(delta: f64, ci: Option<(f64, f64)>, p: f64) -> Outcome {
    let excludes_zero = ci.is_none_or(|(lo, hi)| lo > 0.0 || hi < 0.0);
    let test = p < ALPHA;
    match (test, excludes_zero) {
        _ if delta == 0.0 => Outcome::NoClearChange,
        (true, true) if delta > 0.0 => Outcome::Gain,
        (true, true) => Outcome::NegativeTransfer,
        (true, false) | (false, true) if delta > 0.0 => Outcome::PossibleGain,
        (true, false) | (false, true) => Outcome::PossibleNegativeTransfer,
        (false, false) => Outcome::NoClearChange,
    }
}

/// The verdict of `run` against its source-only baseline, `None` when `run` is a baseline, failed, or
/// was not compared with a baseline. `effect` is the run's row of the effect table (for the
/// A-distance of both runs), when there is one.
pub fn verdict(run: &RunOutcome, effect: Option<&EffectRow>) -> Option<Verdict> {
    if run.is_baseline() || run.failed() {
        return None;
    }
    let b = run.results()?.diagnosis.baseline.as_ref()?;
    let delta = b.difference * 100.0;
    let ci = b.difference_ci.map(|(lo, hi)| (lo * 100.0, hi * 100.0));
    let outcome = classify(delta, ci, b.p_value);
    let interval = ci
        .map(|i| format!(" {}", points_interval(i)))
        .unwrap_or_default();
    let p = p_value(b.p_value);
    let mut text = match outcome {
        Outcome::Gain => format!(
            "Adaptation improves target accuracy by {} points{interval} over source only, McNemar p = {p}",
            signed_points(delta)
        ),
        Outcome::NegativeTransfer => format!(
            "Negative transfer: target accuracy {} points{interval} against source only, McNemar p = {p}",
            signed_points(delta)
        ),
        Outcome::PossibleGain | Outcome::PossibleNegativeTransfer => {
            let which = if b.p_value < ALPHA {
                "the interval includes 0"
            } else {
                "the McNemar test is not significant"
            };
            format!(
                "Possible {}: target accuracy {} points{interval} against source only, McNemar p = {p} ({which})",
                if outcome == Outcome::PossibleGain {
                    "gain"
                } else {
                    "negative transfer"
                },
                signed_points(delta)
            )
        }
        Outcome::NoClearChange => format!(
            "No clear change in target accuracy: {} points{interval} against source only, McNemar p = {p}",
            signed_points(delta)
        ),
    };
    if let Some((a, s)) =
        effect.and_then(|e| Some((e.adapted.a_distance?, e.source_only.a_distance?)))
    {
        let _ = write!(text, "; {}", domains_clause(a, s));
    }
    text.push('.');
    Some(Verdict {
        pair: run.pair.clone(),
        outcome,
        delta,
        text,
    })
}

/// How the proxy A-distance moved from the baseline (`source_only`) to the adapted run.
pub fn domains_clause(adapted: f64, source_only: f64) -> String {
    let how = if adapted <= source_only - A_DISTANCE_MARGIN {
        "domains closer"
    } else if adapted >= source_only + A_DISTANCE_MARGIN {
        "domains further apart"
    } else {
        "domains about as separable"
    };
    format!("{how} (A-distance {source_only:.2} → {adapted:.2})")
}

/// One sentence on the whole study from its verdicts: on how many pairs adaptation helps, the best
/// pair, the mean change and any negative transfer; `None` without verdicts.
pub fn summary(verdicts: &[&Verdict]) -> Option<String> {
    if verdicts.is_empty() {
        return None;
    }
    let n = verdicts.len();
    let gains: Vec<&&Verdict> = verdicts
        .iter()
        .filter(|v| v.outcome == Outcome::Gain)
        .collect();
    let mean = verdicts.iter().map(|v| v.delta).sum::<f64>() / n as f64;
    let mut s = format!(
        "Adaptation significantly improves target accuracy on {} of {} compared run{}",
        gains.len(),
        n,
        if n == 1 { "" } else { "s" }
    );
    if let Some(best) = gains
        .iter()
        .max_by(|a, b| a.delta.total_cmp(&b.delta).then(b.pair.cmp(&a.pair)))
    {
        let _ = write!(
            s,
            " (largest gain {}: {} points)",
            pair_arrow(&best.pair),
            signed_points(best.delta)
        );
    }
    let _ = write!(s, "; mean change {} points", signed_points(mean));
    let listed = |outcome: Outcome| -> Vec<String> {
        verdicts
            .iter()
            .filter(|v| v.outcome == outcome)
            .map(|v| {
                format!(
                    "{} ({} points)",
                    pair_arrow(&v.pair),
                    signed_points(v.delta)
                )
            })
            .collect()
    };
    let negative = listed(Outcome::NegativeTransfer);
    let possible = listed(Outcome::PossibleNegativeTransfer);
    if !negative.is_empty() {
        let _ = write!(s, "; negative transfer on {}", negative.join(", "));
    }
    if !possible.is_empty() {
        let _ = write!(s, "; possible negative transfer on {}", possible.join(", "));
    }
    if negative.is_empty() && possible.is_empty() {
        s.push_str("; no negative transfer");
    }
    s.push('.');
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(pair: &str, outcome: Outcome, delta: f64) -> Verdict {
        Verdict {
            pair: pair.into(),
            outcome,
            delta,
            text: String::new(),
        }
    }

    #[test]
    fn significance_needs_both_the_test_and_the_interval() {
        assert_eq!(classify(12.5, Some((7.5, 17.5)), 4e-4), Outcome::Gain);
        assert_eq!(
            classify(-10.0, Some((-20.0, -1.2)), 0.01),
            Outcome::NegativeTransfer
        );
        // significant test, interval touching 0: only possible
        assert_eq!(
            classify(3.0, Some((-0.5, 6.0)), 0.04),
            Outcome::PossibleGain
        );
        // interval clear of 0, test not significant: only possible
        assert_eq!(
            classify(-10.0, Some((-20.0, -1.2)), 0.077),
            Outcome::PossibleNegativeTransfer
        );
        assert_eq!(
            classify(3.0, Some((-1.0, 6.0)), 0.2),
            Outcome::NoClearChange
        );
        assert_eq!(classify(3.0, None, 0.01), Outcome::Gain);
        assert_eq!(classify(0.0, None, 0.01), Outcome::NoClearChange);
    }

    #[test]
    fn the_a_distance_must_move_by_the_margin() {
        assert_eq!(
            domains_clause(1.2, 1.9),
            "domains closer (A-distance 1.90 → 1.20)"
        );
        assert_eq!(
            domains_clause(1.5, 1.25),
            "domains further apart (A-distance 1.25 → 1.50)"
        );
        assert_eq!(
            domains_clause(1.62, 1.68),
            "domains about as separable (A-distance 1.68 → 1.62)"
        );
    }

    #[test]
    fn summary_names_the_best_gain_and_every_negative_transfer() {
        let a = v("R-P", Outcome::Gain, 12.0);
        let b = v("P-C", Outcome::Gain, 20.0);
        let c = v("C-A", Outcome::NegativeTransfer, -8.0);
        let d = v("A-R", Outcome::NoClearChange, 1.0);
        let e = v("A-C", Outcome::PossibleNegativeTransfer, -4.0);
        let s = summary(&[&a, &b, &c, &d, &e]).unwrap();
        assert_eq!(
            s,
            "Adaptation significantly improves target accuracy on 2 of 5 compared runs \
             (largest gain P→C: +20.0 points); mean change +4.2 points; negative transfer on C→A (−8.0 points); \
             possible negative transfer on A→C (−4.0 points)."
        );
        assert!(summary(&[]).is_none());
        let s = summary(&[&d]).unwrap();
        assert!(s.ends_with("no negative transfer."), "{s}");
        assert!(!s.contains("largest"), "{s}");
    }
}
