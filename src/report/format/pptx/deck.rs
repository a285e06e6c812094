//! The slides of the deck, laid out from the report's outline.

use super::grids::{
    cohesion_grid, effect_halves, head, measure_header, study_grid, COHESION_DECIMALS, CONTENT_W,
    MARGIN,
};
use super::package::SlidePart;
use super::xml::{self, paragraph, text_box, Align, Cell, Grid, Style, INCH, MUTED, SLIDE_H};
use crate::report::effect::{EffectTable, EFFECT_CAPTION};
use crate::report::figures::{Figure, Kind};
use crate::report::input::{baseline_label, pair_arrow};
use crate::report::outline::{Outline, RunSection, StudyOutline};
use crate::report::table::{format_cell, CohesionTable, MISSING};

/// Top of the content below a slide's title and caption.
const BODY_Y: i64 = INCH * 3 / 2;
/// Study-table lines per slide (each holds a value and its interval on two lines).
const STUDY_LINES: usize = 8;
/// Pair measures shown on a run's slide, by cohesion name.
const RUN_MEASURES: [&str; 3] = ["proxy_a_distance", "mmd2_rbf", "knn_transfer_accuracy"];

/// A slide being built: shapes get ids from 2 upwards, images `rId2` upwards.
struct Slide {
    part: SlidePart,
    next_id: u32,
}

impl Slide {
    /// A slide with a title and, when not empty, a caption under it.
    fn new(title: &str, caption: &str) -> Self {
        let mut s = Self {
            part: SlidePart::default(),
            next_id: 2,
        };
        s.text(
            "Title",
            (MARGIN, INCH * 3 / 10, CONTENT_W, INCH * 7 / 10),
            &paragraph(title, Style::pt(26).bold(), Align::Left),
        );
        if !caption.is_empty() {
            s.text(
                "Caption",
                (MARGIN, INCH, CONTENT_W, INCH * 9 / 20),
                &paragraph(caption, Style::pt(13).color(MUTED), Align::Left),
            );
        }
        s
    }

    fn id(&mut self) -> u32 {
        self.next_id += 1;
        self.next_id - 1
    }

    fn text(&mut self, name: &str, rect: (i64, i64, i64, i64), paragraphs: &str) {
        let id = self.id();
        self.part
            .shapes
            .push_str(&text_box(id, name, rect, paragraphs));
    }

    fn table(&mut self, name: &str, grid: &Grid, x: i64, y: i64) {
        let id = self.id();
        self.part.shapes.push_str(&grid.frame(id, name, x, y));
    }

    /// The figure's bitmap fitted into `area`, or a note when it has none the deck can hold.
    fn figure(&mut self, f: &Figure, area: (i64, i64, i64, i64)) {
        let ext_dims = f.bitmap.as_ref().and_then(|b| {
            let ext = match b.mime {
                "image/png" => "png",
                "image/jpeg" => "jpeg",
                "image/gif" => "gif",
                _ => return None,
            };
            Some((ext, bitmap_size(f)?, &b.bytes))
        });
        match ext_dims {
            Some((ext, (w, h), bytes)) => {
                self.part.images.push((ext, bytes.clone()));
                let rid = format!("rId{}", self.part.images.len() + 1);
                let id = self.id();
                self.part
                    .shapes
                    .push_str(&xml::picture(id, &f.alt, &rid, xml::fit(w, h, area)));
            }
            None => self.text(
                "Note",
                area,
                &paragraph(
                    &format!("{}: no bitmap to show", f.alt),
                    Style::pt(14).color(MUTED),
                    Align::Left,
                ),
            ),
        }
    }
}

/// Width and height in pixels of a figure's bitmap, read from its header.
fn bitmap_size(f: &Figure) -> Option<(u32, u32)> {
    let b = f.bitmap.as_ref()?;
    image::ImageReader::new(std::io::Cursor::new(&b.bytes))
        .with_guessed_format()
        .ok()?
        .into_dimensions()
        .ok()
}

/// Splits `n` rows into slide-sized chunks (none when there are no rows).
fn chunks(n: usize, per: usize) -> Vec<std::ops::Range<usize>> {
    (0..n.div_ceil(per))
        .map(|k| k * per..((k + 1) * per).min(n))
        .collect()
}

fn continued(title: &str, k: usize) -> String {
    if k == 0 {
        title.to_string()
    } else {
        format!("{title} (continued)")
    }
}

fn title_slide(o: &Outline<'_>) -> Slide {
    let mut s = Slide {
        part: SlidePart::default(),
        next_id: 2,
    };
    s.text(
        "Title",
        (MARGIN, INCH * 2, CONTENT_W, INCH * 3 / 2),
        &paragraph(o.title, Style::pt(40).bold(), Align::Left),
    );
    let runs = o.runs.len();
    let sub = format!(
        "Split {} · {runs} run{} · {}",
        o.split,
        if runs == 1 { "" } else { "s" },
        if o.n_failed == 0 {
            "none failed".to_string()
        } else {
            format!("{} failed", o.n_failed)
        }
    );
    s.text(
        "Subtitle",
        (MARGIN, INCH * 7 / 2, CONTENT_W, INCH * 3 / 5),
        &paragraph(&sub, Style::pt(20), Align::Left),
    );
    let about = format!(
        "Target-domain accuracy and AUROC, what adaptation changes against source-only baselines, \
         joint t-SNE maps, cohesion and alignment measures · dannscope {}",
        env!("CARGO_PKG_VERSION")
    );
    let mut about_y = INCH * 43 / 10;
    if let Some(sum) = &o.summary {
        s.text(
            "Headline",
            (MARGIN, about_y, CONTENT_W, INCH * 13 / 10),
            &paragraph(sum, Style::pt(20).bold(), Align::Left),
        );
        about_y += INCH * 3 / 2;
    }
    s.text(
        "About",
        (MARGIN, about_y, CONTENT_W, INCH),
        &paragraph(&about, Style::pt(14).color(MUTED), Align::Left),
    );
    s
}

/// The study table's slides, split between model blocks.
fn study_slides(t: &StudyOutline<'_>, out: &mut Vec<Slide>) {
    let mut parts: Vec<StudyOutline<'_>> = Vec::new();
    let mut cur = StudyOutline {
        caption: t.caption,
        pairs: t.pairs,
        models: Vec::new(),
    };
    let mut lines = 0;
    for b in &t.models {
        if lines + b.lines.len() > STUDY_LINES && !cur.models.is_empty() {
            parts.push(std::mem::replace(
                &mut cur,
                StudyOutline {
                    caption: t.caption,
                    pairs: t.pairs,
                    models: Vec::new(),
                },
            ));
            lines = 0;
        }
        lines += b.lines.len();
        cur.models.push(b.clone());
    }
    parts.push(cur);
    for (k, p) in parts.iter().enumerate() {
        let mut s = Slide::new(
            &continued(t.caption, k),
            "Target domain, in %, with its bootstrap interval below each value; baseline rows \
             (source only) last, in grey. The average is shown only when every pair has a value.",
        );
        s.table(
            &format!("Study table: {}", t.caption),
            &study_grid(p, 12),
            MARGIN,
            BODY_Y,
        );
        out.push(s);
    }
}

/// Rows of the effect table per slide (each slide holds its accuracy and its alignment half).
const EFFECT_ROWS: usize = 4;
/// Measure columns of the cohesion table per slide.
const COHESION_COLUMNS: usize = 6;
/// Cohesion rows per slide: two-line cells (the value, then its interval) like the study table's.
const COHESION_LINES: usize = 8;

fn effect_slides(t: &EffectTable, out: &mut Vec<Slide>) {
    for (k, r) in chunks(t.rows.len(), EFFECT_ROWS).into_iter().enumerate() {
        let part = EffectTable {
            rows: t.rows[r.clone()].to_vec(),
        };
        let mut s = Slide::new(
            &continued("What adaptation changes", k),
            &format!(
                "{EFFECT_CAPTION}; target domain. Bold: the better of the two runs. A-distance and MMD² \
                 lower = domains closer; more same-class source neighbours = target images sit among source \
                 images of their class."
            ),
        );
        for (grid, dy) in effect_halves(&part) {
            s.table("Effect table", &grid, MARGIN, BODY_Y + dy);
        }
        out.push(s);
    }
}

fn cohesion_slides(t: &CohesionTable, out: &mut Vec<Slide>) {
    let col_parts = chunks(t.metrics.len(), COHESION_COLUMNS);
    let n_parts = col_parts.len();
    let mut k = 0;
    for rows in chunks(t.rows.len(), COHESION_LINES) {
        for (j, cols) in col_parts.iter().enumerate() {
            let part = CohesionTable {
                metrics: t.metrics[cols.clone()].to_vec(),
                rows: t.rows[rows.clone()]
                    .iter()
                    .map(|r| {
                        let mut r = r.clone();
                        r.values = r.values[cols.clone()].to_vec();
                        r.intervals = r.intervals[cols.clone()].to_vec();
                        r
                    })
                    .collect(),
            };
            let title = if n_parts > 1 {
                format!("Cohesion and alignment ({} of {n_parts})", j + 1)
            } else {
                "Cohesion and alignment".to_string()
            };
            let mut s = Slide::new(
                &continued(&title, usize::from(k >= n_parts)),
                "One row per run; baselines (source only) last, in grey. Under each value, ± the \
                 half-width of its interval (kinds and levels in the report's cohesion note). \
                 Measures as in results.csv.",
            );
            s.table("Cohesion table", &cohesion_grid(&part, 12), MARGIN, BODY_Y);
            out.push(s);
            k += 1;
        }
    }
}

/// One slide with every run's training curves as a grid, if any run has them.
fn curves_slide(o: &Outline<'_>) -> Option<Slide> {
    let i = Kind::ALL.iter().position(|k| *k == Kind::Curves)?;
    let figs: Vec<&Figure> = o
        .runs
        .iter()
        .map(|r| &r.figures[i])
        .filter(|f| f.bitmap.is_some())
        .collect();
    if figs.is_empty() {
        return None;
    }
    let n = figs.len();
    // The grid whose cells show the figures largest, for the first figure's aspect ratio.
    let aspect = bitmap_size(figs[0]).map_or(2.0, |(w, h)| w as f64 / h.max(1) as f64);
    let gap = INCH / 10;
    let h = SLIDE_H - BODY_Y - INCH / 4;
    let shown = |cols: usize| {
        let rows = n.div_ceil(cols) as i64;
        let cw = (CONTENT_W - gap * (cols as i64 - 1)) as f64 / cols as f64;
        let ch = (h - gap * (rows - 1)) as f64 / rows as f64;
        cw.min(ch * aspect)
    };
    let cols = (1..=n)
        .max_by(|&a, &b| shown(a).total_cmp(&shown(b)).then(b.cmp(&a)))
        .unwrap_or(1);
    let rows = n.div_ceil(cols);
    let mut s = Slide::new(
        "Training curves",
        "One panel per run: accuracy and AUROC per epoch, source dashed, target solid",
    );
    let cw = (CONTENT_W - gap * (cols as i64 - 1)) / cols as i64;
    let ch = (h - gap * (rows as i64 - 1)) / rows as i64;
    for (k, f) in figs.into_iter().enumerate() {
        let (r, c) = ((k / cols) as i64, (k % cols) as i64);
        s.figure(
            f,
            (MARGIN + c * (cw + gap), BODY_Y + r * (ch + gap), cw, ch),
        );
    }
    Some(s)
}

/// A run's slide: its joint t-SNE figure above its per-domain and pair numbers.
fn run_slide(sec: &RunSection<'_>) -> Slide {
    let r = sec.run;
    let label = r.label();
    let title = format!(
        "{label} · {}{}",
        pair_arrow(&r.pair),
        if r.failed() { " · FAILED" } else { "" }
    );
    let caption = if r.failed() {
        format!("Group {}", r.group)
    } else if let Some(v) = &sec.verdict {
        v.text.clone()
    } else {
        format!(
            "Source {} → target {} · group {} · colour = class, filled disc = source, open triangle = target",
            r.source(),
            r.target(),
            r.group
        )
    };
    let mut s = Slide::new(&title, &caption);
    if let Some(e) = r.error() {
        s.text(
            "Error",
            (MARGIN, BODY_Y, CONTENT_W, SLIDE_H - BODY_Y - INCH / 2),
            &paragraph(e, Style::pt(14), Align::Left),
        );
        return s;
    }
    let tsne = &sec.figures[0];
    s.figure(tsne, (MARGIN, BODY_Y, CONTENT_W, INCH * 43 / 10));
    let key = format!("{label} ({})", r.pair);
    let size = 12;
    let mut rows = vec![vec![
        head("Domain", size, Align::Left),
        head("Role", size, Align::Left),
        head("n", size, Align::Right),
        head("Accuracy (%)", size, Align::Right),
        head("AUROC (%)", size, Align::Right),
    ]];
    let pct = |v: Option<f64>| format_cell(v.map(|x| x * 100.0), 2);
    for d in &sec.domains {
        let st = Style::pt(size);
        rows.push(vec![
            Cell::new(d.name, st, Align::Left),
            Cell::new(d.role, st, Align::Left),
            Cell::new(d.result.n.to_string(), st, Align::Right),
            Cell::new(pct(d.accuracy), st, Align::Right),
            Cell::new(pct(d.auroc), st, Align::Right),
        ]);
    }
    let y = BODY_Y + INCH * 43 / 10 + INCH / 10;
    let w = CONTENT_W * 11 / 20;
    let grid = Grid {
        widths: xml::widths(&[2.2, 1.0, 0.7, 1.3, 1.3], w, INCH * 3),
        row_h: INCH * 3 / 10,
        rows,
    };
    s.table(&format!("Key numbers: {key}"), &grid, MARGIN, y);
    let p = r.pair_result();
    let mut head_row = Vec::new();
    let mut values = Vec::new();
    for m in RUN_MEASURES {
        head_row.push(head(&measure_header(m), size, Align::Right));
        let entry = p.and_then(|p| p.cohesion.get(m));
        let v = entry.and_then(|e| e.value);
        // The value, and under it ± the half-width of its interval, as in the cohesion table.
        let iv = entry.and_then(|e| e.interval.as_ref());
        let text = match p {
            None => MISSING.to_string(),
            Some(_) => crate::report::table::value_pm(v, iv, COHESION_DECIMALS, "\n± ")
                .unwrap_or_else(|| format_cell(v, COHESION_DECIMALS)),
        };
        values.push(Cell::new(text, Style::pt(size), Align::Right));
    }
    let two_lines = values.iter().any(|c| c.text.contains('\n'));
    let grid = Grid {
        widths: xml::widths(&[1.0; 3], CONTENT_W * 2 / 5, INCH * 2),
        row_h: if two_lines { INCH / 2 } else { INCH * 3 / 10 },
        rows: vec![head_row, values],
    };
    s.table(
        &format!("Pair measures: {key}"),
        &grid,
        MARGIN + CONTENT_W * 3 / 5,
        y,
    );
    s
}

/// The figure of `sec` beside its source-only baseline, when it has one the deck can show.
fn versus_figure<'a>(sec: &RunSection<'a>) -> Option<&'a Figure> {
    let f = &sec.figures[Kind::Versus.index()];
    f.bitmap.as_ref().map(|_| f)
}

/// The report ids of the baselines that an adapted run's pair slide shows.
fn shown_beside<'a>(o: &'a Outline<'_>) -> Vec<&'a str> {
    o.runs
        .iter()
        .filter(|sec| versus_figure(sec).is_some())
        .filter_map(|sec| sec.run.results()?.diagnosis.baseline.as_ref())
        .filter_map(|b| b.baseline_id.as_deref())
        .collect()
}

/// An adapted run's pair slide: its verdict (the difference with its interval and McNemar p), then
/// its joint t-SNE map beside its source-only baseline's across the slide's width, where the figure's
/// text ([`crate::plot::SIDE_BY_SIDE_TEXT_PX`]) comes out at about 13 pt.
fn pair_slide(sec: &RunSection<'_>, f: &Figure) -> Slide {
    let r = sec.run;
    let baseline = r
        .results()
        .and_then(|d| d.diagnosis.baseline.as_ref())
        .map_or("its source-only baseline".to_string(), |b| {
            baseline_label(&b.baseline, true)
        });
    let title = format!("{} · {} against {baseline}", pair_arrow(&r.pair), r.label());
    let mut s = Slide::new(&title, "");
    let verdict = sec.verdict.as_ref().map_or_else(
        || "No verdict: the comparison with the baseline is missing".to_string(),
        |v| v.text.clone(),
    );
    s.text(
        "Verdict",
        (MARGIN, INCH, CONTENT_W, INCH * 13 / 20),
        &paragraph(&verdict, Style::pt(14), Align::Left),
    );
    let top = INCH * 17 / 10;
    let area = (MARGIN, top, CONTENT_W, SLIDE_H - top - INCH / 10);
    s.figure(f, area);
    s
}

/// A slide with one of a run's other figures (evolution grid or training curves), if it has one.
fn figure_slide(sec: &RunSection<'_>, kind: Kind) -> Option<Slide> {
    let i = Kind::ALL.iter().position(|k| *k == kind)?;
    let f = &sec.figures[i];
    f.bitmap.as_ref()?;
    let r = sec.run;
    let caption = match kind {
        Kind::Evolution => "Joint t-SNE of the checkpoints, one panel per epoch",
        Kind::Curves | Kind::Tsne | Kind::Versus => "",
    };
    let mut s = Slide::new(
        &format!("{} · {} · {}", kind.title(), r.label(), pair_arrow(&r.pair)),
        caption,
    );
    s.figure(f, (MARGIN, BODY_Y, CONTENT_W, SLIDE_H - BODY_Y - INCH / 4));
    Some(s)
}

/// Every slide of the deck, in order.
pub(super) fn slides(o: &Outline<'_>) -> Vec<SlidePart> {
    let mut out = vec![title_slide(o)];
    for t in &o.tables {
        study_slides(t, &mut out);
    }
    if !o.effect.rows.is_empty() {
        effect_slides(o.effect, &mut out);
    }
    if !o.cohesion.rows.is_empty() {
        cohesion_slides(o.cohesion, &mut out);
    }
    let beside = shown_beside(o);
    for r in &o.runs {
        match versus_figure(r) {
            Some(f) => out.push(pair_slide(r, f)),
            None if beside.contains(&r.id) => {}
            None => out.push(run_slide(r)),
        }
    }
    out.extend(
        o.runs
            .iter()
            .filter_map(|r| figure_slide(r, Kind::Evolution)),
    );
    out.extend(curves_slide(o));
    out.into_iter().map(|s| s.part).collect()
}

#[cfg(test)]
mod tests {
    use super::chunks;

    #[test]
    fn chunks_cover_every_row_once() {
        assert!(chunks(0, 12).is_empty());
        assert_eq!(chunks(12, 12), vec![0..12]);
        assert_eq!(chunks(13, 12), vec![0..12, 12..13]);
    }
}
