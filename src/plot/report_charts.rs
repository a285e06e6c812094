//! Small charts for the HTML report: confusion heat map and per-class accuracy bars.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{derr, text, text_up, to_svg_string, write_svg_png, Figure, GRID, INK, MUTED};
use super::error::PlotError;
use super::font::{ellipsize, fit_size, text_width};
use super::palette::blues;

const MAX_LABEL_W: i32 = 260;

struct Heatmap<'a> {
    matrix: &'a [Vec<u64>],
    names: Vec<String>,
    title: &'a str,
    cell: i32,
    name_font: f64,
    label_w: i32,
}

impl<'a> Heatmap<'a> {
    fn new(
        matrix: &'a [Vec<u64>],
        class_names: &[String],
        title: &'a str,
    ) -> Result<Self, PlotError> {
        let n = class_names.len();
        if n == 0 || matrix.is_empty() {
            return Err(PlotError::Empty("confusion matrix: no classes".into()));
        }
        if matrix.len() != n {
            return Err(PlotError::LengthMismatch {
                what: "confusion matrix rows (one per class name)".into(),
                expected: n,
                found: matrix.len(),
            });
        }
        for (i, row) in matrix.iter().enumerate() {
            if row.len() != n {
                return Err(PlotError::LengthMismatch {
                    what: format!("confusion matrix row {i} (one column per class name)"),
                    expected: n,
                    found: row.len(),
                });
            }
        }
        // Cells small enough that the whole chart shows near its own size in a report column
        // (about 560 px), so that its text stays at its drawn size.
        let cell = (420 / n as i32).clamp(14, 42);
        let name_font = (cell as f64 * 0.8).clamp(11.0, 17.0);
        let names: Vec<String> = class_names
            .iter()
            .map(|s| ellipsize(s, MAX_LABEL_W, name_font))
            .collect();
        let label_w = names
            .iter()
            .map(|s| text_width(s, name_font))
            .max()
            .unwrap_or(0)
            + 10;
        Ok(Heatmap {
            matrix,
            names,
            title,
            cell,
            name_font,
            label_w,
        })
    }

    fn origin(&self) -> (i32, i32) {
        (34 + self.label_w, 64)
    }
}

impl Figure for Heatmap<'_> {
    fn size(&self) -> (u32, u32) {
        let n = self.names.len() as i32;
        let (mx, my) = self.origin();
        let w = mx + n * self.cell + 30 + 18 + 70;
        let h = my + n * self.cell + self.label_w + 44;
        let title_w = text_width(self.title, 22.0) + 40;
        (w.max(title_w.min(900)).max(360) as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (w, h) = self.size();
        let (w, h) = (w as i32, h as i32);
        let n = self.names.len() as i32;
        let c = self.cell;
        let (mx, my) = self.origin();
        let ts = fit_size(self.title, w - 20, 22.0, 11.0);
        root.draw_text(
            self.title,
            &text(ts, INK, HPos::Center, VPos::Top),
            (w / 2, 12),
        )
        .map_err(derr)?;
        let count_font = (c as f64 * 0.4).clamp(10.0, 17.0);
        for (i, row) in self.matrix.iter().enumerate() {
            let total: u64 = row.iter().sum();
            for (j, &v) in row.iter().enumerate() {
                let frac = if total > 0 {
                    v as f64 / total as f64
                } else {
                    0.0
                };
                let (x, y) = (mx + j as i32 * c, my + i as i32 * c);
                let fill = if total > 0 {
                    blues(frac)
                } else {
                    RGBColor(0xee, 0xee, 0xee)
                };
                root.draw(&Rectangle::new([(x, y), (x + c, y + c)], fill.filled()))
                    .map_err(derr)?;
                if c >= 18 {
                    let ink = if frac > 0.55 { WHITE } else { INK };
                    root.draw_text(
                        &v.to_string(),
                        &text(count_font, ink, HPos::Center, VPos::Center),
                        (x + c / 2, y + c / 2),
                    )
                    .map_err(derr)?;
                }
            }
        }
        root.draw(&Rectangle::new(
            [(mx, my), (mx + n * c, my + n * c)],
            RGBColor(0x88, 0x88, 0x88).stroke_width(1),
        ))
        .map_err(derr)?;
        for (i, name) in self.names.iter().enumerate() {
            let mid = i as i32 * c + c / 2;
            root.draw_text(
                name,
                &text(self.name_font, INK, HPos::Right, VPos::Center),
                (mx - 6, my + mid),
            )
            .map_err(derr)?;
            root.draw_text(
                name,
                &text_up(self.name_font, INK, HPos::Right, VPos::Center),
                (mx + mid, my + n * c + 6),
            )
            .map_err(derr)?;
        }
        root.draw_text(
            "true class",
            &text_up(17.0, MUTED, HPos::Center, VPos::Center),
            (14, my + n * c / 2),
        )
        .map_err(derr)?;
        root.draw_text(
            "predicted class",
            &text(17.0, MUTED, HPos::Center, VPos::Bottom),
            (mx + n * c / 2, h - 8),
        )
        .map_err(derr)?;
        // Colour bar: share of the row.
        let bx = mx + n * c + 30;
        let bh = n * c;
        let steps = 64;
        for s in 0..steps {
            let y0 = my + bh - (s + 1) * bh / steps;
            let y1 = my + bh - s * bh / steps;
            let t = (s as f64 + 0.5) / steps as f64;
            root.draw(&Rectangle::new(
                [(bx, y0), (bx + 18, y1)],
                blues(t).filled(),
            ))
            .map_err(derr)?;
        }
        root.draw(&Rectangle::new(
            [(bx, my), (bx + 18, my + bh)],
            RGBColor(0x88, 0x88, 0x88).stroke_width(1),
        ))
        .map_err(derr)?;
        for (t, label) in [(0.0, "0%"), (0.5, "50%"), (1.0, "100%")] {
            let y = my + bh - (t * bh as f64) as i32;
            root.draw_text(
                label,
                &text(15.0, MUTED, HPos::Left, VPos::Center),
                (bx + 22, y),
            )
            .map_err(derr)?;
        }
        root.draw_text(
            "of row",
            &text(15.0, MUTED, HPos::Left, VPos::Top),
            (bx, my + bh + 6),
        )
        .map_err(derr)?;
        Ok(())
    }
}

/// Confusion matrix heat map as an SVG document string.
///
/// `matrix[i][j]` counts rows of true class `i` predicted as class `j`; it must be square with
/// one row per class name. Cell colour is the row-normalised share (a row with no samples is
/// grey); cells show the raw counts when there is room.
pub fn confusion_heatmap_svg(
    matrix: &[Vec<u64>],
    class_names: &[String],
    title: &str,
) -> Result<String, PlotError> {
    to_svg_string(&Heatmap::new(matrix, class_names, title)?)
}

/// Confusion matrix heat map written as SVG and PNG files (see [`confusion_heatmap_svg`]).
pub fn confusion_heatmap(
    matrix: &[Vec<u64>],
    class_names: &[String],
    title: &str,
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    write_svg_png(&Heatmap::new(matrix, class_names, title)?, svg, png)
}

struct Bars<'a> {
    values: &'a [(String, Option<f64>)],
    title: &'a str,
    names: Vec<String>,
    label_w: i32,
}

const BAR_W: i32 = 420;
/// One colour for all bars: the list may be a subset of classes, so class colours could mislead.
const BAR_COLOR: RGBColor = RGBColor(0x4c, 0x78, 0xa8);
const BAR_ROW: i32 = 28;
const BAR_TOP: i32 = 52;

impl Figure for Bars<'_> {
    fn size(&self) -> (u32, u32) {
        let w = 20 + self.label_w + BAR_W + 90;
        let h = BAR_TOP + self.values.len() as i32 * BAR_ROW + 40;
        (w as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (w, _) = self.size();
        let w = w as i32;
        let ts = fit_size(self.title, w - 20, 22.0, 11.0);
        root.draw_text(
            self.title,
            &text(ts, INK, HPos::Center, VPos::Top),
            (w / 2, 12),
        )
        .map_err(derr)?;
        let x0 = 20 + self.label_w;
        let n = self.values.len() as i32;
        let y_end = BAR_TOP + n * BAR_ROW;
        for t in [0, 25, 50, 75, 100] {
            let x = x0 + BAR_W * t / 100;
            root.draw(&PathElement::new(
                vec![(x, BAR_TOP - 4), (x, y_end)],
                GRID.stroke_width(1),
            ))
            .map_err(derr)?;
            root.draw_text(
                &format!("{t}%"),
                &text(13.0, MUTED, HPos::Center, VPos::Top),
                (x, y_end + 6),
            )
            .map_err(derr)?;
        }
        for (i, ((_, v), name)) in self.values.iter().zip(&self.names).enumerate() {
            let y = BAR_TOP + i as i32 * BAR_ROW;
            let mid = y + BAR_ROW / 2;
            root.draw_text(
                name,
                &text(15.0, INK, HPos::Right, VPos::Center),
                (x0 - 8, mid),
            )
            .map_err(derr)?;
            match v {
                Some(v) => {
                    let len = (v * BAR_W as f64).round() as i32;
                    if len > 0 {
                        root.draw(&Rectangle::new(
                            [(x0, y + 4), (x0 + len, y + BAR_ROW - 4)],
                            BAR_COLOR.filled(),
                        ))
                        .map_err(derr)?;
                    }
                    root.draw_text(
                        &format!("{:.1}%", v * 100.0),
                        &text(14.0, INK, HPos::Left, VPos::Center),
                        (x0 + len + 6, mid),
                    )
                    .map_err(derr)?;
                }
                None => {
                    root.draw_text(
                        "n/a",
                        &text(14.0, MUTED, HPos::Left, VPos::Center),
                        (x0 + 6, mid),
                    )
                    .map_err(derr)?;
                }
            }
        }
        root.draw(&PathElement::new(
            vec![(x0, BAR_TOP - 4), (x0, y_end)],
            RGBColor(0x88, 0x88, 0x88).stroke_width(1),
        ))
        .map_err(derr)?;
        Ok(())
    }
}

/// Per-class accuracy as horizontal bars, as an SVG document string.
///
/// Each value is an accuracy as a fraction in 0..=1, drawn as a percentage; `None` (a class
/// with no samples) is shown as "n/a".
pub fn per_class_bars_svg(
    values: &[(String, Option<f64>)],
    title: &str,
) -> Result<String, PlotError> {
    if values.is_empty() {
        return Err(PlotError::Empty("per-class bars: no classes".into()));
    }
    for (name, v) in values {
        if let Some(v) = v {
            if !v.is_finite() || !(0.0..=1.0).contains(v) {
                return Err(PlotError::OutOfRange {
                    what: format!("per-class accuracy of '{name}'"),
                    expected: "0..=1 (a fraction)".into(),
                    found: *v,
                });
            }
        }
    }
    let names: Vec<String> = values
        .iter()
        .map(|(s, _)| ellipsize(s, MAX_LABEL_W, 15.0))
        .collect();
    let label_w = names.iter().map(|s| text_width(s, 15.0)).max().unwrap_or(0) + 8;
    to_svg_string(&Bars {
        values,
        title,
        names,
        label_w,
    })
}
