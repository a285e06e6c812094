//! FFT-accelerated interpolation of the repulsive forces on a 2-D map (FIt-SNE).
//!
//! The map's bounding square is cut into equal boxes holding `p` equispaced interpolation
//! nodes per axis. Four charges per point (1, x, y, x²+y²) are spread to the nodes with
//! Lagrange weights, convolved with the kernel `1/(1+r²)²` by zero-padded 2-D FFTs, and
//! interpolated back. With these sums, `Z = Σ_{i≠j} 1/(1+d²)` follows from the identity
//! `w = w²(1 + |y_i|² − 2 y_i·y_j + |y_j|²)`. Each step runs in a fixed order, so results do
//! not depend on threads: spreading runs in parallel over bands of grid rows, and every node
//! sums its points in their index order; FFT rows and points are independent.
use rayon::prelude::*;
use rustfft::{num_complex::Complex, Fft, FftPlanner};
use std::sync::Arc;

type C64 = Complex<f64>;

/// Grid settings of the interpolation.
#[derive(Debug, Clone, Copy)]
pub struct FftParams {
    /// Interpolation nodes per box and axis.
    pub n_interp: usize,
    /// Minimum number of boxes per axis.
    pub min_intervals: usize,
    /// Box width in map units (before rounding the box count up).
    pub ints_in_interval: f64,
}

/// Largest box count per axis; wider maps get wider boxes.
const MAX_BOXES: usize = 1000;

/// Smallest number ≥ n whose only prime factors are 2, 3 and 5.
fn smooth_at_least(n: usize) -> usize {
    let mut m = n.max(1);
    loop {
        let mut r = m;
        for p in [2, 3, 5] {
            while r.is_multiple_of(p) {
                r /= p;
            }
        }
        if r == 1 {
            return m;
        }
        m += 1;
    }
}

/// Reusable state (FFT plans) of the interpolation.
pub struct FftRepulsion {
    params: FftParams,
    planner: FftPlanner<f64>,
    /// Grids reused across calls: charges (two), kernel spectrum, transpose buffer.
    a: Vec<C64>,
    b: Vec<C64>,
    k: Vec<C64>,
    tmp: Vec<C64>,
    /// Per block of points and band of grid rows, the block's points (ascending) whose nodes
    /// reach into the band, as records of `4 + 2p` values: grid column and row of the first
    /// node, the point's coordinates, its `p` weights along x, then along y.
    bands: Vec<Vec<Vec<f64>>>,
    /// Per-point terms of `Z`, reused across calls.
    zs: Vec<f64>,
}

/// Grid rows per spreading band.
const BAND_ROWS: usize = 16;
/// Points per block when sorting points into bands.
const POINT_BLOCK: usize = 1 << 16;

fn fft_rows(buf: &mut [C64], width: usize, rows: usize, fft: &Arc<dyn Fft<f64>>) {
    let scratch_len = fft.get_inplace_scratch_len();
    buf[..rows * width].par_chunks_mut(width).for_each_init(
        || vec![C64::default(); scratch_len],
        |scratch, row| fft.process_with_scratch(row, scratch),
    );
}

fn transpose_into(src: &[C64], dst: &mut [C64], n: usize) {
    const B: usize = 32;
    dst.par_chunks_mut(B * n)
        .enumerate()
        .for_each(|(bi, block)| {
            let c0 = bi * B;
            let rows = block.len() / n;
            for r0 in (0..n).step_by(B) {
                for c in 0..rows {
                    for r in r0..(r0 + B).min(n) {
                        block[c * n + r] = src[r * n + c0 + c];
                    }
                }
            }
        });
}

/// Lagrange weights of the `p` nodes at local positions (k+0.5)/p, evaluated at `u`.
fn lagrange(u: f64, p: usize, w: &mut [f64; 8]) {
    for (k, wk) in w.iter_mut().enumerate().take(p) {
        let sk = (k as f64 + 0.5) / p as f64;
        let mut v = 1.0;
        for m in 0..p {
            if m != k {
                let sm = (m as f64 + 0.5) / p as f64;
                v *= (u - sm) / (sk - sm);
            }
        }
        *wk = v;
    }
}

impl FftRepulsion {
    /// New state for the given grid settings.
    pub fn new(params: FftParams) -> Self {
        Self {
            params,
            planner: FftPlanner::new(),
            a: Vec::new(),
            b: Vec::new(),
            k: Vec::new(),
            tmp: Vec::new(),
            bands: Vec::new(),
            zs: Vec::new(),
        }
    }

    /// Unnormalised repulsive forces `Σ_j w_ij² (y_i − y_j)` into `out`; returns
    /// `Z = Σ_{i≠j} w_ij`.
    pub fn compute(&mut self, y: &[[f64; 2]], out: &mut [[f64; 2]]) -> f64 {
        let n = y.len();
        let p = self.params.n_interp;
        // Minimum and maximum are exact in any order.
        let (lo, hi) = y
            .par_iter()
            .with_min_len(4096)
            .fold(
                || (f64::INFINITY, f64::NEG_INFINITY),
                |(lo, hi), q| (lo.min(q[0]).min(q[1]), hi.max(q[0]).max(q[1])),
            )
            .reduce(
                || (f64::INFINITY, f64::NEG_INFINITY),
                |a, b| (a.0.min(b.0), a.1.max(b.1)),
            );
        let range = (hi - lo).max(1e-9);
        let want = (range / self.params.ints_in_interval).ceil() as usize;
        let n_boxes = smooth_at_least(want.clamp(self.params.min_intervals, MAX_BOXES));
        let h = range * (1.0 + 1e-9) / n_boxes as f64;
        let m = n_boxes * p;
        let delta = h / p as f64;
        let n2 = 2 * m;

        // Interpolation weights of every point.
        let locate = |v: f64| {
            let t = (v - lo) / h;
            let b = (t.floor() as usize).min(n_boxes - 1);
            let mut w = [0.0; 8];
            lagrange(t - b as f64, p, &mut w);
            (b * p, w)
        };

        // Spread charges (1, x) and (y, x²+y²) as two complex grids, by bands of grid rows.
        // Each block of points writes a record of every point into the bands its nodes reach,
        // in index order; each band then reads its records block after block, so every node
        // sums its charges in the order of a sequential pass over the points, from memory
        // read in order.
        let (mut a, mut b, mut k, mut tmp) = (
            std::mem::take(&mut self.a),
            std::mem::take(&mut self.b),
            std::mem::take(&mut self.k),
            std::mem::take(&mut self.tmp),
        );
        for buf in [&mut a, &mut b, &mut k, &mut tmp] {
            buf.resize(n2 * n2, C64::default());
        }
        for buf in [&mut a, &mut b, &mut k] {
            buf.par_chunks_mut(n2)
                .for_each(|row| row.fill(C64::default()));
        }
        let n_bands = m.div_ceil(BAND_ROWS);
        let stride = 4 + 2 * p;
        let mut bands = std::mem::take(&mut self.bands);
        bands.resize_with(n.div_ceil(POINT_BLOCK), Vec::new);
        bands
            .par_iter_mut()
            .zip(y.par_chunks(POINT_BLOCK))
            .for_each(|(lists, ys)| {
                lists.resize_with(n_bands, Vec::new);
                lists.iter_mut().for_each(Vec::clear);
                for q in ys {
                    let ((gx, wx), (gy, wy)) = (locate(q[0]), locate(q[1]));
                    for list in &mut lists[gy / BAND_ROWS..=(gy + p - 1) / BAND_ROWS] {
                        list.extend_from_slice(&[gx as f64, gy as f64, q[0], q[1]]);
                        list.extend_from_slice(&wx[..p]);
                        list.extend_from_slice(&wy[..p]);
                    }
                }
            });
        let band_len = BAND_ROWS * n2;
        a[..m * n2]
            .par_chunks_mut(band_len)
            .zip(b[..m * n2].par_chunks_mut(band_len))
            .enumerate()
            .for_each(|(band, (ga, gb))| {
                let row0 = band * BAND_ROWS;
                let rows = row0..row0 + ga.len() / n2;
                for rec in bands
                    .iter()
                    .flat_map(|lists| lists[band].chunks_exact(stride))
                {
                    let (gx, gy, q) = (rec[0] as usize, rec[1] as usize, [rec[2], rec[3]]);
                    let (wx, wy) = rec[4..].split_at(p);
                    let ca = C64::new(1.0, q[0]);
                    let cb = C64::new(q[1], q[0] * q[0] + q[1] * q[1]);
                    for (r, wyr) in wy.iter().enumerate() {
                        let row = gy + r;
                        if !rows.contains(&row) {
                            continue;
                        }
                        let base = (row - row0) * n2 + gx;
                        for (c, wxc) in wx.iter().enumerate() {
                            let w = wyr * wxc;
                            ga[base + c] += ca * w;
                            gb[base + c] += cb * w;
                        }
                    }
                }
            });

        // Kernel on the circulant 2m × 2m grid.
        let off = |i: usize| -> Option<f64> {
            if i < m {
                Some(i as f64 * delta)
            } else if i == m {
                None
            } else {
                Some((n2 - i) as f64 * delta)
            }
        };
        k.par_chunks_mut(n2).enumerate().for_each(|(r, row)| {
            if let Some(dy) = off(r) {
                for (c, v) in row.iter_mut().enumerate() {
                    if let Some(dx) = off(c) {
                        let w = 1.0 / (1.0 + dx * dx + dy * dy);
                        *v = C64::new(w * w, 0.0);
                    }
                }
            }
        });

        let fwd = self.planner.plan_fft_forward(n2);
        let inv = self.planner.plan_fft_inverse(n2);
        fft_rows(&mut k, n2, n2, &fwd);
        transpose_into(&k, &mut tmp, n2);
        std::mem::swap(&mut k, &mut tmp);
        fft_rows(&mut k, n2, n2, &fwd);
        let scale = 1.0 / (n2 * n2) as f64;
        k.par_iter_mut().for_each(|v| *v *= scale);

        let kt = &k;
        let mut convolve = |g: &mut Vec<C64>| {
            fft_rows(g, n2, m, &fwd);
            transpose_into(g, &mut tmp, n2);
            fft_rows(&mut tmp, n2, n2, &fwd);
            tmp.par_iter_mut()
                .zip(kt.par_iter())
                .for_each(|(x, kv)| *x *= kv);
            fft_rows(&mut tmp, n2, n2, &inv);
            transpose_into(&tmp, g, n2);
            fft_rows(g, n2, m, &inv);
        };
        convolve(&mut a);
        convolve(&mut b);

        // Interpolate potentials back to the points.
        let mut zs = std::mem::take(&mut self.zs);
        zs.resize(n, 0.0);
        out.par_iter_mut()
            .zip(zs.par_iter_mut())
            .zip(y.par_iter())
            .for_each(|((o, z), q)| {
                let ((gx, wx), (gy, wy)) = (locate(q[0]), locate(q[1]));
                let (mut pa, mut pb) = (C64::default(), C64::default());
                for (r, wyr) in wy.iter().take(p).enumerate() {
                    let base = (gy + r) * n2 + gx;
                    for (c, wxc) in wx.iter().take(p).enumerate() {
                        let w = wyr * wxc;
                        pa += a[base + c] * w;
                        pb += b[base + c] * w;
                    }
                }
                let (phi0, phi1, phi2, phi3) = (pa.re, pa.im, pb.re, pb.im);
                let r2 = q[0] * q[0] + q[1] * q[1];
                *z = (1.0 + r2) * phi0 - 2.0 * (q[0] * phi1 + q[1] * phi2) + phi3 - 1.0;
                *o = [q[0] * phi0 - phi1, q[1] * phi0 - phi2];
            });
        self.a = a;
        self.b = b;
        self.k = k;
        self.tmp = tmp;
        self.bands = bands;
        let z = zs.iter().sum();
        self.zs = zs;
        z
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relative_errors(y: &[[f64; 2]], n_interp: usize) -> (f64, f64) {
        let mut f = vec![[0.0; 2]; y.len()];
        let mut st = FftRepulsion::new(FftParams {
            n_interp,
            min_intervals: 50,
            ints_in_interval: 1.0,
        });
        let z = st.compute(y, &mut f);
        let mut ze = 0.0;
        let (mut err, mut scale) = (0.0f64, 0.0f64);
        for i in 0..y.len() {
            let mut fe = [0.0; 2];
            for j in 0..y.len() {
                if i != j {
                    let (dx, dy) = (y[i][0] - y[j][0], y[i][1] - y[j][1]);
                    let w = 1.0 / (1.0 + dx * dx + dy * dy);
                    ze += w;
                    fe[0] += w * w * dx;
                    fe[1] += w * w * dy;
                }
            }
            err = err
                .max((fe[0] - f[i][0]).abs())
                .max((fe[1] - f[i][1]).abs());
            scale = scale.max(fe[0].abs()).max(fe[1].abs());
        }
        ((z - ze).abs() / ze, err / scale)
    }

    /// Forces and Z on a wide map of more points than one spreading block (so several blocks
    /// and many bands of grid rows), computed at 1, 2 and 3 threads: the same bits, and close
    /// to the exact sums at sampled points.
    #[test]
    fn banded_spreading_is_thread_independent_and_accurate() {
        use rand::{Rng, SeedableRng};
        let n = POINT_BLOCK + POINT_BLOCK / 2 + 17;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let y: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let c = (i % 7) as f64 * 18.0 - 54.0;
                [
                    c + rng.gen_range(-6.0..6.0),
                    rng.gen_range(-60.0..60.0) * (1.0 + (i % 3) as f64) / 3.0,
                ]
            })
            .collect();
        let run = |threads: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| {
                    let mut st = FftRepulsion::new(FftParams {
                        n_interp: 3,
                        min_intervals: 50,
                        ints_in_interval: 1.0,
                    });
                    let mut f = vec![[0.0; 2]; n];
                    // Twice with one state: reused buffers must not leak into the result.
                    st.compute(&y[..n / 2], &mut f[..n / 2]);
                    let z = st.compute(&y, &mut f);
                    (
                        z.to_bits(),
                        f.iter().flatten().map(|v| v.to_bits()).collect::<Vec<_>>(),
                    )
                })
        };
        let one = run(1);
        assert!(one == run(2), "1 vs 2 threads");
        assert!(one == run(3), "1 vs 3 threads");
        let f: Vec<f64> = one.1.iter().map(|&b| f64::from_bits(b)).collect();
        let (mut err, mut scale) = (0.0f64, 0.0f64);
        for i in (0..n).step_by(4999) {
            let mut fe = [0.0; 2];
            for (j, q) in y.iter().enumerate() {
                if i != j {
                    let (dx, dy) = (y[i][0] - q[0], y[i][1] - q[1]);
                    let w = 1.0 / (1.0 + dx * dx + dy * dy);
                    fe[0] += w * w * dx;
                    fe[1] += w * w * dy;
                }
            }
            err = err
                .max((fe[0] - f[2 * i]).abs())
                .max((fe[1] - f[2 * i + 1]).abs());
            scale = scale.max(fe[0].abs()).max(fe[1].abs());
        }
        assert!(err / scale < 5e-2, "relative force error {}", err / scale);
    }

    #[test]
    fn close_to_exact_sums_and_converges_with_more_nodes() {
        let y: Vec<[f64; 2]> = (0..400)
            .map(|i| {
                let t = i as f64 * 0.173;
                [
                    t.sin() * (2.0 + 0.05 * t) * 3.0,
                    (1.3 * t).cos() * 0.04 * t * 5.0,
                ]
            })
            .collect();
        let (ez3, ef3) = relative_errors(&y, 3);
        let (ez6, ef6) = relative_errors(&y, 6);
        eprintln!("p=3: {ez3:e} {ef3:e}; p=6: {ez6:e} {ef6:e}");
        assert!(ez3 < 5e-3 && ef3 < 5e-2, "p=3: Z {ez3}, force {ef3}");
        assert!(
            ez6 < ez3 / 5.0 && ef6 < ef3 / 5.0,
            "p=6: Z {ez6}, force {ef6}"
        );
    }
}
