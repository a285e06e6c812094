//! `dannscope report` and `dannscope demo`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use dannscope::batch::{self, BatchEvent, BatchSettings};
use dannscope::config::RunConfig;
use dannscope::engine::{Device, EngineKind, EngineOptions};
use dannscope::jobs::MapSettings;
use dannscope::metrics::{ClassificationParams, CohesionParams};
use dannscope::project::ProjectOptions;
use dannscope::report::{write_report, ReportInput};
use dannscope::tsne::TsneParams;

use super::common::Reporter;
use super::Common;

/// Options shared by `report` and `demo`.
#[derive(Debug, Clone, ClapArgs)]
pub struct BatchArgs {
    /// Split evaluated and mapped.
    #[arg(long)]
    split: Option<String>,
    /// Report title.
    #[arg(long)]
    title: Option<String>,
    /// Inference engine: auto (ONNX Runtime when found, else tract), ort, tract.
    #[arg(long, default_value = "auto")]
    embed_engine: String,
    /// Device for inference: auto, cuda, cpu.
    #[arg(long, default_value = "auto")]
    device: String,
    /// Bootstrap resamples for the 95% intervals.
    #[arg(long, default_value_t = 1000)]
    bootstrap: usize,
    /// Seed of the t-SNE maps, bootstrap and subsamples.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// t-SNE perplexity.
    #[arg(long, default_value_t = 30.0)]
    perplexity: f64,
}

/// Arguments of `report`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    batch: BatchArgs,
}

/// Arguments of `demo`.
#[derive(Debug, ClapArgs)]
pub struct DemoArgs {
    /// Output folder of the demo (data, models, embeddings, metrics, maps, report).
    #[arg(long, default_value = "outputs/demo")]
    out: PathBuf,
    #[command(flatten)]
    batch: BatchArgs,
}

fn settings(b: &BatchArgs, project: ProjectOptions, split: String) -> Result<BatchSettings> {
    let params = TsneParams::new().perplexity(b.perplexity).seed(b.seed);
    params.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(BatchSettings {
        project,
        split,
        engine: EngineOptions {
            kind: EngineKind::parse(&b.embed_engine).with_context(|| {
                format!(
                    "--embed-engine \"{}\": expected auto, ort or tract",
                    b.embed_engine
                )
            })?,
            device: Device::parse(&b.device).with_context(|| {
                format!("--device \"{}\": expected auto, cuda or cpu", b.device)
            })?,
            ..EngineOptions::default()
        },
        map: MapSettings {
            params,
            max_points: None,
        },
        classification: ClassificationParams::default()
            .n_resamples(b.bootstrap)
            .seed(b.seed),
        cohesion: CohesionParams::default().seed(b.seed),
    })
}

fn run_batch(runs: &[RunConfig], set: &BatchSettings, title: String) -> Result<PathBuf> {
    let rep = Reporter::new();
    let outcomes = batch::run_all(runs, set, &|e| match e {
        BatchEvent::RunStart(i, n, pair) => {
            eprintln!("[{}/{n}] {} {pair}", i + 1, runs[i].model.display())
        }
        BatchEvent::Embed(ev) => rep.event(ev),
        BatchEvent::RunDone(_, Some(err)) => eprintln!("  failed: {err}"),
        BatchEvent::RunDone(_, None) => {}
    });
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    let p = &set.project;
    let mut settings = vec![
        (
            "data".to_string(),
            p.data
                .as_ref()
                .map(|d| d.display().to_string())
                .unwrap_or_else(|| "(stored embeddings)".into()),
        ),
        (
            "manifest".to_string(),
            p.manifest
                .as_ref()
                .map(|m| m.display().to_string())
                .unwrap_or_else(|| {
                    format!("made under {}/manifests (seed {})", p.out.display(), p.seed)
                }),
        ),
        ("split".to_string(), set.split.clone()),
        (
            "t-SNE".to_string(),
            format!(
                "native engine, perplexity {}, {} + {} iterations, seed {}",
                set.map.params.perplexity,
                set.map.params.early_exaggeration_iter,
                set.map.params.n_iter,
                set.map.params.seed
            ),
        ),
        (
            "bootstrap".to_string(),
            format!(
                "{} resamples, 95% percentile intervals, seed {}",
                set.classification.n_resamples, set.classification.seed
            ),
        ),
        (
            "dannscope".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ];
    for o in &outcomes {
        if let Some(sha) = &o.model_sha256 {
            settings.push((
                format!("model {}", o.run.model.display()),
                format!("sha256 {sha}"),
            ));
        }
    }
    let input = ReportInput {
        title,
        split: set.split.clone(),
        runs: outcomes,
        settings,
    };
    let dir = p.out.join("report");
    let files = write_report(&dir, &input)?;
    if failed > 0 {
        eprintln!(
            "{failed} of {} runs failed; they are marked in the report",
            runs.len()
        );
    }
    Ok(files.index_html)
}

pub fn run(a: Args) -> Result<()> {
    let cfg = a.common.config()?;
    if cfg.runs.is_empty() {
        bail!("no runs to report: add [[run]] tables (model, pair, name, group) to dannscope.toml or the file given with --config");
    }
    let split = a
        .batch
        .split
        .clone()
        .or_else(|| cfg.split.clone())
        .unwrap_or_else(|| "valid".into());
    let set = settings(&a.batch, a.common.project_options(&cfg)?, split)?;
    let title = a
        .batch
        .title
        .clone()
        .or_else(|| cfg.title.clone())
        .unwrap_or_else(|| "dannscope report".into());
    let index = run_batch(&cfg.runs, &set, title)?;
    println!("report: {}", index.display());
    Ok(())
}

pub fn demo(a: DemoArgs) -> Result<()> {
    let t0 = std::time::Instant::now();
    let b = dannscope::demo::bundle::install(&a.out).context("cannot set up the demo")?;
    eprintln!(
        "demo data {} {} ({:.1} s)",
        if b.generated {
            "generated at"
        } else {
            "reused from"
        },
        b.data.display(),
        t0.elapsed().as_secs_f64()
    );
    let project = ProjectOptions {
        data: Some(b.data.clone()),
        manifest: Some(b.manifest.clone()),
        out: a.out.clone(),
        ..ProjectOptions::default()
    };
    let split = a.batch.split.clone().unwrap_or_else(|| "valid".into());
    let set = settings(&a.batch, project, split)?;
    let title = a
        .batch
        .title
        .clone()
        .unwrap_or_else(|| "dannscope demo: DANN on procedurally drawn shapes".into());
    let index = run_batch(&b.runs, &set, title)?;
    println!(
        "demo report ({:.0} s): {}",
        t0.elapsed().as_secs_f64(),
        index.display()
    );
    Ok(())
}
