//! `dannscope tsne`: the joint map of a pair, or the training evolution across checkpoints.

use std::path::PathBuf;

use crate::dataset::Pair;
use crate::pipeline::batch::scores_subtitle;
use crate::pipeline::evolution;
use crate::pipeline::map::{self, MapFiles};
use crate::pipeline::placed;
use anyhow::Result;
use clap::Args as ClapArgs;

use super::args::{EmbeddingArgs, MapArgs};
use super::common;
use super::console;
use super::progress::Reporter;

/// Arguments of `tsne`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    run: EmbeddingArgs,
    #[command(flatten)]
    map: MapArgs,
    /// Source-target pair, e.g. R-P. Default: the model's dannscope.source / dannscope.target.
    #[arg(long, value_name = "S-T")]
    pair: Option<Pair>,
    /// Model file (repeat it, or give a folder of checkpoints, for the training-evolution view).
    #[arg(long = "model", value_name = "FILE|DIR")]
    models: Vec<PathBuf>,
    /// Columns of the evolution grid.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    cols: u32,
}

pub fn run(a: Args) -> Result<()> {
    let (cfg, settings) = a.run.flags().with_map(&a.map).resolve()?;
    let given = if a.models.is_empty() {
        vec![common::model_path(None, &cfg)?]
    } else {
        a.models.clone()
    };
    let (models, pair, mut ws) = common::checkpoints_workspace(settings, &given, &a.pair)?;
    // Several checkpoints: one line for their embed work (each domain with -v).
    let rep = if models.len() > 1 {
        Reporter::for_batch()
    } else {
        Reporter::new()
    };
    if models.len() == 1 {
        let model = &models[0];
        let e = ws.embeddings(model, std::slice::from_ref(&pair), &|ev| rep.event(ev))?;
        let (s, t) = e.pair(&pair)?;
        let dir = ws.layout.tsne(&e.key)?;
        let mf = MapFiles::new(&dir, &e.domains[s], &e.domains[t])?;
        let m = map::map_pair(
            &e.data[s],
            &e.data[t],
            &mf,
            &ws.settings.map,
            &ws.settings.seeds,
        )?;
        console::notes(&m.notices);
        let title = format!(
            "{} · {} → {} · {}",
            model.arch, e.domains[s].name, e.domains[t].name, ws.settings.split
        );
        map::draw_pair(
            &mf,
            &m,
            &e.data[s].record.class_names,
            &e.domains[s].name,
            &e.domains[t].name,
            title,
            scores_subtitle(&e.data[t]),
        )?;
        console::out(format!(
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
        ));
        if ws.settings.map.place_target() {
            let pf = placed::placed_files(&dir, &e.domains[s], &e.domains[t])?;
            let pm = placed::place_pair(
                &e.data[s],
                &e.data[t],
                &pf,
                &ws.settings.map,
                &ws.settings.seeds,
            )?;
            console::notes(&pm.notices);
            map::draw_pair(
                &pf,
                &pm,
                &e.data[s].record.class_names,
                &e.domains[s].name,
                &e.domains[t].name,
                format!(
                    "{} · {} → {} · {} · {}",
                    model.arch,
                    e.domains[s].name,
                    e.domains[t].name,
                    ws.settings.split,
                    placed::PLACED_TITLE
                ),
                Some(placed::PLACED_CAVEAT.to_string()),
            )?;
            console::out(format!(
                "placed the target on the source-only map → {}.{{svg,png,npz,csv}}",
                pf.base.display()
            ));
        }
        console::next(format!(
            "dannscope explore --model {} --pair {} (every dot an image)",
            common::shell_word(&model.path.display().to_string()),
            common::shell_word(&pair.to_string())
        ));
        return Ok(());
    }
    let name = models[0].arch.clone();
    let base = evolution::evolution(
        &mut ws,
        &models,
        None,
        &pair,
        &name,
        a.cols as usize,
        &|e| rep.event(e),
    )?;
    rep.checkpoints_line(models.len());
    console::out(format!(
        "drew {} → {}.{{svg,png,gif}}",
        console::count(models.len(), "epoch"),
        base.display()
    ));
    Ok(())
}
