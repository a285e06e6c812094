//! Report stage: turns the outcome of every configured run into one folder of results.
//!
//! [`write_report`] writes, each file atomically:
//! - `results.csv`: tidy numbers (`model,pair,split,domain,metric,value`), fractions at full precision;
//! - `report.md`: the study tables, the cohesion table, one section per run with its figures
//!   (copied into `figures/`), the settings and failed runs;
//! - `tables.tex`: the study tables as booktabs tables;
//! - `index.html`: one self-contained page (inline CSS and SVG, PNGs as `data:` URIs) with the tables,
//!   every figure, per-domain confusion matrices and per-class accuracy bars, the settings and failed runs.
//!
//! The study tables are a data structure ([`StudyTable`], built by [`study_tables`]) rendered by
//! [`Exporter`] implementations ([`MarkdownExporter`], [`LatexExporter`], [`HtmlExporter`],
//! [`CsvExporter`]). Output bytes depend only on the input: no clock, no randomness.

mod base64;
mod exporters;
mod figures;
mod html;
mod latex;
mod markdown;
mod results;
mod selfcontained;
mod table;

use std::path::{Path, PathBuf};

use crate::config::RunConfig;
use crate::metrics::eval::{DomainResult, EvalResults, PairResult};

pub use self::base64::encode as base64_encode;
pub use exporters::{CsvExporter, Exporter, HtmlExporter, LatexExporter, MarkdownExporter};
pub use html::html_escape;
pub use latex::latex_escape;
pub use markdown::markdown_escape;
pub use results::{results_rows, ResultRow, RESULTS_HEADER};
pub use selfcontained::check_self_contained;
pub use table::{
    cohesion_table, format_cell, study_tables, CohesionTable, ModelRows, StudyTable, MISSING,
};

/// The outcome of one configured run (one model on one source→target pair).
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
    /// SHA-256 of the model file, hex.
    pub model_sha256: Option<String>,
    /// Per-domain classification and pair cohesion.
    pub eval: Option<EvalResults>,
    /// Source domain name.
    pub source: String,
    /// Target domain name.
    pub target: String,
    /// Joint t-SNE figure, PNG.
    pub tsne_png: Option<PathBuf>,
    /// Joint t-SNE figure, SVG.
    pub tsne_svg: Option<PathBuf>,
    /// Evolution figure over checkpoints, PNG.
    pub evolution_png: Option<PathBuf>,
    /// Training curves, PNG.
    pub curves_png: Option<PathBuf>,
    /// Training curves, SVG.
    pub curves_svg: Option<PathBuf>,
    /// Why the run failed; a failed run has nothing else.
    pub error: Option<String>,
}

impl RunOutcome {
    /// A run with only the fields every run has; the rest is `None`.
    pub fn new(run: RunConfig, name: &str, group: &str, pair: &str) -> Self {
        Self {
            run,
            name: name.to_string(),
            group: group.to_string(),
            pair: pair.to_string(),
            model_sha256: None,
            eval: None,
            source: String::new(),
            target: String::new(),
            tsne_png: None,
            tsne_svg: None,
            evolution_png: None,
            curves_png: None,
            curves_svg: None,
            error: None,
        }
    }

    /// Whether the run failed.
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// The classification result of a domain (by name) of this run's evaluation.
    pub fn domain(&self, name: &str) -> Option<&DomainResult> {
        self.eval.as_ref()?.domain(name)
    }

    /// The cohesion result of this run's pair: the entry whose code pair equals [`RunOutcome::pair`],
    /// else the one with the same source and target names.
    pub fn pair_result(&self) -> Option<&PairResult> {
        let e = self.eval.as_ref()?;
        e.pairs.iter().find(|p| p.pair == self.pair).or_else(|| {
            e.pairs
                .iter()
                .find(|p| p.source == self.source && p.target == self.target)
        })
    }

    /// Target-domain accuracy (fraction).
    pub fn target_accuracy(&self) -> Option<f64> {
        Some(self.domain(&self.target)?.classification.as_ref()?.accuracy)
    }

    /// Target-domain macro one-vs-rest AUROC (fraction).
    pub fn target_auroc(&self) -> Option<f64> {
        self.domain(&self.target)?.classification.as_ref()?.auroc
    }

    /// Whether the run belongs to the baseline group.
    pub fn is_baseline(&self) -> bool {
        self.group.eq_ignore_ascii_case("baseline")
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

/// Files written by [`write_report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// `results.csv`.
    pub results_csv: PathBuf,
    /// `report.md`.
    pub report_md: PathBuf,
    /// `tables.tex`.
    pub tables_tex: PathBuf,
    /// `index.html`.
    pub index_html: PathBuf,
    /// Figures copied into `figures/`.
    pub figures: Vec<PathBuf>,
    /// Problems that did not stop the report (e.g. a figure file that could not be read).
    pub warnings: Vec<String>,
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

/// Write `results.csv`, `report.md`, `tables.tex`, `index.html` and `figures/` into `dir`.
///
/// Figure files named by the runs are copied into `dir/figures/` (unless already inside `dir`) for the
/// Markdown report and inlined into the HTML page; a figure that cannot be read is left out with a
/// warning (returned in [`ReportFiles::warnings`] and shown in the report). Errors: a file that cannot
/// be written, or an input without runs.
pub fn write_report(dir: &Path, input: &ReportInput) -> Result<ReportFiles, crate::Error> {
    if input.runs.is_empty() {
        return Err(crate::Error::Invalid(
            "report: expected at least one run, found none".into(),
        ));
    }
    std::fs::create_dir_all(dir).map_err(|e| crate::Error::Io {
        path: dir.to_path_buf(),
        source: e,
    })?;
    let ids = run_ids(&input.runs);
    let figs = figures::collect(dir, &input.runs, &ids)?;
    let tables = study_tables(&input.runs);
    let cohesion = cohesion_table(&input.runs);

    let results_csv = dir.join("results.csv");
    results::write_results(&results_csv, input)?;

    let tables_tex = dir.join("tables.tex");
    let tex = latex::document(input, &tables, &cohesion);
    crate::store::atomic_write_bytes(&tables_tex, tex.as_bytes())?;

    let report_md = dir.join("report.md");
    let md = markdown::document(input, &ids, &tables, &cohesion, &figs);
    crate::store::atomic_write_bytes(&report_md, md.as_bytes())?;

    let index_html = dir.join("index.html");
    let page = html::document(input, &ids, &tables, &cohesion, &figs);
    if let Err(e) = check_self_contained(&page) {
        return Err(crate::Error::Invalid(format!(
            "report: index.html would not be self-contained: {e}"
        )));
    }
    crate::store::atomic_write_bytes(&index_html, page.as_bytes())?;

    Ok(ReportFiles {
        results_csv,
        report_md,
        tables_tex,
        index_html,
        figures: figs.copied.clone(),
        warnings: figs.warnings.clone(),
    })
}
