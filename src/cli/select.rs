//! `dannscope select`: label-free checkpoint selection, judged against the true target accuracy.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use dannscope::pipeline::{evolution, select, Workspace};
use dannscope::settings::Pair;

use super::args::EmbeddingArgs;
use super::common;
use super::progress::Reporter;

/// Arguments of `select`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    run: EmbeddingArgs,
    /// Checkpoints: a folder of .onnx files or several --model files, ordered by dannscope.epoch.
    #[arg(long = "model", value_name = "FILE|DIR", required = true)]
    models: Vec<PathBuf>,
    /// Source-target pair, e.g. R-P. Default: the checkpoints' dannscope.source / dannscope.target.
    #[arg(long, value_name = "S-T")]
    pair: Option<Pair>,
}

fn show(v: Option<f64>, digits: usize) -> String {
    v.map(|x| format!("{x:.digits$}"))
        .unwrap_or_else(|| "n/a".into())
}

pub fn run(a: Args) -> Result<()> {
    let (_, settings) = a.run.flags().resolve()?;
    let files = evolution::checkpoint_files(&a.models)?;
    let mut models = files
        .iter()
        .map(|p| common::load_model(&settings, p))
        .collect::<Result<Vec<_>>>()?;
    let mut stems: Vec<&str> = models.iter().map(|m| m.stem.as_str()).collect();
    stems.sort_unstable();
    if stems.windows(2).any(|w| w[0] == w[1]) {
        bail!(
            "two checkpoints have the same file name; their embeddings would overwrite each other"
        );
    }
    evolution::sort_checkpoints(&mut models);
    let pair = match &a.pair {
        Some(p) => p.clone(),
        None => Pair::of_model(&models[0]).with_context(|| {
            format!(
                "no --pair given and {} names no dannscope.source/target",
                models[0].path.display()
            )
        })?,
    };
    let mut ws = Workspace::open(settings).context("cannot read the dataset")?;
    common::notes(ws.notices());
    ws.check_pairs(std::slice::from_ref(&pair))?;
    let rep = Reporter::new();
    let (s, base) = select::select(&mut ws, &models, &pair, &|ev| rep.event(ev))?;
    common::notes(&s.notices);
    println!(
        "{} → {} · {} split · {} checkpoints",
        s.source,
        s.target,
        s.split,
        s.epochs.len()
    );
    println!(
        "{:<10} {:>9} {:>11} {:>13} {:>10}",
        "validator", "spearman", "picks epoch", "its accuracy", "regret"
    );
    for v in &s.summary {
        println!(
            "{:<10} {:>9} {:>11} {:>13} {:>10}",
            v.name,
            show(v.spearman, 3),
            v.picked_epoch
                .map(|e| e.to_string())
                .unwrap_or_else(|| "n/a".into()),
            show(v.picked_accuracy.map(|x| 100.0 * x), 2),
            show(v.regret.map(|x| 100.0 * x), 2),
        );
    }
    println!(
        "best epoch by the target labels: {} ({} %)",
        s.best_epoch
            .map(|e| e.to_string())
            .unwrap_or_else(|| "n/a".into()),
        show(s.best_accuracy.map(|x| 100.0 * x), 2)
    );
    println!(
        "wrote {}.{{csv,json,svg,png}} and {}_summary.csv",
        base.display(),
        base.display()
    );
    Ok(())
}
