//! Report stage: turns the outcome of every configured run into one folder of results.
//!
//! [`write_report`] writes, each file atomically:
//! - `results.csv`: tidy numbers (`model,pair,split,domain,metric,value`), fractions at full precision;
//! - `glossary.csv`: the measures' keys with the names the documents use, meanings and better directions;
//! - `report.md`: the study tables, the cohesion table, one section per run with its figures
//!   (copied into `figures/`), the settings and failed runs;
//! - `tables.tex`: the study tables as booktabs tables;
//! - `index.html`: one self-contained page (inline CSS and SVG, PNGs as `data:` URIs) with the tables,
//!   every figure, per-domain confusion matrices and per-class accuracy bars, the settings and failed runs;
//! - `report.pptx`: a 16:9 deck with the study, effect and cohesion tables as native PowerPoint tables,
//!   one slide per run (joint t-SNE and key numbers), the evolution grids and training curves.
//!
//! Data flows one way through the files of this module:
//! - `input`: what the report shows ([`RunOutcome`], [`ReportInput`]) and run identifiers;
//! - `table`: the study tables and the cohesion table as data ([`study_tables`], [`cohesion_table`]);
//! - `effect`: each adapted run against the source-only baseline of its pair ([`effect_table`]);
//! - `verdict`: one sentence per adapted run from that comparison, and one for the study ([`Verdict`]);
//! - `figures`: figure files copied into `figures/` and read for inlining;
//! - `outline`: the format-neutral [`Outline`] of the document, tables walked into lines once;
//! - `exporter` and `format/`: the [`Exporter`] trait and one file per format ([`MarkdownExporter`],
//!   [`LatexExporter`], [`HtmlExporter`], [`CsvExporter`], [`PptxExporter`]), each with its own
//!   escaping;
//! - `results` (`results.csv`), `selfcontained` (the HTML check).
//!
//! HTML and XML escaping and base64 are [`crate::markup`]'s.
//!
//! Output bytes depend only on the input: no clock, no randomness.

mod diagnosis;
mod effect;
mod exporter;
mod figures;
mod format;
mod glossary;
mod input;
mod outline;
mod results;
mod selfcontained;
mod table;
mod verdict;

use std::path::{Path, PathBuf};

pub use diagnosis::{
    BaselineComparison, ClassDelta, ClassMedoids, DiscriminatorView, Gallery, GalleryImage,
    RunDiagnosis, WrongCase,
};
pub use effect::{
    effect_table, points_interval, signed_points, EffectCell, EffectPart, EffectRow, EffectTable,
    Paired, Side, DELTA_DECIMALS, EFFECT_CAPTION, EFFECT_COLUMNS, EFFECT_TEXT_COLUMNS,
};
pub use exporter::Exporter;
pub use figures::{Bitmap, Figure, Figures, Inline, Kind as FigureKind};
pub use format::{
    latex_escape, markdown_escape, measure_header, CsvExporter, HtmlExporter, LatexExporter,
    MarkdownExporter, PptxExporter,
};
pub use glossary::{display_name, key_of, measure, Better, Measure, GLOSSARY};
pub use input::{
    baseline_label, pair_arrow, run_ids, ReportInput, RunOutcome, RunResults, RunStatus,
    BASELINE_SUFFIX,
};
pub use outline::{
    DomainLine, Metric, MetricLine, ModelBlock, Outline, RunSection, Section, StudyOutline,
};
pub use results::{results_rows, ResultRow, RESULTS_HEADER};
pub use selfcontained::check_self_contained;
pub use table::{
    cohesion_table, format_cell, study_tables, CohesionTable, ModelRows, StudyTable, MISSING,
};
pub use verdict::{
    classify, summary as study_summary, verdict, Outcome, Verdict, ALPHA, A_DISTANCE_MARGIN,
};

/// Files written by [`write_report`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportFiles {
    /// `results.csv`.
    pub results_csv: PathBuf,
    /// `glossary.csv`: each measure's key, display name, meaning and better direction.
    pub glossary_csv: PathBuf,
    /// `report.md`.
    pub report_md: PathBuf,
    /// `tables.tex`.
    pub tables_tex: PathBuf,
    /// `index.html`.
    pub index_html: PathBuf,
    /// `report.pptx`.
    pub report_pptx: PathBuf,
    /// Figures copied into `figures/`.
    pub figures: Vec<PathBuf>,
    /// Problems that did not stop the report (e.g. a figure file that could not be read).
    pub warnings: Vec<String>,
}

/// Write `results.csv`, `report.md`, `tables.tex`, `index.html`, `report.pptx` and `figures/` into
/// `dir`.
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
    // Each run's explore page goes next to index.html as `explore-<run id>.html`.
    for (r, id) in input.runs.iter().zip(&ids) {
        if let Some(src) = r.results().and_then(|d| d.explore_html.as_ref()) {
            crate::atomic::copy(src, &dir.join(crate::layout::explore_page_name(id)))?;
        }
        // And its gallery's CSV of paths as `gallery-<run id>.csv`.
        if let Some(src) = r
            .results()
            .and_then(|d| d.diagnosis.gallery.as_ref())
            .and_then(|g| g.csv.as_ref())
        {
            crate::atomic::copy(src, &dir.join(crate::layout::gallery_csv_name(id)))?;
        }
    }
    let figs = figures::collect(dir, &input.runs, &ids)?;
    let tables = study_tables(&input.runs);
    let cohesion = cohesion_table(&input.runs);
    let effect = effect_table(&input.runs);
    let outline = Outline::new(input, &ids, &tables, &cohesion, &effect, &figs);

    let results_csv = dir.join("results.csv");
    results::write_results(&results_csv, input)?;
    let glossary_csv = dir.join("glossary.csv");
    crate::atomic::write_csv(&glossary_csv, |c| {
        c.write_record(["key", "name", "meaning", "better"])?;
        GLOSSARY
            .iter()
            .try_for_each(|m| c.write_record([m.key, m.name, m.meaning, m.better.word()]))
    })?;
    let tables_tex = write_document(dir, &LatexExporter, &outline)?;
    let report_md = write_document(dir, &MarkdownExporter, &outline)?;
    let index_html = write_document(dir, &HtmlExporter, &outline)?;
    let report_pptx = write_document(dir, &PptxExporter, &outline)?;

    Ok(ReportFiles {
        results_csv,
        glossary_csv,
        report_md,
        tables_tex,
        index_html,
        report_pptx,
        figures: figs.copied.clone(),
        warnings: figs.warnings.clone(),
    })
}

/// Renders the document of `format`, checks it and writes it atomically into `dir`; returns its path.
fn write_document(
    dir: &Path,
    format: &dyn Exporter,
    outline: &Outline<'_>,
) -> Result<PathBuf, crate::Error> {
    let (Some(name), Some(bytes)) = (format.file_name(), format.document_bytes(outline)) else {
        return Err(crate::Error::Invalid(
            "report: this format writes no document".into(),
        ));
    };
    let bytes = bytes.map_err(|e| crate::Error::Invalid(format!("report: {name} {e}")))?;
    let path = dir.join(name);
    crate::atomic::write_bytes(&path, &bytes)?;
    Ok(path)
}
