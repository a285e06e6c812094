//! File helpers of the store: JSON files read with errors that name the file, a file's SHA-256 and
//! the current time. (Every write goes through [`crate::atomic`].)

use std::fs::File;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Result};

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
