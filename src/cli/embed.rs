//! `dannscope embed`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;

use super::common::{EngineArgs, Reporter};
use super::Common;

/// Arguments of `embed`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    engine: EngineArgs,
    /// ONNX model following the dannscope model contract.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Split to embed: train, valid, test or all.
    #[arg(long)]
    split: Option<String>,
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
    let cfg = a.common.config()?;
    // The model is checked before any image is read.
    let (model, split) = a
        .engine
        .model_and_split(a.model.as_deref(), a.split.as_deref(), &cfg)?;
    let project = a.common.project(&cfg)?;
    let domains = match &a.domains {
        None => (0..project.domains.len()).collect(),
        Some(keys) => keys
            .iter()
            .map(|k| project.domain(k))
            .collect::<dannscope::Result<Vec<_>>>()?,
    };
    let job = project.embed_job(&split, domains, a.force, a.strict)?;
    let rep = Reporter::new();
    let summary = dannscope::embed::run(&job, &model, &a.engine.options(), &|e| rep.event(e))
        .with_context(|| format!("embedding with {} failed", model.path.display()))?;
    let n: usize = summary.domains.iter().map(|d| d.n).sum();
    let skipped: usize = summary.domains.iter().map(|d| d.skipped).sum();
    println!(
        "embedded {n} images ({skipped} skipped) of {} domain{} → {}",
        summary.domains.len(),
        if summary.domains.len() == 1 { "" } else { "s" },
        summary.dir.display()
    );
    Ok(())
}
