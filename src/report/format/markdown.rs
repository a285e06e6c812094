//! Markdown: GitHub-flavoured tables and the whole `report.md`.

use super::escape::markdown_escape;
use super::layout::{self, Align, Cell, Layout, Row, TableSyntax};
use std::fmt::Write as _;

use crate::report::effect::{EffectPart, EffectTable, EFFECT_CAPTION};
use crate::report::exporter::Exporter;
use crate::report::figures::Kind;
use crate::report::input::pair_arrow;
use crate::report::outline::{DomainLine, Outline, RunSection, Section, StudyOutline};
use crate::report::table::{format_cell, CohesionTable, MISSING};

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

/// A Markdown table row: `| a | b |`.
fn md_row(cells: Vec<String>) -> String {
    let mut s = String::from("|");
    for c in cells {
        s.push_str(&format!(" {c} |"));
    }
    s.push('\n');
    s
}

impl TableSyntax for MarkdownExporter {
    fn begin(&self, _: &Layout<'_>) -> String {
        String::new()
    }

    fn head(&self, c: &Cell<'_>, _: Align) -> String {
        match c {
            Cell::Head(label, _) => markdown_escape(label),
            Cell::Measure(m) => markdown_escape(&crate::report::display_name(m)),
            Cell::Pair(p) => markdown_escape(&pair_arrow(p)),
            _ => String::new(),
        }
    }

    fn header(&self, _: &Layout<'_>, cells: Vec<String>) -> String {
        md_row(cells)
    }

    fn divider(&self, columns: &[Align]) -> String {
        let mut s = String::from("|");
        for a in columns {
            s.push_str(match a {
                Align::Left => ":--|",
                Align::Right => "--:|",
            });
        }
        s.push('\n');
        s
    }

    fn cell(&self, _: &Layout<'_>, _: &Row<'_>, _: usize, c: &Cell<'_>) -> Option<String> {
        Some(match c {
            Cell::Model(b, 0) => {
                let mut x = markdown_escape(b.model);
                if let Some(n) = b.failed_note() {
                    x.push_str(&format!(" ({n})"));
                }
                x
            }
            Cell::Model(..) => String::new(),
            Cell::Metric(m) => m.label().to_string(),
            Cell::Num(v, d) => format_cell(*v, *d),
            Cell::Delta(v) => layout::delta_text(*v),
            Cell::WithInterval(v, i, d) => match layout::interval_text(*v, *i, *d) {
                Some(iv) => format!("{} {iv}", format_cell(*v, *d)),
                None => format_cell(*v, *d),
            },
            Cell::Average(v) => format_cell(*v, layout::STUDY_DECIMALS),
            Cell::Text(x, _) => markdown_escape(x),
            Cell::Pair(p) => markdown_escape(&pair_arrow(p)),
            Cell::Estimate(r, i) => r
                .estimate_cell(*i, layout::COHESION_DECIMALS, "±")
                .unwrap_or_else(|| format_cell(r.values[*i], layout::COHESION_DECIMALS)),
            Cell::Head(..) | Cell::Measure(_) => self.head(c, Align::Left),
        })
    }

    fn row(&self, _: &Layout<'_>, _: &Row<'_>, cells: Vec<String>) -> String {
        md_row(cells)
    }

    fn end(&self, t: &Layout<'_>) -> String {
        t.note
            .as_ref()
            .map(|n| format!("\n{}\n", markdown_escape(n)))
            .unwrap_or_default()
    }
}

impl Exporter for MarkdownExporter {
    fn table(&self, t: &StudyOutline<'_>) -> String {
        layout::render(&layout::study(t), self)
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        layout::render(&layout::cohesion(t), self)
    }

    /// The two halves (target accuracy, domain alignment), one after the other.
    fn effect(&self, t: &EffectTable) -> String {
        EffectPart::BOTH
            .iter()
            .map(|&p| layout::render(&layout::effect(t, Some(p)), self))
            .collect::<Vec<_>>()
            .join("\n")
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
                Section::Measures => {
                    s.push_str(&layout::render(&layout::glossary(), self));
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
        assert!(
            m.contains("the 99% interval of 10 samples of 400 anchors"),
            "{m}"
        );
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
