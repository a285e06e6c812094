//! The batch job behind `report` and `demo`: every configured run goes through embed → eval → map →
//! figures → galleries and discriminator view (reusing what is cached), and a failed run is recorded in
//! its outcome while the others complete; then every run is compared with its baseline.

use super::embed::Event;
use super::map::{self, MapFiles};
use super::{diagnose, eval, evolution, Workspace};
use crate::config::RunConfig;
use crate::dataset::Pair;
use crate::error::Result;
use crate::layout::{with_ext, Layout};
use crate::metrics::gallery::GalleryParams;
use crate::model::ModelInfo;
use crate::plot;
use crate::report::{RunDiagnosis, RunOutcome, RunResults};

/// Progress of a batch.
#[derive(Debug, Clone)]
pub enum BatchEvent<'a> {
    /// Run `i` of `n` starts.
    RunStart(usize, usize, &'a RunConfig),
    /// An embed event of the current run.
    Embed(Event<'a>),
    /// The run `i` finished: its outcome (done, or failed with the error and its causes).
    RunDone(usize, &'a RunOutcome),
    /// Every run finished; the comparisons with the baselines start.
    Baselines,
}

/// Display name of a run: its `name`, else the model's arch, else the file stem.
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

/// Run every configured run, each with its pair (parsed once, from the run's `pair`); never fails as
/// a whole because one run fails.
pub fn run_all(
    ws: &mut Workspace,
    runs: &[(RunConfig, Pair)],
    on_event: &(dyn Fn(BatchEvent) + Sync),
) -> Vec<RunOutcome> {
    let mut out = Vec::with_capacity(runs.len());
    for (i, (run, pair)) in runs.iter().enumerate() {
        on_event(BatchEvent::RunStart(i, runs.len(), run));
        let r = run_one(ws, run, pair, &|e| on_event(BatchEvent::Embed(e)));
        let outcome = match r {
            Ok(o) => o,
            Err(e) => RunOutcome::failed_with(
                run.clone(),
                &display_name(run, None),
                run.group.as_deref().unwrap_or("forward"),
                &run.pair,
                &e.chain_text(),
            ),
        };
        on_event(BatchEvent::RunDone(i, &outcome));
        out.push(outcome);
    }
    on_event(BatchEvent::Baselines);
    let pairs: Vec<Pair> = runs.iter().map(|(_, p)| p.clone()).collect();
    super::baseline::attach_baselines(ws, &mut out, &pairs, &|e| on_event(BatchEvent::Embed(e)));
    out
}

fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

/// The subtitle of a pair figure: target accuracy and AUROC, when the model has logits.
pub fn scores_subtitle(target: &crate::store::DomainEmbeddings) -> Option<String> {
    map::target_scores(target).map(|(acc, auc)| match auc {
        Some(a) => format!("target accuracy {}% · AUROC {}%", pct(acc), pct(a)),
        None => format!("target accuracy {}%", pct(acc)),
    })
}

fn run_one(
    ws: &mut Workspace,
    run: &RunConfig,
    pair: &Pair,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<RunOutcome> {
    let model = ws.settings.model(&run.model).load()?;
    if let Some(n) = crate::settings::contract_defaults_notice(&model) {
        on_event(Event::Note(&n));
    }
    let e = ws.embeddings(&model, std::slice::from_ref(pair), on_event)?;
    let (s, t) = e.pair(pair)?;
    let r = eval::evaluate(
        &e.key.model,
        &e,
        &[(s, t)],
        &ws.settings.metrics,
        &ws.settings.seeds,
    )?;
    eval::write(&ws.layout.metrics(&e.key)?, &r)?;
    let dir = ws.layout.tsne(&e.key)?;
    let files = MapFiles::new(&dir, &e.domains[s], &e.domains[t])?;
    let mp = map::map_pair(
        &e.data[s],
        &e.data[t],
        &files,
        &ws.settings.map,
        &ws.settings.seeds,
    )?;
    let name = display_name(run, Some(&model));
    let split = ws.settings.split;
    map::draw_pair(
        &files,
        &mp,
        &e.data[s].record.class_names,
        &e.domains[s].name,
        &e.domains[t].name,
        format!(
            "{name} · {} → {} · {split}",
            e.domains[s].name, e.domains[t].name
        ),
        scores_subtitle(&e.data[t]),
    )?;
    let mut diagnosis = RunDiagnosis::default();
    let (mut curves_png, mut curves_svg) = (None, None);
    if let Some(c) = &run.curves {
        // A bad training log loses its figure only, with a notice; the run's numbers stand.
        let base = Layout::pair_base(&dir, &e.domains[s], &e.domains[t], "_curves")?;
        let (svg, png) = (with_ext(&base, "svg"), with_ext(&base, "png"));
        let drawn = crate::traininglog::read_curves(c)
            .map_err(crate::Error::from)
            .and_then(|curves| {
                plot::curves_figure(
                    &curves,
                    &format!("{name} · {} training curves", run.pair),
                    &svg,
                    &png,
                )
                .map_err(crate::Error::from)
            });
        match drawn {
            Ok(()) => {
                curves_png = Some(png);
                curves_svg = Some(svg);
            }
            Err(err) => {
                let note = format!(
                    "{name} {}: training curves left out: {}",
                    run.pair,
                    err.chain_text()
                );
                on_event(Event::Note(&note));
                diagnosis.notices.push(note);
            }
        }
    }
    let gallery_params = GalleryParams {
        precision: ws.settings.metrics.precision(),
        k: ws.settings.metrics.neighbours().gallery,
        ..GalleryParams::default()
    };
    match diagnose::gallery(ws, &e, (s, t), &model.preprocess, &gallery_params) {
        Ok(g) => diagnosis.gallery = Some(g),
        Err(err) => diagnosis
            .notices
            .push(format!("gallery: {}", err.chain_text())),
    }
    let mut checkpoints = Vec::new();
    let evolution_png = if run.checkpoints.is_empty() {
        None
    } else {
        let files = evolution::checkpoint_files(&run.checkpoints)?;
        checkpoints = files
            .iter()
            .map(|p| ws.settings.model(p).load())
            .collect::<Result<Vec<_>>>()?;
        evolution::order_checkpoints(&mut checkpoints)?;
        let base = evolution::evolution(ws, &checkpoints, Some(&model), pair, &name, 5, on_event)?;
        Some(with_ext(&base, "png"))
    };
    let disc_title = format!(
        "{name} · {} → {} · {split}: domain discriminator",
        e.domains[s].name, e.domains[t].name
    );
    diagnosis.discriminator =
        diagnose::discriminator(ws, &e, (s, t), &checkpoints, &disc_title, on_event)?;
    let explore_params = crate::explore::ExploreParams {
        seed: ws.settings.seeds.map,
        ..Default::default()
    };
    let page = super::explore::explore(ws, &model, pair, &name, &explore_params, on_event)?;
    Ok(RunOutcome::done(
        run.clone(),
        &name,
        run.group.as_deref().unwrap_or("forward"),
        &Pair::of(&e.domains[s], &e.domains[t]).to_string(),
        RunResults {
            model_sha256: model.sha256.clone(),
            embedding: model.embedding_description(),
            eval: r,
            source: e.domains[s].name.clone(),
            target: e.domains[t].name.clone(),
            tsne_png: Some(files.with("png")),
            tsne_svg: Some(files.with("svg")),
            map_npz: Some(files.with("npz")),
            versus_png: None,
            versus_svg: None,
            evolution_png,
            curves_png,
            curves_svg,
            explore_html: Some(page.path),
            diagnosis,
        },
    ))
}
