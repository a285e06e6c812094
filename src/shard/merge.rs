//! Merge finished shards into the files a single-process embed writes.
//!
//! Checks, before anything is written: every finished shard belongs to one plan (same model, images,
//! preprocessing, split, batch size and count: [`super::record::plan_fingerprint`]), lies in its own
//! folder, holds exactly the rows the plan gives it ([`super::plan::ranges`]), and its arrays are those
//! rows ([`super::record::rows_fingerprint`]); every shard of the plan is finished (unless a partial
//! merge is asked for); the shards agree on everything the merged record states once (engine,
//! provider, classes, dimensions, ...). Shard folders are never modified or removed, and a finished
//! result of other inputs is not replaced unless asked.

use std::path::{Path, PathBuf};

use ndarray::{concatenate, Array1, Array2, Axis};
use sha2::{Digest, Sha256};

use super::plan::ranges;
use super::record::{plan_fingerprint, rows_fingerprint, ShardRecord};
use super::{Shard, ShardError};
use crate::error::Result;
use crate::layout::Layout;
use crate::store::{self, DomainEmbeddings, EmbeddingRecord, RunRecord};
use crate::text;

/// What to check a merge against.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    /// SHA-256 of the model the shards must come from.
    pub model_sha256: String,
    /// When the data are at hand: each domain's name and the fingerprint of its current inputs, in
    /// order; shards of other inputs are refused.
    pub expected: Option<Vec<(String, String)>>,
    /// Merge the finished shards even when some are missing (the files then hold fewer rows and a
    /// fingerprint that no embed takes for finished).
    pub partial: bool,
    /// Replace finished results of other inputs.
    pub force: bool,
}

/// One merged domain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MergedDomain {
    /// Domain name.
    pub domain: String,
    /// Rows written.
    pub n: usize,
    /// Images skipped (unreadable) in the shards.
    pub skipped: usize,
    /// Whether every row of the domain is there.
    pub complete: bool,
}

/// Outcome of a merge.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MergeSummary {
    /// Shard count of the plan.
    pub count: usize,
    /// Indices of the shards merged.
    pub merged: Vec<usize>,
    /// Indices of the shards missing (only in a partial merge).
    pub missing: Vec<usize>,
    /// Per domain.
    pub domains: Vec<MergedDomain>,
    /// What a partial merge leaves out: each domain with rows in the missing shards, and how many.
    pub left_out: Vec<(String, usize)>,
}

fn mismatch(path: &Path, message: impl Into<String>) -> crate::error::Error {
    ShardError::Mismatch {
        path: path.to_path_buf(),
        message: message.into(),
    }
    .into()
}

/// Shard folders under `shards`: `(index, count, folder)` of every `<I>-of-<N>` folder.
fn shard_folders(shards: &Path) -> Result<Vec<(usize, usize, PathBuf)>> {
    let rd = std::fs::read_dir(shards).map_err(|_| ShardError::NoShards(shards.to_path_buf()))?;
    let mut out = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(s) = folder_shard(&name) {
            if e.path().is_dir() {
                out.push((s.index(), s.count(), e.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Merge the finished shards of the embeddings folder `dir` into `dir/<Domain>.{npz,json}` (and the
/// run logs). The caller holds the folder's lock.
pub fn merge(dir: &Path, opts: &MergeOptions) -> Result<MergeSummary> {
    let shards_dir = Layout::shards(dir);
    let folders = shard_folders(&shards_dir)?;
    let mut finished: Vec<(ShardRecord, PathBuf)> = Vec::new();
    let mut started = Vec::new();
    for (i, n, path) in &folders {
        let rec_path = Layout::shard_record(path);
        if !rec_path.is_file() {
            started.push((*i, *n));
            continue;
        }
        let rec: ShardRecord = store::read_json(&rec_path)?;
        if (rec.index, rec.count) != (*i, *n) {
            return Err(mismatch(
                &rec_path,
                format!(
                    "this record is shard {}/{} but lies in the folder of shard {i}/{n} \
                     (a copied or renamed shard): put each shard in its own folder",
                    rec.index, rec.count
                ),
            ));
        }
        finished.push((rec, rec_path));
    }
    // The plan most finished shards share is the reference; a shard of another plan is named with
    // the one thing that sets it apart.
    let Some((first, _)) = finished
        .iter()
        .max_by_key(|(r, _)| {
            let same = finished.iter().filter(|(o, _)| o.plan == r.plan).count();
            (same, std::cmp::Reverse((r.count, r.index)))
        })
        .cloned()
    else {
        return Err(ShardError::NoShards(shards_dir).into());
    };
    let alike = finished
        .iter()
        .filter(|(r, _)| r.plan == first.plan)
        .count();
    if let Some((rec, path)) = finished.iter().find(|(r, _)| r.plan != first.plan) {
        let folder = path.parent().unwrap_or(&shards_dir);
        return Err(mismatch(
            path,
            format!(
                "shard {}/{} belongs to another embed than the {} (a plan of {}): {}. Move {} away \
                 (the merge takes one embed's shards) and merge again",
                rec.index,
                rec.count,
                if alike == 1 {
                    format!("finished shard {}/{}", first.index, first.count)
                } else {
                    format!("{alike} other finished shards")
                },
                text::count(first.count, "shard"),
                plan_difference(&first, rec),
                folder.display()
            ),
        ));
    }
    for (rec, path) in &finished {
        if rec.model_sha256 != opts.model_sha256 {
            return Err(mismatch(
                path,
                format!(
                    "made by another model file (sha256 {}…), not the one given ({}…)",
                    short(&rec.model_sha256),
                    short(&opts.model_sha256)
                ),
            ));
        }
        if let Some(exp) = &opts.expected {
            let got: Vec<(String, String)> = rec
                .domains
                .iter()
                .map(|d| (d.domain.clone(), d.fingerprint.clone()))
                .collect();
            if &got != exp {
                let names = |v: &[(String, String)]| -> String {
                    v.iter()
                        .map(|(n, _)| n.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let cause = match got.iter().zip(exp).find(|(g, e)| g != e) {
                    Some((g, e)) if g.0 == e.0 => format!(
                        "the inputs of domain \"{}\" differ from what the data now give (its \
                         images, manifest, split or preprocessing)",
                        g.0
                    ),
                    _ => format!(
                        "its domains are {}, the data now give {}",
                        names(&got),
                        names(exp)
                    ),
                };
                return Err(mismatch(path, format!("{cause}: embed the shards again")));
            }
        }
    }
    let count = first.count;
    let have: Vec<usize> = finished.iter().map(|(r, _)| r.index).collect();
    let missing: Vec<usize> = (0..count).filter(|i| !have.contains(i)).collect();
    if !missing.is_empty() && !opts.partial {
        return Err(ShardError::Missing {
            dir: shards_dir,
            count,
            in_progress: missing
                .iter()
                .copied()
                .filter(|i| started.contains(&(*i, count)))
                .collect(),
            missing,
        }
        .into());
    }
    // Each shard must hold exactly the rows the plan gives it.
    let sizes: Vec<usize> = first.domains.iter().map(|d| d.items).collect();
    for (rec, path) in &finished {
        let shard = rec
            .shard()
            .ok_or_else(|| mismatch(path, "not a valid shard index and count"))?;
        let want = ranges(&sizes, rec.batch_size, shard);
        let got: Vec<(usize, usize)> = rec.domains.iter().map(|d| (d.start, d.end)).collect();
        if got != want {
            return Err(mismatch(
                path,
                format!("holds rows {got:?}, but shard {shard} of this plan has rows {want:?}"),
            ));
        }
    }
    // Which shards hold rows of each domain, and whether they are all there.
    let parts_of = |d: usize| -> (Vec<(&ShardRecord, &PathBuf)>, bool) {
        let parts: Vec<(&ShardRecord, &PathBuf)> = finished
            .iter()
            .filter(|(r, _)| r.domains[d].start < r.domains[d].end)
            .map(|(r, p)| (r, p))
            .collect();
        let covered: usize = parts
            .iter()
            .map(|(r, _)| r.domains[d].end - r.domains[d].start)
            .sum();
        (parts, covered == first.domains[d].items)
    };
    // Every domain is read and checked before the first file is written (one domain in memory at a
    // time; the second pass reads the shards again).
    for (d, dom) in first.domains.iter().enumerate() {
        let (parts, complete) = parts_of(d);
        if !parts.is_empty() {
            let merged = merge_domain(&dom.domain, &dom.fingerprint, d, &parts, complete)?;
            guard_existing(dir, &merged.record, opts.expected.is_some(), opts.force)?;
        }
    }
    let mut out = Vec::new();
    for (d, dom) in first.domains.iter().enumerate() {
        let (parts, complete) = parts_of(d);
        if parts.is_empty() {
            continue;
        }
        let merged = merge_domain(&dom.domain, &dom.fingerprint, d, &parts, complete)?;
        store::write_domain(dir, &merged)?;
        let mut runs = RunRecord { runs: Vec::new() };
        for (_, p) in &parts {
            // The run logs are informational: a shard without one adds no entry.
            let shard_dir = p.parent().unwrap_or(Path::new("."));
            if let Ok(log) =
                store::read_json::<RunRecord>(&Layout::domain_runs(shard_dir, &dom.domain)?)
            {
                runs.runs.extend(log.runs);
            }
        }
        store::write_runs(dir, &dom.domain, &runs)?;
        out.push(MergedDomain {
            domain: dom.domain.clone(),
            n: merged.record.n,
            skipped: merged.record.skipped.len(),
            complete,
        });
    }
    let left_out = first
        .domains
        .iter()
        .enumerate()
        .map(|(d, dom)| {
            let rows: usize = missing
                .iter()
                .filter_map(|&i| Shard::new(i, count).ok())
                .map(|s| {
                    let (a, b) = ranges(&sizes, first.batch_size, s)[d];
                    b - a
                })
                .sum();
            (dom.domain.clone(), rows)
        })
        .filter(|(_, rows)| *rows > 0)
        .collect();
    Ok(MergeSummary {
        count,
        merged: have,
        missing,
        domains: out,
        left_out,
    })
}

/// The one thing that sets shard `other` apart from the `reference` plan (they have different plan
/// fingerprints).
fn plan_difference(reference: &ShardRecord, other: &ShardRecord) -> String {
    let names = |r: &ShardRecord| -> String {
        r.domains
            .iter()
            .map(|d| d.domain.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if other.model_sha256 != reference.model_sha256 {
        return format!(
            "it was made by another model file (sha256 {}…, the others {}…)",
            short(&other.model_sha256),
            short(&reference.model_sha256)
        );
    }
    if other.count != reference.count {
        return format!(
            "it is of a plan of {} (a task that ran with another shard count)",
            text::count(other.count, "shard")
        );
    }
    if other.batch_size != reference.batch_size {
        return format!(
            "it was embedded in batches of {}, the others in batches of {}",
            other.batch_size, reference.batch_size
        );
    }
    if names(other) != names(reference) {
        return format!(
            "its domains are {}, the others' {}",
            names(other),
            names(reference)
        );
    }
    for (o, r) in other.domains.iter().zip(&reference.domains) {
        if o.items != r.items {
            return format!(
                "its domain \"{}\" has {}, the others' {}",
                o.domain,
                text::count(o.items, "image"),
                r.items
            );
        }
        if o.fingerprint != r.fingerprint {
            return format!(
                "the inputs of its domain \"{}\" differ from the others' (the images, manifest, \
                 split or preprocessing)",
                o.domain
            );
        }
    }
    "its plan fingerprint differs from the others'".to_string()
}

/// Before a shard is computed: refuse when the finished shards under `dir/shards` are all of another
/// shard count than `mine` (the record the task will write). A resubmitted part of an array job
/// that became a plan of its own (one task: shard 0/1, the whole dataset), or a task run with
/// another count, is named with the plan on disk ([`ShardError::OtherPlan`]) instead of computing
/// shards that no merge takes. Shards of `mine`'s count on disk (of this embed or a stale one, which
/// the task replaces) let it run.
pub fn check_plan(dir: &Path, mine: &ShardRecord) -> Result<()> {
    let shards_dir = Layout::shards(dir);
    let Ok(folders) = shard_folders(&shards_dir) else {
        return Ok(());
    };
    let mut by_count: std::collections::BTreeMap<usize, Vec<ShardRecord>> = Default::default();
    for (i, n, path) in folders {
        let rec_path = Layout::shard_record(&path);
        if !rec_path.is_file() {
            continue;
        }
        // An unreadable or misplaced record is the merge's to name.
        if let Ok(rec) = store::read_json::<ShardRecord>(&rec_path) {
            if (rec.index, rec.count) == (i, n) {
                by_count.entry(n).or_default().push(rec);
            }
        }
    }
    if by_count.contains_key(&mine.count) {
        return Ok(());
    }
    let Some((count, recs)) = by_count
        .into_iter()
        .max_by_key(|(c, v)| (v.len(), std::cmp::Reverse(*c)))
    else {
        return Ok(());
    };
    let key: Vec<(&str, &str, usize)> = mine
        .domains
        .iter()
        .map(|d| (d.domain.as_str(), d.fingerprint.as_str(), d.items))
        .collect();
    let plan = plan_fingerprint(&key, mine.batch_size, count);
    Err(ShardError::OtherPlan {
        dir: shards_dir,
        this: mine.index,
        this_count: mine.count,
        count,
        finished: recs.iter().map(|r| r.index).collect(),
        same_embed: recs
            .iter()
            .all(|r| r.plan == plan && r.model_sha256 == mine.model_sha256),
    }
    .into())
}

fn short(s: &str) -> &str {
    &s[..12.min(s.len())]
}

/// The fields of a record that every shard states once (all but its rows and fingerprint).
fn header(r: &EmbeddingRecord) -> serde_json::Map<String, serde_json::Value> {
    let mut v = match serde_json::to_value(r) {
        Ok(serde_json::Value::Object(m)) => m,
        _ => serde_json::Map::new(),
    };
    for k in ["n", "paths", "skipped", "fingerprint"] {
        v.remove(k);
    }
    v
}

fn merge_domain(
    domain: &str,
    fingerprint: &str,
    d: usize,
    parts: &[(&ShardRecord, &PathBuf)],
    complete: bool,
) -> Result<DomainEmbeddings> {
    let mut read = Vec::with_capacity(parts.len());
    for (rec, path) in parts {
        let shard_dir = path.parent().unwrap_or(Path::new("."));
        let de = store::read_domain(shard_dir, domain)?;
        let (s, e) = (rec.domains[d].start, rec.domains[d].end);
        let (_, json) = Layout::domain_files(shard_dir, domain)?;
        if de.record.fingerprint != rows_fingerprint(fingerprint, s, e) {
            return Err(mismatch(
                &json,
                format!("these are not rows {s}..{e} of this plan's domain \"{domain}\""),
            ));
        }
        if de.record.n + de.record.skipped.len() != e - s {
            return Err(mismatch(
                &json,
                format!(
                    "{} rows and {} skipped images, expected {} images",
                    de.record.n,
                    de.record.skipped.len(),
                    e - s
                ),
            ));
        }
        read.push((de, json));
    }
    let (head, head_path) = (header(&read[0].0.record), read[0].1.clone());
    for (de, json) in &read[1..] {
        let h = header(&de.record);
        if h != head {
            let fields: Vec<&str> = head
                .keys()
                .chain(h.keys())
                .filter(|k| head.get(*k) != h.get(*k))
                .map(String::as_str)
                .collect();
            return Err(mismatch(
                json,
                format!(
                    "differs from {} in {}: shards of one result must run with the same engine, \
                     provider, model and settings",
                    head_path.display(),
                    fields.join(", ")
                ),
            ));
        }
    }
    let views: Vec<_> = read.iter().map(|(de, _)| de.embedding.view()).collect();
    let cat = |v: &[ndarray::ArrayView2<f32>]| -> Result<Array2<f32>> {
        concatenate(Axis(0), v).map_err(|e| mismatch(&head_path, format!("arrays: {e}")))
    };
    let embedding = cat(&views)?;
    let logits = if read.iter().all(|(de, _)| de.logits.is_some()) {
        let v: Vec<_> = read
            .iter()
            .filter_map(|(de, _)| de.logits.as_ref().map(|l| l.view()))
            .collect();
        Some(cat(&v)?)
    } else {
        None
    };
    let label: Array1<i64> = read
        .iter()
        .flat_map(|(de, _)| de.label.iter().copied())
        .collect();
    // A single run keeps the discriminator's outputs only when every batch had finite ones.
    let domain_logits = read
        .iter()
        .all(|(de, _)| de.domain_logits.is_some())
        .then(|| {
            read.iter()
                .flat_map(|(de, _)| de.domain_logits.iter().flatten().copied())
                .collect::<Array1<f32>>()
        });
    let mut record = read[0].0.record.clone();
    record.paths = read
        .iter()
        .flat_map(|(de, _)| de.record.paths.iter().cloned())
        .collect();
    record.skipped = read
        .iter()
        .flat_map(|(de, _)| de.record.skipped.iter().cloned())
        .collect();
    record.n = record.paths.len();
    record.fingerprint = if complete {
        fingerprint.to_string()
    } else {
        let mut h = Sha256::new();
        h.update(b"dannscope-partial-merge-v1\0");
        h.update(fingerprint.as_bytes());
        for (rec, _) in parts {
            h.update((rec.domains[d].start as u64).to_le_bytes());
            h.update((rec.domains[d].end as u64).to_le_bytes());
        }
        format!("partial-{}", hex::encode(h.finalize()))
    };
    Ok(DomainEmbeddings {
        embedding: embedding.into(),
        logits: logits.map(Into::into),
        label,
        domain_logits,
        record,
    })
}

/// Refuse to replace a finished complete result with another one unless the shards were checked
/// against the current inputs (`verified`) or `force` is set; a partial result is always replaced, and
/// never replaces a complete one unless `force`.
fn guard_existing(dir: &Path, new: &EmbeddingRecord, verified: bool, force: bool) -> Result<()> {
    let (_, json) = Layout::domain_files(dir, &new.domain)?;
    if force || !json.is_file() {
        return Ok(());
    }
    let Ok(old) = store::read_json::<EmbeddingRecord>(&json) else {
        return Ok(());
    };
    let old_partial = old.fingerprint.starts_with("partial-");
    let new_partial = new.fingerprint.starts_with("partial-");
    if old.fingerprint == new.fingerprint
        || old_partial
        || (verified && !new_partial)
        || !store::is_finished(dir, &new.domain, &old.fingerprint)
    {
        return Ok(());
    }
    Err(mismatch(
        &json,
        format!(
            "holds a finished result (fingerprint {}…) that the merge would replace with {} \
             (fingerprint {}…); name the data root so that the shards are checked against the \
             current inputs, or merge with force to replace it",
            short(&old.fingerprint),
            if new_partial {
                "a partial one"
            } else {
                "the shards' result"
            },
            short(&new.fingerprint)
        ),
    ))
}

/// The shard a folder name stands for (`<I>-of-<N>`), if any.
pub fn folder_shard(name: &str) -> Option<Shard> {
    let (i, n) = name.split_once("-of-")?;
    Shard::new(i.parse().ok()?, n.parse().ok()?).ok()
}
