//! The sharded embed and the merge: `embed --shard I/N` computes one shard's rows into
//! `shards/<I>-of-<N>/` of the embeddings folder; `merge` turns the finished shards into the files a
//! single-process embed writes (see [`crate::shard`]).

use std::path::Path;

use crate::engine::{Engine, EngineOptions};
use crate::error::Result;
use crate::layout::Layout;
use crate::model::ModelInfo;
use crate::shard::merge::{MergeOptions, MergeSummary};
use crate::shard::plan::ranges;
use crate::shard::record::{plan_fingerprint, rows_fingerprint, ShardDomain, ShardRecord};
use crate::shard::{self, Shard};
use crate::store;

use super::embed::{self, DomainWork, EmbedJob, EmbedSummary, Event, Part};

/// The shard record a finished `shard` of this plan writes (before its rows are computed).
pub fn shard_record(
    works: &[DomainWork],
    model: &ModelInfo,
    batch_size: usize,
    shard: Shard,
) -> ShardRecord {
    let sizes: Vec<usize> = works.iter().map(|w| w.items.len()).collect();
    let rows = ranges(&sizes, batch_size, shard);
    let key: Vec<(&str, &str, usize)> = works
        .iter()
        .map(|w| {
            (
                w.domain.name.as_str(),
                w.fingerprint.as_str(),
                w.items.len(),
            )
        })
        .collect();
    ShardRecord {
        format: shard::record::SHARD_FORMAT,
        index: shard.index(),
        count: shard.count(),
        plan: plan_fingerprint(&key, batch_size, shard.count()),
        model_sha256: model.sha256.clone(),
        batch_size,
        domains: works
            .iter()
            .zip(rows)
            .map(|(w, (start, end))| ShardDomain {
                domain: w.domain.name.clone(),
                fingerprint: w.fingerprint.clone(),
                items: w.items.len(),
                start,
                end,
            })
            .collect(),
    }
}

/// Embed one shard's rows of every domain of the job into `shards/<I>-of-<N>/` of its folder, then
/// write its `shard.json`. A finished shard of the same plan is reused (unless `force`), and so is
/// each finished domain part of an interrupted one. Where the finished shards on disk are all of
/// another shard count, nothing is computed ([`crate::shard::merge::check_plan`]).
pub fn run_shard(
    job: &EmbedJob,
    model: &ModelInfo,
    engine_opts: &EngineOptions,
    shard: Shard,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<EmbedSummary> {
    let (works, class_names) = embed::plan(job, model)?;
    let (works, class_names) = (&works[..], &class_names[..]);
    let batch_size = engine_opts.batch_size.max(1);
    let dir = Layout::shard_dir(&job.dir, shard.index(), shard.count());
    let record = shard_record(works, model, batch_size, shard);
    // Finished shards of another count on disk: refused before anything is computed.
    shard::merge::check_plan(&job.dir, &record)?;
    let rec_path = Layout::shard_record(&dir);
    let _lock = embed::lock_dir(&dir, &|p| on_event(Event::Waiting(p)))?;
    let done_before =
        !job.force && store::read_json::<ShardRecord>(&rec_path).is_ok_and(|r| r == record);
    let mut engine: Option<Box<dyn Engine>> = None;
    let mut reports = Vec::new();
    for (w, d) in works.iter().zip(&record.domains) {
        if d.start == d.end {
            continue;
        }
        let fp = rows_fingerprint(&w.fingerprint, d.start, d.end);
        if let Some(r) = embed::cached(&dir, &w.domain.name, &fp, job.force && !done_before) {
            on_event(Event::DomainDone(&r, true));
            reports.push(r);
            continue;
        }
        let eng = embed::engine_of(&mut engine, model, engine_opts, on_event)?;
        on_event(Event::DomainStart(&w.domain.name, d.end - d.start));
        let part = Part {
            dir: &dir,
            work: w,
            rows: (d.start, d.end),
            shard: Some(shard),
            fingerprint: fp,
        };
        let r = embed::embed_part(job, model, eng, &part, class_names, batch_size, on_event)?;
        on_event(Event::DomainDone(&r, false));
        reports.push(r);
    }
    // Written last: the shard is finished.
    crate::atomic::write_json(&rec_path, &record)?;
    Ok(EmbedSummary {
        domains: reports,
        engine: engine.map(|e| e.info().clone()),
        dir,
    })
}

/// Merge the finished shards of the embeddings folder `dir` under its lock (see
/// [`crate::shard::merge::merge`]).
pub fn merge(
    dir: &Path,
    opts: &MergeOptions,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<MergeSummary> {
    let _lock = embed::lock_dir(dir, &|p| on_event(Event::Waiting(p)))?;
    shard::merge::merge(dir, opts)
}
