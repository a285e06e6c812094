//! The diagnosis parts of a report run: galleries (with thumbnails and a CSV of paths) and the domain
//! discriminator's view (per checkpoint when the run has them, with its figure). The comparison of each
//! run with its source-only baseline is in [`super::baseline`].

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::embed::Event;
use super::{Embedded, Workspace};
use crate::dataset::Pair;
use crate::error::{Error, Result};
use crate::layout::{with_ext, Layout};
use crate::metrics::discriminator::{domain_separation, DomainSeparation, DEFAULT_BINS};
use crate::metrics::gallery::{gallery as pick, predicted, GalleryParams, GalleryReport};
use crate::metrics::DomainData;
use crate::model::ModelInfo;
use crate::preprocess::PreprocessConfig;
use crate::report::{ClassMedoids, DiscriminatorView, Gallery, GalleryImage, WrongCase};
use crate::store::DomainEmbeddings;

/// Longest side of a gallery thumbnail, pixels.
pub const THUMB_PX: u32 = 72;
/// JPEG quality of the thumbnails.
const THUMB_QUALITY: u8 = 80;

/// Header of the gallery CSV: one row per image shown.
pub const GALLERY_HEADER: [&str; 10] = [
    "section",
    "rank",
    "neighbour",
    "domain",
    "path",
    "class",
    "predicted",
    "confidence",
    "distance",
    "neighbour_of",
];

fn view(d: &DomainEmbeddings) -> DomainData<'_> {
    DomainData::new(
        d.embedding.view(),
        d.logits.as_ref().map(|l| l.view()),
        d.label.view(),
    )
}

fn data_root(ws: &Workspace, d: &DomainEmbeddings) -> PathBuf {
    match ws.project() {
        Some(p) => p.root.clone(),
        None => PathBuf::from(&d.record.data_root),
    }
}

/// `data:` URIs of the thumbnails of `paths` (relative to `root`), in parallel; `None` where an image
/// cannot be read.
pub fn thumbnails(root: &Path, paths: &[String], pre: &PreprocessConfig) -> Vec<Option<String>> {
    paths
        .par_iter()
        .map(|p| {
            let img = crate::preprocess::load_rgb8(&root.join(p), pre).ok()?;
            let jpeg = crate::explore::thumbnail_jpeg(&img, THUMB_PX, THUMB_QUALITY).ok()?;
            Some(format!(
                "data:image/jpeg;base64,{}",
                crate::markup::base64_encode(&jpeg)
            ))
        })
        .collect()
}

fn name(names: &[String], c: usize) -> String {
    names.get(c).cloned().unwrap_or_else(|| c.to_string())
}

/// Turns gallery picks into images with paths, classes and thumbnails.
fn resolve(
    g: &GalleryReport,
    src: &DomainEmbeddings,
    tgt: &DomainEmbeddings,
    root: &Path,
    pre: &PreprocessConfig,
) -> Gallery {
    let names = &src.record.class_names;
    let pred_s = src.logits.as_ref().map(|l| predicted(l.view()));
    let pred_t = tgt.logits.as_ref().map(|l| predicted(l.view()));
    let image =
        |d: &DomainEmbeddings, preds: &Option<Vec<(usize, f64)>>, row: usize| GalleryImage {
            path: d.record.paths[row].clone(),
            domain: d.record.domain.clone(),
            class: name(names, d.label[row] as usize),
            predicted: preds.as_ref().map(|p| name(names, p[row].0)),
            confidence: preds.as_ref().map(|p| p[row].1),
            distance: None,
            thumbnail: None,
        };
    let mut wrong: Vec<WrongCase> = g
        .wrong
        .iter()
        .map(|w| WrongCase {
            image: image(tgt, &pred_t, w.row),
            neighbours: w
                .neighbours
                .iter()
                .map(|n| GalleryImage {
                    distance: Some(n.distance),
                    ..image(src, &pred_s, n.row)
                })
                .collect(),
        })
        .collect();
    let medoid = |d: &DomainEmbeddings, p, m: &Option<crate::metrics::gallery::Medoid>| {
        m.as_ref().map(|m| GalleryImage {
            distance: Some(m.mean_distance),
            ..image(d, p, m.row)
        })
    };
    let mut medoids: Vec<ClassMedoids> = (0..names.len())
        .map(|c| ClassMedoids {
            class: name(names, c),
            source: medoid(src, &pred_s, &g.source_medoids[c]),
            target: medoid(tgt, &pred_t, &g.target_medoids[c]),
        })
        .collect();
    // Thumbnails: every distinct path once.
    let mut slots: Vec<&mut GalleryImage> = Vec::new();
    for w in &mut wrong {
        slots.push(&mut w.image);
        slots.extend(w.neighbours.iter_mut());
    }
    for m in &mut medoids {
        slots.extend(m.source.iter_mut());
        slots.extend(m.target.iter_mut());
    }
    let mut distinct: BTreeMap<String, usize> = BTreeMap::new();
    for s in &slots {
        let n = distinct.len();
        distinct.entry(s.path.clone()).or_insert(n);
    }
    let mut order = vec![String::new(); distinct.len()];
    for (p, &i) in &distinct {
        order[i] = p.clone();
    }
    let thumbs = thumbnails(root, &order, pre);
    for s in slots {
        s.thumbnail = thumbs[distinct[&s.path]].clone();
    }
    Gallery {
        k: g.k,
        n_wrong_total: g.n_wrong_total,
        n_target: tgt.record.n,
        wrong,
        medoids,
        csv: None,
    }
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// Write the gallery CSV: the wrong images (`section` = `wrong`, `rank` from 1), their neighbours
/// (`neighbour`, with `neighbour_of` = the wrong image's path) and the medoids (`source_medoid`,
/// `target_medoid`, `distance` = mean distance to the class).
pub fn write_gallery_csv(path: &Path, g: &Gallery) -> Result<()> {
    crate::atomic::write_csv(path, |c| {
        c.write_record(GALLERY_HEADER)?;
        let mut row = |section: &str, rank: String, nb: String, im: &GalleryImage, of: &str| {
            c.write_record([
                section,
                &rank,
                &nb,
                &im.domain,
                &im.path,
                &im.class,
                im.predicted.as_deref().unwrap_or(""),
                &num(im.confidence),
                &num(im.distance),
                of,
            ])
        };
        for (i, w) in g.wrong.iter().enumerate() {
            row("wrong", (i + 1).to_string(), String::new(), &w.image, "")?;
            for (j, n) in w.neighbours.iter().enumerate() {
                row(
                    "neighbour",
                    (i + 1).to_string(),
                    (j + 1).to_string(),
                    n,
                    &w.image.path,
                )?;
            }
        }
        for m in &g.medoids {
            for (section, im) in [("source_medoid", &m.source), ("target_medoid", &m.target)] {
                if let Some(im) = im {
                    row(section, String::new(), String::new(), im, "")?;
                }
            }
        }
        Ok(())
    })?;
    Ok(())
}

/// The galleries of pair `(s, t)` of `e`, with thumbnails read from the data root, written as
/// `<S>-<T>_gallery.csv` in the model's metrics folder.
pub fn gallery(
    ws: &Workspace,
    e: &Embedded,
    (s, t): (usize, usize),
    pre: &PreprocessConfig,
    params: &GalleryParams,
) -> Result<Gallery> {
    let (src, tgt) = (&e.data[s], &e.data[t]);
    let g = pick(&view(src), &view(tgt), src.record.class_names.len(), params)?;
    let mut out = resolve(&g, src, tgt, &data_root(ws, src), pre);
    let dir = ws.layout.metrics(&e.key)?;
    let base = Layout::pair_base(&dir, &e.domains[s], &e.domains[t], "_gallery")?;
    let path = with_ext(&base, "csv");
    write_gallery_csv(&path, &out)?;
    out.csv = Some(path);
    Ok(out)
}

/// The discriminator's separation of two domains, when both have domain logits.
pub fn separation(
    src: &DomainEmbeddings,
    tgt: &DomainEmbeddings,
) -> Result<Option<DomainSeparation>> {
    match (&src.domain_logits, &tgt.domain_logits) {
        (Some(a), Some(b)) => Ok(Some(domain_separation(a.view(), b.view(), DEFAULT_BINS)?)),
        _ => Ok(None),
    }
}

/// The discriminator view of pair `(s, t)` of `e` and of every checkpoint (sorted) that has domain
/// logits; the figure goes to `<S>-<T>_discriminator.{svg,png}` in the model's map folder. `None` when
/// the model has no domain logits.
pub fn discriminator(
    ws: &mut Workspace,
    e: &Embedded,
    (s, t): (usize, usize),
    checkpoints: &[ModelInfo],
    title: &str,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<Option<DiscriminatorView>> {
    let Some(last) = separation(&e.data[s], &e.data[t])? else {
        return Ok(None);
    };
    let pair = Pair::of(&e.domains[s], &e.domains[t]);
    let mut epochs = Vec::new();
    for (k, m) in checkpoints.iter().enumerate() {
        let ce = ws.embeddings(m, std::slice::from_ref(&pair), on_event)?;
        let (cs, ct) = ce.pair(&pair)?;
        if let Some(sep) = separation(&ce.data[cs], &ce.data[ct])? {
            epochs.push((m.epoch.unwrap_or(k as u32 + 1), sep));
        }
    }
    let aurocs: Vec<(u32, f64)> = epochs
        .iter()
        .filter_map(|(ep, s)| s.auroc.map(|a| (*ep, a)))
        .collect();
    let fig = crate::plot::DiscriminatorFigure {
        title,
        source_name: &e.domains[s].name,
        target_name: &e.domains[t].name,
        source_hist: &last.source_hist,
        target_hist: &last.target_hist,
        epochs: &aurocs,
    };
    let dir = ws.layout.tsne(&e.key)?;
    std::fs::create_dir_all(&dir).map_err(|err| Error::Io {
        path: dir.clone(),
        source: err,
    })?;
    let base = Layout::pair_base(&dir, &e.domains[s], &e.domains[t], "_discriminator")?;
    crate::plot::discriminator_figure(&fig, &with_ext(&base, "svg"), &with_ext(&base, "png"))?;
    let svg = crate::plot::discriminator_svg(&fig)?;
    Ok(Some(DiscriminatorView {
        last,
        epochs,
        svg: Some(svg),
    }))
}
