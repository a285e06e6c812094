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

use std::path::Path;

use crate::error::Result;
use crate::layout::Layout;

mod file;
mod matrix;
pub mod npz;
mod record;

pub use file::{now_rfc3339, read_json, sha256_file};
pub use matrix::Matrix;
pub use npz::{check_finite, is_finished, read_domain, write_domain, ALIGN};
pub use record::{
    DomainEmbeddings, EmbeddingRecord, ModelRecord, RunEntry, RunRecord, SkippedImage, Timings,
    RECORD_FORMAT,
};

/// Write the run log of a domain (see [`RunRecord`]) after its results.
pub fn write_runs(dir: &Path, domain: &str, runs: &RunRecord) -> Result<()> {
    Ok(crate::atomic::write_json(
        &Layout::domain_runs(dir, domain)?,
        runs,
    )?)
}
