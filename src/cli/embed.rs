//! `dannscope embed`.

use std::path::PathBuf;

use crate::shard::ShardError;
use anyhow::{Context, Result};
use clap::Args as ClapArgs;

use super::args::{EmbeddingArgs, ShardArgs};
use super::common;
use super::console;
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
    let mut ws = common::open_workspace(settings)?;
    ws.project()
        .context("no data folder: give --data DIR (or `data = \"DIR\"` in dannscope.toml)")?;
    let domains = match &a.domains {
        None => None,
        Some(keys) => Some(common::domains_of(&ws, keys)?),
    };
    ws.check_model(&model)?;
    common::workspace_notes(&ws);
    let rep = Reporter::new();
    let summary = ws
        .embed(&model, domains, a.force, a.strict, &|e| rep.event(e))
        .map_err(|e| {
            let commands = match &e {
                crate::Error::Shard(ShardError::OtherPlan {
                    count,
                    finished,
                    same_embed: true,
                    ..
                }) => {
                    let missing: Vec<usize> =
                        (0..*count).filter(|i| !finished.contains(i)).collect();
                    common::missing_shard_commands("embed", &[], &missing, *count)
                }
                _ => Vec::new(),
            };
            anyhow::Error::new(e).context(common::WithCommands {
                message: format!("embedding with {} failed", model.path.display()),
                commands,
            })
        })?;
    let n: usize = summary.domains.iter().map(|d| d.n).sum();
    let skipped: usize = summary.domains.iter().map(|d| d.skipped).sum();
    let shard = ws
        .settings
        .shard
        .map(|s| format!("shard {s}: "))
        .unwrap_or_default();
    console::out(format!(
        "{shard}embedded {} ({skipped} skipped) of {} → {}",
        console::count(n, "image"),
        console::count(summary.domains.len(), "domain"),
        summary.dir.display()
    ));
    if skipped > 0 {
        console::info(format!(
            "skipped images are listed with their reasons in {}/<Domain>.json (`skipped`)",
            summary.dir.display()
        ));
    }
    if ws.settings.shard.is_some() {
        console::next(format!(
            "when every shard is finished: dannscope merge --model {} (same --data, --split)",
            model.path.display()
        ));
    } else {
        console::next(format!(
            "dannscope eval --model {} --pair S-T (same --data, --split), or tsne / explore",
            model.path.display()
        ));
    }
    Ok(())
}
