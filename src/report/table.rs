//! The study tables (accuracy and AUROC of the target domain per model and pair) and the cohesion table,
//! as plain data for the exporters.

use super::input::RunOutcome;
use crate::metrics::Interval;

/// Text of a missing cell.
pub const MISSING: &str = "—";

/// One table of the study: rows are models, columns are pairs and their average.
#[derive(Debug, Clone, PartialEq)]
pub struct StudyTable {
    /// The group the table shows (`forward`, `reversed`, ...).
    pub group: String,
    /// Caption, e.g. "Forward pairs: target accuracy / AUROC (%)".
    pub caption: String,
    /// Column pairs in domain codes (`R-P`), in configuration order.
    pub pairs: Vec<String>,
    /// Rows: the adapted models in configuration order, then the baselines.
    pub rows: Vec<ModelRows>,
}

/// The rows of one model: accuracy and (unless it has none) AUROC, in percent, one cell per pair.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRows {
    /// Display name.
    pub model: String,
    /// Whether the row is a baseline.
    pub baseline: bool,
    /// Target accuracy in percent per pair (`None` when missing).
    pub accuracy: Vec<Option<f64>>,
    /// Target macro AUROC in percent per pair; `None` for a baseline without any AUROC (the row is left
    /// out).
    pub auroc: Option<Vec<Option<f64>>>,
    /// Bootstrap interval of each accuracy cell, in percent (`None`: without resamples).
    pub accuracy_ci: Vec<Option<(f64, f64)>>,
    /// Bootstrap interval of each AUROC cell, in percent.
    pub auroc_ci: Vec<Option<(f64, f64)>>,
    /// Pairs (codes) of this row whose run failed.
    pub failed: Vec<String>,
}

/// Mean of the cells when every cell holds a value (an average over fewer pairs would not compare with
/// the other rows), else `None`.
pub fn average(cells: &[Option<f64>]) -> Option<f64> {
    if cells.is_empty() {
        return None;
    }
    let mut sum = 0.0;
    for c in cells {
        sum += (*c)?;
    }
    Some(sum / cells.len() as f64)
}

impl ModelRows {
    /// Average accuracy over the pairs: the mean when every pair has a value, else `None`.
    pub fn accuracy_average(&self) -> Option<f64> {
        average(&self.accuracy)
    }

    /// Average AUROC over the pairs: the mean when every pair has a value, else `None`.
    pub fn auroc_average(&self) -> Option<f64> {
        self.auroc.as_deref().and_then(average)
    }
}

/// A cell as text: `decimals` places, or [`MISSING`]. A value that rounds to zero is shown without sign.
pub fn format_cell(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let s = format!("{x:.decimals$}");
            if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
                s[1..].to_string()
            } else {
                s
            }
        }
        _ => MISSING.to_string(),
    }
}

fn group_of(r: &RunOutcome) -> String {
    let g = r.group.trim();
    if g.is_empty() {
        "forward".into()
    } else {
        g.to_ascii_lowercase()
    }
}

fn caption(group: &str) -> String {
    let what = match group {
        "forward" => "Forward pairs".to_string(),
        "reversed" => "Reversed pairs".to_string(),
        g => format!("Group \u{201c}{g}\u{201d}"),
    };
    format!("{what}: target-domain accuracy / macro AUROC (%)")
}

/// Rank of a group in the study's order: forward, reversed, other groups, baselines.
pub(super) fn group_rank(group: &str) -> u8 {
    match group {
        "forward" => 0,
        "reversed" => 1,
        "baseline" => 3,
        _ => 2,
    }
}

/// Builds the study tables in the study's layout: one per non-baseline group (`forward` first, then
/// `reversed`, then others in configuration order), columns in configuration order except that a
/// reversed table follows its forward table (P→R under R→P). Rows: the adapted models in configuration
/// order, then the source-only baselines, labelled as such ([`RunOutcome::label`]). A baseline is
/// shown in every table holding its pair; a baseline whose pair is in no table goes to the forward
/// table (adding its column). Two runs of one label on one pair in one group give two rows (the
/// second named "label #2").
pub fn study_tables(runs: &[RunOutcome]) -> Vec<StudyTable> {
    let mut groups: Vec<String> = Vec::new();
    for r in runs.iter().filter(|r| !r.is_baseline()) {
        let g = group_of(r);
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups.sort_by_key(|g| group_rank(g));
    let mut tables: Vec<StudyTable> = groups
        .iter()
        .map(|g| StudyTable {
            group: g.clone(),
            caption: caption(g),
            pairs: Vec::new(),
            rows: Vec::new(),
        })
        .collect();
    for r in runs.iter().filter(|r| !r.is_baseline()) {
        let g = group_of(r);
        let t = tables.iter_mut().find(|t| t.group == g);
        if let Some(t) = t {
            if !t.pairs.contains(&r.pair) {
                t.pairs.push(r.pair.clone());
            }
        }
    }
    align_reversed(&mut tables);
    // Baselines without a table holding their pair go to the forward table.
    for r in runs.iter().filter(|r| r.is_baseline()) {
        if !tables.iter().any(|t| t.pairs.contains(&r.pair)) {
            if !tables.iter().any(|t| t.group == "forward") {
                tables.insert(
                    0,
                    StudyTable {
                        group: "forward".into(),
                        caption: caption("forward"),
                        pairs: Vec::new(),
                        rows: Vec::new(),
                    },
                );
            }
            if let Some(t) = tables.iter_mut().find(|t| t.group == "forward") {
                t.pairs.push(r.pair.clone());
            }
        }
    }
    for t in &mut tables {
        let n = t.pairs.len();
        let mut base_rows: Vec<ModelRows> = Vec::new();
        let mut rows: Vec<ModelRows> = Vec::new();
        for r in runs {
            let Some(col) = t.pairs.iter().position(|p| p == &r.pair) else {
                continue;
            };
            let target = if r.is_baseline() {
                &mut base_rows
            } else if group_of(r) == t.group {
                &mut rows
            } else {
                continue;
            };
            place(target, r, col, n);
        }
        for row in &mut base_rows {
            if row
                .auroc
                .as_ref()
                .is_some_and(|a| a.iter().all(Option::is_none))
            {
                row.auroc = None;
            }
        }
        rows.extend(base_rows);
        t.rows = rows;
    }
    tables
}

/// Orders the columns of the reversed table like the forward table's (T→S where S→T stands); pairs
/// without a forward counterpart keep their order after them.
fn align_reversed(tables: &mut [StudyTable]) {
    let Some(forward) = tables.iter().find(|t| t.group == "forward") else {
        return;
    };
    let order: Vec<String> = forward.pairs.iter().map(|p| reverse_pair(p)).collect();
    if let Some(rev) = tables.iter_mut().find(|t| t.group == "reversed") {
        rev.pairs
            .sort_by_key(|p| order.iter().position(|o| o == p).unwrap_or(usize::MAX));
    }
}

/// `S-T` → `T-S`.
fn reverse_pair(p: &str) -> String {
    match p.split_once('-') {
        Some((s, t)) => format!("{t}-{s}"),
        None => p.to_string(),
    }
}

fn place(rows: &mut Vec<ModelRows>, r: &RunOutcome, col: usize, n: usize) {
    let free = |row: &ModelRows| {
        row.accuracy[col].is_none()
            && row.auroc.as_ref().is_none_or(|a| a[col].is_none())
            && !row.failed.contains(&r.pair)
    };
    let mut k = 1;
    let idx = loop {
        let label = if k == 1 {
            r.label()
        } else {
            format!("{} #{k}", r.label())
        };
        match rows.iter().position(|row| row.model == label) {
            Some(i) if free(&rows[i]) => break i,
            Some(_) => k += 1,
            None => {
                rows.push(ModelRows {
                    model: label,
                    baseline: r.is_baseline(),
                    accuracy: vec![None; n],
                    auroc: Some(vec![None; n]),
                    accuracy_ci: vec![None; n],
                    auroc_ci: vec![None; n],
                    failed: Vec::new(),
                });
                break rows.len() - 1;
            }
        }
    };
    let row = &mut rows[idx];
    if r.failed() {
        row.failed.push(r.pair.clone());
        return;
    }
    // The target domain's classification: its values and their intervals, in percent.
    let c = r.domain(r.target()).and_then(|d| d.classification.as_ref());
    row.accuracy[col] = c.map(|c| c.accuracy * 100.0);
    if let Some(a) = &mut row.auroc {
        a[col] = c.and_then(|c| c.auroc).map(|a| a * 100.0);
    }
    let pct = |i: &crate::metrics::BootstrapInterval| (100.0 * i.lower, 100.0 * i.upper);
    row.accuracy_ci[col] = c.and_then(|c| c.accuracy_ci.as_ref()).map(pct);
    row.auroc_ci[col] = c.and_then(|c| c.auroc_ci.as_ref()).map(pct);
}

/// Cohesion measures of every run that has them: rows are runs, columns are measures.
#[derive(Debug, Clone, PartialEq)]
pub struct CohesionTable {
    /// Measure names, in the order they first appear.
    pub metrics: Vec<String>,
    /// One row per run with cohesion results.
    pub rows: Vec<CohesionRow>,
}

/// One run's cohesion measures.
#[derive(Debug, Clone, PartialEq)]
pub struct CohesionRow {
    /// Index of the run in [`ReportInput::runs`](super::ReportInput::runs).
    pub run: usize,
    /// Display name of the model.
    pub model: String,
    /// Pair in domain codes.
    pub pair: String,
    /// Group of the run.
    pub group: String,
    /// Whether the run is a source-only baseline.
    pub baseline: bool,
    /// Values per measure (`None`: undefined or not computed).
    pub values: Vec<Option<f64>>,
    /// Per measure, the interval of a scalable estimate (`None`: exact or undefined).
    pub intervals: Vec<Option<Interval>>,
}

impl CohesionRow {
    /// Cell `i` as `value ± half-width` (with `pm` as the sign) when it is a scalable estimate with a
    /// finite value; `None` for an exact or undefined cell, which exporters write as a plain value.
    pub fn estimate_cell(&self, i: usize, decimals: usize, pm: &str) -> Option<String> {
        value_pm(
            self.values[i],
            self.intervals[i].as_ref(),
            decimals,
            &format!(" {pm} "),
        )
    }
}

/// `value{sep}half-width` (e.g. `0.127 ± 0.0010`, or the value and `± …` on two lines) when the value
/// is finite and has an interval; `None` otherwise.
pub fn value_pm(
    v: Option<f64>,
    iv: Option<&Interval>,
    decimals: usize,
    sep: &str,
) -> Option<String> {
    let x = v.filter(|x| x.is_finite())?;
    Some(format!(
        "{}{sep}{}",
        format_cell(Some(x), decimals),
        format_half_width(iv?, decimals)
    ))
}

/// The half-width of an interval, formatted with two significant digits (at least `decimals`
/// decimals), for cells such as `0.127 ± 0.0010`.
pub fn format_half_width(iv: &Interval, decimals: usize) -> String {
    let h = (iv.upper - iv.lower) / 2.0;
    if !(h.is_finite() && h > 0.0) {
        return format_cell(Some(h.max(0.0)), decimals);
    }
    let digits = (1 - h.log10().floor() as i64).clamp(decimals as i64, 9) as usize;
    format!("{h:.digits$}")
}

impl CohesionTable {
    /// The note under the table when cells carry intervals: what `±` means, with the levels and
    /// sizes that occur (a bootstrap over the points of an exact value, anchor samples of a scalable
    /// estimate).
    pub fn interval_note(&self) -> Option<String> {
        use crate::metrics::cohesion::{BOOTSTRAP_METHOD, WILSON_METHOD};
        let mut parts: Vec<String> = Vec::new();
        for iv in self.rows.iter().flat_map(|r| r.intervals.iter().flatten()) {
            let level = 100.0 * iv.level;
            let part = match iv.method.as_str() {
                BOOTSTRAP_METHOD => format!(
                    "of an exact value, its {level}% bootstrap interval ({} resamples of the points \
                     it averages, the points they are measured against held fixed)",
                    iv.repeats
                ),
                WILSON_METHOD => format!(
                    "of the proxy A-distance, the {level}% Wilson interval of its probe's held-out error"
                ),
                _ => format!(
                    "of a scalable estimate, the {level}% interval of {} samples of {} anchors \
                     (repeated seeded anchor samples, each anchor exact against all points)",
                    iv.repeats, iv.anchors
                ),
            };
            if !parts.contains(&part) {
                parts.push(part);
            }
        }
        (!parts.is_empty()).then(|| {
            format!(
                "± : half-width of the interval {}; bounds in metrics.json.",
                parts.join("; ")
            )
        })
    }
}

/// Builds the cohesion table from the runs' pair results (failed runs and runs without one are left
/// out). Rows in the study's order: forward runs, reversed runs, other groups, then the source-only
/// baselines (each group in configuration order), labelled by [`RunOutcome::label`].
pub fn cohesion_table(runs: &[RunOutcome]) -> CohesionTable {
    let mut metrics: Vec<String> = Vec::new();
    for r in runs {
        if let Some(p) = r.pair_result() {
            for m in &p.cohesion.metrics {
                if !metrics.contains(&m.name) {
                    metrics.push(m.name.clone());
                }
            }
        }
    }
    let mut rows: Vec<CohesionRow> = runs
        .iter()
        .enumerate()
        .filter_map(|(i, r)| {
            let p = r.pair_result()?;
            Some(CohesionRow {
                run: i,
                model: r.label(),
                pair: r.pair.clone(),
                group: group_of(r),
                baseline: r.is_baseline(),
                values: metrics.iter().map(|m| p.cohesion.value(m)).collect(),
                intervals: metrics
                    .iter()
                    .map(|m| {
                        p.cohesion
                            .get(m)
                            .filter(|v| v.value.is_some())
                            .and_then(|v| v.interval.clone())
                    })
                    .collect(),
            })
        })
        .collect();
    // Stable: configuration order within a group.
    rows.sort_by_key(|r| group_rank(&r.group));
    CohesionTable { metrics, rows }
}

/// A two-row cohesion table, the first row a scalable estimate with its interval (for the exporters'
/// tests).
#[cfg(test)]
pub(crate) fn scalable_table() -> CohesionTable {
    let iv = Interval {
        lower: 0.12617,
        upper: 0.12826,
        level: 0.99,
        repeats: 10,
        anchors: 400,
        method: "m".into(),
    };
    let row = |run, values, intervals| CohesionRow {
        run,
        model: "m".into(),
        pair: "R-P".into(),
        group: "forward".into(),
        baseline: false,
        values,
        intervals,
    };
    CohesionTable {
        metrics: vec!["silhouette_source".into(), "mmd2_linear".into()],
        rows: vec![
            row(0, vec![Some(0.12721), Some(39.5)], vec![Some(iv), None]),
            row(1, vec![Some(0.2), Some(1.0)], vec![None, None]),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_widths_keep_two_significant_digits() {
        let t = scalable_table();
        let iv = t.rows[0].intervals[0].as_ref().unwrap();
        assert_eq!(format_half_width(iv, 3), "0.0010");
        let wide = Interval {
            lower: 0.0,
            upper: 0.5,
            ..iv.clone()
        };
        assert_eq!(format_half_width(&wide, 3), "0.250");
        let note = t.interval_note().unwrap();
        assert!(
            note.contains("of a scalable estimate, the 99% interval of 10 samples of 400 anchors"),
            "{note}"
        );
        assert!(!note.contains("bootstrap"), "{note}");
        // An exact value's bootstrap interval is named as such, beside the scalable one.
        let mut both = t.clone();
        both.rows[1].intervals[1] = Some(Interval {
            level: 0.95,
            repeats: 1000,
            anchors: 300,
            method: crate::metrics::cohesion::BOOTSTRAP_METHOD.into(),
            ..iv.clone()
        });
        let note = both.interval_note().unwrap();
        assert!(
            note.contains("of an exact value, its 95% bootstrap interval (1000 resamples")
                && note.contains("of a scalable estimate"),
            "{note}"
        );
        let exact = CohesionTable {
            rows: vec![t.rows[1].clone()],
            ..t
        };
        assert_eq!(exact.interval_note(), None);
    }

    #[test]
    fn cells_and_averages() {
        assert_eq!(format_cell(Some(87.756), 2), "87.76");
        assert_eq!(format_cell(Some(-0.0004), 3), "0.000");
        assert_eq!(format_cell(Some(-0.5), 1), "-0.5");
        assert_eq!(format_cell(None, 2), MISSING);
        assert_eq!(format_cell(Some(f64::NAN), 2), MISSING);
        assert_eq!(average(&[Some(1.0), Some(2.0)]), Some(1.5));
        assert_eq!(average(&[Some(1.0), None]), None);
        assert_eq!(average(&[]), None);
    }
}
