//! The deck's native tables: the study, cohesion and effect tables as `Grid`s, and the shared
//! layout constants of every slide.

use super::xml::{self, Align, Cell, Grid, Style, INCH, MUTED, SLIDE_W};
use crate::report::effect::{
    EffectCell, EffectPart, EffectTable, EFFECT_COLUMNS, EFFECT_TEXT_COLUMNS,
};
use crate::report::input::pair_arrow;
use crate::report::outline::StudyOutline;
use crate::report::table::{format_cell, value_pm, CohesionTable};

/// Decimals of the study tables (percent).
pub(super) const STUDY_DECIMALS: usize = 2;
/// Decimals of the cohesion table.
pub(super) const COHESION_DECIMALS: usize = 3;
/// Left and right margin of every slide.
pub(super) const MARGIN: i64 = INCH * 2 / 5;
/// Width available for content.
pub(super) const CONTENT_W: i64 = SLIDE_W - 2 * MARGIN;
/// Header fill of the tables.
pub(super) const HEAD_FILL: &str = "DCE3EC";
/// Fill of baseline rows.
pub(super) const BASE_FILL: &str = "F3F4F6";

/// Relative width of a column whose header is `text`: wide enough for its longest word, so headers
/// wrap between words only.
pub(super) fn header_weight(text: &str) -> f64 {
    let longest = text
        .split_whitespace()
        .map(|w| w.chars().count())
        .max()
        .unwrap_or(0);
    (longest as f64 + 2.0) / 11.0
}

pub(super) fn head(text: &str, size: u32, align: Align) -> Cell {
    Cell::new(text, Style::pt(size).bold(), align).fill(Some(HEAD_FILL))
}

/// Text of a cohesion measure in a header: its display name from the glossary
/// ([`crate::report::display_name`]; [`crate::report::key_of`] gives the key back).
pub fn measure_header(name: &str) -> String {
    crate::report::display_name(name)
}

/// The rows of a study table (header first) at `size` points.
pub(super) fn study_grid(t: &StudyOutline<'_>, size: u32) -> Grid {
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
            for (c, iv) in l.cells.iter().zip(l.intervals) {
                // The bootstrap interval on a second line, with one decimal to fit the column.
                let text = match crate::report::format::layout::interval_text(*c, *iv, 1) {
                    Some(iv) => format!("{}\n{iv}", format_cell(*c, STUDY_DECIMALS)),
                    None => format_cell(*c, STUDY_DECIMALS),
                };
                row.push(Cell::new(text, style, Align::Right).fill(fill));
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
        // Two lines: the value and its interval.
        row_h: INCH / 2,
        rows,
    }
}

/// The rows of a cohesion table (header first).
pub(super) fn cohesion_grid(t: &CohesionTable, size: u32) -> Grid {
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
        for (i, v) in r.values.iter().enumerate() {
            // The interval's half-width on a second line, as the study table's intervals.
            let text = value_pm(*v, r.intervals[i].as_ref(), COHESION_DECIMALS, "\n± ")
                .unwrap_or_else(|| format_cell(*v, COHESION_DECIMALS));
            row.push(Cell::new(text, style, Align::Right).fill(fill));
        }
        rows.push(row);
    }
    let two_lines = t
        .rows
        .iter()
        .flat_map(|r| &r.intervals)
        .any(Option::is_some);
    Grid {
        widths: xml::widths(&weights, CONTENT_W, INCH * 3),
        row_h: if two_lines { INCH / 2 } else { INCH * 7 / 20 },
        rows,
    }
}

/// The rows of the effect table (header first).
/// Height a table is given on a slide: its rows at their nominal height, the header row with room
/// for three lines of wrapped header text.
fn table_height(g: &Grid) -> i64 {
    INCH * 9 / 10 + g.row_h * (g.rows.len() as i64 - 1)
}

/// The effect table at 12 pt as it stands on a slide: the accuracy half, then the alignment half,
/// each with its offset below the top of the first.
pub(super) fn effect_halves(t: &EffectTable) -> [(Grid, i64); 2] {
    let top = effect_grid(t, EffectPart::Accuracy, 12);
    let below = table_height(&top) + INCH / 5;
    [(top, 0), (effect_grid(t, EffectPart::Alignment, 12), below)]
}

/// Whether `v` is the better of an adapted / source-only pair of values for the column `key`
/// (higher accuracy and class agreement, lower A-distance and MMD²); ties are not marked.
fn better(key: &str, v: Option<f64>, other: Option<f64>) -> bool {
    let (Some(v), Some(o)) = (v, other) else {
        return false;
    };
    if key.starts_with("proxy_a_distance") || key.starts_with("mmd2") {
        v < o
    } else {
        v > o
    }
}

/// The rows of one part of the effect table (header first) at `size` points; within each adapted /
/// source-only pair of columns only the better value is bold.
fn effect_grid(t: &EffectTable, part: EffectPart, size: u32) -> Grid {
    let cols = part.columns();
    let weights: Vec<f64> = cols
        .iter()
        .map(|&i| match i {
            0 => 0.8,
            1 => 1.8,
            2 => 2.2,
            // "[−19.5, −3.5]" on one line.
            _ if EFFECT_COLUMNS[i].1 == "accuracy_delta_interval" => 1.7,
            _ => header_weight(EFFECT_COLUMNS[i].0).max(1.0),
        })
        .collect();
    let header = cols
        .iter()
        .map(|&i| {
            let align = if i < EFFECT_TEXT_COLUMNS {
                Align::Left
            } else {
                Align::Right
            };
            head(EFFECT_COLUMNS[i].0, size, align)
        })
        .collect();
    let mut rows = vec![header];
    for r in &t.rows {
        let st = Style::pt(size);
        let cells = r.cells();
        let num = |i: usize| match cells.get(i) {
            Some(EffectCell::Num(v, _)) => *v,
            _ => None,
        };
        let mut row = Vec::new();
        for &i in &cols {
            let key = EFFECT_COLUMNS[i].1;
            row.push(match &cells[i] {
                EffectCell::Text(x) if i == 0 => Cell::new(pair_arrow(x), st, Align::Left),
                EffectCell::Text(x) if i == 2 => {
                    Cell::new(x, st.italic().color(MUTED), Align::Left)
                }
                EffectCell::Text(x) if i < EFFECT_TEXT_COLUMNS => Cell::new(x, st, Align::Left),
                EffectCell::Text(x) => Cell::new(x, st, Align::Right),
                EffectCell::Delta(v) => Cell::new(
                    crate::report::format::layout::delta_text(*v),
                    st,
                    Align::Right,
                ),
                EffectCell::Num(v, d) => {
                    // Adapted and source-only columns come in pairs: adapted first.
                    let other = if key.ends_with("_adapted") {
                        num(i + 1)
                    } else if key.ends_with("_source_only") {
                        num(i - 1)
                    } else {
                        None
                    };
                    let style = if better(key, *v, other) {
                        st.bold()
                    } else {
                        st
                    };
                    Cell::new(format_cell(*v, *d), style, Align::Right)
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
