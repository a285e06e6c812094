//! `dannscope eval`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use dannscope::metrics::eval::EvalResults;
use dannscope::pipeline::{eval, Workspace};
use dannscope::settings::Pair;

use super::args::{EmbeddingArgs, MetricArgs};
use super::common;
use super::progress::Reporter;

/// Arguments of `eval`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    run: EmbeddingArgs,
    #[command(flatten)]
    metrics: MetricArgs,
    /// ONNX model following the dannscope model contract.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Source-target pair for the cohesion measures, e.g. R-P (repeatable). Default: the model's
    /// dannscope.source / dannscope.target.
    #[arg(long = "pair", value_name = "S-T")]
    pairs: Vec<Pair>,
}

pub fn run(a: Args) -> Result<()> {
    let (cfg, settings) = a.run.flags().with_metrics(&a.metrics).resolve()?;
    let path = common::model_path(a.model.as_deref(), &cfg)?;
    let model = common::load_model(&settings, &path)?;
    let mut pairs = a.pairs.clone();
    if pairs.is_empty() {
        match Pair::of_model(&model) {
            Some(p) => pairs.push(p),
            None => eprintln!(
                "note: no --pair given and the model names no source/target: cohesion measures skipped"
            ),
        }
    }
    let mut ws = Workspace::open(settings).context("cannot read the dataset")?;
    common::notes(ws.notices());
    // Unknown domains in a pair fail here, before a manifest is made or a domain embedded.
    ws.check_pairs(&pairs)?;
    let rep = Reporter::new();
    let e = ws.embeddings(&model, &|ev| rep.event(ev))?;
    let idx = pairs
        .iter()
        .map(|p| e.pair(p))
        .collect::<dannscope::Result<Vec<_>>>()?;
    let r = eval::evaluate(&model.stem, &e, &idx, &ws.settings.metrics)?;
    let dir = ws.layout.metrics(&e.key)?;
    eval::write(&dir, &r)?;
    let figures = eval::draw_misalignment(&ws.layout.tsne(&e.key)?, &r, &e, &idx)?;
    common::notes(&r.notices);
    print_table(&r, &idx, &e.domains);
    println!(
        "wrote {}/{{classification.csv,cohesion.csv,transfer.csv,misalignment.csv,metrics.json}}",
        dir.display()
    );
    for f in figures {
        println!("drew {}.{{svg,png}}", f.display());
    }
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.2}", 100.0 * x))
        .unwrap_or_else(|| "n/a".into())
}

fn print_table(r: &EvalResults, pairs: &[(usize, usize)], domains: &[dannscope::dataset::Domain]) {
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
        if let Some(t) = r.transfer.iter().find(|t| t.pair == p.pair) {
            let name = |c: usize| r.class_names.get(c).map(String::as_str).unwrap_or("?");
            for q in t.transfer.pulls.iter().take(5) {
                println!(
                    "  pulled: target {} → source {} ({} images, {:.1}% of the class)",
                    name(q.target_class),
                    name(q.source_class),
                    q.count,
                    100.0 * q.share
                );
            }
        }
    }
}
