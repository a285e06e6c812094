//! The diagnosis parts of a report run: galleries (with thumbnails and a CSV of paths), the domain
//! discriminator's view (per checkpoint when the run has them, with its figure) and the comparison of
//! each run with its source-only baseline.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::compare::{self, ModelComparison};
use super::embed::Event;
use super::{Embedded, Workspace};
use crate::error::{Error, Result};
use crate::layout::{with_ext, Layout};
use crate::metrics::discriminator::{domain_separation, DomainSeparation, DEFAULT_BINS};
use crate::metrics::gallery::{gallery as pick, predicted, GalleryParams, GalleryReport};
use crate::metrics::DomainData;
use crate::model::ModelInfo;
use crate::preprocess::PreprocessConfig;
use crate::report::{
    run_ids, BaselineComparison, ClassDelta, ClassMedoids, DiscriminatorView, Gallery,
    GalleryImage, RunOutcome, RunStatus, WrongCase,
};
use crate::settings::Pair;
use crate::store::DomainEmbeddings;

/// Longest side of a gallery thumbnail, pixels.
pub const THUMB_PX: u32 = 72;
/// JPEG quality of the thumbnails.
const THUMB_QUALITY: u8 = 80;
/// Fixed and broken images shown with thumbnails in a baseline comparison (each).
const CHANGES_SHOWN: usize = 6;

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
                crate::report::base64_encode(&jpeg)
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
    crate::atomic::write_with(path, |w| {
        let mut c = csv::Writer::from_writer(w);
        let err = |e: csv::Error| std::io::Error::other(e.to_string());
        c.write_record(GALLERY_HEADER).map_err(err)?;
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
            .map_err(err)
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
        c.flush()
    })
    .map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
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
    let base = Layout::pair_base(&dir, &e.domains[s].code, &e.domains[t].code, "_gallery")?;
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
    let pair: Pair = format!("{}-{}", e.domains[s].code, e.domains[t].code).parse()?;
    let mut epochs = Vec::new();
    for (k, m) in checkpoints.iter().enumerate() {
        let ce = ws.embeddings(m, on_event)?;
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
    let base = Layout::pair_base(
        &dir,
        &e.domains[s].code,
        &e.domains[t].code,
        "_discriminator",
    )?;
    crate::plot::discriminator_figure(&fig, &with_ext(&base, "svg"), &with_ext(&base, "png"))?;
    let svg = crate::plot::discriminator_svg(&fig)?;
    Ok(Some(DiscriminatorView {
        last,
        epochs,
        svg: Some(svg),
    }))
}

/// Index of the baseline of run `i` among `runs`: the finished run named by its `baseline` key on the
/// same pair, else the one finished run of group `baseline` on the same pair. Errors when a named
/// baseline is missing; `Ok(None)` when the run is a baseline or has none.
pub fn baseline_of(runs: &[RunOutcome], i: usize) -> std::result::Result<Option<usize>, String> {
    let r = &runs[i];
    if r.is_baseline() || r.failed() {
        return Ok(None);
    }
    let same_pair = |j: &usize| *j != i && runs[*j].pair == r.pair && !runs[*j].failed();
    match &r.run.baseline {
        Some(want) => (0..runs.len())
            .filter(same_pair)
            .find(|&j| runs[j].name == *want)
            .map(Some)
            .ok_or_else(|| {
                format!(
                    "baseline \"{want}\" is not a finished run on {}: no comparison",
                    r.pair
                )
            }),
        None => {
            let found: Vec<usize> = (0..runs.len())
                .filter(same_pair)
                .filter(|&j| runs[j].is_baseline())
                .collect();
            Ok((found.len() == 1).then(|| found[0]))
        }
    }
}

fn summary(
    c: &ModelComparison,
    baseline: &RunOutcome,
    baseline_id: &str,
    json: PathBuf,
) -> BaselineComparison {
    let change = |x: &compare::ImageChange| GalleryImage {
        path: x.path.clone(),
        domain: c.target.clone(),
        class: x.class.clone(),
        predicted: Some(format!("{} → {}", x.predicted_a, x.predicted_b)),
        confidence: None,
        distance: None,
        thumbnail: None,
    };
    BaselineComparison {
        baseline: baseline.name.clone(),
        baseline_id: Some(baseline_id.to_string()),
        n: c.n_target,
        accuracy_baseline: c.accuracy_a,
        accuracy_run: c.accuracy_b,
        difference: c.difference,
        difference_ci: c.difference_ci.as_ref().map(|i| (i.lower, i.upper)),
        level: c.settings.level,
        baseline_only: c.mcnemar.a_only,
        run_only: c.mcnemar.b_only,
        p_value: c.mcnemar.p_value,
        per_class: c
            .per_class
            .iter()
            .map(|p| ClassDelta {
                class: p.class.clone(),
                n: p.n,
                baseline: p.accuracy_a,
                run: p.accuracy_b,
                delta: p.delta,
            })
            .collect(),
        overlap: c
            .space_overlap
            .iter()
            .map(|o| (o.domain.clone(), o.k, o.mean_jaccard))
            .collect(),
        fixed: c.fixed.iter().take(CHANGES_SHOWN).map(change).collect(),
        broken: c.broken.iter().take(CHANGES_SHOWN).map(change).collect(),
        json: Some(json),
    }
}

/// Compare every finished non-baseline run with its baseline ([`baseline_of`]) on the same target
/// images and record the result (or why there is none) in the run's diagnosis.
pub fn attach_baselines(
    ws: &mut Workspace,
    runs: &mut [RunOutcome],
    on_event: &(dyn Fn(Event) + Sync),
) {
    let ids = run_ids(runs);
    for i in 0..runs.len() {
        let j = match baseline_of(runs, i) {
            Ok(Some(j)) => j,
            Ok(None) => continue,
            Err(note) => {
                if let RunStatus::Done(d) = &mut runs[i].status {
                    d.diagnosis.notices.push(note);
                }
                continue;
            }
        };
        let baseline_name = runs[j].name.clone();
        let result = (|| -> Result<BaselineComparison> {
            let a = ws.settings.model(&runs[j].run.model).load()?;
            let b = ws.settings.model(&runs[i].run.model).load()?;
            let pair: Pair = runs[i].pair.parse()?;
            let (c, base) = compare::compare(ws, &a, &b, &pair, on_event)?;
            let mut out = summary(&c, &runs[j], &ids[j], with_ext(&base, "json"));
            let root = ws
                .project()
                .map(|p| p.root.clone())
                .unwrap_or_else(|| PathBuf::from("."));
            for list in [&mut out.fixed, &mut out.broken] {
                let paths: Vec<String> = list.iter().map(|x| x.path.clone()).collect();
                for (x, t) in list
                    .iter_mut()
                    .zip(thumbnails(&root, &paths, &b.preprocess))
                {
                    x.thumbnail = t;
                }
            }
            Ok(out)
        })();
        if let RunStatus::Done(d) = &mut runs[i].status {
            match result {
                Ok(c) => d.diagnosis.baseline = Some(c),
                Err(e) => d.diagnosis.notices.push(format!(
                    "comparison with baseline {baseline_name}: {}",
                    e.chain_text()
                )),
            }
        }
    }
}
