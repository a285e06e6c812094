//! The report as a format-neutral outline: what each document shows and in which order, walked once
//! here so that every format renders the same lines.
//!
//! A study table becomes blocks of lines (one block per model: its accuracy line and, unless it has
//! none, its AUROC line, each with its cells and average); the document becomes its sections in order,
//! the runs with their identifiers, figures and per-domain lines, and the settings. Formats add only
//! their own syntax and escaping.

use super::effect::EffectTable;
use super::figures::{Figure, Figures};
use super::input::baseline_label;
use super::input::{pair_arrow, ReportInput, RunOutcome};
use super::table::{CohesionTable, ModelRows, StudyTable};
use super::verdict::{self, Verdict};
use crate::metrics::eval::DomainResult;

/// A measure shown in the study tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Target-domain accuracy.
    Accuracy,
    /// Target-domain macro one-vs-rest AUROC.
    Auroc,
}

impl Metric {
    /// Label in tables: `Accuracy`, `AUROC`.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Accuracy => "Accuracy",
            Metric::Auroc => "AUROC",
        }
    }

    /// Machine-readable name: `accuracy`, `auroc`.
    pub fn key(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Auroc => "auroc",
        }
    }
}

/// One line of a study table: a measure of one model, one cell per pair, and the average.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricLine<'a> {
    /// The measure.
    pub metric: Metric,
    /// Values in percent, one per column pair (`None`: missing).
    pub cells: &'a [Option<f64>],
    /// Bootstrap interval of each cell, in percent (`None`: none was computed).
    pub intervals: &'a [Option<(f64, f64)>],
    /// Mean of the cells when every cell holds a value.
    pub average: Option<f64>,
}

/// The lines of one model in a study table.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelBlock<'a> {
    /// Row label (display name, `name #2` for a second run of one model).
    pub model: &'a str,
    /// Whether the model is a baseline.
    pub baseline: bool,
    /// Pairs (codes) whose run failed.
    pub failed: &'a [String],
    /// The accuracy line, then the AUROC line unless the model has none.
    pub lines: Vec<MetricLine<'a>>,
}

impl ModelBlock<'_> {
    /// `failed: R→P, A→C` when a run of this model failed, else `None`.
    pub fn failed_note(&self) -> Option<String> {
        if self.failed.is_empty() {
            None
        } else {
            let pairs: Vec<String> = self.failed.iter().map(|p| pair_arrow(p)).collect();
            Some(format!("failed: {}", pairs.join(", ")))
        }
    }
}

/// A study table walked into blocks of lines.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyOutline<'a> {
    /// Caption of the table.
    pub caption: &'a str,
    /// Column pairs in domain codes (`R-P`).
    pub pairs: &'a [String],
    /// One block per row model, in table order.
    pub models: Vec<ModelBlock<'a>>,
}

impl<'a> StudyOutline<'a> {
    /// The outline of `table`.
    pub fn new(table: &'a StudyTable) -> Self {
        Self {
            caption: &table.caption,
            pairs: &table.pairs,
            models: table.rows.iter().map(block).collect(),
        }
    }
}

fn block(r: &ModelRows) -> ModelBlock<'_> {
    let mut lines = vec![MetricLine {
        metric: Metric::Accuracy,
        cells: &r.accuracy,
        intervals: &r.accuracy_ci,
        average: r.accuracy_average(),
    }];
    if let Some(a) = &r.auroc {
        lines.push(MetricLine {
            metric: Metric::Auroc,
            cells: a,
            intervals: &r.auroc_ci,
            average: r.auroc_average(),
        });
    }
    ModelBlock {
        model: &r.model,
        baseline: r.baseline,
        failed: &r.failed,
        lines,
    }
}

/// Classification figures of one domain of a run (fractions).
#[derive(Debug, Clone, PartialEq)]
pub struct DomainLine<'a> {
    /// Domain name.
    pub name: &'a str,
    /// `source` or `target`.
    pub role: &'static str,
    /// The domain's evaluation.
    pub result: &'a DomainResult,
    /// Accuracy, when the model has logits.
    pub accuracy: Option<f64>,
    /// Bootstrap interval of the accuracy (lower, upper).
    pub accuracy_ci: Option<(f64, f64)>,
    /// Macro one-vs-rest AUROC.
    pub auroc: Option<f64>,
    /// Bootstrap interval of the AUROC (lower, upper).
    pub auroc_ci: Option<(f64, f64)>,
}

/// One run as the documents show it.
#[derive(Debug, Clone)]
pub struct RunSection<'a> {
    /// The run.
    pub run: &'a RunOutcome,
    /// Its identifier (file names, anchors).
    pub id: &'a str,
    /// Its figures, one per [`Kind::ALL`](super::figures::Kind::ALL) entry.
    pub figures: &'a [Figure; super::figures::KINDS],
    /// Source then target domain, those that were evaluated.
    pub domains: Vec<DomainLine<'a>>,
    /// What the comparison with the source-only baseline shows (adapted runs with a baseline).
    pub verdict: Option<Verdict>,
}

fn domain_lines(r: &RunOutcome) -> Vec<DomainLine<'_>> {
    let mut out = Vec::new();
    for (name, role) in [(r.source(), "source"), (r.target(), "target")] {
        let Some(d) = r.domain(name) else { continue };
        let c = d.classification.as_ref();
        out.push(DomainLine {
            name,
            role,
            result: d,
            accuracy: c.map(|c| c.accuracy),
            accuracy_ci: c.and_then(|c| c.accuracy_ci.as_ref().map(|i| (i.lower, i.upper))),
            auroc: c.and_then(|c| c.auroc),
            auroc_ci: c.and_then(|c| c.auroc_ci.as_ref().map(|i| (i.lower, i.upper))),
        });
    }
    out
}

/// The effect-table row of `run` against the baseline it was compared with.
fn effect_row<'e>(
    effect: &'e EffectTable,
    run: &RunOutcome,
) -> Option<&'e super::effect::EffectRow> {
    let baseline = run.results()?.diagnosis.baseline.as_ref()?;
    let label = run.label();
    let wanted = baseline_label(&baseline.baseline, true);
    let candidates = || {
        effect
            .rows
            .iter()
            .filter(|e| e.pair == run.pair && e.model == label)
    };
    candidates()
        .find(|e| e.baseline == wanted)
        .or_else(|| candidates().next())
}

/// Sections of a report document, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// The study tables.
    Results,
    /// The cohesion table.
    Cohesion,
    /// One part per run.
    Runs,
    /// The failed runs and why (only when a run failed).
    FailedRuns,
    /// Problems that did not stop the report (only when there are some).
    Warnings,
    /// The glossary: each measure's name, key, meaning and better direction.
    Measures,
    /// The settings.
    Settings,
}

impl Section {
    /// Heading of the section.
    pub fn title(self) -> &'static str {
        match self {
            Section::Results => "Results",
            Section::Cohesion => "Cohesion",
            Section::Runs => "Runs",
            Section::FailedRuns => "Failed runs",
            Section::Warnings => "Warnings",
            Section::Measures => "Measures",
            Section::Settings => "Settings",
        }
    }
}

/// The whole report, format-neutral.
#[derive(Debug, Clone)]
pub struct Outline<'a> {
    /// Title.
    pub title: &'a str,
    /// Split the numbers were computed on.
    pub split: &'a str,
    /// Sections present, in order.
    pub sections: Vec<Section>,
    /// The study tables.
    pub tables: Vec<StudyOutline<'a>>,
    /// The cohesion table.
    pub cohesion: &'a CohesionTable,
    /// Adapted runs against their source-only baselines (no rows without baselines).
    pub effect: &'a EffectTable,
    /// Every run, in configuration order.
    pub runs: Vec<RunSection<'a>>,
    /// One sentence on the study from the runs' verdicts (none without baselines).
    pub summary: Option<String>,
    /// How many runs failed.
    pub n_failed: usize,
    /// Problems that did not stop the report.
    pub warnings: &'a [String],
    /// Settings shown, `split` first, then the input's other settings in order (each key once).
    pub settings: Vec<(&'a str, &'a str)>,
}

impl<'a> Outline<'a> {
    /// The outline of `input`, given its run identifiers, study tables, cohesion table, effect table
    /// and figures.
    pub fn new(
        input: &'a ReportInput,
        ids: &'a [String],
        tables: &'a [StudyTable],
        cohesion: &'a CohesionTable,
        effect: &'a EffectTable,
        figures: &'a Figures,
    ) -> Self {
        let n_failed = input.runs.iter().filter(|r| r.failed()).count();
        let mut sections = vec![Section::Results, Section::Cohesion, Section::Runs];
        if n_failed > 0 {
            sections.push(Section::FailedRuns);
        }
        if !figures.warnings.is_empty() {
            sections.push(Section::Warnings);
        }
        sections.push(Section::Measures);
        sections.push(Section::Settings);
        let runs = input
            .runs
            .iter()
            .zip(ids)
            .zip(&figures.runs)
            .map(|((run, id), figures)| RunSection {
                run,
                id,
                figures,
                domains: domain_lines(run),
                verdict: verdict::verdict(run, effect_row(effect, run)),
            })
            .collect::<Vec<_>>();
        let verdicts: Vec<&Verdict> = runs.iter().filter_map(|r| r.verdict.as_ref()).collect();
        let summary = verdict::summary(&verdicts);
        let mut settings = vec![("split", input.split.as_str())];
        settings.extend(
            input
                .settings
                .iter()
                .filter(|(k, _)| k != "split")
                .map(|(k, v)| (k.as_str(), v.as_str())),
        );
        Self {
            title: &input.title,
            split: &input.split,
            sections,
            tables: tables.iter().map(StudyOutline::new).collect(),
            cohesion,
            effect,
            runs,
            summary,
            n_failed,
            warnings: &figures.warnings,
            settings,
        }
    }

    /// The runs that failed.
    pub fn failed_runs(&self) -> impl Iterator<Item = &RunSection<'a>> {
        self.runs.iter().filter(|r| r.run.failed())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(model: &str, auroc: bool, failed: &[&str]) -> ModelRows {
        ModelRows {
            model: model.into(),
            baseline: false,
            accuracy: vec![Some(80.0), Some(70.0)],
            auroc: auroc.then(|| vec![Some(90.0), None]),
            accuracy_ci: vec![Some((75.0, 85.0)), None],
            auroc_ci: vec![None, None],
            failed: failed.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn study_outline_has_one_block_per_model_and_an_auroc_line_when_present() {
        let t = StudyTable {
            group: "forward".into(),
            caption: "c".into(),
            pairs: vec!["R-P".into(), "A-C".into()],
            rows: vec![rows("base", false, &[]), rows("m", true, &["A-C", "R-P"])],
        };
        let o = StudyOutline::new(&t);
        assert_eq!(o.models.len(), 2);
        let metrics: Vec<Vec<Metric>> = o
            .models
            .iter()
            .map(|b| b.lines.iter().map(|l| l.metric).collect())
            .collect();
        assert_eq!(
            metrics,
            vec![
                vec![Metric::Accuracy],
                vec![Metric::Accuracy, Metric::Auroc]
            ]
        );
        assert_eq!(o.models[1].lines[0].average, Some(75.0));
        assert_eq!(o.models[1].lines[1].average, None);
        assert_eq!(o.models[0].failed_note(), None);
        assert_eq!(
            o.models[1].failed_note().as_deref(),
            Some("failed: A→C, R→P")
        );
    }
}
