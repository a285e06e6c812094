//! Every validator of one checkpoint at once, and Spearman correlation to judge them against the truth.

use serde::{Deserialize, Serialize};

use super::super::cohesion::{information_maximization, snd};
use super::super::compare::predictions;
use super::super::{check_finite, DomainData, MetricsResult};
use super::atc::{atc, AtcScore};
use super::clustering::{class_ami, ClassAmiInit, KMeansParams, DEFAULT_CLASS_AMI_INIT};
use super::common::undefined;
use super::confidence::{bnm, entropy_score};
use super::dev::{dev, Dev, DevParams};

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

/// Validators whose value depends on [`ValidatorParams::seed`] (DEV's folds; ClassAMI's k-means++).
pub fn is_random(name: &str, params: &ValidatorParams) -> bool {
    name == "dev" || (name == "class_ami" && params.class_ami_init == ClassAmiInit::KMeansPlusPlus)
}

/// Parameters of [`label_free_validators`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorParams {
    /// SND temperature. Default 0.05.
    pub snd_temperature: f64,
    /// k-means of ClassAMI.
    pub kmeans: KMeansParams,
    /// How ClassAMI starts its k-means. Default [`DEFAULT_CLASS_AMI_INIT`].
    pub class_ami_init: ClassAmiInit,
    /// DEV's cross-fitted discriminator.
    pub dev: DevParams,
    /// Seed of the random validators: DEV's folds and ClassAMI's k-means++.
    pub seed: u64,
}

impl Default for ValidatorParams {
    fn default() -> Self {
        Self {
            snd_temperature: 0.05,
            kmeans: KMeansParams::default(),
            class_ami_init: DEFAULT_CLASS_AMI_INIT,
            dev: DevParams::default(),
            seed: 0,
        }
    }
}

/// Whether a validator's value of one checkpoint can rank checkpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// A value that says something about the target.
    Informative,
    /// A value that is fixed by a structural reason (e.g. ATC is 1 whenever every source point is
    /// right), whatever the target: shown, never ranked.
    NotInformative,
    /// No value (missing logits, too few points, a degenerate discriminator).
    Undefined,
}

/// One validator's value for one checkpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorScore {
    /// Validator name (one of [`VALIDATORS`]).
    pub name: String,
    /// The value, when it could be computed (also when it is not informative).
    pub value: Option<f64>,
    /// Whether the value may rank checkpoints.
    pub verdict: Verdict,
    /// Why the value is not informative or undefined.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// DEV's details: discriminator accuracy, effective sample size, folds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev: Option<Dev>,
}

impl ValidatorScore {
    /// The value when it is informative: what ranks checkpoints.
    pub fn ranked(&self) -> Option<f64> {
        self.value.filter(|_| self.verdict == Verdict::Informative)
    }
}

/// Every validator of [`VALIDATORS`] for one checkpoint: target logits and embeddings, plus the labelled
/// source for DEV and ATC. Target labels are not read. A validator that cannot be computed (no logits,
/// too few points, constant weights) is [`Verdict::Undefined`] with the reason; one whose value is fixed
/// by a structural reason is [`Verdict::NotInformative`] with the reason:
/// - `entropy` of 0: every target prediction is certain, the score sits at its ceiling;
/// - `class_ami` when every target point is predicted as one class: no class structure to cluster;
/// - `atc_mc`, `atc_ne` when every source point is classified correctly: the threshold lies below every
///   score, so ATC is 1 whatever the target.
///
/// Invalid input is `Err`.
pub fn label_free_validators(
    source: &DomainData,
    target: &DomainData,
    params: &ValidatorParams,
) -> MetricsResult<Vec<ValidatorScore>> {
    source.validate("source")?;
    check_finite(target.embedding, "target embedding")?;
    let mut out = Vec::new();
    let mut push =
        |name: &str, r: MetricsResult<f64>, structural: Option<&str>, dev: Option<Dev>| {
            let (value, verdict, reason) = match r {
                Ok(v) => match structural {
                    Some(why) => (Some(v), Verdict::NotInformative, Some(why.to_string())),
                    None => (Some(v), Verdict::Informative, None),
                },
                Err(e) => (None, Verdict::Undefined, Some(e.into_reason()?)),
            };
            out.push(ValidatorScore {
                name: name.into(),
                value,
                verdict,
                reason,
                dev,
            });
            MetricsResult::Ok(())
        };
    let Some(tl) = target.logits else {
        for name in VALIDATORS {
            push(
                name,
                Err(undefined(name, "target logits absent")),
                None,
                None,
            )?;
        }
        return Ok(out);
    };
    let entropy = entropy_score(tl);
    let certain = matches!(entropy, Ok(v) if v == 0.0);
    push(
        "entropy",
        entropy,
        certain.then_some(
            "every target prediction is certain (entropy 0): the score is at its ceiling",
        ),
        None,
    )?;
    push("im", information_maximization(tl), None, None)?;
    push("snd", snd(tl, params.snd_temperature), None, None)?;
    push("bnm", bnm(tl), None, None)?;
    let pseudo = predictions(tl);
    let one_class = pseudo.windows(2).all(|w| w[0] == w[1]);
    push(
        "class_ami",
        class_ami(
            target.embedding,
            tl,
            &params.kmeans,
            params.class_ami_init,
            params.seed,
        ),
        one_class.then_some(
            "every target image is predicted as one class: the pseudo-labels have no structure to cluster",
        ),
        None,
    )?;
    let d = dev(source, target.embedding, &params.dev, params.seed);
    let details = d.as_ref().ok().cloned();
    push("dev", d.map(|d| d.score), None, details)?;
    let all_right = source.logits.is_some_and(|sl| {
        predictions(sl)
            .iter()
            .zip(source.labels.iter())
            .all(|(&p, &y)| i64::try_from(p).is_ok_and(|p| p == y))
    });
    let why_atc = all_right.then_some(
        "every source point is classified correctly: the threshold lies below every score, so ATC is 1 whatever the target",
    );
    push(
        "atc_mc",
        atc(source, tl, AtcScore::MaxConfidence),
        why_atc,
        None,
    )?;
    push(
        "atc_ne",
        atc(source, tl, AtcScore::NegativeEntropy),
        why_atc,
        None,
    )?;
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
