//! `tables.tex`: the study tables and the cohesion table as booktabs tables.

use super::exporters::{Exporter, LatexExporter};
use super::table::{CohesionTable, StudyTable};
use super::ReportInput;

/// Escapes text for LaTeX: `\ & % $ # _ { } ~ ^` become commands or escaped characters; line breaks
/// become spaces.
pub fn latex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\textbackslash{}"),
            '&' | '%' | '$' | '#' | '_' | '{' | '}' => {
                out.push('\\');
                out.push(c);
            }
            '~' => out.push_str("\\textasciitilde{}"),
            '^' => out.push_str("\\textasciicircum{}"),
            '<' => out.push_str("\\textless{}"),
            '>' => out.push_str("\\textgreater{}"),
            '\n' | '\r' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The whole `tables.tex`: a comment header, every study table, then the cohesion table.
pub(super) fn document(
    input: &ReportInput,
    tables: &[StudyTable],
    cohesion: &CohesionTable,
) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "% {}: split {}\n% Requires \\usepackage{{booktabs}}.\n\n",
        latex_escape(&input.title),
        latex_escape(&input.split)
    ));
    for t in tables {
        s.push_str(&LatexExporter.table(t));
        s.push('\n');
    }
    if !cohesion.rows.is_empty() {
        s.push_str(&LatexExporter.cohesion(cohesion));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::latex_escape;

    #[test]
    fn escapes_specials() {
        assert_eq!(
            latex_escape(r"a_b & 50% $x# {y} ~^\"),
            r"a\_b \& 50\% \$x\# \{y\} \textasciitilde{}\textasciicircum{}\textbackslash{}"
        );
    }
}
