//! Figure files of the runs: copied into `figures/` (for documents that link to them) and read into
//! inline content (for documents that embed them).

use std::path::{Path, PathBuf};

use super::input::RunOutcome;
use super::selfcontained::inline_svg;

/// Kinds of figure a run may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Joint t-SNE map.
    Tsne,
    /// Evolution over checkpoints.
    Evolution,
    /// Training curves.
    Curves,
    /// The run's joint map beside its source-only baseline's.
    Versus,
}

/// Number of figure kinds ([`Kind::ALL`]).
pub const KINDS: usize = 4;

impl Kind {
    /// Every kind, in the order of [`Figures::runs`] entries.
    pub const ALL: [Kind; KINDS] = [Kind::Tsne, Kind::Evolution, Kind::Curves, Kind::Versus];

    /// Position of this kind in [`Kind::ALL`] (and in a run's figures).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Short name used in copied file names.
    pub fn slug(self) -> &'static str {
        match self {
            Kind::Tsne => "tsne",
            Kind::Evolution => "evolution",
            Kind::Curves => "curves",
            Kind::Versus => "versus-baseline",
        }
    }

    /// Title shown in captions and headings.
    pub fn title(self) -> &'static str {
        match self {
            Kind::Tsne => "Joint t-SNE",
            Kind::Evolution => "Evolution over training",
            Kind::Curves => "Training curves",
            Kind::Versus => "Joint t-SNE beside the source-only baseline",
        }
    }

    fn files(self, r: &RunOutcome) -> (Option<&PathBuf>, Option<&PathBuf>) {
        match self {
            Kind::Tsne => (
                r.results().and_then(|d| d.tsne_png.as_ref()),
                r.results().and_then(|d| d.tsne_svg.as_ref()),
            ),
            Kind::Evolution => (r.results().and_then(|d| d.evolution_png.as_ref()), None),
            Kind::Curves => (
                r.results().and_then(|d| d.curves_png.as_ref()),
                r.results().and_then(|d| d.curves_svg.as_ref()),
            ),
            Kind::Versus => (
                r.results().and_then(|d| d.versus_png.as_ref()),
                r.results().and_then(|d| d.versus_svg.as_ref()),
            ),
        }
    }
}

/// A figure's content, ready to embed in a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inline {
    /// An SVG element that references nothing outside itself (prolog and comments dropped).
    Svg(String),
    /// A bitmap as a `data:` URI (`data:image/png;base64,...`).
    DataUri(String),
}

/// One figure of one run.
#[derive(Debug, Clone, Default)]
pub struct Figure {
    /// Path relative to the report folder, `/`-separated and percent-encoded, for links.
    pub rel: Option<String>,
    /// Text alternative: "`kind title` of `run name` (`pair`)", e.g. "Joint t-SNE of Net (R-P)".
    pub alt: String,
    /// The content to embed: the SVG file when it can be inlined, else the bitmap.
    pub inline: Option<Inline>,
    /// The bitmap file's bytes and its MIME type (for formats that embed bitmaps, the deck).
    pub bitmap: Option<Bitmap>,
}

/// A bitmap figure as read from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bitmap {
    /// MIME type from the file extension (`image/png`, `image/jpeg`, `image/gif`, ...).
    pub mime: &'static str,
    /// The file's bytes.
    pub bytes: Vec<u8>,
}

/// The figures of every run and what happened while collecting them.
#[derive(Debug, Clone, Default)]
pub struct Figures {
    /// Per run, per [`Kind::ALL`] entry.
    pub runs: Vec<[Figure; KINDS]>,
    /// Files written into `figures/`.
    pub copied: Vec<PathBuf>,
    /// Figures left out and why.
    pub warnings: Vec<String>,
}

fn mime(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("gif") => "image/gif",
        Some("jpg" | "jpeg") => "image/jpeg",
        Some("webp") => "image/webp",
        Some("svg") => "image/svg+xml",
        _ => "image/png",
    }
}

fn percent_path(rel: &str) -> String {
    let mut out = String::new();
    for b in rel.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn relative_inside(dir: &Path, file: &Path) -> Option<String> {
    let d = dir.canonicalize().ok()?;
    let f = file.canonicalize().ok()?;
    let rel = f.strip_prefix(&d).ok()?;
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

/// Collects the figures of every run: bitmaps are copied into `dir/figures/<run id>-<kind>.<ext>`
/// (unless they already lie inside `dir`); the inline content prefers the SVG file and falls back to
/// the bitmap as a `data:` URI. A file that cannot be read becomes a warning.
pub(super) fn collect(dir: &Path, runs: &[RunOutcome], ids: &[String]) -> crate::Result<Figures> {
    let mut out = Figures::default();
    for (r, id) in runs.iter().zip(ids) {
        let mut figs: [Figure; KINDS] = Default::default();
        for (k, fig) in Kind::ALL.into_iter().zip(figs.iter_mut()) {
            let (bitmap, svg) = k.files(r);
            fig.alt = format!("{} of {} ({})", k.title(), r.label(), r.pair);
            let mut bytes = None;
            if let Some(src) = bitmap {
                match std::fs::read(src) {
                    Ok(b) => {
                        fig.rel = match relative_inside(dir, src) {
                            Some(rel) => Some(percent_path(&rel)),
                            None => {
                                let ext = src
                                    .extension()
                                    .and_then(|e| e.to_str())
                                    .unwrap_or("png")
                                    .to_ascii_lowercase();
                                let name = format!("{id}-{}.{ext}", k.slug());
                                let dest = dir.join("figures").join(&name);
                                crate::atomic::write_bytes(&dest, &b)?;
                                out.copied.push(dest);
                                Some(format!("figures/{}", percent_path(&name)))
                            }
                        };
                        bytes = Some(b);
                    }
                    Err(e) => out.warnings.push(format!(
                        "{} of run {id}: cannot read {}: {e}",
                        k.title(),
                        src.display()
                    )),
                }
            }
            if let Some(src) = svg {
                match std::fs::read_to_string(src) {
                    Ok(text) => match inline_svg(&text) {
                        Ok(s) => fig.inline = Some(Inline::Svg(s)),
                        Err(e) => out.warnings.push(format!(
                            "{} of run {id}: {} cannot be inlined: {e}",
                            k.title(),
                            src.display()
                        )),
                    },
                    Err(e) => out.warnings.push(format!(
                        "{} of run {id}: cannot read {}: {e}",
                        k.title(),
                        src.display()
                    )),
                }
            }
            if let (Some(b), Some(src)) = (bytes, bitmap) {
                if fig.inline.is_none() {
                    fig.inline = Some(Inline::DataUri(format!(
                        "data:{};base64,{}",
                        mime(src),
                        crate::markup::base64_encode(&b)
                    )));
                }
                fig.bitmap = Some(Bitmap {
                    mime: mime(src),
                    bytes: b,
                });
            }
        }
        out.runs.push(figs);
    }
    Ok(out)
}
