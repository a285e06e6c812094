//! Training evolution: one t-SNE map per epoch, as a grid figure and as an animated GIF.

use std::path::Path;

use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{derr, text, to_rgb, write_atomic, write_svg_png, Figure, INK};
use super::error::PlotError;
use super::font::{ellipsize, fit_size};
use super::palette::{class_color, ColorBy, SOURCE_COLOR, TARGET_COLOR};
use super::panel::{
    draw_frame, marker_radius, Bounds, Legend, LegendItem, Marker, Rect, Scatter, View,
};

/// One epoch's 2-D map.
#[derive(Debug, Clone)]
pub struct EvolutionFrame<'a> {
    /// 2-D embedding, shape `[N, 2]`.
    pub coords: ArrayView2<'a, f32>,
    /// `true` for rows from the target domain.
    pub is_target: &'a [bool],
    /// Class index of every row.
    pub labels: &'a [u32],
    /// Panel title, e.g. "Epoch 03 acc 66.0 auroc 96.2".
    pub title: String,
}

/// What every frame of an evolution figure shares: names, title and colouring.
#[derive(Debug, Clone)]
pub struct EvolutionStyle {
    /// Class names, indexed by label.
    pub class_names: Vec<String>,
    /// Display name of the source domain.
    pub source_name: String,
    /// Display name of the target domain.
    pub target_name: String,
    /// Overall title (model, pair, split).
    pub title: String,
    /// Colour by class (source filled discs, target open triangles) or by domain.
    pub color_by: ColorBy,
}

impl EvolutionStyle {
    fn legend(&self, font: f64) -> Legend {
        let n = self.class_names.len();
        let grey = RGBColor(0x44, 0x44, 0x44);
        let mut groups = Vec::new();
        match self.color_by {
            ColorBy::Class => {
                groups.push((
                    "Class".to_string(),
                    self.class_names
                        .iter()
                        .enumerate()
                        .map(|(i, name)| LegendItem {
                            marker: Marker::Filled,
                            color: class_color(i, n),
                            label: name.clone(),
                        })
                        .collect(),
                ));
                groups.push((
                    "Marker".to_string(),
                    vec![
                        LegendItem {
                            marker: Marker::Filled,
                            color: grey,
                            label: format!("source: {}", self.source_name),
                        },
                        LegendItem {
                            marker: Marker::Triangle,
                            color: grey,
                            label: format!("target: {}", self.target_name),
                        },
                    ],
                ));
            }
            ColorBy::Domain => groups.push((
                "Domain".to_string(),
                vec![
                    LegendItem {
                        marker: Marker::Filled,
                        color: SOURCE_COLOR,
                        label: format!("source: {}", self.source_name),
                    },
                    LegendItem {
                        marker: Marker::Triangle,
                        color: TARGET_COLOR,
                        label: format!("target: {}", self.target_name),
                    },
                ],
            )),
        }
        Legend {
            groups,
            font,
            row_h: (font * 1.45).round() as i32,
        }
    }
}

/// Validate frames and return the axis range shared by all of them.
fn check_frames(
    frames: &[EvolutionFrame<'_>],
    style: &EvolutionStyle,
) -> Result<Bounds, PlotError> {
    if frames.is_empty() {
        return Err(PlotError::Empty("evolution: no frames".into()));
    }
    if style.class_names.is_empty() {
        return Err(PlotError::Empty("evolution: no class names".into()));
    }
    let mut bounds: Option<Bounds> = None;
    for (k, f) in frames.iter().enumerate() {
        let s = Scatter {
            coords: f.coords,
            is_target: f.is_target,
            labels: f.labels,
        };
        s.check(style.class_names.len(), &format!("evolution frame {k}"))?;
        if let Some(b) = Bounds::of(f.coords) {
            bounds = Some(match bounds {
                None => b,
                Some(a) => a.union(&b),
            });
        }
    }
    bounds.ok_or_else(|| PlotError::Empty("evolution: no points".into()))
}

fn scatter<'a>(f: &EvolutionFrame<'a>) -> Scatter<'a> {
    Scatter {
        coords: f.coords,
        is_target: f.is_target,
        labels: f.labels,
    }
}

/// Sizes of a grid figure, in pixels.
#[derive(Debug, Clone, Copy)]
struct Scale {
    /// Side of one square panel.
    cell: i32,
    /// Height reserved above a panel for its title.
    cell_title: i32,
    /// Gap between panels and around the grid.
    gap: i32,
    /// Height reserved above the grid for the figure's title (0 when it has none).
    top: i32,
    /// Text size of the panel titles and the legend.
    font: f64,
    /// Smallest width of the whole figure.
    min_w: i32,
}

/// The evolution grid: small panels, many per figure.
const GRID: Scale = Scale {
    cell: 330,
    cell_title: 34,
    gap: 26,
    top: 84,
    font: 21.0,
    min_w: 1600,
};

/// Text size, in pixels, of every text in [`side_by_side`]'s figure (panel titles and legend).
///
/// A slide that shows the figure `w` pixels wide at `W` points gets its text at
/// `SIDE_BY_SIDE_TEXT_PX * W / w` points.
pub const SIDE_BY_SIDE_TEXT_PX: f64 = 27.0;

/// Two large panels without a figure title, sized for a slide: text at [`SIDE_BY_SIDE_TEXT_PX`].
const SIDE_BY_SIDE: Scale = Scale {
    cell: 700,
    cell_title: 44,
    gap: 24,
    top: 0,
    font: SIDE_BY_SIDE_TEXT_PX,
    min_w: 0,
};

struct Grid<'a, 'f> {
    frames: &'a [EvolutionFrame<'f>],
    style: &'a EvolutionStyle,
    cols: i32,
    bounds: Bounds,
    scale: Scale,
}

impl Grid<'_, '_> {
    fn rows(&self) -> i32 {
        (self.frames.len() as i32 + self.cols - 1) / self.cols
    }
    fn grid_h(&self) -> i32 {
        let s = self.scale;
        self.rows() * (s.cell + s.cell_title + s.gap)
    }
    fn legend(&self) -> (Legend, i32) {
        let mut l = self.style.legend(self.scale.font);
        let (w, _) = l.layout(self.grid_h().max(300), 3);
        (l, w)
    }
}

impl Figure for Grid<'_, '_> {
    fn size(&self) -> (u32, u32) {
        let s = self.scale;
        let (_, lw) = self.legend();
        let w = s.gap + self.cols * (s.cell + s.gap) + lw + 30;
        let h = s.top + self.grid_h() + 10;
        (w.max(s.min_w) as u32, h as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let s = self.scale;
        let (w, _) = self.size();
        let w = w as i32;
        if s.top > 0 {
            let ts = fit_size(&self.style.title, w - 60, 34.0, 16.0);
            root.draw_text(
                &self.style.title,
                &text(ts, INK, HPos::Center, VPos::Top),
                (w / 2, 22),
            )
            .map_err(derr)?;
        }
        let n = self.style.class_names.len();
        for (k, f) in self.frames.iter().enumerate() {
            let (r, c) = (k as i32 / self.cols, k as i32 % self.cols);
            let bx = Rect {
                x: s.gap + c * (s.cell + s.gap),
                y: s.top + r * (s.cell + s.cell_title + s.gap) + s.cell_title,
                w: s.cell,
                h: s.cell,
            };
            let t = ellipsize(&f.title, s.cell, s.font);
            root.draw_text(
                &t,
                &text(s.font, INK, HPos::Center, VPos::Bottom),
                (bx.x + s.cell / 2, bx.y - 8),
            )
            .map_err(derr)?;
            draw_frame(root, bx)?;
            let view = View::fit(&self.bounds, bx, 0.04);
            scatter(f).draw(
                root,
                &view,
                marker_radius(f.coords.nrows(), s.cell),
                self.style.color_by,
                n,
            )?;
        }
        let (legend, _) = self.legend();
        let lx = s.gap + self.cols * (s.cell + s.gap);
        legend.draw(root, lx, s.top + s.cell_title, self.grid_h())?;
        Ok(())
    }
}

fn draw_grid(
    frames: &[EvolutionFrame<'_>],
    style: &EvolutionStyle,
    cols: usize,
    scale: Scale,
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    if cols == 0 {
        return Err(PlotError::InvalidArgument(
            "evolution grid: expected at least 1 column, found 0".into(),
        ));
    }
    let bounds = check_frames(frames, style)?;
    let grid = Grid {
        frames,
        style,
        cols: cols.min(frames.len()).min(i32::MAX as usize) as i32,
        bounds,
        scale,
    };
    write_svg_png(&grid, svg, png)
}

/// Draw all epochs' maps in one grid (`cols` panels per row) and write SVG and PNG.
///
/// Every panel uses the same equal-aspect axis range (the union over all frames), so
/// positions are comparable across epochs; one legend is shared by all panels.
pub fn evolution_grid(
    frames: &[EvolutionFrame<'_>],
    style: &EvolutionStyle,
    cols: usize,
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    draw_grid(frames, style, cols, GRID, svg, png)
}

/// Two maps side by side at slide size (e.g. a source-only baseline and the adapted model of one
/// pair), on one shared equal-aspect axis range with one legend; no figure title (the slide or page
/// gives it). Every text is [`SIDE_BY_SIDE_TEXT_PX`] pixels high.
pub fn side_by_side(
    frames: &[EvolutionFrame<'_>; 2],
    style: &EvolutionStyle,
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    draw_grid(frames, style, 2, SIDE_BY_SIDE, svg, png)
}

const GIF_W: u32 = 1040;
const GIF_H: u32 = 800;
const GIF_TOP: i32 = 100;

struct GifFrame<'a, 'f> {
    frame: &'a EvolutionFrame<'f>,
    style: &'a EvolutionStyle,
    bounds: Bounds,
}

impl Figure for GifFrame<'_, '_> {
    fn size(&self) -> (u32, u32) {
        (GIF_W, GIF_H)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let w = GIF_W as i32;
        let ts = fit_size(&self.style.title, w - 40, 26.0, 12.0);
        root.draw_text(
            &self.style.title,
            &text(ts, INK, HPos::Center, VPos::Top),
            (w / 2, 16),
        )
        .map_err(derr)?;
        let fs = fit_size(&self.frame.title, w - 40, 24.0, 12.0);
        root.draw_text(
            &self.frame.title,
            &text(fs, INK, HPos::Center, VPos::Top),
            (w / 2, 54),
        )
        .map_err(derr)?;
        let side = GIF_H as i32 - GIF_TOP - 20;
        let bx = Rect {
            x: 20,
            y: GIF_TOP,
            w: side,
            h: side,
        };
        draw_frame(root, bx)?;
        let view = View::fit(&self.bounds, bx, 0.04);
        let n = self.style.class_names.len();
        scatter(self.frame).draw(
            root,
            &view,
            marker_radius(self.frame.coords.nrows(), side),
            self.style.color_by,
            n,
        )?;
        let mut legend = self.style.legend(18.0);
        legend.layout(side, 1);
        legend.draw(root, bx.x + side + 20, GIF_TOP, side)?;
        Ok(())
    }
}

/// Write an animated, looping GIF with one frame per epoch (1040×800 px), each shown for
/// `frame_ms` milliseconds. All frames share one axis range, so points do not jump because of
/// rescaling.
pub fn evolution_gif(
    frames: &[EvolutionFrame<'_>],
    style: &EvolutionStyle,
    gif: &Path,
    frame_ms: u32,
) -> Result<(), PlotError> {
    use image::codecs::gif::{GifEncoder, Repeat};
    if frame_ms < 20 {
        return Err(PlotError::InvalidArgument(format!(
            "evolution GIF: expected a frame time of at least 20 ms, found {frame_ms} ms"
        )));
    }
    let bounds = check_frames(frames, style)?;
    let enc_err = |e: image::ImageError| PlotError::Encode {
        format: "GIF",
        message: e.to_string(),
    };
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
        enc.set_repeat(Repeat::Infinite).map_err(enc_err)?;
        for f in frames {
            let rgb = to_rgb(&GifFrame {
                frame: f,
                style,
                bounds,
            })?;
            let rgba = image::DynamicImage::ImageRgb8(rgb).into_rgba8();
            let delay = image::Delay::from_numer_denom_ms(frame_ms, 1);
            enc.encode_frame(image::Frame::from_parts(rgba, 0, 0, delay))
                .map_err(enc_err)?;
        }
    }
    write_atomic(gif, &bytes)
}
