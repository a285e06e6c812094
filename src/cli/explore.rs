//! `dannscope explore`: one offline HTML map of a pair in which every dot is an image.

use std::path::PathBuf;

use crate::dataset::Pair;
use crate::explore::ExploreParams;
use crate::pipeline::explore;
use anyhow::Result;
use clap::Args as ClapArgs;

use super::args::{EmbeddingArgs, MapArgs};
use super::common;
use super::console;
use super::progress::Reporter;

/// Arguments of `explore`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(flatten)]
    run: EmbeddingArgs,
    #[command(flatten)]
    map: MapArgs,
    /// ONNX model following the dannscope model contract.
    #[arg(long, value_name = "FILE")]
    model: Option<PathBuf>,
    /// Source-target pair, e.g. R-P. Default: the model's dannscope.source / dannscope.target.
    #[arg(long, value_name = "S-T")]
    pair: Option<Pair>,
    /// Nearest neighbours in the embedding space listed per domain when a point is clicked (not the
    /// t-SNE's neighbours: those are `--neighbours`).
    #[arg(long = "knn", value_name = "K", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=100))]
    knn: u32,
    /// Longest side of a thumbnail, in pixels.
    #[arg(long, default_value_t = 80, value_parser = clap::value_parser!(u32).range(16..=255))]
    thumb_px: u32,
    /// Most thumbnails in the file; above it a seeded subset stratified by domain × class gets one.
    #[arg(long, default_value_t = 20_000)]
    max_thumbnails: usize,
}

pub fn run(a: Args) -> Result<()> {
    let (cfg, settings) = a.run.flags().with_map(&a.map).resolve()?;
    let path = common::model_path(a.model.as_deref(), &cfg)?;
    let model = common::load_model(&settings, &path)?;
    let (pair, from_flag) = common::pick_pair(&a.pair, &model)?;
    let params = ExploreParams {
        k: a.knn as usize,
        thumb_px: a.thumb_px,
        max_thumbnails: a.max_thumbnails,
        seed: settings.seeds.map,
        ..ExploreParams::default()
    };
    let mut ws = common::open_workspace(settings)?;
    common::check_pairs(&ws, std::slice::from_ref(&pair), from_flag)?;
    ws.check_model(&model)?;
    common::workspace_notes(&ws);
    let rep = Reporter::new();
    let name = model.arch.clone();
    let o = explore::explore(&mut ws, &model, &pair, &name, &params, &|e| rep.event(e))?;
    console::out(format!(
        "explore page: {}, {}, {:.1} MB → {}",
        console::count(o.n_points, "point"),
        console::count(o.n_thumbnails, "thumbnail"),
        o.bytes as f64 / 1e6,
        o.path.display()
    ));
    console::next(format!(
        "open {} in a browser (it works offline)",
        o.path.display()
    ));
    Ok(())
}
