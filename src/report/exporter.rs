//! The interface every report format implements.

use super::effect::EffectTable;
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

    /// The table of what adaptation changes (one row per adapted run with a source-only baseline of
    /// its pair; see [`EffectTable`]).
    fn effect(&self, table: &EffectTable) -> String;

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

    /// The whole document as the bytes of its file, checked: by default the text of
    /// [`Exporter::document`] after [`Exporter::check`]; a binary format (the deck) builds its bytes
    /// here. `None` for a table-only format; `Err` says what is wrong and stops the report.
    fn document_bytes(&self, outline: &Outline<'_>) -> Option<Result<Vec<u8>, String>> {
        let text = self.document(outline)?;
        Some(self.check(&text).map(|()| text.into_bytes()))
    }
}
