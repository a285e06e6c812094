//! The embed job: decode (in parallel, overlapping inference) → run the engine → store per domain.
//!
//! Finished domains are skipped on a rerun with the same inputs (same fingerprint of model, image list
//! and preprocessing) unless `force` is set. Each domain is computed under an advisory lock on its
//! output folder, so two processes embedding into the same output root take turns (the second one
//! then finds the first one's result and reuses it); a process killed mid-domain leaves no file under
//! a final name, and its half-written pair is never mistaken for a finished one (see
//! [`crate::store::is_finished`]).

use std::path::{Path, PathBuf};
use std::time::Instant;

use ndarray::{Array1, Array2};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::dataset::Domain;
use crate::engine::{self, Engine, EngineInfo, EngineOptions};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::model::ModelInfo;
use crate::preprocess::Preprocessor;
use crate::project::{Item, Project};
use crate::split::SplitSel;
use crate::store::{self, DomainEmbeddings, EmbeddingRecord, ModelRecord, SkippedImage, Timings};

/// What to embed and where to put it.
#[derive(Debug, Clone)]
pub struct EmbedJob {
    /// Data root.
    pub data_root: PathBuf,
    /// Domains (all of them; `domains_wanted` picks).
    pub domains: Vec<Domain>,
    /// Indices of the domains to embed.
    pub domains_wanted: Vec<usize>,
    /// Dataset class names.
    pub classes: Vec<String>,
    /// Images of the split, any order (they are sorted by path per domain).
    pub items: Vec<Item>,
    /// The split.
    pub split: SplitSel,
    /// Output folder of this model's embeddings of this split ([`Layout::embeddings`]).
    pub dir: PathBuf,
    /// Recompute even when a finished result with the same fingerprint exists.
    pub force: bool,
    /// Fail on the first unreadable image instead of skipping it.
    pub strict: bool,
}

impl EmbedJob {
    /// A job for the images of `split` in `project`, writing into `dir`.
    pub fn new(
        project: &Project,
        split: SplitSel,
        domains_wanted: Vec<usize>,
        dir: PathBuf,
    ) -> EmbedJob {
        EmbedJob {
            data_root: project.root.clone(),
            domains: project.domains.clone(),
            domains_wanted,
            classes: project.classes.clone(),
            items: project.items(split),
            split,
            dir,
            force: false,
            strict: false,
        }
    }
}

/// Progress events, for a progress bar or a log.
#[derive(Debug, Clone)]
pub enum Event<'a> {
    /// The engine was opened.
    Engine(&'a EngineInfo, usize),
    /// A domain starts with this many images.
    DomainStart(&'a str, usize),
    /// Another process holds the lock of this output folder; waiting for it.
    Waiting(&'a Path),
    /// Images done so far in the current domain.
    Progress(usize),
    /// An image was skipped.
    Skipped(&'a str, &'a str),
    /// A domain was finished (or reused from the cache when the flag is true).
    DomainDone(&'a DomainReport, bool),
    /// Something the user should know, met during the work (e.g. the output name a model got).
    Note(&'a str),
}

/// Outcome of one domain.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DomainReport {
    /// Domain name.
    pub domain: String,
    /// Rows written.
    pub n: usize,
    /// Images skipped.
    pub skipped: usize,
    /// Reused from an earlier run.
    pub cached: bool,
    /// The `.npz` file.
    pub npz: PathBuf,
    /// Timings (zero when cached).
    pub timings: Timings,
}

/// Outcome of the job.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EmbedSummary {
    /// Per domain.
    pub domains: Vec<DomainReport>,
    /// The engine, when one was opened.
    pub engine: Option<EngineInfo>,
    /// Output folder.
    pub dir: PathBuf,
}

fn fingerprint(model: &ModelInfo, job: &EmbedJob, items: &[&Item], labels: &[i64]) -> String {
    let mut h = Sha256::new();
    h.update(b"dannscope-embed-v1\0");
    h.update(model.sha256.as_bytes());
    h.update(serde_json::to_vec(&model.preprocess).unwrap_or_default());
    h.update(serde_json::to_vec(&model.outputs).unwrap_or_default());
    h.update(job.split.as_str().as_bytes());
    for (it, l) in items.iter().zip(labels) {
        h.update(it.rel_path.as_bytes());
        h.update(b"\0");
        h.update(l.to_le_bytes());
        if let Ok(m) = std::fs::metadata(job.data_root.join(&it.rel_path)) {
            h.update(m.len().to_le_bytes());
            if let Ok(t) = m.modified() {
                if let Ok(d) = t.duration_since(std::time::UNIX_EPOCH) {
                    h.update(d.as_nanos().to_le_bytes());
                }
            }
        }
    }
    hex::encode(h.finalize())
}

/// One wanted domain of a job: its images in row order (by path), their labels and the fingerprint of
/// its inputs.
#[derive(Debug, Clone)]
pub struct DomainWork<'a> {
    /// The domain.
    pub domain: &'a Domain,
    /// Its images of the split, sorted by path.
    pub items: Vec<&'a Item>,
    /// Class index (model order) of each image.
    pub labels: Vec<i64>,
    /// Fingerprint of the inputs (model, images, preprocessing, split).
    pub fingerprint: String,
}

/// The wanted domains of a job in order, with the class names in the model's logit order. Refuses a
/// domain without images and a model whose classes do not fit the dataset's.
pub fn plan<'a>(
    job: &'a EmbedJob,
    model: &ModelInfo,
) -> Result<(Vec<DomainWork<'a>>, Vec<String>)> {
    let (class_map, class_names) = model.class_mapping(&job.classes)?;
    let mut works = Vec::with_capacity(job.domains_wanted.len());
    for &d in &job.domains_wanted {
        let domain = &job.domains[d];
        let mut items: Vec<&Item> = job.items.iter().filter(|i| i.domain == d).collect();
        items.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
        if items.is_empty() {
            return Err(Error::Invalid(format!(
                "domain \"{}\" has no images in the {} split",
                domain.name, job.split
            )));
        }
        let labels: Vec<i64> = items.iter().map(|i| class_map[i.class] as i64).collect();
        let fp = fingerprint(model, job, &items, &labels);
        works.push(DomainWork {
            domain,
            items,
            labels,
            fingerprint: fp,
        });
    }
    Ok((works, class_names))
}

/// The report of a finished pair `<domain>.{npz,json}` in `dir` with fingerprint `fp`, if there is one
/// (and `force` is off).
pub(crate) fn cached(dir: &Path, domain: &str, fp: &str, force: bool) -> Option<DomainReport> {
    if force || !store::is_finished(dir, domain, fp) {
        return None;
    }
    let (npz, json) = Layout::domain_files(dir, domain).ok()?;
    let rec = store::read_json::<EmbeddingRecord>(&json).ok()?;
    Some(DomainReport {
        domain: domain.to_string(),
        n: rec.n,
        skipped: rec.skipped.len(),
        cached: true,
        npz,
        timings: Timings::default(),
    })
}

/// The engine of a job, opened on first use.
pub(crate) fn engine_of<'e>(
    slot: &'e mut Option<Box<dyn Engine>>,
    model: &ModelInfo,
    opts: &EngineOptions,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<&'e mut (dyn Engine + 'static)> {
    if slot.is_none() {
        let e = engine::open(model, opts)?;
        on_event(Event::Engine(e.info(), opts.batch_size));
        *slot = Some(e);
    }
    slot.as_mut()
        .map(|e| e.as_mut())
        .ok_or_else(|| Error::Invalid("engine unavailable".into()))
}

/// Run the job: embed each wanted domain, reusing finished results. The engine is opened only when a
/// domain needs computing. (One shard of the job: [`crate::pipeline::shard::run_shard`].)
pub fn run(
    job: &EmbedJob,
    model: &ModelInfo,
    engine_opts: &EngineOptions,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<EmbedSummary> {
    let (works, class_names) = plan(job, model)?;
    let dir = job.dir.clone();
    let mut engine: Option<Box<dyn Engine>> = None;
    let mut reports = Vec::new();
    for w in &works {
        let name = &w.domain.name;
        if let Some(r) = cached(&dir, name, &w.fingerprint, job.force) {
            on_event(Event::DomainDone(&r, true));
            reports.push(r);
            continue;
        }
        // One process at a time computes a domain of this folder; a process that waited finds the
        // other's finished result.
        let _lock = lock_dir(&dir, &|p| on_event(Event::Waiting(p)))?;
        if let Some(r) = cached(&dir, name, &w.fingerprint, job.force) {
            on_event(Event::DomainDone(&r, true));
            reports.push(r);
            continue;
        }
        let eng = engine_of(&mut engine, model, engine_opts, on_event)?;
        on_event(Event::DomainStart(name, w.items.len()));
        let part = Part {
            dir: &dir,
            work: w,
            rows: (0, w.items.len()),
            shard: None,
            fingerprint: w.fingerprint.clone(),
        };
        let r = embed_part(
            job,
            model,
            eng,
            &part,
            &class_names,
            engine_opts.batch_size,
            on_event,
        )?;
        on_event(Event::DomainDone(&r, false));
        reports.push(r);
    }
    Ok(EmbedSummary {
        domains: reports,
        engine: engine.map(|e| e.info().clone()),
        dir,
    })
}

/// Rows `[rows.0, rows.1)` of a domain, to be embedded into `dir` under `fingerprint`.
pub(crate) struct Part<'a> {
    /// Output folder.
    pub dir: &'a Path,
    /// The domain.
    pub work: &'a DomainWork<'a>,
    /// The rows.
    pub rows: (usize, usize),
    /// The shard the rows belong to, if any (for the run log).
    pub shard: Option<crate::shard::Shard>,
    /// Fingerprint written with the rows.
    pub fingerprint: String,
}

/// One decoded batch: the images' tensors back to back (`n · tensor_len` values) and per image `None`
/// or why it could not be read (its slot then holds zeros: preprocessing writes only once it succeeded).
struct DecodedBatch {
    index: usize,
    tensors: Vec<f32>,
    failed: Vec<Option<String>>,
}

/// What the inference stage gathered from a part's batches, rows in order.
#[derive(Default)]
struct Collected {
    embedding: Vec<f32>,
    logits: Vec<f32>,
    /// Domain-discriminator outputs, kept only while every batch has them.
    domain_logits: Option<Vec<f32>>,
    dim: usize,
    n_classes: usize,
    paths: Vec<String>,
    labels: Vec<i64>,
    skipped: Vec<SkippedImage>,
    inference_s: f64,
    wait_s: f64,
}

/// The rows of a part as the two stages see them.
struct Rows<'a> {
    items: &'a [&'a Item],
    labels: &'a [i64],
    batch_size: usize,
    /// Values per image tensor.
    per: usize,
}

/// Embed one part of a domain and write its files and run log.
pub(crate) fn embed_part(
    job: &EmbedJob,
    model: &ModelInfo,
    eng: &mut dyn Engine,
    part: &Part,
    class_names: &[String],
    batch_size: usize,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<DomainReport> {
    let t0 = Instant::now();
    let rows = Rows {
        items: &part.work.items[part.rows.0..part.rows.1],
        labels: &part.work.labels[part.rows.0..part.rows.1],
        batch_size: batch_size.max(1),
        per: model.preprocess.tensor_len(),
    };
    let root = &job.data_root;
    let collected = run_stages(
        &rows,
        &part.work.domain.name,
        || Preprocessor::new(model.preprocess.clone()),
        |p: &mut Preprocessor, it: &Item, slot: &mut [f32]| {
            p.process_file(&root.join(&it.rel_path), slot)
                .err()
                .map(|e| e.to_string())
        },
        &mut |batch, all| infer_batch(job, eng, &rows, batch, all, on_event),
    )?;
    write_part(
        job,
        model,
        eng.info(),
        part,
        class_names,
        &rows,
        collected,
        t0,
    )
}

/// Runs the decode stage (a thread that decodes each batch's images in parallel with `decode`, one
/// `init()` state per worker) and the inference stage (`infer`, on this thread, one batch at a time as
/// they arrive; at most two decoded batches wait). A panic in the decode thread becomes
/// [`Error::DecodeThread`] naming `domain` and carrying the panic's message.
fn run_stages<P, I, D>(
    rows: &Rows,
    domain: &str,
    init: I,
    decode: D,
    infer: &mut dyn FnMut(DecodedBatch, &mut Collected) -> Result<()>,
) -> Result<Collected>
where
    I: Fn() -> P + Sync + Send,
    D: Fn(&mut P, &Item, &mut [f32]) -> Option<String> + Sync + Send,
{
    let (tx, rx) = crossbeam_channel::bounded::<DecodedBatch>(2);
    let per = rows.per;
    let chunks: Vec<&[&Item]> = rows.items.chunks(rows.batch_size).collect();
    std::thread::scope(|scope| -> Result<Collected> {
        let producer = scope.spawn(move || {
            for (index, chunk) in chunks.iter().enumerate() {
                // Each image is decoded straight into its slot of the batch buffer that goes to the
                // engine: no per-image allocation and no copy on the consumer side.
                let mut tensors = vec![0f32; chunk.len() * per];
                let failed: Vec<Option<String>> = tensors
                    .par_chunks_mut(per)
                    .zip(chunk.par_iter())
                    .map_init(&init, |p, (slot, it)| decode(p, it, slot))
                    .collect();
                let batch = DecodedBatch {
                    index,
                    tensors,
                    failed,
                };
                if tx.send(batch).is_err() {
                    break; // the consumer stopped (error); nothing more to do
                }
            }
        });
        let mut all = Collected {
            domain_logits: Some(Vec::new()),
            ..Default::default()
        };
        let consumed = inference_stage(rx, &mut all, infer);
        // `rx` is gone: a producer still sending stops, so the join cannot wait forever.
        let joined = producer.join();
        consumed?;
        joined.map_err(|payload| Error::DecodeThread {
            domain: domain.to_string(),
            message: panic_message(payload.as_ref()),
        })?;
        Ok(all)
    })
}

/// The text of a panic's payload (`panic!` with a message gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".into())
}

/// Receives the decoded batches until the decode stage ends (or `infer` fails), handing each to
/// `infer` with what was gathered so far.
fn inference_stage(
    rx: crossbeam_channel::Receiver<DecodedBatch>,
    all: &mut Collected,
    infer: &mut dyn FnMut(DecodedBatch, &mut Collected) -> Result<()>,
) -> Result<()> {
    loop {
        let tw = Instant::now();
        let Ok(batch) = rx.recv() else {
            return Ok(());
        };
        all.wait_s += tw.elapsed().as_secs_f64();
        infer(batch, all)?;
    }
}

/// The inference stage's work on one decoded batch: drop the images that could not be read (or
/// stop, in strict mode), run the rest through the engine, and append its outputs and rows.
fn infer_batch(
    job: &EmbedJob,
    eng: &mut dyn Engine,
    part: &Rows,
    batch: DecodedBatch,
    all: &mut Collected,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<()> {
    let DecodedBatch {
        index,
        mut tensors,
        failed,
    } = batch;
    let per = part.per;
    let start = index * part.batch_size;
    let mut rows = Vec::with_capacity(failed.len());
    for (k, f) in failed.into_iter().enumerate() {
        let it = part.items[start + k];
        match f {
            None => {
                // Close the gaps left by failed images, keeping the order.
                let to = rows.len();
                if to != k {
                    tensors.copy_within(k * per..(k + 1) * per, to * per);
                }
                rows.push(start + k);
            }
            Some(reason) => {
                let path = job.data_root.join(&it.rel_path);
                if job.strict {
                    return Err(Error::Invalid(format!("{}: {reason}", path.display())));
                }
                on_event(Event::Skipped(&it.rel_path, &reason));
                all.skipped.push(SkippedImage {
                    path: it.rel_path.clone(),
                    reason,
                });
            }
        }
    }
    tensors.truncate(rows.len() * per);
    if !rows.is_empty() {
        let ti = Instant::now();
        let out = eng.run(&tensors, rows.len())?;
        all.inference_s += ti.elapsed().as_secs_f64();
        all.dim = out.dim;
        all.embedding.extend_from_slice(&out.embedding);
        if let Some((l, c)) = out.logits {
            all.n_classes = c;
            all.logits.extend_from_slice(&l);
        }
        match (&mut all.domain_logits, out.domain_logits) {
            (Some(d), Some(x)) if x.len() == rows.len() => d.extend_from_slice(&x),
            _ => all.domain_logits = None,
        }
        for r in rows {
            all.paths.push(part.items[r].rel_path.clone());
            all.labels.push(part.labels[r]);
        }
    }
    on_event(Event::Progress(
        (start + part.batch_size).min(part.items.len()),
    ));
    Ok(())
}

/// Checks what the stages gathered, and writes the part's arrays, record and run log.
#[allow(clippy::too_many_arguments)]
fn write_part(
    job: &EmbedJob,
    model: &ModelInfo,
    info: &EngineInfo,
    part: &Part,
    class_names: &[String],
    rows: &Rows,
    c: Collected,
    t0: Instant,
) -> Result<DomainReport> {
    let domain = part.work.domain;
    let n = c.paths.len();
    if n == 0 {
        return Err(Error::Invalid(format!(
            "domain \"{}\"{}: none of its {} images could be read (first: {})",
            domain.name,
            part.shard
                .map(|s| format!(" (rows {}..{} of shard {s})", part.rows.0, part.rows.1))
                .unwrap_or_default(),
            rows.items.len(),
            c.skipped
                .first()
                .map(|s| format!("{}: {}", s.path, s.reason))
                .unwrap_or_default()
        )));
    }
    let (dim, n_classes) = (c.dim, c.n_classes);
    if model.outputs.logits.is_some() && n_classes != class_names.len() {
        return Err(Error::Invalid(format!(
            "{}: the logits output has {n_classes} classes, expected {}",
            model.path.display(),
            class_names.len()
        )));
    }
    let embedding = Array2::from_shape_vec((n, dim), c.embedding)
        .map_err(|e| Error::Invalid(format!("embedding shape: {e}")))?;
    let logits = if model.outputs.logits.is_some() {
        Some(
            Array2::from_shape_vec((n, n_classes), c.logits)
                .map_err(|e| Error::Invalid(format!("logits shape: {e}")))?,
        )
    } else {
        None
    };
    let total = t0.elapsed().as_secs_f64();
    let timings = Timings {
        total_s: total,
        inference_s: c.inference_s,
        wait_s: c.wait_s,
        images_per_s: rows.items.len() as f64 / total.max(1e-9),
    };
    let record = EmbeddingRecord {
        format: store::RECORD_FORMAT,
        dannscope_version: env!("CARGO_PKG_VERSION").into(),
        domain: domain.name.clone(),
        domain_code: domain.code.clone(),
        split: job.split.to_string(),
        n,
        dim,
        n_classes,
        class_names: class_names.to_vec(),
        paths: c.paths,
        skipped: c.skipped.clone(),
        model: ModelRecord::of(model),
        preprocess: model.preprocess.clone(),
        engine: info.engine.clone(),
        provider: info.provider.clone(),
        batch_size: rows.batch_size,
        fingerprint: part.fingerprint.clone(),
        data_root: job.data_root.display().to_string(),
    };
    let runs = store::RunRecord {
        runs: vec![store::RunEntry {
            shard: part.shard.map(|s| s.to_string()),
            rows: [part.rows.0, part.rows.1],
            created: store::now_rfc3339(),
            threads: info.threads,
            timings: timings.clone(),
            self_check: info.self_check.clone(),
        }],
    };
    let de = DomainEmbeddings {
        embedding: embedding.into(),
        logits: logits.map(Into::into),
        label: Array1::from(c.labels),
        domain_logits: c
            .domain_logits
            .filter(|d| d.len() == n && d.iter().all(|v| v.is_finite()))
            .map(Array1::from),
        record,
    };
    // Non-finite outputs are refused before anything is cached.
    store::check_finite(de.embedding.view(), "embedding", &model.path, &de.record)?;
    if let Some(l) = &de.logits {
        store::check_finite(l.view(), "logits", &model.path, &de.record)?;
    }
    store::write_domain(part.dir, &de)?;
    store::write_runs(part.dir, &domain.name, &runs)?;
    Ok(DomainReport {
        domain: domain.name.clone(),
        n,
        skipped: c.skipped.len(),
        cached: false,
        npz: Layout::domain_files(part.dir, &domain.name)?.0,
        timings,
    })
}

/// Take the advisory lock of an output folder (`<dir>/.lock`), calling `waiting` once when another
/// process holds it. The lock is released when the returned file is dropped (or the process dies).
pub(crate) fn lock_dir(dir: &Path, waiting: &dyn Fn(&Path)) -> Result<std::fs::File> {
    let io = |e: std::io::Error| Error::Io {
        path: dir.join(".lock"),
        source: e,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(".lock"))
        .map_err(io)?;
    match f.try_lock() {
        Ok(()) => {}
        Err(std::fs::TryLockError::WouldBlock) => {
            waiting(dir);
            f.lock().map_err(io)?;
        }
        Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `f` on the rows of `n` images in batches of `batch_size`.
    fn with_rows<R>(n: usize, batch_size: usize, f: impl FnOnce(&Rows) -> R) -> R {
        let items: Vec<Item> = (0..n)
            .map(|i| Item {
                rel_path: format!("Circle/{i}.png"),
                domain: 0,
                class: 0,
            })
            .collect();
        let refs: Vec<&Item> = items.iter().collect();
        let labels = vec![0i64; n];
        f(&Rows {
            items: &refs,
            labels: &labels,
            batch_size,
            per: 3,
        })
    }

    #[test]
    fn a_panic_while_decoding_is_a_named_error_with_its_message() {
        let mut inferred = Vec::new();
        let r = with_rows(5, 2, |rows| {
            run_stages(
                rows,
                "Art",
                || (),
                |_: &mut (), it: &Item, slot: &mut [f32]| {
                    if it.rel_path == "Circle/3.png" {
                        panic!("cannot decode {}", it.rel_path);
                    }
                    slot.fill(1.0);
                    None
                },
                &mut |b, _| {
                    inferred.push(b.index);
                    Ok(())
                },
            )
        });
        match r {
            Err(Error::DecodeThread { domain, message }) => {
                assert_eq!(domain, "Art");
                assert_eq!(message, "cannot decode Circle/3.png");
            }
            Err(e) => panic!("expected a decode-thread error, got {e}"),
            Ok(_) => panic!("a panic in the decode thread went unreported"),
        }
        // The batch decoded before the panic reached the inference stage; none after it did.
        assert_eq!(inferred, vec![0]);
    }

    #[test]
    fn an_inference_error_stops_the_decode_stage_and_is_returned() {
        let decoded = std::sync::atomic::AtomicUsize::new(0);
        let r = with_rows(40, 1, |rows| {
            run_stages(
                rows,
                "Art",
                || (),
                |_: &mut (), _: &Item, _: &mut [f32]| {
                    decoded.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    None
                },
                &mut |_, _| Err(Error::Invalid("the engine broke".into())),
            )
        });
        match r {
            Err(Error::Invalid(m)) => assert_eq!(m, "the engine broke"),
            Err(e) => panic!("expected the engine's error, got {e}"),
            Ok(_) => panic!("the engine's error was lost"),
        }
        // The decoder stopped once the consumer was gone: at most the queue (2) and one batch in
        // hand past the failed one.
        assert!(decoded.into_inner() <= 4);
    }
}
