//! The report formats, one file each. Every format implements [`Exporter`](super::Exporter) on the
//! shared [`Outline`](super::Outline): its own escaping, its table renderer and, where it writes one,
//! its document. Adding a format means adding one file here.

mod csv;
mod escape;
mod html;
mod html_diagnosis;
mod html_run;
mod latex;
mod layout;
mod markdown;
mod markdown_diagnosis;
mod pptx;

pub use self::csv::CsvExporter;
pub use self::escape::{latex_escape, markdown_escape};
pub use self::html::HtmlExporter;
pub use self::latex::LatexExporter;
pub use self::markdown::MarkdownExporter;
pub use self::pptx::{measure_header, PptxExporter};
