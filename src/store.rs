//! Store stage: where embeddings live on disk and how they are written and read.
//!
//! Layout under the output root:
//! `embeddings/<model stem>/<split>/<Domain>.npz` (arrays `embedding` f32 `[N,D]`, `logits` f32 `[N,C]` when
//! the model has them, `label` i64 `[N]`) with `<Domain>.json` beside it (row order, classes, provenance).
//! Every file is written to a temporary file in the same folder and renamed into place, so a failed or
//! interrupted run never leaves a partial file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use ndarray::{Array1, Array2};
use ndarray_npy::{NpzReader, NpzWriter};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Write a file atomically: `fill` writes into a temporary file in the same folder, which is then renamed
/// to `path`. Parent folders are created. On error nothing is left at `path` (an older file stays intact).
pub fn atomic_write<F>(path: &Path, fill: F) -> Result<()>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    let io = |e: std::io::Error| Error::Io {
        path: path.to_path_buf(),
        source: e,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io {
        path: dir.clone(),
        source: e,
    })?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        fill(&mut w).map_err(io)?;
        w.flush().map_err(io)?;
    }
    tmp.as_file().sync_all().map_err(io)?;
    // Temporary files are private (0600); results are ordinary files.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644)).map_err(io)?;
    }
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Write bytes atomically.
pub fn atomic_write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic_write(path, |w| w.write_all(bytes))
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

/// The folder holding one model's embeddings of one split.
pub fn embeddings_dir(out: &Path, model_stem: &str, split: &str) -> PathBuf {
    out.join("embeddings").join(model_stem).join(split)
}

/// Paths of one domain's `.npz` and `.json` files.
pub fn domain_files(dir: &Path, domain: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{domain}.npz")),
        dir.join(format!("{domain}.json")),
    )
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
    /// Threads used by the engine.
    pub threads: usize,
    /// Batch size.
    pub batch_size: usize,
    /// Timings.
    pub timings: Timings,
    /// A fingerprint of every input (model hash, image list, preprocessing); a rerun with the same
    /// fingerprint reuses this file.
    pub fingerprint: String,
    /// Data root the paths are relative to.
    pub data_root: String,
    /// When the file was written (RFC 3339, UTC).
    pub created: String,
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
    /// The record written beside the arrays.
    pub record: EmbeddingRecord,
}

/// Write one domain's arrays and record (npz first, then json: the json marks the pair complete).
pub fn write_domain(dir: &Path, d: &DomainEmbeddings) -> Result<()> {
    let (npz, json) = domain_files(dir, &d.record.domain);
    // The zip writer needs to seek: build the archive in memory, then write it atomically.
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let e = |e: ndarray_npy::WriteNpzError| Error::Invalid(format!("{}: {e}", npz.display()));
        let mut z = NpzWriter::new(&mut buf);
        z.add_array("embedding", &d.embedding).map_err(e)?;
        if let Some(l) = &d.logits {
            z.add_array("logits", l).map_err(e)?;
        }
        z.add_array("label", &d.label).map_err(e)?;
        z.finish().map_err(e)?;
    }
    atomic_write_bytes(&npz, buf.get_ref())?;
    write_json(&json, &d.record)
}

/// Read one domain's arrays and record, checking shapes and finiteness (errors name the file and row).
pub fn read_domain(dir: &Path, domain: &str) -> Result<DomainEmbeddings> {
    let (npz, json) = domain_files(dir, domain);
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
    Ok(DomainEmbeddings {
        embedding,
        logits,
        label,
        record,
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atomic_write_keeps_old_file_on_error() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/x.txt");
        atomic_write_bytes(&p, b"old").unwrap();
        let r = atomic_write(&p, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("boom"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        let leftovers: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers.len(), 1, "temp files left: {leftovers:?}");
    }
}
