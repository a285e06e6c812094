//! The batch job behind `report` and `demo`: every configured run goes through embed → eval → tsne →
//! figures (reusing what is cached), and a failed run is recorded in its outcome while the others
//! complete.

use std::path::{Path, PathBuf};

use crate::config::RunConfig;
use crate::dataset::parse_pair;
use crate::embed::Event;
use crate::engine::EngineOptions;
use crate::error::{Error, Result};
use crate::jobs::{self, EpochData, MapFiles, MapSettings};
use crate::metrics::eval::{self, metrics_dir};
use crate::metrics::{ClassificationParams, CohesionParams};
use crate::model::{ModelInfo, OutputOverrides};
use crate::plot::{self, ColorBy, EvolutionStyle};
use crate::project::{gather_embeddings, ProjectOptions};
use crate::report::RunOutcome;

/// Settings of a batch.
#[derive(Debug, Clone)]
pub struct BatchSettings {
    /// Where the data and outputs are.
    pub project: ProjectOptions,
    /// Split evaluated and mapped.
    pub split: String,
    /// Inference engine.
    pub engine: EngineOptions,
    /// t-SNE settings.
    pub map: MapSettings,
    /// Classification settings (bootstrap).
    pub classification: ClassificationParams,
    /// Cohesion settings.
    pub cohesion: CohesionParams,
}

/// Progress of a batch.
#[derive(Debug, Clone)]
pub enum BatchEvent<'a> {
    /// Run `i` of `n` starts.
    RunStart(usize, usize, &'a str),
    /// An embed event of the current run.
    Embed(Event<'a>),
    /// The run finished (with an error when it failed).
    RunDone(usize, Option<&'a str>),
}

/// Display name of a run: its `name`, else the model's arch.
fn display_name(run: &RunConfig, model: Option<&ModelInfo>) -> String {
    run.name.clone().unwrap_or_else(|| {
        model.map(|m| m.arch.clone()).unwrap_or_else(|| {
            run.model
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    })
}

/// Run every configured run; never fails as a whole because one run fails.
pub fn run_all(
    runs: &[RunConfig],
    set: &BatchSettings,
    on_event: &(dyn Fn(BatchEvent) + Sync),
) -> Vec<RunOutcome> {
    let mut out = Vec::with_capacity(runs.len());
    for (i, run) in runs.iter().enumerate() {
        on_event(BatchEvent::RunStart(i, runs.len(), &run.pair));
        let r = run_one(run, set, &|e| on_event(BatchEvent::Embed(e)));
        let outcome = match r {
            Ok(o) => o,
            Err(e) => RunOutcome {
                error: Some(e.to_string()),
                ..RunOutcome::new(
                    run.clone(),
                    &display_name(run, None),
                    run.group.as_deref().unwrap_or("forward"),
                    &run.pair,
                )
            },
        };
        on_event(BatchEvent::RunDone(i, outcome.error.as_deref()));
        out.push(outcome);
    }
    out
}

fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

fn run_one(
    run: &RunConfig,
    set: &BatchSettings,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<RunOutcome> {
    let model = ModelInfo::load(&run.model, &OutputOverrides::default())?;
    let out = &set.project.out;
    let (domains, data, _) =
        gather_embeddings(&set.project, &model, &set.split, &set.engine, on_event)?;
    let (s, t) = parse_pair(&domains, &run.pair)?;
    let r = eval::evaluate(
        &model.stem,
        &set.split,
        &domains,
        &data,
        &[(s, t)],
        &set.classification,
        &set.cohesion,
    )?;
    eval::write(&metrics_dir(out, &model.stem, &set.split), &r)?;
    let dir = jobs::tsne_dir(out, &model.stem, &set.split);
    let files = MapFiles::new(&dir, &domains[s], &domains[t]);
    let map = jobs::map_pair(&data[s], &data[t], &files, &set.map)?;
    let name = display_name(run, Some(&model));
    let subtitle = r
        .domain(&domains[t].name)
        .and_then(|d| d.classification.as_ref())
        .map(|c| match c.auroc {
            Some(a) => format!("target accuracy {}% · AUROC {}%", pct(c.accuracy), pct(a)),
            None => format!("target accuracy {}%", pct(c.accuracy)),
        });
    jobs::draw_pair(
        &files,
        &map,
        &data[s].record.class_names,
        &domains[s].name,
        &domains[t].name,
        format!(
            "{name} · {} → {} · {}",
            domains[s].name, domains[t].name, set.split
        ),
        subtitle,
    )?;
    let (mut curves_png, mut curves_svg) = (None, None);
    if let Some(c) = &run.curves {
        let curves =
            crate::traininglog::read_curves(c).map_err(|e| Error::Invalid(e.to_string()))?;
        let base = dir.join(format!("{}-{}_curves", domains[s].code, domains[t].code));
        let (svg, png) = (base.with_extension("svg"), base.with_extension("png"));
        plot::curves_figure(
            &curves,
            &format!("{name} · {} training curves", run.pair),
            &svg,
            &png,
        )
        .map_err(|e| Error::Invalid(e.to_string()))?;
        curves_png = Some(png);
        curves_svg = Some(svg);
    }
    let evolution_png = if run.checkpoints.is_empty() {
        None
    } else {
        let base = evolution(&run.checkpoints, &run.pair, set, &name, 5, on_event)?;
        Some(with_ext(&base, "png"))
    };
    Ok(RunOutcome {
        run: run.clone(),
        name,
        group: run.group.clone().unwrap_or_else(|| "forward".into()),
        pair: format!("{}-{}", domains[s].code, domains[t].code),
        model_sha256: Some(model.sha256.clone()),
        eval: Some(r),
        source: domains[s].name.clone(),
        target: domains[t].name.clone(),
        tsne_png: Some(files.with("png")),
        tsne_svg: Some(files.with("svg")),
        evolution_png,
        curves_png,
        curves_svg,
        error: None,
    })
}

/// Checkpoint files of a run: files as given, folders expanded to their `.onnx` files.
pub fn checkpoint_files(list: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in list {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| Error::Io {
                    path: p.clone(),
                    source: e,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|x| {
                    x.extension()
                        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
                })
                .collect();
            v.sort();
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// The training-evolution view of a pair across checkpoints (files or folders), ordered by
/// `dannscope.epoch`: one map per epoch, each started from the previous one, drawn as a grid
/// (`cols` columns) and an animated GIF. Returns the base path of `<base>.{svg,png,gif}`.
pub fn evolution(
    checkpoints: &[PathBuf],
    pair: &str,
    set: &BatchSettings,
    name: &str,
    cols: usize,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<PathBuf> {
    let mut models = checkpoint_files(checkpoints)?
        .iter()
        .map(|p| ModelInfo::load(p, &OutputOverrides::default()))
        .collect::<Result<Vec<_>>>()?;
    models.sort_by(|a, b| (a.epoch, &a.path).cmp(&(b.epoch, &b.path)));
    let mut epochs = Vec::new();
    let mut names = None;
    for (k, m) in models.iter().enumerate() {
        let (domains, mut data, _) =
            gather_embeddings(&set.project, m, &set.split, &set.engine, on_event)?;
        let (s, t) = parse_pair(&domains, pair)?;
        let (hi, lo) = (s.max(t), s.min(t));
        let a = data.swap_remove(hi);
        let b = data.swap_remove(lo);
        let (source, target) = if s > t { (a, b) } else { (b, a) };
        let epoch = m.epoch.unwrap_or(k as u32 + 1);
        let title = match jobs::target_scores(&target) {
            Some((acc, Some(auc))) => {
                format!("Epoch {epoch:02} acc {} auroc {}", pct(acc), pct(auc))
            }
            Some((acc, None)) => format!("Epoch {epoch:02} acc {}", pct(acc)),
            None => format!("Epoch {epoch:02}"),
        };
        let dir = jobs::tsne_dir(&set.project.out, &m.stem, &set.split);
        epochs.push(EpochData {
            epoch,
            files: MapFiles::new(&dir, &domains[s], &domains[t]),
            source,
            target,
            title,
        });
        names = Some((domains[s].clone(), domains[t].clone()));
    }
    let (sd, td) = names.ok_or_else(|| Error::Invalid("no checkpoints found".into()))?;
    let style = EvolutionStyle {
        class_names: epochs[0].source.record.class_names.clone(),
        source_name: sd.name.clone(),
        target_name: td.name.clone(),
        title: format!(
            "{name} · {} → {} · {} · training evolution",
            sd.name, td.name, set.split
        ),
        color_by: ColorBy::Class,
    };
    let base = jobs::tsne_dir(&set.project.out, &models[models.len() - 1].stem, &set.split)
        .join(format!("{}-{}_evolution", sd.code, td.code));
    jobs::evolution(&epochs, &set.map, &style, &base, cols)?;
    Ok(base)
}

fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut p = base.as_os_str().to_owned();
    p.push(format!(".{ext}"));
    PathBuf::from(p)
}
