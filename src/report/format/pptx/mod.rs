//! PowerPoint: `report.pptx`, a 16:9 deck whose tables are native, editable PowerPoint tables
//! (`a:tbl` in a `p:graphicFrame`, not pictures).
//!
//! Slides, in order: a title slide; the study tables (forward pairs, reversed pairs, baseline rows
//! last; each value with its bootstrap interval); the table of what adaptation changes (adapted runs
//! against their source-only baselines, an accuracy and an alignment half); the cohesion table; per
//! adapted run compared with its baseline, one pair slide (its verdict, then its joint t-SNE map
//! beside the baseline's); one slide per other run with its joint t-SNE figure and its key numbers
//! (per-domain accuracy and AUROC, the pair's proxy A-distance, RBF MMD² and kNN transfer accuracy,
//! all native tables); the evolution grids; one slide of every run's training curves. Long tables continue on further
//! slides. Text is Arial (theme and every run), which LibreOffice and Linux systems without it
//! replace by the metric-compatible Liberation Sans, so the layout holds everywhere.
//!
//! How the file is made: the minimal OOXML parts written here with the `zip` crate (already a
//! dependency through `ndarray-npy`), not a PowerPoint crate. Of the crates published for pptx
//! (`ppt-rs` 0.2.x, `pptx` 0.1.0, `pptx-rs2`, `office-toolkit`), each was either young (a single
//! release), still marked as work in progress with yanked versions, or brought a large dependency
//! tree (PDF, HTTP, syntax highlighting); none promised byte-identical output, which the report needs
//! (same inputs, same bytes). The package is therefore a fixed set of parts (one theme, one master,
//! one blank layout) plus one part per slide and image, stored in a zip with fixed timestamps and
//! permissions (`package`); `xml` holds the DrawingML pieces and `deck` lays out the slides.

mod deck;
mod grids;
mod package;
mod xml;

use crate::report::effect::EffectTable;
use crate::report::exporter::Exporter;
use crate::report::outline::{Outline, StudyOutline};
use crate::report::table::CohesionTable;

use grids::{cohesion_grid, effect_halves, study_grid, MARGIN};
use xml::INCH;

pub use grids::measure_header;

/// The deck `report.pptx`; [`Exporter::table`] and [`Exporter::cohesion`] give one native table each
/// (a `p:graphicFrame` element), [`Exporter::effect`] two (target accuracy, then domain alignment).
#[derive(Debug, Clone, Copy, Default)]
pub struct PptxExporter;

impl Exporter for PptxExporter {
    fn table(&self, t: &StudyOutline<'_>) -> String {
        study_grid(t, 14).frame(
            2,
            &format!("Study table: {}", t.caption),
            MARGIN,
            INCH * 3 / 2,
        )
    }

    fn cohesion(&self, t: &CohesionTable) -> String {
        cohesion_grid(t, 12).frame(2, "Cohesion table", MARGIN, INCH * 3 / 2)
    }

    fn effect(&self, t: &EffectTable) -> String {
        let [(top, _), (below, dy)] = effect_halves(t);
        let y = INCH * 3 / 2;
        let mut s = top.frame(2, "Effect table", MARGIN, y);
        s.push_str(&below.frame(3, "Effect table", MARGIN, y + dy));
        s
    }

    fn file_name(&self) -> Option<&'static str> {
        Some("report.pptx")
    }

    /// The deck: a zip of OOXML parts, the same bytes for the same outline.
    fn document_bytes(&self, outline: &Outline<'_>) -> Option<Result<Vec<u8>, String>> {
        let slides = deck::slides(outline);
        Some(package::zip(&package::parts(outline.title, &slides)))
    }
}
