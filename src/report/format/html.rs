//! HTML: `<table>` elements and `index.html`, one self-contained page (inline CSS, inline SVG, bitmaps
//! as `data:` URIs).

use super::html_run::run_article;
use super::layout::{self, Align, Cell, Kind, Layout, Row, TableSyntax};
use crate::markup::html_escape;
use std::fmt::Write as _;

use crate::report::effect::{EffectPart, EffectTable};
use crate::report::exporter::Exporter;
use crate::report::input::pair_arrow;
use crate::report::outline::{Outline, Section, StudyOutline};
use crate::report::selfcontained::check_self_contained;
use crate::report::table::{format_cell, CohesionTable, MISSING};

/// The page's style sheet.
const CSS: &str = include_str!("html.css");

/// HTML `<table>` elements (classes `study` and `cohesion`), every text escaped; the document is
/// `index.html`, checked to reference nothing outside itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlExporter;

/// The `id` of a section's element (and the target of its link in the contents).
fn section_id(s: Section) -> &'static str {
    match s {
        Section::Results => "results",
        Section::Cohesion => "cohesion",
        Section::Runs => "runs",
        Section::FailedRuns => "failed",
        Section::Warnings => "warnings",
        Section::Measures => "measures",
        Section::Settings => "settings",
    }
}

fn cell_html(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => {
            format!("<td class=\"num\">{}</td>", format_cell(Some(x), decimals))
        }
        _ => format!("<td class=\"num missing\">{MISSING}</td>"),
    }
}

impl TableSyntax for HtmlExporter {
    fn begin(&self, t: &Layout<'_>) -> String {
        let (class, caption) = match t.kind {
            Kind::Study => ("study", true),
            Kind::Cohesion => ("cohesion", false),
            Kind::Effect => ("effect", true),
            Kind::Glossary => ("glossary", false),
        };
        let mut s = format!("<table class=\"{class}\">\n");
        if caption {
            s.push_str(&format!("<caption>{}</caption>\n", html_escape(t.caption)));
        }
        s
    }

    fn head(&self, c: &Cell<'_>, align: Align) -> String {
        let text = match c {
            Cell::Head(label, _) => html_escape(label),
            Cell::Measure(m) => html_escape(&crate::report::display_name(m)),
            Cell::Pair(p) => html_escape(&pair_arrow(p)),
            _ => String::new(),
        };
        match align {
            Align::Left => format!("<th>{text}</th>"),
            Align::Right => format!("<th class=\"num\">{text}</th>"),
        }
    }

    fn header(&self, _: &Layout<'_>, cells: Vec<String>) -> String {
        format!("<thead><tr>{}</tr></thead>\n", cells.concat())
    }

    fn divider(&self, _: &[Align]) -> String {
        "<tbody>\n".into()
    }

    fn cell(&self, t: &Layout<'_>, _: &Row<'_>, col: usize, c: &Cell<'_>) -> Option<String> {
        Some(match c {
            Cell::Model(b, 0) => {
                let mut model = html_escape(b.model);
                if b.baseline {
                    model = format!("<em>{model}</em>");
                }
                if let Some(n) = b.failed_note() {
                    model.push_str(&format!(
                        " <span class=\"failed\">{}</span>",
                        html_escape(&n)
                    ));
                }
                format!(
                    "<th scope=\"row\" rowspan=\"{}\">{model}</th>",
                    b.lines.len()
                )
            }
            Cell::Model(..) => return None,
            Cell::Metric(m) => format!("<td>{}</td>", m.label()),
            Cell::Num(v, d) => cell_html(*v, *d),
            Cell::Delta(v) if v.is_some_and(f64::is_finite) => {
                format!("<td class=\"num\">{}</td>", layout::delta_text(*v))
            }
            Cell::Delta(_) => cell_html(None, 0),
            Cell::WithInterval(v, i, d) => match layout::interval_text(*v, *i, *d) {
                Some(iv) => format!(
                    "<td class=\"num\">{}<span class=\"ci\">{iv}</span></td>",
                    format_cell(*v, *d)
                ),
                None => cell_html(*v, *d),
            },
            Cell::Average(v) => cell_html(*v, layout::STUDY_DECIMALS)
                .replace("<td class=\"num\"", "<td class=\"num avg\""),
            Cell::Text(x, _) if col == t.row_header => {
                format!("<th scope=\"row\">{}</th>", html_escape(x))
            }
            Cell::Text(x, true) => format!("<td><em>{}</em></td>", html_escape(x)),
            Cell::Text(x, false) if t.columns[col] == Align::Right => {
                format!("<td class=\"num\">{}</td>", html_escape(x))
            }
            Cell::Text(x, false) => format!("<td>{}</td>", html_escape(x)),
            Cell::Pair(p) => format!("<td>{}</td>", html_escape(&pair_arrow(p))),
            Cell::Estimate(r, i) => {
                match (
                    r.estimate_cell(*i, layout::COHESION_DECIMALS, "±"),
                    &r.intervals[*i],
                ) {
                    (Some(cell), Some(iv)) => format!(
                        "<td class=\"num\" title=\"{} … {}\">{cell}</td>",
                        iv.lower, iv.upper
                    ),
                    _ => cell_html(r.values[*i], layout::COHESION_DECIMALS),
                }
            }
            Cell::Head(..) | Cell::Measure(_) => self.head(c, t.columns[col]),
        })
    }

    fn row(&self, _: &Layout<'_>, r: &Row<'_>, cells: Vec<String>) -> String {
        let class = match (r.starts_block.is_some(), r.baseline) {
            (true, true) => " class=\"first baseline\"",
            (true, false) => " class=\"first\"",
            (false, true) => " class=\"baseline\"",
            (false, false) => "",
        };
        format!("<tr{class}>{}</tr>\n", cells.concat())
    }

    fn end(&self, t: &Layout<'_>) -> String {
        let mut s = String::from("</tbody>\n</table>\n");
        if let Some(note) = &t.note {
            s.push_str(&format!("<p class=\"note\">{}</p>\n", html_escape(note)));
        }
        s
    }
}

impl Exporter for HtmlExporter {
    fn table(&self, t: &StudyOutline<'_>) -> String {
        layout::render(&layout::study(t), self)
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        layout::render(&layout::cohesion(t), self)
    }

    /// The two halves (target accuracy, domain alignment), each in its own frame.
    fn effect(&self, t: &EffectTable) -> String {
        EffectPart::BOTH
            .iter()
            .map(|&p| {
                format!(
                    "<div class=\"scroll\">{}</div>\n",
                    layout::render(&layout::effect(t, Some(p)), self)
                )
            })
            .collect()
    }

    fn file_name(&self) -> Option<&'static str> {
        Some("index.html")
    }

    fn document(&self, o: &Outline<'_>) -> Option<String> {
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>\n{CSS}</style>\n</head>\n<body>\n",
            html_escape(o.title)
        );
        let _ = writeln!(
            s,
            "<header><h1>{}</h1><p class=\"sub\">Split <strong>{}</strong> · {} run{} · {}</p>",
            html_escape(o.title),
            html_escape(o.split),
            o.runs.len(),
            if o.runs.len() == 1 { "" } else { "s" },
            if o.n_failed == 0 {
                "none failed".to_string()
            } else {
                format!("<span class=\"failed\">{} failed</span>", o.n_failed)
            }
        );
        if let Some(sum) = &o.summary {
            let _ = writeln!(s, "<p class=\"summary\">{}</p>", html_escape(sum));
        }
        s.push_str("</header>\n");
        s.push_str("<main>\n<nav class=\"toc\"><h2>Contents</h2><ol>\n");
        for &sec in &o.sections {
            let _ = write!(
                s,
                "<li><a href=\"#{}\">{}</a>",
                section_id(sec),
                sec.title()
            );
            if sec == Section::Runs {
                s.push_str("<ol>\n");
                for r in &o.runs {
                    let _ = writeln!(
                        s,
                        "<li><a href=\"#run-{}\">{} · {}</a>{}</li>",
                        r.id,
                        html_escape(&r.run.label()),
                        html_escape(&pair_arrow(&r.run.pair)),
                        if r.run.failed() {
                            " <span class=\"failed\">failed</span>"
                        } else {
                            ""
                        }
                    );
                }
                s.push_str("</ol>");
            }
            s.push_str("</li>\n");
        }
        s.push_str("</ol></nav>\n");
        for &sec in &o.sections {
            let _ = writeln!(
                s,
                "<section id=\"{}\">\n<h2>{}</h2>",
                section_id(sec),
                sec.title()
            );
            match sec {
                Section::Results => self.results(&mut s, o),
                Section::Cohesion => {
                    if o.cohesion.rows.is_empty() {
                        s.push_str("<p>No cohesion measures.</p>\n");
                    } else {
                        s.push_str("<div class=\"scroll\">");
                        s.push_str(&self.cohesion(o.cohesion));
                        s.push_str("</div>\n");
                    }
                }
                Section::Runs => {
                    for r in &o.runs {
                        s.push_str(&run_article(r));
                    }
                }
                Section::FailedRuns => {
                    s.push_str("<ul>\n");
                    for r in o.failed_runs() {
                        let _ = writeln!(
                            s,
                            "<li><a href=\"#run-{}\"><strong>{}</strong> · {}</a>: <span class=\"failed\">{}</span></li>",
                            r.id,
                            html_escape(&r.run.label()),
                            html_escape(&pair_arrow(&r.run.pair)),
                            html_escape(r.run.error().unwrap_or(""))
                        );
                    }
                    s.push_str("</ul>\n");
                }
                Section::Warnings => {
                    s.push_str("<ul>\n");
                    for w in o.warnings {
                        let _ = writeln!(s, "<li>{}</li>", html_escape(w));
                    }
                    s.push_str("</ul>\n");
                }
                Section::Measures => {
                    s.push_str("<div class=\"scroll\">");
                    s.push_str(&layout::render(&layout::glossary(), self));
                    s.push_str("</div>\n");
                }
                Section::Settings => settings(&mut s, o),
            }
            s.push_str("</section>\n");
        }
        s.push_str("</main>\n");
        let _ = writeln!(
            s,
            "<footer>dannscope {}</footer>\n</body>\n</html>",
            env!("CARGO_PKG_VERSION")
        );
        Some(s)
    }

    /// The page must reference nothing outside itself.
    fn check(&self, document: &str) -> Result<(), String> {
        check_self_contained(document).map_err(|e| format!("would not be self-contained: {e}"))
    }
}

impl HtmlExporter {
    fn results(&self, s: &mut String, o: &Outline<'_>) {
        if o.tables.is_empty() {
            s.push_str("<p>No run produced results.</p>\n");
        }
        for t in &o.tables {
            s.push_str("<div class=\"scroll\">");
            s.push_str(&self.table(t));
            s.push_str("</div>\n");
        }
        if !o.effect.rows.is_empty() {
            s.push_str(&self.effect(o.effect));
        }
        let _ = writeln!(
            s,
            "<p class=\"sub\">Accuracy and macro one-vs-rest AUROC of the target domain of each pair, in %. \
             The average is taken over all pairs of the table and shown only when every pair has a value; \
             {MISSING} marks a missing value.</p>"
        );
    }
}

fn settings(s: &mut String, o: &Outline<'_>) {
    s.push_str("<table class=\"settings\"><tbody>\n");
    for (k, v) in &o.settings {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            html_escape(k),
            html_escape(v)
        );
    }
    s.push_str("</tbody></table>\n<h3>Models</h3>\n<div class=\"scroll\"><table class=\"models\"><thead><tr><th>Run</th><th>Pair</th><th>Group</th><th>Model file</th><th>SHA-256</th></tr></thead><tbody>\n");
    for r in o.runs.iter().map(|r| r.run) {
        let _ = writeln!(
            s,
            "<tr><th scope=\"row\">{}</th><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            html_escape(&r.label()),
            html_escape(&pair_arrow(&r.pair)),
            html_escape(&r.group),
            html_escape(&r.run.model.display().to_string()),
            html_escape(r.model_sha256().unwrap_or(MISSING))
        );
    }
    s.push_str("</tbody></table></div>\n");
}

#[cfg(test)]
mod tests {
    use super::super::html_run::figure_markup;
    use super::*;
    use crate::report::figures::{Figure, Inline};

    #[test]
    fn scalable_cells_show_their_half_width_and_the_table_its_note() {
        let h = HtmlExporter.cohesion(&crate::report::table::scalable_table());
        assert!(
            h.contains("title=\"0.12617 … 0.12826\">0.127 ± 0.0010</td>"),
            "{h}"
        );
        assert!(h.contains("<td class=\"num\">0.200</td>"), "{h}");
        assert!(h.contains(
            "<p class=\"note\">± : half-width of the interval of a scalable estimate, the 99% interval of 10 samples of 400 anchors"
        ));
    }

    #[test]
    fn escapes() {
        assert_eq!(
            html_escape(r#"<b a="x">&'"#),
            "&lt;b a=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[test]
    fn figures_are_labelled_svg_or_data_uri_images() {
        let mut f = Figure {
            rel: None,
            alt: "Joint t-SNE of <m> (R-P)".into(),
            inline: None,
            bitmap: None,
        };
        assert_eq!(figure_markup(&f), None);
        f.inline = Some(Inline::Svg("<svg></svg>".into()));
        assert_eq!(
            figure_markup(&f).unwrap(),
            "<div class=\"svg\" role=\"img\" aria-label=\"Joint t-SNE of &lt;m&gt; (R-P)\"><svg></svg></div>"
        );
        f.inline = Some(Inline::DataUri("data:image/png;base64,AA==".into()));
        assert_eq!(
            figure_markup(&f).unwrap(),
            "<img alt=\"Joint t-SNE of &lt;m&gt; (R-P)\" src=\"data:image/png;base64,AA==\">"
        );
    }
}
