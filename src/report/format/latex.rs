//! LaTeX: booktabs tables and `tables.tex`.

use super::escape::latex_escape;
use crate::report::effect::{
    EffectCell, EffectTable, EFFECT_CAPTION, EFFECT_COLUMNS, EFFECT_TEXT_COLUMNS,
};
use crate::report::exporter::Exporter;
use crate::report::outline::{Outline, StudyOutline};
use crate::report::table::{format_cell, CohesionTable};

/// Decimals of the study tables (percent).
const STUDY_DECIMALS: usize = 2;
/// Decimals of the cohesion table.
const COHESION_DECIMALS: usize = 3;

/// LaTeX `table` environments with booktabs rules (`\usepackage{booktabs}`); missing cells are `---`.
/// The document is `tables.tex`: every study table, then the cohesion table.
#[derive(Debug, Clone, Copy, Default)]
pub struct LatexExporter;

/// Text for pdflatex: escaped, with the non-ASCII signs of labels and headers as commands.
fn tex_text(s: &str) -> String {
    latex_escape(s)
        .replace('·', "\\textperiodcentered{}")
        .replace('Δ', "$\\Delta$")
        .replace('²', "\\textsuperscript{2}")
}

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
    fn table(&self, t: &StudyOutline<'_>) -> String {
        let mut s = String::new();
        s.push_str("\\begin{table}[htbp]\n  \\centering\n");
        s.push_str(&format!("  \\caption{{{}}}\n", latex_escape(t.caption)));
        s.push_str(&format!(
            "  \\begin{{tabular}}{{ll{}r}}\n    \\toprule\n    Model & Metric",
            "r".repeat(t.pairs.len())
        ));
        for p in t.pairs {
            s.push_str(&format!(" & {}", tex_pair(p)));
        }
        s.push_str(" & Average \\\\\n    \\midrule\n");
        for (k, b) in t.models.iter().enumerate() {
            for (i, l) in b.lines.iter().enumerate() {
                let label = if i == 0 {
                    let mut x = tex_text(b.model);
                    if !b.failed.is_empty() {
                        let pairs: Vec<String> = b.failed.iter().map(|p| tex_pair(p)).collect();
                        x.push_str(&format!(" (failed: {})", pairs.join(", ")));
                    }
                    if k > 0 {
                        s.push_str("    \\addlinespace\n");
                    }
                    x
                } else {
                    String::new()
                };
                s.push_str(&format!("    {label} & {}", l.metric.label()));
                for c in l.cells {
                    s.push_str(&format!(" & {}", tex_cell(*c, STUDY_DECIMALS)));
                }
                s.push_str(&format!(
                    " & {} \\\\\n",
                    tex_cell(l.average, STUDY_DECIMALS)
                ));
            }
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
                tex_text(&r.model),
                tex_pair(&r.pair)
            ));
            for (i, v) in r.values.iter().enumerate() {
                let cell = r
                    .estimate_cell(i, COHESION_DECIMALS, "$\\pm$")
                    .unwrap_or_else(|| tex_cell(*v, COHESION_DECIMALS));
                s.push_str(&format!(" & {cell}"));
            }
            s.push_str(" \\\\\n");
        }
        s.push_str("    \\bottomrule\n  \\end{tabular}\n");
        if let Some(note) = t.interval_note() {
            s.push_str(&format!(
                "  \\par\\smallskip\\footnotesize {}\n",
                latex_escape(&note).replace('±', "$\\pm$")
            ));
        }
        s.push_str("\\end{table}\n");
        s
    }

    fn effect(&self, t: &EffectTable) -> String {
        let mut s = String::new();
        s.push_str("\\begin{table}[htbp]\n  \\centering\n");
        s.push_str(&format!(
            "  \\caption{{{}}}\n",
            latex_escape(EFFECT_CAPTION)
        ));
        s.push_str(&format!(
            "  \\begin{{tabular}}{{lll{}}}\n    \\toprule\n   ",
            "r".repeat(EFFECT_COLUMNS.len() - EFFECT_TEXT_COLUMNS)
        ));
        let heads: Vec<String> = EFFECT_COLUMNS.iter().map(|(h, _)| tex_text(h)).collect();
        s.push_str(&format!(" {} \\\\\n    \\midrule\n", heads.join(" & ")));
        for r in &t.rows {
            let cells: Vec<String> = r
                .cells()
                .into_iter()
                .enumerate()
                .map(|(i, c)| match c {
                    EffectCell::Text(x) if i == 0 => tex_pair(&x),
                    EffectCell::Text(x) => tex_text(&x),
                    EffectCell::Num(v, d) => tex_cell(v, d),
                })
                .collect();
            s.push_str(&format!("    {} \\\\\n", cells.join(" & ")));
        }
        s.push_str("    \\bottomrule\n  \\end{tabular}\n\\end{table}\n");
        s
    }

    fn file_name(&self) -> Option<&'static str> {
        Some("tables.tex")
    }

    /// A comment header, every study table, then the cohesion table (when it has rows).
    fn document(&self, o: &Outline<'_>) -> Option<String> {
        let mut s = String::new();
        s.push_str(&format!(
            "% {}: split {}\n% Requires \\usepackage{{booktabs}}.\n\n",
            latex_escape(o.title),
            latex_escape(o.split)
        ));
        for t in &o.tables {
            s.push_str(&self.table(t));
            s.push('\n');
        }
        if !o.effect.rows.is_empty() {
            s.push_str(&self.effect(o.effect));
            s.push('\n');
        }
        if !o.cohesion.rows.is_empty() {
            s.push_str(&self.cohesion(o.cohesion));
        }
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalable_cells_show_their_half_width_and_the_table_its_note() {
        let t = LatexExporter.cohesion(&crate::report::table::scalable_table());
        assert!(t.contains(" & 0.127 $\\pm$ 0.0010 & 39.500"), "{t}");
        assert!(
            t.contains(
                "\\footnotesize $\\pm$ : half-width of the 99\\% interval, 10 samples of 400 anchors"
            ),
            "{t}"
        );
    }

    #[test]
    fn escapes_specials() {
        assert_eq!(
            latex_escape(r"a_b & 50% $x# {y} ~^\"),
            r"a\_b \& 50\% \$x\# \{y\} \textasciitilde{}\textasciicircum{}\textbackslash{}"
        );
    }
}
