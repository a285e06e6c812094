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

fn scale(c: [f32; 3], k: f32) -> [f32; 3] {
    [c[0] * k, c[1] * k, c[2] * k]
}

/// Standard normal sample (Box–Muller) from the image's generator.
fn normal(rng: &mut ChaCha8Rng) -> f32 {
    let u1: f32 = rng.gen_range(1e-7f32..1.0);
    let u2: f32 = rng.gen_range(0.0f32..1.0);
    (-2.0 * u1.ln()).sqrt() * (2.0 * PI * u2).cos()
}

/// Draws one image of `class` in the style of `domain`; all randomness comes from `rng`.
pub(crate) fn render(
    domain: DemoDomain,
    class: DemoClass,
    size: u32,
    rng: &mut ChaCha8Rng,
) -> Canvas {
    let n = size as f32;
    let shape = Shape::of(class);
    let unit = n / 64.0; // style constants below are tuned for 64 px and scale with size
    let noise_seed: u64 = rng.gen();

    // Placement: radius 27–40 % of the side, centred so the object stays inside.
    let (r_lo, r_hi, jitter) = match domain {
        DemoDomain::Product => (0.30, 0.38, 0.06),
        _ => (0.27, 0.40, 0.16),
    };
    let radius = n * rng.gen_range(r_lo..r_hi);
    let cx = n * 0.5 + n * rng.gen_range(-jitter..jitter);
    let cy = n * 0.5 + n * rng.gen_range(-jitter..jitter);
    let rotation = rng.gen_range(-0.5f32..0.5);
    let place = Placement::new(cx, cy, radius, rotation);
    let sdf_px = |x: f32, y: f32| shape.sdf(place.to_local(x, y)) * radius;

    match domain {
        DemoDomain::Clipart => {
            // Flat pastel background, saturated flat fill, thick dark outline; no noise.
            let bg = hsv(
                rng.gen(),
                rng.gen_range(0.08..0.3),
                rng.gen_range(0.93..1.0),
            );
            let fill = hsv(
                rng.gen(),
                rng.gen_range(0.75..1.0),
                rng.gen_range(0.85..1.0),
            );
            let ink = hsv(rng.gen(), 0.5, rng.gen_range(0.0..0.15));
            let half_w = unit * rng.gen_range(1.3f32..2.0);
            let mut c = Canvas::new(size, bg);
            c.blend_with(|x, y| coverage(sdf_px(x, y), 1.0), |_, _| fill);
            c.blend_with(
                |x, y| coverage(sdf_px(x, y).abs() - half_w, 1.0),
                |_, _| ink,
            );
            c
        }
        DemoDomain::Product => {
            // White studio background with a faint floor, soft drop shadow, shaded object.
            let bg = [rng.gen_range(0.96..1.0); 3];
            let mut c = Canvas::new(size, bg);
            let floor = rng.gen_range(0.55f32..0.8);
            c.map(|_, y, p| {
                let t = ((y / n - floor) * 4.0).clamp(0.0, 1.0);
                scale(p, 1.0 - 0.06 * t)
            });
            let (sx, sy) = (
                unit * rng.gen_range(1.5f32..3.5),
                unit * rng.gen_range(2.0f32..4.0),
            );
            let soft = unit * 4.0;
            c.blend_with(
                |x, y| 0.3 * coverage(sdf_px(x - sx, y - sy), soft),
                |_, _| [0.2, 0.2, 0.22],
            );
            let base = hsv(
                rng.gen(),
                rng.gen_range(0.05..0.55),
                rng.gen_range(0.25..0.85),
            );
            let light = rng.gen_range(-PI..PI);
            let (lx, ly) = (light.cos(), light.sin());
            c.blend_with(
                |x, y| coverage(sdf_px(x, y), 1.0),
                |x, y| {
                    let q = ((x - cx) * lx + (y - cy) * ly) / radius;
                    let rim = (-sdf_px(x, y) / (3.0 * unit)).clamp(0.0, 1.0);
                    scale(base, (1.0 + 0.25 * q) * (0.8 + 0.2 * rim))
                },
            );
            c
        }
        DemoDomain::RealWorld => {
            // Textured gradient background with clutter, lit object, shadow, sensor noise.
            let a = hsv(
                rng.gen(),
                rng.gen_range(0.15..0.55),
                rng.gen_range(0.25..0.75),
            );
            let b = hsv(
                rng.gen(),
                rng.gen_range(0.15..0.55),
                rng.gen_range(0.25..0.75),
            );
            let g = rng.gen_range(-PI..PI);
            let (gx, gy) = (g.cos(), g.sin());
            let freq = rng.gen_range(3.0f32..7.0) / n;
            let mut c = Canvas::new(size, a);
            c.map(|x, y, _| {
                let t = (0.5 + ((x - n / 2.0) * gx + (y - n / 2.0) * gy) / n).clamp(0.0, 1.0);
                let tex = value_noise(x * freq, y * freq, noise_seed)
                    + 0.5 * value_noise(x * freq * 3.0, y * freq * 3.0, noise_seed ^ 1);
                scale(mix(a, b, t), 0.87 + 0.15 * tex)
            });
            for _ in 0..rng.gen_range(1..3) {
                let p0 = V2::new(rng.gen_range(0.0..n), rng.gen_range(0.0..n));
                let p1 = V2::new(
                    p0.x + rng.gen_range(-n..n) * 0.4,
                    p0.y + rng.gen_range(-n..n) * 0.4,
                );
                let col = mix(a, hsv(rng.gen(), 0.4, rng.gen_range(0.2..0.9)), 0.5);
                c.stroke(p0, p1, unit * rng.gen_range(1.0f32..3.0), col, 0.3);
            }
            let (sx, sy) = (
                unit * rng.gen_range(-3.0f32..3.0),
                unit * rng.gen_range(1.0f32..4.0),
            );
            c.blend_with(
                |x, y| 0.4 * coverage(sdf_px(x - sx, y - sy), 3.0 * unit),
                |_, _| [0.05, 0.05, 0.05],
            );
            // The object contrasts with the background: bright on dark, dark on bright.
            let bg_v = (a.iter().chain(b.iter()).sum::<f32>() / 6.0).clamp(0.0, 1.0);
            let obj_v = if bg_v < 0.45 {
                rng.gen_range(0.75..1.0)
            } else {
                rng.gen_range(0.1..0.3)
            };
            let base = hsv(rng.gen(), rng.gen_range(0.3..0.85), obj_v);
            let light = rng.gen_range(-PI..PI);
            let (lx, ly) = (light.cos(), light.sin());
            c.blend_with(
                |x, y| coverage(sdf_px(x, y), 1.3 * unit),
                |x, y| {
                    let q = ((x - cx) * lx + (y - cy) * ly) / radius;
                    let tex = value_noise(x * 0.3 / unit, y * 0.3 / unit, noise_seed ^ 2);
                    scale(base, (1.0 + 0.25 * q) * (0.95 + 0.1 * tex))
                },
            );
            // Global exposure, colour cast, vignette and Gaussian sensor noise.
            let exposure = rng.gen_range(0.75f32..1.2);
            let cast = [
                rng.gen_range(0.92f32..1.08),
                rng.gen_range(0.92f32..1.08),
                rng.gen_range(0.92f32..1.08),
            ];
            let sigma = rng.gen_range(0.015f32..0.035);
            let mut noise = Vec::with_capacity((size * size * 3) as usize);
            for _ in 0..size * size * 3 {
                noise.push(normal(rng) * sigma);
            }
            let mut k = 0;
            c.map(|x, y, p| {
                let r2 = ((x - n / 2.0).powi(2) + (y - n / 2.0).powi(2)) / (n * n / 2.0);
                let v = exposure * (1.0 - 0.35 * r2);
                let mut out = [0.0; 3];
                for ch in 0..3 {
                    out[ch] = p[ch] * v * cast[ch] + noise[k];
                    k += 1;
                }
                out
            });
            c
        }
        DemoDomain::Art => {
            // Warm canvas covered in brush strokes; object painted with strokes and a wobbly
            // edge; finally a palette shift towards ochre/sepia.
            let canvas_tone = hsv(
                rng.gen_range(0.06..0.14),
                rng.gen_range(0.2..0.45),
                rng.gen_range(0.7..0.9),
            );
            let mut c = Canvas::new(size, canvas_tone);
            let bg_hue: f32 = rng.gen();
            let strokes = (60.0 * unit * unit) as usize;
            for _ in 0..strokes {
                let p0 = V2::new(rng.gen_range(-2.0..n + 2.0), rng.gen_range(-2.0..n + 2.0));
                let ang = rng.gen_range(-0.4f32..0.4) + 0.6;
                let len = unit * rng.gen_range(4.0f32..10.0);
                let p1 = V2::new(p0.x + len * ang.cos(), p0.y + len * ang.sin());
                let col = hsv(
                    bg_hue + rng.gen_range(-0.08..0.08),
                    rng.gen_range(0.25..0.6),
                    rng.gen_range(0.45..0.9),
                );
                c.stroke(
                    p0,
                    p1,
                    unit * rng.gen_range(1.0f32..2.2),
                    col,
                    rng.gen_range(0.35..0.7),
                );
            }
            let base_hue: f32 = rng.gen();
            let base_s = rng.gen_range(0.5f32..0.9);
            let base_v = rng.gen_range(0.45f32..0.9);
            let wobble = rng.gen_range(0.04f32..0.09);
            let edge = |x: f32, y: f32| {
                let w = value_noise(x * 0.25 / unit, y * 0.25 / unit, noise_seed ^ 3) - 0.5;
                sdf_px(x, y) + w * wobble * radius * 2.0
            };
            c.blend_with(
                |x, y| coverage(edge(x, y), 1.0),
                |_, _| hsv(base_hue, base_s, base_v),
            );
            // Strokes clipped to the object, in shades of the base colour.
            let mut layer = Canvas::new(size, [0.0; 3]);
            let mut mask = Canvas::new(size, [0.0; 3]);
            for _ in 0..(40.0 * unit * unit) as usize {
                let ang: f32 = rng.gen_range(-PI..PI);
                let p0 = V2::new(
                    cx + radius * rng.gen_range(-1.0f32..1.0),
                    cy + radius * rng.gen_range(-1.0f32..1.0),
                );
                let len = unit * rng.gen_range(3.0f32..7.0);
                let p1 = V2::new(p0.x + len * ang.cos(), p0.y + len * ang.sin());
                let col = hsv(
                    base_hue + rng.gen_range(-0.05..0.05),
                    base_s * rng.gen_range(0.7..1.1),
                    base_v * rng.gen_range(0.7..1.2),
                );
                let hw = unit * rng.gen_range(0.8f32..1.6);
                layer.stroke(p0, p1, hw, col, 1.0);
                mask.stroke(p0, p1, hw, [1.0; 3], 1.0);
            }
            let idx = |x: f32, y: f32| (y as u32 * size + x as u32) as usize;
            c.blend_with(
                |x, y| 0.8 * coverage(edge(x, y) + unit, 1.0) * mask.px[idx(x, y)][0],
                |x, y| layer.px[idx(x, y)],
            );
            let warmth = rng.gen_range(0.3f32..0.5);
            c.map(|x, y, p| {
                let lum = 0.3 * p[0] + 0.59 * p[1] + 0.11 * p[2];
                let sepia = [lum * 1.08 + 0.06, lum * 0.9 + 0.03, lum * 0.65];
                let grain = value_noise(x * 0.9 / unit, y * 0.9 / unit, noise_seed ^ 4) - 0.5;
                let q = mix(p, sepia, warmth);
                [
                    q[0] + 0.06 * grain,
                    q[1] + 0.06 * grain,
                    q[2] + 0.06 * grain,
                ]
            });
            c
        }
    }
}
