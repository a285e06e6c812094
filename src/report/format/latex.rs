//! LaTeX: booktabs tables and `tables.tex`.

use super::escape::latex_escape;
use super::layout::{self, Align, Cell, Layout, Row, TableSyntax};
use crate::report::effect::EffectTable;
use crate::report::exporter::Exporter;
use crate::report::outline::{Outline, StudyOutline};
use crate::report::table::{format_cell, CohesionTable};

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
        .replace('−', "$-$")
        .replace('—', "---")
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

impl TableSyntax for LatexExporter {
    fn begin(&self, t: &Layout<'_>) -> String {
        let spec: String = t
            .columns
            .iter()
            .map(|a| match a {
                Align::Left => 'l',
                Align::Right => 'r',
            })
            .collect();
        format!(
            "\\begin{{table}}[htbp]\n  \\centering\n  \\caption{{{}}}\n  \\begin{{tabular}}{{{spec}}}\n    \\toprule\n",
            latex_escape(t.caption)
        )
    }

    fn head(&self, c: &Cell<'_>, _: Align) -> String {
        match c {
            Cell::Head(label, _) => tex_text(label),
            Cell::Measure(m) => tex_text(&crate::report::display_name(m)),
            Cell::Pair(p) => tex_pair(p),
            _ => String::new(),
        }
    }

    fn header(&self, _: &Layout<'_>, cells: Vec<String>) -> String {
        format!("    {} \\\\\n", cells.join(" & "))
    }

    fn divider(&self, _: &[Align]) -> String {
        "    \\midrule\n".into()
    }

    fn cell(&self, _: &Layout<'_>, _: &Row<'_>, _: usize, c: &Cell<'_>) -> Option<String> {
        Some(match c {
            Cell::Model(b, 0) => {
                let mut x = tex_text(b.model);
                if !b.failed.is_empty() {
                    let pairs: Vec<String> = b.failed.iter().map(|p| tex_pair(p)).collect();
                    x.push_str(&format!(" (failed: {})", pairs.join(", ")));
                }
                x
            }
            Cell::Model(..) => String::new(),
            Cell::Metric(m) => m.label().to_string(),
            Cell::Num(v, d) => tex_cell(*v, *d),
            // The typographic minus of the other formats, as LaTeX sets it.
            Cell::Delta(v) if v.is_some_and(f64::is_finite) => {
                layout::delta_text(*v).replace('−', "$-$")
            }
            Cell::Delta(_) => tex_cell(None, 0),
            Cell::WithInterval(v, i, d) => match layout::interval_text(*v, *i, *d) {
                Some(iv) => format!("{} {{\\scriptsize {iv}}}", tex_cell(*v, *d)),
                None => tex_cell(*v, *d),
            },
            Cell::Average(v) => tex_cell(*v, layout::STUDY_DECIMALS),
            Cell::Text(x, _) => tex_text(x),
            Cell::Pair(p) => tex_pair(p),
            Cell::Estimate(r, i) => r
                .estimate_cell(*i, layout::COHESION_DECIMALS, "$\\pm$")
                .unwrap_or_else(|| tex_cell(r.values[*i], layout::COHESION_DECIMALS)),
            Cell::Head(..) | Cell::Measure(_) => self.head(c, Align::Left),
        })
    }

    fn row(&self, _: &Layout<'_>, r: &Row<'_>, cells: Vec<String>) -> String {
        let space = if r.starts_block.is_some() && r.block > 0 {
            "    \\addlinespace\n"
        } else {
            ""
        };
        format!("{space}    {} \\\\\n", cells.join(" & "))
    }

    fn end(&self, t: &Layout<'_>) -> String {
        let mut s = String::from("    \\bottomrule\n  \\end{tabular}\n");
        if let Some(note) = &t.note {
            s.push_str(&format!(
                "  \\par\\smallskip\\footnotesize {}\n",
                latex_escape(note).replace('±', "$\\pm$")
            ));
        }
        s.push_str("\\end{table}\n");
        s
    }
}

impl Exporter for LatexExporter {
    fn table(&self, t: &StudyOutline<'_>) -> String {
        layout::render(&layout::study(t), self)
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        layout::render(&layout::cohesion(t), self)
    }

    fn effect(&self, t: &EffectTable) -> String {
        layout::render(&layout::effect(t, None), self)
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
                "\\footnotesize $\\pm$ : half-width of the interval of a scalable estimate, the 99\\% interval of 10 samples of 400 anchors"
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
