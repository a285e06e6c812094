//! Shapes (the classes) and domain styles of the demo dataset.

use super::kinds::{DemoClass, DemoDomain};
use super::raster::{
    coverage, hsv, polygon_sdf, radial_polygon, value_noise, Canvas, Placement, V2,
};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::f32::consts::{FRAC_PI_2, PI};

/// A class shape in its unit-sized local frame.
pub(crate) enum Shape {
    Polygon(Vec<V2>),
    Circle(f32),
    Ring { radius: f32, half_width: f32 },
    Crescent { outer: f32, bite: f32, offset: V2 },
}

impl Shape {
    pub(crate) fn of(class: DemoClass) -> Shape {
        match class {
            DemoClass::Arrow => Shape::Polygon(vec![
                V2::new(-0.95, -0.2),
                V2::new(0.15, -0.2),
                V2::new(0.15, -0.62),
                V2::new(0.95, 0.0),
                V2::new(0.15, 0.62),
                V2::new(0.15, 0.2),
                V2::new(-0.95, 0.2),
            ]),
            DemoClass::Circle => Shape::Circle(0.85),
            DemoClass::Crescent => Shape::Crescent {
                outer: 0.9,
                bite: 0.72,
                offset: V2::new(0.42, -0.18),
            },
            DemoClass::Cross => {
                let (a, w) = (0.92, 0.3);
                Shape::Polygon(vec![
                    V2::new(-w, -a),
                    V2::new(w, -a),
                    V2::new(w, -w),
                    V2::new(a, -w),
                    V2::new(a, w),
                    V2::new(w, w),
                    V2::new(w, a),
                    V2::new(-w, a),
                    V2::new(-w, w),
                    V2::new(-a, w),
                    V2::new(-a, -w),
                    V2::new(-w, -w),
                ])
            }
            DemoClass::Diamond => Shape::Polygon(vec![
                V2::new(0.0, -1.0),
                V2::new(0.55, 0.0),
                V2::new(0.0, 1.0),
                V2::new(-0.55, 0.0),
            ]),
            DemoClass::Hexagon => Shape::Polygon(radial_polygon(6, 0.92, None, 0.0)),
            DemoClass::Ring => Shape::Ring {
                radius: 0.68,
                half_width: 0.22,
            },
            DemoClass::Square => Shape::Polygon(vec![
                V2::new(-0.75, -0.75),
                V2::new(0.75, -0.75),
                V2::new(0.75, 0.75),
                V2::new(-0.75, 0.75),
            ]),
            DemoClass::Star => Shape::Polygon(radial_polygon(5, 1.0, Some(0.42), -FRAC_PI_2)),
            DemoClass::Triangle => Shape::Polygon(vec![
                V2::new(0.0, -1.0),
                V2::new(0.87, 0.55),
                V2::new(-0.87, 0.55),
            ]),
        }
    }

    /// Signed distance in local units (negative inside).
    pub(crate) fn sdf(&self, p: V2) -> f32 {
        match self {
            Shape::Polygon(v) => polygon_sdf(p, v),
            Shape::Circle(r) => p.len() - r,
            Shape::Ring { radius, half_width } => (p.len() - radius).abs() - half_width,
            Shape::Crescent {
                outer,
                bite,
                offset,
            } => {
                let d_outer = p.len() - outer;
                let d_bite = V2::new(p.x - offset.x, p.y - offset.y).len() - bite;
                d_outer.max(-d_bite)
            }
        }
    }
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

/// Standard normal sample (Box–Muller) from the image's generator.
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.gen_range(1e-7f32..1.0);
    let u2: f32 = rng.gen_range(0.0f32..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// The object of one image: its shape and where it sits. Every style draws it from the same
/// random choices, so the class is carried by the shape alone.
struct Scene {
    shape: Shape,
    place: Placement,
    /// Object radius in pixels.
    radius: f32,
    /// Image side in pixels.
    size: u32,
    /// Style constants are tuned for 32 px and scale with `unit` = side / 32.
    unit: f32,
    /// Seed of the image's lattice noise.
    noise_seed: u64,
}

impl Scene {
    /// Radius 28–40 % of the side, centre within ±12 % of the middle, rotation ±0.5 rad.
    fn draw(class: DemoClass, size: u32, rng: &mut ChaCha8Rng) -> Scene {
        let n = size as f32;
        let noise_seed = rng.gen();
        let radius = n * rng.gen_range(0.28f32..0.40);
        let cx = n * (0.5 + rng.gen_range(-0.12f32..0.12));
        let cy = n * (0.5 + rng.gen_range(-0.12f32..0.12));
        let rotation = rng.gen_range(-0.5f32..0.5);
        Scene {
            shape: Shape::of(class),
            place: Placement::new(cx, cy, radius, rotation),
            radius,
            size,
            unit: n / 32.0,
            noise_seed,
        }
    }

    /// Signed distance to the object's edge in pixels (negative inside).
    fn sdf(&self, x: f32, y: f32) -> f32 {
        self.shape.sdf(self.place.to_local(x, y)) * self.radius
    }

    /// Anti-aliased coverage of the object at (`x`, `y`), softened over `soft` pixels.
    fn inside(&self, x: f32, y: f32, soft: f32) -> f32 {
        coverage(self.sdf(x, y), soft)
    }
}

/// Draws one image of `class` in the style of `domain`; all randomness comes from `rng`.
pub(crate) fn render(
    domain: DemoDomain,
    class: DemoClass,
    size: u32,
    rng: &mut ChaCha8Rng,
) -> Canvas {
    let scene = Scene::draw(class, size, rng);
    match domain {
        DemoDomain::Product => product(&scene, rng),
        DemoDomain::Clipart => clipart(&scene, rng),
        DemoDomain::RealWorld => real_world(&scene, rng),
        DemoDomain::Art => art(&scene, rng),
    }
}

/// Product: a dark, muted object with a soft drop shadow on a cluttered table: a light, muted
/// two-octave value-noise texture of moderate contrast, with faint sensor noise. Busier than
/// Clipart's flat wallpaper, calmer and lighter than Real World; the object is always darker than
/// its surroundings.
fn product(s: &Scene, rng: &mut ChaCha8Rng) -> Canvas {
    let a = hsv(
        rng.gen(),
        rng.gen_range(0.05..0.3),
        rng.gen_range(0.75..0.95),
    );
    let b = hsv(
        rng.gen(),
        rng.gen_range(0.05..0.3),
        rng.gen_range(0.45..0.7),
    );
    let freq = rng.gen_range(0.2f32..0.45) / s.unit;
    let mut c = noise_mix(s, a, b, freq, s.noise_seed, [0.6, 0.4, 2.3, 2.0]);
    let (dx, dy) = (
        s.unit * rng.gen_range(0.8f32..1.8),
        s.unit * rng.gen_range(0.8f32..1.8),
    );
    let soft = 2.0 * s.unit;
    c.blend_with(
        |x, y| 0.3 * s.inside(x - dx, y - dy, soft),
        |_, _| [0.25, 0.25, 0.27],
    );
    let base = hsv(
        rng.gen(),
        rng.gen_range(0.0..0.45),
        rng.gen_range(0.08..0.4),
    );
    c.blend_with(|x, y| s.inside(x, y, 1.0), |_, _| base);
    let sigma = rng.gen_range(0.01f32..0.03);
    sensor_noise(&mut c, rng, sigma);
    c
}

/// Adds Gaussian sensor noise of standard deviation `sigma` to every channel of every pixel
/// (pixels in row order, channels in order).
fn sensor_noise(c: &mut Canvas, rng: &mut ChaCha8Rng, sigma: f32) {
    c.map(|_, _, p| {
        let n = [
            normal(rng) * sigma,
            normal(rng) * sigma,
            normal(rng) * sigma,
        ];
        [p[0] + n[0], p[1] + n[1], p[2] + n[2]]
    });
}

/// Clipart: a near-black, saturated flat fill on a mid-toned wallpaper of flat stripes or dots in
/// two hues (background value 0.45–0.65, motif 0.3–0.5); a few exact colours cover the whole
/// image, the darkest of the four domains.
fn clipart(s: &Scene, rng: &mut ChaCha8Rng) -> Canvas {
    let bg = hsv(
        rng.gen(),
        rng.gen_range(0.2..0.5),
        rng.gen_range(0.45..0.65),
    );
    let motif = hsv(rng.gen(), rng.gen_range(0.4..0.8), rng.gen_range(0.3..0.5));
    let fill = hsv(rng.gen(), rng.gen_range(0.7..1.0), rng.gen_range(0.0..0.15));
    let mut c = Canvas::new(s.size, bg);
    stripes_or_dots(&mut c, s, rng, motif);
    c.blend_with(|x, y| s.inside(x, y, 1.0), |_, _| fill);
    c
}

/// Covers `c` with a pattern of flat stripes or dots in `colour`: period 4–7 px at 32 px, random
/// angle.
fn stripes_or_dots(c: &mut Canvas, s: &Scene, rng: &mut ChaCha8Rng, colour: [f32; 3]) {
    let period = s.unit * rng.gen_range(4.0f32..7.0);
    let ang = rng.gen_range(-PI..PI);
    let (ux, uy) = (ang.cos(), ang.sin());
    let dots = rng.gen_bool(0.5);
    c.blend_with(
        |x, y| {
            let (u, v) = (x * ux + y * uy, -x * uy + y * ux);
            let fu = (u / period).rem_euclid(1.0) - 0.5;
            if dots {
                let fv = (v / period).rem_euclid(1.0) - 0.5;
                coverage(((fu * fu + fv * fv).sqrt() - 0.25) * period, 1.0)
            } else {
                coverage((fu.abs() - 0.2) * period, 1.0)
            }
        },
        |_, _| colour,
    );
}

/// A two-colour, two-octave value-noise texture of the whole image.
fn texture(s: &Scene, rng: &mut ChaCha8Rng, seed: u64) -> Vec<[f32; 3]> {
    let a = hsv(rng.gen(), rng.gen_range(0.3..0.9), rng.gen_range(0.2..1.0));
    let b = hsv(rng.gen(), rng.gen_range(0.3..0.9), rng.gen_range(0.2..1.0));
    let freq = rng.gen_range(0.12f32..0.3) / s.unit;
    noise_mix(s, a, b, freq, seed, [0.65, 0.35, 2.7, 2.5]).px
}

/// The image filled with a mix of `a` and `b` by two octaves of value noise:
/// `shape = [weight of the base octave, weight of the second, the second's frequency factor,
/// contrast]`, base frequency `freq` (per pixel), lattice seed `seed`.
fn noise_mix(s: &Scene, a: [f32; 3], b: [f32; 3], freq: f32, seed: u64, shape: [f32; 4]) -> Canvas {
    let [w0, w1, octave, contrast] = shape;
    let mut c = Canvas::new(s.size, a);
    c.map(|x, y, _| {
        let t = w0 * value_noise(x * freq, y * freq, seed)
            + w1 * value_noise(x * freq * octave, y * freq * octave, seed ^ 1);
        mix(a, b, ((t - 0.5) * contrast + 0.5).clamp(0.0, 1.0))
    });
    c
}

/// Real World, built like MNIST-M: a colourful textured background, the object drawn as the
/// colour-inverted texture (|texture − coverage|), then Gaussian sensor noise. Neither the
/// object's colour nor its polarity is fixed; only the shape of the inversion is.
fn real_world(s: &Scene, rng: &mut ChaCha8Rng) -> Canvas {
    let tex = texture(s, rng, s.noise_seed);
    let mut c = Canvas::new(s.size, [0.0; 3]);
    let sigma = rng.gen_range(0.02f32..0.05);
    c.map(|x, y, _| {
        let i = (y as u32 * s.size + x as u32) as usize;
        let cov = s.inside(x, y, 1.0);
        tex[i].map(|t| (t - cov).abs())
    });
    sensor_noise(&mut c, rng, sigma);
    c
}

/// Art: a sepia wash on warm paper with a faint pattern of stripes or dots (a little darker than
/// the paper); the object is a dark warm wash with a soft edge (1.2–2 px at 32 px).
fn art(s: &Scene, rng: &mut ChaCha8Rng) -> Canvas {
    let paper_value = rng.gen_range(0.75f32..0.95);
    let paper = hsv(
        rng.gen_range(0.06..0.14),
        rng.gen_range(0.2..0.45),
        paper_value,
    );
    let pattern = hsv(
        rng.gen_range(0.04..0.14),
        rng.gen_range(0.25..0.5),
        paper_value - rng.gen_range(0.1f32..0.2),
    );
    let obj = hsv(
        rng.gen_range(0.04..0.12),
        rng.gen_range(0.3..0.6),
        rng.gen_range(0.15f32..0.4),
    );
    let mut c = Canvas::new(s.size, paper);
    stripes_or_dots(&mut c, s, rng, pattern);
    let soft = s.unit * rng.gen_range(1.2f32..2.0);
    c.blend_with(|x, y| s.inside(x, y, soft), |_, _| obj);
    c
}
