//! Placing new points into a fixed reference map (openTSNE's `transform`, Poličar et al. 2021).
//!
//! Each new point gets conditional affinities to its `⌊3·perplexity⌋` nearest reference points
//! (exact kNN in the input space, perplexity calibrated by bisection, each row summing to 1),
//! starts at the coordinate-wise median of the map positions of its nearest `k` of those
//! neighbours, and is moved by gradient descent while the reference map stays fixed: attraction
//! to its reference neighbours, repulsion from every reference point (exact sum, normalised per
//! new point), new points do not interact with each other. The defaults are openTSNE 1.0.4's
//! `TSNEEmbedding.transform` defaults. There are no random draws: the same input gives the
//! same bytes at any thread count.
//!
//! Placement pulls points toward the reference clusters, so a placed map can hide a domain
//! shift that the joint map shows; it is a second view, never a replacement.
use super::affinity::calibrate_row;
use super::params::TsneError;
use crate::neighbours::dist2_f64;
use ndarray::{Array2, ArrayView2};
use rayon::prelude::*;

/// Hyper-parameters of [`transform`]; defaults follow openTSNE 1.0.4's `transform`.
#[derive(Debug, Clone, PartialEq)]
pub struct TransformParams {
    /// Perplexity of the new→reference affinities (openTSNE: 5).
    pub perplexity: f64,
    /// Reference neighbours whose median position starts each new point (openTSNE: 25,
    /// capped at the `⌊3·perplexity⌋` affinity neighbours, as openTSNE does).
    pub k: usize,
    /// Learning rate (openTSNE: 0.1).
    pub learning_rate: f64,
    /// Early exaggeration factor (openTSNE: 4).
    pub early_exaggeration: f64,
    /// Iterations at the early exaggeration (openTSNE: 0).
    pub early_exaggeration_iter: usize,
    /// Exaggeration of the main phase (openTSNE: 1.5).
    pub exaggeration: f64,
    /// Iterations of the main phase (openTSNE: 250).
    pub n_iter: usize,
    /// Momentum in both phases (openTSNE: 0.8).
    pub momentum: f64,
    /// Per-point gradient norms are clipped to this (openTSNE: 0.25).
    pub max_grad_norm: f64,
}

impl Default for TransformParams {
    fn default() -> Self {
        Self {
            perplexity: 5.0,
            k: 25,
            learning_rate: 0.1,
            early_exaggeration: 4.0,
            early_exaggeration_iter: 0,
            exaggeration: 1.5,
            n_iter: 250,
            momentum: 0.8,
            max_grad_norm: 0.25,
        }
    }
}

fn bad(name: &'static str, expected: &'static str, found: impl std::fmt::Display) -> TsneError {
    TsneError::InvalidParam {
        name,
        expected,
        found: found.to_string(),
    }
}

impl TransformParams {
    /// Checks every parameter's range.
    pub fn check(&self) -> Result<&Self, TsneError> {
        let pos = |v: f64| v.is_finite() && v > 0.0;
        if !pos(self.perplexity) {
            return Err(bad("perplexity", "a finite number > 0", self.perplexity));
        }
        if self.k == 0 {
            return Err(bad("k", "at least 1", self.k));
        }
        if !pos(self.learning_rate) {
            return Err(bad(
                "learning_rate",
                "a finite number > 0",
                self.learning_rate,
            ));
        }
        if !pos(self.early_exaggeration) {
            return Err(bad(
                "early_exaggeration",
                "a finite number > 0",
                self.early_exaggeration,
            ));
        }
        if !pos(self.exaggeration) {
            return Err(bad(
                "exaggeration",
                "a finite number > 0",
                self.exaggeration,
            ));
        }
        if !(self.momentum.is_finite() && (0.0..1.0).contains(&self.momentum)) {
            return Err(bad("momentum", "a number in [0, 1)", self.momentum));
        }
        if !pos(self.max_grad_norm) {
            return Err(bad(
                "max_grad_norm",
                "a finite number > 0",
                self.max_grad_norm,
            ));
        }
        Ok(self)
    }
}

/// Reference neighbours of one new point with their affinities (summing to 1).
type Neighbours = Vec<(u32, f64)>;

/// Result of [`transform`].
#[derive(Debug, Clone)]
pub struct Placed {
    /// Positions of the new points, `[M, 2]`.
    pub coords: Array2<f32>,
    /// Starting positions (median of the reference neighbours' positions), `[M, 2]`.
    pub init: Array2<f32>,
    /// Perplexity actually used (reduced when the reference set is small).
    pub perplexity: f64,
}

fn check_finite(x: ArrayView2<f32>, what: &'static str) -> Result<(), TsneError> {
    match x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        Some(((row, col), v)) => Err(TsneError::NonFinite {
            what,
            row,
            col,
            value: *v,
        }),
        None => Ok(()),
    }
}

/// Exact `k` nearest reference rows of one query (squared distances in f64, ties by index).
fn nearest(q: ndarray::ArrayView1<f32>, reference: ArrayView2<f32>, k: usize) -> Vec<(f64, u32)> {
    let mut d: Vec<(f64, u32)> = reference
        .rows()
        .into_iter()
        .enumerate()
        .map(|(j, r)| (dist2_f64(q, r), j as u32))
        .collect();
    d.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    d.truncate(k);
    d.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    d
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    let m = v.len();
    if m % 2 == 1 {
        v[m / 2]
    } else {
        0.5 * (v[m / 2 - 1] + v[m / 2])
    }
}

/// Places the rows of `new` (`[M, D]`) into the map `reference_map` (`[N, 2]`) of
/// `reference_data` (`[N, D]`), leaving the reference map untouched.
///
/// Errors: invalid parameters, fewer than 2 reference points, no columns, column counts or
/// row counts that disagree, a non-finite value (naming the matrix, row and column).
pub fn transform(
    reference_data: ArrayView2<f32>,
    reference_map: ArrayView2<f32>,
    new: ArrayView2<f32>,
    params: &TransformParams,
) -> Result<Placed, TsneError> {
    params.check()?;
    let (n, d) = reference_data.dim();
    if n < 2 {
        return Err(TsneError::TooFewPoints { found: n });
    }
    if d == 0 {
        return Err(TsneError::NoColumns);
    }
    if reference_map.dim() != (n, 2) {
        return Err(TsneError::Shape {
            what: "reference map",
            expected: format!("[{n}, 2] (one row per reference point)"),
            found: format!("{:?}", reference_map.dim()),
        });
    }
    if new.ncols() != d {
        return Err(TsneError::Shape {
            what: "points to place",
            expected: format!("{d} columns (as the reference data)"),
            found: format!("{} columns", new.ncols()),
        });
    }
    check_finite(reference_data, "reference data")?;
    check_finite(reference_map, "reference map")?;
    check_finite(new, "points to place")?;
    let m = new.nrows();
    let k_aff = ((3.0 * params.perplexity).floor() as usize).clamp(1, n);
    // openTSNE lowers the perplexity to k/3 when fewer neighbours exist.
    let perplexity = params.perplexity.min(k_aff as f64 / 3.0);
    let k_init = params.k.min(k_aff);
    let yref: Vec<[f64; 2]> = reference_map
        .rows()
        .into_iter()
        .map(|r| [r[0] as f64, r[1] as f64])
        .collect();

    // Affinities (rows sum to 1) and median starts, one new point at a time.
    let rows: Vec<(Neighbours, [f64; 2])> = (0..m)
        .into_par_iter()
        .map(|i| {
            let nn = nearest(new.row(i), reference_data, k_aff);
            let d2: Vec<f64> = nn.iter().map(|e| e.0).collect();
            let mut p = vec![0.0; k_aff];
            calibrate_row(&d2, perplexity, &mut p);
            let mut xs: Vec<f64> = nn[..k_init].iter().map(|e| yref[e.1 as usize][0]).collect();
            let mut ys: Vec<f64> = nn[..k_init].iter().map(|e| yref[e.1 as usize][1]).collect();
            let start = [median(&mut xs), median(&mut ys)];
            (nn.iter().map(|e| e.1).zip(p).collect(), start)
        })
        .collect();

    let mut y: Vec<[f64; 2]> = rows.iter().map(|r| r.1).collect();
    let init = to_array(&y);
    let mut update = vec![[0.0f64; 2]; m];
    let mut gains = vec![[1.0f64; 2]; m];
    let phases = [
        (params.early_exaggeration_iter, params.early_exaggeration),
        (params.n_iter, params.exaggeration),
    ];
    for (iters, ex) in phases {
        for _ in 0..iters {
            y.par_iter_mut()
                .zip(update.par_iter_mut())
                .zip(gains.par_iter_mut())
                .zip(rows.par_iter())
                .for_each(|(((yi, ui), gi), (nbrs, _))| {
                    let g = gradient(*yi, nbrs, &yref, ex, params.max_grad_norm);
                    for c in 0..2 {
                        // Delta-bar-delta gains as in openTSNE (min gain 0.01).
                        if sign(ui[c]) != sign(g[c]) {
                            gi[c] += 0.2;
                        } else {
                            gi[c] *= 0.8;
                        }
                        gi[c] = gi[c].max(0.01);
                        ui[c] = params.momentum * ui[c] - params.learning_rate * gi[c] * g[c];
                        yi[c] += ui[c];
                    }
                });
        }
    }
    Ok(Placed {
        coords: to_array(&y),
        init,
        perplexity,
    })
}

/// KL gradient of one new point: exaggerated attraction to its reference neighbours minus
/// repulsion from every reference point normalised by this point's own sum of kernels; its
/// norm is clipped to `max_norm`.
fn gradient(
    yi: [f64; 2],
    nbrs: &[(u32, f64)],
    yref: &[[f64; 2]],
    ex: f64,
    max_norm: f64,
) -> [f64; 2] {
    let mut att = [0.0; 2];
    for &(j, p) in nbrs {
        let r = yref[j as usize];
        let (dx, dy) = (yi[0] - r[0], yi[1] - r[1]);
        let q = 1.0 / (1.0 + dx * dx + dy * dy);
        att[0] += ex * p * q * dx;
        att[1] += ex * p * q * dy;
    }
    let (mut rep, mut z) = ([0.0; 2], 0.0);
    for r in yref {
        let (dx, dy) = (yi[0] - r[0], yi[1] - r[1]);
        let q = 1.0 / (1.0 + dx * dx + dy * dy);
        z += q;
        rep[0] += q * q * dx;
        rep[1] += q * q * dy;
    }
    let mut g = [att[0] - rep[0] / z, att[1] - rep[1] / z];
    let norm = (g[0] * g[0] + g[1] * g[1]).sqrt();
    let coeff = max_norm / (norm + 1e-6);
    if coeff < 1.0 {
        g[0] *= coeff;
        g[1] *= coeff;
    }
    g
}

/// Sign as -1, 0 or 1 (numpy's `sign`, so a zero update counts as a flip).
fn sign(v: f64) -> i8 {
    (v > 0.0) as i8 - (v < 0.0) as i8
}

fn to_array(y: &[[f64; 2]]) -> Array2<f32> {
    let mut a = Array2::<f32>::zeros((y.len(), 2));
    for (mut row, q) in a.rows_mut().into_iter().zip(y) {
        row[0] = q[0] as f32;
        row[1] = q[1] as f32;
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn two_clusters() -> (Array2<f32>, Array2<f32>) {
        let mut x = Array2::<f32>::zeros((20, 3));
        let mut y = Array2::<f32>::zeros((20, 2));
        for i in 0..20 {
            let c = if i < 10 { 0.0 } else { 10.0 };
            let j = (i % 10) as f32 * 0.1;
            x[[i, 0]] = c + j;
            x[[i, 1]] = c - j;
            x[[i, 2]] = j * j;
            y[[i, 0]] = c * 2.0 + j;
            y[[i, 1]] = -c + j;
        }
        (x, y)
    }

    #[test]
    fn transform_places_near_own_cluster_and_is_deterministic() {
        let (x, y) = two_clusters();
        let new = array![[0.35f32, -0.3, 0.1], [10.4, 9.6, 0.2]];
        let p = TransformParams::default();
        let a = transform(x.view(), y.view(), new.view(), &p).unwrap();
        let b = transform(x.view(), y.view(), new.view(), &p).unwrap();
        assert_eq!(a.coords, b.coords);
        assert!((a.perplexity - 5.0).abs() < 1e-12);
        // First point near cluster 0 (around (0.45, 0.45)), second near cluster 1 ((20.45, -9.55)).
        let d0 = (a.coords[[0, 0]] - 0.45).hypot(a.coords[[0, 1]] - 0.45);
        let d1 = (a.coords[[1, 0]] - 20.45).hypot(a.coords[[1, 1]] + 9.55);
        assert!(d0 < 3.0 && d1 < 3.0, "{:?}", a.coords);
    }

    #[test]
    fn transform_median_init_matches_hand_value() {
        let (x, y) = two_clusters();
        let new = array![[0.0f32, 0.0, 0.0]];
        let p = TransformParams {
            k: 3,
            perplexity: 1.0,
            ..TransformParams::default()
        };
        // The 3 nearest reference rows are 0, 1, 2: map x = 0, 0.1, 0.2 → median 0.1.
        let a = transform(x.view(), y.view(), new.view(), &p).unwrap();
        assert!((a.init[[0, 0]] - 0.1).abs() < 1e-6 && (a.init[[0, 1]] - 0.1).abs() < 1e-6);
    }

    #[test]
    fn transform_rejects_bad_input() {
        let (x, y) = two_clusters();
        let good = array![[0.0f32, 0.0, 0.0]];
        let p = TransformParams::default();
        let wrong_cols = array![[0.0f32, 0.0]];
        assert!(matches!(
            transform(x.view(), y.view(), wrong_cols.view(), &p),
            Err(TsneError::Shape { .. })
        ));
        let short_map = y.slice(ndarray::s![..19, ..]).to_owned();
        assert!(matches!(
            transform(x.view(), short_map.view(), good.view(), &p),
            Err(TsneError::Shape { .. })
        ));
        let nan = array![[0.0f32, f32::NAN, 0.0]];
        let e = transform(x.view(), y.view(), nan.view(), &p).unwrap_err();
        assert!(
            e.to_string().contains("points to place row 0, column 1"),
            "{e}"
        );
        let bad_p = TransformParams {
            momentum: 1.0,
            ..TransformParams::default()
        };
        assert!(matches!(
            transform(x.view(), y.view(), good.view(), &bad_p),
            Err(TsneError::InvalidParam {
                name: "momentum",
                ..
            })
        ));
    }
}
