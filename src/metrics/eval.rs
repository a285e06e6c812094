//! What `eval` computes for one model and split, as data: classification results per domain and
//! cohesion measures per pair. Pure computation; reading embeddings and writing the files is the
//! pipeline's job ([`crate::pipeline::eval`]).

use serde::{Deserialize, Serialize};

use crate::dataset::{Domain, Pair};

use super::transfer::{transfer, TransferParams, TransferReport};
use super::{
    classification_report, cohesion, ClassificationParams, ClassificationReport, CohesionParams,
    CohesionReport, DomainData, MetricsResult, ScaleParams,
};

/// Classification result of one domain.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DomainResult {
    /// Domain name.
    pub domain: String,
    /// Domain code.
    pub code: String,
    /// Rows.
    pub n: usize,
    /// The report (absent when the model has no logits).
    pub classification: Option<ClassificationReport>,
}

/// Cohesion result of one pair.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PairResult {
    /// `S-T` in domain codes.
    pub pair: String,
    /// Source domain name.
    pub source: String,
    /// Target domain name.
    pub target: String,
    /// The measures.
    pub cohesion: CohesionReport,
}

/// Per-class transfer of one pair.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PairTransfer {
    /// `S-T` in domain codes.
    pub pair: String,
    /// Source domain name.
    pub source: String,
    /// Target domain name.
    pub target: String,
    /// The per-class table, misalignment matrix and pulls.
    pub transfer: TransferReport,
}

/// Settings recorded with the results.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EvalSettings {
    /// Bootstrap resamples.
    pub bootstrap_resamples: usize,
    /// Confidence level.
    pub level: f64,
    /// Seed of the bootstrap, the proxy-A split and subsamples.
    pub seed: u64,
    /// k of the kNN transfer accuracy.
    pub knn_k: usize,
    /// k of the domain kNN purity.
    pub purity_k: usize,
    /// Exact or scalable quadratic measures: mode, threshold, anchors and repeats (absent in results
    /// written before the scalable mode existed).
    #[serde(default)]
    pub cohesion_scale: ScaleParams,
}

/// Everything `eval` computes for one model and split.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EvalResults {
    /// Model file stem.
    pub model: String,
    /// Model SHA-256.
    pub model_sha256: String,
    /// Split.
    pub split: String,
    /// Class names in logit order.
    pub class_names: Vec<String>,
    /// Per domain.
    pub domains: Vec<DomainResult>,
    /// Per pair.
    pub pairs: Vec<PairResult>,
    /// Per-class transfer per pair (absent in results written before it existed).
    #[serde(default)]
    pub transfer: Vec<PairTransfer>,
    /// Settings.
    pub settings: EvalSettings,
    /// Notices (skipped measures, classes left out of AUROC means).
    pub notices: Vec<String>,
    /// dannscope version.
    pub dannscope_version: String,
}

impl EvalResults {
    /// The result of a domain by name.
    pub fn domain(&self, name: &str) -> Option<&DomainResult> {
        self.domains.iter().find(|d| d.domain == name)
    }
}

/// One domain's data for [`domain_result`].
#[derive(Debug, Clone)]
pub struct EvalDomain<'a> {
    /// The domain (name and code).
    pub domain: &'a Domain,
    /// Embeddings, logits and labels.
    pub data: DomainData<'a>,
}

/// The classification result of one domain, with notices (classes left out of the AUROC mean, or no
/// logits).
pub fn domain_result(
    d: &EvalDomain,
    n_classes: usize,
    cls: &ClassificationParams,
) -> MetricsResult<(DomainResult, Vec<String>)> {
    let mut notices = Vec::new();
    let classification = match d.data.logits {
        Some(l) => {
            let r = classification_report(l, d.data.labels, n_classes, cls)?;
            notices.extend(r.notices.iter().map(|n| format!("{}: {n}", d.domain.name)));
            Some(r)
        }
        None => {
            notices.push(format!(
                "{}: the model has no logits; accuracy and AUROC are skipped",
                d.domain.name
            ));
            None
        }
    };
    Ok((
        DomainResult {
            domain: d.domain.name.clone(),
            code: d.domain.code.clone(),
            n: d.data.len(),
            classification,
        },
        notices,
    ))
}

/// The cohesion measures of one pair, with a notice per measure that could not be computed.
pub fn pair_result(
    source: &EvalDomain,
    target: &EvalDomain,
    coh: &CohesionParams,
) -> MetricsResult<(PairResult, Vec<String>)> {
    let pair = Pair::of(source.domain, target.domain).to_string();
    let c = cohesion(&source.data, &target.data, coh)?;
    let notices = c
        .metrics
        .iter()
        .filter_map(|m| {
            if let Some(r) = &m.reason {
                return Some(format!("{pair}: {}: {r}", m.name));
            }
            m.interval.as_ref().map(|i| {
                format!(
                    "{pair}: {}: scalable estimate, {}% interval {:.6}…{:.6} ({} samples of {} anchors)",
                    m.name,
                    100.0 * i.level,
                    i.lower,
                    i.upper,
                    i.repeats,
                    i.anchors
                )
            })
        })
        .collect();
    Ok((
        PairResult {
            pair,
            source: source.domain.name.clone(),
            target: target.domain.name.clone(),
            cohesion: c,
        },
        notices,
    ))
}

/// The per-class transfer of one pair (labels of both domains needed), with a notice per measure that
/// could not be computed.
pub fn pair_transfer(
    source: &EvalDomain,
    target: &EvalDomain,
    n_classes: usize,
    params: &TransferParams,
) -> MetricsResult<(PairTransfer, Vec<String>)> {
    let pair = Pair::of(source.domain, target.domain).to_string();
    let t = transfer(&source.data, &target.data, n_classes, params)?;
    let notices = t
        .notices
        .iter()
        .map(|n| format!("{pair}: transfer: {n}"))
        .collect();
    Ok((
        PairTransfer {
            pair,
            source: source.domain.name.clone(),
            target: target.domain.name.clone(),
            transfer: t,
        },
        notices,
    ))
}

/// The settings recorded with the results.
pub fn settings(cls: &ClassificationParams, coh: &CohesionParams) -> EvalSettings {
    EvalSettings {
        bootstrap_resamples: cls.n_resamples,
        level: cls.level,
        seed: cls.seed,
        knn_k: coh.knn_k,
        purity_k: coh.purity_k,
        cohesion_scale: coh.scale,
    }
}
