//! The one way dannscope writes a file: into a temporary file in the destination folder, flushed and
//! synced, given ordinary permissions (0644 on Unix, like any file the user writes), then renamed over
//! the destination. A reader sees the old file or the new one, never a partial one; a failed or
//! interrupted write leaves the old file intact and no file under the final name.
//!
//! Every stage writes through here ([`crate::store`], [`crate::plot`], [`crate::demo`], [`crate::report`],
//! the pipeline): bytes, JSON, CSV, a copy, or a fill closure. Every function returns a [`FileError`]
//! naming the file, which each stage's error type takes in with `?`.

use std::io::{BufWriter, Seek, Write};
use std::path::{Path, PathBuf};

/// A file that could not be written (or, for [`copy`], read), with the reason.
#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// The underlying error.
    #[source]
    pub source: std::io::Error,
}

impl FileError {
    fn at(path: &Path) -> impl FnOnce(std::io::Error) -> FileError + '_ {
        move |source| FileError {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Permissions of every file dannscope writes (Unix).
pub const FILE_MODE: u32 = 0o644;

/// A writer that can also seek: what [`write_seekable`] hands its fill closure (a zip writer needs to
/// go back and patch its local headers).
pub trait WriteSeek: Write + Seek {}

impl<T: Write + Seek> WriteSeek for T {}

/// Write `path` atomically: `fill` writes into a temporary file in the same folder, which is then synced
/// and renamed to `path`. Parent folders are created.
pub fn write_with<F>(path: &Path, fill: F) -> Result<(), FileError>
where
    F: FnOnce(&mut dyn Write) -> std::io::Result<()>,
{
    write_temp(path, |w| fill(w)).map_err(FileError::at(path))
}

/// Write `path` atomically like [`write_with`], handing `fill` a buffered writer over the temporary file
/// that can also seek: large archives stream straight to disk instead of being built in memory first.
pub fn write_seekable<F>(path: &Path, fill: F) -> Result<(), FileError>
where
    F: FnOnce(&mut dyn WriteSeek) -> std::io::Result<()>,
{
    write_temp(path, |w| fill(w)).map_err(FileError::at(path))
}

fn write_temp<F>(path: &Path, fill: F) -> std::io::Result<()>
where
    F: FnOnce(&mut BufWriter<&std::fs::File>) -> std::io::Result<()>,
{
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Temporary names start with a dot and end in `.tmp`: listings of outputs skip them.
    let tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    {
        let mut w = BufWriter::new(tmp.as_file());
        fill(&mut w)?;
        w.flush()?;
    }
    tmp.as_file().sync_all()?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(FILE_MODE))?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Write bytes atomically (see [`write_with`]).
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), FileError> {
    write_with(path, |w| w.write_all(bytes))
}

/// Write a value as pretty JSON atomically (see [`write_with`]).
pub fn write_json<T: serde::Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), FileError> {
    write_with(path, |w| {
        serde_json::to_writer_pretty(w, value).map_err(std::io::Error::other)
    })
}

/// Write a CSV file atomically (see [`write_with`]): `fill` writes the records through the `csv`
/// crate's writer, which quotes a field only when it must.
pub fn write_csv<F>(path: &Path, fill: F) -> Result<(), FileError>
where
    F: FnOnce(&mut csv::Writer<&mut dyn Write>) -> csv::Result<()>,
{
    write_with(path, |w| {
        let mut c = csv::Writer::from_writer(w);
        fill(&mut c).map_err(std::io::Error::other)?;
        c.flush()
    })
}

/// Copy the file `from` to `to` atomically (see [`write_with`]). The error names `from` when it
/// cannot be read and `to` when it cannot be written.
pub fn copy(from: &Path, to: &Path) -> Result<(), FileError> {
    let bytes = std::fs::read(from).map_err(FileError::at(from))?;
    write_bytes(to, &bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_with_ordinary_permissions_and_no_leftovers() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/x.txt");
        write_bytes(&p, b"one").unwrap();
        write_bytes(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, FILE_MODE);
        }
        let names: Vec<_> = std::fs::read_dir(d.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_seekable_fill_can_patch_what_it_wrote() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.bin");
        write_seekable(&p, |w| {
            w.write_all(b"????tail")?;
            w.seek(std::io::SeekFrom::Start(0))?;
            w.write_all(b"head")?;
            w.seek(std::io::SeekFrom::End(0))?;
            w.write_all(b"!")
        })
        .unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"headtail!");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn json_csv_and_copies_are_written_whole() {
        let d = tempfile::tempdir().unwrap();
        let j = d.path().join("a.json");
        write_json(&j, &serde_json::json!({"k": [1, 2]})).unwrap();
        assert_eq!(
            std::fs::read_to_string(&j).unwrap(),
            "{\n  \"k\": [\n    1,\n    2\n  ]\n}"
        );
        let c = d.path().join("b.csv");
        write_csv(&c, |w| {
            w.write_record(["x", "a,b"])?;
            w.write_record(["say \"hi\"", ""])
        })
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(&c).unwrap(),
            "x,\"a,b\"\n\"say \"\"hi\"\"\",\n"
        );
        let to = d.path().join("sub/c.csv");
        copy(&c, &to).unwrap();
        assert_eq!(std::fs::read(&to).unwrap(), std::fs::read(&c).unwrap());
    }

    #[test]
    fn errors_name_the_file_that_failed() {
        let d = tempfile::tempdir().unwrap();
        // A file where a folder is needed: nothing can be written below it.
        let blocker = d.path().join("plain");
        write_bytes(&blocker, b"x").unwrap();
        let below = blocker.join("x.txt");
        let e = write_bytes(&below, b"y").unwrap_err();
        assert_eq!(e.path, below);
        assert!(
            e.to_string().starts_with(&below.display().to_string()),
            "{e}"
        );
        let missing = d.path().join("missing.csv");
        let e = copy(&missing, &d.path().join("out.csv")).unwrap_err();
        assert_eq!(e.path, missing);
        assert_eq!(e.source.kind(), std::io::ErrorKind::NotFound);
        assert!(!d.path().join("out.csv").exists());
    }

    #[test]
    fn a_failed_fill_keeps_the_old_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("x.txt");
        write_bytes(&p, b"old").unwrap();
        let r = write_with(&p, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }
}
