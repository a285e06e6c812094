//! File helpers of the store: atomic writes and JSON files with errors that name the file, a file's
//! SHA-256 and the current time.

use std::fs::File;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

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
