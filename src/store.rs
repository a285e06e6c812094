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
//!
//! The npz is streamed to disk as it is written, and read back without a copy of its large arrays:
//! `embedding` and `logits` are viewed in a memory mapping of the file ([`Matrix`], see [`npz`]), so
//! that a store larger than memory allows twice can still be evaluated and mapped.

use std::fs::File;
use std::path::Path;

use ndarray::{Array1, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::layout::Layout;

mod matrix;
pub mod npz;

pub use matrix::Matrix;
pub use npz::{is_finished, read_domain, write_domain, ALIGN};

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
    /// `[N, D]` embeddings (viewed in the mapped file when read from a store, see [`Matrix`]).
    pub embedding: Matrix,
    /// `[N, C]` logits when the model has them.
    pub logits: Option<Matrix>,
    /// `[N]` class indices (model order).
    pub label: Array1<i64>,
    /// `[N]` domain-discriminator outputs (logits), when the model has `domain_logits`.
    pub domain_logits: Option<Array1<f32>>,
    /// The record written beside the arrays.
    pub record: EmbeddingRecord,
}

/// Write the run log of a domain (see [`RunRecord`]) after its results.
pub fn write_runs(dir: &Path, domain: &str, runs: &RunRecord) -> Result<()> {
    write_json(&Layout::domain_runs(dir, domain)?, runs)
}

/// Error naming the file, row and image when a matrix holds NaN or infinity.
pub fn check_finite(
    a: ArrayView2<f32>,
    what: &str,
    file: &Path,
    rec: &EmbeddingRecord,
) -> Result<()> {
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
