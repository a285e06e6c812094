//! Plot stage: figures for joint t-SNE maps, training evolution, training curves and the
//! small charts embedded in the HTML report.
//!
//! Files: `font` (the embedded face, text measuring, bitmap text), `canvas` (rendering and writing
//! a figure, text styles), `panel` (scatter panels, markers, legends), `palette`, `error`, and one
//! file per figure kind (`tsne`, `evolution`, `curves`, `report_charts`, `discriminator`). Training logs are read by [`crate::traininglog`].
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
mod discriminator;
pub(crate) mod error;
mod evolution;
mod font;
mod palette;
mod panel;
mod report_charts;
mod tsne;

pub use curves::curves_figure;
pub use discriminator::{discriminator_figure, discriminator_svg, DiscriminatorFigure};
pub use error::PlotError;
pub use evolution::{
    evolution_gif, evolution_grid, side_by_side, EvolutionFrame, EvolutionStyle,
    SIDE_BY_SIDE_TEXT_PX,
};
pub use font::FONT_FAMILY;
pub use palette::{class_color, ColorBy, SOURCE_COLOR, TAB10, TARGET_COLOR};
pub use report_charts::{confusion_heatmap, confusion_heatmap_svg, per_class_bars_svg};
pub use tsne::{tsne_figure, tsne_figure_svg, TsneFigure};
