//! What adaptation changes: each adapted run set against the source-only baseline of its pair, as
//! plain data for the exporters (one row per adapted run and baseline of one pair, in the study's
//! order: forward pairs, reversed pairs, other groups).

use super::input::RunOutcome;
use super::table::group_rank;

/// Caption of the table.
pub const EFFECT_CAPTION: &str =
    "What adaptation changes: each adapted run against the source-only baseline of its pair";

/// The target-domain figures of one run that the table compares.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Side {
    /// Target accuracy in percent.
    pub accuracy: Option<f64>,
    /// Proxy A-distance of the pair (0 = domains indistinguishable, 2 = separable).
    pub a_distance: Option<f64>,
    /// RBF MMD² between source and target embeddings.
    pub mmd2: Option<f64>,
    /// Mean over classes of the kNN class agreement (share of a target image's nearest source
    /// neighbours that have its class), in percent.
    pub class_agreement: Option<f64>,
}

impl Side {
    fn of(r: &RunOutcome) -> Self {
        let p = r.pair_result();
        let value = |m: &str| p.and_then(|p| p.cohesion.value(m));
        let class_agreement = r.eval().and_then(|e| {
            let t = e.transfer.iter().find(|t| t.pair == r.pair)?;
            let v: Vec<f64> = t
                .transfer
                .classes
                .iter()
                .filter_map(|c| c.knn_agreement)
                .collect();
            (!v.is_empty()).then(|| 100.0 * v.iter().sum::<f64>() / v.len() as f64)
        });
        Self {
            accuracy: r.target_accuracy().map(|a| a * 100.0),
            a_distance: value("proxy_a_distance"),
            mmd2: value("mmd2_rbf"),
            class_agreement,
        }
    }
}

/// One adapted run against one baseline of the same pair.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectRow {
    /// Pair in domain codes.
    pub pair: String,
    /// Label of the adapted run.
    pub model: String,
    /// Label of the baseline run.
    pub baseline: String,
    /// The adapted run's figures.
    pub adapted: Side,
    /// The baseline's figures.
    pub source_only: Side,
    /// Classes whose target accuracy is higher with adaptation.
    pub classes_better: usize,
    /// Classes whose target accuracy is lower with adaptation.
    pub classes_worse: usize,
    /// Classes with a target accuracy in both runs.
    pub classes_compared: usize,
    /// The paired comparison of the two on the same target images, when it was made: the
    /// difference in points, its interval (points) and McNemar's exact p.
    pub paired: Option<Paired>,
}

/// The paired comparison of an adapted run with its baseline on the same target images.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    /// Adapted − source-only target accuracy, in points.
    pub delta: f64,
    /// Paired bootstrap interval of the difference, in points.
    pub interval: Option<(f64, f64)>,
    /// Confidence level of the interval.
    pub level: f64,
    /// McNemar's exact p-value.
    pub p_value: f64,
}

impl Paired {
    fn of(c: &super::diagnosis::BaselineComparison) -> Self {
        Self {
            delta: 100.0 * c.difference,
            interval: c.difference_ci.map(|(l, u)| (100.0 * l, 100.0 * u)),
            level: c.level,
            p_value: c.p_value,
        }
    }
}

/// Points with [`DELTA_DECIMALS`] decimals and an explicit sign (`+12.5`, `−10.0`, `0.0`).
pub fn signed_points(points: f64) -> String {
    let r = (points * 10.0).round() / 10.0;
    if r > 0.0 {
        format!("+{r:.1}")
    } else if r < 0.0 {
        format!("−{:.1}", -r)
    } else {
        "0.0".into()
    }
}

/// An interval of points as `[+2.0, +14.5]`.
pub fn points_interval((lo, hi): (f64, f64)) -> String {
    format!("[{}, {}]", signed_points(lo), signed_points(hi))
}

impl EffectRow {
    /// Adapted minus source-only target accuracy, in points: the paired comparison's when it was
    /// made, else the difference of the two runs' own target accuracies.
    pub fn accuracy_delta(&self) -> Option<f64> {
        match self.paired {
            Some(p) => Some(p.delta),
            None => Some(self.adapted.accuracy? - self.source_only.accuracy?),
        }
    }

    /// The cells of the row, in [`EFFECT_COLUMNS`] order.
    pub fn cells(&self) -> Vec<EffectCell> {
        use EffectCell::{Num, Text};
        vec![
            Text(self.pair.clone()),
            Text(self.model.clone()),
            Text(self.baseline.clone()),
            Num(self.adapted.accuracy, 2),
            Num(self.source_only.accuracy, 2),
            EffectCell::Delta(self.accuracy_delta()),
            Text(
                self.paired
                    .and_then(|p| p.interval)
                    .map_or_else(|| super::table::MISSING.to_string(), points_interval),
            ),
            Text(self.paired.map_or_else(
                || super::table::MISSING.to_string(),
                |p| crate::text::p_value(p.p_value),
            )),
            Num(self.adapted.a_distance, 3),
            Num(self.source_only.a_distance, 3),
            Num(self.adapted.mmd2, 3),
            Num(self.source_only.mmd2, 3),
            Num(self.adapted.class_agreement, 1),
            Num(self.source_only.class_agreement, 1),
            Text(if self.classes_compared == 0 {
                super::table::MISSING.to_string()
            } else {
                format!("{} / {}", self.classes_better, self.classes_worse)
            }),
        ]
    }
}

/// A cell of the table: text (pair codes, a label, class counts) or a number with its decimals.
#[derive(Debug, Clone, PartialEq)]
pub enum EffectCell {
    /// Shown as is (a pair in codes is shown with an arrow by the formats).
    Text(String),
    /// A value shown with this many decimals (`None`: missing).
    Num(Option<f64>, usize),
    /// A difference in points, shown as [`signed_points`] writes it (`+8.5`, `−11.5`) wherever a
    /// verdict can stand beside it; a plain number in CSV.
    Delta(Option<f64>),
}

/// Columns holding text (pair, labels); the others hold numbers or class counts.
pub const EFFECT_TEXT_COLUMNS: usize = 3;

/// Decimals of the difference in target accuracy and of its interval (points), wherever it is shown.
pub const DELTA_DECIMALS: usize = 1;

/// The columns: header shown in documents and key used in CSV.
pub const EFFECT_COLUMNS: [(&str, &str); 15] = [
    ("Pair", "pair"),
    ("Adapted model", "model"),
    ("Source-only baseline", "baseline"),
    ("Target acc. adapted (%)", "accuracy_adapted"),
    ("Target acc. source only (%)", "accuracy_source_only"),
    ("Δ target acc. (points)", "accuracy_delta"),
    ("Interval of Δ", "accuracy_delta_interval"),
    ("McNemar p", "mcnemar_p"),
    ("A-distance adapted", "proxy_a_distance_adapted"),
    ("A-distance source only", "proxy_a_distance_source_only"),
    ("MMD² adapted", "mmd2_rbf_adapted"),
    ("MMD² source only", "mmd2_rbf_source_only"),
    (
        "Same-class source neighbours adapted (%)",
        "class_agreement_adapted",
    ),
    (
        "Same-class source neighbours source only (%)",
        "class_agreement_source_only",
    ),
    ("Classes better / worse", "classes_better_worse"),
];

/// The two halves in which documents narrower than the whole table show it: target accuracy, and
/// domain alignment. Both start with the pair and the adapted model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectPart {
    /// Pair, models, both accuracies, their difference with its interval and McNemar p.
    Accuracy,
    /// Pair, adapted model, the alignment measures of both runs and the class counts.
    Alignment,
}

impl EffectPart {
    /// Both halves, in order.
    pub const BOTH: [EffectPart; 2] = [EffectPart::Accuracy, EffectPart::Alignment];

    /// Whether the column with key `key` ([`EFFECT_COLUMNS`]) belongs to this part.
    pub fn has(self, key: &str) -> bool {
        let accuracy = key.starts_with("accuracy") || key == "mcnemar_p";
        match self {
            EffectPart::Accuracy => matches!(key, "pair" | "model" | "baseline") || accuracy,
            EffectPart::Alignment => !accuracy && key != "baseline",
        }
    }

    /// The columns of this part, as indices into [`EFFECT_COLUMNS`].
    pub fn columns(self) -> Vec<usize> {
        (0..EFFECT_COLUMNS.len())
            .filter(|&i| self.has(EFFECT_COLUMNS[i].1))
            .collect()
    }

    /// Caption of this half.
    pub fn caption(self) -> &'static str {
        match self {
            EffectPart::Accuracy => "What adaptation changes (1 of 2): target accuracy, adapted against source only on the same target images",
            EffectPart::Alignment => "What adaptation changes (2 of 2): domain alignment of each run",
        }
    }
}

/// The table: one row per adapted run with a baseline of the same pair.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct EffectTable {
    /// Rows in the study's order.
    pub rows: Vec<EffectRow>,
}

/// Builds the table from finished runs: for every adapted run (forward, reversed, then other groups,
/// each in configuration order), one row per finished baseline of its pair. Empty without baselines.
pub fn effect_table(runs: &[RunOutcome]) -> EffectTable {
    let mut adapted: Vec<&RunOutcome> = runs
        .iter()
        .filter(|r| !r.is_baseline() && !r.failed())
        .collect();
    adapted.sort_by_key(|r| group_rank(&r.group.trim().to_ascii_lowercase()));
    let mut rows = Vec::new();
    for a in adapted {
        for b in runs
            .iter()
            .filter(|b| b.is_baseline() && !b.failed() && b.pair == a.pair)
        {
            let (better, worse, compared) = class_changes(a, b);
            let paired = a
                .results()
                .and_then(|d| d.diagnosis.baseline.as_ref())
                .filter(|c| c.baseline == b.name)
                .map(Paired::of);
            rows.push(EffectRow {
                pair: a.pair.clone(),
                model: a.label(),
                baseline: b.label(),
                adapted: Side::of(a),
                source_only: Side::of(b),
                classes_better: better,
                classes_worse: worse,
                classes_compared: compared,
                paired,
            });
        }
    }
    EffectTable { rows }
}

/// Per-class target accuracy of `a` against `b`: (better, worse, compared), classes matched by index.
fn class_changes(a: &RunOutcome, b: &RunOutcome) -> (usize, usize, usize) {
    let per_class = |r: &RunOutcome| -> Vec<Option<f64>> {
        r.domain(r.target())
            .and_then(|d| d.classification.as_ref())
            .map(|c| c.per_class.iter().map(|p| p.accuracy).collect())
            .unwrap_or_default()
    };
    let (pa, pb) = (per_class(a), per_class(b));
    let (mut better, mut worse, mut compared) = (0, 0, 0);
    for (x, y) in pa.iter().zip(&pb) {
        if let (Some(x), Some(y)) = (x, y) {
            compared += 1;
            if x > y {
                better += 1;
            } else if x < y {
                worse += 1;
            }
        }
    }
    (better, worse, compared)
}

#[cfg(test)]
mod tests {
    use super::signed_points;

    #[test]
    fn signed_points_round_to_one_decimal() {
        assert_eq!(signed_points(12.46), "+12.5");
        assert_eq!(signed_points(-10.0), "−10.0");
        assert_eq!(signed_points(-0.04), "0.0");
    }
}
