//! Gradient descent of the t-SNE objective (openTSNE conventions: gradient without the
//! factor 4, delta-bar-delta gains, momentum, step-norm clipping, re-centring).
use super::affinity::Csr;
use super::bh::repulsive_bh;
use super::fft::{FftParams, FftRepulsion};
use rayon::prelude::*;

/// Repulsive-force method actually used.
pub enum Repulsion {
    /// Barnes–Hut with the given opening angle.
    BarnesHut(f64),
    /// FFT-accelerated interpolation.
    Fft(Box<FftRepulsion>),
}

impl Repulsion {
    /// FFT method with these grid settings.
    pub fn fft(p: FftParams) -> Self {
        Repulsion::Fft(Box::new(FftRepulsion::new(p)))
    }
    fn compute(&mut self, y: &[[f64; 2]], out: &mut [[f64; 2]]) -> f64 {
        match self {
            Repulsion::BarnesHut(theta) => repulsive_bh(y, *theta, out),
            Repulsion::Fft(st) => st.compute(y, out),
        }
    }
}

/// Optimiser state carried across phases.
pub struct Optimizer {
    update: Vec<[f64; 2]>,
    gains: Vec<[f64; 2]>,
    grad: Vec<[f64; 2]>,
    rep: Vec<[f64; 2]>,
    local: Vec<[f64; 2]>,
}

/// One phase of the descent.
pub struct Phase {
    /// Iterations.
    pub n_iter: usize,
    /// Multiplier of P.
    pub exaggeration: f64,
    /// Learning rate.
    pub learning_rate: f64,
    /// Momentum.
    pub momentum: f64,
}

const MIN_GAIN: f64 = 0.01;
const MAX_STEP_NORM: f64 = 5.0;

fn sign(v: f64) -> i8 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else {
        0
    }
}

/// Independent partial sums per row: they break the chain of dependent additions and let the
/// compiler use vector registers. The same lanes on every machine, so the same bits.
const LANES: usize = 4;

/// `Σ_t p_t w_t (y_i − y_j)` of one stored row, term `t` in lane `t mod LANES`, the lanes
/// summed pairwise at the end.
#[inline(always)]
fn row_force(yi: [f64; 2], cols: &[u32], vals: &[f32], local: &[[f64; 2]]) -> [f64; 2] {
    let mut sx = [0.0f64; LANES];
    let mut sy = [0.0f64; LANES];
    let mut chunks = cols.chunks_exact(LANES).zip(vals.chunks_exact(LANES));
    for (c, v) in &mut chunks {
        let mut dx = [0.0f64; LANES];
        let mut dy = [0.0f64; LANES];
        for l in 0..LANES {
            let yj = local[c[l] as usize];
            dx[l] = yi[0] - yj[0];
            dy[l] = yi[1] - yj[1];
        }
        for l in 0..LANES {
            let q = f64::from(v[l]) / (1.0 + dx[l] * dx[l] + dy[l] * dy[l]);
            sx[l] += q * dx[l];
            sy[l] += q * dy[l];
        }
    }
    let rest = cols.len() - cols.len() % LANES;
    for (l, (&c, &v)) in cols[rest..].iter().zip(&vals[rest..]).enumerate() {
        let yj = local[c as usize];
        let (dx, dy) = (yi[0] - yj[0], yi[1] - yj[1]);
        let q = f64::from(v) / (1.0 + dx * dx + dy * dy);
        sx[l] += q * dx;
        sy[l] += q * dy;
    }
    [
        (sx[0] + sx[1]) + (sx[2] + sx[3]),
        (sy[0] + sy[1]) + (sy[2] + sy[3]),
    ]
}

/// [`row_force`] compiled for AVX.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
unsafe fn rows_avx(p: &Csr, local: &[[f64; 2]], r0: usize, out: &mut [[f64; 2]]) {
    rows(p, local, r0, out)
}

/// The attractive sums of stored rows `r0..r0 + out.len()`.
#[inline(always)]
fn rows(p: &Csr, local: &[[f64; 2]], r0: usize, out: &mut [[f64; 2]]) {
    for (r, f) in (r0..).zip(out.iter_mut()) {
        let span = p.indptr[r]..p.indptr[r + 1];
        *f = row_force(local[r], &p.indices[span.clone()], &p.data[span], local);
    }
}

/// Attractive forces `exaggeration · Σ_j p_ij w_ij (y_i − y_j)` added into `grad`. The points
/// are first copied into `local` in P's stored order, so that a stored row and the columns it
/// names are read from nearby memory; rows are summed in that order into `forces` (each row
/// in its own fixed lanes, so the result does not depend on the thread count or on the
/// vector width), then added at each row's rank.
fn attractive(
    p: &Csr,
    y: &[[f64; 2]],
    exaggeration: f64,
    local: &mut [[f64; 2]],
    forces: &mut [[f64; 2]],
    grad: &mut [[f64; 2]],
) {
    p.gather(y, local);
    let local = &*local;
    #[cfg(target_arch = "x86_64")]
    let avx = std::arch::is_x86_feature_detected!("avx");
    forces
        .par_chunks_mut(ROW_CHUNK)
        .enumerate()
        .for_each(|(b, out)| {
            let r0 = b * ROW_CHUNK;
            #[cfg(target_arch = "x86_64")]
            if avx {
                // SAFETY: the CPU supports AVX (checked above).
                unsafe { rows_avx(p, local, r0, out) };
                return;
            }
            rows(p, local, r0, out);
        });
    grad.par_iter_mut()
        .zip(p.rank.par_iter())
        .for_each(|(g, &r)| {
            let f = forces[r as usize];
            g[0] += exaggeration * f[0];
            g[1] += exaggeration * f[1];
        });
}

/// Stored rows per parallel task of the attractive pass.
const ROW_CHUNK: usize = 256;

impl Optimizer {
    /// Fresh state (zero update, unit gains) for `n` points.
    pub fn new(n: usize) -> Self {
        Self {
            update: vec![[0.0; 2]; n],
            gains: vec![[1.0; 2]; n],
            grad: vec![[0.0; 2]; n],
            rep: vec![[0.0; 2]; n],
            local: vec![[0.0; 2]; n],
        }
    }

    /// Runs one phase, updating `y` in place.
    pub fn run(&mut self, p: &Csr, y: &mut [[f64; 2]], rep: &mut Repulsion, ph: &Phase) {
        let n = y.len();
        let mut split = crate::phase_log::Split::new(&["repulsion", "attraction", "update"]);
        for _ in 0..ph.n_iter {
            split.start();
            let z = rep.compute(y, &mut self.rep).max(f64::MIN_POSITIVE);
            split.lap(0);
            let inv_z = 1.0 / z;
            self.grad
                .par_iter_mut()
                .zip(self.rep.par_iter())
                .for_each(|(g, r)| *g = [-r[0] * inv_z, -r[1] * inv_z]);
            // The repulsion buffer is free again: it holds the ordered attractive sums.
            attractive(
                p,
                y,
                ph.exaggeration,
                &mut self.local,
                &mut self.rep,
                &mut self.grad,
            );
            split.lap(1);
            let (lr, mom) = (ph.learning_rate, ph.momentum);
            y.par_iter_mut()
                .zip(self.update.par_iter_mut())
                .zip(self.gains.par_iter_mut().zip(self.grad.par_iter()))
                .for_each(|((yi, u), (gn, g))| {
                    for d in 0..2 {
                        if sign(u[d]) != sign(g[d]) {
                            gn[d] += 0.2;
                        } else {
                            gn[d] = gn[d] * 0.8 + MIN_GAIN;
                        }
                        u[d] = mom * u[d] - lr * gn[d] * g[d];
                    }
                    let norm = (u[0] * u[0] + u[1] * u[1]).sqrt();
                    if norm > MAX_STEP_NORM {
                        u[0] *= MAX_STEP_NORM / norm;
                        u[1] *= MAX_STEP_NORM / norm;
                    }
                    yi[0] += u[0];
                    yi[1] += u[1];
                });
            let mut mean = [0.0f64; 2];
            for q in y.iter() {
                mean[0] += q[0];
                mean[1] += q[1];
            }
            mean[0] /= n as f64;
            mean[1] /= n as f64;
            y.par_iter_mut().for_each(|q| {
                q[0] -= mean[0];
                q[1] -= mean[1];
            });
            split.lap(2);
        }
        split.log("tsne: optimiser steps");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::neighbours::{knn_graph, Method, NeighbourParams};
    use crate::tsne::affinity::{joint_probabilities, map_order};
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    /// P of `n` seeded 5-d points from their exact `k` nearest neighbours, and a seeded map.
    fn problem(n: usize, k: usize) -> (crate::tsne::affinity::Csr, Vec<[f64; 2]>) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let x = ndarray::Array2::from_shape_fn((n, 5), |_| rng.gen_range(-1.0f32..1.0));
        let params = NeighbourParams {
            method: Method::Exact,
            ..Default::default()
        };
        let knn = knn_graph(x.view(), k, &params).expect("exact neighbours");
        let p = joint_probabilities(knn, 5.0, (0..n as u32).rev().collect());
        let y = (0..n)
            .map(|_| [rng.gen_range(-20.0..20.0), rng.gen_range(-20.0..20.0)])
            .collect();
        (p, y)
    }

    fn forces(p: &crate::tsne::affinity::Csr, y: &[[f64; 2]]) -> Vec<[f64; 2]> {
        let n = y.len();
        let (mut local, mut f, mut g) = (vec![[0.0; 2]; n], vec![[0.0; 2]; n], vec![[0.0; 2]; n]);
        attractive(p, y, 3.0, &mut local, &mut f, &mut g);
        g
    }

    #[test]
    fn attractive_forces_match_a_plain_sum() {
        let (p, y) = problem(700, 9);
        let got = forces(&p, &y);
        for (i, g) in got.iter().enumerate() {
            let (cols, vals) = p.row(i);
            // The plain sum, and the sum of the terms' sizes (the scale of rounding errors).
            let (mut want, mut size) = ([0.0f64; 2], [0.0f64; 2]);
            for (&j, &v) in cols.iter().zip(vals) {
                let (dx, dy) = (y[i][0] - y[j as usize][0], y[i][1] - y[j as usize][1]);
                let w = f64::from(v) / (1.0 + dx * dx + dy * dy);
                want[0] += 3.0 * w * dx;
                want[1] += 3.0 * w * dy;
                size[0] += (3.0 * w * dx).abs();
                size[1] += (3.0 * w * dy).abs();
            }
            for d in 0..2 {
                assert!(size[d] > 0.0, "point {i} has no attraction");
                assert!(
                    (g[d] - want[d]).abs() <= 1e-12 * size[d],
                    "point {i}: {} against {}",
                    g[d],
                    want[d]
                );
            }
        }
    }

    #[test]
    fn attractive_forces_do_not_depend_on_how_p_is_stored() {
        let (mut p, y) = problem(700, 9);
        let bits = |f: &[[f64; 2]]| {
            f.iter()
                .flat_map(|q| q.map(f64::to_bits))
                .collect::<Vec<_>>()
        };
        let before = bits(&forces(&p, &y));
        p.reorder(map_order(&y));
        assert_eq!(bits(&forces(&p, &y)), before, "along the map");
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        assert_eq!(one.install(|| bits(&forces(&p, &y))), before, "one thread");
    }
}
