//! `dannscope select`: label-free checkpoint selection, judged against the true target accuracy.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;
use dannscope::dataset::Pair;
use dannscope::pipeline::select;

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
    let (models, pair, mut ws) = common::checkpoints_workspace(settings, &a.models, &a.pair)?;
    let rep = Reporter::for_batch();
    let (s, base) = select::select(&mut ws, &models, &pair, &|ev| rep.event(ev))?;
    rep.checkpoints_line(models.len());
    console::notes(&s.notices);
    console::out(format!(
        "{} → {} · {} split · {} checkpoints",
        s.source,
        s.target,
        s.split,
        s.epochs.len()
    ));
    console::out(format!(
        "{:<10} {:>9} {:>11} {:>13} {:>10}",
        "validator", "spearman", "picks epoch", "its accuracy", "regret"
    ));
    for v in &s.summary {
        console::out(format!(
            "{:<10} {:>9} {:>11} {:>13} {:>10}",
            v.name,
            show(v.spearman, 3),
            v.picked_epoch
                .map(|e| e.to_string())
                .unwrap_or_else(|| "n/a".into()),
            show(v.picked_accuracy.map(|x| 100.0 * x), 2),
            show(v.regret.map(|x| 100.0 * x), 2),
        ));
    }
    console::out(format!(
        "best epoch by the target labels: {} ({} %)",
        s.best_epoch
            .map(|e| e.to_string())
            .unwrap_or_else(|| "n/a".into()),
        show(s.best_accuracy.map(|x| 100.0 * x), 2)
    ));
    console::out(format!(
        "wrote {}.{{csv,json,svg,png}} and {}_summary.csv",
        base.display(),
        base.display()
    ));
    Ok(())
}
