//! `report.md`: the report as GitHub-flavoured Markdown.

use std::fmt::Write as _;

use super::exporters::{Exporter, MarkdownExporter};
use super::figures::{Figures, Kind};
use super::table::{format_cell, CohesionTable, StudyTable};
use super::{pair_arrow, ReportInput, RunOutcome};

/// Escapes Markdown syntax characters with backslashes (safe inside table cells); line breaks become
/// spaces.
pub fn markdown_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '!' | '~' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

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

fn pct(v: Option<f64>) -> String {
    format_cell(v.map(|x| x * 100.0), 2)
}

fn ci(lo_hi: Option<(f64, f64)>) -> String {
    match lo_hi {
        Some((l, h)) => format!("{}–{}", pct(Some(l)), pct(Some(h))),
        None => super::MISSING.into(),
    }
}

/// Per-domain classification table of one run (source and target).
pub(super) fn domain_table(r: &RunOutcome) -> String {
    let mut s = String::from(
        "| Domain | Role | n | Accuracy (%) | Accuracy CI | AUROC (%) | AUROC CI |\n|:--|:--|--:|--:|--:|--:|--:|\n",
    );
    let mut any = false;
    for (name, role) in [(&r.source, "source"), (&r.target, "target")] {
        let Some(d) = r.domain(name) else { continue };
        any = true;
        let c = d.classification.as_ref();
        let _ = writeln!(
            s,
            "| {} | {role} | {} | {} | {} | {} | {} |",
            markdown_escape(name),
            d.n,
            pct(c.map(|c| c.accuracy)),
            ci(c.and_then(|c| c.accuracy_ci.as_ref().map(|i| (i.lower, i.upper)))),
            pct(c.and_then(|c| c.auroc)),
            ci(c.and_then(|c| c.auroc_ci.as_ref().map(|i| (i.lower, i.upper)))),
        );
    }
    if any {
        s
    } else {
        String::new()
    }
}

/// The whole `report.md`.
pub(super) fn document(
    input: &ReportInput,
    ids: &[String],
    tables: &[StudyTable],
    cohesion: &CohesionTable,
    figs: &Figures,
) -> String {
    let mut s = String::new();
    let n_failed = input.runs.iter().filter(|r| r.failed()).count();
    let _ = writeln!(s, "# {}\n", markdown_escape(&input.title));
    let _ = writeln!(
        s,
        "Split **{}** · {} run{} · {} failed\n",
        markdown_escape(&input.split),
        input.runs.len(),
        if input.runs.len() == 1 { "" } else { "s" },
        n_failed
    );
    s.push_str("## Contents\n\n- [Results](#results)\n- [Cohesion](#cohesion)\n- [Runs](#runs)\n");
    if n_failed > 0 {
        s.push_str("- [Failed runs](#failed-runs)\n");
    }
    if !figs.warnings.is_empty() {
        s.push_str("- [Warnings](#warnings)\n");
    }
    s.push_str("- [Settings](#settings)\n\n## Results\n\n");
    if tables.is_empty() {
        s.push_str("No run produced results.\n\n");
    }
    for t in tables {
        let _ = writeln!(s, "### {}\n", markdown_escape(&t.caption));
        s.push_str(&MarkdownExporter.table(t));
        s.push('\n');
    }
    let _ = writeln!(
        s,
        "Accuracy and macro one-vs-rest AUROC of the target domain of each pair, in %. The average is taken \
         over all pairs of the table and shown only when every pair has a value; {} marks a missing value.\n",
        super::MISSING
    );
    s.push_str("## Cohesion\n\n");
    if cohesion.rows.is_empty() {
        s.push_str("No cohesion measures.\n\n");
    } else {
        s.push_str(&MarkdownExporter.cohesion(cohesion));
        s.push('\n');
    }
    s.push_str("## Runs\n\n");
    for (i, (r, id)) in input.runs.iter().zip(ids).enumerate() {
        let _ = writeln!(
            s,
            "### {} · {}{}\n",
            markdown_escape(&r.name),
            markdown_escape(&pair_arrow(&r.pair)),
            if r.failed() { " · FAILED" } else { "" }
        );
        let _ = writeln!(
            s,
            "Run `{id}` · group {} · model `{}`{}\n",
            markdown_escape(&r.group),
            r.run.model.display().to_string().replace('`', "'"),
            r.model_sha256
                .as_ref()
                .map(|h| format!(" · SHA-256 `{h}`"))
                .unwrap_or_default()
        );
        if let Some(e) = &r.error {
            s.push_str("**This run failed:**\n\n");
            s.push_str(&fenced(e));
            s.push('\n');
            continue;
        }
        if !r.source.is_empty() || !r.target.is_empty() {
            let _ = writeln!(
                s,
                "Source **{}** → target **{}**\n",
                markdown_escape(&r.source),
                markdown_escape(&r.target)
            );
        }
        let dt = domain_table(r);
        if !dt.is_empty() {
            s.push_str(&dt);
            s.push('\n');
        }
        for (k, f) in Kind::ALL.iter().zip(&figs.runs[i]) {
            if let Some(rel) = &f.rel {
                let _ = writeln!(
                    s,
                    "![{} of {} ({})]({rel})\n",
                    k.title(),
                    markdown_escape(&r.name),
                    markdown_escape(&pair_arrow(&r.pair))
                );
            }
        }
        if let Some(e) = &r.eval {
            if !e.notices.is_empty() {
                s.push_str("Notices:\n\n");
                for n in &e.notices {
                    let _ = writeln!(s, "- {}", markdown_escape(n));
                }
                s.push('\n');
            }
        }
    }
    if n_failed > 0 {
        s.push_str("## Failed runs\n\n");
        for r in input.runs.iter().filter(|r| r.failed()) {
            let _ = writeln!(
                s,
                "- **{}** ({}): {}",
                markdown_escape(&r.name),
                markdown_escape(&pair_arrow(&r.pair)),
                markdown_escape(r.error.as_deref().unwrap_or(""))
            );
        }
        s.push('\n');
    }
    if !figs.warnings.is_empty() {
        s.push_str("## Warnings\n\n");
        for w in &figs.warnings {
            let _ = writeln!(s, "- {}", markdown_escape(w));
        }
        s.push('\n');
    }
    s.push_str("## Settings\n\n| Setting | Value |\n|:--|:--|\n");
    let _ = writeln!(s, "| split | {} |", markdown_escape(&input.split));
    for (k, v) in &input.settings {
        let _ = writeln!(s, "| {} | {} |", markdown_escape(k), markdown_escape(v));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_fences() {
        assert_eq!(markdown_escape("a|b_c*"), "a\\|b\\_c\\*");
        assert_eq!(markdown_escape("x\ny"), "x y");
        assert_eq!(fenced("a ``` b"), "````text\na ``` b\n````\n");
    }
}
