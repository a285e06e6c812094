//! The select job: label-free validators of every training checkpoint of a pair, next to the true target
//! accuracy, to judge which validator would have picked a good checkpoint without target labels.
//!
//! Files (in [`crate::layout::Layout::select`] of the last checkpoint): `<S>-<T>.csv` (epoch ×
//! validator, plus the true accuracy), `<S>-<T>_summary.csv` (per validator: Spearman correlation with
//! the truth, the epoch it picks and what that epoch really scores), `<S>-<T>.json` (everything) and
//! `<S>-<T>.{svg,png}` (true accuracy, and each validator min–max scaled over the epochs).

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::embed::Event;
use super::Workspace;
use crate::dataset::Pair;
use crate::error::{Error, Result, ResultExt};
use crate::layout::{with_ext, Layout};
use crate::metrics::cohesion::MetricValue;
use crate::metrics::compare::predictions;
use crate::metrics::validators::{
    label_free_validators, spearman, DevParams, ValidatorParams, VALIDATORS,
};
use crate::metrics::DomainData;
use crate::model::ModelInfo;
use crate::plot::curves_figure;
use crate::traininglog::{CurvePoint, Curves};

/// One checkpoint's scores.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochScores {
    /// `dannscope.epoch`, or the checkpoint's position (from 1) when the model does not say.
    pub epoch: u32,
    /// Model file stem.
    pub model: String,
    /// Target accuracy from the target labels (the truth the validators are judged against).
    pub true_accuracy: Option<f64>,
    /// The validators, in [`VALIDATORS`] order.
    pub validators: Vec<MetricValue>,
}

/// How one validator did across the checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorSummary {
    /// Validator name.
    pub name: String,
    /// Spearman correlation of the validator with the true accuracy over the epochs where both exist.
    pub spearman: Option<f64>,
    /// The epoch with the highest validator score (ties: the earliest).
    pub picked_epoch: Option<u32>,
    /// True accuracy of that epoch.
    pub picked_accuracy: Option<f64>,
    /// Best true accuracy minus the picked epoch's (0 = it picked a best epoch).
    pub regret: Option<f64>,
}

/// What `select` computes for a run's checkpoints, a split and a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    /// `S-T` in domain codes.
    pub pair: String,
    /// Source domain name.
    pub source: String,
    /// Target domain name.
    pub target: String,
    /// Split folder.
    pub split: String,
    /// One entry per checkpoint, by epoch.
    pub epochs: Vec<EpochScores>,
    /// The epoch with the highest true accuracy (ties: the earliest).
    pub best_epoch: Option<u32>,
    /// Its accuracy.
    pub best_accuracy: Option<f64>,
    /// One entry per validator, in [`VALIDATORS`] order.
    pub summary: Vec<ValidatorSummary>,
    /// Validator parameters.
    pub settings: ValidatorParams,
    /// Validators that could not be computed for some epoch, and why.
    pub notices: Vec<String>,
    /// dannscope version.
    pub dannscope_version: String,
}

/// Epoch of the highest value (ties: the earliest); `None` when no value exists.
fn pick(values: &[(u32, Option<f64>)]) -> Option<(u32, f64)> {
    let mut best: Option<(u32, f64)> = None;
    for &(e, v) in values {
        if let Some(v) = v {
            if best.is_none_or(|b| v > b.1) {
                best = Some((e, v));
            }
        }
    }
    best
}

/// Summaries of the validators over `epochs`.
pub fn summarise(epochs: &[EpochScores]) -> (Option<(u32, f64)>, Vec<ValidatorSummary>) {
    let truth: Vec<(u32, Option<f64>)> =
        epochs.iter().map(|e| (e.epoch, e.true_accuracy)).collect();
    let best = pick(&truth);
    let summary = VALIDATORS
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let vals: Vec<(u32, Option<f64>)> = epochs
                .iter()
                .map(|e| (e.epoch, e.validators.get(k).and_then(|m| m.value)))
                .collect();
            let (xs, ys): (Vec<f64>, Vec<f64>) = vals
                .iter()
                .zip(&truth)
                .filter_map(|((_, v), (_, t))| v.zip(*t))
                .unzip();
            let picked = pick(&vals).map(|p| p.0);
            let picked_accuracy = picked.and_then(|p| {
                epochs
                    .iter()
                    .find(|e| e.epoch == p)
                    .and_then(|e| e.true_accuracy)
            });
            ValidatorSummary {
                name: name.to_string(),
                spearman: spearman(&xs, &ys),
                picked_epoch: picked,
                picked_accuracy,
                regret: best.zip(picked_accuracy).map(|(b, a)| b.1 - a),
            }
        })
        .collect();
    (best, summary)
}

/// Compute the validators of every checkpoint (loaded and sorted, see
/// [`super::evolution::order_checkpoints`]) on `pair`, write the files and return the selection and
/// their base path.
pub fn select(
    ws: &mut Workspace,
    checkpoints: &[ModelInfo],
    pair: &Pair,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(Selection, PathBuf)> {
    let last = checkpoints
        .last()
        .ok_or_else(|| Error::Invalid("no checkpoints were given".into()))?;
    let params = ValidatorParams {
        dev: DevParams {
            seed: ws.settings.seeds.metrics,
            ..DevParams::default()
        },
        ..ValidatorParams::default()
    };
    let mut epochs = Vec::new();
    let mut notices = Vec::new();
    let mut names = None;
    let mut base = None;
    for (k, m) in checkpoints.iter().enumerate() {
        let e = ws.embeddings(m, std::slice::from_ref(pair), on_event)?;
        let (s, t) = e.pair(pair)?;
        let (sd, td) = (&e.data[s], &e.data[t]);
        let epoch = m.epoch.unwrap_or(k as u32 + 1);
        let validators = label_free_validators(&view(sd), &view(td), &params)
            .context_with(|| format!("validators of {}", m.path.display()))?;
        for v in &validators {
            if let Some(r) = &v.reason {
                notices.push(format!("epoch {epoch} ({}): {}: {r}", e.key.model, v.name));
            }
        }
        let true_accuracy = td.logits.as_ref().map(|l| {
            let p = predictions(l.view());
            let hits = p
                .iter()
                .zip(td.label.iter())
                .filter(|(&p, &y)| i64::try_from(p).is_ok_and(|p| p == y))
                .count();
            hits as f64 / p.len().max(1) as f64
        });
        epochs.push(EpochScores {
            epoch,
            model: e.key.model.clone(),
            true_accuracy,
            validators,
        });
        let (ds, dt) = (&e.domains[s], &e.domains[t]);
        names = Some((
            Pair::of(ds, dt).to_string(),
            ds.name.clone(),
            dt.name.clone(),
            e.key.split_dir(),
        ));
        if std::ptr::eq(m, last) {
            base = Some(Layout::pair_base(&ws.layout.select(&e.key)?, ds, dt, "")?);
        }
    }
    let (pair_name, source, target, split) =
        names.ok_or_else(|| Error::Invalid("no checkpoints were given".into()))?;
    let base = base.ok_or_else(|| Error::Invalid("no checkpoints were given".into()))?;
    let (best, summary) = summarise(&epochs);
    let sel = Selection {
        pair: pair_name,
        source,
        target,
        split,
        epochs,
        best_epoch: best.map(|b| b.0),
        best_accuracy: best.map(|b| b.1),
        summary,
        settings: params,
        notices,
        dannscope_version: env!("CARGO_PKG_VERSION").into(),
    };
    write(&base, &sel)?;
    draw(&base, &sel, &last.arch)?;
    Ok((sel, base))
}

fn view(d: &crate::store::DomainEmbeddings) -> DomainData<'_> {
    DomainData::new(
        d.embedding.view(),
        d.logits.as_ref().map(|l| l.view()),
        d.label.view(),
    )
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

fn write_csv(path: &Path, rows: Vec<Vec<String>>) -> Result<()> {
    Ok(crate::atomic::write_csv(path, |c| {
        rows.into_iter().try_for_each(|r| c.write_record(r))
    })?)
}

/// Write `<base>.csv`, `<base>_summary.csv` and `<base>.json`.
pub fn write(base: &Path, s: &Selection) -> Result<()> {
    let mut rows = vec![["epoch", "model", "true_accuracy"]
        .iter()
        .map(|h| h.to_string())
        .chain(VALIDATORS.iter().map(|v| v.to_string()))
        .collect::<Vec<_>>()];
    for e in &s.epochs {
        let mut r = vec![e.epoch.to_string(), e.model.clone(), num(e.true_accuracy)];
        r.extend(e.validators.iter().map(|v| num(v.value)));
        rows.push(r);
    }
    write_csv(&with_ext(base, "csv"), rows)?;
    let mut rows = vec![[
        "validator",
        "spearman",
        "picked_epoch",
        "picked_accuracy",
        "best_epoch",
        "best_accuracy",
        "regret",
    ]
    .iter()
    .map(|h| h.to_string())
    .collect::<Vec<_>>()];
    for v in &s.summary {
        rows.push(vec![
            v.name.clone(),
            num(v.spearman),
            v.picked_epoch.map(|e| e.to_string()).unwrap_or_default(),
            num(v.picked_accuracy),
            s.best_epoch.map(|e| e.to_string()).unwrap_or_default(),
            num(s.best_accuracy),
            num(v.regret),
        ]);
    }
    let mut summary = base.as_os_str().to_owned();
    summary.push("_summary");
    write_csv(&with_ext(Path::new(&summary), "csv"), rows)?;
    Ok(crate::atomic::write_json(&with_ext(base, "json"), s)?)
}

/// Min–max scaling over the epochs (a constant series sits at 0.5).
fn scaled(values: &[(u32, f64)]) -> Vec<(u32, f64)> {
    let lo = values.iter().map(|v| v.1).fold(f64::INFINITY, f64::min);
    let hi = values.iter().map(|v| v.1).fold(f64::NEG_INFINITY, f64::max);
    values
        .iter()
        .map(|&(e, v)| (e, if hi > lo { (v - lo) / (hi - lo) } else { 0.5 }))
        .collect()
}

/// Draw the true target accuracy (%) and, in a second panel, every validator and the true accuracy
/// min–max scaled over the epochs, to `<base>.{svg,png}`.
pub fn draw(base: &Path, s: &Selection, arch: &str) -> Result<()> {
    let scaled_metric = "score, min–max scaled over the epochs (1 = best epoch by that score)";
    let mut points = Vec::new();
    let truth: Vec<(u32, f64)> = s
        .epochs
        .iter()
        .filter_map(|e| e.true_accuracy.map(|a| (e.epoch, a)))
        .collect();
    for &(epoch, v) in &truth {
        points.push(CurvePoint {
            epoch,
            domain: "target".into(),
            split: s.split.clone(),
            metric: "accuracy".into(),
            value: v,
        });
    }
    let mut series: Vec<(String, Vec<(u32, f64)>)> =
        vec![("true accuracy".to_string(), truth.clone())];
    for (k, name) in VALIDATORS.iter().enumerate() {
        let v: Vec<(u32, f64)> = s
            .epochs
            .iter()
            .filter_map(|e| {
                e.validators
                    .get(k)
                    .and_then(|m| m.value)
                    .map(|x| (e.epoch, x))
            })
            .collect();
        series.push((name.to_string(), v));
    }
    for (name, v) in series {
        for (epoch, value) in scaled(&v) {
            points.push(CurvePoint {
                epoch,
                domain: name.clone(),
                split: s.split.clone(),
                metric: scaled_metric.into(),
                value,
            });
        }
    }
    if points.is_empty() {
        return Ok(());
    }
    let curves = Curves {
        points,
        source_domain: None,
    };
    let title = format!(
        "{arch} · {} → {} · {}: label-free validators against the true target accuracy",
        s.source, s.target, s.split
    );
    curves_figure(
        &curves,
        &title,
        &with_ext(base, "svg"),
        &with_ext(base, "png"),
    )?;
    Ok(())
}
