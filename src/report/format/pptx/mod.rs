//! PowerPoint: `report.pptx`, a 16:9 deck whose tables are native, editable PowerPoint tables
//! (`a:tbl` in a `p:graphicFrame`, not pictures).
//!
//! Slides, in order: a title slide; the study tables (forward pairs, reversed pairs, baseline rows
//! last); the table of what adaptation changes (adapted runs against their source-only baselines);
//! one slide per run with its two-panel joint t-SNE figure and its key numbers (per-domain accuracy
//! and AUROC, the pair's proxy A-distance, RBF MMD² and kNN transfer accuracy, all native tables);
//! the evolution grids and the training curves; the cohesion table. Long tables continue on further
//! slides. Text is Arial (theme and every run), which LibreOffice and Linux systems without it
//! replace by the metric-compatible Liberation Sans, so the layout holds everywhere.
//!
//! How the file is made: the minimal OOXML parts written here with the `zip` crate (already a
//! dependency through `ndarray-npy`), not a PowerPoint crate. Of the crates published for pptx
//! (`ppt-rs` 0.2.x, `pptx` 0.1.0, `pptx-rs2`, `office-toolkit`), each was either young (a single
//! release), still marked as work in progress with yanked versions, or brought a large dependency
//! tree (PDF, HTTP, syntax highlighting); none promised byte-identical output, which the report needs
//! (same inputs, same bytes). The package is therefore a fixed set of parts (one theme, one master,
//! one blank layout) plus one part per slide and image, stored in a zip with fixed timestamps and
//! permissions (`package`); `xml` holds the DrawingML pieces and `deck` lays out the slides.

mod deck;
mod package;
mod xml;

use crate::report::effect::{EffectCell, EffectTable, EFFECT_COLUMNS, EFFECT_TEXT_COLUMNS};
use crate::report::exporter::Exporter;
use crate::report::input::pair_arrow;
use crate::report::outline::{Outline, StudyOutline};
use crate::report::table::{format_cell, CohesionTable};

use xml::{Align, Cell, Grid, Style, INCH, MUTED, SLIDE_W};

/// Decimals of the study tables (percent).
const STUDY_DECIMALS: usize = 2;
/// Decimals of the cohesion table.
const COHESION_DECIMALS: usize = 3;
/// Left and right margin of every slide.
const MARGIN: i64 = INCH * 2 / 5;
/// Width available for content.
const CONTENT_W: i64 = SLIDE_W - 2 * MARGIN;
/// Header fill of the tables.
const HEAD_FILL: &str = "DCE3EC";
/// Fill of baseline rows.
const BASE_FILL: &str = "F3F4F6";

/// The deck `report.pptx`; [`Exporter::table`], [`Exporter::cohesion`] and [`Exporter::effect`] give
/// one native table each (a `p:graphicFrame` element).
#[derive(Debug, Clone, Copy, Default)]
pub struct PptxExporter;

/// Relative width of a column whose header is `text`: wide enough for its longest word, so headers
/// wrap between words only.
fn header_weight(text: &str) -> f64 {
    let longest = text
        .split_whitespace()
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0);
    (longest as f64 + 2.0) / 11.0
}

fn head(text: &str, size: u32, align: Align) -> Cell {
    Cell::new(text, Style::pt(size).bold(), align).fill(Some(HEAD_FILL))
}

/// Text of a cohesion measure in a header: `_` as spaces so the header can wrap (the names have no
/// spaces, so the measure's key is the header with spaces back to `_`).
pub fn measure_header(name: &str) -> String {
    name.replace('_', " ")
}

/// The rows of a study table (header first) at `size` points.
fn study_grid(t: &StudyOutline<'_>, size: u32) -> Grid {
    let mut weights = vec![2.6, 1.2];
    weights.extend(std::iter::repeat_n(1.0, t.pairs.len() + 1));
    let mut header = vec![
        head("Model", size, Align::Left),
        head("Metric", size, Align::Left),
    ];
    for p in t.pairs {
        header.push(head(&pair_arrow(p), size, Align::Right));
    }
    header.push(head("Average", size, Align::Right));
    let mut rows = vec![header];
    for b in &t.models {
        let base = Style::pt(size);
        let (style, fill) = if b.baseline {
            (base.italic().color(MUTED), Some(BASE_FILL))
        } else {
            (base, None)
        };
        for (i, l) in b.lines.iter().enumerate() {
            let mut label = b.model.to_string();
            if let Some(n) = b.failed_note() {
                label.push_str(&format!("\n({n})"));
            }
            let mut first = Cell::new(label, style, Align::Left).fill(fill);
            if i == 0 {
                first.row_span = b.lines.len() as u32;
            } else {
                first.merged = true;
            }
            let mut row = vec![
                first,
                Cell::new(l.metric.label(), style, Align::Left).fill(fill),
            ];
            for c in l.cells {
                row.push(
                    Cell::new(format_cell(*c, STUDY_DECIMALS), style, Align::Right).fill(fill),
                );
            }
            row.push(
                Cell::new(
                    format_cell(l.average, STUDY_DECIMALS),
                    style.bold(),
                    Align::Right,
                )
                .fill(fill),
            );
            rows.push(row);
        }
    }
    Grid {
        widths: xml::widths(&weights, CONTENT_W, INCH * 16 / 5),
        row_h: INCH * 2 / 5,
        rows,
    }
}

/// The rows of a cohesion table (header first).
fn cohesion_grid(t: &CohesionTable, size: u32) -> Grid {
    let mut weights = vec![2.0, 0.7];
    weights.extend(
        t.metrics
            .iter()
            .map(|m| header_weight(&measure_header(m)).max(0.9)),
    );
    let mut header = vec![
        head("Model", size, Align::Left),
        head("Pair", size, Align::Left),
    ];
    for m in &t.metrics {
        header.push(head(&measure_header(m), size, Align::Right));
    }
    let mut rows = vec![header];
    for r in &t.rows {
        let (style, fill) = if r.baseline {
            (Style::pt(size).italic().color(MUTED), Some(BASE_FILL))
        } else {
            (Style::pt(size), None)
        };
        let mut row = vec![
            Cell::new(&r.model, style, Align::Left).fill(fill),
            Cell::new(pair_arrow(&r.pair), style, Align::Left).fill(fill),
        ];
        for v in &r.values {
            row.push(Cell::new(format_cell(*v, COHESION_DECIMALS), style, Align::Right).fill(fill));
        }
        rows.push(row);
    }
    Grid {
        widths: xml::widths(&weights, CONTENT_W, INCH * 3),
        row_h: INCH * 7 / 20,
        rows,
    }
}

/// The rows of the effect table (header first).
fn effect_grid(t: &EffectTable, size: u32) -> Grid {
    let mut weights = vec![0.7, 1.6, 2.0];
    weights.extend(
        EFFECT_COLUMNS[EFFECT_TEXT_COLUMNS..]
            .iter()
            .map(|(h, _)| header_weight(h).max(0.9)),
    );
    let mut header = Vec::new();
    for (i, (h, _)) in EFFECT_COLUMNS.iter().enumerate() {
        let align = if i < EFFECT_TEXT_COLUMNS {
            Align::Left
        } else {
            Align::Right
        };
        header.push(head(h, size, align));
    }
    let mut rows = vec![header];
    for r in &t.rows {
        let st = Style::pt(size);
        let mut row = Vec::new();
        for (i, c) in r.cells().into_iter().enumerate() {
            row.push(match c {
                EffectCell::Text(x) if i == 0 => Cell::new(pair_arrow(&x), st, Align::Left),
                EffectCell::Text(x) if i == 2 => {
                    Cell::new(x, st.italic().color(MUTED), Align::Left)
                }
                EffectCell::Text(x) if i < EFFECT_TEXT_COLUMNS => Cell::new(x, st, Align::Left),
                EffectCell::Text(x) => Cell::new(x, st, Align::Right),
                EffectCell::Num(v, d) => {
                    let s = if EFFECT_COLUMNS[i].1 == "accuracy_delta" {
                        st.bold()
                    } else {
                        st
                    };
                    Cell::new(format_cell(v, d), s, Align::Right)
                }
            });
        }
        rows.push(row);
    }
    Grid {
        widths: xml::widths(&weights, CONTENT_W, INCH * 2),
        row_h: INCH * 2 / 5,
        rows,
    }
}

impl Exporter for PptxExporter {
    fn table(&self, t: &StudyOutline<'_>) -> String {
        study_grid(t, 14).frame(
            2,
            &format!("Study table: {}", t.caption),
            MARGIN,
            INCH * 3 / 2,
        )
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        cohesion_grid(t, 10).frame(2, "Cohesion table", MARGIN, INCH * 3 / 2)
    }

    fn effect(&self, t: &EffectTable) -> String {
        effect_grid(t, 10).frame(2, "Effect table", MARGIN, INCH * 3 / 2)
    }

    fn file_name(&self) -> Option<&'static str> {
        Some("report.pptx")
    }

    /// The deck: a zip of OOXML parts, the same bytes for the same outline.
    fn document_bytes(&self, outline: &Outline<'_>) -> Option<Result<Vec<u8>, String>> {
        let slides = deck::slides(outline);
        Some(package::zip(&package::parts(outline.title, &slides)))
    }
}
