//! Renderers of [`StudyTable`] and [`CohesionTable`]: Markdown, LaTeX (booktabs), HTML and CSV.

use super::html::html_escape;
use super::latex::latex_escape;
use super::markdown::markdown_escape;
use super::pair_arrow;
use super::table::{format_cell, CohesionTable, ModelRows, StudyTable, MISSING};

/// Decimals of the study tables (percent).
const STUDY_DECIMALS: usize = 2;
/// Decimals of the cohesion table.
const COHESION_DECIMALS: usize = 3;

/// Renders the report's tables in one format.
pub trait Exporter {
    /// The study table (accuracy and AUROC rows per model, one column per pair and the average).
    fn table(&self, t: &StudyTable) -> String;
    /// The cohesion table (one row per run, one column per measure).
    fn cohesion(&self, t: &CohesionTable) -> String;
}

/// One rendered line of a study table: model label (empty on the AUROC line), metric, cells, average.
struct Line<'a> {
    model: Option<&'a ModelRows>,
    metric: &'static str,
    cells: &'a [Option<f64>],
    average: Option<f64>,
}

fn lines(t: &StudyTable) -> Vec<Line<'_>> {
    let mut out = Vec::new();
    for r in &t.rows {
        out.push(Line {
            model: Some(r),
            metric: "Accuracy",
            cells: &r.accuracy,
            average: r.accuracy_average(),
        });
        if let Some(a) = &r.auroc {
            out.push(Line {
                model: None,
                metric: "AUROC",
                cells: a,
                average: r.auroc_average(),
            });
        }
    }
    out
}

fn failed_note(r: &ModelRows) -> Option<String> {
    if r.failed.is_empty() {
        None
    } else {
        let pairs: Vec<String> = r.failed.iter().map(|p| pair_arrow(p)).collect();
        Some(format!("failed: {}", pairs.join(", ")))
    }
}

/// GitHub-flavoured Markdown tables.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn table(&self, t: &StudyTable) -> String {
        let mut s = String::new();
        s.push_str("| Model | Metric |");
        for p in &t.pairs {
            s.push_str(&format!(" {} |", markdown_escape(&pair_arrow(p))));
        }
        s.push_str(" Average |\n|:--|:--|");
        for _ in &t.pairs {
            s.push_str("--:|");
        }
        s.push_str("--:|\n");
        for l in lines(t) {
            let label = match l.model {
                Some(r) => {
                    let mut x = markdown_escape(&r.model);
                    if let Some(n) = failed_note(r) {
                        x.push_str(&format!(" ({n})"));
                    }
                    x
                }
                None => String::new(),
            };
            s.push_str(&format!("| {label} | {} |", l.metric));
            for c in l.cells {
                s.push_str(&format!(" {} |", format_cell(*c, STUDY_DECIMALS)));
            }
            s.push_str(&format!(" {} |\n", format_cell(l.average, STUDY_DECIMALS)));
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
            for v in &r.values {
                s.push_str(&format!(" {} |", format_cell(*v, COHESION_DECIMALS)));
            }
            s.push('\n');
        }
        s
    }
}

/// LaTeX `table` environments with booktabs rules (`\usepackage{booktabs}`); missing cells are `---`.
#[derive(Debug, Clone, Copy, Default)]
pub struct LatexExporter;

fn tex_cell(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format_cell(Some(x), decimals),
        _ => "---".into(),
    }
}

fn tex_pair(p: &str) -> String {
    match p.split_once('-') {
        Some((a, b)) => format!("{}$\\to${}", latex_escape(a), latex_escape(b)),
        None => latex_escape(p),
    }
}

impl Exporter for LatexExporter {
    fn table(&self, t: &StudyTable) -> String {
        let mut s = String::new();
        s.push_str("\\begin{table}[htbp]\n  \\centering\n");
        s.push_str(&format!("  \\caption{{{}}}\n", latex_escape(&t.caption)));
        s.push_str(&format!(
            "  \\begin{{tabular}}{{ll{}r}}\n    \\toprule\n    Model & Metric",
            "r".repeat(t.pairs.len())
        ));
        for p in &t.pairs {
            s.push_str(&format!(" & {}", tex_pair(p)));
        }
        s.push_str(" & Average \\\\\n    \\midrule\n");
        for (i, l) in lines(t).into_iter().enumerate() {
            let label = match l.model {
                Some(r) => {
                    let mut x = latex_escape(&r.model);
                    if !r.failed.is_empty() {
                        let pairs: Vec<String> = r.failed.iter().map(|p| tex_pair(p)).collect();
                        x.push_str(&format!(" (failed: {})", pairs.join(", ")));
                    }
                    if i > 0 {
                        s.push_str("    \\addlinespace\n");
                    }
                    x
                }
                None => String::new(),
            };
            s.push_str(&format!("    {label} & {}", l.metric));
            for c in l.cells {
                s.push_str(&format!(" & {}", tex_cell(*c, STUDY_DECIMALS)));
            }
            s.push_str(&format!(
                " & {} \\\\\n",
                tex_cell(l.average, STUDY_DECIMALS)
            ));
        }
        s.push_str("    \\bottomrule\n  \\end{tabular}\n\\end{table}\n");
        s
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        let mut s = String::new();
        s.push_str("\\begin{table}[htbp]\n  \\centering\n");
        s.push_str("  \\caption{Cohesion and alignment measures per run}\n");
        s.push_str(&format!(
            "  \\begin{{tabular}}{{ll{}}}\n    \\toprule\n    Model & Pair",
            "r".repeat(t.metrics.len())
        ));
        for m in &t.metrics {
            s.push_str(&format!(" & {}", latex_escape(m)));
        }
        s.push_str(" \\\\\n    \\midrule\n");
        for r in &t.rows {
            s.push_str(&format!(
                "    {} & {}",
                latex_escape(&r.model),
                tex_pair(&r.pair)
            ));
            for v in &r.values {
                s.push_str(&format!(" & {}", tex_cell(*v, COHESION_DECIMALS)));
            }
            s.push_str(" \\\\\n");
        }
        s.push_str("    \\bottomrule\n  \\end{tabular}\n\\end{table}\n");
        s
    }
}

/// HTML `<table>` elements (classes `study` and `cohesion`), every text escaped.
#[derive(Debug, Clone, Copy, Default)]
pub struct HtmlExporter;

impl Exporter for HtmlExporter {
    fn table(&self, t: &StudyTable) -> String {
        let mut s = String::from("<table class=\"study\">\n");
        s.push_str(&format!("<caption>{}</caption>\n", html_escape(&t.caption)));
        s.push_str("<thead><tr><th>Model</th><th>Metric</th>");
        for p in &t.pairs {
            s.push_str(&format!(
                "<th class=\"num\">{}</th>",
                html_escape(&pair_arrow(p))
            ));
        }
        s.push_str("<th class=\"num\">Average</th></tr></thead>\n<tbody>\n");
        for r in &t.rows {
            let n_lines = if r.auroc.is_some() { 2 } else { 1 };
            let mut model = html_escape(&r.model);
            if r.baseline {
                model = format!("<em>{model}</em>");
            }
            if let Some(n) = failed_note(r) {
                model.push_str(&format!(
                    " <span class=\"failed\">{}</span>",
                    html_escape(&n)
                ));
            }
            let row = |metric: &str, cells: &[Option<f64>], avg: Option<f64>| {
                let mut x = format!("<td>{metric}</td>");
                for c in cells {
                    x.push_str(&cell_html(*c, STUDY_DECIMALS));
                }
                x.push_str(
                    &cell_html(avg, STUDY_DECIMALS)
                        .replace("<td class=\"num\"", "<td class=\"num avg\""),
                );
                x
            };
            s.push_str(&format!(
                "<tr class=\"first\"><th scope=\"row\" rowspan=\"{n_lines}\">{model}</th>{}</tr>\n",
                row("Accuracy", &r.accuracy, r.accuracy_average())
            ));
            if let Some(a) = &r.auroc {
                s.push_str(&format!(
                    "<tr>{}</tr>\n",
                    row("AUROC", a, r.auroc_average())
                ));
            }
        }
        s.push_str("</tbody>\n</table>\n");
        s
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        let mut s =
            String::from("<table class=\"cohesion\">\n<thead><tr><th>Model</th><th>Pair</th>");
        for m in &t.metrics {
            s.push_str(&format!("<th class=\"num\">{}</th>", html_escape(m)));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for r in &t.rows {
            s.push_str(&format!(
                "<tr><th scope=\"row\">{}</th><td>{}</td>",
                html_escape(&r.model),
                html_escape(&pair_arrow(&r.pair))
            ));
            for v in &r.values {
                s.push_str(&cell_html(*v, COHESION_DECIMALS));
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table>\n");
        s
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

/// CSV of the table layout: `model,metric,<pair>...,average`, values in percent at full precision,
/// missing cells empty.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvExporter;

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv_num(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite())
        .map(|x| format!("{x}"))
        .unwrap_or_default()
}

impl Exporter for CsvExporter {
    fn table(&self, t: &StudyTable) -> String {
        let mut s = String::from("model,metric");
        for p in &t.pairs {
            s.push(',');
            s.push_str(&csv_field(p));
        }
        s.push_str(",average\n");
        for r in &t.rows {
            let mut emit = |metric: &str, cells: &[Option<f64>], avg: Option<f64>| {
                s.push_str(&format!("{},{metric}", csv_field(&r.model)));
                for c in cells {
                    s.push(',');
                    s.push_str(&csv_num(*c));
                }
                s.push(',');
                s.push_str(&csv_num(avg));
                s.push('\n');
            };
            emit("accuracy", &r.accuracy, r.accuracy_average());
            if let Some(a) = &r.auroc {
                emit("auroc", a, r.auroc_average());
            }
        }
        s
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        let mut s = String::from("model,pair");
        for m in &t.metrics {
            s.push(',');
            s.push_str(&csv_field(m));
        }
        s.push('\n');
        for r in &t.rows {
            s.push_str(&format!("{},{}", csv_field(&r.model), csv_field(&r.pair)));
            for v in &r.values {
                s.push(',');
                s.push_str(&csv_num(*v));
            }
            s.push('\n');
        }
        s
    }
}
