//! `dannscope curves`.

use std::path::PathBuf;

use crate::layout::{with_ext, Layout};
use crate::{plot::curves_figure, traininglog::read_curves};
use anyhow::{Context, Result};
use clap::Args as ClapArgs;

use super::console;
use super::resolve;

/// Arguments of `curves`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Training log: a tidy CSV `epoch,domain,split,metric,value` (domain source|target or a domain name).
    #[arg(long, value_name = "LOG.csv")]
    log: PathBuf,
    /// Config file (default: ./dannscope.toml when present); only its `out` is used.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Output root; the figure goes to <out>/curves/<log name>.{svg,png} [default: outputs].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Domain name to draw as the source (dashed) when the log names domains instead of source/target.
    #[arg(long)]
    source: Option<String>,
    /// Figure title (default: the log's file name).
    #[arg(long)]
    title: Option<String>,
}

pub fn run(a: Args) -> Result<()> {
    let project = super::args::ProjectArgs {
        config: a.config.clone(),
        ..Default::default()
    };
    let cfg = resolve::config(Some(&project))?;
    let out = a
        .out
        .clone()
        .or_else(|| cfg.out.clone())
        .unwrap_or_else(|| PathBuf::from("outputs"));
    let mut curves = read_curves(&a.log).context("cannot read the training log")?;
    curves.source_domain = a.source.clone();
    // The log's file name without its last extension: `a.v1.csv` and `a.v2.csv` stay apart.
    let name = a
        .log
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .map(|n| match n.rsplit_once('.') {
            Some((stem, _)) if !stem.is_empty() => stem.to_string(),
            _ => n,
        })
        .unwrap_or_else(|| "curves".into());
    let base = Layout::new(out).curves(&name)?;
    if let Some(dir) = base.parent() {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    }
    let (svg, png) = (with_ext(&base, "svg"), with_ext(&base, "png"));
    let title = a.title.clone().unwrap_or_else(|| name.clone());
    curves_figure(&curves, &title, &svg, &png)?;
    console::out(format!("wrote {} and {}", svg.display(), png.display()));
    Ok(())
}
