//! Shared drawing machinery: the embedded font, rendering a figure to SVG or RGB pixels,
//! text helpers, equal-aspect scatter panels and legend entries.

use std::io::Cursor;
use std::path::Path;
use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontFamily, FontStyle, RGBColor};

use super::glyphs::{text_advance, TextFix};
use super::{write_atomic, PlotError, FONT_FAMILY};

pub(crate) static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Register the embedded font once per process.
pub(crate) fn ensure_font() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font(
            "the embedded DejaVu Sans font could not be parsed".to_string(),
        ))
    }
}

/// Convert a drawing error of any backend into a [`PlotError`].
pub(crate) fn derr<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// A figure that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// Canvas size in pixels (width, height).
    fn size(&self) -> (u32, u32);
    /// Draw on a white-filled root area of [`Figure::size`].
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// Render a figure to an SVG document string.
pub(crate) fn to_svg_string(fig: &impl Figure) -> Result<String, PlotError> {
    ensure_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, fig.size()).into_drawing_area();
        root.fill(&WHITE).map_err(derr)?;
        fig.draw(&root)?;
        root.present().map_err(derr)?;
    }
    Ok(out)
}

/// Render a figure to an RGB image.
pub(crate) fn to_rgb(fig: &impl Figure) -> Result<image::RgbImage, PlotError> {
    ensure_font()?;
    let (w, h) = fig.size();
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let root = DrawingArea::from(TextFix(BitMapBackend::with_buffer(&mut buf, (w, h))));
        root.fill(&WHITE).map_err(derr)?;
        fig.draw(&root)?;
        root.present().map_err(derr)?;
    }
    image::RgbImage::from_raw(w, h, buf).ok_or_else(|| PlotError::Encode {
        format: "PNG",
        message: "pixel buffer has the wrong size".to_string(),
    })
}

/// Encode an RGB image as PNG bytes.
pub(crate) fn png_bytes(img: &image::RgbImage) -> Result<Vec<u8>, PlotError> {
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| PlotError::Encode {
            format: "PNG",
            message: e.to_string(),
        })?;
    Ok(bytes)
}

/// Render a figure and write it as SVG and PNG, each atomically.
pub(crate) fn write_svg_png(fig: &impl Figure, svg: &Path, png: &Path) -> Result<(), PlotError> {
    let s = to_svg_string(fig)?;
    let img = to_rgb(fig)?;
    let bytes = png_bytes(&img)?;
    write_atomic(svg, s.as_bytes())?;
    write_atomic(png, &bytes)?;
    Ok(())
}

/// Text style in the embedded family.
pub(crate) fn text(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal)
        .color(&color)
        .pos(Pos::new(h, v))
}

/// Rotated text style (reading bottom to top) in the embedded family.
pub(crate) fn text_up(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal)
        .transform(FontTransform::Rotate270)
        .color(&color)
        .pos(Pos::new(h, v))
}

/// Width in pixels of `s` at font size `size` (0 when the font cannot measure it).
pub(crate) fn text_width(s: &str, size: f64) -> i32 {
    text_advance(s, size).ceil() as i32
}

/// The largest font size in `min..=start` (stepping down by 1) at which `s` fits in `max_w`.
pub(crate) fn fit_size(s: &str, max_w: i32, start: f64, min: f64) -> f64 {
    let mut size = start;
    while size > min && text_width(s, size) > max_w {
        size -= 1.0;
    }
    size
}

/// Shorten `s` with an ellipsis until it fits in `max_w` at `size`.
pub(crate) fn ellipsize(s: &str, max_w: i32, size: f64) -> String {
    if text_width(s, size) <= max_w {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    for keep in (1..chars.len()).rev() {
        let t: String = chars[..keep].iter().collect::<String>() + "…";
        if text_width(&t, size) <= max_w {
            return t;
        }
    }
    "…".to_string()
}

pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(crate) const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(crate) const FRAME: RGBColor = RGBColor(0xbb, 0xbb, 0xbb);
pub(crate) const GRID: RGBColor = RGBColor(0xe3, 0xe3, 0xe3);

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

/// Marker shapes used in scatter panels and legends.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Marker {
    /// A filled disc.
    Filled,
    /// A hollow ring.
    Ring,
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
    let stroke = (r as f64 / 2.5).round().max(1.0) as u32;
    let style = match marker {
        Marker::Filled => color.mix(alpha).filled(),
        Marker::Ring => color.mix(alpha).stroke_width(stroke),
    };
    let r = match marker {
        Marker::Filled => r,
        Marker::Ring => (r - stroke as i32 / 2).max(1),
    };
    area.draw(&Circle::new(c, r, style)).map_err(derr)
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

    /// Draw all points into the view: source first (filled), then target (rings).
    pub fn draw<DB: DrawingBackend>(
        &self,
        area: &DrawingArea<DB, Shift>,
        view: &View,
        radius: i32,
        color_by: super::ColorBy,
        n_classes: usize,
    ) -> Result<(), PlotError> {
        for pass_target in [false, true] {
            for (i, row) in self.coords.rows().into_iter().enumerate() {
                if self.is_target[i] != pass_target {
                    continue;
                }
                let p = view.map(row[0] as f64, row[1] as f64);
                let color = match color_by {
                    super::ColorBy::Class => super::class_color(self.labels[i] as usize, n_classes),
                    super::ColorBy::Domain if pass_target => super::TARGET_COLOR,
                    super::ColorBy::Domain => super::SOURCE_COLOR,
                };
                let (marker, alpha) = if pass_target {
                    (Marker::Ring, 0.85)
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
