//! Proxy A-distance (Ben-David et al.): `2 (1 − 2·err)` of a linear domain classifier.
//!
//! Recipe (the fixture script follows it step by step):
//! 1. Split: each domain's indices are shuffled by one ChaCha8 generator seeded from `seed` (source first,
//!    then target); the first `round(n · test_fraction)` of each (at least 1, at most `n − 1`) are test
//!    points, the rest train. Indices are into the pooled rows `[source…, target…]`, returned ascending.
//! 2. Features are standardised with the training rows' mean and standard deviation (population, ddof 0;
//!    a zero deviation is replaced by 1), as scikit-learn's `StandardScaler`.
//! 3. L2-regularised logistic regression, source = 1, target = 0, with intercept (not penalised):
//!    minimise `Σ_i log(1 + exp(−y_i (w·x_i + b))) + ‖w‖² / (2C)`, `y_i = ±1`, solved by Newton's method
//!    with conjugate-gradient steps and Armijo backtracking until `max |gradient| ≤ tol · n_train`.
//!    This is the objective of scikit-learn's `LogisticRegression(C=C)`; the optimum is unique.
//! 4. A test point is called source when `w·x + b > 0`; `err` is the test error rate.
//!
//! The standardised design matrix is never formed: its products read the `f32` rows in place (a mapped
//! store stays mapped) and accumulate in `f64`, over fixed 1024-row chunks summed in chunk order, so
//! the result is the same at any thread count and the memory cost is `O(N + D)` beyond the data.

use super::{MetricsError, MetricsResult};
use ndarray::{Array1, ArrayView1, ArrayView2};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

/// Hyper-parameters of the proxy A-distance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProxyAParams {
    /// Share of each domain held out for testing, in (0, 1). Default 0.2.
    pub test_fraction: f64,
    /// Inverse L2 strength `C` (> 0). Default 1.0.
    pub c: f64,
    /// Seed of the split. Default 0.
    pub seed: u64,
    /// Newton iterations at most. Default 100.
    pub max_iter: usize,
    /// Gradient tolerance per training point. Default 1e-10.
    pub tol: f64,
}

impl Default for ProxyAParams {
    fn default() -> Self {
        Self {
            test_fraction: 0.2,
            c: 1.0,
            seed: 0,
            max_iter: 100,
            tol: 1e-10,
        }
    }
}

impl ProxyAParams {
    /// Sets the test share.
    pub fn test_fraction(mut self, f: f64) -> Self {
        self.test_fraction = f;
        self
    }
    /// Sets `C`.
    pub fn c(mut self, c: f64) -> Self {
        self.c = c;
        self
    }
    /// Sets the split seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Validates the parameters.
    pub fn check(&self) -> MetricsResult<&Self> {
        if !(self.test_fraction > 0.0 && self.test_fraction < 1.0) {
            return Err(MetricsError::Param {
                name: "test_fraction",
                expected: "a share strictly between 0 and 1".into(),
                found: self.test_fraction.to_string(),
            });
        }
        if !(self.c > 0.0 && self.c.is_finite()) {
            return Err(MetricsError::Param {
                name: "c",
                expected: "a finite positive number".into(),
                found: self.c.to_string(),
            });
        }
        if self.tol.is_nan() || self.tol <= 0.0 || self.max_iter == 0 {
            return Err(MetricsError::Param {
                name: "tol/max_iter",
                expected: "tol > 0 and max_iter ≥ 1".into(),
                found: format!("tol {}, max_iter {}", self.tol, self.max_iter),
            });
        }
        Ok(self)
    }
}

/// The fitted domain classifier (in standardised feature space).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LogisticFit {
    /// Weights, one per feature.
    pub coef: Vec<f64>,
    /// Intercept.
    pub intercept: f64,
    /// Newton iterations used.
    pub iterations: usize,
}

/// Proxy A-distance with the figures behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProxyADistance {
    /// `2 (1 − 2·err)`; not clipped (negative when the classifier is worse than chance).
    pub value: f64,
    /// Test error rate of the domain classifier.
    pub test_error: f64,
    /// Training points.
    pub n_train: usize,
    /// Test points.
    pub n_test: usize,
    /// The fitted classifier.
    pub fit: LogisticFit,
    /// The classifier's score `w·x + b` of every test row (standardised with the training rows' mean
    /// and deviation), in the order of `test`: `ln p(source | x) / p(target | x)`. Not serialised.
    #[serde(skip)]
    pub test_scores: Vec<f64>,
}

/// The seeded stratified split described in the module docs: `(train, test)` pooled indices, ascending.
pub fn stratified_split(
    n_source: usize,
    n_target: usize,
    test_fraction: f64,
    seed: u64,
) -> MetricsResult<(Vec<usize>, Vec<usize>)> {
    for (name, n) in [("source", n_source), ("target", n_target)] {
        if n < 2 {
            return Err(MetricsError::TooFewPoints {
                metric: format!("proxy A-distance split ({name})"),
                needed: 2,
                found: n,
            });
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (offset, n) in [(0, n_source), (n_source, n_target)] {
        let mut perm: Vec<usize> = (0..n).collect();
        perm.shuffle(&mut rng);
        let n_test = ((n as f64 * test_fraction).round() as usize).clamp(1, n - 1);
        test.extend(perm[..n_test].iter().map(|i| i + offset));
        train.extend(perm[n_test..].iter().map(|i| i + offset));
    }
    train.sort_unstable();
    test.sort_unstable();
    Ok((train, test))
}

/// Seeded split, then [`proxy_a_distance_on_split`].
pub fn proxy_a_distance(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    params: &ProxyAParams,
) -> MetricsResult<ProxyADistance> {
    params.check()?;
    let (train, test) = stratified_split(
        source.nrows(),
        target.nrows(),
        params.test_fraction,
        params.seed,
    )?;
    proxy_a_distance_on_split(source, target, &train, &test, params)
}

/// Proxy A-distance on a given split of the pooled rows `[source…, target…]` (steps 2–4 of the recipe).
pub fn proxy_a_distance_on_split(
    source: ArrayView2<f32>,
    target: ArrayView2<f32>,
    train: &[usize],
    test: &[usize],
    params: &ProxyAParams,
) -> MetricsResult<ProxyADistance> {
    params.check()?;
    let ns = source.nrows();
    let n = ns + target.nrows();
    if source.ncols() != target.ncols() {
        return Err(MetricsError::Shape {
            what: "target embedding".into(),
            expected: format!("{} columns like the source", source.ncols()),
            found: format!("{} columns", target.ncols()),
        });
    }
    if let Some(&bad) = train.iter().chain(test).find(|&&i| i >= n) {
        return Err(MetricsError::Shape {
            what: "proxy A-distance split".into(),
            expected: format!("indices below {n}"),
            found: bad.to_string(),
        });
    }
    if train.is_empty() || test.is_empty() {
        return Err(MetricsError::TooFewPoints {
            metric: "proxy A-distance".into(),
            needed: 1,
            found: 0,
        });
    }
    let ytr: Vec<f64> = train
        .iter()
        .map(|&i| if i < ns { 1.0 } else { -1.0 })
        .collect();
    let yte: Vec<bool> = test.iter().map(|&i| i < ns).collect();
    if ytr.iter().all(|&v| v > 0.0) || ytr.iter().all(|&v| v < 0.0) {
        return Err(MetricsError::Undefined {
            metric: "proxy A-distance".into(),
            reason: "the training split holds only one domain".into(),
        });
    }
    // views of one common lifetime (`ArrayView` is invariant in it)
    let (source, target) = (source.view(), target.view());
    let train_rows = Rows::new(source, target, train);
    let scaler = Scaler::fit(&train_rows);
    let xtr = Design {
        rows: train_rows,
        scaler: &scaler,
    };
    let xte = Design {
        rows: Rows::new(source, target, test),
        scaler: &scaler,
    };
    let fit = fit_logistic(&xtr, &ytr, params)?;
    let z = xte.scores(&fit.coef, fit.intercept);
    let wrong = z
        .iter()
        .zip(&yte)
        .filter(|(&zi, &is_src)| (zi > 0.0) != is_src)
        .count();
    let err = wrong as f64 / test.len() as f64;
    Ok(ProxyADistance {
        value: 2.0 * (1.0 - 2.0 * err),
        test_error: err,
        n_train: train.len(),
        n_test: test.len(),
        fit,
        test_scores: z,
    })
}

/// Rows per parallel work item of the design operations. Fixed, so the chunk sums, and the results,
/// are the same at any thread count.
const CHUNK: usize = 1024;

/// The selected rows of the pooled `[source…, target…]` embeddings, read in place (`f32`, possibly
/// memory-mapped): the logistic regression never copies the data.
struct Rows<'a> {
    source: ArrayView2<'a, f32>,
    target: ArrayView2<'a, f32>,
    index: &'a [usize],
}

impl<'a> Rows<'a> {
    fn new(source: ArrayView2<'a, f32>, target: ArrayView2<'a, f32>, index: &'a [usize]) -> Self {
        Self {
            source,
            target,
            index,
        }
    }

    fn dim(&self) -> usize {
        self.source.ncols()
    }

    fn row(&self, k: usize) -> ArrayView1<'_, f32> {
        let i = self.index[k];
        let ns = self.source.nrows();
        if i < ns {
            self.source.row(i)
        } else {
            self.target.row(i - ns)
        }
    }

    /// `Σ_chunks f(chunk rows)` of a `len`-vector per chunk, summed in chunk order.
    fn chunk_sum(
        &self,
        len: usize,
        f: impl Fn(std::ops::Range<usize>) -> Vec<f64> + Sync,
    ) -> Vec<f64> {
        let n = self.index.len();
        let parts: Vec<Vec<f64>> = (0..n.div_ceil(CHUNK))
            .into_par_iter()
            .map(|c| f(c * CHUNK..((c + 1) * CHUNK).min(n)))
            .collect();
        let mut total = vec![0.0; len];
        for p in parts {
            for (t, v) in total.iter_mut().zip(p) {
                *t += v;
            }
        }
        total
    }
}

/// Column means and standard deviations of the training rows (population, ddof 0; a zero deviation
/// is replaced by 1), as scikit-learn's `StandardScaler`.
struct Scaler {
    mean: Vec<f64>,
    inv_std: Vec<f64>,
}

impl Scaler {
    fn fit(rows: &Rows) -> Self {
        let n = rows.index.len() as f64;
        let sum = rows.chunk_sum(rows.dim(), |r| {
            let mut acc = vec![0.0; rows.dim()];
            for k in r {
                for (a, &x) in acc.iter_mut().zip(rows.row(k)) {
                    *a += f64::from(x);
                }
            }
            acc
        });
        let mean: Vec<f64> = sum.iter().map(|s| s / n).collect();
        let ss = rows.chunk_sum(rows.dim(), |r| {
            let mut acc = vec![0.0; rows.dim()];
            for k in r {
                for ((a, &x), m) in acc.iter_mut().zip(rows.row(k)).zip(&mean) {
                    let c = f64::from(x) - m;
                    *a += c * c;
                }
            }
            acc
        });
        let inv_std = ss
            .iter()
            .map(|v| {
                let sd = (v / n).sqrt();
                if sd > 0.0 {
                    1.0 / sd
                } else {
                    1.0
                }
            })
            .collect();
        Self { mean, inv_std }
    }
}

/// The standardised design matrix `X = (rows − mean) / std`, applied without being formed.
struct Design<'a> {
    rows: Rows<'a>,
    scaler: &'a Scaler,
}

impl Design<'_> {
    fn len(&self) -> usize {
        self.rows.index.len()
    }

    /// `X w + b`, one value per row.
    fn scores(&self, w: &[f64], b: f64) -> Vec<f64> {
        let ws: Vec<f64> = w
            .iter()
            .zip(&self.scaler.inv_std)
            .map(|(a, s)| a * s)
            .collect();
        let mut z = vec![0.0; self.len()];
        z.par_chunks_mut(CHUNK).enumerate().for_each(|(c, out)| {
            for (j, o) in out.iter_mut().enumerate() {
                *o = b + self.dot(c * CHUNK + j, &ws);
            }
        });
        z
    }

    /// `(row k − mean) · ws`.
    fn dot(&self, k: usize, ws: &[f64]) -> f64 {
        self.rows
            .row(k)
            .iter()
            .zip(&self.scaler.mean)
            .zip(ws)
            .map(|((&x, m), w)| (f64::from(x) - m) * w)
            .sum()
    }

    /// `Xᵀ u`.
    fn t_dot(&self, u: &[f64]) -> Vec<f64> {
        self.t_dot_with(|k| u[k]).0
    }

    /// `Xᵀ u` and `Σ u` with `u_k = coef(k)` computed per row, in one pass over the rows.
    fn t_dot_with(&self, coef: impl Fn(usize) -> f64 + Sync) -> (Vec<f64>, f64) {
        let d = self.rows.dim();
        let mut g = self.rows.chunk_sum(d + 1, |r| {
            let mut acc = vec![0.0; d + 1];
            let mut sum = 0.0;
            for k in r {
                let u = coef(k);
                if u != 0.0 {
                    // centred per element: `Σ u x − mean Σ u` would cancel to noise near the optimum
                    for ((a, &x), m) in acc.iter_mut().zip(self.rows.row(k)).zip(&self.scaler.mean)
                    {
                        *a += u * (f64::from(x) - m);
                    }
                    sum += u;
                }
            }
            acc[d] = sum;
            acc
        });
        let total = g.pop().unwrap_or(0.0);
        for (v, s) in g.iter_mut().zip(&self.scaler.inv_std) {
            *v *= s;
        }
        (g, total)
    }

    /// `Xᵀ diag(s) (X v + vb)` and `Σ s (X v + vb)`, in one pass over the rows.
    fn hessian_dot(&self, s: &[f64], v: &[f64], vb: f64) -> (Vec<f64>, f64) {
        let vs: Vec<f64> = v
            .iter()
            .zip(&self.scaler.inv_std)
            .map(|(a, s)| a * s)
            .collect();
        self.t_dot_with(|k| s[k] * (self.dot(k, &vs) + vb))
    }
}

/// `log(1 + exp(u))` without overflow.
fn softplus(u: f64) -> f64 {
    if u > 0.0 {
        u + (-u).exp().ln_1p()
    } else {
        u.exp().ln_1p()
    }
}

/// `1 / (1 + exp(−u))` without overflow.
fn sigmoid(u: f64) -> f64 {
    if u >= 0.0 {
        1.0 / (1.0 + (-u).exp())
    } else {
        let e = u.exp();
        e / (1.0 + e)
    }
}

/// Newton–CG on the L2-regularised logistic loss (intercept unpenalised); `y` is ±1.
fn fit_logistic(x: &Design, y: &[f64], params: &ProxyAParams) -> MetricsResult<LogisticFit> {
    let (n, d) = (x.len(), x.rows.dim());
    let lambda = 1.0 / params.c;
    let scores = |w: &Array1<f64>, b: f64| x.scores(w.as_slice().expect("contiguous"), b);
    // the objective and its gradient in w and b, both from the scores `z = X w + b`
    let objective = |z: &[f64], w: &Array1<f64>| -> f64 {
        let loss: f64 = z.iter().zip(y).map(|(&zi, &yi)| softplus(-yi * zi)).sum();
        loss + 0.5 * lambda * w.dot(w)
    };
    let gradient = |z: &[f64], w: &Array1<f64>| -> (Array1<f64>, f64) {
        // r_i = −y_i σ(−y_i z_i), derivative of the loss in z_i
        let r: Vec<f64> = z
            .iter()
            .zip(y)
            .map(|(&zi, &yi)| -yi * sigmoid(-yi * zi))
            .collect();
        let gw = Array1::from(x.t_dot(&r)) + &(w * lambda);
        (gw, r.iter().sum())
    };
    let l1 = |gw: &Array1<f64>, gb: f64| gw.iter().map(|v| v.abs()).sum::<f64>() + gb.abs();
    let mut w = Array1::<f64>::zeros(d);
    let mut b = 0.0f64;
    let gtol = params.tol * n as f64;
    // the current point's scores, and its gradient when the line search already formed it
    let mut z = scores(&w, b);
    let mut f = objective(&z, &w);
    let mut known_gradient = None;
    for it in 0..params.max_iter {
        let (gw, gb) = known_gradient.take().unwrap_or_else(|| gradient(&z, &w));
        let s: Vec<f64> = z
            .iter()
            .map(|&zi| {
                let p = sigmoid(zi);
                p * (1.0 - p)
            })
            .collect();
        let gmax = gw.iter().fold(gb.abs(), |m, v| m.max(v.abs()));
        if gmax <= gtol {
            return Ok(LogisticFit {
                coef: w.to_vec(),
                intercept: b,
                iterations: it,
            });
        }
        // conjugate gradients on H [pw; pb] = −[gw; gb]
        let hv = |vw: &Array1<f64>, vb: f64| -> (Array1<f64>, f64) {
            let (hw, hb) = x.hessian_dot(&s, vw.as_slice().expect("contiguous"), vb);
            (Array1::from(hw) + &(vw * lambda), hb)
        };
        let gnorm = (gw.dot(&gw) + gb * gb).sqrt();
        let eta = gnorm.sqrt().min(0.5) * gnorm;
        let (mut pw, mut pb) = (Array1::<f64>::zeros(d), 0.0f64);
        let (mut rw, mut rb) = (-&gw, -gb);
        let (mut dw, mut db) = (rw.clone(), rb);
        let mut rr = rw.dot(&rw) + rb * rb;
        for _ in 0..2 * (d + 1) {
            if rr.sqrt() <= eta {
                break;
            }
            let (hw, hb) = hv(&dw, db);
            let dhd = dw.dot(&hw) + db * hb;
            if dhd <= 0.0 {
                break;
            }
            let alpha = rr / dhd;
            pw.scaled_add(alpha, &dw);
            pb += alpha * db;
            rw.scaled_add(-alpha, &hw);
            rb -= alpha * hb;
            let rr_new = rw.dot(&rw) + rb * rb;
            let beta = rr_new / rr;
            dw = &rw + &(&dw * beta);
            db = rb + beta * db;
            rr = rr_new;
        }
        if pw.iter().all(|&v| v == 0.0) && pb == 0.0 {
            pw = -&gw;
            pb = -gb;
        }
        let slope = gw.dot(&pw) + gb * pb;
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..60 {
            let wn = &w + &(&pw * t);
            let bn = b + t * pb;
            let zn = scores(&wn, bn);
            let fn_ = objective(&zn, &wn);
            let mut accept = fn_ <= f + 1e-4 * t * slope;
            // Near the optimum the decrease falls below the objective's rounding: the full step is
            // then taken when the loss is unchanged to 100 ulp and the gradient shrinks (as
            // scikit-learn's Newton-CG line search does).
            if !accept && t == 1.0 && (fn_ - f).abs() <= 100.0 * f64::EPSILON * f.abs() {
                let (gn, gbn) = gradient(&zn, &wn);
                if l1(&gn, gbn) < l1(&gw, gb) {
                    accept = true;
                    known_gradient = Some((gn, gbn));
                }
            }
            if accept {
                w = wn;
                b = bn;
                z = zn;
                f = fn_;
                accepted = true;
                break;
            }
            t *= 0.5;
        }
        if !accepted {
            // no further decrease representable: the point is optimal to machine precision
            return Ok(LogisticFit {
                coef: w.to_vec(),
                intercept: b,
                iterations: it + 1,
            });
        }
    }
    Err(MetricsError::NoConvergence {
        metric: "proxy A-distance".into(),
        reason: format!(
            "logistic regression did not reach the gradient tolerance in {} Newton iterations",
            params.max_iter
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::Array2;

    #[test]
    fn design_products_match_the_dense_standardised_matrix() {
        let n = 50;
        let d = 7;
        let src =
            Array2::from_shape_fn((n, d), |(i, j)| ((i * 31 + j * 17) % 13) as f32 * 0.7 + 5.0);
        let tgt =
            Array2::from_shape_fn((n, d), |(i, j)| ((i * 7 + j * 11) % 19) as f32 * 0.3 + 4.0);
        let idx: Vec<usize> = (0..2 * n).step_by(3).collect();
        let rows = Rows::new(src.view(), tgt.view(), &idx);
        let sc = Scaler::fit(&rows);
        let x = Design {
            rows: Rows::new(src.view(), tgt.view(), &idx),
            scaler: &sc,
        };
        // dense
        let m = idx.len();
        let mut xs = Array2::<f64>::zeros((m, d));
        for (k, &i) in idx.iter().enumerate() {
            for j in 0..d {
                let v = if i < n { src[[i, j]] } else { tgt[[i - n, j]] };
                xs[[k, j]] = f64::from(v);
            }
        }
        let mean = xs.mean_axis(ndarray::Axis(0)).unwrap();
        let std = xs.var_axis(ndarray::Axis(0), 0.0).mapv(f64::sqrt);
        for k in 0..m {
            for j in 0..d {
                xs[[k, j]] = (xs[[k, j]] - mean[j]) / std[j];
            }
        }
        let w: Vec<f64> = (0..d).map(|j| (j as f64 - 3.0) * 0.1).collect();
        let z = x.scores(&w, 0.5);
        let zd = xs.dot(&Array1::from(w.clone())) + 0.5;
        for k in 0..m {
            assert!(
                (z[k] - zd[k]).abs() < 1e-12,
                "score {k}: {} {}",
                z[k],
                zd[k]
            );
        }
        let u: Vec<f64> = (0..m).map(|k| (k as f64).sin()).collect();
        let g = x.t_dot(&u);
        let gd = xs.t().dot(&Array1::from(u.clone()));
        for j in 0..d {
            assert!((g[j] - gd[j]).abs() < 1e-12, "grad {j}: {} {}", g[j], gd[j]);
        }
        let s: Vec<f64> = (0..m).map(|k| 0.1 + (k as f64).cos().abs()).collect();
        let (h, hb) = x.hessian_dot(&s, &w, 0.3);
        let ud = (xs.dot(&Array1::from(w.clone())) + 0.3) * &Array1::from(s.clone());
        let hd = xs.t().dot(&ud);
        for j in 0..d {
            assert!((h[j] - hd[j]).abs() < 1e-12, "hess {j}: {} {}", h[j], hd[j]);
        }
        assert!((hb - ud.sum()).abs() < 1e-12);
    }

    #[test]
    fn fit_is_the_same_at_any_thread_count() {
        // several 1024-row chunks, so the chunk sums matter
        let (n, d) = (3000, 16);
        let src = Array2::from_shape_fn((n, d), |(i, j)| ((i * 37 + j * 11) % 23) as f32 * 0.1);
        let tgt = Array2::from_shape_fn((n, d), |(i, j)| ((i * 13 + j * 29) % 19) as f32 * 0.12);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| proxy_a_distance(src.view(), tgt.view(), &ProxyAParams::default()))
                .unwrap()
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
        assert!(one.value.is_finite() && one.fit.iterations > 0);
    }
}
