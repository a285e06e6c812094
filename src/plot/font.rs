//! Text: the embedded DejaVu Sans face, its registration with plotters, glyph metrics and text
//! measuring, and the bitmap text renderer that matches the SVG output.
//!
//! plotters' own bitmap text path places each glyph at the left edge of its advance box,
//! dropping the glyph's left side bearing (a centred glyph such as `·` ends up glued to the
//! previous character), and it sizes text differently from its SVG backend. [`TextFix`] wraps
//! a backend and draws text itself with `ab_glyph`: glyphs at their true positions, the em size
//! and baseline offsets that the SVG backend writes (`font-size = size / 1.24`; baseline at
//! `0.76em` below a top anchor, `0.5ex` below a centre anchor, `0.5ex` above a bottom anchor),
//! rotations about the anchor as SVG's `rotate(..)` does. Every other call is passed through.

use std::sync::OnceLock;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};
use plotters::style::FontStyle;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontTransform,
};

use super::error::PlotError;

/// Font family name used for every text element in every figure.
///
/// The embedded DejaVu Sans face is registered under this exact name; the name is also a valid
/// CSS font-family list, which is what ends up in SVG `font-family` attributes.
pub const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

/// The DejaVu Sans face (see `assets/fonts/LICENSE-DejaVu`).
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");

/// Register the embedded font with plotters (under [`FONT_FAMILY`]) once per process.
pub(crate) fn ensure_font() -> Result<(), PlotError> {
    static DONE: OnceLock<bool> = OnceLock::new();
    let ok = *DONE.get_or_init(|| {
        plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES).is_ok()
    });
    if ok {
        Ok(())
    } else {
        Err(PlotError::Font(
            "the embedded DejaVu Sans font could not be parsed".to_string(),
        ))
    }
}

/// The embedded face parsed for `ab_glyph` (once); `None` if it cannot be parsed.
fn font() -> Option<&'static FontRef<'static>> {
    static FONT: OnceLock<Option<FontRef<'static>>> = OnceLock::new();
    FONT.get_or_init(|| FontRef::try_from_slice(FONT_BYTES).ok())
        .as_ref()
}

/// The font scale that gives an em of `size / 1.24` pixels (the SVG backend's font size).
fn scale_for(font: &FontRef<'static>, size: f64) -> PxScale {
    let em = (size / 1.24) as f32;
    let upem = font.units_per_em().unwrap_or(2048.0);
    PxScale::from(em * font.height_unscaled() / upem)
}

/// Advance width in pixels of `text` at plotters font size `size`, as drawn by [`TextFix`].
pub(crate) fn text_advance(text: &str, size: f64) -> f32 {
    let Some(font) = font() else {
        return 0.0;
    };
    let scaled = font.as_scaled(scale_for(font, size));
    let mut w = 0.0;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            w += scaled.kern(p, id);
        }
        w += scaled.h_advance(id);
        prev = Some(id);
    }
    w
}

/// Coverage pixels of `text` relative to the anchor point, before rotation.
fn raster(text: &str, size: f64, h: HPos, v: VPos) -> Vec<(i32, i32, f32)> {
    let Some(font) = font() else {
        return Vec::new();
    };
    let em = (size / 1.24) as f32;
    let scale = scale_for(font, size);
    let scaled = font.as_scaled(scale);
    // Horizontal layout.
    let mut carets = Vec::with_capacity(text.len());
    let mut caret = 0.0f32;
    let mut prev = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        carets.push((id, caret));
        caret += scaled.h_advance(id);
        prev = Some(id);
    }
    let x0 = match h {
        HPos::Left => 0.0,
        HPos::Center => -caret / 2.0,
        HPos::Right => -caret,
    };
    let x_height = font
        .outline_glyph(
            font.glyph_id('x')
                .with_scale_and_position(scale, point(0.0, 0.0)),
        )
        .map(|o| -o.px_bounds().min.y)
        .unwrap_or(em * 0.55);
    let baseline = match v {
        VPos::Top => 0.76 * em,
        VPos::Center => 0.5 * x_height,
        VPos::Bottom => -0.5 * x_height,
    };
    let mut out = Vec::new();
    for (id, cx) in carets {
        let g = id.with_scale_and_position(scale, point(x0 + cx, baseline));
        if let Some(o) = font.outline_glyph(g) {
            let b = o.px_bounds();
            o.draw(|gx, gy, cov| {
                if cov > 0.0 {
                    out.push((b.min.x as i32 + gx as i32, b.min.y as i32 + gy as i32, cov));
                }
            });
        }
    }
    out
}

/// A drawing backend wrapper whose text rendering matches the SVG backend (see module docs).
pub(crate) struct TextFix<DB>(pub DB);

impl<DB: DrawingBackend> DrawingBackend for TextFix<DB> {
    type ErrorType = DB::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_pixel(point, color)
    }

    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_line(from, to, style)
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_path(path, style)
    }

    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.fill_polygon(vert, style)
    }

    fn draw_text<TStyle: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &TStyle,
        pos: BackendCoord,
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let anchor = style.anchor();
        let trans = style.transform();
        for (x, y, cov) in raster(text, style.size(), anchor.h_pos, anchor.v_pos) {
            let (dx, dy) = match trans {
                FontTransform::None => (x, y),
                FontTransform::Rotate90 => (-y, x),
                FontTransform::Rotate180 => (-x, -y),
                FontTransform::Rotate270 => (y, -x),
            };
            let c = BackendColor {
                alpha: color.alpha * cov.min(1.0) as f64,
                rgb: color.rgb,
            };
            self.0.draw_pixel((pos.0 + dx, pos.1 + dy), c)?;
        }
        Ok(())
    }

    fn estimate_text_size<TStyle: BackendTextStyle>(
        &self,
        text: &str,
        style: &TStyle,
    ) -> Result<(u32, u32), DrawingErrorKind<Self::ErrorType>> {
        self.0.estimate_text_size(text, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        iwh: (u32, u32),
        src: &[u8],
    ) -> Result<(), DrawingErrorKind<Self::ErrorType>> {
        self.0.blit_bitmap(pos, iwh, src)
    }
}

/// Width in pixels of `s` at font size `size` (0 when the font cannot measure it).
pub(crate) fn text_width(s: &str, size: f64) -> i32 {
    text_advance(s, size).ceil() as i32
}

/// The largest font size in `min..=start` (stepping down by 1) at which `s` fits in `max_w`.
pub(crate) fn fit_size(s: &str, max_w: i32, start: f64, min: f64) -> f64 {
    let mut size = start;
    while size > min && text_width(s, size) > max_w {
        size -= 1.0;
    }
    size
}

/// Shorten `s` with an ellipsis until it fits in `max_w` at `size`.
pub(crate) fn ellipsize(s: &str, max_w: i32, size: f64) -> String {
    if text_width(s, size) <= max_w {
        return s.to_string();
    }
    let chars: Vec<char> = s.chars().collect();
    for keep in (1..chars.len()).rev() {
        let t: String = chars[..keep].iter().collect::<String>() + "…";
        if text_width(&t, size) <= max_w {
            return t;
        }
    }
    "…".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_glyph_keeps_its_left_side_bearing() {
        // The middle dot sits in the middle of its advance, not at its left edge.
        let px = raster("·", 62.0, HPos::Left, VPos::Top);
        assert!(!px.is_empty());
        let min_x = px.iter().map(|p| p.0).min().unwrap();
        let max_x = px.iter().map(|p| p.0).max().unwrap();
        let adv = text_advance("·", 62.0);
        let mid = (min_x + max_x) as f32 / 2.0;
        assert!(
            (mid - adv / 2.0).abs() <= 2.0,
            "dot centre {mid}, advance {adv}"
        );
        assert!(min_x >= 5, "left bearing lost: {min_x}");
    }

    #[test]
    fn anchors_place_the_text_box() {
        let right = raster("Bed", 30.0, HPos::Right, VPos::Center);
        assert!(
            right.iter().all(|p| p.0 <= 1),
            "right-anchored text must end at the anchor"
        );
        let top = raster("Bed", 30.0, HPos::Left, VPos::Top);
        assert!(
            top.iter().all(|p| p.1 >= -1),
            "top-anchored text must start below the anchor"
        );
        let bottom = raster("Bed", 30.0, HPos::Left, VPos::Bottom);
        assert!(bottom.iter().all(|p| p.1 <= 1));
    }
}
