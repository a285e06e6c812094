//! The `<Domain>.npz` file of a domain's arrays: streamed to disk when written, its large arrays
//! (`embedding`, `logits`) viewed in place in a memory mapping when read.
//!
//! Members are stored uncompressed, each one's data aligned to [`ALIGN`] bytes in the file (zip
//! alignment padding) and time-stamped with the zip format's fixed default time, so that the same
//! arrays always give the same bytes (a merge of shards equals a single run) and, since the `.npy`
//! header pads itself to a multiple of 64 bytes, the `f32` data of `embedding` lies aligned in a
//! mapping of the file. Files written before members were aligned (or compressed by another tool)
//! are read into memory instead, with the same values.
//!
//! A mapped matrix reads the file as long as it lives. dannscope replaces files only by renaming a new
//! one over them (see [`crate::atomic`]), which leaves a mapped old file intact; a file overwritten or
//! truncated in place by another program while a command reads it shows the new bytes, or ends the
//! process with a bus error where it became shorter.

use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

use memmap2::Mmap;
use ndarray::{Array1, ArrayView2};
use ndarray_npy::{NpzReader, NpzWriter, ReadableElement, WriteNpzError};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipArchive};

use super::file::read_json;
use super::matrix::Matrix;
use super::record::{DomainEmbeddings, EmbeddingRecord};
use crate::atomic::{self, WriteSeek};
use crate::error::{Error, Result};
use crate::layout::Layout;

/// Alignment of every member's data in a written `.npz` file, in bytes.
pub const ALIGN: u16 = 64;

/// Arrays at least this large (bytes) need zip64 members (zip's 32-bit sizes end at 4 GiB − 1;
/// the margin covers the `.npy` header).
const ZIP64_FROM: u64 = u32::MAX as u64 - 65_536;

/// Write one domain's arrays and record (npz first, then json: the json marks the pair complete).
pub fn write_domain(dir: &Path, d: &DomainEmbeddings) -> Result<()> {
    let (npz, json) = Layout::domain_files(dir, &d.record.domain)?;
    atomic::write_seekable(&npz, |w| {
        write_arrays(w, d, zip_options(d)).map_err(io::Error::other)
    })?;
    Ok(atomic::write_json(&json, &d.record)?)
}

/// The zip options of every member: a function of the arrays alone, so the same arrays give the same
/// bytes; zip64 members only when an array needs them.
fn zip_options(d: &DomainEmbeddings) -> SimpleFileOptions {
    let bytes = |m: &Matrix| 4 * (m.nrows() as u64) * (m.ncols() as u64);
    let largest = bytes(&d.embedding).max(d.logits.as_ref().map_or(0, bytes));
    SimpleFileOptions::default()
        .compression_method(CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .with_alignment(ALIGN)
        .large_file(largest >= ZIP64_FROM)
}

fn write_arrays(
    w: &mut dyn WriteSeek,
    d: &DomainEmbeddings,
    opts: SimpleFileOptions,
) -> std::result::Result<(), WriteNpzError> {
    let mut z = NpzWriter::new_with_options(w, opts);
    z.add_array("embedding", &d.embedding.view())?;
    if let Some(l) = &d.logits {
        z.add_array("logits", &l.view())?;
    }
    z.add_array("label", &d.label)?;
    if let Some(dl) = &d.domain_logits {
        z.add_array("domain_logits", dl)?;
    }
    let fp: Array1<u8> = d.record.fingerprint.bytes().collect();
    z.add_array("fingerprint", &fp)?;
    z.finish()?;
    Ok(())
}

/// An opened `.npz` file: its zip directory, a reader for small arrays and a mapping for large ones.
struct NpzFile<'p> {
    path: &'p Path,
    zip: ZipArchive<File>,
    npz: NpzReader<File>,
    map: Option<Arc<Mmap>>,
}

impl<'p> NpzFile<'p> {
    fn open(path: &'p Path) -> Result<NpzFile<'p>> {
        let io = |e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        };
        let f = File::open(path).map_err(io)?;
        let g = f.try_clone().map_err(io)?;
        let unreadable = |e: &dyn std::fmt::Display| {
            Error::Invalid(format!("{}: not a readable .npz file: {e}", path.display()))
        };
        let zip = ZipArchive::new(f).map_err(|e| unreadable(&e))?;
        let npz = NpzReader::new(g).map_err(|e| unreadable(&e))?;
        Ok(NpzFile {
            path,
            zip,
            npz,
            map: None,
        })
    }

    fn bad(&self, what: String) -> Error {
        Error::Invalid(format!("{}: {what}", self.path.display()))
    }

    fn has(&self, name: &str) -> bool {
        self.index(name).is_some()
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.zip
            .index_for_name(&format!("{name}.npy"))
            .or_else(|| self.zip.index_for_name(name))
    }

    /// A small array, read into memory.
    fn owned<A: ReadableElement, D: ndarray::Dimension>(
        &mut self,
        name: &str,
        kind: &str,
    ) -> Result<ndarray::Array<A, D>> {
        self.npz
            .by_name(name)
            .map_err(|e| self.bad(format!("array \"{name}\" ({kind}): {e}")))
    }

    /// An `f32` matrix, viewed in place when it is stored uncompressed and aligned, else read into
    /// memory. Before mapping, the member's extent is checked against the file's length (a view
    /// past the end of a mapped file would crash the process) and its checksum is verified, as a
    /// read into memory does.
    fn matrix(&mut self, name: &str) -> Result<Matrix> {
        let what = format!("array \"{name}\" (f32, 2-D)");
        let i = self
            .index(name)
            .ok_or_else(|| self.bad(format!("{what}: no such array")))?;
        let (stored, start, len, crc) = {
            let m = self
                .zip
                .by_index_raw(i)
                .map_err(|e| Error::Invalid(format!("{}: {what}: {e}", self.path.display())))?;
            let stored =
                m.compression() == CompressionMethod::Stored && m.size() == m.compressed_size();
            (stored, m.data_start(), m.compressed_size(), m.crc32())
        };
        if !stored {
            return Ok(self.owned::<f32, ndarray::Ix2>(name, "f32, 2-D")?.into());
        }
        let map = self.mapping()?;
        let end = start.checked_add(len).filter(|&e| e <= map.len() as u64);
        let Some(end) = end else {
            return Err(self.bad(format!(
                "{what} runs past the end of the file (bytes {start}..{} of {}): the file is truncated or corrupt",
                start.saturating_add(len),
                map.len()
            )));
        };
        let member = start as usize..end as usize;
        // The header first (it alone decides whether the data can be viewed in place), so that a
        // member read into memory is not also paged through the mapping.
        match Matrix::map_npy(map.clone(), member.clone()) {
            Ok(Some(m)) => {
                if crc32fast::hash(&map[member]) != crc {
                    return Err(self.bad(format!("{what}: checksum mismatch: the file is corrupt")));
                }
                Ok(m)
            }
            Ok(None) => Ok(self.owned::<f32, ndarray::Ix2>(name, "f32, 2-D")?.into()),
            Err(e) => Err(self.bad(format!("{what}: {e}"))),
        }
    }

    fn mapping(&mut self) -> Result<Arc<Mmap>> {
        if let Some(m) = &self.map {
            return Ok(m.clone());
        }
        let f = File::open(self.path).map_err(|e| Error::Io {
            path: self.path.to_path_buf(),
            source: e,
        })?;
        // SAFETY: the mapping is read-only, and dannscope never changes a file in place (every
        // write goes to a temporary file renamed over the old one, which leaves a mapped old file
        // intact). Only another program truncating the file while it is mapped could fault.
        let map = unsafe { Mmap::map(&f) }.map_err(|e| Error::Io {
            path: self.path.to_path_buf(),
            source: e,
        })?;
        let map = Arc::new(map);
        self.map = Some(map.clone());
        Ok(map)
    }
}

/// Read one domain's arrays and record, checking shapes and finiteness (errors name the file and row).
/// `embedding` and `logits` are viewed in the mapped file when it allows (see the module doc).
pub fn read_domain(dir: &Path, domain: &str) -> Result<DomainEmbeddings> {
    let (npz, json) = Layout::domain_files(dir, domain)?;
    let record: EmbeddingRecord = read_json(&json)?;
    let mut z = NpzFile::open(&npz)?;
    // The fingerprint first: arrays of another run are refused before the large ones are touched.
    if z.has("fingerprint") {
        let fp: Array1<u8> = z.owned("fingerprint", "u8, 1-D")?;
        if fp.as_slice() != Some(record.fingerprint.as_bytes()) {
            return Err(z.bad(format!(
                "these arrays do not belong to {} (a write was interrupted between the two files); \
                 embed this domain again",
                json.display()
            )));
        }
    }
    let embedding = z.matrix("embedding")?;
    let logits = if z.has("logits") {
        Some(z.matrix("logits")?)
    } else {
        None
    };
    let label: Array1<i64> = z.owned("label", "i64, 1-D")?;
    let domain_logits: Option<Array1<f32>> = if z.has("domain_logits") {
        Some(z.owned("domain_logits", "f32, 1-D")?)
    } else {
        None
    };
    let n = embedding.nrows();
    if label.len() != n || logits.as_ref().is_some_and(|l| l.nrows() != n) || record.n != n {
        return Err(z.bad(format!(
            "row counts disagree: embedding {n}, label {}, logits {:?}, record {}",
            label.len(),
            logits.as_ref().map(|l| l.nrows()),
            record.n
        )));
    }
    check_finite(embedding.view(), "embedding", &npz, &record)?;
    if let Some(l) = &logits {
        check_finite(l.view(), "logits", &npz, &record)?;
    }
    if domain_logits.as_ref().is_some_and(|d| d.len() != n) {
        return Err(z.bad(format!(
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
            let fp: std::result::Result<Array1<u8>, _> = z.by_name("fingerprint");
            fp.is_ok_and(|a| a.as_slice() == Some(fingerprint.as_bytes()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    /// Arrays of 4 GiB and more get zip64 members (extra fields in the local headers): their data
    /// must still lie aligned and be viewed in place. Forced here on small arrays.
    #[test]
    fn zip64_members_are_aligned_and_mapped() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("x.npz");
        let x = Array2::from_shape_fn((33, 7), |(i, j)| (i * 7 + j) as f32 * 0.25 - 3.0);
        let preprocess = crate::preprocess::PreprocessConfig::new(
            8,
            1.0,
            crate::preprocess::Interpolation::Bilinear,
            [0.5; 3],
            [0.5; 3],
        );
        let d = DomainEmbeddings {
            embedding: x.clone().into(),
            logits: Some(x.t().as_standard_layout().into_owned().into()),
            label: (0..33).collect(),
            domain_logits: None,
            record: serde_json::from_value(serde_json::json!({
                "format": 2, "dannscope_version": "t", "domain": "X", "domain_code": "X",
                "split": "all", "n": 33, "dim": 7, "n_classes": 0, "class_names": [],
                "paths": [], "skipped": [], "engine": "t", "provider": "CPU", "batch_size": 1,
                "fingerprint": "fp", "data_root": ".", "preprocess": preprocess,
                "model": {"path": "m", "sha256": "0", "arch": "a", "metadata": {},
                          "outputs": {"embedding": "e", "logits": null, "domain_logits": null}}
            }))
            .unwrap(),
        };
        let opts = zip_options(&d).large_file(true);
        atomic::write_seekable(&path, |w| {
            write_arrays(w, &d, opts).map_err(io::Error::other)
        })
        .unwrap();
        let mut z = NpzFile::open(&path).unwrap();
        for i in 0..z.zip.len() {
            let m = z.zip.by_index_raw(i).unwrap();
            assert_eq!(m.data_start() % ALIGN as u64, 0, "{}", m.name());
        }
        let e = z.matrix("embedding").unwrap();
        let l = z.matrix("logits").unwrap();
        assert!(e.is_mapped() && l.is_mapped());
        assert_eq!(e.view(), x.view());
        assert_eq!(l.view(), x.t());
        // An array in Fortran order (`x.t().to_owned()` keeps the transposed memory order) is
        // written as such and read into memory, with the same values.
        let f = DomainEmbeddings {
            logits: Some(x.t().to_owned().into()),
            ..d
        };
        let opts = zip_options(&f);
        atomic::write_seekable(&path, |w| {
            write_arrays(w, &f, opts).map_err(io::Error::other)
        })
        .unwrap();
        let l = NpzFile::open(&path).unwrap().matrix("logits").unwrap();
        assert!(!l.is_mapped());
        assert_eq!(l.view(), x.t());
    }
}
