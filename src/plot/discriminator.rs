//! The domain discriminator's view of a pair: per-domain histograms of p(target) (as shares of each
//! domain, so domains of different sizes compare), and, when a run has checkpoints, the AUROC of target
//! against source per epoch with the chance line at 0.5.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{derr, text, text_up, to_svg_string, write_svg_png, Figure, GRID, INK, MUTED};
use super::error::PlotError;
use super::font::{ellipsize, fit_size};
use super::palette::{SOURCE_COLOR, TARGET_COLOR};

/// What the discriminator figure shows.
#[derive(Debug, Clone)]
pub struct DiscriminatorFigure<'a> {
    /// Title.
    pub title: &'a str,
    /// Source domain name (legend).
    pub source_name: &'a str,
    /// Target domain name (legend).
    pub target_name: &'a str,
    /// Source counts per equal bin of p(target) in `[0, 1]`.
    pub source_hist: &'a [u64],
    /// Target counts per bin (as many bins as the source).
    pub target_hist: &'a [u64],
    /// AUROC of target against source per epoch (second panel when there are at least two).
    pub epochs: &'a [(u32, f64)],
}

const PANEL_W: i32 = 420;
const PANEL_H: i32 = 240;
const LEFT: i32 = 64;
const TOP: i32 = 78;
const GAP: i32 = 96;

impl DiscriminatorFigure<'_> {
    fn check(&self) -> Result<(), PlotError> {
        if self.source_hist.is_empty() {
            return Err(PlotError::Empty("discriminator histogram: no bins".into()));
        }
        if self.target_hist.len() != self.source_hist.len() {
            return Err(PlotError::LengthMismatch {
                what: "target histogram bins (as many as the source's)".into(),
                expected: self.source_hist.len(),
                found: self.target_hist.len(),
            });
        }
        for &(e, v) in self.epochs {
            if !v.is_finite() || !(0.0..=1.0).contains(&v) {
                return Err(PlotError::OutOfRange {
                    what: format!("discriminator AUROC of epoch {e}"),
                    expected: "0..=1".into(),
                    found: v,
                });
            }
        }
        Ok(())
    }

    fn with_epochs(&self) -> bool {
        self.epochs.len() >= 2
    }

    fn histogram<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let bins = self.source_hist.len();
        let share = |h: &[u64]| {
            let n = h.iter().sum::<u64>().max(1) as f64;
            h.iter().map(|&c| c as f64 / n).collect::<Vec<f64>>()
        };
        let (s, t) = (share(self.source_hist), share(self.target_hist));
        let top = s.iter().chain(&t).fold(0.0f64, |m, &v| m.max(v));
        let y_max = ((top * 10.0).ceil() / 10.0).clamp(0.1, 1.0);
        let (x0, y0) = (LEFT, TOP);
        let y_of = |v: f64| y0 + PANEL_H - (v / y_max * PANEL_H as f64).round() as i32;
        for k in 0..=4 {
            let v = y_max * k as f64 / 4.0;
            let y = y_of(v);
            root.draw(&PathElement::new(
                vec![(x0, y), (x0 + PANEL_W, y)],
                GRID.stroke_width(1),
            ))
            .map_err(derr)?;
            root.draw_text(
                &format!("{:.0}%", v * 100.0),
                &text(12.0, MUTED, HPos::Right, VPos::Center),
                (x0 - 6, y),
            )
            .map_err(derr)?;
        }
        let bw = PANEL_W as f64 / bins as f64;
        for (i, (&a, &b)) in s.iter().zip(&t).enumerate() {
            let xl = x0 + (i as f64 * bw).round() as i32;
            let xm = x0 + ((i as f64 + 0.5) * bw).round() as i32;
            let xr = x0 + ((i as f64 + 1.0) * bw).round() as i32;
            for (v, c, l, r) in [(a, SOURCE_COLOR, xl + 1, xm), (b, TARGET_COLOR, xm, xr - 1)] {
                if v > 0.0 && r > l {
                    root.draw(&Rectangle::new(
                        [(l, y_of(v)), (r, y0 + PANEL_H)],
                        c.filled(),
                    ))
                    .map_err(derr)?;
                }
            }
        }
        for k in 0..=4 {
            let x = x0 + PANEL_W * k / 4;
            root.draw_text(
                &format!("{:.2}", k as f64 / 4.0),
                &text(12.0, MUTED, HPos::Center, VPos::Top),
                (x, y0 + PANEL_H + 6),
            )
            .map_err(derr)?;
        }
        root.draw_text(
            "discriminator p(target)",
            &text(13.0, INK, HPos::Center, VPos::Top),
            (x0 + PANEL_W / 2, y0 + PANEL_H + 24),
        )
        .map_err(derr)?;
        root.draw_text(
            "share of the domain's images",
            &text_up(13.0, INK, HPos::Center, VPos::Top),
            (8, y0 + PANEL_H / 2),
        )
        .map_err(derr)?;
        // Legend above the panel.
        let mut x = x0;
        for (name, c) in [
            (self.source_name, SOURCE_COLOR),
            (self.target_name, TARGET_COLOR),
        ] {
            let label = ellipsize(name, 160, 13.0);
            root.draw(&Rectangle::new(
                [(x, y0 - 22), (x + 12, y0 - 10)],
                c.filled(),
            ))
            .map_err(derr)?;
            root.draw_text(
                &label,
                &text(13.0, INK, HPos::Left, VPos::Center),
                (x + 17, y0 - 16),
            )
            .map_err(derr)?;
            x += 190;
        }
        Ok(())
    }

    fn epochs_panel<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, Shift>,
    ) -> Result<(), PlotError> {
        let x0 = LEFT + PANEL_W + GAP;
        let y0 = TOP;
        let (lo, hi) = self
            .epochs
            .iter()
            .fold((u32::MAX, 0u32), |(a, b), &(e, _)| (a.min(e), b.max(e)));
        let span = (hi - lo).max(1) as f64;
        let x_of = |e: u32| x0 + ((e - lo) as f64 / span * PANEL_W as f64).round() as i32;
        let y_of = |v: f64| y0 + PANEL_H - (v * PANEL_H as f64).round() as i32;
        for k in 0..=4 {
            let v = k as f64 / 4.0;
            let y = y_of(v);
            let style = if k == 2 {
                MUTED.stroke_width(1)
            } else {
                GRID.stroke_width(1)
            };
            root.draw(&PathElement::new(vec![(x0, y), (x0 + PANEL_W, y)], style))
                .map_err(derr)?;
            root.draw_text(
                &format!("{v:.2}"),
                &text(12.0, MUTED, HPos::Right, VPos::Center),
                (x0 - 6, y),
            )
            .map_err(derr)?;
        }
        root.draw_text(
            "chance",
            &text(11.0, MUTED, HPos::Right, VPos::Bottom),
            (x0 + PANEL_W - 2, y_of(0.5) - 2),
        )
        .map_err(derr)?;
        let pts: Vec<(i32, i32)> = self
            .epochs
            .iter()
            .map(|&(e, v)| (x_of(e), y_of(v)))
            .collect();
        root.draw(&PathElement::new(pts.clone(), INK.stroke_width(2)))
            .map_err(derr)?;
        for p in pts {
            root.draw(&Circle::new(p, 3, INK.filled())).map_err(derr)?;
        }
        for e in tick_epochs(self.epochs) {
            root.draw_text(
                &e.to_string(),
                &text(12.0, MUTED, HPos::Center, VPos::Top),
                (x_of(e), y0 + PANEL_H + 6),
            )
            .map_err(derr)?;
        }
        root.draw_text(
            "epoch",
            &text(13.0, INK, HPos::Center, VPos::Top),
            (x0 + PANEL_W / 2, y0 + PANEL_H + 24),
        )
        .map_err(derr)?;
        root.draw_text(
            "AUROC target vs source (domain logit)",
            &text(13.0, INK, HPos::Left, VPos::Center),
            (x0, y0 - 16),
        )
        .map_err(derr)?;
        Ok(())
    }
}

impl Figure for DiscriminatorFigure<'_> {
    fn size(&self) -> (u32, u32) {
        let w = LEFT + PANEL_W + 24 + if self.with_epochs() { GAP + PANEL_W } else { 0 };
        (w as u32, (TOP + PANEL_H + 50) as u32)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError> {
        let (w, _) = self.size();
        let w = w as i32;
        let ts = fit_size(self.title, w - 20, 18.0, 10.0);
        root.draw_text(
            self.title,
            &text(ts, INK, HPos::Center, VPos::Top),
            (w / 2, 12),
        )
        .map_err(derr)?;
        self.histogram(root)?;
        if self.with_epochs() {
            self.epochs_panel(root)?;
        }
        Ok(())
    }
}

/// The discriminator figure as an SVG document string.
pub fn discriminator_svg(fig: &DiscriminatorFigure<'_>) -> Result<String, PlotError> {
    fig.check()?;
    to_svg_string(fig)
}

/// The discriminator figure written as SVG and PNG files.
pub fn discriminator_figure(
    fig: &DiscriminatorFigure<'_>,
    svg: &Path,
    png: &Path,
) -> Result<(), PlotError> {
    fig.check()?;
    write_svg_png(fig, svg, png)
}

/// The epochs that get a tick: every checkpoint up to six, else the first, middle and last one (never
/// an epoch without a checkpoint).
fn tick_epochs(epochs: &[(u32, f64)]) -> Vec<u32> {
    let n = epochs.len();
    if n <= 6 {
        epochs.iter().map(|e| e.0).collect()
    } else {
        vec![epochs[0].0, epochs[n / 2].0, epochs[n - 1].0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fig<'a>(s: &'a [u64], t: &'a [u64], e: &'a [(u32, f64)]) -> DiscriminatorFigure<'a> {
        DiscriminatorFigure {
            title: "t",
            source_name: "Product",
            target_name: "Clipart",
            source_hist: s,
            target_hist: t,
            epochs: e,
        }
    }

    #[test]
    fn draws_one_or_two_panels_and_refuses_bad_input() {
        let one = discriminator_svg(&fig(&[3, 1], &[0, 4], &[])).unwrap();
        let two = discriminator_svg(&fig(&[3, 1], &[0, 4], &[(2, 0.9), (4, 0.6)])).unwrap();
        assert!(one.contains("Product") && one.contains("Clipart"));
        assert!(!one.contains("epoch"));
        assert!(two.contains("epoch"));
        assert!(
            fig(&[3, 1], &[0, 4], &[(2, 0.9), (4, 0.6)]).size().0
                > fig(&[3, 1], &[0, 4], &[]).size().0
        );
        assert!(discriminator_svg(&fig(&[], &[], &[])).is_err());
        assert!(discriminator_svg(&fig(&[1], &[1, 2], &[])).is_err());
        assert!(discriminator_svg(&fig(&[1], &[1], &[(1, f64::NAN), (2, 0.5)])).is_err());
        // Twelve checkpoints every second epoch from 2 to 24: ticks at checkpoints only; the
        // midpoint of the range, 13, is no checkpoint.
        let e: Vec<(u32, f64)> = (1..=12).map(|k| (2 * k, 0.9 - 0.03 * k as f64)).collect();
        assert_eq!(tick_epochs(&e), [2, 14, 24]);
        assert_eq!(tick_epochs(&e[..3]), [2, 4, 6]);
    }
}
