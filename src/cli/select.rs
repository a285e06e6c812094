//! `dannscope select`: label-free checkpoint selection, judged against the true target accuracy.

use std::path::PathBuf;

use crate::dataset::Pair;
use crate::metrics::validators::{
    ClassAmiInit, Dev, DevParams, ValidatorParams, DEFAULT_CLASS_AMI_INIT, DEFAULT_DEV_FOLDS,
    SMALL_ESS,
};
use crate::pipeline::select;
use anyhow::Result;
use clap::Args as ClapArgs;

use super::args::EmbeddingArgs;
use super::common;
use super::console;
use super::progress::Reporter;

/// Arguments of `select`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    run: EmbeddingArgs,
    /// Checkpoints: a folder of .onnx files or several --model files, ordered by dannscope.epoch.
    /// Default: the checkpoints of the [[run]] of `model` in dannscope.toml.
    #[arg(long = "model", value_name = "FILE|DIR")]
    models: Vec<PathBuf>,
    /// Source-target pair, e.g. R-P. Default: the checkpoints' dannscope.source / dannscope.target.
    #[arg(long, value_name = "S-T")]
    pair: Option<Pair>,
    /// DEV's cross-fitting folds (≥ 2): every source point is weighted by a domain discriminator that
    /// did not see it.
    #[arg(long, value_name = "K", default_value_t = DEFAULT_DEV_FOLDS,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(2..=1000))]
    dev_folds: usize,
    /// ClassAMI's k-means start: label-centers (pytorch-adapt's centroid_init="label_centers"; no
    /// random numbers) or kmeans++ (pytorch-adapt's default, seeded by --metrics-seed).
    #[arg(long, value_name = "INIT", default_value_t = DEFAULT_CLASS_AMI_INIT)]
    class_ami_init: ClassAmiInit,
    /// Bootstrap resamples of the target images for each pick's stability (0: none).
    #[arg(long, value_name = "N", default_value_t = select::DEFAULT_RESAMPLES)]
    resamples: usize,
}

fn show(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

fn pct(v: Option<f64>) -> String {
    show(v.map(|x| 100.0 * x), 2)
}

/// The stability column: the pick's share of the resamples and its marks.
fn stability(v: &select::ValidatorSummary) -> String {
    let mut out = match &v.stability {
        Some(st) => format!("{:.0} %", 100.0 * st.pick_share),
        None => "n/a".into(),
    };
    let mut marks = Vec::new();
    if v.stability.as_ref().is_some_and(|st| st.flips) {
        marks.push("FLIPS".to_string());
    }
    if v.tie() {
        marks.push(format!(
            "tie: epochs {}",
            select::epochs_text(&v.tied_epochs)
        ));
    }
    if !v.not_informative_epochs.is_empty() {
        marks.push(format!(
            "not informative at epochs {}",
            select::epochs_text(&v.not_informative_epochs)
        ));
    }
    if !marks.is_empty() {
        out = format!("{out}  {}", marks.join("; "));
    }
    out
}

pub fn run(a: Args) -> Result<()> {
    let (cfg, settings) = a.run.flags().resolve()?;
    let given = common::checkpoints_path(&a.models, &cfg)?;
    let (models, pair, mut ws) = common::checkpoints_workspace(settings, &given, &a.pair)?;
    let rep = Reporter::for_batch();
    let opts = select::SelectOptions {
        validators: ValidatorParams {
            class_ami_init: a.class_ami_init,
            dev: DevParams {
                folds: a.dev_folds,
                ..DevParams::default()
            },
            ..ValidatorParams::default()
        },
        resamples: a.resamples,
    };
    let started = std::time::Instant::now();
    let (s, base) = select::select(&mut ws, &models, &pair, &opts, &|ev| rep.event(ev))?;
    rep.checkpoints_line(models.len());
    console::notes(&s.notices);
    console::out(format!(
        "{} → {} · {} split · {} checkpoints · ClassAMI start {} · DEV {} folds · {} resamples of the target images ({:.1} s)",
        s.source,
        s.target,
        s.split,
        s.epochs.len(),
        s.settings.class_ami_init,
        s.settings.dev.folds,
        s.resamples,
        started.elapsed().as_secs_f64()
    ));
    console::out(format!(
        "{:<10} {:>9} {:>11} {:>13} {:>8} {:>17}  {}",
        "validator",
        "spearman",
        "picks epoch",
        "its accuracy",
        "regret",
        "regret 95 % int.",
        "pick's share of resamples"
    ));
    for v in &s.summary {
        let interval = v
            .stability
            .as_ref()
            .map(|st| format!("[{}, {}]", pct(st.regret_lower), pct(st.regret_upper)))
            .unwrap_or_else(|| "n/a".into());
        console::out(format!(
            "{:<10} {:>9} {:>11} {:>13} {:>8} {:>17}  {}",
            v.name,
            show(v.spearman, 3),
            v.picked_epoch
                .map(|e| e.to_string())
                .unwrap_or_else(|| "n/a".into()),
            pct(v.picked_accuracy),
            pct(v.regret),
            interval,
            stability(v),
        ));
    }
    let devs: Vec<(u32, &Dev)> = s
        .epochs
        .iter()
        .filter_map(|e| {
            e.validators
                .iter()
                .find_map(|v| v.dev.as_ref())
                .map(|d| (e.epoch, d))
        })
        .collect();
    if !devs.is_empty() {
        let range = |f: fn(&Dev) -> f64| {
            let lo = devs.iter().map(|d| f(d.1)).fold(f64::INFINITY, f64::min);
            let hi = devs
                .iter()
                .map(|d| f(d.1))
                .fold(f64::NEG_INFINITY, f64::max);
            (lo, hi)
        };
        let (alo, ahi) = range(|d| d.discriminator_accuracy);
        let (elo, ehi) = range(|d| d.ess);
        let small: Vec<u32> = devs.iter().filter(|d| d.1.small_ess).map(|d| d.0).collect();
        let n = devs[0].1.n_validation;
        console::out(format!(
            "DEV: discriminator held-out accuracy {:.1}–{:.1} %, effective sample size of the weights {elo:.1}–{ehi:.1} of {n} source points{}",
            100.0 * alo,
            100.0 * ahi,
            if small.is_empty() {
                String::new()
            } else {
                format!(
                    "; small (below {SMALL_ESS}) at epochs {}: few points carry DEV there",
                    select::epochs_text(&small)
                )
            }
        ));
    }
    console::out(format!(
        "best epoch by the target labels: {} ({} %)",
        s.best_epoch
            .map(|e| e.to_string())
            .unwrap_or_else(|| "n/a".into()),
        pct(s.best_accuracy)
    ));
    console::out(format!(
        "wrote {}.{{csv,json,svg,png}} and {}_summary.csv",
        base.display(),
        base.display()
    ));
    Ok(())
}
