//! Colours shared by all figures.

use plotters::style::RGBColor;

/// The ten "tab10" category colours, in order.
pub const TAB10: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// The light companions of [`TAB10`] (the odd entries of "tab20"), used for classes 10..20.
const TAB20_LIGHT: [RGBColor; 10] = [
    RGBColor(0xae, 0xc7, 0xe8),
    RGBColor(0xff, 0xbb, 0x78),
    RGBColor(0x98, 0xdf, 0x8a),
    RGBColor(0xff, 0x98, 0x96),
    RGBColor(0xc5, 0xb0, 0xd5),
    RGBColor(0xc4, 0x9c, 0x94),
    RGBColor(0xf7, 0xb6, 0xd2),
    RGBColor(0xc7, 0xc7, 0xc7),
    RGBColor(0xdb, 0xdb, 0x8d),
    RGBColor(0x9e, 0xda, 0xe5),
];

/// Colour of the source domain when colouring by domain (a colour-blind-safe orange).
pub const SOURCE_COLOR: RGBColor = RGBColor(0xe6, 0x61, 0x00);
/// Colour of the target domain when colouring by domain (a colour-blind-safe purple).
pub const TARGET_COLOR: RGBColor = RGBColor(0x5d, 0x3a, 0x9b);

/// What the marker colour encodes in a scatter panel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ColorBy {
    /// One colour per class ([`class_color`]); source filled, target hollow.
    #[default]
    Class,
    /// One colour per domain ([`SOURCE_COLOR`], [`TARGET_COLOR`]).
    Domain,
}

/// Colour of class `i` in a figure with `n_classes` classes.
///
/// Classes 0..10 get the tab10 colours, classes 10..20 the light tab20 companions, and later
/// classes hues stepped by the golden angle with alternating lightness. The colour depends only
/// on `i`: `n_classes` is part of the signature so callers state the class count, but a class
/// keeps its colour across figures whatever their class count (for `n_classes <= 10` this is
/// exactly tab10).
pub fn class_color(i: usize, n_classes: usize) -> RGBColor {
    let _ = n_classes;
    match i {
        0..=9 => TAB10[i],
        10..=19 => TAB20_LIGHT[i - 10],
        _ => {
            let k = (i - 20) as f64;
            // Start between tab10 hues; 137.508 degrees is the golden angle.
            let hue = (17.0 + k * 137.507_764).rem_euclid(360.0);
            let (sat, light) = match (i - 20) % 3 {
                0 => (0.70, 0.42),
                1 => (0.55, 0.58),
                _ => (0.85, 0.32),
            };
            hsl_to_rgb(hue, sat, light)
        }
    }
}

/// Convert HSL (hue in degrees, saturation and lightness in 0..1) to an 8-bit RGB colour.
fn hsl_to_rgb(h: f64, s: f64, l: f64) -> RGBColor {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h / 60.0;
    let x = c * (1.0 - (hp.rem_euclid(2.0) - 1.0).abs());
    let (r1, g1, b1) = match hp as u32 {
        0 => (c, x, 0.0),
        1 => (x, c, 0.0),
        2 => (0.0, c, x),
        3 => (0.0, x, c),
        4 => (x, 0.0, c),
        _ => (c, 0.0, x),
    };
    let m = l - c / 2.0;
    let to8 = |v: f64| ((v + m) * 255.0).round().clamp(0.0, 255.0) as u8;
    RGBColor(to8(r1), to8(g1), to8(b1))
}

/// Linear blend between two colours, `t` in 0..1.
pub(crate) fn lerp(a: RGBColor, b: RGBColor, t: f64) -> RGBColor {
    let t = t.clamp(0.0, 1.0);
    let f = |x: u8, y: u8| (x as f64 + (y as f64 - x as f64) * t).round() as u8;
    RGBColor(f(a.0, b.0), f(a.1, b.1), f(a.2, b.2))
}

/// Sequential blue scale for heat maps, `t` in 0..1 (white to dark blue, in five stops).
pub(crate) fn blues(t: f64) -> RGBColor {
    const STOPS: [RGBColor; 5] = [
        RGBColor(0xf7, 0xfb, 0xff),
        RGBColor(0xc6, 0xdb, 0xef),
        RGBColor(0x6b, 0xae, 0xd6),
        RGBColor(0x21, 0x71, 0xb5),
        RGBColor(0x08, 0x30, 0x6b),
    ];
    let t = t.clamp(0.0, 1.0) * (STOPS.len() - 1) as f64;
    let k = (t.floor() as usize).min(STOPS.len() - 2);
    lerp(STOPS[k], STOPS[k + 1], t - k as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hsl_primaries() {
        assert_eq!(hsl_to_rgb(0.0, 1.0, 0.5), RGBColor(255, 0, 0));
        assert_eq!(hsl_to_rgb(120.0, 1.0, 0.5), RGBColor(0, 255, 0));
        assert_eq!(hsl_to_rgb(240.0, 1.0, 0.5), RGBColor(0, 0, 255));
    }

    #[test]
    fn first_hundred_colours_are_distinct() {
        let mut seen = std::collections::HashSet::new();
        for i in 0..100 {
            let c = class_color(i, 100);
            assert!(seen.insert((c.0, c.1, c.2)), "class {i} repeats {c:?}");
        }
    }

    #[test]
    fn blues_ends() {
        assert_eq!(blues(0.0), RGBColor(0xf7, 0xfb, 0xff));
        assert_eq!(blues(1.0), RGBColor(0x08, 0x30, 0x6b));
    }
}
