//! The evolution job: one joint map per training checkpoint of a pair, each started from the previous
//! epoch's layout and rotated onto it, drawn as a grid and an animated GIF
//! (`<S>-<T>_evolution.{svg,png,gif}` in the last checkpoint's map folder).

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2, Axis};

use super::embed::Event;
use super::map::{self, MapFiles, PairMap};
use super::Workspace;
use crate::dataset::Pair;
use crate::error::{Error, Result};
use crate::layout::{with_ext, Layout};
use crate::model::ModelInfo;
use crate::plot::{self, ColorBy, EvolutionFrame, EvolutionStyle};
use crate::settings::MapSettings;
use crate::tsne::{self, Init};

/// Checkpoint files: files as given, folders expanded to their `.onnx` files (sorted by name).
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
            if v.is_empty() {
                return Err(Error::Invalid(format!(
                    "{}: no .onnx files in this folder",
                    p.display()
                )));
            }
            out.extend(v);
        } else {
            out.push(p.clone());
        }
    }
    if out.is_empty() {
        return Err(Error::Invalid("no checkpoints were given".into()));
    }
    Ok(out)
}

/// Sort loaded checkpoints by `dannscope.epoch` (then by file name) and check that they are the
/// checkpoints of one training run: the same `dannscope.source` / `dannscope.target`, and no epoch
/// twice. Checkpoints of different runs, or the same epoch twice, are refused with the reason: their
/// maps side by side would read as a training evolution that never happened.
pub fn order_checkpoints(models: &mut [ModelInfo]) -> Result<()> {
    models.sort_by(|a, b| (a.epoch, &a.path).cmp(&(b.epoch, &b.path)));
    let pair = |m: &ModelInfo| match (&m.source, &m.target) {
        (Some(s), Some(t)) => format!("{s}→{t}"),
        (s, t) => format!(
            "{}→{}",
            s.as_deref().unwrap_or("?"),
            t.as_deref().unwrap_or("?")
        ),
    };
    if let Some(first) = models.first() {
        if let Some(other) = models
            .iter()
            .find(|m| (&m.source, &m.target) != (&first.source, &first.target))
        {
            return Err(Error::Invalid(format!(
                "these checkpoints are not one training run: {} names {} and {} names {} \
                 (dannscope.source/target); give the checkpoints of one run",
                first.path.display(),
                pair(first),
                other.path.display(),
                pair(other)
            )));
        }
    }
    if let Some(w) = models
        .windows(2)
        .find(|w| w[0].epoch.is_some() && w[0].epoch == w[1].epoch)
    {
        return Err(Error::Invalid(format!(
            "epoch {} appears twice ({} and {}, dannscope.epoch): an evolution needs one checkpoint \
             per epoch of one run",
            w[0].epoch.unwrap_or_default(),
            w[0].path.display(),
            w[1].path.display()
        )));
    }
    Ok(())
}

fn pct(v: f64) -> String {
    format!("{:.1}", 100.0 * v)
}

/// Map every checkpoint (already loaded and ordered, see [`order_checkpoints`]) and draw the grid
/// (`cols` columns) and GIF. `name` is the model's display name; the figures go to the map folder of
/// `owner` (a report run's model), else of the last checkpoint. Returns their base path.
pub fn evolution(
    ws: &mut Workspace,
    checkpoints: &[ModelInfo],
    owner: Option<&ModelInfo>,
    pair: &Pair,
    name: &str,
    cols: usize,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<PathBuf> {
    let last = checkpoints
        .last()
        .ok_or_else(|| Error::Invalid("no checkpoints were given".into()))?;
    let owner = owner.unwrap_or(last);
    let owner_key = ws.key(owner, on_event)?;
    let mut maps: Vec<PairMap> = Vec::new();
    let mut titles = Vec::new();
    let mut class_names = Vec::new();
    let mut names = None;
    let mut base = None;
    for (k, m) in checkpoints.iter().enumerate() {
        let e = ws.embeddings(m, std::slice::from_ref(pair), on_event)?;
        let (s, t) = pair.resolve(&e.domains)?;
        let (source, target) = (&e.data[s], &e.data[t]);
        let epoch = m.epoch.unwrap_or(k as u32 + 1);
        titles.push(match map::target_scores(target) {
            Some((acc, Some(auc))) => {
                format!("Epoch {epoch:02} acc {} auroc {}", pct(acc), pct(auc))
            }
            Some((acc, None)) => format!("Epoch {epoch:02} acc {}", pct(acc)),
            None => format!("Epoch {epoch:02}"),
        });
        let dir = ws.layout.tsne(&e.key)?;
        let files = MapFiles::new(&dir, &e.domains[s], &e.domains[t])?;
        // Start from the previous epoch's layout (rescaled to the initial spread) when the rows match.
        let prev = maps.last().filter(|p| {
            p.coords.nrows() == source.embedding.nrows() + target.embedding.nrows()
                && ws.settings.map.max_points().is_none()
        });
        let set: MapSettings = match prev {
            Some(p) => {
                let sd = p.coords.column(0).std(0.0).max(1e-12);
                ws.settings
                    .map
                    .with_init(Init::Given(p.coords.mapv(|v| v * 1e-4 / sd)))
            }
            None => ws.settings.map.clone(),
        };
        let mut mp = map::map_pair(source, target, &files, &set, &ws.settings.seeds)?;
        if let Some(p) = prev {
            mp.coords = rotate_keeping_spread(&p.coords, &mp.coords);
        }
        maps.push(mp);
        class_names = source.record.class_names.clone();
        names = Some((e.domains[s].clone(), e.domains[t].clone()));
        if std::ptr::eq(m, last) {
            base = Some(Layout::pair_base(
                &ws.layout.tsne(&owner_key)?,
                &e.domains[s],
                &e.domains[t],
                "_evolution",
            )?);
        }
    }
    let (sd, td) = names.ok_or_else(|| Error::Invalid("no checkpoints were given".into()))?;
    let base = base.ok_or_else(|| Error::Invalid("no checkpoints were given".into()))?;
    let style = EvolutionStyle {
        class_names,
        source_name: sd.name.clone(),
        target_name: td.name.clone(),
        title: format!(
            "{name} · {} → {} · {} · training evolution",
            sd.name, td.name, ws.settings.split
        ),
        color_by: ColorBy::Class,
    };
    draw(&maps, &titles, &style, &base, cols)?;
    Ok(base)
}

/// Rotate/reflect `cur` onto `prev` (Procrustes) but keep its own spread: a scaled alignment would
/// compound from epoch to epoch and shrink later maps.
fn rotate_keeping_spread(prev: &Array2<f32>, cur: &Array2<f32>) -> Array2<f32> {
    let spread = |c: &Array2<f32>| c.std(0.0).max(1e-12);
    let own = spread(cur);
    let aligned = tsne::procrustes_align(prev.view(), cur.view());
    let mean = aligned
        .mean_axis(Axis(0))
        .unwrap_or_else(|| Array1::zeros(2));
    let f = own / spread(&aligned);
    (&aligned - &mean) * f + &mean
}

fn draw(
    maps: &[PairMap],
    titles: &[String],
    style: &EvolutionStyle,
    base: &Path,
    cols: usize,
) -> Result<()> {
    let frames: Vec<EvolutionFrame> = maps
        .iter()
        .zip(titles)
        .map(|(m, title)| EvolutionFrame {
            coords: m.coords.view(),
            is_target: &m.is_target,
            labels: &m.labels,
            title: title.clone(),
        })
        .collect();
    plot::evolution_grid(
        &frames,
        style,
        cols.max(1),
        &with_ext(base, "svg"),
        &with_ext(base, "png"),
    )?;
    plot::evolution_gif(&frames, style, &with_ext(base, "gif"), 700)?;
    Ok(())
}
