//! `dannscope tsne`: the joint map of a pair, or the training evolution across checkpoints.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use dannscope::batch::{self, BatchSettings};
use dannscope::dataset::{parse_pair, Domain};
use dannscope::engine::{Device, EngineKind, EngineOptions};
use dannscope::jobs::{self, MapFiles, MapSettings};
use dannscope::metrics::eval;
use dannscope::model::{ModelInfo, OutputOverrides};
use dannscope::project::gather_embeddings;
use dannscope::tsne::{Init, TsneEngine, TsneParams};

use super::common::Reporter;
use super::Common;

/// Arguments of `tsne`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    common: Common,
    /// Source-target pair, e.g. R-P. Default: the model's dannscope.source / dannscope.target.
    #[arg(long, value_name = "S-T")]
    pair: Option<String>,
    /// Model file (repeat it, or give a folder of checkpoints, for the training-evolution view).
    #[arg(long = "model", value_name = "FILE|DIR")]
    models: Vec<PathBuf>,
    /// Split whose embeddings are mapped.
    #[arg(long)]
    split: Option<String>,
    /// Perplexity (reduced for small sets, with a notice).
    #[arg(long, default_value_t = 30.0)]
    perplexity: f64,
    /// Iterations after the 250 early-exaggeration iterations.
    #[arg(long, default_value_t = 500)]
    iterations: usize,
    /// Seed of the initial layout and of subsampling.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Initial layout: pca or random.
    #[arg(long, default_value = "pca", value_parser = ["pca", "random"])]
    init: String,
    /// Keep at most this many points (stratified by domain and class, seeded).
    #[arg(long)]
    max_points: Option<usize>,
    /// t-SNE engine: native (reproducible, default) or linfa (linfa-tsne; not reproducible).
    #[arg(long, default_value = "native", value_parser = ["native", "linfa"])]
    engine: String,
    /// Columns of the evolution grid.
    #[arg(long, default_value_t = 5)]
    cols: usize,
    /// Inference engine used when embeddings have to be computed: auto, ort, tract.
    #[arg(long, default_value = "auto")]
    embed_engine: String,
    /// Device for inference: auto, cuda, cpu.
    #[arg(long, default_value = "auto")]
    device: String,
}

fn engine_options(a: &Args) -> Result<EngineOptions> {
    Ok(EngineOptions {
        kind: EngineKind::parse(&a.embed_engine).with_context(|| {
            format!(
                "--embed-engine \"{}\": expected auto, ort or tract",
                a.embed_engine
            )
        })?,
        device: Device::parse(&a.device)
            .with_context(|| format!("--device \"{}\": expected auto, cuda or cpu", a.device))?,
        ..EngineOptions::default()
    })
}

fn settings(a: &Args) -> Result<MapSettings> {
    let params = TsneParams::new()
        .perplexity(a.perplexity)
        .n_iter(a.iterations)
        .seed(a.seed)
        .init(if a.init == "random" {
            Init::Random
        } else {
            Init::Pca
        })
        .engine(if a.engine == "linfa" {
            TsneEngine::Linfa
        } else {
            TsneEngine::Native
        });
    params.check().map_err(|e| anyhow::anyhow!("{e}"))?;
    if a.max_points.is_some_and(|m| m < 5) {
        bail!("--max-points must be at least 5");
    }
    Ok(MapSettings {
        params,
        max_points: a.max_points,
    })
}

/// Model files: folders expand to their .onnx files.
fn model_files(a: &Args, cfg_model: Option<PathBuf>) -> Result<Vec<PathBuf>> {
    let given = if a.models.is_empty() {
        cfg_model.into_iter().collect()
    } else {
        a.models.clone()
    };
    let mut out = Vec::new();
    for m in given {
        if m.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(&m)
                .with_context(|| format!("cannot list {}", m.display()))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.extension()
                        .is_some_and(|x| x.eq_ignore_ascii_case("onnx"))
                })
                .collect();
            v.sort();
            if v.is_empty() {
                bail!("{}: no .onnx files in this folder", m.display());
            }
            out.extend(v);
        } else {
            out.push(m);
        }
    }
    if out.is_empty() {
        bail!("no model: give --model FILE (or `model = \"FILE\"` in dannscope.toml)");
    }
    Ok(out)
}

fn pick_pair(
    domains: &[Domain],
    pair: &Option<String>,
    model: &ModelInfo,
) -> Result<(usize, usize)> {
    match pair {
        Some(p) => Ok(parse_pair(domains, p)?),
        None => match (&model.source, &model.target) {
            (Some(s), Some(t)) => Ok(parse_pair(domains, &format!("{s}-{t}"))?),
            _ => bail!(
                "no --pair given and {} names no dannscope.source/target",
                model.path.display()
            ),
        },
    }
}

fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

pub fn run(a: Args) -> Result<()> {
    let cfg = a.common.config()?;
    let split = a
        .split
        .clone()
        .or_else(|| cfg.split.clone())
        .unwrap_or_else(|| "valid".into());
    let files = model_files(&a, cfg.model.clone())?;
    let mut models = files
        .iter()
        .map(|p| {
            ModelInfo::load(p, &OutputOverrides::default())
                .with_context(|| format!("cannot use the model {}", p.display()))
        })
        .collect::<Result<Vec<_>>>()?;
    let set = settings(&a)?;
    let opts = a.common.project_options(&cfg)?;
    let eng = engine_options(&a)?;
    let rep = Reporter::new();
    if models.len() == 1 {
        let model = &models[0];
        let (domains, data, notices) =
            gather_embeddings(&opts, model, &split, &eng, &|e| rep.event(e))?;
        notices.iter().for_each(|n| eprintln!("note: {n}"));
        let (s, t) = pick_pair(&domains, &a.pair, model)?;
        let dir = jobs::tsne_dir(&opts.out, &model.stem, &split);
        let mf = MapFiles::new(&dir, &domains[s], &domains[t]);
        let m = jobs::map_pair(&data[s], &data[t], &mf, &set)?;
        m.notices.iter().for_each(|n| eprintln!("note: {n}"));
        let title = format!(
            "{} · {} → {} · {split}",
            model.arch, domains[s].name, domains[t].name
        );
        let subtitle = eval_subtitle(&opts.out, model, &split, &domains[t].name);
        jobs::draw_pair(
            &mf,
            &m,
            &data[s].record.class_names,
            &domains[s].name,
            &domains[t].name,
            title,
            subtitle,
        )?;
        println!(
            "{} {} points (KL {:.3}, perplexity {:.1}) → {}.{{svg,png,npz,csv}}",
            if m.cached {
                "reused the map of"
            } else {
                "mapped"
            },
            m.coords.nrows(),
            m.kl_divergence,
            m.perplexity,
            mf.base.display()
        );
        return Ok(());
    }
    // Training evolution: checkpoints ordered by dannscope.epoch, then file name.
    let pair = match &a.pair {
        Some(p) => p.clone(),
        None => match (&models[0].source, &models[0].target) {
            (Some(s), Some(t)) => format!("{s}-{t}"),
            _ => bail!(
                "no --pair given and {} names no dannscope.source/target",
                models[0].path.display()
            ),
        },
    };
    models.sort_by(|x, y| (x.epoch, &x.path).cmp(&(y.epoch, &y.path)));
    let set = BatchSettings {
        project: opts,
        split,
        engine: eng,
        map: set,
        classification: Default::default(),
        cohesion: Default::default(),
    };
    let name = models[0].arch.clone();
    let base = batch::evolution(&files, &pair, &set, &name, a.cols, &|e| rep.event(e))?;
    println!(
        "drew {} epochs → {}.{{svg,png,gif}}",
        models.len(),
        base.display()
    );
    Ok(())
}

fn eval_subtitle(out: &Path, model: &ModelInfo, split: &str, target: &str) -> Option<String> {
    let r = eval::read(&eval::metrics_dir(out, &model.stem, split)).ok()?;
    if r.model_sha256 != model.sha256 {
        return None;
    }
    let c = r.domain(target)?.classification.as_ref()?;
    Some(match c.auroc {
        Some(auc) => format!("target accuracy {}% · AUROC {}%", pct(c.accuracy), pct(auc)),
        None => format!("target accuracy {}%", pct(c.accuracy)),
    })
}
