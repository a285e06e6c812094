//! `dannscope compare`: two models on the same images.

use std::path::PathBuf;

use crate::dataset::Pair;
use crate::pipeline::compare;
use anyhow::Result;
use clap::Args as ClapArgs;

use super::args::{EmbeddingArgs, MetricArgs};
use super::common::{self, BadSetting};
use super::console;
use super::progress::Reporter;

/// Arguments of `compare`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    run: EmbeddingArgs,
    #[command(flatten)]
    metrics: MetricArgs,
    /// The two models, A then B (give --model twice); differences are B − A. Default: `model` of
    /// dannscope.toml (B) and the source-only baseline of its [[run]] (A).
    #[arg(long = "model", value_name = "FILE", num_args = 1)]
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
    let (cfg, settings) = a.run.flags().with_metrics(&a.metrics).resolve()?;
    let models = common::compared_paths(&a.models, &cfg)?;
    if models.len() != 2 {
        return Err(BadSetting::new(
            "--model",
            format!(
                "compare takes exactly two models (--model A --model B), {} given",
                models.len()
            ),
        )
        .into());
    }
    let ma = common::load_model(&settings, &models[0])?;
    let mb = common::load_model(&settings, &models[1])?;
    let (pair, from_flag) = common::pick_pair(&a.pair, &ma)?;
    let mut ws = common::open_workspace(settings)?;
    common::check_pairs(&ws, std::slice::from_ref(&pair), from_flag)?;
    ws.check_model(&ma)?;
    ws.check_model(&mb)?;
    common::workspace_notes(&ws);
    let rep = Reporter::new();
    let (r, base) = compare::compare(&mut ws, &ma, &mb, &pair, &|ev| rep.event(ev))?;
    console::notes(&r.notices);
    console::out(format!(
        "{} vs {} · {} → {} · {} split · {}",
        r.model_a,
        r.model_b,
        r.source,
        r.target,
        r.split,
        console::count(r.n_target, "target image")
    ));
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
    console::out(format!(
        "target accuracy: A {} %, B {} %, B − A {} points{ci}",
        pct(Some(r.accuracy_a)),
        pct(Some(r.accuracy_b)),
        pct(Some(r.difference))
    ));
    console::out(format!(
        "McNemar exact: A only right {}, B only right {}, p = {}",
        r.mcnemar.a_only,
        r.mcnemar.b_only,
        crate::text::p_value(r.mcnemar.p_value)
    ));
    console::out(format!(
        "B fixes {} and breaks {}",
        console::count(r.fixed.len(), "image"),
        r.broken.len()
    ));
    for o in &r.space_overlap {
        console::out(format!(
            "kNN overlap of the two spaces on {} (k = {}): {}",
            o.domain,
            o.k,
            o.mean_jaccard
                .map(|v| format!("{v:.3}"))
                .unwrap_or_else(|| "n/a".into())
        ));
    }
    let mut moved: Vec<_> = r.per_class.iter().filter(|c| c.delta.is_some()).collect();
    moved.sort_by(|x, y| {
        y.delta
            .unwrap_or(0.0)
            .abs()
            .total_cmp(&x.delta.unwrap_or(0.0).abs())
    });
    for c in moved.iter().take(5) {
        console::out(format!(
            "  {:<20} A {:>6} %  B {:>6} %  ({})",
            c.class,
            pct(c.accuracy_a),
            pct(c.accuracy_b),
            console::count(c.n, "image")
        ));
    }
    console::out(format!("wrote {}.{{csv,json}}", base.display()));
    Ok(())
}
