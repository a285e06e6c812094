//! The interface every report format implements.

use super::outline::{Outline, StudyOutline};
use super::table::CohesionTable;

/// Renders the report, or its tables, in one format.
///
/// A format renders the outline's lines and sections; it never walks the runs itself. A format that
/// writes a document into the report folder names the file ([`Exporter::file_name`]) and renders it
/// ([`Exporter::document`]); a table-only format keeps the defaults.
pub trait Exporter {
    /// One study table (a block of accuracy and AUROC lines per model, one column per pair and the
    /// average).
    fn table(&self, table: &StudyOutline<'_>) -> String;

    /// The cohesion table (one row per run, one column per measure).
    fn cohesion(&self, table: &CohesionTable) -> String;

    /// Name of the document this format writes into the report folder; `None` for a table-only
    /// format.
    fn file_name(&self) -> Option<&'static str> {
        None
    }

    /// The whole document; `None` for a table-only format.
    fn document(&self, _outline: &Outline<'_>) -> Option<String> {
        None
    }

    /// Checks a rendered document before it is written; `Err` says what is wrong with it and stops
    /// the report.
    fn check(&self, _document: &str) -> Result<(), String> {
        Ok(())
    }
}
