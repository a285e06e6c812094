//! `dannscope compare`: two models on the same images.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use dannscope::pipeline::{compare, Workspace};
use dannscope::settings::Pair;

use super::args::{EmbeddingArgs, MetricArgs};
use super::common;
use super::progress::Reporter;

/// Arguments of `compare`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    run: EmbeddingArgs,
    #[command(flatten)]
    metrics: MetricArgs,
    /// The two models, A then B (give --model twice); differences are B − A.
    #[arg(long = "model", value_name = "FILE", required = true, num_args = 1)]
    models: Vec<PathBuf>,
    /// Source-target pair, e.g. R-P. Default: model A's dannscope.source / dannscope.target.
    #[arg(long, value_name = "S-T")]
    pair: Option<Pair>,
}

fn pct(v: Option<f64>) -> String {
    v.map(|x| format!("{:.2}", 100.0 * x))
        .unwrap_or_else(|| "n/a".into())
}

pub fn run(a: Args) -> Result<()> {
    if a.models.len() != 2 {
        bail!(
            "compare takes exactly two models (--model A --model B), {} given",
            a.models.len()
        );
    }
    let (_, settings) = a.run.flags().with_metrics(&a.metrics).resolve()?;
    let ma = common::load_model(&settings, &a.models[0])?;
    let mb = common::load_model(&settings, &a.models[1])?;
    let pair = match &a.pair {
        Some(p) => p.clone(),
        None => Pair::of_model(&ma).with_context(|| {
            format!(
                "no --pair given and {} names no dannscope.source/target",
                ma.path.display()
            )
        })?,
    };
    let mut ws = Workspace::open(settings).context("cannot read the dataset")?;
    common::notes(ws.notices());
    ws.check_pairs(std::slice::from_ref(&pair))?;
    let rep = Reporter::new();
    let (r, base) = compare::compare(&mut ws, &ma, &mb, &pair, &|ev| rep.event(ev))?;
    common::notes(&r.notices);
    println!(
        "{} vs {} · {} → {} · {} split · {} target images",
        r.model_a, r.model_b, r.source, r.target, r.split, r.n_target
    );
    let ci = r
        .difference_ci
        .as_ref()
        .map(|c| {
            format!(
                " ({:.0}% CI {} to {})",
                100.0 * c.level,
                pct(Some(c.lower)),
                pct(Some(c.upper))
            )
        })
        .unwrap_or_default();
    println!(
        "target accuracy: A {} %, B {} %, B − A {} points{ci}",
        pct(Some(r.accuracy_a)),
        pct(Some(r.accuracy_b)),
        pct(Some(r.difference))
    );
    println!(
        "McNemar exact: A only right {}, B only right {}, p = {:.4}",
        r.mcnemar.a_only, r.mcnemar.b_only, r.mcnemar.p_value
    );
    println!(
        "B fixes {} images and breaks {}",
        r.fixed.len(),
        r.broken.len()
    );
    for o in &r.space_overlap {
        println!(
            "kNN overlap of the two spaces on {} (k = {}): {}",
            o.domain,
            o.k,
            o.mean_jaccard
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| "n/a".into())
        );
    }
    let mut moved: Vec<_> = r.per_class.iter().filter(|c| c.delta.is_some()).collect();
    moved.sort_by(|x, y| {
        y.delta
            .unwrap_or(0.0)
            .abs()
            .total_cmp(&x.delta.unwrap_or(0.0).abs())
    });
    for c in moved.iter().take(5) {
        println!(
            "  {:<20} A {:>6} %  B {:>6} %  ({} images)",
            c.class,
            pct(c.accuracy_a),
            pct(c.accuracy_b),
            c.n
        );
    }
    println!("wrote {}.{{csv,json}}", base.display());
    Ok(())
}
