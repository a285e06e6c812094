//! Layout pieces of the map figures: pixel rectangles, data bounds and equal-aspect views,
//! markers and frames, scatter panels and legends.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use plotters::style::RGBColor;

use super::canvas::{derr, text, FRAME, INK, MUTED};
use super::error::PlotError;
use super::font::text_width;
use super::palette::{class_color, ColorBy, SOURCE_COLOR, TARGET_COLOR};

/// A rectangle in pixels.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rect {
    pub x: i32,
    pub y: i32,
    pub w: i32,
    pub h: i32,
}

/// Data bounds of a point cloud.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub xmin: f64,
    pub xmax: f64,
    pub ymin: f64,
    pub ymax: f64,
}

impl Bounds {
    /// Bounds of the rows of an `[N, 2]` array; `None` when it has no rows.
    pub fn of(coords: ndarray::ArrayView2<'_, f32>) -> Option<Bounds> {
        let mut b: Option<Bounds> = None;
        for row in coords.rows() {
            let (x, y) = (row[0] as f64, row[1] as f64);
            b = Some(match b {
                None => Bounds {
                    xmin: x,
                    xmax: x,
                    ymin: y,
                    ymax: y,
                },
                Some(b) => b.union(&Bounds {
                    xmin: x,
                    xmax: x,
                    ymin: y,
                    ymax: y,
                }),
            });
        }
        b
    }

    /// Smallest bounds holding both.
    pub fn union(&self, o: &Bounds) -> Bounds {
        Bounds {
            xmin: self.xmin.min(o.xmin),
            xmax: self.xmax.max(o.xmax),
            ymin: self.ymin.min(o.ymin),
            ymax: self.ymax.max(o.ymax),
        }
    }
}

/// Maps data coordinates into a pixel box with one scale for both axes (equal aspect ratio).
#[derive(Debug, Clone, Copy)]
pub(crate) struct View {
    cx: f64,
    cy: f64,
    scale: f64,
    bx: Rect,
}

impl View {
    /// Fit `b` into `bx`, leaving `margin` (a fraction of the larger span) on every side.
    pub fn fit(b: &Bounds, bx: Rect, margin: f64) -> View {
        let sx = (b.xmax - b.xmin).max(0.0);
        let sy = (b.ymax - b.ymin).max(0.0);
        let span = sx.max(sy);
        let pad = if span > 0.0 { span * margin } else { 1.0 };
        let (sx, sy) = (sx + 2.0 * pad, sy + 2.0 * pad);
        let scale = (bx.w as f64 / sx).min(bx.h as f64 / sy);
        View {
            cx: (b.xmin + b.xmax) / 2.0,
            cy: (b.ymin + b.ymax) / 2.0,
            scale,
            bx,
        }
    }

    /// Pixel position of a data point (y grows upwards in data space).
    pub fn map(&self, x: f64, y: f64) -> (i32, i32) {
        let px = self.bx.x as f64 + self.bx.w as f64 / 2.0 + (x - self.cx) * self.scale;
        let py = self.bx.y as f64 + self.bx.h as f64 / 2.0 - (y - self.cy) * self.scale;
        (px.round() as i32, py.round() as i32)
    }
}

/// Marker shapes used in scatter panels and legends: source and target differ in shape, not only in
/// fill, so they stay apart in grey print and for colour-blind readers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Marker {
    /// A filled disc (source).
    Filled,
    /// An open triangle, point up (target).
    Triangle,
}

/// Marker radius in pixels for `n` points in a square panel of `side` pixels: about a third of the
/// spacing the points would have on a regular grid, between 2 and 9 px.
pub(crate) fn marker_radius(n: usize, side: i32) -> i32 {
    let spacing = side.max(1) as f64 / (n.max(1) as f64).sqrt();
    ((spacing * 0.3).round() as i32).clamp(2, 9)
}

/// Draw one marker centred at `c`.
pub(crate) fn draw_marker<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    c: (i32, i32),
    r: i32,
    marker: Marker,
    color: RGBColor,
    alpha: f64,
) -> Result<(), PlotError> {
    match marker {
        Marker::Filled => area
            .draw(&Circle::new(c, r, color.mix(alpha).filled()))
            .map_err(derr),
        Marker::Triangle => {
            // Equilateral, circumradius a little above r so that it covers about the disc's area.
            let stroke = (r as f64 / 3.0).round().max(1.0) as u32;
            let cr = r as f64 * 1.25;
            let pt = |deg: f64| {
                let a = deg.to_radians();
                (
                    c.0 + (cr * a.cos()).round() as i32,
                    c.1 - (cr * a.sin()).round() as i32,
                )
            };
            let (top, left, right) = (pt(90.0), pt(210.0), pt(330.0));
            area.draw(&PathElement::new(
                vec![top, left, right, top],
                color.mix(alpha).stroke_width(stroke),
            ))
            .map_err(derr)
        }
    }
}

/// Draw a thin frame around a panel box.
pub(crate) fn draw_frame<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    bx: Rect,
) -> Result<(), PlotError> {
    area.draw(&Rectangle::new(
        [(bx.x, bx.y), (bx.x + bx.w, bx.y + bx.h)],
        FRAME.stroke_width(1),
    ))
    .map_err(derr)
}

/// Validated scatter data: coordinates, domain flags, labels.
pub(crate) struct Scatter<'a> {
    pub coords: ndarray::ArrayView2<'a, f32>,
    pub is_target: &'a [bool],
    pub labels: &'a [u32],
}

impl Scatter<'_> {
    /// Check shapes, finiteness and label range; `what` names the input in messages.
    pub fn check(&self, n_classes: usize, what: &str) -> Result<(), PlotError> {
        if self.coords.ncols() != 2 {
            return Err(PlotError::InvalidArgument(format!(
                "{what}: coordinates must have 2 columns, found {}",
                self.coords.ncols()
            )));
        }
        let n = self.coords.nrows();
        if n == 0 {
            return Err(PlotError::Empty(format!("{what}: no points")));
        }
        if self.is_target.len() != n {
            return Err(PlotError::LengthMismatch {
                what: format!("{what}: is_target (one flag per coordinate row)"),
                expected: n,
                found: self.is_target.len(),
            });
        }
        if self.labels.len() != n {
            return Err(PlotError::LengthMismatch {
                what: format!("{what}: labels (one per coordinate row)"),
                expected: n,
                found: self.labels.len(),
            });
        }
        for (i, row) in self.coords.rows().into_iter().enumerate() {
            for &v in row.iter() {
                if !v.is_finite() {
                    return Err(PlotError::NonFinite {
                        what: format!("{what}: coordinates"),
                        index: i,
                        value: v as f64,
                    });
                }
            }
        }
        for (i, &l) in self.labels.iter().enumerate() {
            if l as usize >= n_classes {
                return Err(PlotError::LabelOutOfRange {
                    index: i,
                    label: l,
                    n_classes,
                });
            }
        }
        Ok(())
    }

    /// Draw all points into the view: source first (filled discs), then target (open triangles).
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        view: &View,
        radius: i32,
        color_by: ColorBy,
        n_classes: usize,
    ) -> Result<(), PlotError> {
        for pass_target in [false, true] {
            for (i, row) in self.coords.rows().into_iter().enumerate() {
                if self.is_target[i] != pass_target {
                    continue;
                }
                let p = view.map(row[0] as f64, row[1] as f64);
                let color = match color_by {
                    ColorBy::Class => class_color(self.labels[i] as usize, n_classes),
                    ColorBy::Domain if pass_target => TARGET_COLOR,
                    ColorBy::Domain => SOURCE_COLOR,
                };
                let (marker, alpha) = if pass_target {
                    (Marker::Triangle, 0.85)
                } else {
                    (Marker::Filled, 0.6)
                };
                draw_marker(area, p, radius, marker, color, alpha)?;
            }
        }
        Ok(())
    }

    /// Per-class (source, target) counts.
    pub fn class_counts(&self, n_classes: usize) -> Vec<(usize, usize)> {
        let mut c = vec![(0usize, 0usize); n_classes];
        for (&l, &t) in self.labels.iter().zip(self.is_target) {
            if let Some(e) = c.get_mut(l as usize) {
                if t {
                    e.1 += 1;
                } else {
                    e.0 += 1;
                }
            }
        }
        c
    }
}

/// One legend row: a marker swatch and a label.
pub(crate) struct LegendItem {
    pub marker: Marker,
    pub color: RGBColor,
    pub label: String,
}

/// A legend: titled groups of items laid out in columns inside a box.
pub(crate) struct Legend {
    pub groups: Vec<(String, Vec<LegendItem>)>,
    pub font: f64,
    pub row_h: i32,
}

impl Legend {
    /// Width of one column: swatch, gap and the widest label.
    fn col_w(&self) -> i32 {
        let widest = self
            .groups
            .iter()
            .flat_map(|(t, items)| {
                std::iter::once(text_width(t, self.font)).chain(
                    items
                        .iter()
                        .map(|i| text_width(&i.label, self.font) + self.row_h),
                )
            })
            .max()
            .unwrap_or(0);
        widest + self.row_h / 2
    }

    /// Number of rows the legend needs when laid out in one column.
    fn rows(&self) -> i32 {
        self.groups
            .iter()
            .map(|(_, items)| items.len() as i32 + 2)
            .sum::<i32>()
            - 1
    }

    /// Shrink font and row height (down to a floor) until the legend fits `max_h` in `cols`
    /// columns; returns the (width, height) it then needs.
    pub fn layout(&mut self, max_h: i32, max_cols: i32) -> (i32, i32) {
        loop {
            let rows = self.rows();
            let per_col = (max_h / self.row_h).max(1);
            let cols = (rows + per_col - 1) / per_col;
            if cols <= max_cols || self.font <= 12.0 {
                let cols = cols.max(1);
                let h = rows.min(per_col) * self.row_h;
                return (cols * self.col_w(), h);
            }
            self.font -= 1.0;
            self.row_h = (self.font * 1.45).round() as i32;
        }
    }

    /// Draw the legend with its top-left corner at `(x, y)`, wrapping columns at `max_h`.
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        x: i32,
        y: i32,
        max_h: i32,
    ) -> Result<(), PlotError> {
        let per_col = (max_h / self.row_h).max(1);
        let col_w = self.col_w();
        let mut row = 0;
        let pos = |row: i32| {
            (
                x + (row / per_col) * col_w,
                y + (row % per_col) * self.row_h,
            )
        };
        let r = ((self.font * 0.33).round() as i32).max(3);
        for (gi, (title, items)) in self.groups.iter().enumerate() {
            if gi > 0 {
                row += 1;
                // Start a group on a fresh column rather than leaving its title alone at the foot.
                if row % per_col == per_col - 1 {
                    row += 1;
                }
            }
            let (tx, ty) = pos(row);
            area.draw_text(
                title,
                &text(self.font, MUTED, HPos::Left, VPos::Center),
                (tx, ty + self.row_h / 2),
            )
            .map_err(derr)?;
            row += 1;
            for it in items {
                let (ix, iy) = pos(row);
                let cy = iy + self.row_h / 2;
                draw_marker(area, (ix + self.row_h / 2, cy), r, it.marker, it.color, 1.0)?;
                area.draw_text(
                    &it.label,
                    &text(self.font, INK, HPos::Left, VPos::Center),
                    (ix + self.row_h, cy),
                )
                .map_err(derr)?;
                row += 1;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::marker_radius;

    #[test]
    fn markers_shrink_with_the_point_count_and_grow_with_the_panel() {
        // 400 points in a 760 px panel: 38 px apart, the largest marker.
        assert_eq!(marker_radius(400, 760), 9);
        // 5,000 points: 10.7 px apart.
        assert_eq!(marker_radius(5_000, 760), 3);
        // A million points: never below 2 px.
        assert_eq!(marker_radius(1_000_000, 760), 2);
        // The same points in a quarter-size cell get smaller markers.
        assert!(marker_radius(2_000, 380) < marker_radius(2_000, 760));
        assert_eq!(marker_radius(0, 0), 2);
    }
}
