//! Training logs: the tidy CSV of per-epoch measurements a training run writes, parsed into
//! [`Curves`] (drawn by [`crate::plot::curves_figure`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Errors reading a training log.
#[derive(Debug, thiserror::Error)]
pub enum TrainingLogError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A line of the file could not be used.
    #[error("{path}:{line}: {message}")]
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        /// What was expected and what was found.
        message: String,
    },
    /// The file has a header but no measurements.
    #[error("nothing to plot: {}: no data rows after the header", path.display())]
    NoRows {
        /// The file.
        path: PathBuf,
    },
}

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

/// Whether a series belongs to the source or the target domain (drawn dashed and solid).
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

/// Whether a metric (canonical name) holds fractions (0..1) or percentages (0..100), shown in %:
/// `accuracy` and `auroc`.
pub fn is_percent_metric(m: &str) -> bool {
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
pub fn read_curves(path: &Path) -> Result<Curves, TrainingLogError> {
    let bytes = std::fs::read(path).map_err(|source| TrainingLogError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    parse_curves(&bytes, path)
}

fn csv_err(path: &Path, line: u64, message: String) -> TrainingLogError {
    TrainingLogError::Csv {
        path: path.to_path_buf(),
        line,
        message,
    }
}

fn parse_curves(bytes: &[u8], path: &Path) -> Result<Curves, TrainingLogError> {
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
        return Err(TrainingLogError::NoRows {
            path: path.to_path_buf(),
        });
    }
    Ok(Curves {
        points,
        source_domain: None,
    })
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
    fn header_without_rows_is_an_error() {
        let e = parse_curves(b"epoch,domain,split,metric,value\n", Path::new("x.csv")).unwrap_err();
        assert!(matches!(e, TrainingLogError::NoRows { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "nothing to plot: x.csv: no data rows after the header"
        );
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
