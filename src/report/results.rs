//! `results.csv`: one tidy row per run, domain and measure.

use std::path::Path;

use super::input::ReportInput;

/// Header of `results.csv`.
pub const RESULTS_HEADER: [&str; 6] = ["model", "pair", "split", "domain", "metric", "value"];

/// Domain column of cohesion rows.
pub const PAIR_DOMAIN: &str = "pair";

/// One row of `results.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResultRow {
    /// Display name of the run's model.
    pub model: String,
    /// Pair in domain codes.
    pub pair: String,
    /// Split.
    pub split: String,
    /// Domain name, or `pair` for cohesion measures.
    pub domain: String,
    /// Measure: `n`, `accuracy`, `auroc`, `accuracy_ci_low`, `accuracy_ci_high`, `auroc_ci_low`,
    /// `auroc_ci_high`, or a cohesion measure name.
    pub metric: String,
    /// Value (fractions for accuracy and AUROC); `None` when undefined (written as an empty field).
    pub value: Option<f64>,
}

/// The rows of `results.csv`: for every run that did not fail, its source and target domains'
/// classification figures, then its pair's cohesion measures (a scalable estimate followed by its
/// `<measure>_ci_low` and `<measure>_ci_high`). Failed runs have no rows.
pub fn results_rows(input: &ReportInput) -> Vec<ResultRow> {
    let mut rows = Vec::new();
    for r in input.runs.iter().filter(|r| !r.failed()) {
        let Some(eval) = r.eval() else { continue };
        let split = if eval.split.is_empty() {
            input.split.clone()
        } else {
            eval.split.clone()
        };
        let mut push = |domain: &str, metric: &str, value: Option<f64>| {
            rows.push(ResultRow {
                model: r.label(),
                pair: r.pair.clone(),
                split: split.clone(),
                domain: domain.to_string(),
                metric: metric.to_string(),
                value,
            })
        };
        let mut domains = vec![r.source()];
        if r.target() != r.source() {
            domains.push(r.target());
        }
        for name in domains {
            let Some(d) = eval.domain(name) else { continue };
            let Some(c) = &d.classification else { continue };
            push(name, "n", Some(d.n as f64));
            push(name, "accuracy", Some(c.accuracy));
            push(name, "auroc", c.auroc);
            if let Some(ci) = &c.accuracy_ci {
                push(name, "accuracy_ci_low", Some(ci.lower));
                push(name, "accuracy_ci_high", Some(ci.upper));
            }
            if let Some(ci) = &c.auroc_ci {
                push(name, "auroc_ci_low", Some(ci.lower));
                push(name, "auroc_ci_high", Some(ci.upper));
            }
        }
        if let Some(p) = r.pair_result() {
            for m in &p.cohesion.metrics {
                push(PAIR_DOMAIN, &m.name, m.value);
                // a scalable estimate's interval (level in metrics.json), named like the classification intervals
                if let Some(iv) = &m.interval {
                    push(PAIR_DOMAIN, &format!("{}_ci_low", m.name), Some(iv.lower));
                    push(PAIR_DOMAIN, &format!("{}_ci_high", m.name), Some(iv.upper));
                }
            }
        }
    }
    rows
}

/// Write `results.csv` atomically. Values use Rust's shortest round-trip formatting, so parsing a field
/// gives back the exact `f64`.
pub(super) fn write_results(path: &Path, input: &ReportInput) -> crate::Result<()> {
    let rows = results_rows(input);
    crate::atomic::write_csv(path, |c| {
        c.write_record(RESULTS_HEADER)?;
        for r in &rows {
            let v = r
                .value
                .filter(|x| x.is_finite())
                .map(|x| format!("{x}"))
                .unwrap_or_default();
            c.write_record([&r.model, &r.pair, &r.split, &r.domain, &r.metric, &v])?;
        }
        Ok(())
    })?;
    Ok(())
}
