//! PIL's antialiased resize (`Image.resize(size, BILINEAR | BICUBIC)`) of 8-bit RGB images, bit for
//! bit: the algorithm of Pillow's `libImaging/Resample.c` for 8 bits per channel.
//!
//! For each output column (row) the filter, stretched by the scale factor when shrinking, is sampled
//! in `f64` over the input pixels whose centres it covers and normalised to sum 1; the weights become
//! 22-bit fixed-point integers (`PRECISION_BITS = 32 − 8 − 2`, rounded half away from zero). The
//! horizontal pass runs first, over the input rows that the vertical pass needs, and its output is
//! rounded and clamped to 8 bits; the vertical pass follows. Each sum starts at ½ (in fixed point),
//! so the final shift rounds half up; results are clamped to 0..=255.
//!
//! Differences to a SIMD resizer such as `fast_image_resize` (which runs the vertical pass first for
//! 8-bit images and keeps 15-bit weights) are small on average but reach 20 grey levels next to hard
//! edges with the bicubic filter, because the intermediate clamping then happens elsewhere.

use serde::{Deserialize, Serialize};

/// Resampling filter for the resize.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Interpolation {
    /// Triangle filter, antialiased (PIL `BILINEAR`).
    Bilinear,
    /// Cubic filter with a = −0.5, antialiased (PIL `BICUBIC`).
    Bicubic,
}

impl Interpolation {
    /// Parse `bilinear` or `bicubic` (case-insensitive).
    pub fn parse(s: &str) -> Option<Interpolation> {
        match s.trim().to_ascii_lowercase().as_str() {
            "bilinear" | "linear" => Some(Interpolation::Bilinear),
            "bicubic" | "cubic" => Some(Interpolation::Bicubic),
            _ => None,
        }
    }
}

const PRECISION_BITS: u32 = 32 - 8 - 2;

fn bilinear_filter(x: f64) -> f64 {
    let x = x.abs();
    if x < 1.0 {
        1.0 - x
    } else {
        0.0
    }
}

/// Keys' cubic with a = −0.5 (Pillow's `bicubic_filter`).
fn bicubic_filter(x: f64) -> f64 {
    const A: f64 = -0.5;
    let x = x.abs();
    if x < 1.0 {
        ((A + 2.0) * x - (A + 3.0)) * x * x + 1.0
    } else if x < 2.0 {
        (((x - 5.0) * x + 8.0) * x - 4.0) * A
    } else {
        0.0
    }
}

/// Fixed-point weights of one axis: for output `i`, `len[i]` weights from input `start[i]`, stored at
/// `k[i * ksize ..]`.
#[derive(Debug, Clone, PartialEq)]
struct Coeffs {
    in_size: u32,
    out_size: u32,
    interpolation: Interpolation,
    ksize: usize,
    start: Vec<usize>,
    len: Vec<usize>,
    k: Vec<i32>,
}

impl Coeffs {
    /// Pillow's `precompute_coeffs` (box = the whole input) and `normalize_coeffs_8bpc`.
    fn new(in_size: u32, out_size: u32, interpolation: Interpolation) -> Coeffs {
        let (filter, support): (fn(f64) -> f64, f64) = match interpolation {
            Interpolation::Bilinear => (bilinear_filter, 1.0),
            Interpolation::Bicubic => (bicubic_filter, 2.0),
        };
        // Pillow: `(double)(in1 - in0) / outSize` with float in0 = 0, in1 = inSize.
        let scale = (in_size as f32) as f64 / out_size as f64;
        let filterscale = if scale < 1.0 { 1.0 } else { scale };
        let support = support * filterscale;
        let ksize = support.ceil() as usize * 2 + 1;
        let n = out_size as usize;
        let (mut start, mut len) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let mut k = vec![0i32; n * ksize];
        let mut w = vec![0f64; ksize];
        for xx in 0..n {
            let center = (xx as f64 + 0.5) * scale;
            let ss = 1.0 / filterscale;
            // C's (int) conversion truncates toward zero, as `as` does.
            let xmin = ((center - support + 0.5) as i64).max(0);
            let xmax = ((center + support + 0.5) as i64).min(in_size as i64) - xmin;
            let xmax = xmax.max(0) as usize;
            let mut ww = 0.0;
            for (x, wx) in w.iter_mut().enumerate().take(xmax) {
                let v = filter(((x as i64 + xmin) as f64 - center + 0.5) * ss);
                *wx = v;
                ww += v;
            }
            let row = &mut k[xx * ksize..(xx + 1) * ksize];
            for (kx, &wx) in row.iter_mut().zip(&w).take(xmax) {
                let v = if ww != 0.0 { wx / ww } else { wx };
                let f = v * (1u32 << PRECISION_BITS) as f64;
                *kx = if v < 0.0 {
                    (-0.5 + f) as i32
                } else {
                    (0.5 + f) as i32
                };
            }
            start.push(xmin as usize);
            len.push(xmax);
        }
        Coeffs {
            in_size,
            out_size,
            interpolation,
            ksize,
            start,
            len,
            k,
        }
    }

    fn weights(&self, i: usize) -> &[i32] {
        &self.k[i * self.ksize..i * self.ksize + self.len[i]]
    }
}

/// Pillow's `clip8`: the fixed-point sum back to 8 bits (arithmetic shift, then clamp).
#[inline(always)]
fn clip8(v: i32) -> u8 {
    (v >> PRECISION_BITS).clamp(0, 255) as u8
}

const HALF: i32 = 1 << (PRECISION_BITS - 1);

/// A resizer that keeps its weights (datasets repeat image sizes) and scratch buffer.
#[derive(Debug, Default)]
pub struct Resampler {
    horiz: Option<Coeffs>,
    vert: Option<Coeffs>,
    temp: Vec<u8>,
}

impl Resampler {
    fn coeffs(
        slot: &mut Option<Coeffs>,
        in_size: u32,
        out_size: u32,
        interp: Interpolation,
    ) -> &Coeffs {
        let fresh = !matches!(slot, Some(c) if c.in_size == in_size
            && c.out_size == out_size
            && c.interpolation == interp);
        if fresh {
            *slot = Some(Coeffs::new(in_size, out_size, interp));
        }
        slot.as_ref().unwrap_or_else(|| unreachable!())
    }

    /// Resize packed RGB `src` (`w × h`) to `nw × nh` into `dst` (resized to fit), as
    /// `PIL.Image.resize((nw, nh), filter)` does on an RGB image.
    #[allow(clippy::too_many_arguments)]
    pub fn resize_rgb(
        &mut self,
        src: &[u8],
        w: u32,
        h: u32,
        nw: u32,
        nh: u32,
        interp: Interpolation,
        dst: &mut Vec<u8>,
    ) {
        debug_assert_eq!(src.len(), 3 * w as usize * h as usize);
        let need_h = nw != w;
        let need_v = nh != h;
        if !need_h && !need_v {
            dst.clear();
            dst.extend_from_slice(src);
            return;
        }
        let Resampler { horiz, vert, temp } = self;
        let vert = if need_v {
            Some(Self::coeffs(vert, h, nh, interp))
        } else {
            None
        };
        // Rows of the input that the vertical pass reads (all of them without one).
        let (y_first, y_last) = match vert {
            Some(v) => {
                let last = v.out_size as usize - 1;
                (v.start[0], v.start[last] + v.len[last])
            }
            None => (0, h as usize),
        };
        let (mid, mid_w): (&[u8], usize) = if need_h {
            let hc = Self::coeffs(horiz, w, nw, interp);
            horizontal(src, w as usize, y_first..y_last, hc, temp);
            (temp, nw as usize)
        } else {
            (
                &src[3 * w as usize * y_first..3 * w as usize * y_last],
                w as usize,
            )
        };
        match vert {
            Some(vc) => vertical(mid, mid_w, y_first, vc, dst),
            None => {
                dst.clear();
                dst.extend_from_slice(mid);
            }
        }
    }
}

/// Horizontal pass over input rows `rows` into `out` (`rows.len()` rows of `c.out_size` pixels).
fn horizontal(src: &[u8], w: usize, rows: std::ops::Range<usize>, c: &Coeffs, out: &mut Vec<u8>) {
    let nw = c.out_size as usize;
    out.clear();
    out.resize(rows.len() * nw * 3, 0);
    for (row_out, y) in out.chunks_exact_mut(nw * 3).zip(rows) {
        let row_in = &src[y * w * 3..(y + 1) * w * 3];
        for (xx, px) in row_out.chunks_exact_mut(3).enumerate() {
            let k = c.weights(xx);
            let from = &row_in[c.start[xx] * 3..(c.start[xx] + k.len()) * 3];
            let (mut s0, mut s1, mut s2) = (HALF, HALF, HALF);
            for (p, &kx) in from.chunks_exact(3).zip(k) {
                s0 += p[0] as i32 * kx;
                s1 += p[1] as i32 * kx;
                s2 += p[2] as i32 * kx;
            }
            px[0] = clip8(s0);
            px[1] = clip8(s1);
            px[2] = clip8(s2);
        }
    }
}

/// Vertical pass: `src` holds rows `y_first..` of `w` pixels; writes `c.out_size` rows into `out`.
fn vertical(src: &[u8], w: usize, y_first: usize, c: &Coeffs, out: &mut Vec<u8>) {
    let stride = w * 3;
    let nh = c.out_size as usize;
    out.clear();
    out.resize(nh * stride, 0);
    let mut acc = vec![0i32; stride];
    for (yy, row_out) in out.chunks_exact_mut(stride).enumerate() {
        let k = c.weights(yy);
        let y0 = c.start[yy] - y_first;
        acc.fill(HALF);
        // Row by row, in Pillow's order of the taps; integer sums, so the order cannot matter.
        for (t, &ky) in k.iter().enumerate() {
            let row = &src[(y0 + t) * stride..(y0 + t + 1) * stride];
            for (a, &p) in acc.iter_mut().zip(row) {
                *a += p as i32 * ky;
            }
        }
        for (o, &a) in row_out.iter_mut().zip(&acc) {
            *o = clip8(a);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_sum_to_one_in_fixed_point() {
        for interp in [Interpolation::Bilinear, Interpolation::Bicubic] {
            for (i, o) in [(4032, 341), (200, 256), (97, 168), (640, 256), (5, 3)] {
                let c = Coeffs::new(i, o, interp);
                for xx in 0..o as usize {
                    let s: i64 = c.weights(xx).iter().map(|&v| v as i64).sum();
                    assert!((s - (1 << PRECISION_BITS)).abs() <= c.len[xx] as i64, "{s}");
                }
            }
        }
    }

    #[test]
    fn filters_match_pillow() {
        assert_eq!(bicubic_filter(0.0), 1.0);
        assert_eq!(bicubic_filter(1.0), 0.0);
        assert_eq!(bicubic_filter(0.5), 0.5625);
        assert_eq!(bicubic_filter(1.5), -0.0625);
        assert_eq!(bilinear_filter(-0.25), 0.75);
    }

    #[test]
    fn flat_image_stays_flat_and_identity_is_a_copy() {
        let src = vec![77u8; 3 * 50 * 30];
        let mut r = Resampler::default();
        let mut dst = Vec::new();
        for interp in [Interpolation::Bilinear, Interpolation::Bicubic] {
            for (nw, nh) in [(20, 12), (50, 12), (20, 30), (101, 61)] {
                r.resize_rgb(&src, 50, 30, nw, nh, interp, &mut dst);
                assert_eq!(dst.len(), 3 * nw as usize * nh as usize);
                assert!(dst.iter().all(|&v| v == 77));
            }
        }
        let src: Vec<u8> = (0..3 * 7 * 5).map(|i| i as u8).collect();
        r.resize_rgb(&src, 7, 5, 7, 5, Interpolation::Bicubic, &mut dst);
        assert_eq!(dst, src);
    }
}
