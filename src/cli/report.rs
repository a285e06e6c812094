//! `dannscope report` and `dannscope demo`.

use std::path::PathBuf;

use crate::config::RunConfig;
use crate::dataset::Pair;
use crate::layout::Layout;
use crate::pipeline::batch::{self, BatchEvent};
use crate::report::{write_report, ReportInput, RunOutcome};
use crate::settings::Settings;
use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;

use super::args::{EngineArgs, MapArgs, MetricArgs, ProjectArgs, SeedArgs, SplitArgs};
use super::common::{self, BadSetting, EXIT_OK, EXIT_RUNS_FAILED};
use super::console;
use super::progress::{Reporter, Tally};
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
    let t = s.map.params(&s.seeds);
    let c = s.metrics.classification(&s.seeds);
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
                    format!(
                        "made under {}/manifests (seed {})",
                        p.out.display(),
                        s.seeds.split
                    )
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

/// The console line of a finished batch run: its accuracies, or why it failed, and what its embed work
/// did.
fn run_line(i: usize, n: usize, o: &RunOutcome, t: Tally) -> String {
    let head = format!("[{}/{n}] {} {}", i + 1, o.name, o.pair);
    if let Some(err) = o.error() {
        return format!("{head}: failed: {err}");
    }
    let acc = |name: &str| {
        o.domain(name)
            .and_then(|d| d.classification.as_ref())
            .map(|c| format!("{:.2} %", 100.0 * c.accuracy))
            .unwrap_or_else(|| "n/a".into())
    };
    let mut work = Vec::new();
    if t.embedded > 0 {
        let of = if t.models > 1 {
            format!(" of {}", console::count(t.models, "model"))
        } else {
            String::new()
        };
        work.push(format!(
            "embedded {}{of}",
            console::count(t.images, "image")
        ));
    }
    if t.skipped > 0 {
        work.push(format!("{} skipped", t.skipped));
    }
    if t.embedded == 0 && t.reused > 0 {
        work.push("embeddings reused".into());
    }
    format!(
        "{head}: source accuracy {}, target {}{}",
        acc(o.source()),
        acc(o.target()),
        if work.is_empty() {
            String::new()
        } else {
            format!(" ({})", work.join(", "))
        }
    )
}

/// Run the batch and write the report; the exit status says whether every run succeeded. `next` is
/// what the summary suggests running next.
fn run_batch(
    settings: Settings,
    runs: &[RunConfig],
    title: String,
    config: Option<&std::path::Path>,
    next: &str,
) -> Result<u8> {
    let origin = |r: &RunConfig| {
        format!(
            "[[run]] pair = \"{}\" (model {}) in {}",
            r.pair,
            r.model.display(),
            config
                .map(|c| c.display().to_string())
                .unwrap_or_else(|| crate::config::FILE_NAME.into())
        )
    };
    // Every run's pair is checked before any work.
    let pairs = runs
        .iter()
        .map(|r| {
            r.pair
                .parse::<Pair>()
                .map_err(|e| BadSetting::new(origin(r), e.to_string()).into())
        })
        .collect::<Result<Vec<_>>>()?;
    let ws_settings = settings;
    let mut ws = common::open_workspace(ws_settings)?;
    for (r, p) in runs.iter().zip(&pairs) {
        ws.check_pairs(std::slice::from_ref(p))
            .map_err(|e| BadSetting::new(origin(r), e.chain_text()))?;
    }
    common::workspace_notes(&ws);
    let rep = Reporter::for_batch();
    let n = runs.len();
    let skipped = std::sync::atomic::AtomicUsize::new(0);
    let planned: Vec<(RunConfig, Pair)> = runs.iter().cloned().zip(pairs).collect();
    let outcomes = batch::run_all(&mut ws, &planned, &|e| match e {
        BatchEvent::RunStart(i, n, run) => console::detail(format!(
            "[{}/{n}] {} {}",
            i + 1,
            run.model.display(),
            run.pair
        )),
        BatchEvent::Embed(ev) => rep.event(ev),
        BatchEvent::RunDone(i, o) => {
            let t = rep.take_tally();
            skipped.fetch_add(t.skipped, std::sync::atomic::Ordering::Relaxed);
            let line = run_line(i, n, o, t);
            if o.failed() {
                console::err_line(line);
            } else {
                console::info(line);
            }
        }
        BatchEvent::Baselines => {
            console::detail("comparing each run with its source-only baseline");
        }
    });
    // Each model's SHA-256 is shown once, with its run (section facts, the models table).
    let settings = shown_settings(&ws.settings);
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
    console::out(format!("report: {}", files.index_html.display()));
    let t = rep.take_tally();
    let skipped = skipped.into_inner() + t.skipped;
    if skipped > 0 {
        console::info(format!(
            "skipped {} (unreadable; listed per domain in the embeddings' .json files)",
            console::count(skipped, "image")
        ));
    }
    console::next(next);
    if failed.is_empty() {
        Ok(EXIT_OK)
    } else {
        console::err_line(format!(
            "error: {} of {} failed (marked in the report): {}",
            failed.len(),
            console::count(runs.len(), "run"),
            failed.join("; ")
        ));
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
    let next =
        format!(
        "open {} in a browser; report.md, results.csv, tables.tex and report.pptx are beside it",
        Layout::new(&settings.project.out).report().join("index.html").display()
    );
    run_batch(settings, &cfg.runs, title, cfg.path.as_deref(), &next)
}

pub fn demo(a: DemoArgs) -> Result<u8> {
    let t0 = std::time::Instant::now();
    // Settings first: a bad flag fails before the demo data is drawn.
    let mut settings = resolve::settings(&a.batch.flags(None), &Default::default())?;
    if a.out.exists() && !a.out.is_dir() {
        anyhow::bail!(
            "--out {}: is a file; the demo writes a folder there (give a new or existing folder)",
            a.out.display()
        );
    }
    let b = crate::demo::bundle::install(&a.out).context("cannot set up the demo")?;
    console::info(format!(
        "demo data {} {} ({:.1} s)",
        if b.generated {
            "generated at"
        } else {
            "reused from"
        },
        b.data.display(),
        t0.elapsed().as_secs_f64()
    ));
    let title = a
        .batch
        .title
        .clone()
        .unwrap_or_else(|| "dannscope demo: DANN on procedurally drawn shapes".into());
    let config = b
        .write_config(&title, settings.split.as_str())
        .context("cannot write the demo's dannscope.toml")?;
    console::info(format!(
        "split manifest: {} (the demo data's split; the models were trained on a separate draw)",
        b.manifest.display()
    ));
    settings.project.data = Some(b.data.clone());
    settings.project.manifest = Some(b.manifest.clone());
    settings.project.out = a.out.clone();
    let next = format!(
        "open {}; `dannscope report --config {}` redoes it, and commands given --data {} use the demo's split",
        Layout::new(&a.out).report().join("index.html").display(),
        config.display(),
        b.data.display()
    );
    let code = run_batch(settings, &b.runs, title, Some(&config), &next)?;
    console::info(format!(
        "demo finished in {:.0} s; its settings: {}",
        t0.elapsed().as_secs_f64(),
        config.display()
    ));
    let pair = crate::demo::bundle::HEADLINE_PAIR;
    let cd = format!("cd {} && dannscope", a.out.display());
    console::next(format!(
        "{cd} compare   (DANN {pair} against its source-only baseline: McNemar, images fixed and broken)"
    ));
    console::next(format!(
        "{cd} explore   (the {pair} map in which every dot is an image)"
    ));
    console::next(format!(
        "{cd} select    (label-free checkpoint selection over the {pair} epochs)"
    ));
    Ok(code)
}
