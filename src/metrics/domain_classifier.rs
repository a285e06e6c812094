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

use super::{MetricsError, MetricsResult};
use ndarray::{Array1, Array2, ArrayView2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
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
    let row = |i: usize| {
        if i < ns {
            source.row(i)
        } else {
            target.row(i - ns)
        }
    };
    let d = source.ncols();
    let gather = |idx: &[usize]| {
        let mut m = Array2::<f64>::zeros((idx.len(), d));
        for (mut dst, &i) in m.outer_iter_mut().zip(idx) {
            dst.zip_mut_with(&row(i), |a, &b| *a = f64::from(b));
        }
        m
    };
    let mut xtr = gather(train);
    let mut xte = gather(test);
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
    let mean = xtr.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(d));
    let mut std = xtr.var_axis(Axis(0), 0.0).mapv(f64::sqrt);
    std.mapv_inplace(|s| if s > 0.0 { s } else { 1.0 });
    for m in [&mut xtr, &mut xte] {
        for mut r in m.outer_iter_mut() {
            r -= &mean;
            r /= &std;
        }
    }
    let fit = fit_logistic(&xtr, &ytr, params)?;
    let w = Array1::from(fit.coef.clone());
    let z = xte.dot(&w);
    let wrong = z
        .iter()
        .zip(&yte)
        .filter(|(&zi, &is_src)| (zi + fit.intercept > 0.0) != is_src)
        .count();
    let err = wrong as f64 / test.len() as f64;
    Ok(ProxyADistance {
        value: 2.0 * (1.0 - 2.0 * err),
        test_error: err,
        n_train: train.len(),
        n_test: test.len(),
        fit,
    })
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
fn fit_logistic(x: &Array2<f64>, y: &[f64], params: &ProxyAParams) -> MetricsResult<LogisticFit> {
    let (n, d) = x.dim();
    let lambda = 1.0 / params.c;
    let objective = |w: &Array1<f64>, b: f64| -> f64 {
        let z = x.dot(w);
        let loss: f64 = z
            .iter()
            .zip(y)
            .map(|(&zi, &yi)| softplus(-yi * (zi + b)))
            .sum();
        loss + 0.5 * lambda * w.dot(w)
    };
    let mut w = Array1::<f64>::zeros(d);
    let mut b = 0.0f64;
    let gtol = params.tol * n as f64;
    let mut f = objective(&w, b);
    for it in 0..params.max_iter {
        let z = x.dot(&w) + b;
        // r_i = −y_i σ(−y_i z_i), derivative of the loss in z_i
        let r: Array1<f64> = z
            .iter()
            .zip(y)
            .map(|(&zi, &yi)| -yi * sigmoid(-yi * zi))
            .collect();
        let s: Array1<f64> = z
            .iter()
            .map(|&zi| {
                let p = sigmoid(zi);
                p * (1.0 - p)
            })
            .collect();
        let gw = x.t().dot(&r) + &(&w * lambda);
        let gb = r.sum();
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
            let u = (x.dot(vw) + vb) * &s;
            (x.t().dot(&u) + &(vw * lambda), u.sum())
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
            let fn_ = objective(&wn, bn);
            if fn_ <= f + 1e-4 * t * slope {
                w = wn;
                b = bn;
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
