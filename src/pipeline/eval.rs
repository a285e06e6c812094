//! The eval job: classification results per domain and cohesion measures per pair from stored
//! embeddings, written as `classification.csv`, `cohesion.csv` and `metrics.json` in
//! [`crate::layout::Layout::metrics`].

use std::path::Path;

use super::Embedded;
use crate::error::{Error, Result, ResultExt};
use crate::metrics::eval::{self, EvalDomain, EvalResults};
use crate::metrics::DomainData;
use crate::settings::MetricSettings;
use crate::store::DomainEmbeddings;

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

fn view(d: &DomainEmbeddings) -> DomainData<'_> {
    DomainData::new(
        d.embedding.view(),
        d.logits.as_ref().map(|l| l.view()),
        d.label.view(),
    )
}

/// Compute the results of every domain of `e`, and of the `pairs` (indices into its domains).
pub fn evaluate(
    model: &str,
    e: &Embedded,
    pairs: &[(usize, usize)],
    set: &MetricSettings,
) -> Result<EvalResults> {
    let first = e
        .data
        .first()
        .ok_or_else(|| Error::Invalid("nothing to evaluate: no domains".into()))?;
    let class_names = first.record.class_names.clone();
    let mut inputs = Vec::with_capacity(e.data.len());
    for (dom, d) in e.domains.iter().zip(&e.data) {
        if d.record.class_names != class_names {
            return Err(Error::Invalid(format!(
                "domain \"{}\" was embedded with other class names than \"{}\"",
                dom.name, e.domains[0].name
            )));
        }
        inputs.push(EvalDomain {
            name: &dom.name,
            code: &dom.code,
            data: view(d),
        });
    }
    let mut notices = Vec::new();
    let mut domains = Vec::new();
    for (inp, d) in inputs.iter().zip(&e.data) {
        let (r, n) = eval::domain_result(inp, class_names.len(), set.classification())
            .context_with(|| format!("{} ({} split)", d.record.domain, d.record.split))?;
        domains.push(r);
        notices.extend(n);
    }
    let mut pair_results = Vec::new();
    for &(s, t) in pairs {
        let (r, n) = eval::pair_result(&inputs[s], &inputs[t], set.cohesion())
            .context_with(|| format!("pair {}-{}", e.domains[s].code, e.domains[t].code))?;
        pair_results.push(r);
        notices.extend(n);
    }
    Ok(EvalResults {
        model: model.to_string(),
        model_sha256: first.record.model.sha256.clone(),
        split: e.key.split_dir(),
        class_names,
        domains,
        pairs: pair_results,
        settings: eval::settings(set.classification(), set.cohesion()),
        notices,
        dannscope_version: env!("CARGO_PKG_VERSION").into(),
    })
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

fn write_csv(
    path: &Path,
    fill: impl FnOnce(&mut csv::Writer<&mut dyn std::io::Write>) -> csv::Result<()>,
) -> Result<()> {
    crate::atomic::write_with(path, |w| {
        let mut c = csv::Writer::from_writer(w);
        fill(&mut c).map_err(std::io::Error::other)?;
        c.flush()
    })
    .map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

/// Write `classification.csv`, `cohesion.csv` and `metrics.json` into `dir` (atomically, each).
pub fn write(dir: &Path, r: &EvalResults) -> Result<()> {
    write_csv(&dir.join("classification.csv"), |c| {
        c.write_record(CLASSIFICATION_HEADER)?;
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
            ])?;
        }
        Ok(())
    })?;
    write_csv(&dir.join("cohesion.csv"), |c| {
        c.write_record(COHESION_HEADER)?;
        for p in &r.pairs {
            for m in &p.cohesion.metrics {
                c.write_record([&r.model, &r.split, &p.pair, &m.name, &num(m.value)])?;
            }
        }
        Ok(())
    })?;
    crate::store::write_json(&dir.join("metrics.json"), r)
}

/// Read `metrics.json` back.
pub fn read(dir: &Path) -> Result<EvalResults> {
    crate::store::read_json(&dir.join("metrics.json"))
}
