//! One walk of a report table. The study, cohesion and effect tables are laid out once ([`Layout`]:
//! columns, a header and rows of cells that say what they hold); a text format gives only its syntax
//! ([`TableSyntax`]: how a cell, a row and the divider are written, and what comes before and after
//! the rows), and [`render`] walks the layout. (The shape of hyperfine's markup exporters.)

use std::borrow::Cow;

use crate::report::effect::{
    EffectCell, EffectPart, EffectTable, EFFECT_CAPTION, EFFECT_COLUMNS, EFFECT_TEXT_COLUMNS,
};
use crate::report::outline::{Metric, ModelBlock, StudyOutline};
use crate::report::table::{CohesionRow, CohesionTable};

/// Decimals of the study tables (percent).
pub(super) const STUDY_DECIMALS: usize = 2;
/// Decimals of the cohesion table.
pub(super) const COHESION_DECIMALS: usize = 3;

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Align {
    /// Text columns.
    Left,
    /// Number columns.
    Right,
}

/// Which table a layout is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A study table (blocks of metric lines per model).
    Study,
    /// The cohesion table (one row per run).
    Cohesion,
    /// The table of what adaptation changes.
    Effect,
    /// The glossary of measures.
    Glossary,
}

/// What a cell holds; each format writes it with its own escaping and number format.
pub(super) enum Cell<'a> {
    /// A fixed header word: its label, and its key (the CSV header).
    Head(&'static str, &'static str),
    /// A measure's name in the cohesion header.
    Measure(&'a str),
    /// A pair in domain codes (`R-P`).
    Pair(Cow<'a, str>),
    /// The model label of a study block, on line `.1` of the block (empty after the first line).
    Model(&'a ModelBlock<'a>, usize),
    /// A metric of a study line.
    Metric(Metric),
    /// Text from the data (a model or baseline name); `true`: emphasised.
    Text(Cow<'a, str>, bool),
    /// A number with its decimals (`None` or not finite: missing).
    Num(Option<f64>, usize),
    /// A difference in points, signed as the verdicts write it (`None` or not finite: missing).
    Delta(Option<f64>),
    /// A study cell: its value, and its bootstrap interval where it has one (same decimals).
    WithInterval(Option<f64>, Option<(f64, f64)>, usize),
    /// The average of a study line (a number, marked as the average).
    Average(Option<f64>),
    /// Measure `.1` of a cohesion row: the value, with its interval where it has one.
    Estimate(&'a CohesionRow, usize),
}

/// One row of a layout.
pub(super) struct Row<'a> {
    /// The cells, one per column.
    pub cells: Vec<Cell<'a>>,
    /// The study block the row belongs to (0 outside study tables).
    pub block: usize,
    /// Whether the row starts a study block, and how many lines the block has.
    pub starts_block: Option<usize>,
    /// Whether the row is a baseline's (the effect table marks none).
    pub baseline: bool,
}

/// A table laid out once: what every format writes.
pub(super) struct Layout<'a> {
    /// Which table.
    pub kind: Kind,
    /// The caption, where the table has one.
    pub caption: &'a str,
    /// Column alignments.
    pub columns: Vec<Align>,
    /// The header cells.
    pub header: Vec<Cell<'a>>,
    /// The rows.
    pub rows: Vec<Row<'a>>,
    /// The column whose cell names the row.
    pub row_header: usize,
    /// The note under the table (the cohesion intervals), if any.
    pub note: Option<String>,
}

/// The syntax of one text format.
pub(super) trait TableSyntax {
    /// What comes before the header.
    fn begin(&self, t: &Layout<'_>) -> String;
    /// A header cell.
    fn head(&self, c: &Cell<'_>, align: Align) -> String;
    /// The header row, from its written cells.
    fn header(&self, t: &Layout<'_>, cells: Vec<String>) -> String;
    /// The divider between the header and the rows.
    fn divider(&self, columns: &[Align]) -> String;
    /// A body cell in column `col`; `None` leaves it out (a cell spanned from above).
    fn cell(&self, t: &Layout<'_>, row: &Row<'_>, col: usize, c: &Cell<'_>) -> Option<String>;
    /// A body row, from its written cells.
    fn row(&self, t: &Layout<'_>, row: &Row<'_>, cells: Vec<String>) -> String;
    /// What comes after the rows.
    fn end(&self, t: &Layout<'_>) -> String;
}

/// Writes a layout in one format: the one walk of a table.
pub(super) fn render(t: &Layout<'_>, f: &dyn TableSyntax) -> String {
    let mut s = f.begin(t);
    let head = t
        .header
        .iter()
        .zip(&t.columns)
        .map(|(c, &a)| f.head(c, a))
        .collect();
    s.push_str(&f.header(t, head));
    s.push_str(&f.divider(&t.columns));
    for r in &t.rows {
        let cells = r
            .cells
            .iter()
            .enumerate()
            .filter_map(|(i, c)| f.cell(t, r, i, c))
            .collect();
        s.push_str(&f.row(t, r, cells));
    }
    s.push_str(&f.end(t));
    s
}

/// A difference in points as the verdicts write it (`+8.5`, `−11.5`), or the missing mark.
pub(super) fn delta_text(v: Option<f64>) -> String {
    v.filter(|x| x.is_finite()).map_or_else(
        || crate::report::table::MISSING.to_string(),
        crate::report::effect::signed_points,
    )
}

/// The interval of a study cell as text, `[73.50, 84.50]`, when its value and interval are finite.
pub(super) fn interval_text(
    v: Option<f64>,
    i: Option<(f64, f64)>,
    decimals: usize,
) -> Option<String> {
    v.filter(|x| x.is_finite())?;
    let (lo, hi) = i.filter(|(l, h)| l.is_finite() && h.is_finite())?;
    Some(format!("[{lo:.decimals$}, {hi:.decimals$}]"))
}

/// The layout of a study table: `Model`, `Metric`, one column per pair, `Average`; a block of
/// lines per model.
pub(super) fn study<'a>(t: &'a StudyOutline<'a>) -> Layout<'a> {
    let mut header = vec![Cell::Head("Model", "model"), Cell::Head("Metric", "metric")];
    header.extend(t.pairs.iter().map(|p| Cell::Pair(Cow::Borrowed(p))));
    header.push(Cell::Head("Average", "average"));
    let mut columns = vec![Align::Left, Align::Left];
    columns.extend(std::iter::repeat_n(Align::Right, t.pairs.len() + 1));
    let mut rows = Vec::new();
    for (k, b) in t.models.iter().enumerate() {
        for (i, l) in b.lines.iter().enumerate() {
            let mut cells = vec![Cell::Model(b, i), Cell::Metric(l.metric)];
            cells.extend(
                l.cells
                    .iter()
                    .zip(l.intervals)
                    .map(|(c, i)| Cell::WithInterval(*c, *i, STUDY_DECIMALS)),
            );
            cells.push(Cell::Average(l.average));
            rows.push(Row {
                cells,
                block: k,
                starts_block: (i == 0).then_some(b.lines.len()),
                baseline: b.baseline,
            });
        }
    }
    Layout {
        kind: Kind::Study,
        caption: t.caption,
        columns,
        header,
        rows,
        row_header: 0,
        note: None,
    }
}

/// The layout of the cohesion table: `Model`, `Pair`, one column per measure.
pub(super) fn cohesion(t: &CohesionTable) -> Layout<'_> {
    let mut header = vec![Cell::Head("Model", "model"), Cell::Head("Pair", "pair")];
    header.extend(t.metrics.iter().map(|m| Cell::Measure(m)));
    let mut columns = vec![Align::Left, Align::Left];
    columns.extend(std::iter::repeat_n(Align::Right, t.metrics.len()));
    let rows = t
        .rows
        .iter()
        .map(|r| {
            let mut cells = vec![
                Cell::Text(Cow::Borrowed(&r.model), false),
                Cell::Pair(Cow::Borrowed(&r.pair)),
            ];
            cells.extend((0..r.values.len()).map(|i| Cell::Estimate(r, i)));
            Row {
                cells,
                block: 0,
                starts_block: None,
                baseline: r.baseline,
            }
        })
        .collect();
    Layout {
        kind: Kind::Cohesion,
        caption: "Cohesion and alignment measures per run",
        columns,
        header,
        rows,
        row_header: 0,
        note: t.interval_note(),
    }
}

/// The layout of the effect table: [`EFFECT_COLUMNS`], the pair first, then the adapted model (which
/// names the row) and its baseline (emphasised); `part`: only that half's columns, with its caption.
pub(super) fn effect(t: &EffectTable, part: Option<EffectPart>) -> Layout<'_> {
    let cols: Vec<usize> =
        part.map_or_else(|| (0..EFFECT_COLUMNS.len()).collect(), |p| p.columns());
    let header = cols
        .iter()
        .map(|&i| Cell::Head(EFFECT_COLUMNS[i].0, EFFECT_COLUMNS[i].1))
        .collect();
    let columns = cols
        .iter()
        .map(|&i| {
            if i < EFFECT_TEXT_COLUMNS {
                Align::Left
            } else {
                Align::Right
            }
        })
        .collect();
    let rows = t
        .rows
        .iter()
        .map(|r| Row {
            cells: r
                .cells()
                .into_iter()
                .enumerate()
                .filter(|(i, _)| cols.contains(i))
                .map(|(i, c)| match c {
                    EffectCell::Text(x) if i == 0 => Cell::Pair(Cow::Owned(x)),
                    EffectCell::Text(x) => Cell::Text(Cow::Owned(x), i == 2),
                    EffectCell::Num(v, d) => Cell::Num(v, d),
                    EffectCell::Delta(v) => Cell::Delta(v),
                })
                .collect(),
            block: 0,
            starts_block: None,
            baseline: false,
        })
        .collect();
    Layout {
        kind: Kind::Effect,
        caption: part.map_or(EFFECT_CAPTION, |p| p.caption()),
        columns,
        header,
        rows,
        row_header: 1,
        note: None,
    }
}

/// The layout of the glossary: each measure's display name (naming the row), key, meaning and
/// better direction.
pub(super) fn glossary() -> Layout<'static> {
    let text = |x: &'static str| Cell::Text(Cow::Borrowed(x), false);
    let rows = crate::report::GLOSSARY
        .iter()
        .map(|m| Row {
            cells: vec![
                text(m.name),
                text(m.key),
                text(m.meaning),
                text(m.better.word()),
            ],
            block: 0,
            starts_block: None,
            baseline: false,
        })
        .collect();
    Layout {
        kind: Kind::Glossary,
        caption: "",
        columns: vec![Align::Left; 4],
        header: vec![
            Cell::Head("Measure", "name"),
            Cell::Head("Key (CSV, JSON)", "key"),
            Cell::Head("Meaning", "meaning"),
            Cell::Head("Better", "better"),
        ],
        rows,
        row_header: 0,
        note: None,
    }
}
