//! The explore job: a pair's joint map (the same fit as the map job, reused from its cache) as one
//! offline HTML page in which every dot is an image (`<out>/explore/<model>/<split>/<S>-<T>.html`).

use std::path::PathBuf;

use ndarray::Array2;

use super::embed::Event;
use super::map::{self, MapFiles};
use super::Workspace;
use crate::dataset::Pair;
use crate::error::Result;
use crate::explore::{self, ExploreInput, ExploreParams};
use crate::layout::{with_ext, Layout};
use crate::model::ModelInfo;

/// What the explore job wrote.
#[derive(Debug, Clone)]
pub struct ExploreOutcome {
    /// The HTML file.
    pub path: PathBuf,
    /// Points on the map.
    pub n_points: usize,
    /// Points with a thumbnail.
    pub n_thumbnails: usize,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// Write the explore page of `model` on `pair`.
pub fn explore(
    ws: &mut Workspace,
    model: &ModelInfo,
    pair: &Pair,
    name: &str,
    params: &ExploreParams,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<ExploreOutcome> {
    let e = ws.embeddings(model, std::slice::from_ref(pair), on_event)?;
    let (s, t) = e.pair(pair)?;
    let (src, tgt) = (&e.data[s], &e.data[t]);
    let files = MapFiles::new(&ws.layout.tsne(&e.key)?, &e.domains[s], &e.domains[t])?;
    let m = map::map_pair(src, tgt, &files, &ws.settings.map, &ws.settings.seeds)?;
    let n = m.coords.nrows();
    let of = |i: usize| if m.is_target[i] { tgt } else { src };
    let emb = [src.embedding.view(), tgt.embedding.view()];
    let embedding = Array2::from_shape_fn((n, src.embedding.ncols()), |(i, j)| {
        emb[m.is_target[i] as usize][[m.rows[i], j]]
    });
    let logits = match (&src.logits, &tgt.logits) {
        (Some(a), Some(b)) => {
            let l = [a.view(), b.view()];
            Some(Array2::from_shape_fn((n, a.ncols()), |(i, j)| {
                l[m.is_target[i] as usize][[m.rows[i], j]]
            }))
        }
        _ => None,
    };
    // The discriminator's output as a probability (sigmoid of its logit), when both domains have it.
    let domain_prob: Option<Vec<f32>> = match (&src.domain_logits, &tgt.domain_logits) {
        (Some(_), Some(_)) => Some(
            (0..n)
                .map(|i| {
                    let z = of(i).domain_logits.as_ref().map_or(0.0, |d| d[m.rows[i]]);
                    1.0 / (1.0 + (-z).exp())
                })
                .collect(),
        ),
        _ => None,
    };
    let paths: Vec<String> = (0..n)
        .map(|i| of(i).record.paths[m.rows[i]].clone())
        .collect();
    let root = match ws.project() {
        Some(p) => p.root.clone(),
        None => PathBuf::from(&src.record.data_root),
    };
    let input = ExploreInput {
        title: format!(
            "{name} · {} → {} · {}",
            e.domains[s].name, e.domains[t].name, ws.settings.split
        ),
        source_name: e.domains[s].name.clone(),
        target_name: e.domains[t].name.clone(),
        class_names: &src.record.class_names,
        coords: m.coords.view(),
        is_target: &m.is_target,
        labels: &m.labels,
        paths: &paths,
        logits: logits.as_ref().map(|l| l.view()),
        domain_prob: domain_prob.as_deref(),
        embedding: embedding.view(),
    };
    let pre = model.preprocess.clone();
    let page = explore::build_page(&input, params, &|i| {
        crate::preprocess::load_rgb8(&root.join(&paths[i]), &pre).ok()
    })?;
    let dir = ws.layout.explore(&e.key)?;
    let base = Layout::pair_base(&dir, &e.domains[s], &e.domains[t], "")?;
    let path = with_ext(&base, "html");
    let bytes = explore::write_page(&path, &page)?;
    Ok(ExploreOutcome {
        path,
        n_points: page.n_points,
        n_thumbnails: page.n_thumbnails,
        bytes,
    })
}
