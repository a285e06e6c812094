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

/// Attractive forces `exaggeration · Σ_j p_ij w_ij (y_i − y_j)` added into `grad`. The points
/// are first copied into `local` in P's stored order, so that a stored row and the columns it
/// names are read from nearby memory; rows are summed in that order into `forces`, then added
/// at each row's rank. Each row's sum takes its terms in the same order as from `y`, so the
/// result is the same to the bit.
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
    forces
        .par_iter_mut()
        .enumerate()
        .with_min_len(256)
        .for_each(|(r, f)| {
            let yi = local[r];
            let mut s = [0.0f64; 2];
            for t in p.indptr[r]..p.indptr[r + 1] {
                let yj = local[p.indices[t] as usize];
                let (dx, dy) = (yi[0] - yj[0], yi[1] - yj[1]);
                let w = 1.0 / (1.0 + dx * dx + dy * dy);
                let c = p.data[t] * w;
                s[0] += c * dx;
                s[1] += c * dy;
            }
            *f = s;
        });
    grad.par_iter_mut()
        .zip(p.rank.par_iter())
        .for_each(|(g, &r)| {
            let f = forces[r as usize];
            g[0] += exaggeration * f[0];
            g[1] += exaggeration * f[1];
        });
}

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
