//! The placed view of a pair: a t-SNE map fitted on the source rows only, with the target rows
//! placed into it by [`crate::tsne::transform`] (openTSNE's `transform`).
//!
//! It is an optional second view (`tsne --place-target`), written to `<S>-<T>_placed.{npz,csv,svg,png}`
//! next to the joint map and never replacing it: placement pulls target points toward the source
//! clusters, so it can hide a shift that the joint map shows. The figure's title says so. The view is
//! recomputed on every run (no cache). With `max_points`, the source and the target are each
//! subsampled to at most `max_points / 2` rows (stratified by class, seeded).

use ndarray::Axis;

use crate::error::Result;
use crate::layout::Layout;
use crate::pipeline::map::{write_map, MapFiles, PairMap};
use crate::settings::{MapSettings, Seeds};
use crate::store::DomainEmbeddings;
use crate::tsne::{self, TransformParams};

/// Title of the placed figure (after the model and the pair).
pub const PLACED_TITLE: &str = "target placed on the source map";

/// Subtitle of the placed figure, saying how it differs from the joint map.
pub const PLACED_CAVEAT: &str =
    "placement pulls points toward source clusters; the joint map is the honest view";

/// Files of the placed view: `<dir>/<S>-<T>_placed`.
pub fn placed_files(
    dir: &std::path::Path,
    s: &crate::dataset::Domain,
    t: &crate::dataset::Domain,
) -> Result<MapFiles> {
    Ok(MapFiles {
        base: Layout::pair_base(dir, s, t, "_placed")?,
    })
}

fn rows_of(d: &DomainEmbeddings, cap: Option<usize>, seed: u64) -> Vec<usize> {
    let n = d.embedding.nrows();
    match cap {
        Some(m) if m < n => {
            let strata: Vec<u32> = d.label.iter().map(|&l| l as u32).collect();
            tsne::stratified_subsample(&strata, m, seed)
        }
        _ => (0..n).collect(),
    }
}

/// Fits the source-only map, places the target rows into it and writes the coordinate files.
/// The returned map has the source rows then the target rows, like the joint map. Seeded with
/// `seeds.map`.
pub fn place_pair(
    source: &DomainEmbeddings,
    target: &DomainEmbeddings,
    files: &MapFiles,
    set: &MapSettings,
    seeds: &Seeds,
) -> Result<PairMap> {
    let cap = set.max_points().map(|m| (m / 2).max(5));
    let params = set.params(seeds);
    let seed = params.seed;
    let rs = rows_of(source, cap, seed);
    let rt = rows_of(target, cap, seed);
    let xs = source.embedding.view().select(Axis(0), &rs);
    let xt = target.embedding.view().select(Axis(0), &rt);
    let fit = tsne::fit(xs.view(), &params)?;
    // The target's neighbours are found in the full embedding space (as openTSNE does); the fit
    // may first reduce the source by PCA (`pca_dims`), so its neighbours can differ slightly.
    let placed = tsne::transform(
        xs.view(),
        fit.coords.view(),
        xt.view(),
        &TransformParams::default(),
    )?;
    let coords = ndarray::concatenate(Axis(0), &[fit.coords.view(), placed.coords.view()])
        .map_err(|e| crate::error::Error::Invalid(format!("cannot join the placed map: {e}")))?;
    let mut is_target = vec![false; rs.len()];
    is_target.resize(rs.len() + rt.len(), true);
    let labels = rs
        .iter()
        .map(|&i| source.label[i] as u32)
        .chain(rt.iter().map(|&i| target.label[i] as u32))
        .collect();
    let map = PairMap {
        coords,
        is_target,
        labels,
        rows: rs.iter().chain(&rt).copied().collect(),
        kl_divergence: fit.kl_divergence,
        perplexity: fit.perplexity,
        notices: fit.notices,
        cached: false,
    };
    write_map(files, &map, source, target)?;
    Ok(map)
}
