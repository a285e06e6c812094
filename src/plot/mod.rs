//! Plot stage: figures for joint t-SNE maps, training evolution, training curves and the
//! small charts embedded in the HTML report.
//!
//! Every function here is pure with respect to its inputs: it takes data, draws it and either
//! returns an SVG string or writes files. Files are written atomically (a temporary file in the
//! destination folder, then a rename), so a reader never sees a half-written figure.
//!
//! Text is drawn with the DejaVu Sans font embedded in the binary (see
//! `assets/fonts/LICENSE-DejaVu`), so bitmaps render the same on machines without system fonts.
//! SVG output names the family `DejaVu Sans, sans-serif`, so viewers without DejaVu fall back to
//! their own sans-serif face.

mod canvas;
mod curves;
mod evolution;
mod glyphs;
mod palette;
mod report_charts;
mod tsne;

use std::io::Write;
use std::path::{Path, PathBuf};

pub use curves::{curves_figure, read_curves, CurvePoint, Curves, Role};
pub use evolution::{evolution_gif, evolution_grid, EvolutionFrame, EvolutionStyle};
pub use palette::{class_color, ColorBy, SOURCE_COLOR, TAB10, TARGET_COLOR};
pub use report_charts::{confusion_heatmap, confusion_heatmap_svg, per_class_bars_svg};
pub use tsne::{tsne_figure, tsne_figure_svg, TsneFigure};

/// Font family name used for every text element in every figure.
///
/// The embedded DejaVu Sans face is registered under this exact name; the name is also a valid
/// CSS font-family list, which is what ends up in SVG `font-family` attributes.
pub const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

/// Errors from the plot stage.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// There is nothing to draw.
    #[error("nothing to plot: {0}")]
    Empty(String),
    /// Two inputs that must have the same length do not.
    #[error("length mismatch: {what}: expected {expected}, found {found}")]
    LengthMismatch {
        /// Which input is the wrong length.
        what: String,
        /// The length implied by the other inputs.
        expected: usize,
        /// The length found.
        found: usize,
    },
    /// A coordinate or value is NaN or infinite.
    #[error("{what}: expected finite numbers, found {value} at index {index}")]
    NonFinite {
        /// Which input holds the value.
        what: String,
        /// Position of the value (row for coordinates).
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A class label is not below the number of class names.
    #[error("label {label} at row {index} is out of range: expected a label below {n_classes} (the number of class names)")]
    LabelOutOfRange {
        /// Row of the label.
        index: usize,
        /// The label found.
        label: u32,
        /// Number of class names given.
        n_classes: usize,
    },
    /// A value lies outside its allowed range.
    #[error("{what}: expected a value in {expected}, found {found}")]
    OutOfRange {
        /// Which value.
        what: String,
        /// The allowed range, in words.
        expected: String,
        /// The value found.
        found: f64,
    },
    /// A line of a curves CSV file could not be used.
    #[error("{path}:{line}: {message}")]
    Csv {
        /// The CSV file.
        path: PathBuf,
        /// 1-based line number in the file.
        line: u64,
        /// What was expected and what was found.
        message: String,
    },
    /// An argument is not usable (e.g. zero grid columns).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The embedded font could not be loaded.
    #[error("font: {0}")]
    Font(String),
    /// The drawing backend reported an error.
    #[error("drawing failed: {0}")]
    Draw(String),
    /// Encoding a PNG or GIF failed.
    #[error("encoding {format} failed: {message}")]
    Encode {
        /// The image format.
        format: &'static str,
        /// The encoder's message.
        message: String,
    },
}

/// Write `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    let io_err = |source: std::io::Error| PlotError::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".plot-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io_err)?;
    tmp.write_all(bytes).map_err(io_err)?;
    tmp.flush().map_err(io_err)?;
    tmp.persist(path).map_err(|e| io_err(e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"first").unwrap();
        write_atomic(&p, b"second").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"second");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1);
    }

    #[test]
    fn write_atomic_into_missing_folder_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("missing").join("a.txt");
        let err = write_atomic(&p, b"x").unwrap_err();
        assert!(err.to_string().contains("a.txt"), "{err}");
    }
}
