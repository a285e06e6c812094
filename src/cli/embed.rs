//! `dannscope embed`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use dannscope::pipeline::Workspace;

use super::args::{EmbeddingArgs, ShardArgs};
use super::common;
use super::progress::Reporter;

/// Arguments of `embed`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    run: EmbeddingArgs,
    #[command(flatten)]
    shard: ShardArgs,
    /// ONNX model following the dannscope model contract.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Domains to embed (codes or names, comma-separated). Default: all.
    #[arg(long, value_delimiter = ',', value_name = "R,P,...")]
    domains: Option<Vec<String>>,
    /// Recompute even when finished results with the same inputs exist.
    #[arg(long)]
    force: bool,
    /// Fail on the first unreadable image instead of skipping it.
    #[arg(long)]
    strict: bool,
}

pub fn run(a: Args) -> Result<()> {
    let (cfg, settings) = a.run.flags().with_shard(a.shard.shard).resolve()?;
    let path = common::model_path(a.model.as_deref(), &cfg)?;
    // The model is checked before any image is read.
    let model = common::load_model(&settings, &path)?;
    let mut ws = Workspace::open(settings).context("cannot read the dataset")?;
    common::notes(ws.notices());
    let project = ws
        .project()
        .context("no data folder: give --data DIR (or `data = \"DIR\"` in dannscope.toml)")?;
    let domains = match &a.domains {
        None => None,
        Some(keys) => Some(
            keys.iter()
                .map(|k| project.domain(k))
                .collect::<dannscope::Result<Vec<_>>>()?,
        ),
    };
    let rep = Reporter::new();
    let summary = ws
        .embed(&model, domains, a.force, a.strict, &|e| rep.event(e))
        .with_context(|| format!("embedding with {} failed", model.path.display()))?;
    let n: usize = summary.domains.iter().map(|d| d.n).sum();
    let skipped: usize = summary.domains.iter().map(|d| d.skipped).sum();
    let shard = ws
        .settings
        .shard
        .map(|s| format!("shard {s}: "))
        .unwrap_or_default();
    println!(
        "{shard}embedded {n} images ({skipped} skipped) of {} domain{} → {}",
        summary.domains.len(),
        if summary.domains.len() == 1 { "" } else { "s" },
        summary.dir.display()
    );
    Ok(())
}
