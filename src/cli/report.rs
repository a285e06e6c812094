//! `dannscope report` and `dannscope demo`.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use dannscope::config::RunConfig;
use dannscope::pipeline::batch::{self, BatchEvent};
use dannscope::pipeline::Workspace;
use dannscope::report::{write_report, ReportInput};
use dannscope::settings::{Pair, Settings};

use super::args::{EngineArgs, MapArgs, MetricArgs, ProjectArgs, SeedArgs, SplitArgs};
use super::common::{self, EXIT_OK, EXIT_RUNS_FAILED};
use super::progress::Reporter;
use super::resolve::{self, Flags};

/// Options shared by `report` and `demo`.
#[derive(Debug, Clone, ClapArgs)]
pub struct BatchArgs {
    #[command(flatten)]
    seeds: SeedArgs,
    #[command(flatten)]
    split: SplitArgs,
    #[command(flatten)]
    engine: EngineArgs,
    #[command(flatten)]
    map: MapArgs,
    #[command(flatten)]
    metrics: MetricArgs,
    /// Report title.
    #[arg(long)]
    title: Option<String>,
}

impl BatchArgs {
    fn flags<'a>(&'a self, project: Option<&'a ProjectArgs>) -> Flags<'a> {
        Flags {
            project,
            seeds: Some(&self.seeds),
            split: self.split.split,
            engine: Some(&self.engine),
            map: Some(&self.map),
            metrics: Some(&self.metrics),
            shard: None,
        }
    }
}

/// Arguments of `report`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    project: ProjectArgs,
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

/// Settings shown in the report.
fn shown_settings(s: &Settings) -> Vec<(String, String)> {
    let p = &s.project;
    let t = s.map.params();
    let c = s.metrics.classification();
    vec![
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
        ("split".to_string(), s.split.to_string()),
        (
            "t-SNE".to_string(),
            format!(
                "native engine, perplexity {}, {} + {} iterations, seed {}",
                t.perplexity, t.early_exaggeration_iter, t.n_iter, t.seed
            ),
        ),
        (
            "bootstrap".to_string(),
            format!(
                "{} resamples, 95% percentile intervals, seed {}",
                c.n_resamples, c.seed
            ),
        ),
        (
            "dannscope".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ]
}

/// Run the batch and write the report; the exit status says whether every run succeeded.
fn run_batch(settings: Settings, runs: &[RunConfig], title: String) -> Result<u8> {
    // Every run's pair is checked before any work.
    let pairs = runs
        .iter()
        .map(|r| {
            r.pair
                .parse::<Pair>()
                .with_context(|| format!("run {}", r.model.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut ws = Workspace::open(settings).context("cannot read the dataset")?;
    common::notes(ws.notices());
    ws.check_pairs(&pairs)?;
    let rep = Reporter::new();
    let outcomes = batch::run_all(&mut ws, runs, &|e| match e {
        BatchEvent::RunStart(i, n, run) => {
            eprintln!("[{}/{n}] {} {}", i + 1, run.model.display(), run.pair)
        }
        BatchEvent::Embed(ev) => rep.event(ev),
        BatchEvent::RunDone(_, Some(err)) => eprintln!("  failed: {err}"),
        BatchEvent::RunDone(_, None) => {}
    });
    let mut settings = shown_settings(&ws.settings);
    for o in &outcomes {
        if let Some(sha) = o.model_sha256() {
            settings.push((
                format!("model {}", o.run.model.display()),
                format!("sha256 {sha}"),
            ));
        }
    }
    let failed: Vec<String> = outcomes
        .iter()
        .filter(|o| o.failed())
        .map(|o| format!("{} {}", o.name, o.pair))
        .collect();
    let input = ReportInput {
        title,
        split: ws.settings.split.to_string(),
        runs: outcomes,
        settings,
    };
    let files = write_report(&ws.layout.report(), &input)?;
    println!("report: {}", files.index_html.display());
    if failed.is_empty() {
        Ok(EXIT_OK)
    } else {
        eprintln!(
            "error: {} of {} runs failed (marked in the report): {}",
            failed.len(),
            runs.len(),
            failed.join("; ")
        );
        Ok(EXIT_RUNS_FAILED)
    }
}

pub fn run(a: Args) -> Result<u8> {
    let cfg = resolve::config(Some(&a.project))?;
    if cfg.runs.is_empty() {
        bail!("no runs to report: add [[run]] tables (model, pair, name, group) to dannscope.toml or the file given with --config");
    }
    let settings = resolve::settings(&a.batch.flags(Some(&a.project)), &cfg)?;
    let title = a
        .batch
        .title
        .clone()
        .or_else(|| cfg.title.clone())
        .unwrap_or_else(|| "dannscope report".into());
    run_batch(settings, &cfg.runs, title)
}

pub fn demo(a: DemoArgs) -> Result<u8> {
    let t0 = std::time::Instant::now();
    // Settings first: a bad flag fails before the demo data is drawn.
    let mut settings = resolve::settings(&a.batch.flags(None), &Default::default())?;
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
    settings.project.data = Some(b.data.clone());
    settings.project.manifest = Some(b.manifest.clone());
    settings.project.out = a.out.clone();
    let title = a
        .batch
        .title
        .clone()
        .unwrap_or_else(|| "dannscope demo: DANN on procedurally drawn shapes".into());
    let code = run_batch(settings, &b.runs, title)?;
    eprintln!("demo finished in {:.0} s", t0.elapsed().as_secs_f64());
    Ok(code)
}
