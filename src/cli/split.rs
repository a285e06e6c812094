//! `dannscope split`.

use std::path::PathBuf;

use crate::dataset::{Dataset, DatasetOptions};
use crate::split::{write_summary, Manifest, SplitRatios};
use anyhow::{Context, Result};
use clap::Args as ClapArgs;

use super::args::{ProjectArgs, SeedArgs};
use super::common::BadSetting;
use super::console;
use super::resolve;

/// Arguments of `split`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// Config file (default: ./dannscope.toml when present).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Data root laid out as <root>/<Domain>/<Class>/<image>.
    #[arg(long, value_name = "DIR")]
    data: Option<PathBuf>,
    /// Keep only these classes (comma-separated folder names).
    #[arg(long, value_delimiter = ',', value_name = "A,B,...")]
    classes: Option<Vec<String>>,
    /// Domain code override, e.g. "Real World=W" (repeatable).
    #[arg(long = "domain-code", value_name = "NAME=CODE", value_parser = super::args::parse_domain_code)]
    domain_code: Vec<(String, String)>,
    /// Seed of the split (image order within each domain × class) [default: 0].
    #[arg(long, value_name = "N")]
    seed: Option<u64>,
    /// The same as --seed (the name other commands use for the seed of a newly made split).
    #[arg(long = "split-seed", value_name = "N")]
    split_seed: Option<u64>,
    /// Manifest to write. An existing file is updated: its rows keep their split, new images are added.
    #[arg(long = "out", value_name = "FILE", default_value = "splits.csv")]
    manifest_out: PathBuf,
    /// Ratios train,valid,test (numbers or fractions).
    #[arg(long, default_value = "2/3,1/6,1/6")]
    ratios: String,
    /// Replace an existing manifest instead of updating it.
    #[arg(long)]
    fresh: bool,
}

pub fn run(a: Args) -> Result<()> {
    let project = ProjectArgs {
        config: a.config.clone(),
        data: a.data.clone(),
        classes: a.classes.clone(),
        domain_code: a.domain_code.clone(),
        ..ProjectArgs::default()
    };
    let cfg = resolve::config(Some(&project))?;
    let ratios = SplitRatios::parse(&a.ratios)
        .map_err(|e| BadSetting::new(format!("--ratios {}", a.ratios), e.to_string()))?;
    let seeds = SeedArgs {
        seed: a.seed,
        split_seed: a.split_seed,
        ..SeedArgs::default()
    };
    let seed = resolve::seeds(Some(&seeds), &cfg).split;
    let opts = resolve::project(Some(&project), &cfg);
    let data = opts
        .data
        .clone()
        .context("no data folder: give --data DIR (or `data = \"DIR\"` in dannscope.toml)")?;
    let ds = Dataset::scan(
        &data,
        &DatasetOptions {
            domain_codes: opts.domain_codes.clone(),
            classes: opts.classes.clone(),
        },
    )
    .context("cannot read the dataset")?;
    for s in &ds.stray {
        console::note(format!("skipped {}: {}", s.rel_path, s.reason));
    }
    let m = if a.fresh {
        Manifest::create(&ds, &ratios, seed)
    } else {
        let (m, summary) = Manifest::create_or_update(&a.manifest_out, &data, &ds, &ratios, seed)
            .with_context(|| {
            format!(
                "cannot update {} (use --fresh to replace it)",
                a.manifest_out.display()
            )
        })?;
        if let Some(s) = summary {
            console::info(format!(
                "updated {}: {} kept, {} added, {} removed{}",
                a.manifest_out.display(),
                s.kept,
                s.added,
                s.removed,
                if s.removed_paths.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", s.removed_paths.join(", "))
                }
            ));
        }
        m
    };
    m.write(&a.manifest_out)?;
    let c = m.split_counts();
    console::out(format!(
        "wrote {} ({}: {} train, {} valid, {} test; seed {})",
        a.manifest_out.display(),
        console::count(m.rows.len(), "image"),
        c[0],
        c[1],
        c[2],
        seed
    ));
    let mut table = Vec::new();
    write_summary(&m, &mut table)?;
    for line in String::from_utf8_lossy(&table).lines() {
        console::out(line);
    }
    console::next(format!(
        "use it with --manifest {} (or manifest = \"{}\" in dannscope.toml)",
        a.manifest_out.display(),
        a.manifest_out.display()
    ));
    Ok(())
}
