//! The select job: label-free validators of every training checkpoint of a pair, next to the true target
//! accuracy, to judge which validator would have picked a good checkpoint without target labels, and
//! how sure each pick is.
//!
//! A value that is not informative for a structural reason (see
//! [`crate::metrics::validators::label_free_validators`]) is shown but neither ranked nor correlated.
//! The stability of each pick comes from a seeded bootstrap of the target images (the same resampled
//! images for every checkpoint), with a fresh seed per resample for the validators that draw random
//! numbers (DEV, ClassAMI with k-means++): the share of resamples that pick each epoch, and the regret's
//! percentile interval.
//!
//! Files (in [`crate::layout::Layout::select`] of the last checkpoint): `<S>-<T>.csv` (epoch ×
//! validator, the true accuracy, DEV's discriminator accuracy and effective sample size, the validators
//! not informative at that epoch), `<S>-<T>_summary.csv` (per validator: Spearman correlation with the
//! truth, the epoch it picks, ties, what that epoch really scores, the regret and its interval, the
//! pick's share of the resamples), `<S>-<T>.json` (everything) and `<S>-<T>.{svg,png}` (true accuracy,
//! and each validator min–max scaled over its informative epochs; the legend marks picks that flip and
//! values that are not informative).

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::embed::Event;
use super::Workspace;
use crate::dataset::Pair;
use crate::error::{Error, Result, ResultExt};
use crate::layout::{with_ext, Layout};
use crate::metrics::bootstrap::{percentile, resample_counts};
use crate::metrics::compare::predictions;
use crate::metrics::validators::{
    is_random, label_free_validators, spearman, ValidatorParams, ValidatorScore, Verdict,
    VALIDATORS,
};
use crate::metrics::DomainData;
use crate::model::ModelInfo;
use crate::plot::curves_figure;
use crate::store::DomainEmbeddings;
use crate::traininglog::{CurvePoint, Curves};

/// Default number of bootstrap resamples of the pick's stability.
pub const DEFAULT_RESAMPLES: usize = 200;

/// A pick is marked as flipping when fewer than this share of the resamples pick the same epoch.
pub const STABLE_SHARE: f64 = 0.8;

/// Level of the regret's percentile interval.
pub const REGRET_LEVEL: f64 = 0.95;

/// What `select` computes besides the checkpoints and the pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SelectOptions {
    /// The validators' parameters; `seed` is replaced by the workspace's metrics seed.
    pub validators: ValidatorParams,
    /// Bootstrap resamples of the picks' stability (0: none).
    pub resamples: usize,
}

impl Default for SelectOptions {
    fn default() -> Self {
        Self {
            validators: ValidatorParams::default(),
            resamples: DEFAULT_RESAMPLES,
        }
    }
}

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
    pub validators: Vec<ValidatorScore>,
}

/// Share of the resamples that picked one epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochShare {
    /// The epoch.
    pub epoch: u32,
    /// Share of the used resamples that picked it.
    pub share: f64,
}

/// How sure a validator's pick is, from the bootstrap.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PickStability {
    /// Resamples drawn.
    pub resamples: usize,
    /// Resamples in which the validator picked an epoch.
    pub used: usize,
    /// Whether each resample also drew a fresh seed (validators that draw random numbers).
    pub seeds_resampled: bool,
    /// Share of the used resamples picking each epoch (epochs never picked left out), by epoch.
    pub shares: Vec<EpochShare>,
    /// Share of the used resamples picking the full-data pick.
    pub pick_share: f64,
    /// `pick_share` below [`STABLE_SHARE`]: the pick flips under resampling.
    pub flips: bool,
    /// Percentile interval (level [`REGRET_LEVEL`]) of the regret over the resamples, each judged by
    /// the true accuracy of its own images.
    pub regret_lower: Option<f64>,
    /// Upper end of that interval.
    pub regret_upper: Option<f64>,
}

/// How one validator did across the checkpoints.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorSummary {
    /// Validator name.
    pub name: String,
    /// Spearman correlation of the validator with the true accuracy over the epochs where both exist
    /// and the value is informative.
    pub spearman: Option<f64>,
    /// Epochs in that correlation and in the pick.
    pub n_epochs: usize,
    /// The epoch with the highest informative score (ties: the earliest).
    pub picked_epoch: Option<u32>,
    /// True accuracy of that epoch.
    pub picked_accuracy: Option<f64>,
    /// Best true accuracy minus the picked epoch's (0 = it picked a best epoch).
    pub regret: Option<f64>,
    /// Epochs whose score equals the pick's: more than one is a tie, broken by the earliest.
    pub tied_epochs: Vec<u32>,
    /// Epochs whose value is not informative (shown, not ranked).
    pub not_informative_epochs: Vec<u32>,
    /// Why, when some epochs are not informative or undefined (the first reason met).
    pub reason: Option<String>,
    /// The pick's stability under the bootstrap (absent with no resamples or no pick).
    pub stability: Option<PickStability>,
}

impl ValidatorSummary {
    /// Several epochs share the highest score.
    pub fn tie(&self) -> bool {
        self.tied_epochs.len() > 1
    }
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
    /// Validator parameters (with the seed used and ClassAMI's start).
    pub settings: ValidatorParams,
    /// Bootstrap resamples of the stability.
    pub resamples: usize,
    /// Validators that could not be computed or are not informative for some epoch, and why.
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

/// One resample's informative values (in [`VALIDATORS`] order) and true accuracy, for one epoch.
#[derive(Debug, Clone)]
struct ResampleScores {
    values: Vec<Option<f64>>,
    accuracy: Option<f64>,
}

/// The picks' stability from `resampled[b][epoch index]`.
fn stability(
    epochs: &[EpochScores],
    resampled: &[Vec<ResampleScores>],
    k: usize,
    picked: u32,
    seeds_resampled: bool,
) -> PickStability {
    let mut counts = vec![0usize; epochs.len()];
    let mut regrets = Vec::new();
    for r in resampled {
        let vals: Vec<(u32, Option<f64>)> = epochs
            .iter()
            .zip(r)
            .map(|(e, s)| (e.epoch, s.values.get(k).copied().flatten()))
            .collect();
        let Some((p, _)) = pick(&vals) else { continue };
        let at = epochs.iter().position(|e| e.epoch == p).unwrap_or(0);
        counts[at] += 1;
        let truth: Vec<(u32, Option<f64>)> = epochs
            .iter()
            .zip(r)
            .map(|(e, s)| (e.epoch, s.accuracy))
            .collect();
        if let (Some(best), Some(a)) = (pick(&truth), r[at].accuracy) {
            regrets.push(best.1 - a);
        }
    }
    let used: usize = counts.iter().sum();
    let share = |c: usize| {
        if used > 0 {
            c as f64 / used as f64
        } else {
            0.0
        }
    };
    let shares: Vec<EpochShare> = epochs
        .iter()
        .zip(&counts)
        .filter(|(_, &c)| c > 0)
        .map(|(e, &c)| EpochShare {
            epoch: e.epoch,
            share: share(c),
        })
        .collect();
    let pick_share = epochs
        .iter()
        .position(|e| e.epoch == picked)
        .map_or(0.0, |i| share(counts[i]));
    let tail = 100.0 * (1.0 - REGRET_LEVEL) / 2.0;
    PickStability {
        resamples: resampled.len(),
        used,
        seeds_resampled,
        shares,
        pick_share,
        flips: used > 0 && pick_share < STABLE_SHARE,
        regret_lower: percentile(&regrets, tail),
        regret_upper: percentile(&regrets, 100.0 - tail),
    }
}

/// Summaries of the validators over `epochs`; with `resampled[b][epoch index]` (one entry per resample,
/// epochs in `epochs` order), each pick's stability.
fn summarise_with(
    epochs: &[EpochScores],
    resampled: &[Vec<ResampleScores>],
    params: &ValidatorParams,
) -> (Option<(u32, f64)>, Vec<ValidatorSummary>) {
    let truth: Vec<(u32, Option<f64>)> =
        epochs.iter().map(|e| (e.epoch, e.true_accuracy)).collect();
    let best = pick(&truth);
    let summary = VALIDATORS
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let scores: Vec<Option<&ValidatorScore>> =
                epochs.iter().map(|e| e.validators.get(k)).collect();
            let vals: Vec<(u32, Option<f64>)> = epochs
                .iter()
                .zip(&scores)
                .map(|(e, s)| (e.epoch, s.and_then(ValidatorScore::ranked)))
                .collect();
            let (xs, ys): (Vec<f64>, Vec<f64>) = vals
                .iter()
                .zip(&truth)
                .filter_map(|((_, v), (_, t))| v.zip(*t))
                .unzip();
            let picked = pick(&vals);
            let picked_accuracy = picked.and_then(|p| {
                epochs
                    .iter()
                    .find(|e| e.epoch == p.0)
                    .and_then(|e| e.true_accuracy)
            });
            let tied_epochs = picked
                .map(|(_, top)| {
                    vals.iter()
                        .filter(|(_, v)| *v == Some(top))
                        .map(|(e, _)| *e)
                        .collect()
                })
                .unwrap_or_default();
            let not_informative_epochs = epochs
                .iter()
                .zip(&scores)
                .filter(|(_, s)| s.is_some_and(|s| s.verdict == Verdict::NotInformative))
                .map(|(e, _)| e.epoch)
                .collect();
            let reason = scores.iter().flatten().find_map(|s| s.reason.clone());
            let stability = picked
                .filter(|_| !resampled.is_empty())
                .map(|(p, _)| stability(epochs, resampled, k, p, is_random(name, params)));
            ValidatorSummary {
                name: name.to_string(),
                spearman: spearman(&xs, &ys),
                n_epochs: xs.len(),
                picked_epoch: picked.map(|p| p.0),
                picked_accuracy,
                regret: best.zip(picked_accuracy).map(|(b, a)| b.1 - a),
                tied_epochs,
                not_informative_epochs,
                reason,
                stability,
            }
        })
        .collect();
    (best, summary)
}

/// Summaries of the validators over `epochs` (no resamples: no stability).
pub fn summarise(
    epochs: &[EpochScores],
    params: &ValidatorParams,
) -> (Option<(u32, f64)>, Vec<ValidatorSummary>) {
    summarise_with(epochs, &[], params)
}

/// The seed of resample `b`'s random validators: drawn from `seed`, different for every resample.
fn resample_seed(seed: u64, b: usize) -> u64 {
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(b as u64 + 1)
        .rotate_left(17)
}

/// Share of rows whose arg-max logit is the label.
fn accuracy(logits: ndarray::ArrayView2<f32>, labels: ndarray::ArrayView1<i64>) -> f64 {
    let p = predictions(logits);
    let hits = p
        .iter()
        .zip(labels.iter())
        .filter(|(&p, &y)| i64::try_from(p).is_ok_and(|p| p == y))
        .count();
    hits as f64 / p.len().max(1) as f64
}

/// The validators and true accuracy of one checkpoint on each bootstrap resample of the target rows
/// (resample `b` draws its rows from `(seed, b)` alone, so every checkpoint sees the same images).
fn resample_epoch(
    source: &DomainData,
    target: &DomainEmbeddings,
    params: &ValidatorParams,
    resamples: usize,
) -> crate::metrics::MetricsResult<Vec<ResampleScores>> {
    let n = target.label.len();
    (0..resamples)
        .into_par_iter()
        .map(|b| {
            let rows: Vec<usize> = resample_counts(n, params.seed, b as u64)
                .iter()
                .enumerate()
                .flat_map(|(i, &c)| std::iter::repeat_n(i, c as usize))
                .collect();
            let take = |m: &crate::store::Matrix| m.view().select(ndarray::Axis(0), &rows);
            let emb = take(&target.embedding);
            let logits = target.logits.as_ref().map(take);
            let labels = target.label.select(ndarray::Axis(0), &rows);
            let t = DomainData::new(emb.view(), logits.as_ref().map(|l| l.view()), labels.view());
            let p = ValidatorParams {
                seed: resample_seed(params.seed, b),
                ..params.clone()
            };
            let scores = label_free_validators(source, &t, &p)?;
            Ok(ResampleScores {
                values: scores.iter().map(ValidatorScore::ranked).collect(),
                accuracy: logits.as_ref().map(|l| accuracy(l.view(), labels.view())),
            })
        })
        .collect()
}

/// Compute the validators of every checkpoint (loaded and sorted, see
/// [`super::evolution::order_checkpoints`]) on `pair`, with the stability of each pick from
/// `opts.resamples` bootstrap resamples of the target images; write the files and return the
/// selection and their base path. The validators' seed is the workspace's metrics seed.
pub fn select(
    ws: &mut Workspace,
    checkpoints: &[ModelInfo],
    pair: &Pair,
    opts: &SelectOptions,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(Selection, PathBuf)> {
    let last = checkpoints
        .last()
        .ok_or_else(|| Error::Invalid("no checkpoints were given".into()))?;
    let params = ValidatorParams {
        seed: ws.settings.seeds.metrics,
        ..opts.validators.clone()
    };
    let mut epochs = Vec::new();
    let mut notices = Vec::new();
    // (validator and state, reason) → the epochs it applies to
    let mut reasons: Vec<((String, String), Vec<u32>)> = Vec::new();
    let mut names = None;
    let mut base = None;
    // resampled[epoch index][b]; the bootstrap needs the same target images at every checkpoint
    let mut resampled: Vec<Vec<ResampleScores>> = Vec::new();
    let mut target_paths: Option<Vec<String>> = None;
    let mut resample = opts.resamples > 0;
    for (k, m) in checkpoints.iter().enumerate() {
        let e = ws.embeddings(m, std::slice::from_ref(pair), on_event)?;
        let (s, t) = e.pair(pair)?;
        let (sd, td) = (&e.data[s], &e.data[t]);
        let epoch = m.epoch.unwrap_or(k as u32 + 1);
        let what = || format!("validators of {}", m.path.display());
        let validators = label_free_validators(&view(sd), &view(td), &params).context_with(what)?;
        for v in &validators {
            if let Some(r) = &v.reason {
                let state = match v.verdict {
                    Verdict::NotInformative => "not informative",
                    _ => "undefined",
                };
                let key = (format!("{}: {state}", v.name), r.clone());
                match reasons.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, at)) => at.push(epoch),
                    None => reasons.push((key, vec![epoch])),
                }
            }
        }
        if resample {
            let paths = &td.record.paths;
            if target_paths.get_or_insert_with(|| paths.clone()) == paths {
                resampled.push(
                    resample_epoch(&view(sd), td, &params, opts.resamples).context_with(what)?,
                );
            } else {
                notices.push(format!(
                    "epoch {epoch} ({}): the target images differ from the first checkpoint's: no stability bootstrap",
                    e.key.model
                ));
                resample = false;
                resampled.clear();
            }
        }
        epochs.push(EpochScores {
            epoch,
            model: e.key.model.clone(),
            true_accuracy: td
                .logits
                .as_ref()
                .map(|l| accuracy(l.view(), td.label.view())),
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
    notices.splice(
        0..0,
        reasons.into_iter().map(|((what, why), at)| {
            format!(
                "{what} at epoch{} {}: {why}",
                if at.len() == 1 { "" } else { "s" },
                epochs_text(&at)
            )
        }),
    );
    let (pair_name, source, target, split) =
        names.ok_or_else(|| Error::Invalid("no checkpoints were given".into()))?;
    let base = base.ok_or_else(|| Error::Invalid("no checkpoints were given".into()))?;
    // by resample, then epoch
    let by_resample: Vec<Vec<ResampleScores>> = (0..if resample { opts.resamples } else { 0 })
        .map(|b| resampled.iter().map(|r| r[b].clone()).collect())
        .collect();
    let (best, summary) = summarise_with(&epochs, &by_resample, &params);
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
        resamples: by_resample.len(),
        notices,
        dannscope_version: env!("CARGO_PKG_VERSION").into(),
    };
    write(&base, &sel)?;
    draw(&base, &sel, &last.arch)?;
    Ok((sel, base))
}

fn view(d: &DomainEmbeddings) -> DomainData<'_> {
    DomainData::new(
        d.embedding.view(),
        d.logits.as_ref().map(|l| l.view()),
        d.label.view(),
    )
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// `2, 4, 6` for the console and the notices.
pub fn epochs_text(v: &[u32]) -> String {
    v.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn epochs_list(v: &[u32]) -> String {
    v.iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join(";")
}

fn write_csv(path: &Path, rows: Vec<Vec<String>>) -> Result<()> {
    Ok(crate::atomic::write_csv(path, |c| {
        rows.into_iter().try_for_each(|r| c.write_record(r))
    })?)
}

fn header(names: &[&str]) -> Vec<String> {
    names.iter().map(|h| h.to_string()).collect()
}

/// The setting a validator's numbers depend on, for the summary (`class_ami`: its k-means start;
/// `dev`: its folds).
pub fn validator_setting(name: &str, p: &ValidatorParams) -> String {
    match name {
        "class_ami" => format!("init {}", p.class_ami_init),
        "dev" => format!("{} folds", p.dev.folds),
        _ => String::new(),
    }
}

/// Write `<base>.csv`, `<base>_summary.csv` and `<base>.json`. Numbers are written in full precision
/// for machine readers.
pub fn write(base: &Path, s: &Selection) -> Result<()> {
    let mut head = header(&["epoch", "model", "true_accuracy"]);
    head.extend(VALIDATORS.iter().map(|v| v.to_string()));
    head.extend(header(&[
        "dev_discriminator_accuracy",
        "dev_ess",
        "dev_small_ess",
        "not_informative",
    ]));
    let mut rows = vec![head];
    for e in &s.epochs {
        let mut r = vec![e.epoch.to_string(), e.model.clone(), num(e.true_accuracy)];
        r.extend(e.validators.iter().map(|v| num(v.value)));
        let dev = e.validators.iter().find_map(|v| v.dev.as_ref());
        r.push(num(dev.map(|d| d.discriminator_accuracy)));
        r.push(num(dev.map(|d| d.ess)));
        r.push(dev.map(|d| d.small_ess.to_string()).unwrap_or_default());
        r.push(
            e.validators
                .iter()
                .filter(|v| v.verdict == Verdict::NotInformative)
                .map(|v| v.name.as_str())
                .collect::<Vec<_>>()
                .join(";"),
        );
        rows.push(r);
    }
    write_csv(&with_ext(base, "csv"), rows)?;
    let mut rows = vec![header(&[
        "validator",
        "setting",
        "spearman",
        "n_epochs",
        "picked_epoch",
        "picked_accuracy",
        "best_epoch",
        "best_accuracy",
        "regret",
        "regret_lower",
        "regret_upper",
        "pick_share",
        "flips",
        "resamples",
        "seeds_resampled",
        "tied_epochs",
        "not_informative_epochs",
    ])];
    for v in &s.summary {
        let st = v.stability.as_ref();
        rows.push(vec![
            v.name.clone(),
            validator_setting(&v.name, &s.settings),
            num(v.spearman),
            v.n_epochs.to_string(),
            v.picked_epoch.map(|e| e.to_string()).unwrap_or_default(),
            num(v.picked_accuracy),
            s.best_epoch.map(|e| e.to_string()).unwrap_or_default(),
            num(s.best_accuracy),
            num(v.regret),
            num(st.and_then(|x| x.regret_lower)),
            num(st.and_then(|x| x.regret_upper)),
            num(st.map(|x| x.pick_share)),
            st.map(|x| x.flips.to_string()).unwrap_or_default(),
            st.map(|x| x.resamples.to_string()).unwrap_or_default(),
            st.map(|x| x.seeds_resampled.to_string())
                .unwrap_or_default(),
            if v.tie() {
                epochs_list(&v.tied_epochs)
            } else {
                String::new()
            },
            epochs_list(&v.not_informative_epochs),
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

/// The legend label of a validator in the figure: its name, and what makes its pick doubtful.
pub fn figure_label(v: &ValidatorSummary) -> String {
    let mut marks = Vec::new();
    if v.picked_epoch.is_none() {
        marks.push("no pick".to_string());
    }
    if let Some(st) = v.stability.as_ref().filter(|st| st.flips) {
        marks.push(format!(
            "pick flips ({:.0} % of resamples agree)",
            100.0 * st.pick_share
        ));
    }
    if v.tie() {
        marks.push(format!("tie of {} epochs", v.tied_epochs.len()));
    }
    if !v.not_informative_epochs.is_empty() {
        marks.push(format!(
            "not informative at {} of the epochs (left out)",
            v.not_informative_epochs.len()
        ));
    }
    if marks.is_empty() {
        v.name.clone()
    } else {
        format!("{} · {}", v.name, marks.join(", "))
    }
}

/// Draw the true target accuracy (%) and, in a second panel, every validator (over its informative
/// epochs) and the true accuracy min–max scaled over the epochs, to `<base>.{svg,png}`. The legend
/// marks picks that flip, ties and values that are not informative.
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
    for (k, summary) in s.summary.iter().enumerate() {
        let v: Vec<(u32, f64)> = s
            .epochs
            .iter()
            .filter_map(|e| {
                e.validators
                    .get(k)
                    .and_then(ValidatorScore::ranked)
                    .map(|x| (e.epoch, x))
            })
            .collect();
        series.push((figure_label(summary), v));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::validators::ClassAmiInit;

    fn score(name: &str, value: f64, verdict: Verdict) -> ValidatorScore {
        ValidatorScore {
            name: name.into(),
            value: Some(value),
            verdict,
            reason: (verdict != Verdict::Informative).then(|| "structural".into()),
            dev: None,
        }
    }

    /// Epochs 1–4 with true accuracies `truth`; every validator gets `values[epoch]`, with the
    /// verdicts of `verdicts`.
    fn epochs(truth: &[f64], values: &[f64], verdicts: &[Verdict]) -> Vec<EpochScores> {
        truth
            .iter()
            .enumerate()
            .map(|(i, &t)| EpochScores {
                epoch: i as u32 + 1,
                model: format!("m{i}"),
                true_accuracy: Some(t),
                validators: VALIDATORS
                    .iter()
                    .map(|n| score(n, values[i], verdicts[i]))
                    .collect(),
            })
            .collect()
    }

    fn resample(values: &[f64], truth: &[f64]) -> Vec<ResampleScores> {
        values
            .iter()
            .zip(truth)
            .map(|(&v, &t)| ResampleScores {
                values: vec![Some(v); VALIDATORS.len()],
                accuracy: Some(t),
            })
            .collect()
    }

    #[test]
    fn not_informative_values_are_neither_picked_nor_correlated() {
        use Verdict::*;
        let truth = [0.5, 0.6, 0.7, 0.8];
        // epoch 4 has the highest value but it is not informative; epochs 2 and 3 tie
        let e = epochs(
            &truth,
            &[0.1, 0.9, 0.9, 1.0],
            &[Informative, Informative, Informative, NotInformative],
        );
        let (best, summary) = summarise(&e, &ValidatorParams::default());
        assert_eq!(best, Some((4, 0.8)));
        for v in &summary {
            assert_eq!(v.picked_epoch, Some(2));
            assert_eq!(v.tied_epochs, vec![2, 3]);
            assert!(v.tie());
            assert_eq!(v.not_informative_epochs, vec![4]);
            assert_eq!(v.n_epochs, 3);
            // ranks over epochs 1–3 only: (1, 2.5, 2.5) against (1, 2, 3)
            let rho = v.spearman.unwrap();
            assert!((rho - 0.8660254037844387).abs() < 1e-12, "{rho}");
            assert!((v.regret.unwrap() - 0.2).abs() < 1e-12);
            assert_eq!(v.reason.as_deref(), Some("structural"));
            assert!(v.stability.is_none());
            assert!(figure_label(v).contains("tie of 2 epochs"));
            assert!(figure_label(v).contains("not informative at 1 of the epochs"));
        }
        // nothing informative: no pick, no correlation
        let e = epochs(&truth, &[1.0; 4], &[NotInformative; 4]);
        let (_, summary) = summarise(&e, &ValidatorParams::default());
        assert!(summary
            .iter()
            .all(|v| v.picked_epoch.is_none() && v.spearman.is_none() && v.n_epochs == 0));
        assert!(figure_label(&summary[0]).contains("no pick"));
    }

    #[test]
    fn stability_counts_the_resamples_picking_each_epoch() {
        use Verdict::*;
        let truth = [0.5, 0.6, 0.7, 0.8];
        let e = epochs(&truth, &[0.1, 0.2, 0.3, 0.4], &[Informative; 4]);
        // 10 resamples: 7 pick epoch 4 (regret 0), 3 pick epoch 3 (regret 0.1 of their truth)
        let mut resampled = vec![resample(&[0.1, 0.2, 0.3, 0.4], &truth); 7];
        resampled.extend(vec![resample(&[0.1, 0.2, 0.5, 0.4], &truth); 3]);
        let (_, summary) = summarise_with(&e, &resampled, &ValidatorParams::default());
        let dev = summary.iter().find(|v| v.name == "dev").unwrap();
        let st = dev.stability.as_ref().unwrap();
        assert_eq!((st.resamples, st.used), (10, 10));
        assert!(st.seeds_resampled);
        let shares: Vec<(u32, f64)> = st.shares.iter().map(|s| (s.epoch, s.share)).collect();
        assert_eq!(shares, vec![(3, 0.3), (4, 0.7)]);
        assert_eq!(st.pick_share, 0.7);
        assert!(st.flips, "0.7 < {STABLE_SHARE}");
        assert_eq!(st.regret_lower, Some(0.0));
        // numpy's percentile(97.5) of seven 0s and three 0.1s
        assert!((st.regret_upper.unwrap() - 0.1).abs() < 1e-12);
        assert!(figure_label(dev).contains("pick flips (70 % of resamples agree)"));
        // entropy draws no random numbers; ClassAMI does only with k-means++
        assert!(!summary[0].stability.as_ref().unwrap().seeds_resampled);
        assert_eq!(
            summary[4].stability.as_ref().unwrap().seeds_resampled,
            ValidatorParams::default().class_ami_init == ClassAmiInit::KMeansPlusPlus
        );
        // a stable pick is not marked
        let (_, summary) = summarise_with(&e, &resampled[..7], &ValidatorParams::default());
        let st = summary[0].stability.as_ref().unwrap();
        assert_eq!((st.pick_share, st.flips), (1.0, false));
        assert_eq!(figure_label(&summary[0]), "entropy");
    }

    #[test]
    fn resample_seeds_differ_and_are_fixed() {
        let seeds: Vec<u64> = (0..100).map(|b| resample_seed(7, b)).collect();
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 100);
        assert_eq!(seeds[3], resample_seed(7, 3));
        assert_ne!(resample_seed(7, 0), resample_seed(8, 0));
    }
}
