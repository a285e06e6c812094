//! `dannscope eval`.

use std::path::PathBuf;

use anyhow::Result;
use clap::Args as ClapArgs;
use dannscope::dataset::{find_domain, parse_pair};
use dannscope::metrics::eval::{self, metrics_dir};
use dannscope::metrics::{ClassificationParams, CohesionParams};
use dannscope::project::gather_embeddings;

use super::common::{EngineArgs, Reporter};
use super::Common;

/// Arguments of `eval`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    engine: EngineArgs,
    /// ONNX model following the dannscope model contract.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Split to evaluate: train, valid, test or all.
    #[arg(long)]
    split: Option<String>,
    /// Source-target pair for the cohesion measures, e.g. R-P (repeatable). Default: the model's
    /// dannscope.source / dannscope.target.
    #[arg(long = "pair", value_name = "S-T")]
    pairs: Vec<String>,
    /// Bootstrap resamples for the 95% intervals (0 = none).
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Seed of the bootstrap, the proxy A-distance split and subsamples.
    #[arg(long = "metrics-seed", default_value_t = 0)]
    metrics_seed: u64,
}

pub fn run(a: Args) -> Result<()> {
    let cfg = a.common.config()?;
    // The model is checked before any image is read.
    let (model, split) = a
        .engine
        .model_and_split(a.model.as_deref(), a.split.as_deref(), &cfg)?;
    let opts = a.common.project_options(&cfg)?;
    let rep = Reporter::new();
    let (domains, data, notices) =
        gather_embeddings(&opts, &model, &split, &a.engine.options(), &|e| {
            rep.event(e)
        })?;
    for n in notices {
        eprintln!("note: {n}");
    }
    let mut pairs = Vec::new();
    for p in &a.pairs {
        pairs.push(parse_pair(&domains, p)?);
    }
    if pairs.is_empty() {
        if let (Some(s), Some(t)) = (&model.source, &model.target) {
            pairs.push((find_domain(&domains, s)?, find_domain(&domains, t)?));
        } else {
            eprintln!("note: no --pair given and the model names no source/target: cohesion measures skipped");
        }
    }
    let cls = ClassificationParams::default()
        .n_resamples(a.bootstrap)
        .seed(a.metrics_seed);
    let coh = CohesionParams::default().seed(a.metrics_seed);
    let r = eval::evaluate(&model.stem, &split, &domains, &data, &pairs, &cls, &coh)?;
    let dir = metrics_dir(&opts.out, &model.stem, &split);
    eval::write(&dir, &r)?;
    for n in &r.notices {
        eprintln!("note: {n}");
    }
    print_table(&r, &pairs, &domains);
    println!(
        "wrote {}/{{classification.csv,cohesion.csv,metrics.json}}",
        dir.display()
    );
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.2}", 100.0 * x))
        .unwrap_or_else(|| "n/a".into())
}

fn print_table(
    r: &eval::EvalResults,
    pairs: &[(usize, usize)],
    domains: &[dannscope::dataset::Domain],
) {
    println!("{} · {} split", r.model, r.split);
    println!(
        "{:<16} {:>6} {:>9} {:>9}",
        "domain", "n", "acc %", "AUROC %"
    );
    let show = |role: &str, name: &str| {
        if let Some(d) = r.domain(name) {
            let (acc, auc) = match &d.classification {
                Some(c) => (pct(Some(c.accuracy)), pct(c.auroc)),
                None => ("n/a".into(), "n/a".into()),
            };
            println!(
                "{:<16} {:>6} {:>9} {:>9}",
                format!("{role}{name}"),
                d.n,
                acc,
                auc
            );
        }
    };
    if pairs.is_empty() {
        for d in &r.domains {
            show("", &d.domain);
        }
    }
    for (&(s, t), p) in pairs.iter().zip(&r.pairs) {
        println!("pair {}", p.pair);
        show("source ", &domains[s].name);
        show("target ", &domains[t].name);
        for m in &p.cohesion.metrics {
            println!(
                "  {:<26} {}",
                m.name,
                m.value
                    .map(|v| format!("{v:.4}"))
                    .unwrap_or_else(|| "n/a".into())
            );
        }
    }
}
