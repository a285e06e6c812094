//! `dannscope split`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args as ClapArgs;
use dannscope::dataset::{Dataset, DatasetOptions};
use dannscope::split::{write_summary, Manifest, SplitRatios};

use super::Common;

/// Arguments of `split`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Manifest to write. An existing file is updated: its rows keep their split, new images are added.
    #[arg(
        long = "manifest-out",
        visible_alias = "to",
        value_name = "FILE",
        default_value = "splits.csv"
    )]
    manifest_out: PathBuf,
    /// Ratios train,valid,test (numbers or fractions).
    #[arg(long, default_value = "2/3,1/6,1/6")]
    ratios: String,
    /// Replace an existing manifest instead of updating it.
    #[arg(long)]
    fresh: bool,
}

pub fn run(a: Args) -> Result<()> {
    let cfg = a.common.config()?;
    let opts = a.common.project_options(&cfg)?;
    let data = opts
        .data
        .clone()
        .context("no data folder: give --data DIR (or `data = \"DIR\"` in dannscope.toml)")?;
    let ratios = SplitRatios::parse(&a.ratios)?;
    let ds = Dataset::scan(
        &data,
        &DatasetOptions {
            domain_codes: opts.domain_codes.clone(),
            classes: opts.classes.clone(),
        },
    )
    .context("cannot read the dataset")?;
    for s in &ds.stray {
        eprintln!("note: skipped {}: {}", s.rel_path, s.reason);
    }
    let m = if a.manifest_out.is_file() && !a.fresh {
        let old = Manifest::read(&a.manifest_out, &data).with_context(|| {
            format!(
                "cannot update {} (use --fresh to replace it)",
                a.manifest_out.display()
            )
        })?;
        let (m, s) = old.update(&ds, &ratios, opts.seed);
        eprintln!(
            "updated {}: {} kept, {} added, {} removed",
            a.manifest_out.display(),
            s.kept,
            s.added,
            s.removed
        );
        m
    } else {
        Manifest::create(&ds, &ratios, opts.seed)
    };
    m.write(&a.manifest_out)?;
    let c = m.split_counts();
    println!(
        "wrote {} ({} images: {} train, {} valid, {} test; seed {})",
        a.manifest_out.display(),
        m.rows.len(),
        c[0],
        c[1],
        c[2],
        opts.seed
    );
    write_summary(&m, std::io::stdout())?;
    Ok(())
}
