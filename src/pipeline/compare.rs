//! The compare job: two models on the same images of one split and pair, written as
//! `<S>-<T>.{csv,json}` in [`crate::layout::Layout::compare`].
//!
//! On the target domain: the accuracy difference (B − A) with a paired bootstrap interval, McNemar's
//! exact test, per-class accuracy deltas, and the images B fixes (A wrong, B right) and breaks (A right,
//! B wrong). On both domains: the mean kNN Jaccard overlap of the two embedding spaces. Images are
//! matched by path, so both models are judged on exactly the same images.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::embed::Event;
use super::Workspace;
use crate::dataset::Pair;
use crate::error::{Error, Result, ResultExt};
use crate::layout::{with_ext, Layout};
use crate::metrics::bootstrap::BootstrapInterval;
use crate::metrics::compare::{
    compare_predictions, knn_jaccard, predictions, CompareParams, McNemar,
};
use crate::model::ModelInfo;
use crate::store::DomainEmbeddings;

/// Header of the comparison CSV (one row for all target images, then one per class).
pub const COMPARE_HEADER: [&str; 10] = [
    "model_a",
    "model_b",
    "split",
    "pair",
    "class_index",
    "class",
    "n",
    "accuracy_a",
    "accuracy_b",
    "delta",
];

/// One image whose correctness changed between the models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageChange {
    /// Image path relative to the data root.
    pub path: String,
    /// True class.
    pub class: String,
    /// Model A's prediction.
    pub predicted_a: String,
    /// Model B's prediction.
    pub predicted_b: String,
}

/// Per-class accuracy under both models.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassChange {
    /// Class name.
    pub class: String,
    /// Target images of the class.
    pub n: usize,
    /// Model A's accuracy on the class.
    pub accuracy_a: Option<f64>,
    /// Model B's accuracy on the class.
    pub accuracy_b: Option<f64>,
    /// `accuracy_b − accuracy_a`.
    pub delta: Option<f64>,
}

/// How similar the two embedding spaces are on one domain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpaceOverlap {
    /// Domain name.
    pub domain: String,
    /// Images.
    pub n: usize,
    /// Neighbours per image (reduced to `n − 1` for small domains).
    pub k: usize,
    /// Mean Jaccard overlap of each image's `k` nearest neighbours in the two spaces (1 = identical
    /// neighbourhoods); `None` when the domain has fewer than 2 images.
    pub mean_jaccard: Option<f64>,
}

/// What `compare` computes for two models, a split and a pair.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelComparison {
    /// Model A's file stem.
    pub model_a: String,
    /// Model B's file stem.
    pub model_b: String,
    /// Model A's SHA-256.
    pub model_a_sha256: String,
    /// Model B's SHA-256.
    pub model_b_sha256: String,
    /// Split folder.
    pub split: String,
    /// `S-T` in domain codes.
    pub pair: String,
    /// Source domain name.
    pub source: String,
    /// Target domain name.
    pub target: String,
    /// Class names in logit order.
    pub class_names: Vec<String>,
    /// Target images both models were run on.
    pub n_target: usize,
    /// Model A's target accuracy.
    pub accuracy_a: f64,
    /// Model B's target accuracy.
    pub accuracy_b: f64,
    /// `accuracy_b − accuracy_a`.
    pub difference: f64,
    /// Paired bootstrap interval of the difference.
    pub difference_ci: Option<BootstrapInterval>,
    /// McNemar's exact test on the target images.
    pub mcnemar: McNemar,
    /// Per-class target accuracy under both models.
    pub per_class: Vec<ClassChange>,
    /// Target images model A gets wrong and model B right.
    pub fixed: Vec<ImageChange>,
    /// Target images model A gets right and model B wrong.
    pub broken: Vec<ImageChange>,
    /// kNN overlap of the two embedding spaces, source domain then target domain.
    pub space_overlap: Vec<SpaceOverlap>,
    /// The parameters used.
    pub settings: CompareParams,
    /// Things to know (images present for one model only, ...).
    pub notices: Vec<String>,
    /// dannscope version.
    pub dannscope_version: String,
}

/// Rows of `a` and `b` that hold the same image, in `a`'s order.
fn matched_rows(a: &DomainEmbeddings, b: &DomainEmbeddings) -> (Vec<usize>, Vec<usize>) {
    let in_b: HashMap<&str, usize> = b
        .record
        .paths
        .iter()
        .enumerate()
        .map(|(i, p)| (p.as_str(), i))
        .collect();
    a.record
        .paths
        .iter()
        .enumerate()
        .filter_map(|(i, p)| in_b.get(p.as_str()).map(|&j| (i, j)))
        .unzip()
}

fn name(names: &[String], c: usize) -> String {
    names.get(c).cloned().unwrap_or_else(|| c.to_string())
}

/// Compare two models' stored embeddings of the same split and pair. Labels come from the store (both
/// models' records must use the same class names).
pub fn compare_embedded(
    a: (&str, &[DomainEmbeddings; 2]),
    b: (&str, &[DomainEmbeddings; 2]),
    pair: (&str, &str, &str),
    split: &str,
    params: &CompareParams,
) -> Result<ModelComparison> {
    let (name_a, [sa, ta]) = a;
    let (name_b, [sb, tb]) = b;
    let class_names = ta.record.class_names.clone();
    if tb.record.class_names != class_names {
        return Err(Error::Invalid(format!(
            "{name_a} and {name_b} name their classes differently: they cannot be compared"
        )));
    }
    let mut notices = Vec::new();
    let (ra, rb) = matched_rows(ta, tb);
    for (m, d, n) in [(name_a, ta, ra.len()), (name_b, tb, rb.len())] {
        if d.record.n > n {
            notices.push(format!(
                "{}: {} of {m}'s target images were not run through the other model; left out",
                d.record.domain,
                d.record.n - n
            ));
        }
    }
    let preds = |d: &DomainEmbeddings, m: &str| match &d.logits {
        Some(l) => Ok(predictions(l.view())),
        None => Err(Error::Invalid(format!(
            "{m} has no logits (no classification head): accuracies cannot be compared"
        ))),
    };
    let pa_all = preds(ta, name_a)?;
    let pb_all = preds(tb, name_b)?;
    let pa: Vec<usize> = ra.iter().map(|&i| pa_all[i]).collect();
    let pb: Vec<usize> = rb.iter().map(|&i| pb_all[i]).collect();
    let labels = ta.label.select(ndarray::Axis(0), &ra);
    let labels_b = tb.label.select(ndarray::Axis(0), &rb);
    if labels != labels_b {
        return Err(Error::Invalid(format!(
            "{name_a} and {name_b} label the same target images differently"
        )));
    }
    let r = compare_predictions(labels.view(), &pa, &pb, class_names.len(), params)
        .context_with(|| format!("comparing {name_a} with {name_b}"))?;
    let change = |i: usize| {
        let row = ra[i];
        ImageChange {
            path: ta.record.paths[row].clone(),
            class: name(&class_names, labels[i] as usize),
            predicted_a: name(&class_names, pa[i]),
            predicted_b: name(&class_names, pb[i]),
        }
    };
    let mut space_overlap = Vec::new();
    for (da, db) in [(sa, sb), (ta, tb)] {
        let (ia, ib) = matched_rows(da, db);
        let ea = da.embedding.view().select(ndarray::Axis(0), &ia);
        let eb = db.embedding.view().select(ndarray::Axis(0), &ib);
        let n = ia.len();
        let mean_jaccard = if n >= 2 {
            Some(
                knn_jaccard(ea.view(), eb.view(), params.k, params.precision)
                    .context_with(|| format!("kNN overlap on {}", da.record.domain))?,
            )
        } else {
            notices.push(format!(
                "{}: fewer than 2 images in common: no kNN overlap",
                da.record.domain
            ));
            None
        };
        space_overlap.push(SpaceOverlap {
            domain: da.record.domain.clone(),
            n,
            k: params.k.min(n.saturating_sub(1)),
            mean_jaccard,
        });
    }
    Ok(ModelComparison {
        model_a: name_a.to_string(),
        model_b: name_b.to_string(),
        model_a_sha256: ta.record.model.sha256.clone(),
        model_b_sha256: tb.record.model.sha256.clone(),
        split: split.to_string(),
        pair: pair.0.to_string(),
        source: pair.1.to_string(),
        target: pair.2.to_string(),
        n_target: r.n,
        accuracy_a: r.accuracy_a,
        accuracy_b: r.accuracy_b,
        difference: r.difference,
        difference_ci: r.difference_ci.clone(),
        mcnemar: r.mcnemar.clone(),
        per_class: r
            .per_class
            .iter()
            .map(|c| ClassChange {
                class: name(&class_names, c.class),
                n: c.n,
                accuracy_a: c.accuracy_a,
                accuracy_b: c.accuracy_b,
                delta: c.delta,
            })
            .collect(),
        fixed: r.fixed.iter().map(|&i| change(i)).collect(),
        broken: r.broken.iter().map(|&i| change(i)).collect(),
        space_overlap,
        settings: params.clone(),
        notices,
        class_names,
        dannscope_version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// The comparison parameters of a workspace: bootstrap resamples, level and seed of its metric
/// settings, `k` = its Jaccard neighbours (`--jaccard-k`).
pub fn params(ws: &Workspace) -> CompareParams {
    let c = ws.settings.metrics.classification(&ws.settings.seeds);
    CompareParams {
        n_resamples: c.n_resamples,
        level: c.level,
        seed: c.seed,
        precision: ws.settings.metrics.precision(),
        k: ws.settings.metrics.neighbours().jaccard,
    }
}

/// Embed (or read) both models' domains through `ws`, compare them on `pair` and write the files.
/// Returns the comparison and the base path of its files.
pub fn compare(
    ws: &mut Workspace,
    a: &ModelInfo,
    b: &ModelInfo,
    pair: &Pair,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(ModelComparison, PathBuf)> {
    let ea = ws.embeddings(a, std::slice::from_ref(pair), on_event)?;
    let eb = ws.embeddings(b, std::slice::from_ref(pair), on_event)?;
    if ea.key == eb.key {
        return Err(Error::Invalid(format!(
            "{} and {} are the same model (output name \"{}\"): compare two different models",
            a.path.display(),
            b.path.display(),
            ea.key.model
        )));
    }
    let (s, t) = ea.pair(pair)?;
    let (s2, t2) = eb.pair(pair)?;
    let (ds, dt) = (&ea.domains[s], &ea.domains[t]);
    let dir = ws.layout.compare(&ea.key, &eb.key)?;
    let base = Layout::pair_base(&dir, ds, dt, "")?;
    let r = compare_embedded(
        (&ea.key.model, &[ea.data[s].clone(), ea.data[t].clone()]),
        (&eb.key.model, &[eb.data[s2].clone(), eb.data[t2].clone()]),
        (&Pair::of(ds, dt).to_string(), &ds.name, &dt.name),
        &ea.key.split_dir(),
        &params(ws),
    )?;
    write(&base, &r)?;
    Ok((r, base))
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

/// Write `<base>.json` (everything) and `<base>.csv` (overall, then per-class accuracies).
pub fn write(base: &Path, r: &ModelComparison) -> Result<()> {
    let csv_path = with_ext(base, "csv");
    crate::atomic::write_csv(&csv_path, |c| {
        c.write_record(COMPARE_HEADER)?;
        let mut rows = vec![(
            String::new(),
            "all",
            r.n_target,
            Some(r.accuracy_a),
            Some(r.accuracy_b),
            Some(r.difference),
        )];
        for (i, x) in r.per_class.iter().enumerate() {
            rows.push((
                i.to_string(),
                &x.class,
                x.n,
                x.accuracy_a,
                x.accuracy_b,
                x.delta,
            ));
        }
        for (class_index, class, n, a, b, d) in rows {
            c.write_record([
                r.model_a.as_str(),
                &r.model_b,
                &r.split,
                &r.pair,
                &class_index,
                class,
                &n.to_string(),
                &num(a),
                &num(b),
                &num(d),
            ])?;
        }
        Ok(())
    })?;
    Ok(crate::atomic::write_json(&with_ext(base, "json"), r)?)
}
