//! The records of the store: what is written beside a domain's arrays ([`EmbeddingRecord`]), the run
//! log ([`RunRecord`]) and one domain's arrays as read back ([`DomainEmbeddings`]).

use ndarray::Array1;
use serde::{Deserialize, Serialize};

use super::matrix::Matrix;
use crate::engine::SelfCheckResult;
use crate::model::{ModelInfo, OutputNames};

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

impl ModelRecord {
    /// The provenance record of a loaded model.
    pub fn of(m: &ModelInfo) -> ModelRecord {
        ModelRecord {
            path: m.path.display().to_string(),
            sha256: m.sha256.clone(),
            arch: m.arch.clone(),
            metadata: m.metadata.clone(),
            outputs: m.outputs.clone(),
        }
    }
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
    /// The model's self-check on this run's engine and device (absent: the model has none, or it
    /// was skipped with `--no-self-check`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub self_check: Option<SelfCheckResult>,
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
