//! The eval job: classification results per domain, cohesion measures and per-class transfer per pair
//! from stored embeddings, written as `classification.csv`, `cohesion.csv`, `transfer.csv`,
//! `misalignment.csv` and `metrics.json` in [`crate::layout::Layout::metrics`]; the misalignment heat
//! map of each pair goes next to its map files ([`draw_misalignment`]).

use std::path::Path;

use super::Embedded;
use crate::dataset::Pair;
use crate::error::{Error, Result, ResultExt};
use crate::layout::{with_ext, Layout};
use crate::metrics::eval::{self, EvalDomain, EvalResults};
use crate::metrics::transfer::TransferParams;
use crate::metrics::DomainData;
use crate::metrics::{absent_class_notice, class_label};
use crate::settings::{MetricSettings, Seeds};
use crate::store::DomainEmbeddings;

/// Header of `classification.csv`.
pub const CLASSIFICATION_HEADER: [&str; 10] = [
    "model",
    "split",
    "domain",
    "n",
    "accuracy",
    "auroc",
    "accuracy_ci_low",
    "accuracy_ci_high",
    "auroc_ci_low",
    "auroc_ci_high",
];

/// Header of `cohesion.csv`.
pub const COHESION_HEADER: [&str; 5] = ["model", "split", "pair", "metric", "value"];

/// Header of `transfer.csv` (one row per pair × class).
pub const TRANSFER_HEADER: [&str; 19] = [
    "model",
    "split",
    "pair",
    "class_index",
    "class",
    "n_source",
    "n_target",
    "source_accuracy",
    "target_accuracy",
    "knn_agreement",
    "knn_nearest_class",
    "knn_nearest_share",
    "centroid_nearest_class",
    "centroid_nearest_share",
    "mmd2_rbf",
    "mmd_sigma2",
    "domain_silhouette",
    "k",
    "pulled_into",
];

/// Header of `misalignment.csv` (one row per pair × target class × source class).
pub const MISALIGNMENT_HEADER: [&str; 10] = [
    "model",
    "split",
    "pair",
    "target_class_index",
    "target_class",
    "source_class_index",
    "source_class",
    "count",
    "row_share",
    "k",
];

fn view(d: &DomainEmbeddings) -> DomainData<'_> {
    DomainData::new(
        d.embedding.view(),
        d.logits.as_ref().map(|l| l.view()),
        d.label.view(),
    )
}

/// Compute the results of every domain of `e`, and of the `pairs` (indices into its domains); the
/// bootstrap and the seeded measures take `seeds.metrics`.
pub fn evaluate(
    model: &str,
    e: &Embedded,
    pairs: &[(usize, usize)],
    set: &MetricSettings,
    seeds: &Seeds,
) -> Result<EvalResults> {
    let (cls, coh) = (set.classification(seeds), set.cohesion(seeds));
    let first = e
        .data
        .first()
        .ok_or_else(|| Error::Invalid("nothing to evaluate: no domains".into()))?;
    let class_names = first.record.class_names.clone();
    let mut inputs = Vec::with_capacity(e.data.len());
    for (dom, d) in e.domains.iter().zip(&e.data) {
        if d.record.class_names != class_names {
            return Err(Error::Invalid(format!(
                "domain \"{}\" was embedded with other class names than \"{}\"",
                dom.name, e.domains[0].name
            )));
        }
        inputs.push(EvalDomain {
            domain: dom,
            data: view(d),
        });
    }
    let mut notices = Vec::new();
    let mut domains = Vec::new();
    let cls = cls.class_names(&class_names);
    for (inp, d) in inputs.iter().zip(&e.data) {
        let (r, n) = eval::domain_result(inp, class_names.len(), &cls)
            .context_with(|| format!("{} ({} split)", d.record.domain, d.record.split))?;
        domains.push(r);
        notices.extend(n);
    }
    absent_everywhere(&domains, &class_names, &mut notices);
    let mut pair_results = Vec::new();
    for &(s, t) in pairs {
        let (r, n) = eval::pair_result(&inputs[s], &inputs[t], &coh)
            .context_with(|| format!("pair {}", Pair::of(&e.domains[s], &e.domains[t])))?;
        pair_results.push(r);
        notices.extend(n);
    }
    let tp = TransferParams::from_cohesion(&coh)
        .k(set.neighbours().transfer)
        .class_names(&class_names);
    let mut transfer = Vec::new();
    for &(s, t) in pairs {
        let (r, n) = eval::pair_transfer(&inputs[s], &inputs[t], class_names.len(), &tp)
            .context_with(|| {
                format!(
                    "per-class transfer of pair {}",
                    Pair::of(&e.domains[s], &e.domains[t])
                )
            })?;
        transfer.push(r);
        notices.extend(n);
    }
    Ok(EvalResults {
        model: model.to_string(),
        model_sha256: first.record.model.sha256.clone(),
        split: e.key.split_dir(),
        class_names,
        domains,
        pairs: pair_results,
        transfer,
        settings: eval::settings(&cls, &coh),
        notices,
        dannscope_version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Classes of the model with no point in any evaluated domain (a class subset, or classes the data
/// lacks) are told once, not once per domain and class.
fn absent_everywhere(
    domains: &[crate::metrics::eval::DomainResult],
    class_names: &[String],
    notices: &mut Vec<String>,
) {
    let scored: Vec<_> = domains
        .iter()
        .filter_map(|d| d.classification.as_ref().map(|c| (d, c)))
        .collect();
    if scored.is_empty() {
        return;
    }
    let absent: Vec<usize> = (0..class_names.len())
        .filter(|&c| {
            scored
                .iter()
                .all(|(_, r)| r.per_class.get(c).is_some_and(|x| x.support == 0))
        })
        .collect();
    if absent.is_empty() {
        return;
    }
    let dropped: std::collections::HashSet<String> = scored
        .iter()
        .flat_map(|(d, _)| {
            absent.iter().map(move |&c| {
                format!(
                    "{}: {}",
                    d.domain,
                    absent_class_notice(&class_label(class_names, c))
                )
            })
        })
        .collect();
    notices.retain(|n| !dropped.contains(n));
    let names: Vec<String> = absent.iter().map(|&c| class_names[c].clone()).collect();
    notices.push(format!(
        "no images of {} of the model's {} classes here (not in the data, or left out with \
         --classes): {}; they are left out of the macro AUROC",
        absent.len(),
        class_names.len(),
        crate::dataset::preview(&names, 12)
    ));
}

fn num(v: Option<f64>) -> String {
    v.map(|x| format!("{x}")).unwrap_or_default()
}

fn write_csv(
    path: &Path,
    fill: impl FnOnce(&mut csv::Writer<&mut dyn std::io::Write>) -> csv::Result<()>,
) -> Result<()> {
    Ok(crate::atomic::write_csv(path, fill)?)
}

/// Write `classification.csv`, `cohesion.csv`, `transfer.csv`, `misalignment.csv` and `metrics.json`
/// into `dir` (atomically, each).
pub fn write(dir: &Path, r: &EvalResults) -> Result<()> {
    write_csv(&dir.join("classification.csv"), |c| {
        c.write_record(CLASSIFICATION_HEADER)?;
        for d in &r.domains {
            let Some(cl) = &d.classification else {
                continue;
            };
            c.write_record([
                r.model.clone(),
                r.split.clone(),
                d.domain.clone(),
                d.n.to_string(),
                format!("{}", cl.accuracy),
                num(cl.auroc),
                num(cl.accuracy_ci.as_ref().map(|i| i.lower)),
                num(cl.accuracy_ci.as_ref().map(|i| i.upper)),
                num(cl.auroc_ci.as_ref().map(|i| i.lower)),
                num(cl.auroc_ci.as_ref().map(|i| i.upper)),
            ])?;
        }
        Ok(())
    })?;
    write_csv(&dir.join("cohesion.csv"), |c| {
        c.write_record(COHESION_HEADER)?;
        for p in &r.pairs {
            for m in &p.cohesion.metrics {
                c.write_record([&r.model, &r.split, &p.pair, &m.name, &num(m.value)])?;
            }
        }
        Ok(())
    })?;
    let name = |c: usize| r.class_names.get(c).cloned().unwrap_or_default();
    let idx = |c: Option<usize>| c.map(|c| c.to_string()).unwrap_or_default();
    write_csv(&dir.join("transfer.csv"), |c| {
        c.write_record(TRANSFER_HEADER)?;
        for p in &r.transfer {
            let t = &p.transfer;
            for x in &t.classes {
                // the source class that takes the largest share of this class's target images, if not
                // its own
                let pulled = t
                    .pulls
                    .iter()
                    .find(|q| q.target_class == x.class)
                    .map(|q| name(q.source_class))
                    .unwrap_or_default();
                c.write_record([
                    r.model.clone(),
                    r.split.clone(),
                    p.pair.clone(),
                    x.class.to_string(),
                    name(x.class),
                    x.n_source.to_string(),
                    x.n_target.to_string(),
                    num(x.source_accuracy),
                    num(x.target_accuracy),
                    num(x.knn_agreement),
                    idx(x.knn_nearest_class),
                    num(x.knn_nearest_share),
                    idx(x.centroid_nearest_class),
                    num(x.centroid_nearest_share),
                    num(x.mmd2_rbf),
                    num(x.mmd_sigma2),
                    num(x.domain_silhouette),
                    t.k.to_string(),
                    pulled,
                ])?;
            }
        }
        Ok(())
    })?;
    write_csv(&dir.join("misalignment.csv"), |c| {
        c.write_record(MISALIGNMENT_HEADER)?;
        for p in &r.transfer {
            let t = &p.transfer;
            for (tc, row) in t.misalignment.iter().enumerate() {
                let total: u64 = row.iter().sum();
                for (sc, &count) in row.iter().enumerate() {
                    c.write_record([
                        r.model.clone(),
                        r.split.clone(),
                        p.pair.clone(),
                        tc.to_string(),
                        name(tc),
                        sc.to_string(),
                        name(sc),
                        count.to_string(),
                        num((total > 0).then(|| count as f64 / total as f64)),
                        t.k.to_string(),
                    ])?;
                }
            }
        }
        Ok(())
    })?;
    Ok(crate::atomic::write_json(&dir.join("metrics.json"), r)?)
}

/// Draw each pair's misalignment matrix (target class × kNN-majority source class, coloured by the
/// share of the row) as `<S>-<T>_misalignment.{svg,png}` in `dir` (the pair's map folder, see
/// [`crate::layout::Layout::tsne`]). `pairs` are the indices into `e.domains` that `r` was evaluated
/// with. Returns the base paths written.
pub fn draw_misalignment(
    dir: &Path,
    r: &EvalResults,
    e: &Embedded,
    pairs: &[(usize, usize)],
) -> Result<Vec<std::path::PathBuf>> {
    let mut out = Vec::new();
    if !r.transfer.is_empty() {
        std::fs::create_dir_all(dir).map_err(|e| Error::Io {
            path: dir.to_path_buf(),
            source: e,
        })?;
    }
    for (p, &(s, t)) in r.transfer.iter().zip(pairs) {
        let base = Layout::pair_base(dir, &e.domains[s], &e.domains[t], "_misalignment")?;
        let title = format!(
            "{} · {} → {} · {}: target class × majority class of its {} nearest source images",
            r.model, p.source, p.target, r.split, p.transfer.k
        );
        crate::plot::confusion_heatmap(
            &p.transfer.misalignment,
            &r.class_names,
            &title,
            &with_ext(&base, "svg"),
            &with_ext(&base, "png"),
        )?;
        out.push(base);
    }
    Ok(out)
}

/// Read `metrics.json` back.
pub fn read(dir: &Path) -> Result<EvalResults> {
    crate::store::read_json(&dir.join("metrics.json"))
}
