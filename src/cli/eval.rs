//! `dannscope eval`.

use std::path::PathBuf;

use crate::dataset::Pair;
use crate::metrics::eval::EvalResults;
use crate::pipeline::eval;
use anyhow::Result;
use clap::Args as ClapArgs;

use super::args::{EmbeddingArgs, MetricArgs};
use super::common;
use super::console;
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
    /// Source-target pair for the cohesion measures, e.g. R-P (repeatable); only the pairs' domains
    /// are embedded and scored. Default: the model's dannscope.source / dannscope.target.
    #[arg(long = "pair", value_name = "S-T")]
    pairs: Vec<Pair>,
}

pub fn run(a: Args) -> Result<()> {
    let (cfg, settings) = a.run.flags().with_metrics(&a.metrics).resolve()?;
    let path = common::model_path(a.model.as_deref(), &cfg)?;
    let model = common::load_model(&settings, &path)?;
    let from_flag = !a.pairs.is_empty();
    let mut pairs = a.pairs.clone();
    if pairs.is_empty() {
        match common::model_pair(&model) {
            Some(p) => pairs.push(p),
            None => console::note(
                "no --pair given and the model names no source/target: every domain is scored, cohesion measures are skipped",
            ),
        }
    }
    let mut ws = common::open_workspace(settings)?;
    // Unknown domains in a pair and classes that do not fit fail here, before a manifest is made or
    // a domain embedded.
    common::check_pairs(&ws, &pairs, from_flag)?;
    ws.check_model(&model)?;
    common::workspace_notes(&ws);
    let rep = Reporter::new();
    let e = ws.embeddings(&model, &pairs, &|ev| rep.event(ev))?;
    let idx = pairs
        .iter()
        .map(|p| e.pair(p))
        .collect::<crate::Result<Vec<_>>>()?;
    let r = eval::evaluate(
        &e.key.model,
        &e,
        &idx,
        &ws.settings.metrics,
        &ws.settings.seeds,
    )?;
    let dir = ws.layout.metrics(&e.key)?;
    eval::write(&dir, &r)?;
    let figures = eval::draw_misalignment(&ws.layout.tsne(&e.key)?, &r, &e, &idx)?;
    console::notes(&r.notices);
    print_table(&r, &idx, &e.domains);
    console::out(format!(
        "wrote {}/{{classification.csv,cohesion.csv,transfer.csv,misalignment.csv,metrics.json}}",
        dir.display()
    ));
    for f in figures {
        console::out(format!("drew {}.{{svg,png}}", f.display()));
    }
    if let Some(p) = pairs.first() {
        console::next(format!(
            "dannscope tsne --model {} --pair {} (the joint map), or explore for the page of images",
            common::shell_word(&model.path.display().to_string()),
            common::shell_word(&p.to_string())
        ));
    }
    Ok(())
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.2}", 100.0 * x))
        .unwrap_or_else(|| "n/a".into())
}

/// The console table: one row per domain (under its pair), columns aligned however long the names.
fn print_table(r: &EvalResults, pairs: &[(usize, usize)], domains: &[crate::dataset::Domain]) {
    let label = |role: &str, name: &str| format!("{role}{name}");
    let w = pairs
        .iter()
        .flat_map(|&(s, t)| {
            [
                label("source ", &domains[s].name),
                label("target ", &domains[t].name),
            ]
        })
        .chain(r.domains.iter().map(|d| d.domain.clone()))
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(0)
        .max("domain".len());
    let row = |role: &str, name: &str| {
        if let Some(d) = r.domain(name) {
            let (acc, auc) = match &d.classification {
                Some(c) => (pct(Some(c.accuracy)), pct(c.auroc)),
                None => ("n/a".into(), "n/a".into()),
            };
            console::out(format!(
                "{:<w$} {:>6} {acc:>9} {auc:>9}",
                label(role, name),
                d.n
            ));
        }
    };
    console::out(format!("{} · {} split", r.model, r.split));
    console::out(format!(
        "{:<w$} {:>6} {:>9} {:>9}",
        "domain", "n", "acc %", "AUROC %"
    ));
    if pairs.is_empty() {
        for d in &r.domains {
            row("", &d.domain);
        }
    }
    for (&(s, t), p) in pairs.iter().zip(&r.pairs) {
        console::out(format!("pair {}", p.pair));
        row("source ", &domains[s].name);
        row("target ", &domains[t].name);
        for m in &p.cohesion.metrics {
            console::out(format!(
                "  {:<26} {}",
                m.name,
                m.value
                    .map(|v| format!("{v:.4}"))
                    .unwrap_or_else(|| "n/a".into())
            ));
        }
        if let Some(t) = r.transfer.iter().find(|t| t.pair == p.pair) {
            let name = |c: usize| r.class_names.get(c).map(String::as_str).unwrap_or("?");
            for q in t.transfer.pulls.iter().take(5) {
                console::out(format!(
                    "  pulled: target {} → source {} ({}, {:.1}% of the class)",
                    name(q.target_class),
                    name(q.source_class),
                    console::count(q.count as usize, "image"),
                    100.0 * q.share
                ));
            }
        }
    }
}
