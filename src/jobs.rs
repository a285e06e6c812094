//! Jobs that chain the t-SNE and plot stages: the joint map of a source/target pair with its files and
//! figure, and the training-evolution view across checkpoints.
//!
//! A pair's map is written under `<out>/tsne/<model stem>/<split>/<S>-<T>.{npz,csv,json,svg,png}`; the
//! rows are the source rows then the target rows, each in the row order of `embed`'s files. A map whose
//! inputs and settings are unchanged is reused.

use std::path::{Path, PathBuf};

use ndarray::{concatenate, Array1, Array2, Axis};
use sha2::{Digest, Sha256};

use crate::dataset::Domain;
use crate::error::{Error, Result};
use crate::plot::{self, EvolutionFrame, EvolutionStyle, TsneFigure};
use crate::store::{self, DomainEmbeddings};
use crate::tsne::{self, Init, TsneParams};

/// Settings of a pair map.
#[derive(Debug, Clone)]
pub struct MapSettings {
    /// t-SNE hyper-parameters.
    pub params: TsneParams,
    /// Keep at most this many points (stratified by domain and class, seeded).
    pub max_points: Option<usize>,
}

/// A pair's joint map.
#[derive(Debug, Clone)]
pub struct PairMap {
    /// `[N, 2]` coordinates.
    pub coords: Array2<f32>,
    /// `true` for target rows.
    pub is_target: Vec<bool>,
    /// Class index per row.
    pub labels: Vec<u32>,
    /// Row of each point in its domain's embedding file.
    pub rows: Vec<usize>,
    /// KL divergence of the map.
    pub kl_divergence: f64,
    /// Perplexity used.
    pub perplexity: f64,
    /// Notices from the fit.
    pub notices: Vec<String>,
    /// Reused from an earlier run.
    pub cached: bool,
}

/// Files of a pair map.
#[derive(Debug, Clone)]
pub struct MapFiles {
    /// Base path without extension.
    pub base: PathBuf,
}

impl MapFiles {
    /// Files for `<dir>/<S>-<T>`.
    pub fn new(dir: &Path, source: &Domain, target: &Domain) -> MapFiles {
        MapFiles {
            base: dir.join(format!("{}-{}", source.code, target.code)),
        }
    }
    /// A file with this extension.
    pub fn with(&self, ext: &str) -> PathBuf {
        let mut p = self.base.clone().into_os_string();
        p.push(format!(".{ext}"));
        PathBuf::from(p)
    }
}

/// Folder of one model's maps of one split.
pub fn tsne_dir(out: &Path, model_stem: &str, split: &str) -> PathBuf {
    out.join("tsne").join(model_stem).join(split)
}

#[derive(serde::Serialize, serde::Deserialize)]
struct MapRecord {
    fingerprint: String,
    kl_divergence: f64,
    perplexity: f64,
    notices: Vec<String>,
    source: String,
    target: String,
    n_source: usize,
    n_target: usize,
}

fn fingerprint(s: &DomainEmbeddings, t: &DomainEmbeddings, set: &MapSettings) -> String {
    let mut h = Sha256::new();
    h.update(b"dannscope-map-v1\0");
    h.update(s.record.fingerprint.as_bytes());
    h.update(t.record.fingerprint.as_bytes());
    h.update(format!("{:?}|{:?}", set.params, set.max_points).as_bytes());
    hex::encode(h.finalize())
}

/// Fit (or reuse) the joint map of a pair and write its coordinate files (npz, csv, json).
pub fn map_pair(
    source: &DomainEmbeddings,
    target: &DomainEmbeddings,
    files: &MapFiles,
    set: &MapSettings,
) -> Result<PairMap> {
    if source.embedding.ncols() != target.embedding.ncols() {
        return Err(Error::Invalid(format!(
            "source and target embeddings differ in width ({} vs {})",
            source.embedding.ncols(),
            target.embedding.ncols()
        )));
    }
    let fp = fingerprint(source, target, set);
    // Rows: source rows then target rows, optionally subsampled (stratified by domain × class).
    let ns = source.embedding.nrows();
    let mut sel: Vec<(bool, usize)> = (0..ns)
        .map(|i| (false, i))
        .chain((0..target.embedding.nrows()).map(|i| (true, i)))
        .collect();
    if let Some(m) = set.max_points {
        if m < sel.len() {
            let strata: Vec<u32> = sel
                .iter()
                .map(|&(t, i)| {
                    let l = if t { target.label[i] } else { source.label[i] };
                    (l as u32) * 2 + t as u32
                })
                .collect();
            let keep = tsne::stratified_subsample(&strata, m, set.params.seed);
            sel = keep.into_iter().map(|k| sel[k]).collect();
        }
    }
    let is_target: Vec<bool> = sel.iter().map(|p| p.0).collect();
    let rows: Vec<usize> = sel.iter().map(|p| p.1).collect();
    let labels: Vec<u32> = sel
        .iter()
        .map(|&(t, i)| if t { target.label[i] } else { source.label[i] } as u32)
        .collect();
    let json = files.with("json");
    if let Ok(rec) = store::read_json::<MapRecord>(&json) {
        if rec.fingerprint == fp {
            if let Ok(coords) = read_coords(&files.with("npz")) {
                if coords.nrows() == sel.len() {
                    return Ok(PairMap {
                        coords,
                        is_target,
                        labels,
                        rows,
                        kl_divergence: rec.kl_divergence,
                        perplexity: rec.perplexity,
                        notices: rec.notices,
                        cached: true,
                    });
                }
            }
        }
    }
    let x = concatenate(Axis(0), &[source.embedding.view(), target.embedding.view()])
        .map_err(|e| Error::Invalid(format!("cannot join source and target: {e}")))?;
    let idx: Vec<usize> = sel
        .iter()
        .map(|&(t, i)| if t { ns + i } else { i })
        .collect();
    let x = x.select(Axis(0), &idx);
    let out =
        tsne::fit(x.view(), &set.params).map_err(|e| Error::Invalid(format!("t-SNE: {e}")))?;
    let map = PairMap {
        coords: out.coords,
        is_target,
        labels,
        rows,
        kl_divergence: out.kl_divergence,
        perplexity: out.perplexity,
        notices: out.notices,
        cached: false,
    };
    write_map(files, &map, source, target)?;
    store::write_json(
        &json,
        &MapRecord {
            fingerprint: fp,
            kl_divergence: map.kl_divergence,
            perplexity: map.perplexity,
            notices: map.notices.clone(),
            source: source.record.domain.clone(),
            target: target.record.domain.clone(),
            n_source: map.is_target.iter().filter(|t| !**t).count(),
            n_target: map.is_target.iter().filter(|t| **t).count(),
        },
    )?;
    Ok(map)
}

fn read_coords(path: &Path) -> Result<Array2<f32>> {
    let f = std::fs::File::open(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut z = ndarray_npy::NpzReader::new(f)
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
    z.by_name("coords")
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
}

fn write_map(
    files: &MapFiles,
    m: &PairMap,
    s: &DomainEmbeddings,
    t: &DomainEmbeddings,
) -> Result<()> {
    let npz = files.with("npz");
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let e = |e: ndarray_npy::WriteNpzError| Error::Invalid(format!("{}: {e}", npz.display()));
        let mut z = ndarray_npy::NpzWriter::new(&mut buf);
        z.add_array("coords", &m.coords).map_err(e)?;
        let dom: Array1<i64> = m.is_target.iter().map(|&t| t as i64).collect();
        z.add_array("domain", &dom).map_err(e)?;
        let lab: Array1<i64> = m.labels.iter().map(|&l| l as i64).collect();
        z.add_array("label", &lab).map_err(e)?;
        let row: Array1<i64> = m.rows.iter().map(|&r| r as i64).collect();
        z.add_array("row", &row).map_err(e)?;
        z.finish().map_err(e)?;
    }
    store::atomic_write_bytes(&npz, buf.get_ref())?;
    let names = &s.record.class_names;
    store::atomic_write(&files.with("csv"), |w| {
        let mut c = csv::Writer::from_writer(w);
        let err = |e: csv::Error| std::io::Error::other(e.to_string());
        c.write_record(["x", "y", "domain", "role", "label", "class", "row", "path"])
            .map_err(err)?;
        for i in 0..m.coords.nrows() {
            let (d, role) = if m.is_target[i] {
                (t, "target")
            } else {
                (s, "source")
            };
            let r = m.rows[i];
            c.write_record([
                format!("{}", m.coords[[i, 0]]),
                format!("{}", m.coords[[i, 1]]),
                d.record.domain.clone(),
                role.to_string(),
                m.labels[i].to_string(),
                names.get(m.labels[i] as usize).cloned().unwrap_or_default(),
                r.to_string(),
                d.record.paths.get(r).cloned().unwrap_or_default(),
            ])
            .map_err(err)?;
        }
        c.flush()
    })
}

/// Draw a pair map to `<base>.svg` and `<base>.png`.
pub fn draw_pair(
    files: &MapFiles,
    m: &PairMap,
    class_names: &[String],
    source: &str,
    target: &str,
    title: String,
    subtitle: Option<String>,
) -> Result<()> {
    let fig = TsneFigure {
        coords: m.coords.view(),
        is_target: &m.is_target,
        labels: &m.labels,
        class_names,
        source_name: source.to_string(),
        target_name: target.to_string(),
        title,
        subtitle,
    };
    plot::tsne_figure(&fig, &files.with("svg"), &files.with("png"))
        .map_err(|e| Error::Invalid(format!("figure {}: {e}", files.base.display())))
}

/// One checkpoint's data for the evolution view.
pub struct EpochData {
    /// Epoch number.
    pub epoch: u32,
    /// Source embeddings.
    pub source: DomainEmbeddings,
    /// Target embeddings.
    pub target: DomainEmbeddings,
    /// Panel title.
    pub title: String,
    /// Where this epoch's map files go.
    pub files: MapFiles,
}

/// Fit one map per epoch, each started from the previous epoch's layout (rescaled) and aligned to it by
/// Procrustes, then draw the grid and the animated GIF. Returns the maps.
pub fn evolution(
    epochs: &[EpochData],
    set: &MapSettings,
    style: &EvolutionStyle,
    base: &Path,
    cols: usize,
) -> Result<Vec<PairMap>> {
    let mut maps: Vec<PairMap> = Vec::new();
    for (k, e) in epochs.iter().enumerate() {
        let same_rows = maps.last().is_some_and(|p: &PairMap| {
            p.coords.nrows() == e.source.embedding.nrows() + e.target.embedding.nrows()
        }) && set.max_points.is_none();
        let mut s = set.clone();
        if same_rows {
            let prev = &maps[k - 1].coords;
            let sd = prev.column(0).std(0.0).max(1e-12);
            s.params.init = Init::Given(prev.mapv(|v| v * 1e-4 / sd));
        }
        let mut m = map_pair(&e.source, &e.target, &e.files, &s)?;
        if same_rows {
            // Rotate/reflect onto the previous map, but keep this epoch's own spread: a scaled
            // alignment would compound from epoch to epoch and shrink later maps.
            let spread = |c: &Array2<f32>| c.std(0.0).max(1e-12);
            let own = spread(&m.coords);
            let aligned = tsne::procrustes_align(maps[k - 1].coords.view(), m.coords.view());
            let mean = aligned
                .mean_axis(Axis(0))
                .unwrap_or_else(|| Array1::zeros(2));
            let f = own / spread(&aligned);
            m.coords = (&aligned - &mean) * f + &mean;
        }
        maps.push(m);
    }
    let frames: Vec<EvolutionFrame> = maps
        .iter()
        .zip(epochs)
        .map(|(m, e)| EvolutionFrame {
            coords: m.coords.view(),
            is_target: &m.is_target,
            labels: &m.labels,
            title: e.title.clone(),
        })
        .collect();
    let with = |ext: &str| {
        let mut p = base.as_os_str().to_owned();
        p.push(format!(".{ext}"));
        PathBuf::from(p)
    };
    plot::evolution_grid(&frames, style, cols.max(1), &with("svg"), &with("png"))
        .map_err(|e| Error::Invalid(format!("evolution grid: {e}")))?;
    plot::evolution_gif(&frames, style, &with("gif"), 700)
        .map_err(|e| Error::Invalid(format!("evolution GIF: {e}")))?;
    Ok(maps)
}

/// Target accuracy and macro AUROC (fractions) of stored embeddings, when they have logits.
pub fn target_scores(t: &DomainEmbeddings) -> Option<(f64, Option<f64>)> {
    let l = t.logits.as_ref()?;
    let p = crate::metrics::ClassificationParams::default().n_resamples(0);
    crate::metrics::classification_report(l.view(), t.label.view(), l.ncols(), &p)
        .ok()
        .map(|r| (r.accuracy, r.auroc))
}
