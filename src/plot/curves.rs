//! Training curves: a tidy CSV reader and a figure with one panel per metric.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

use super::canvas::{derr, text, write_svg_png, Figure, INK, MUTED};
use super::error::PlotError;
use super::font::{fit_size, text_width, FONT_FAMILY};
use super::palette::{class_color, SOURCE_COLOR, TARGET_COLOR};

/// One measurement: a metric's value for one domain and split at one epoch.
#[derive(Debug, Clone, PartialEq)]
pub struct CurvePoint {
    /// Epoch number.
    pub epoch: u32,
    /// Domain: `source`, `target`, or a domain name such as `Art`.
    pub domain: String,
    /// Split, e.g. `train` or `valid`.
    pub split: String,
    /// Metric in canonical form: `accuracy` and `auroc` for the known ones (aliases `acc`,
    /// `auc`, `roc_auc` are mapped to these), otherwise the lower-cased name from the file.
    pub metric: String,
    /// The value as written in the file.
    pub value: f64,
}

/// Whether a series is drawn as the source (dashed) or the target (solid).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Dashed lines.
    Source,
    /// Solid lines.
    Target,
}

/// Training curves read from a tidy CSV file (see [`read_curves`]).
#[derive(Debug, Clone, Default)]
pub struct Curves {
    /// All measurements, in file order.
    pub points: Vec<CurvePoint>,
    /// Domain name to treat as the source when the file names domains rather than saying
    /// `source`/`target` (compared case-insensitively). `None`: only `source`/`src` are source.
    pub source_domain: Option<String>,
}

/// Metrics whose values are fractions (0..1) or percentages (0..100) and are drawn in %.
fn is_percent_metric(m: &str) -> bool {
    m == "accuracy" || m == "auroc"
}

fn canonical_metric(m: &str) -> String {
    let m = m.trim().to_lowercase();
    match m.as_str() {
        "acc" | "accuracy" => "accuracy".into(),
        "auc" | "auroc" | "roc_auc" | "rocauc" => "auroc".into(),
        _ => m,
    }
}

fn metric_title(m: &str) -> String {
    match m {
        "accuracy" => "Accuracy".into(),
        "auroc" => "AUROC (macro one-vs-rest)".into(),
        other => other.to_string(),
    }
}

impl Curves {
    /// The role of a domain value: `source`/`src` (or [`Curves::source_domain`]) is the
    /// source, everything else the target.
    pub fn role(&self, domain: &str) -> Role {
        let d = domain.trim().to_lowercase();
        let named = self
            .source_domain
            .as_deref()
            .is_some_and(|s| s.trim().to_lowercase() == d);
        if d == "source" || d == "src" || named {
            Role::Source
        } else {
            Role::Target
        }
    }

    /// Metrics present, accuracy and AUROC first, then the others in file order.
    pub fn metrics(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for m in ["accuracy", "auroc"] {
            if self.points.iter().any(|p| p.metric == m) {
                out.push(m.to_string());
            }
        }
        for p in &self.points {
            if !out.contains(&p.metric) {
                out.push(p.metric.clone());
            }
        }
        out
    }

    /// (domain, split) series in file order.
    pub fn series(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for p in &self.points {
            let k = (p.domain.clone(), p.split.clone());
            if !out.contains(&k) {
                out.push(k);
            }
        }
        out
    }

    /// Values of one metric for one series, sorted by epoch, in display units (percent for
    /// accuracy and AUROC: fractions are multiplied by 100 when no value of that metric exceeds 1).
    pub fn values(&self, metric: &str, domain: &str, split: &str) -> Vec<(u32, f64)> {
        let scale = self.display_scale(metric);
        let mut v: Vec<(u32, f64)> = self
            .points
            .iter()
            .filter(|p| p.metric == metric && p.domain == domain && p.split == split)
            .map(|p| (p.epoch, p.value * scale))
            .collect();
        v.sort_by_key(|&(e, _)| e);
        v
    }

    fn display_scale(&self, metric: &str) -> f64 {
        let all_fraction = self
            .points
            .iter()
            .filter(|p| p.metric == metric)
            .all(|p| p.value <= 1.0);
        if is_percent_metric(metric) && all_fraction {
            100.0
        } else {
            1.0
        }
    }
}

const COLUMNS: [&str; 5] = ["epoch", "domain", "split", "metric", "value"];

/// Read training curves from a tidy CSV file.
///
/// Format: a header row naming the five columns `epoch,domain,split,metric,value` (any order,
/// case-insensitive), then one row per measurement:
///
/// ```text
/// epoch,domain,split,metric,value
/// 1,source,train,accuracy,0.412
/// 1,target,valid,accuracy,0.305
/// 1,target,valid,auroc,0.811
/// ```
///
/// - `epoch`: non-negative integer.
/// - `domain`: `source`/`target`, or a domain name (set [`Curves::source_domain`] to mark which
///   name is the source; source series are drawn dashed, target series solid).
/// - `split`: free text, e.g. `train`, `valid`, `test`.
/// - `metric`: `accuracy` (alias `acc`), `auroc` (aliases `auc`, `roc_auc`), or any other name
///   (drawn in its own panel in raw units).
/// - `value`: a finite number; for accuracy and AUROC either fractions (0..1) or percentages
///   (0..100). A metric whose values are all at most 1 is taken as fractions.
///
/// Each (epoch, domain, split, metric) may appear once. Errors name the file and the 1-based
/// line.
pub fn read_curves(path: &Path) -> Result<Curves, PlotError> {
    let bytes = std::fs::read(path).map_err(|source| PlotError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_curves(&bytes, path)
}

fn csv_err(path: &Path, line: u64, message: String) -> PlotError {
    PlotError::Csv {
        path: path.to_path_buf(),
        line,
        message,
    }
}

fn parse_curves(bytes: &[u8], path: &Path) -> Result<Curves, PlotError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let line_of = |e: &csv::Error| e.position().map_or(0, |p| p.line());
    let headers = rdr
        .headers()
        .map_err(|e| csv_err(path, line_of(&e).max(1), e.to_string()))?
        .clone();
    let mut idx = [usize::MAX; 5];
    for (i, col) in COLUMNS.iter().enumerate() {
        let found: Vec<usize> = headers
            .iter()
            .enumerate()
            .filter(|(_, h)| h.trim_start_matches('\u{feff}').eq_ignore_ascii_case(col))
            .map(|(j, _)| j)
            .collect();
        match found.as_slice() {
            [j] => idx[i] = *j,
            _ => {
                return Err(csv_err(
                    path,
                    1,
                    format!(
                        "expected a header with the columns {} (each once), found '{}'",
                        COLUMNS.join(","),
                        headers.iter().collect::<Vec<_>>().join(",")
                    ),
                ))
            }
        }
    }

    let mut points = Vec::new();
    let mut seen: HashMap<(u32, String, String, String), u64> = HashMap::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| csv_err(path, line_of(&e), e.to_string()))?;
        let line = rec.position().map_or(0, |p| p.line());
        let field = |k: usize| rec.get(idx[k]).unwrap_or("");
        let epoch_s = field(0);
        let epoch: u32 = epoch_s.parse().map_err(|_| {
            csv_err(
                path,
                line,
                format!("epoch: expected a non-negative integer, found '{epoch_s}'"),
            )
        })?;
        let domain = field(1).to_string();
        let split = field(2).to_string();
        let metric_raw = field(3);
        for (name, v) in [("domain", &domain), ("split", &split)] {
            if v.is_empty() {
                return Err(csv_err(
                    path,
                    line,
                    format!("{name}: expected a name, found an empty field"),
                ));
            }
        }
        if metric_raw.is_empty() {
            return Err(csv_err(
                path,
                line,
                "metric: expected a name, found an empty field".into(),
            ));
        }
        let metric = canonical_metric(metric_raw);
        let value_s = field(4);
        let value: f64 = value_s
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| {
                csv_err(
                    path,
                    line,
                    format!("value: expected a finite number, found '{value_s}'"),
                )
            })?;
        if is_percent_metric(&metric) && !(0.0..=100.0).contains(&value) {
            return Err(csv_err(
                path,
                line,
                format!("value: expected {metric} as a fraction (0..1) or percentage (0..100), found {value}"),
            ));
        }
        let key = (epoch, domain.clone(), split.clone(), metric.clone());
        if let Some(prev) = seen.insert(key, line) {
            return Err(csv_err(
                path,
                line,
                format!(
                    "duplicate measurement: epoch {epoch}, domain '{domain}', split '{split}', metric '{metric}' already given on line {prev}"
                ),
            ));
        }
        points.push(CurvePoint {
            epoch,
            domain,
            split,
            metric,
            value,
        });
    }
    if points.is_empty() {
        return Err(PlotError::Empty(format!(
            "{}: no data rows after the header",
            PathBuf::from(path).display()
        )));
    }
    Ok(Curves {
        points,
        source_domain: None,
    })
}

const W: u32 = 2000;
const PANEL_H: u32 = 720;
const TOP: i32 = 80;
const LEGEND_H: i32 = 70;

struct CurvesFig<'a> {
    curves: &'a Curves,
    title: &'a str,
    metrics: Vec<String>,
    series: Vec<(String, String)>,
}

impl CurvesFig<'_> {
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
            TOP as u32 + self.rows() as u32 * PANEL_H + LEGEND_H as u32,
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
        let body = root.margin(TOP as u32, LEGEND_H as u32, 10, 30);
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
        // Shared legend along the bottom.
        let items: Vec<(String, RGBColor, Role)> = (0..self.series.len())
            .map(|k| {
                let (c, r) = self.series_style(k);
                (self.series_label(k), c, r)
            })
            .collect();
        let sample = 56;
        let widths: Vec<i32> = items
            .iter()
            .map(|(l, _, _)| sample + 12 + text_width(l, 22.0) + 40)
            .collect();
        let total: i32 = widths.iter().sum();
        let mut x = ((w as i32 - total) / 2).max(10);
        let y = h as i32 - LEGEND_H / 2;
        for ((label, color, role), wd) in items.iter().zip(widths) {
            dashed_segment(
                root,
                (x, y),
                sample,
                color.stroke_width(3),
                *role == Role::Source,
            )?;
            root.draw_text(
                label,
                &text(22.0, INK, HPos::Left, VPos::Center),
                (x + sample + 12, y),
            )
            .map_err(derr)?;
            x += wd;
        }
        let note = "dashed = source, solid = target";
        root.draw_text(
            note,
            &text(18.0, MUTED, HPos::Right, VPos::Center),
            (w as i32 - 20, y),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_scaling() {
        let c = parse_curves(
            b"epoch,domain,split,metric,value\n1,source,train,acc,0.5\n2,source,train,acc,0.75\n",
            Path::new("x.csv"),
        )
        .unwrap();
        assert_eq!(c.metrics(), vec!["accuracy".to_string()]);
        assert_eq!(
            c.values("accuracy", "source", "train"),
            vec![(1, 50.0), (2, 75.0)]
        );
    }

    #[test]
    fn percent_values_are_kept() {
        let c = parse_curves(
            b"Metric,Value,Epoch,Domain,Split\nauroc,88.5,3,target,valid\n",
            Path::new("x.csv"),
        )
        .unwrap();
        assert_eq!(c.values("auroc", "target", "valid"), vec![(3, 88.5)]);
    }

    #[test]
    fn roles() {
        let mut c = Curves::default();
        assert_eq!(c.role("Source"), Role::Source);
        assert_eq!(c.role("Art"), Role::Target);
        c.source_domain = Some("art".into());
        assert_eq!(c.role("Art"), Role::Source);
    }
}
