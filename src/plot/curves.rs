//! Training curves: a figure with one panel per metric of a parsed training log.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{derr, text, write_svg_png, Figure, INK, MUTED};
use super::error::PlotError;
use super::font::{fit_size, text_width, FONT_FAMILY};
use super::palette::{class_color, SOURCE_COLOR, TARGET_COLOR};
use crate::traininglog::{is_percent_metric, Curves, Role};

fn metric_title(m: &str) -> String {
    match m {
        "accuracy" => "Accuracy".into(),
        "auroc" => "AUROC (macro one-vs-rest)".into(),
        other => other.to_string(),
    }
}

const W: u32 = 2000;
const PANEL_H: u32 = 720;
const TOP: i32 = 80;
/// Height of one legend row, and of the note line under the legend.
const LEGEND_ROW: i32 = 36;
/// Length of a legend entry's line sample.
const SAMPLE: i32 = 56;

struct CurvesFig<'a> {
    curves: &'a Curves,
    title: &'a str,
    metrics: Vec<String>,
    series: Vec<(String, String)>,
}

impl CurvesFig<'_> {
    /// The legend's entries (series indices) row by row: as many per row as fit in the width, so a
    /// long list (e.g. the validators of `select`) wraps instead of running off the canvas.
    fn legend_rows(&self) -> Vec<Vec<(usize, i32)>> {
        let max_w = W as i32 - 40;
        let mut rows: Vec<Vec<(usize, i32)>> = Vec::new();
        let mut used = 0;
        for k in 0..self.series.len() {
            let wd = SAMPLE + 12 + text_width(&self.series_label(k), 22.0) + 40;
            match rows.last_mut() {
                Some(r) if used + wd <= max_w => {
                    r.push((k, wd));
                    used += wd;
                }
                _ => {
                    rows.push(vec![(k, wd)]);
                    used = wd;
                }
            }
        }
        rows
    }

    fn legend_h(&self) -> i32 {
        self.legend_rows().len().max(1) as i32 * LEGEND_ROW + LEGEND_ROW + 10
    }

    fn cols(&self) -> usize {
        self.metrics.len().clamp(1, 3)
    }
    fn rows(&self) -> usize {
        self.metrics.len().div_ceil(self.cols())
    }

    /// Style of series `k`: colour and role.
    fn series_style(&self, k: usize) -> (RGBColor, Role) {
        let (d, _) = &self.series[k];
        let role = self.curves.role(d);
        let same_role = self
            .series
            .iter()
            .filter(|(d2, _)| self.curves.role(d2) == role)
            .count();
        let color = if same_role == 1 {
            match role {
                Role::Source => SOURCE_COLOR,
                Role::Target => TARGET_COLOR,
            }
        } else {
            class_color(k, self.series.len())
        };
        (color, role)
    }

    fn series_label(&self, k: usize) -> String {
        let (d, s) = &self.series[k];
        let lower = d.to_lowercase();
        if ["source", "src", "target", "tgt"].contains(&lower.as_str()) {
            format!("{d} · {s}")
        } else {
            let r = match self.curves.role(d) {
                Role::Source => "source",
                Role::Target => "target",
            };
            format!("{d} ({r}) · {s}")
        }
    }
}

fn dashed_segment<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    from: (i32, i32),
    len: i32,
    style: ShapeStyle,
    dashed: bool,
) -> Result<(), PlotError> {
    if !dashed {
        return area
            .draw(&PathElement::new(vec![from, (from.0 + len, from.1)], style))
            .map_err(derr);
    }
    let mut x = 0;
    while x < len {
        let e = (x + 12).min(len);
        area.draw(&PathElement::new(
            vec![(from.0 + x, from.1), (from.0 + e, from.1)],
            style,
        ))
        .map_err(derr)?;
        x += 20;
    }
    Ok(())
}

impl Figure for CurvesFig<'_> {
    fn size(&self) -> (u32, u32) {
        (
            W,
            TOP as u32 + self.rows() as u32 * PANEL_H + self.legend_h() as u32,
        )
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (w, h) = self.size();
        let ts = fit_size(self.title, w as i32 - 60, 34.0, 14.0);
        root.draw_text(
            self.title,
            &text(ts, INK, HPos::Center, VPos::Top),
            (w as i32 / 2, 20),
        )
        .map_err(derr)?;
        let legend_h = self.legend_h();
        let body = root.margin(TOP as u32, legend_h as u32, 10, 30);
        let panels = body.split_evenly((self.rows(), self.cols()));
        let emin = self
            .curves
            .points
            .iter()
            .map(|p| p.epoch)
            .min()
            .unwrap_or(0) as f64;
        let emax = self
            .curves
            .points
            .iter()
            .map(|p| p.epoch)
            .max()
            .unwrap_or(0) as f64;
        let (x0, x1) = if emax > emin {
            (emin, emax)
        } else {
            (emin - 1.0, emax + 1.0)
        };
        let n_epochs = (emax - emin) as usize + 1;
        for (metric, panel) in self.metrics.iter().zip(panels.iter()) {
            let all: Vec<f64> = self
                .series
                .iter()
                .flat_map(|(d, s)| self.curves.values(metric, d, s))
                .map(|(_, v)| v)
                .collect();
            let lo = all.iter().cloned().fold(f64::INFINITY, f64::min);
            let hi = all.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let percent = is_percent_metric(metric);
            let (y0, y1) = if percent {
                (((lo - 5.0) / 10.0).floor().max(0.0) * 10.0, 100.0)
            } else if hi > lo {
                let pad = (hi - lo) * 0.06;
                (lo - pad, hi + pad)
            } else {
                (lo - 1.0, hi + 1.0)
            };
            let y_desc = if percent {
                format!(
                    "{} (%)",
                    if metric == "auroc" {
                        "AUROC"
                    } else {
                        "accuracy"
                    }
                )
            } else {
                metric.clone()
            };
            let mut chart = ChartBuilder::on(panel)
                .margin(24)
                .caption(
                    metric_title(metric),
                    text(28.0, INK, HPos::Center, VPos::Top),
                )
                .x_label_area_size(64)
                .y_label_area_size(90)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(derr)?;
            chart
                .configure_mesh()
                .x_labels(n_epochs.min(21))
                .y_labels(11)
                .x_label_formatter(&|x| format!("{x:.0}"))
                .y_label_formatter(&|y| {
                    if percent {
                        format!("{y:.0}")
                    } else {
                        format!("{y:.3}")
                    }
                })
                .label_style((FONT_FAMILY, 20).into_font().color(&INK))
                .axis_desc_style((FONT_FAMILY, 23).into_font().color(&INK))
                .x_desc("epoch")
                .y_desc(y_desc)
                .bold_line_style(RGBColor(0xe6, 0xe6, 0xe6).stroke_width(1))
                .light_line_style(TRANSPARENT)
                .axis_style(RGBColor(0x88, 0x88, 0x88).stroke_width(1))
                .draw()
                .map_err(derr)?;
            for (k, (d, s)) in self.series.iter().enumerate() {
                let pts: Vec<(f64, f64)> = self
                    .curves
                    .values(metric, d, s)
                    .into_iter()
                    .map(|(e, v)| (e as f64, v))
                    .collect();
                if pts.is_empty() {
                    continue;
                }
                let (color, role) = self.series_style(k);
                let style = color.stroke_width(3);
                match role {
                    Role::Source => chart
                        .draw_series(DashedLineSeries::new(pts.clone(), 12, 8, style))
                        .map_err(derr)?,
                    Role::Target => chart
                        .draw_series(LineSeries::new(pts.clone(), style))
                        .map_err(derr)?,
                };
                chart
                    .draw_series(pts.iter().map(|&p| Circle::new(p, 4, color.filled())))
                    .map_err(derr)?;
            }
        }
        // Shared legend along the bottom, wrapped into rows, each row centred; the note below it.
        let mut y = h as i32 - legend_h + LEGEND_ROW / 2;
        for row in self.legend_rows() {
            let total: i32 = row.iter().map(|&(_, wd)| wd).sum();
            let mut x = ((w as i32 - total) / 2).max(10);
            for (k, wd) in row {
                let (color, role) = self.series_style(k);
                dashed_segment(
                    root,
                    (x, y),
                    SAMPLE,
                    color.stroke_width(3),
                    role == Role::Source,
                )?;
                root.draw_text(
                    &self.series_label(k),
                    &text(22.0, INK, HPos::Left, VPos::Center),
                    (x + SAMPLE + 12, y),
                )
                .map_err(derr)?;
                x += wd;
            }
            y += LEGEND_ROW;
        }
        let note = "dashed = source, solid = target";
        root.draw_text(
            note,
            &text(18.0, MUTED, HPos::Center, VPos::Center),
            (w as i32 / 2, y),
        )
        .map_err(derr)?;
        Ok(())
    }
}

/// Draw training curves, one panel per metric (accuracy and AUROC first), epoch on x, source
/// series dashed and target series solid, with a shared legend; write SVG and PNG (2000 px
/// wide).
pub fn curves_figure(
    curves: &Curves,
    title: &str,
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    if curves.points.is_empty() {
        return Err(PlotError::Empty("curves: no measurements".into()));
    }
    let fig = CurvesFig {
        curves,
        title,
        metrics: curves.metrics(),
        series: curves.series(),
    };
    write_svg_png(&fig, svg, png)
}
