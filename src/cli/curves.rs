//! `dannscope curves`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use dannscope::{plot::curves_figure, traininglog::read_curves};

/// Arguments of `curves`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Training log: a tidy CSV `epoch,domain,split,metric,value` (domain source|target or a domain name).
    #[arg(long, value_name = "LOG.csv")]
    log: PathBuf,
    /// Output root; the figure goes to <out>/curves/<log stem>.{svg,png}.
    #[arg(long, default_value = "outputs")]
    out: PathBuf,
    /// Domain name to draw as the source (dashed) when the log names domains instead of source/target.
    #[arg(long)]
    source: Option<String>,
    /// Figure title (default: the log's file name).
    #[arg(long)]
    title: Option<String>,
}

pub fn run(a: Args) -> Result<()> {
    let mut curves = read_curves(&a.log).context("cannot read the training log")?;
    curves.source_domain = a.source.clone();
    let stem = a
        .log
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "curves".into());
    let base = a.out.join("curves").join(&stem);
    let (svg, png) = (base.with_extension("svg"), base.with_extension("png"));
    let title = a.title.clone().unwrap_or_else(|| stem.clone());
    curves_figure(&curves, &title, &svg, &png)?;
    println!("wrote {} and {}", svg.display(), png.display());
    Ok(())
}
