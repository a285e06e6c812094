//! The joint t-SNE figure: one panel coloured by class, one coloured by domain.

use std::path::Path;

use ndarray::ArrayView2;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{derr, text, to_svg_string, write_svg_png, Figure, INK, MUTED};
use super::error::PlotError;
use super::font::fit_size;
use super::palette::{class_color, ColorBy, SOURCE_COLOR, TARGET_COLOR};
use super::panel::{
    draw_frame, marker_radius, Bounds, Legend, LegendItem, Marker, Rect, Scatter, View,
};

/// Data and labels of a joint t-SNE figure.
///
/// `coords` has one row per point (source rows, then target rows, by convention) and two
/// columns; `is_target` and `labels` have one entry per row; every label must be below
/// `class_names.len()`.
#[derive(Debug, Clone)]
pub struct TsneFigure<'a> {
    /// 2-D embedding, shape `[N, 2]`.
    pub coords: ArrayView2<'a, f32>,
    /// `true` for rows from the target domain.
    pub is_target: &'a [bool],
    /// Class index of every row.
    pub labels: &'a [u32],
    /// Class names, indexed by label.
    pub class_names: &'a [String],
    /// Display name of the source domain (e.g. "Real World").
    pub source_name: String,
    /// Display name of the target domain (e.g. "Product").
    pub target_name: String,
    /// Figure title (model, domain pair, split).
    pub title: String,
    /// Optional second line under the title (e.g. target accuracy and AUROC).
    pub subtitle: Option<String>,
}

const HEIGHT: u32 = 900;
const MIN_WIDTH: u32 = 2000;
const TOP: i32 = 112;
const CAPTION_H: i32 = 44;
const BOTTOM: i32 = 24;

struct Layout {
    width: u32,
    legend: Legend,
    legend_x: i32,
    panels: [Rect; 2],
}

impl<'a> TsneFigure<'a> {
    fn scatter(&self) -> Scatter<'a> {
        Scatter {
            coords: self.coords,
            is_target: self.is_target,
            labels: self.labels,
        }
    }

    fn check(&self) -> Result<(), PlotError> {
        if self.class_names.is_empty() {
            return Err(PlotError::Empty("t-SNE figure: no class names".into()));
        }
        self.scatter().check(self.class_names.len(), "t-SNE figure")
    }

    fn legend(&self) -> Legend {
        let n = self.class_names.len();
        let counts = self.scatter().class_counts(n);
        let classes = self
            .class_names
            .iter()
            .enumerate()
            .map(|(i, name)| LegendItem {
                marker: Marker::Filled,
                color: class_color(i, n),
                label: format!("{name} ({}/{})", counts[i].0, counts[i].1),
            })
            .collect();
        let n_tgt = self.is_target.iter().filter(|&&t| t).count();
        let n_src = self.is_target.len() - n_tgt;
        let grey = RGBColor(0x44, 0x44, 0x44);
        Legend {
            groups: vec![
                ("Class (source/target)".to_string(), classes),
                (
                    "Marker".to_string(),
                    vec![
                        LegendItem {
                            marker: Marker::Filled,
                            color: grey,
                            label: format!("source: {} ({n_src})", self.source_name),
                        },
                        LegendItem {
                            marker: Marker::Triangle,
                            color: grey,
                            label: format!("target: {} ({n_tgt})", self.target_name),
                        },
                    ],
                ),
                (
                    "Domain (panel b)".to_string(),
                    vec![
                        LegendItem {
                            marker: Marker::Filled,
                            color: SOURCE_COLOR,
                            label: self.source_name.clone(),
                        },
                        LegendItem {
                            marker: Marker::Triangle,
                            color: TARGET_COLOR,
                            label: self.target_name.clone(),
                        },
                    ],
                ),
            ],
            font: 22.0,
            row_h: 32,
        }
    }

    fn layout(&self) -> Layout {
        let mut legend = self.legend();
        let avail_h = HEIGHT as i32 - TOP - BOTTOM;
        let (lw, _) = legend.layout(avail_h, 3);
        let box_size = avail_h - CAPTION_H;
        let panel_w = box_size + 50;
        let width = MIN_WIDTH.max((2 * panel_w + lw + 70) as u32);
        let panels_w = width as i32 - lw - 50;
        let slot = panels_w / 2;
        let panels = [0, 1].map(|k| Rect {
            x: k * slot + (slot - box_size) / 2 + 10,
            y: TOP + CAPTION_H,
            w: box_size,
            h: box_size,
        });
        Layout {
            width,
            legend,
            legend_x: panels_w + 20,
            panels,
        }
    }
}

impl Figure for TsneFigure<'_> {
    fn size(&self) -> (u32, u32) {
        (self.layout().width, HEIGHT)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let lay = self.layout();
        let w = lay.width as i32;
        let title_size = fit_size(&self.title, w - 60, 34.0, 16.0);
        root.draw_text(
            &self.title,
            &text(title_size, INK, HPos::Center, VPos::Top),
            (w / 2, 18),
        )
        .map_err(derr)?;
        if let Some(sub) = &self.subtitle {
            let s = fit_size(sub, w - 60, 25.0, 12.0);
            root.draw_text(sub, &text(s, MUTED, HPos::Center, VPos::Top), (w / 2, 64))
                .map_err(derr)?;
        }

        let scatter = self.scatter();
        let n = self.class_names.len();
        let bounds = Bounds::of(self.coords)
            .ok_or_else(|| PlotError::Empty("t-SNE figure: no points".into()))?;
        let captions = [
            "(a) colour = class; filled disc = source, open triangle = target",
            "(b) colour = domain",
        ];
        for (k, (bx, color_by)) in lay
            .panels
            .iter()
            .zip([ColorBy::Class, ColorBy::Domain])
            .enumerate()
        {
            let cap = captions[k];
            let s = fit_size(cap, bx.w, 23.0, 12.0);
            root.draw_text(
                cap,
                &text(s, INK, HPos::Left, VPos::Bottom),
                (bx.x, bx.y - 10),
            )
            .map_err(derr)?;
            draw_frame(root, *bx)?;
            let view = View::fit(&bounds, *bx, 0.04);
            scatter.draw(
                root,
                &view,
                marker_radius(self.coords.nrows(), bx.w),
                color_by,
                n,
            )?;
        }
        let avail_h = HEIGHT as i32 - TOP - BOTTOM;
        lay.legend.draw(
            root,
            lay.legend_x,
            TOP + CAPTION_H - 4,
            avail_h - CAPTION_H + 4,
        )?;
        Ok(())
    }
}

/// Draw the joint t-SNE figure and write it as SVG and PNG (at least 2000×900 px).
///
/// Panel (a) colours points by class, with filled discs for source rows and open triangles for target
/// rows; panel (b) colours them by domain. Both panels share one equal-aspect axis range and
/// have no ticks (t-SNE axes carry no meaning). The legend lists every class with its
/// source/target counts, the marker meaning and the domain colours.
pub fn tsne_figure(fig: &TsneFigure<'_>, svg: &Path, png: &Path) -> Result<(), PlotError> {
    fig.check()?;
    write_svg_png(fig, svg, png)
}

/// Draw the joint t-SNE figure as an SVG document string, for inline embedding.
pub fn tsne_figure_svg(fig: &TsneFigure<'_>) -> Result<String, PlotError> {
    fig.check()?;
    to_svg_string(fig)
}
