//! What the report is made of: the outcome of every run and the report's own settings, with the
//! identifiers and labels derived from them.

use std::path::PathBuf;

use crate::config::RunConfig;
use crate::metrics::eval::{DomainResult, EvalResults, PairResult, PairTransfer};

/// The outcome of one configured run (one model on one source→target pair): what every run has, and
/// either its results or why it failed.
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The run as configured.
    pub run: RunConfig,
    /// Display name (row label of the tables), e.g. "MobileNetV3".
    pub name: String,
    /// Group: `forward` (default), `reversed`, `baseline`, or any other name (one table per group).
    pub group: String,
    /// Pair in domain codes, e.g. `R-P`.
    pub pair: String,
    /// Done, with its results, or failed, with the reason.
    pub status: RunStatus,
}

/// Done or failed.
#[derive(Debug, Clone)]
pub enum RunStatus {
    /// The run finished; its results and figures.
    Done(Box<RunResults>),
    /// The run failed; the error and its causes.
    Failed(String),
}

/// What a finished run produced.
#[derive(Debug, Clone)]
pub struct RunResults {
    /// SHA-256 of the model file, hex.
    pub model_sha256: String,
    /// What the model's `embedding` output is ([`crate::model::ModelInfo::embedding_description`]).
    pub embedding: String,
    /// Per-domain classification and pair cohesion.
    pub eval: EvalResults,
    /// Source domain name.
    pub source: String,
    /// Target domain name.
    pub target: String,
    /// Joint t-SNE figure, PNG.
    pub tsne_png: Option<PathBuf>,
    /// Joint t-SNE figure, SVG.
    pub tsne_svg: Option<PathBuf>,
    /// The joint map's coordinates (`.npz` with `coords`, `domain`, `label`, `row`).
    pub map_npz: Option<PathBuf>,
    /// This run's map beside its source-only baseline's, PNG (adapted runs with a baseline).
    pub versus_png: Option<PathBuf>,
    /// The same, SVG.
    pub versus_svg: Option<PathBuf>,
    /// Evolution figure over checkpoints, PNG (runs with checkpoints).
    pub evolution_png: Option<PathBuf>,
    /// Training curves, PNG (runs with a training log).
    pub curves_png: Option<PathBuf>,
    /// Training curves, SVG.
    pub curves_svg: Option<PathBuf>,
    /// The run's explore page (one offline HTML map, every dot an image).
    pub explore_html: Option<PathBuf>,
    /// Galleries, the comparison with the baseline and the discriminator's view.
    pub diagnosis: super::diagnosis::RunDiagnosis,
}

impl RunOutcome {
    /// A finished run.
    pub fn done(run: RunConfig, name: &str, group: &str, pair: &str, results: RunResults) -> Self {
        Self {
            run,
            name: name.to_string(),
            group: group.to_string(),
            pair: pair.to_string(),
            status: RunStatus::Done(Box::new(results)),
        }
    }

    /// A failed run.
    pub fn failed_with(run: RunConfig, name: &str, group: &str, pair: &str, error: &str) -> Self {
        Self {
            run,
            name: name.to_string(),
            group: group.to_string(),
            pair: pair.to_string(),
            status: RunStatus::Failed(error.to_string()),
        }
    }

    /// The results of a finished run.
    pub fn results(&self) -> Option<&RunResults> {
        match &self.status {
            RunStatus::Done(r) => Some(r),
            RunStatus::Failed(_) => None,
        }
    }

    /// Why the run failed.
    pub fn error(&self) -> Option<&str> {
        match &self.status {
            RunStatus::Done(_) => None,
            RunStatus::Failed(e) => Some(e),
        }
    }

    /// The evaluation of a finished run.
    pub fn eval(&self) -> Option<&EvalResults> {
        self.results().map(|r| &r.eval)
    }

    /// The model's SHA-256 (finished runs).
    pub fn model_sha256(&self) -> Option<&str> {
        self.results().map(|r| r.model_sha256.as_str())
    }

    /// What the model's embedding is (finished runs).
    pub fn embedding(&self) -> Option<&str> {
        self.results().map(|r| r.embedding.as_str())
    }

    /// Source domain name ("" for a failed run).
    pub fn source(&self) -> &str {
        self.results().map_or("", |r| r.source.as_str())
    }

    /// Target domain name ("" for a failed run).
    pub fn target(&self) -> &str {
        self.results().map_or("", |r| r.target.as_str())
    }

    /// Whether the run failed.
    pub fn failed(&self) -> bool {
        matches!(self.status, RunStatus::Failed(_))
    }

    /// The classification result of a domain (by name) of this run's evaluation.
    pub fn domain(&self, name: &str) -> Option<&DomainResult> {
        self.eval()?.domain(name)
    }

    /// The cohesion result of this run's pair: the entry whose code pair equals [`RunOutcome::pair`],
    /// else the one with the same source and target names.
    pub fn pair_result(&self) -> Option<&PairResult> {
        let e = self.eval()?;
        e.pairs.iter().find(|p| p.pair == self.pair).or_else(|| {
            e.pairs
                .iter()
                .find(|p| p.source == self.source() && p.target == self.target())
        })
    }

    /// The per-class transfer of this run's pair (matched as [`RunOutcome::pair_result`]).
    pub fn pair_transfer(&self) -> Option<&PairTransfer> {
        let e = self.eval()?;
        e.transfer.iter().find(|p| p.pair == self.pair).or_else(|| {
            e.transfer
                .iter()
                .find(|p| p.source == self.source() && p.target == self.target())
        })
    }

    /// Target-domain accuracy (fraction).
    pub fn target_accuracy(&self) -> Option<f64> {
        Some(
            self.domain(self.target())?
                .classification
                .as_ref()?
                .accuracy,
        )
    }

    /// Target-domain macro one-vs-rest AUROC (fraction).
    pub fn target_auroc(&self) -> Option<f64> {
        self.domain(self.target())?.classification.as_ref()?.auroc
    }

    /// Whether the run belongs to the baseline group.
    pub fn is_baseline(&self) -> bool {
        self.group.trim().eq_ignore_ascii_case("baseline")
    }

    /// The run's label in every table and heading: its name, and for a baseline whose name does not
    /// already say so, the name followed by [`BASELINE_SUFFIX`] ("MobileNetV3 · source only"), so a
    /// baseline never shares a label with the adapted run of its architecture.
    pub fn label(&self) -> String {
        baseline_label(&self.name, self.is_baseline())
    }
}

/// What a baseline's label adds to its name.
pub const BASELINE_SUFFIX: &str = " · source only";

/// `name` as a row label: unchanged unless `baseline` and the name says neither "source only",
/// "source-only" nor "baseline" (any case), then with [`BASELINE_SUFFIX`].
pub fn baseline_label(name: &str, baseline: bool) -> String {
    let lower = name.to_lowercase();
    let says_so = ["source only", "source-only", "source_only", "baseline"]
        .iter()
        .any(|w| lower.contains(w));
    if baseline && !says_so {
        format!("{name}{BASELINE_SUFFIX}")
    } else {
        name.to_string()
    }
}

/// Everything the report shows.
#[derive(Debug, Clone)]
pub struct ReportInput {
    /// Title of the report.
    pub title: String,
    /// Split the numbers were computed on.
    pub split: String,
    /// The runs, in configuration order.
    pub runs: Vec<RunOutcome>,
    /// Settings shown in the report (data root, manifest, seeds, versions, engine, ...), in order.
    pub settings: Vec<(String, String)>,
}

/// A stable identifier per run, usable in file names and HTML anchors: the lower-case name with other
/// characters turned into `-`, the pair, the group unless `forward` or already part of the name, and a
/// number when still not unique.
pub fn run_ids(runs: &[RunOutcome]) -> Vec<String> {
    let mut ids: Vec<String> = Vec::with_capacity(runs.len());
    for r in runs {
        let mut base = slug(&r.name);
        for extra in [r.pair.as_str(), r.group.as_str()] {
            let e = slug(extra);
            if e.is_empty() || (extra == r.group.as_str() && (e == "forward" || base.contains(&e)))
            {
                continue;
            }
            base.push('-');
            base.push_str(&e);
        }
        if base.trim_matches('-').is_empty() {
            base = "run".into();
        }
        let mut id = base.clone();
        let mut k = 2;
        while ids.contains(&id) {
            id = format!("{base}-{k}");
            k += 1;
        }
        ids.push(id);
    }
    ids
}

fn slug(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Pair codes `R-P` shown as `R→P`.
pub fn pair_arrow(pair: &str) -> String {
    match pair.split_once('-') {
        Some((s, t)) => format!("{s}→{t}"),
        None => pair.to_string(),
    }
}
