//! Store stage: where embeddings live on disk and how they are written and read.
//!
//! One domain's results are `<Domain>.npz` (arrays `embedding` f32 `[N,D]`, `logits` f32 `[N,C]` when the
//! model has them, `label` i64 `[N]`, and `fingerprint` u8, the ASCII of the inputs' fingerprint) with
//! `<Domain>.json` beside it (row order, classes, provenance, the same fingerprint), in the folder that
//! [`crate::layout::Layout::embeddings`] names. Both files are written atomically (see
//! [`crate::atomic`]), the arrays first; a pair whose fingerprints differ (a write interrupted between
//! the two files) is never read as finished. Both are a function of the inputs and settings alone (no
//! time stamp, no thread count), so two runs of the same inputs, or a merge of shards
//! ([`crate::shard::merge`]), give the same bytes; what differs between runs goes to the run log
//! `runs/<Domain>.json` ([`RunRecord`]).

use std::fs::File;
use std::path::Path;

use ndarray::{Array1, Array2};
use ndarray_npy::{NpzReader, NpzWriter};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::Layout;

/// Write a file atomically (see [`crate::atomic::write_with`]), errors naming the file.
pub fn atomic_write<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
{
    crate::atomic::write_with(path, fill).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })
}

/// Write bytes atomically (see [`crate::atomic::write_bytes`]), errors naming the file.
pub fn atomic_write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic_write(path, |w| std::io::Write::write_all(w, bytes))
}

/// Write a value as pretty JSON atomically.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_vec_pretty(value)
        .map_err(|e| Error::Invalid(format!("{}: cannot encode JSON: {e}", path.display())))?;
    atomic_write_bytes(path, &text)
}

/// Read a JSON file into `T`, with errors naming the file.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Error::Invalid(format!("{}: not the expected JSON: {e}", path.display())))
}

/// Model provenance recorded with every embedding file.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelRecord {
    /// The model file as given.
    pub path: String,
    /// SHA-256 of the model file, hex.
    pub sha256: String,
    /// Architecture name (`dannscope.arch` or the file stem).
    pub arch: String,
    /// All `metadata_props` of the model.
    pub metadata: std::collections::BTreeMap<String, String>,
    /// Output names used for embedding / logits / domain logits.
    pub outputs: OutputNames,
}

/// Names of the graph outputs that were read.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct OutputNames {
    /// The embedding output.
    pub embedding: String,
    /// The logits output, if any.
    pub logits: Option<String>,
    /// The domain-discriminator output, if any.
    pub domain_logits: Option<String>,
}

/// A file left out of an embedding run and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SkippedImage {
    /// Path relative to the data root.
    pub path: String,
    /// The reason.
    pub reason: String,
}

/// Wall-clock timings of one domain's embedding run, in seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Timings {
    /// Whole run for this domain.
    pub total_s: f64,
    /// Time the engine spent in inference.
    pub inference_s: f64,
    /// Time the engine waited for decoded batches.
    pub wait_s: f64,
    /// Images per second over the whole run.
    pub images_per_s: f64,
}

/// The JSON record written beside each `<Domain>.npz`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EmbeddingRecord {
    /// Format version of this record.
    pub format: u32,
    /// dannscope version that wrote it.
    pub dannscope_version: String,
    /// Domain folder name.
    pub domain: String,
    /// Domain code.
    pub domain_code: String,
    /// Split name.
    pub split: String,
    /// Number of rows.
    pub n: usize,
    /// Embedding width.
    pub dim: usize,
    /// Number of logits (0 when the model has none).
    pub n_classes: usize,
    /// Class names in the model's logit order (the meaning of `label`).
    pub class_names: Vec<String>,
    /// Image paths relative to the data root, in row order.
    pub paths: Vec<String>,
    /// Images that could not be read.
    pub skipped: Vec<SkippedImage>,
    /// The model.
    pub model: ModelRecord,
    /// The preprocessing that was applied.
    pub preprocess: crate::preprocess::PreprocessConfig,
    /// Engine name (`onnxruntime` or `tract`).
    pub engine: String,
    /// Execution provider (`CUDA`, `CPU`).
    pub provider: String,
    /// Batch size.
    pub batch_size: usize,
    /// A fingerprint of every input (model hash, image list, preprocessing); a rerun with the same
    /// fingerprint reuses this file.
    pub fingerprint: String,
    /// Data root the paths are relative to.
    pub data_root: String,
}

/// Version of [`EmbeddingRecord`] written now. Version 2 moved what differs from one run of the same
/// inputs to the next (time, thread count, timings) out to [`RunRecord`], so that the arrays and the
/// record are a function of the inputs and settings alone; version-1 records are still read.
pub const RECORD_FORMAT: u32 = 2;

/// How one process produced (part of) a domain's rows: what varies between two runs of the same inputs.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunEntry {
    /// The shard (`I/N`) when the rows came from a sharded embed, else `None`.
    pub shard: Option<String>,
    /// Rows `[start, end)` of the domain's images (in path order) that this run covered.
    pub rows: [usize; 2],
    /// When the run wrote its files (RFC 3339, UTC).
    pub created: String,
    /// Threads used by the engine.
    pub threads: usize,
    /// Timings.
    pub timings: Timings,
}

/// The run log written beside a domain's results (`runs/<Domain>.json`): one entry per process that
/// produced its rows (one for a plain `embed`, one per shard after a merge).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RunRecord {
    /// The runs, in row order.
    pub runs: Vec<RunEntry>,
}

/// One domain's arrays, as read back.
#[derive(Debug, Clone)]
pub struct DomainEmbeddings {
    /// `[N, D]` embeddings.
    pub embedding: Array2<f32>,
    /// `[N, C]` logits when the model has them.
    pub logits: Option<Array2<f32>>,
    /// `[N]` class indices (model order).
    pub label: Array1<i64>,
    /// `[N]` domain-discriminator outputs (logits), when the model has `domain_logits`.
    pub domain_logits: Option<Array1<f32>>,
    /// The record written beside the arrays.
    pub record: EmbeddingRecord,
}

/// Write one domain's arrays and record (npz first, then json: the json marks the pair complete).
pub fn write_domain(dir: &Path, d: &DomainEmbeddings) -> Result<()> {
    let (npz, json) = Layout::domain_files(dir, &d.record.domain)?;
    // The zip writer needs to seek: build the archive in memory, then write it atomically.
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let e = |e: ndarray_npy::WriteNpzError| Error::Invalid(format!("{}: {e}", npz.display()));
        // Entries are stored uncompressed with the zip format's fixed default time (1980-01-01), so that
        // the same arrays always give the same bytes (a merge of shards equals a single run).
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored)
            .last_modified_time(zip::DateTime::default());
        let mut z = NpzWriter::new_with_options(&mut buf, opts);
        z.add_array("embedding", &d.embedding).map_err(e)?;
        if let Some(l) = &d.logits {
            z.add_array("logits", l).map_err(e)?;
        }
        z.add_array("label", &d.label).map_err(e)?;
        if let Some(dl) = &d.domain_logits {
            z.add_array("domain_logits", dl).map_err(e)?;
        }
        let fp: Array1<u8> = d.record.fingerprint.bytes().collect();
        z.add_array("fingerprint", &fp).map_err(e)?;
        z.finish().map_err(e)?;
    }
    atomic_write_bytes(&npz, buf.get_ref())?;
    write_json(&json, &d.record)
}

/// Write the run log of a domain (see [`RunRecord`]) after its results.
pub fn write_runs(dir: &Path, domain: &str, runs: &RunRecord) -> Result<()> {
    write_json(&Layout::domain_runs(dir, domain)?, runs)
}

/// Read one domain's arrays and record, checking shapes and finiteness (errors name the file and row).
pub fn read_domain(dir: &Path, domain: &str) -> Result<DomainEmbeddings> {
    let (npz, json) = Layout::domain_files(dir, domain)?;
    let record: EmbeddingRecord = read_json(&json)?;
    let f = File::open(&npz).map_err(|e| Error::Io {
        path: npz.clone(),
        source: e,
    })?;
    let bad = |what: String| Error::Invalid(format!("{}: {what}", npz.display()));
    let mut z = NpzReader::new(f).map_err(|e| bad(format!("not a readable .npz file: {e}")))?;
    let names = z.names().map_err(|e| bad(e.to_string()))?;
    let has = |n: &str| names.iter().any(|x| x == n || x == &format!("{n}.npy"));
    let embedding: Array2<f32> = z
        .by_name("embedding")
        .map_err(|e| bad(format!("array \"embedding\" (f32, 2-D): {e}")))?;
    let logits: Option<Array2<f32>> = if has("logits") {
        Some(
            z.by_name("logits")
                .map_err(|e| bad(format!("array \"logits\" (f32, 2-D): {e}")))?,
        )
    } else {
        None
    };
    let label: Array1<i64> = z
        .by_name("label")
        .map_err(|e| bad(format!("array \"label\" (i64, 1-D): {e}")))?;
    let domain_logits: Option<Array1<f32>> = if has("domain_logits") {
        Some(
            z.by_name("domain_logits")
                .map_err(|e| bad(format!("array \"domain_logits\" (f32, 1-D): {e}")))?,
        )
    } else {
        None
    };
    if has("fingerprint") {
        let fp: Array1<u8> = z
            .by_name("fingerprint")
            .map_err(|e| bad(format!("array \"fingerprint\" (u8, 1-D): {e}")))?;
        if fp.as_slice() != Some(record.fingerprint.as_bytes()) {
            return Err(bad(format!(
                "these arrays do not belong to {} (a write was interrupted between the two files); \
                 embed this domain again",
                json.display()
            )));
        }
    }
    let n = embedding.nrows();
    if label.len() != n || logits.as_ref().is_some_and(|l| l.nrows() != n) || record.n != n {
        return Err(bad(format!(
            "row counts disagree: embedding {n}, label {}, logits {:?}, record {}",
            label.len(),
            logits.as_ref().map(|l| l.nrows()),
            record.n
        )));
    }
    check_finite(&embedding, "embedding", &npz, &record)?;
    if let Some(l) = &logits {
        check_finite(l, "logits", &npz, &record)?;
    }
    if domain_logits.as_ref().is_some_and(|d| d.len() != n) {
        return Err(bad(format!(
            "array \"domain_logits\" has {} rows, expected {n}",
            domain_logits.as_ref().map_or(0, |d| d.len())
        )));
    }
    Ok(DomainEmbeddings {
        embedding,
        logits,
        label,
        domain_logits,
        record,
    })
}

/// Whether `<domain>.npz` and `<domain>.json` in `dir` form a finished pair with this fingerprint.
pub fn is_finished(dir: &Path, domain: &str, fingerprint: &str) -> bool {
    let Ok((npz, json)) = Layout::domain_files(dir, domain) else {
        return false;
    };
    if !npz.is_file() {
        return false;
    }
    match read_json::<EmbeddingRecord>(&json) {
        Ok(rec) if rec.fingerprint == fingerprint => {
            // The arrays carry the fingerprint too: check that they are the ones this record describes.
            let Ok(f) = File::open(&npz) else {
                return false;
            };
            let Ok(mut z) = NpzReader::new(f) else {
                return false;
            };
            let fp: Result<Array1<u8>, _> = z.by_name("fingerprint");
            fp.is_ok_and(|a| a.as_slice() == Some(fingerprint.as_bytes()))
        }
        _ => false,
    }
}

/// Error naming the file, row and image when a matrix holds NaN or infinity.
pub fn check_finite(a: &Array2<f32>, what: &str, file: &Path, rec: &EmbeddingRecord) -> Result<()> {
    for (i, row) in a.outer_iter().enumerate() {
        if let Some(j) = row.iter().position(|v| !v.is_finite()) {
            return Err(Error::Invalid(format!(
                "{}: {what} row {i} (image {}) holds a non-finite value ({}) at column {j}",
                file.display(),
                rec.paths.get(i).map(String::as_str).unwrap_or("?"),
                row[j]
            )));
        }
    }
    Ok(())
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    use sha2::{Digest, Sha256};
    let mut f = File::open(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    Ok(hex::encode(h.finalize()))
}

/// Current time as RFC 3339 UTC.
pub fn now_rfc3339() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}
