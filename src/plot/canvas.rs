//! Shared drawing machinery: rendering a figure to SVG or RGB pixels and writing it, text styles
//! and the colours of text and frames.

use std::io::Cursor;
use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use plotters::style::{FontFamily, FontStyle, RGBColor};

use super::error::PlotError;
use super::font::{ensure_font, TextFix, FONT_FAMILY};

/// Convert a drawing error of any backend into a [`PlotError`].
pub(crate) fn derr<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// A figure that can draw itself on any plotters backend.
pub(crate) trait Figure {
    /// Canvas size in pixels (width, height).
    fn size(&self) -> (u32, u32);
    /// Draw on a white-filled root area of [`Figure::size`].
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), PlotError>;
}

/// Render a figure to an SVG document string.
pub(crate) fn to_svg_string(fig: &impl Figure) -> Result<String, PlotError> {
    ensure_font()?;
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, fig.size()).into_drawing_area();
        root.fill(&WHITE).map_err(derr)?;
        fig.draw(&root)?;
        root.present().map_err(derr)?;
    }
    Ok(out)
}

/// Render a figure to an RGB image.
pub(crate) fn to_rgb(fig: &impl Figure) -> Result<image::RgbImage, PlotError> {
    ensure_font()?;
    let (w, h) = fig.size();
    let mut buf = vec![255u8; w as usize * h as usize * 3];
    {
        let root = DrawingArea::from(TextFix(BitMapBackend::with_buffer(&mut buf, (w, h))));
        root.fill(&WHITE).map_err(derr)?;
        fig.draw(&root)?;
        root.present().map_err(derr)?;
    }
    image::RgbImage::from_raw(w, h, buf).ok_or_else(|| PlotError::Encode {
        format: "PNG",
        message: "pixel buffer has the wrong size".to_string(),
    })
}

/// Encode an RGB image as PNG bytes.
pub(crate) fn png_bytes(img: &image::RgbImage) -> Result<Vec<u8>, PlotError> {
    let mut bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png)
        .map_err(|e| PlotError::Encode {
            format: "PNG",
            message: e.to_string(),
        })?;
    Ok(bytes)
}

/// Render a figure and write it as SVG and PNG, each atomically.
pub(crate) fn write_svg_png(fig: &impl Figure, svg: &Path, png: &Path) -> Result<(), PlotError> {
    let s = to_svg_string(fig)?;
    let img = to_rgb(fig)?;
    let bytes = png_bytes(&img)?;
    write_atomic(svg, s.as_bytes())?;
    write_atomic(png, &bytes)?;
    Ok(())
}

/// Write `bytes` to `path` atomically: a temporary file in the same folder, then a rename.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), PlotError> {
    // The folder must exist: a figure never creates the output tree by accident.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(PlotError::Io {
                path: path.to_path_buf(),
                source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such folder"),
            });
        }
    }
    Ok(crate::atomic::write_bytes(path, bytes)?)
}

/// Text style in the embedded family.
pub(crate) fn text(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal)
        .color(&color)
        .pos(Pos::new(h, v))
}

/// Rotated text style (reading bottom to top) in the embedded family.
pub(crate) fn text_up(size: f64, color: RGBColor, h: HPos, v: VPos) -> TextStyle<'static> {
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, FontStyle::Normal)
        .transform(FontTransform::Rotate270)
        .color(&color)
        .pos(Pos::new(h, v))
}

pub(crate) const INK: RGBColor = RGBColor(0x22, 0x22, 0x22);
pub(crate) const MUTED: RGBColor = RGBColor(0x55, 0x55, 0x55);
pub(crate) const FRAME: RGBColor = RGBColor(0xbb, 0xbb, 0xbb);
pub(crate) const GRID: RGBColor = RGBColor(0xe3, 0xe3, 0xe3);

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
