//! Markdown: GitHub-flavoured tables and the whole `report.md`.

use super::escape::markdown_escape;
use std::fmt::Write as _;

use crate::report::effect::{
    EffectCell, EffectTable, EFFECT_CAPTION, EFFECT_COLUMNS, EFFECT_TEXT_COLUMNS,
};
use crate::report::exporter::Exporter;
use crate::report::figures::Kind;
use crate::report::input::pair_arrow;
use crate::report::outline::{DomainLine, Outline, RunSection, Section, StudyOutline};
use crate::report::table::{format_cell, CohesionTable, MISSING};

/// Decimals of the study tables (percent).
const STUDY_DECIMALS: usize = 2;
/// Decimals of the cohesion table.
const COHESION_DECIMALS: usize = 3;

/// GitHub-flavoured Markdown tables; the document is `report.md`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownExporter;

/// A fenced code block whose fence is longer than any backtick run in `text`.
fn fenced(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    let fence = "`".repeat((longest + 1).max(3));
    format!("{fence}text\n{}\n{fence}\n", text.trim_end())
}

/// The anchor GitHub gives a heading: lower case, spaces turned into `-`.
fn anchor(title: &str) -> String {
    title.to_lowercase().replace(' ', "-")
}

fn pct(v: Option<f64>) -> String {
    format_cell(v.map(|x| x * 100.0), 2)
}

fn ci(lo_hi: Option<(f64, f64)>) -> String {
    match lo_hi {
        Some((l, h)) => format!("{}–{}", pct(Some(l)), pct(Some(h))),
        None => MISSING.into(),
    }
}

impl Exporter for MarkdownExporter {
    fn table(&self, t: &StudyOutline<'_>) -> String {
        let mut s = String::new();
        s.push_str("| Model | Metric |");
        for p in t.pairs {
            s.push_str(&format!(" {} |", markdown_escape(&pair_arrow(p))));
        }
        s.push_str(" Average |\n|:--|:--|");
        for _ in t.pairs {
            s.push_str("--:|");
        }
        s.push_str("--:|\n");
        for b in &t.models {
            for (i, l) in b.lines.iter().enumerate() {
                let label = if i == 0 {
                    let mut x = markdown_escape(b.model);
                    if let Some(n) = b.failed_note() {
                        x.push_str(&format!(" ({n})"));
                    }
                    x
                } else {
                    String::new()
                };
                s.push_str(&format!("| {label} | {} |", l.metric.label()));
                for c in l.cells {
                    s.push_str(&format!(" {} |", format_cell(*c, STUDY_DECIMALS)));
                }
                s.push_str(&format!(" {} |\n", format_cell(l.average, STUDY_DECIMALS)));
            }
        }
        s
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        let mut s = String::from("| Model | Pair |");
        for m in &t.metrics {
            s.push_str(&format!(" {} |", markdown_escape(m)));
        }
        s.push_str("\n|:--|:--|");
        for _ in &t.metrics {
            s.push_str("--:|");
        }
        s.push('\n');
        for r in &t.rows {
            s.push_str(&format!(
                "| {} | {} |",
                markdown_escape(&r.model),
                markdown_escape(&pair_arrow(&r.pair))
            ));
            for (i, v) in r.values.iter().enumerate() {
                let cell = r
                    .estimate_cell(i, COHESION_DECIMALS, "±")
                    .unwrap_or_else(|| format_cell(*v, COHESION_DECIMALS));
                s.push_str(&format!(" {cell} |"));
            }
            s.push('\n');
        }
        if let Some(note) = t.interval_note() {
            s.push_str(&format!("\n{}\n", markdown_escape(&note)));
        }
        s
    }

    fn effect(&self, t: &EffectTable) -> String {
        let mut s = String::from("|");
        for (h, _) in EFFECT_COLUMNS {
            s.push_str(&format!(" {} |", markdown_escape(h)));
        }
        s.push_str("\n|:--|:--|:--|");
        for _ in EFFECT_TEXT_COLUMNS..EFFECT_COLUMNS.len() {
            s.push_str("--:|");
        }
        s.push('\n');
        for r in &t.rows {
            s.push('|');
            for (i, c) in r.cells().into_iter().enumerate() {
                let text = match c {
                    EffectCell::Text(x) if i == 0 => pair_arrow(&x),
                    EffectCell::Text(x) => x,
                    EffectCell::Num(v, d) => format_cell(v, d),
                };
                s.push_str(&format!(" {} |", markdown_escape(&text)));
            }
            s.push('\n');
        }
        s
    }

    fn file_name(&self) -> Option<&'static str> {
        Some("report.md")
    }

    fn document(&self, o: &Outline<'_>) -> Option<String> {
        let mut s = String::new();
        let _ = writeln!(s, "# {}\n", markdown_escape(o.title));
        let _ = writeln!(
            s,
            "Split **{}** · {} run{} · {} failed\n",
            markdown_escape(o.split),
            o.runs.len(),
            if o.runs.len() == 1 { "" } else { "s" },
            o.n_failed
        );
        if let Some(sum) = &o.summary {
            let _ = writeln!(s, "**{}**\n", markdown_escape(sum));
        }
        s.push_str("## Contents\n\n");
        for sec in &o.sections {
            let _ = writeln!(s, "- [{}](#{})", sec.title(), anchor(sec.title()));
        }
        s.push('\n');
        for sec in &o.sections {
            let _ = writeln!(s, "## {}\n", sec.title());
            match sec {
                Section::Results => self.results(&mut s, o),
                Section::Cohesion => {
                    if o.cohesion.rows.is_empty() {
                        s.push_str("No cohesion measures.\n\n");
                    } else {
                        s.push_str(&self.cohesion(o.cohesion));
                        s.push('\n');
                    }
                }
                Section::Runs => {
                    for r in &o.runs {
                        run(&mut s, r);
                    }
                }
                Section::FailedRuns => {
                    for r in o.failed_runs() {
                        let _ = writeln!(
                            s,
                            "- **{}** ({}): {}",
                            markdown_escape(&r.run.label()),
                            markdown_escape(&pair_arrow(&r.run.pair)),
                            markdown_escape(r.run.error().unwrap_or(""))
                        );
                    }
                    s.push('\n');
                }
                Section::Warnings => {
                    for w in o.warnings {
                        let _ = writeln!(s, "- {}", markdown_escape(w));
                    }
                    s.push('\n');
                }
                Section::Settings => {
                    s.push_str("| Setting | Value |\n|:--|:--|\n");
                    for (k, v) in &o.settings {
                        let _ = writeln!(s, "| {} | {} |", markdown_escape(k), markdown_escape(v));
                    }
                }
            }
        }
        Some(s)
    }
}

impl MarkdownExporter {
    fn results(&self, s: &mut String, o: &Outline<'_>) {
        if o.tables.is_empty() {
            s.push_str("No run produced results.\n\n");
        }
        for t in &o.tables {
            let _ = writeln!(s, "### {}\n", markdown_escape(t.caption));
            s.push_str(&self.table(t));
            s.push('\n');
        }
        if !o.effect.rows.is_empty() {
            let _ = writeln!(s, "### {}\n", markdown_escape(EFFECT_CAPTION));
            s.push_str(&self.effect(o.effect));
            s.push('\n');
        }
        let _ = writeln!(
            s,
            "Accuracy and macro one-vs-rest AUROC of the target domain of each pair, in %. The average is \
             taken over all pairs of the table and shown only when every pair has a value; {MISSING} marks \
             a missing value.\n"
        );
    }
}

/// Per-domain classification table of one run (source and target); empty without domains.
fn domain_table(domains: &[DomainLine<'_>]) -> String {
    if domains.is_empty() {
        return String::new();
    }
    let mut s = String::from(
        "| Domain | Role | n | Accuracy (%) | Accuracy CI | AUROC (%) | AUROC CI |\n|:--|:--|--:|--:|--:|--:|--:|\n",
    );
    for d in domains {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} | {} |",
            markdown_escape(d.name),
            d.role,
            d.result.n,
            pct(d.accuracy),
            ci(d.accuracy_ci),
            pct(d.auroc),
            ci(d.auroc_ci),
        );
    }
    s
}

/// One run's part of the Runs section.
fn run(s: &mut String, sec: &RunSection<'_>) {
    let r = sec.run;
    let _ = writeln!(
        s,
        "### {} · {}{}\n",
        markdown_escape(&r.label()),
        markdown_escape(&pair_arrow(&r.pair)),
        if r.failed() { " · FAILED" } else { "" }
    );
    if let Some(v) = &sec.verdict {
        let _ = writeln!(s, "**Verdict:** {}\n", markdown_escape(&v.text));
    }
    let _ = writeln!(
        s,
        "Run `{}` · group {} · model `{}`{}\n",
        sec.id,
        markdown_escape(&r.group),
        r.run.model.display().to_string().replace('`', "'"),
        r.model_sha256()
            .map(|h| format!(" · SHA-256 `{h}`"))
            .unwrap_or_default()
    );
    if let Some(e) = r.embedding() {
        let _ = writeln!(s, "Embedding: {}\n", markdown_escape(e));
    }
    if let Some(e) = r.error() {
        s.push_str("**This run failed:**\n\n");
        s.push_str(&fenced(e));
        s.push('\n');
        return;
    }
    if !r.source().is_empty() || !r.target().is_empty() {
        let _ = writeln!(
            s,
            "Source **{}** → target **{}**\n",
            markdown_escape(r.source()),
            markdown_escape(r.target())
        );
    }
    let dt = domain_table(&sec.domains);
    if !dt.is_empty() {
        s.push_str(&dt);
        s.push('\n');
    }
    for (k, f) in Kind::ALL.iter().zip(sec.figures) {
        if let Some(rel) = &f.rel {
            let _ = writeln!(
                s,
                "![{} of {} ({})]({rel})\n",
                k.title(),
                markdown_escape(&r.label()),
                markdown_escape(&pair_arrow(&r.pair))
            );
        }
    }
    s.push_str(&super::markdown_diagnosis::run_sections(r, sec.id));
    if let Some(e) = r.eval() {
        if !e.notices.is_empty() {
            s.push_str("Notices:\n\n");
            for n in &e.notices {
                let _ = writeln!(s, "- {}", markdown_escape(n));
            }
            s.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalable_cells_show_their_half_width_and_the_table_its_note() {
        let m = MarkdownExporter.cohesion(&crate::report::table::scalable_table());
        assert!(m.contains("| 0.127 ± 0.0010 | 39.500 |"), "{m}");
        assert!(m.contains("| 0.200 | 1.000 |"), "{m}");
        assert!(m.contains("99% interval, 10 samples of 400 anchors"), "{m}");
    }

    #[test]
    fn escapes_and_fences() {
        assert_eq!(markdown_escape("a|b_c*"), "a\\|b\\_c\\*");
        assert_eq!(markdown_escape("x\ny"), "x y");
        assert_eq!(fenced("a ``` b"), "````text\na ``` b\n````\n");
    }

    #[test]
    fn anchors_follow_github() {
        assert_eq!(anchor(Section::FailedRuns.title()), "failed-runs");
        assert_eq!(anchor(Section::Settings.title()), "settings");
    }
}
