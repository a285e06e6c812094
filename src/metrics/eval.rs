//! The `eval` job: classification reports per domain and cohesion measures per pair, computed from stored
//! embeddings, written as `classification.csv`, `cohesion.csv` and `metrics.json`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{
    classification_report, cohesion, ClassificationParams, ClassificationReport, CohesionParams,
    CohesionReport, DomainData,
};
use crate::dataset::Domain;
use crate::error::{Error, Result};
use crate::store::{self, DomainEmbeddings};

/// Header of `classification.csv`.
pub const CLASSIFICATION_HEADER: [&str; 10] = [
    "model",
    "split",
    "domain",
    "n",
    "accuracy",
    "auroc",
    "accuracy_ci_low",
    "accuracy_ci_high",
    "auroc_ci_low",
    "auroc_ci_high",
];

/// Header of `cohesion.csv`.
pub const COHESION_HEADER: [&str; 5] = ["model", "split", "pair", "metric", "value"];

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

fn view(d: &DomainEmbeddings) -> DomainData<'_> {
    DomainData::new(
        d.embedding.view(),
        d.logits.as_ref().map(|l| l.view()),
        d.label.view(),
    )
}

/// Compute the results. `data[i]` belongs to `domains[i]`; `pairs` index into them.
pub fn evaluate(
    model: &str,
    split: &str,
    domains: &[Domain],
    data: &[DomainEmbeddings],
    pairs: &[(usize, usize)],
    cls: &ClassificationParams,
    coh: &CohesionParams,
) -> Result<EvalResults> {
    let first = data
        .first()
        .ok_or_else(|| Error::Invalid("nothing to evaluate: no domains".into()))?;
    let class_names = first.record.class_names.clone();
    let mut notices = Vec::new();
    let mut out = Vec::new();
    for (dom, d) in domains.iter().zip(data) {
        if d.record.class_names != class_names {
            return Err(Error::Invalid(format!(
                "domain \"{}\" was embedded with other class names than \"{}\"",
                dom.name, domains[0].name
            )));
        }
        let classification = match &d.logits {
            Some(l) => {
                let r = classification_report(l.view(), d.label.view(), class_names.len(), cls)
                    .map_err(|e| metric_err(&d.record, e))?;
                notices.extend(r.notices.iter().map(|n| format!("{}: {n}", dom.name)));
                Some(r)
            }
            None => {
                notices.push(format!(
                    "{}: the model has no logits; accuracy and AUROC are skipped",
                    dom.name
                ));
                None
            }
        };
        out.push(DomainResult {
            domain: dom.name.clone(),
            code: dom.code.clone(),
            n: d.embedding.nrows(),
            classification,
        });
    }
    let mut pair_results = Vec::new();
    for &(s, t) in pairs {
        let c = cohesion(&view(&data[s]), &view(&data[t]), coh).map_err(|e| {
            Error::Invalid(format!("pair {}-{}: {e}", domains[s].code, domains[t].code))
        })?;
        for m in &c.metrics {
            if let Some(r) = &m.reason {
                notices.push(format!(
                    "{}-{}: {}: {r}",
                    domains[s].code, domains[t].code, m.name
                ));
            }
        }
        pair_results.push(PairResult {
            pair: format!("{}-{}", domains[s].code, domains[t].code),
            source: domains[s].name.clone(),
            target: domains[t].name.clone(),
            cohesion: c,
        });
    }
    Ok(EvalResults {
        model: model.to_string(),
        model_sha256: first.record.model.sha256.clone(),
        split: split.to_string(),
        class_names,
        domains: out,
        pairs: pair_results,
        settings: EvalSettings {
            bootstrap_resamples: cls.n_resamples,
            level: cls.level,
            seed: cls.seed,
            knn_k: coh.knn_k,
            purity_k: coh.purity_k,
        },
        notices,
        dannscope_version: env!("CARGO_PKG_VERSION").into(),
    })
}

fn metric_err(rec: &store::EmbeddingRecord, e: super::MetricsError) -> Error {
    Error::Invalid(format!("{} ({} split): {e}", rec.domain, rec.split))
}

/// Folder of one model's metrics of one split.
pub fn metrics_dir(out: &Path, model_stem: &str, split: &str) -> PathBuf {
    out.join("metrics").join(model_stem).join(split)
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// Write `classification.csv`, `cohesion.csv` and `metrics.json` into `dir` (atomically, each).
pub fn write(dir: &Path, r: &EvalResults) -> Result<()> {
    let csv_err = |e: csv::Error| std::io::Error::other(e.to_string());
    store::atomic_write(&dir.join("classification.csv"), |w| {
        let mut c = csv::Writer::from_writer(w);
        c.write_record(CLASSIFICATION_HEADER).map_err(csv_err)?;
        for d in &r.domains {
            let Some(cl) = &d.classification else {
                continue;
            };
            c.write_record([
                r.model.clone(),
                r.split.clone(),
                d.domain.clone(),
                d.n.to_string(),
                format!("{}", cl.accuracy),
                num(cl.auroc),
                num(cl.accuracy_ci.as_ref().map(|i| i.lower)),
                num(cl.accuracy_ci.as_ref().map(|i| i.upper)),
                num(cl.auroc_ci.as_ref().map(|i| i.lower)),
                num(cl.auroc_ci.as_ref().map(|i| i.upper)),
            ])
            .map_err(csv_err)?;
        }
        c.flush()
    })?;
    store::atomic_write(&dir.join("cohesion.csv"), |w| {
        let mut c = csv::Writer::from_writer(w);
        c.write_record(COHESION_HEADER).map_err(csv_err)?;
        for p in &r.pairs {
            for m in &p.cohesion.metrics {
                c.write_record([&r.model, &r.split, &p.pair, &m.name, &num(m.value)])
                    .map_err(csv_err)?;
            }
        }
        c.flush()
    })?;
    store::write_json(&dir.join("metrics.json"), r)
}

/// Read `metrics.json` back.
pub fn read(dir: &Path) -> Result<EvalResults> {
    store::read_json(&dir.join("metrics.json"))
}
