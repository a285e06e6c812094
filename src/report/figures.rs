//! Figure files of the runs: copied into `figures/` for the Markdown report and turned into inline
//! markup for the HTML page.

use std::path::{Path, PathBuf};

use super::base64;
use super::html::html_escape;
use super::selfcontained::check_self_contained;
use super::RunOutcome;

/// Kinds of figure a run may have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// Joint t-SNE map.
    Tsne,
    /// Evolution over checkpoints.
    Evolution,
    /// Training curves.
    Curves,
}

impl Kind {
    pub(super) const ALL: [Kind; 3] = [Kind::Tsne, Kind::Evolution, Kind::Curves];

    pub(super) fn slug(self) -> &'static str {
        match self {
            Kind::Tsne => "tsne",
            Kind::Evolution => "evolution",
            Kind::Curves => "curves",
        }
    }

    pub(super) fn title(self) -> &'static str {
        match self {
            Kind::Tsne => "Joint t-SNE",
            Kind::Evolution => "Evolution over training",
            Kind::Curves => "Training curves",
        }
    }

    fn files(self, r: &RunOutcome) -> (Option<&PathBuf>, Option<&PathBuf>) {
        match self {
            Kind::Tsne => (r.tsne_png.as_ref(), r.tsne_svg.as_ref()),
            Kind::Evolution => (r.evolution_png.as_ref(), None),
            Kind::Curves => (r.curves_png.as_ref(), r.curves_svg.as_ref()),
        }
    }
}

/// One figure of one run.
#[derive(Debug, Clone, Default)]
pub(super) struct Figure {
    /// Path relative to the report folder, `/`-separated, for Markdown links.
    pub rel: Option<String>,
    /// Self-contained HTML markup (inline `<svg>` or `<img src="data:...">`).
    pub html: Option<String>,
}

/// The figures of every run and what happened while collecting them.
#[derive(Debug, Clone, Default)]
pub(super) struct Figures {
    /// Per run, per [`Kind::ALL`] entry.
    pub runs: Vec<[Figure; 3]>,
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

/// An SVG document made fit to inline: the XML declaration, doctype and comments before `<svg` are
/// dropped; the result must start with `<svg` and reference nothing outside itself.
pub(super) fn inline_svg(text: &str) -> Result<String, String> {
    let Some(p) = text.find("<svg") else {
        return Err("no <svg> element".into());
    };
    let svg = text[p..].trim_end();
    if !svg.ends_with("</svg>") {
        return Err("the <svg> element is not closed".into());
    }
    if svg.to_ascii_lowercase().contains("<script") {
        return Err("holds a <script> element".into());
    }
    check_self_contained(svg)?;
    Ok(svg.to_string())
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
/// (unless they already lie inside `dir`); the HTML markup prefers the SVG file and falls back to the
/// bitmap as a `data:` URI. A file that cannot be read becomes a warning.
pub(super) fn collect(dir: &Path, runs: &[RunOutcome], ids: &[String]) -> crate::Result<Figures> {
    let mut out = Figures::default();
    for (r, id) in runs.iter().zip(ids) {
        let mut figs: [Figure; 3] = Default::default();
        for (k, fig) in Kind::ALL.into_iter().zip(figs.iter_mut()) {
            let (bitmap, svg) = k.files(r);
            let alt = format!("{} of {} ({})", k.title(), r.name, r.pair);
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
                                crate::store::atomic_write_bytes(&dest, &b)?;
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
                        Ok(s) => {
                            fig.html = Some(format!(
                                "<div class=\"svg\" role=\"img\" aria-label=\"{}\">{s}</div>",
                                html_escape(&alt)
                            ))
                        }
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
            if fig.html.is_none() {
                if let (Some(b), Some(src)) = (bytes, bitmap) {
                    fig.html = Some(format!(
                        "<img alt=\"{}\" src=\"data:{};base64,{}\">",
                        html_escape(&alt),
                        mime(src),
                        base64::encode(&b)
                    ));
                }
            }
        }
        out.runs.push(figs);
    }
    Ok(out)
}
