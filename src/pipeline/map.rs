//! The map job: the joint t-SNE map of a source/target pair (one fit over both domains) with its
//! coordinate files and its figure.
//!
//! A pair's files are `<S>-<T>.{npz,csv,json,svg,png}` in [`crate::layout::Layout::tsne`]; the rows are
//! the source rows then the target rows, each in the row order of `embed`'s files. A map whose inputs
//! and settings are unchanged is reused: the cache key is a versioned SHA-256 of both domains'
//! fingerprints and of every t-SNE parameter (values, not their printed form).

use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use sha2::{Digest, Sha256};

use crate::dataset::Domain;
use crate::error::{Error, Result};
use crate::layout::{with_ext, Layout};
use crate::plot::{self, TsneFigure};
use crate::settings::{MapSettings, Seeds};
use crate::store::{self, DomainEmbeddings};
use crate::tsne::{self, Init, LearningRate, NegativeGradient, TsneEngine, TsneParams};

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
    pub fn new(dir: &Path, source: &Domain, target: &Domain) -> Result<MapFiles> {
        Ok(MapFiles {
            base: Layout::pair_base(dir, source, target, "")?,
        })
    }
    /// A file with this extension.
    pub fn with(&self, ext: &str) -> PathBuf {
        with_ext(&self.base, ext)
    }
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
    /// How the perplexity neighbours were found (`exact` or `approximate`); absent in maps
    /// written before the approximate search existed (all exact).
    #[serde(default)]
    neighbours: Option<crate::neighbours::Method>,
}

/// Feed every t-SNE parameter into `h` by value (a new parameter fails to compile here until it is
/// added, so the cache key can never miss one).
fn hash_params(h: &mut Sha256, p: &TsneParams, max_points: Option<usize>) {
    let TsneParams {
        perplexity,
        n_iter,
        early_exaggeration_iter,
        early_exaggeration,
        exaggeration,
        learning_rate,
        theta,
        init,
        seed,
        engine,
        pca_dims,
        negative_gradient,
        n_interpolation_points,
        min_num_intervals,
        ints_in_interval,
        neighbours,
        neighbour_threshold,
    } = p;
    let f = |h: &mut Sha256, x: f64| h.update(x.to_le_bytes());
    let u = |h: &mut Sha256, x: u64| h.update(x.to_le_bytes());
    f(h, *perplexity);
    u(h, *n_iter as u64);
    u(h, *early_exaggeration_iter as u64);
    f(h, *early_exaggeration);
    f(h, *exaggeration);
    match learning_rate {
        LearningRate::Auto => h.update(b"lr-auto"),
        LearningRate::Fixed(x) => {
            h.update(b"lr-fixed");
            f(h, *x)
        }
    }
    f(h, *theta);
    match init {
        Init::Pca => h.update(b"init-pca"),
        Init::Random => h.update(b"init-random"),
        Init::Given(a) => {
            h.update(b"init-given");
            u(h, a.nrows() as u64);
            u(h, a.ncols() as u64);
            for v in a.iter() {
                h.update(v.to_le_bytes());
            }
        }
    }
    u(h, *seed);
    h.update(match engine {
        TsneEngine::Native => b"engine-native".as_slice(),
        TsneEngine::Linfa => b"engine-linfa".as_slice(),
    });
    u(h, pca_dims.map_or(u64::MAX, |d| d as u64));
    h.update(match negative_gradient {
        NegativeGradient::Auto => b"neg-auto".as_slice(),
        NegativeGradient::BarnesHut => b"neg-bh".as_slice(),
        NegativeGradient::Fft => b"neg-fft".as_slice(),
    });
    u(h, *n_interpolation_points as u64);
    u(h, *min_num_intervals as u64);
    f(h, *ints_in_interval);
    h.update(neighbours.name().as_bytes());
    u(h, *neighbour_threshold as u64);
    u(h, max_points.map_or(u64::MAX, |m| m as u64));
}

fn fingerprint(
    s: &DomainEmbeddings,
    t: &DomainEmbeddings,
    params: &TsneParams,
    max_points: Option<usize>,
) -> String {
    let mut h = Sha256::new();
    h.update(b"dannscope-map-v2\0");
    h.update(s.record.fingerprint.as_bytes());
    h.update(b"\0");
    h.update(t.record.fingerprint.as_bytes());
    h.update(b"\0");
    hash_params(&mut h, params, max_points);
    hex::encode(h.finalize())
}

/// Fit (or reuse) the joint map of a pair and write its coordinate files (npz, csv, json); the fit and
/// the subsample are seeded with `seeds.map`.
pub fn map_pair(
    source: &DomainEmbeddings,
    target: &DomainEmbeddings,
    files: &MapFiles,
    set: &MapSettings,
    seeds: &Seeds,
) -> Result<PairMap> {
    if source.embedding.ncols() != target.embedding.ncols() {
        return Err(Error::Invalid(format!(
            "source and target embeddings differ in width ({} vs {})",
            source.embedding.ncols(),
            target.embedding.ncols()
        )));
    }
    let params = set.params(seeds);
    let fp = fingerprint(source, target, &params, set.max_points());
    // Rows: source rows then target rows, optionally subsampled (stratified by domain × class).
    let ns = source.embedding.nrows();
    let mut sel: Vec<(bool, usize)> = (0..ns)
        .map(|i| (false, i))
        .chain((0..target.embedding.nrows()).map(|i| (true, i)))
        .collect();
    if let Some(m) = set.max_points() {
        if m < sel.len() {
            let strata: Vec<u32> = sel
                .iter()
                .map(|&(t, i)| {
                    let l = if t { target.label[i] } else { source.label[i] };
                    (l as u32) * 2 + t as u32
                })
                .collect();
            let keep = tsne::stratified_subsample(&strata, m, params.seed);
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
    let parts = [source.embedding.view(), target.embedding.view()];
    let out = if sel.len() == ns + target.embedding.nrows() {
        // Every row, in order: fit the two blocks as they are (no joined copy).
        tsne::fit_parts(&parts, &params)?
    } else {
        // The kept rows, copied once from the (possibly memory-mapped) blocks.
        let mut x = Array2::<f32>::zeros((sel.len(), source.embedding.ncols()));
        for (mut row, &(t, i)) in x.outer_iter_mut().zip(&sel) {
            row.assign(&parts[t as usize].row(i));
        }
        tsne::fit(x.view(), &params)?
    };
    let neighbours = out.neighbours;
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
    crate::atomic::write_json(
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
            neighbours: Some(neighbours),
        },
    )?;
    Ok(map)
}

fn npz_reader(path: &Path) -> Result<ndarray_npy::NpzReader<std::fs::File>> {
    let f = std::fs::File::open(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    ndarray_npy::NpzReader::new(f).map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
}

fn read_coords(path: &Path) -> Result<Array2<f32>> {
    npz_reader(path)?
        .by_name("coords")
        .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))
}

/// A stored joint map as drawn: coordinates, target flags and class labels, read from the `.npz`
/// that [`map_pair`] writes.
pub fn read_drawn(path: &Path) -> Result<(Array2<f32>, Vec<bool>, Vec<u32>)> {
    let mut z = npz_reader(path)?;
    let bad = |what: &str, e: String| Error::Invalid(format!("{}: {what}: {e}", path.display()));
    let coords: Array2<f32> = z
        .by_name("coords")
        .map_err(|e| bad("coords", e.to_string()))?;
    let domain: Array1<i64> = z
        .by_name("domain")
        .map_err(|e| bad("domain", e.to_string()))?;
    let label: Array1<i64> = z
        .by_name("label")
        .map_err(|e| bad("label", e.to_string()))?;
    if domain.len() != coords.nrows() || label.len() != coords.nrows() {
        return Err(bad(
            "rows",
            format!(
                "expected {} domain flags and labels, found {} and {}",
                coords.nrows(),
                domain.len(),
                label.len()
            ),
        ));
    }
    let labels = label
        .iter()
        .map(|&l| u32::try_from(l).map_err(|_| bad("label", format!("{l} is not a class index"))))
        .collect::<Result<Vec<u32>>>()?;
    Ok((coords, domain.iter().map(|&d| d != 0).collect(), labels))
}

/// Write a pair map's coordinate files (`npz`, `csv`) to `files`.
pub(crate) fn write_map(
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
    crate::atomic::write_bytes(&npz, buf.get_ref())?;
    let names = &s.record.class_names;
    let csv_path = files.with("csv");
    crate::atomic::write_csv(&csv_path, |c| {
        c.write_record(["x", "y", "domain", "role", "label", "class", "row", "path"])?;
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
            ])?;
        }
        Ok(())
    })?;
    Ok(())
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
    Ok(plot::tsne_figure(
        &fig,
        &files.with("svg"),
        &files.with("png"),
    )?)
}

/// Target accuracy and macro AUROC (fractions) of stored embeddings, when they have logits.
pub fn target_scores(t: &DomainEmbeddings) -> Option<(f64, Option<f64>)> {
    let l = t.logits.as_ref()?;
    let p = crate::metrics::ClassificationParams::default().n_resamples(0);
    crate::metrics::classification_report(l.view(), t.label.view(), l.ncols(), &p)
        .ok()
        .map(|r| (r.accuracy, r.auroc))
}
