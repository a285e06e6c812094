//! `dannscope merge`: the finished shards of `embed --shard` become the files of one embed.

use std::path::PathBuf;

use crate::shard::ShardError;
use anyhow::Result;
use clap::Args as ClapArgs;

use super::args::{EngineArgs, ProjectArgs, SplitArgs};
use super::common;
use super::console;
use super::progress::Reporter;
use super::resolve::Flags;

/// The flags of `merge` that the `embed` of a missing shard does not take (`--force` means another
/// thing there).
const DROP: &[&str] = &["--partial", "--force"];

/// Arguments of `merge`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    project: ProjectArgs,
    #[command(flatten)]
    split: SplitArgs,
    #[command(flatten)]
    engine: EngineArgs,
    /// The ONNX model the shards were embedded with.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Domains the shards were embedded for, when not all (checked against the data when a data root
    /// is given).
    #[arg(long, value_delimiter = ',', value_name = "R,P,...")]
    domains: Option<Vec<String>>,
    /// Merge the finished shards even when some are missing: the files then lack those rows and are
    /// never taken for a finished embed.
    #[arg(long)]
    partial: bool,
    /// Replace finished results of other inputs in the embeddings folder.
    #[arg(long)]
    force: bool,
}

pub fn run(a: Args) -> Result<()> {
    let (cfg, settings) = Flags {
        project: Some(&a.project),
        split: a.split.split,
        engine: Some(&a.engine),
        ..Flags::default()
    }
    .resolve()?;
    let path = common::model_path(a.model.as_deref(), &cfg)?;
    let model = common::load_model(&settings, &path)?;
    let mut ws = common::open_workspace(settings)?;
    let domains = match (&a.domains, ws.project()) {
        (None, _) | (Some(_), None) => None,
        (Some(keys), Some(_)) => Some(common::domains_of(&ws, keys)?),
    };
    ws.check_model(&model)?;
    common::workspace_notes(&ws);
    let rep = Reporter::new();
    let (summary, dir) = ws
        .merge(&model, domains, a.partial, a.force, &|e| rep.event(e))
        .map_err(|e| {
            let commands = match &e {
                crate::Error::Shard(ShardError::Missing { count, missing, .. }) => {
                    common::missing_shard_commands("merge", DROP, missing, *count)
                }
                _ => Vec::new(),
            };
            anyhow::Error::new(e).context(common::WithCommands {
                message: "cannot merge the shards".into(),
                commands,
            })
        })?;
    if !summary.missing.is_empty() {
        let shards: Vec<String> = summary
            .missing
            .iter()
            .map(|i| format!("{i}/{}", summary.count))
            .collect();
        let rows: Vec<String> = summary
            .left_out
            .iter()
            .map(|(d, n)| format!("{} of {d}", console::count(*n, "image")))
            .collect();
        console::err_line(format!(
            "warning: partial merge: shard{} {} left out ({}); the merged files lack those rows and \
             are never taken for a finished embed. Run the missing shard{}, then merge again:",
            if shards.len() == 1 { "" } else { "s" },
            shards.join(", "),
            rows.join(", "),
            if shards.len() == 1 { "" } else { "s" },
        ));
        for c in common::missing_shard_commands("merge", DROP, &summary.missing, summary.count) {
            console::err_line(format!("  run: {c}"));
        }
    }
    let n: usize = summary.domains.iter().map(|d| d.n).sum();
    console::out(format!(
        "merged {} of {}: {} of {} → {}",
        summary.merged.len(),
        console::count(summary.count, "shard"),
        console::count(n, "row"),
        console::count(summary.domains.len(), "domain"),
        dir.display()
    ));
    console::next(format!(
        "dannscope eval --model {} --pair S-T (reads the merged files; same --split)",
        model.path.display()
    ));
    Ok(())
}
