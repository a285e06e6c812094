//! Joint t-SNE of embeddings (the caller concatenates source and target rows).
//!
//! The default [`TsneEngine::Native`] engine follows openTSNE's recipe: optional PCA to
//! `pca_dims` columns, k-nearest neighbours (k = min(N−1, ⌊3·perplexity⌋); exact below
//! [`TsneParams::neighbour_threshold`] points, approximate and seeded from it on, see
//! [`crate::neighbours`]), perplexity
//! calibration by bisection, symmetric sparse P, PCA start rescaled to standard deviation
//! 1e-4, `early_exaggeration_iter` iterations at `early_exaggeration` then `n_iter` at
//! `exaggeration`, learning rate N/exaggeration, momentum 0.8 in both phases (openTSNE's
//! `initial_momentum` and `final_momentum` defaults; the 0.5 of the original t-SNE papers and
//! scikit-learn is not openTSNE's), delta-bar-delta gains carried over from one phase to the
//! next, and step norms clipped at 5. Repulsive forces use Barnes–Hut below
//! [`params::FFT_THRESHOLD`] points and FFT-accelerated interpolation above. Every random
//! draw is seeded and every parallel reduction runs in a fixed order, so the same input and
//! seed give the same bytes at any rayon thread count.
//!
//! The reported [`TsneOutput::kl_divergence`] is the *exact* KL divergence of the final map
//! (normaliser `Z` summed over all pairs), not the figure openTSNE reports: openTSNE's
//! `kl_divergence` takes `Z` from the Barnes–Hut or FFT approximation used for the gradient, so it
//! depends on the method and its settings (on the 500-digit fixture, openTSNE reports 0.3971 for a
//! map whose exact KL is 0.4016). The exact value compares maps made by any method.
mod affinity;
mod bh;
mod fft;
mod linfa;
mod optimize;
pub mod params;
mod pca;
mod pca_stream;
mod quality;
mod transform;

pub use crate::neighbours::Method;
use crate::phase_log::Phase;
use ndarray::{Array2, ArrayView2};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

pub use params::{
    Init, LearningRate, NegativeGradient, TsneEngine, TsneError, TsneParams, FFT_THRESHOLD,
};
pub use quality::{
    procrustes_align, stratified_subsample, trustworthiness, try_procrustes_align,
    try_trustworthiness,
};
pub use transform::{transform, Placed, TransformParams};

/// Result of [`fit`].
#[derive(Debug, Clone)]
pub struct TsneOutput {
    /// The map, `[N, 2]`.
    pub coords: Array2<f32>,
    /// Exact KL divergence of the final map against the sparse P (Q normalised over all
    /// pairs, summed exactly). openTSNE's `kl_divergence` estimates the same quantity with the
    /// approximate normaliser of its gradient method, so it differs slightly (about 1 %).
    pub kl_divergence: f64,
    /// Perplexity actually used (reduced for small sets).
    pub perplexity: f64,
    /// Gradient-descent iterations run (both phases).
    pub iterations: usize,
    /// Non-fatal adjustments made, in words (e.g. a reduced perplexity).
    pub notices: Vec<String>,
    /// How the perplexity neighbours were found ([`Method::Exact`] or
    /// [`Method::Approximate`]).
    pub neighbours: Method,
}

/// Affinities P of `x` after the same preparation [`fit`] uses (PCA reduction, exact kNN,
/// calibration), with the perplexity actually used. Exposed for diagnostics and benches.
pub struct Affinities {
    p: affinity::Csr,
    /// Perplexity actually used.
    pub perplexity: f64,
    /// How the neighbours were found.
    pub neighbours: Method,
}

impl Affinities {
    /// Exact KL divergence of a `[N, 2]` map against these affinities.
    pub fn kl_divergence(&self, y: ArrayView2<f32>) -> Result<f64, TsneError> {
        if y.nrows() != self.p.n() || y.ncols() != 2 {
            return Err(TsneError::Shape {
                what: "map for the KL divergence",
                expected: format!("[{}, 2]", self.p.n()),
                found: format!("{:?}", y.dim()),
            });
        }
        let yy: Vec<[f64; 2]> = y
            .rows()
            .into_iter()
            .map(|r| [r[0] as f64, r[1] as f64])
            .collect();
        Ok(quality::kl_divergence_exact(&self.p, &yy))
    }
}

/// Maps of at least this many points store P along the map after early exaggeration (below it,
/// the points fit in cache anyway).
const REORDER_MIN_POINTS: usize = 50_000;

/// Validated input: reduced data (f32) and effective perplexity plus notices.
struct Prepared {
    x: Array2<f32>,
    neighbours: crate::neighbours::NeighbourParams,
    perplexity: f64,
    notices: Vec<String>,
}

/// Inputs with more elements than this are reduced by the streaming PCA (no f64 copy, blocks
/// not joined); smaller inputs keep the in-memory PCA, so their maps are unchanged.
pub const STREAM_PCA_MIN_ELEMENTS: usize = 1 << 26;

/// The blocks as one matrix.
fn join(parts: &[ArrayView2<f32>]) -> Result<Array2<f32>, TsneError> {
    match parts {
        [one] => Ok(one.to_owned()),
        _ => ndarray::concatenate(ndarray::Axis(0), parts).map_err(|e| TsneError::Shape {
            what: "input blocks",
            expected: "blocks that can be joined".into(),
            found: e.to_string(),
        }),
    }
}

fn prepare(parts: &[ArrayView2<f32>], params: &TsneParams) -> Result<Prepared, TsneError> {
    params.check()?;
    let n: usize = parts.iter().map(|p| p.nrows()).sum();
    let d = parts.first().map_or(0, |p| p.ncols());
    if n < 5 {
        return Err(TsneError::TooFewPoints { found: n });
    }
    if d == 0 {
        return Err(TsneError::NoColumns);
    }
    let mut offset = 0;
    for x in parts {
        if x.ncols() != d {
            return Err(TsneError::Shape {
                what: "input blocks",
                expected: format!("{d} columns in every block"),
                found: format!("{} columns", x.ncols()),
            });
        }
        if let Some(((row, col), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
            return Err(TsneError::NonFinite {
                what: "input",
                row: offset + row,
                col,
                value: *v,
            });
        }
        offset += x.nrows();
    }
    if let Init::Given(y) = &params.init {
        if y.nrows() != n {
            return Err(TsneError::Shape {
                what: "initial layout",
                expected: format!("{n} rows (one per input row)"),
                found: format!("{} rows", y.nrows()),
            });
        }
    }
    let mut notices = Vec::new();
    let mut perplexity = params.perplexity;
    let max_perp = (n - 1) as f64 / 3.0;
    if 3.0 * perplexity > (n - 1) as f64 {
        notices.push(format!(
            "perplexity reduced from {} to {:.4} because {} points allow at most (N-1)/3",
            params.perplexity, max_perp, n
        ));
        perplexity = max_perp;
    }
    let x = match params.pca_dims {
        Some(p) if d > p && n * d > STREAM_PCA_MIN_ELEMENTS => {
            pca_stream::pca_scores_parts(parts, p, params.seed).mapv(|v| v as f32)
        }
        Some(p) if d > p => {
            let xf = join(parts)?.mapv(|v| v as f64);
            pca::pca_scores(xf.view(), p, params.seed).mapv(|v| v as f32)
        }
        _ => join(parts)?,
    };
    Ok(Prepared {
        neighbours: params.neighbour_params(),
        x,
        perplexity,
        notices,
    })
}

fn affinities_of(prep: &Prepared) -> (affinity::Csr, Method) {
    let n = prep.x.nrows();
    let k = ((3.0 * prep.perplexity).floor() as usize).min(n - 1);
    let nn = crate::neighbours::knn_graph(prep.x.view(), k, &prep.neighbours)
        .expect("k < N, finite input and the parameters were checked");
    let _ph = Phase::start("tsne: affinities");
    let method = nn.method;
    let order = crate::neighbours::locality_order(prep.x.view(), prep.neighbours.seed);
    (
        affinity::joint_probabilities(nn, prep.perplexity, order),
        method,
    )
}

/// Computes the affinities P that [`fit`] would use for `x` (validation included).
pub fn affinities(x: ArrayView2<f32>, params: &TsneParams) -> Result<Affinities, TsneError> {
    let prep = prepare(&[x], params)?;
    let (p, neighbours) = affinities_of(&prep);
    Ok(Affinities {
        p,
        perplexity: prep.perplexity,
        neighbours,
    })
}

fn initial_layout(x: &Array2<f32>, init: &Init, seed: u64) -> Vec<[f64; 2]> {
    let n = x.nrows();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    match init {
        Init::Given(y) => y
            .rows()
            .into_iter()
            .map(|r| [r[0] as f64, r[1] as f64])
            .collect(),
        Init::Random => (0..n)
            .map(|_| [1e-4 * pca::normal(&mut rng), 1e-4 * pca::normal(&mut rng)])
            .collect(),
        Init::Pca => {
            let xf = x.mapv(|v| v as f64);
            let s = pca::pca_scores(xf.view(), 2, seed);
            let col0 = s.column(0);
            let mean = col0.sum() / n as f64;
            let std = (col0.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
            let f = if std > 0.0 { 1e-4 / std } else { 1.0 };
            // Jitter (1% of the target scale) separates coincident points.
            (0..n)
                .map(|i| {
                    let mut q = [0.0; 2];
                    for (d, v) in q.iter_mut().enumerate() {
                        let base = if d < s.ncols() { s[[i, d]] * f } else { 0.0 };
                        *v = base + 1e-6 * pca::normal(&mut rng);
                    }
                    q
                })
                .collect()
        }
    }
}

/// Embeds the rows of `x` (`[N, D]`) in two dimensions.
///
/// Errors: invalid parameters, fewer than 5 rows, no columns, a non-finite value (naming
/// its row and column), an initial layout of the wrong shape, or a failed linfa-tsne run.
pub fn fit(x: ArrayView2<f32>, params: &TsneParams) -> Result<TsneOutput, TsneError> {
    fit_parts(&[x], params)
}

/// Embeds the rows of several blocks of the same width (e.g. source rows, then target rows)
/// as one set, without joining them first: inputs wider than `pca_dims` are reduced block by
/// block, so a large store is never held twice. Errors as [`fit`], plus blocks of different
/// widths.
pub fn fit_parts(parts: &[ArrayView2<f32>], params: &TsneParams) -> Result<TsneOutput, TsneError> {
    let ph = Phase::start("tsne: prepare");
    let prep = prepare(parts, params)?;
    drop(ph);
    let (mut p, neighbours) = affinities_of(&prep);
    let n = prep.x.nrows();
    let mut notices = prep.notices.clone();
    let iterations = params.early_exaggeration_iter + params.n_iter;
    let y: Vec<[f64; 2]> = match params.engine {
        TsneEngine::Native => {
            let mut y = initial_layout(&prep.x, &params.init, params.seed);
            let method = match params.negative_gradient {
                NegativeGradient::Auto if n < FFT_THRESHOLD => NegativeGradient::BarnesHut,
                NegativeGradient::Auto => NegativeGradient::Fft,
                m => m,
            };
            let mut rep = match method {
                NegativeGradient::Fft => optimize::Repulsion::fft(fft::FftParams {
                    n_interp: params.n_interpolation_points,
                    min_intervals: params.min_num_intervals,
                    ints_in_interval: params.ints_in_interval,
                }),
                _ => optimize::Repulsion::BarnesHut(params.theta),
            };
            let lr = |ex: f64| match params.learning_rate {
                LearningRate::Auto => n as f64 / ex,
                LearningRate::Fixed(v) => v,
            };
            let mut opt = optimize::Optimizer::new(n);
            let ph = Phase::start("tsne: early exaggeration");
            opt.run(
                &p,
                &mut y,
                &mut rep,
                &optimize::Phase {
                    n_iter: params.early_exaggeration_iter,
                    exaggeration: params.early_exaggeration,
                    learning_rate: lr(params.early_exaggeration),
                    // openTSNE's initial_momentum (0.8), not the 0.5 of scikit-learn.
                    momentum: 0.8,
                },
            );
            drop(ph);
            // The clusters have formed: store P's rows along the map, so that the attractive
            // forces read each row's neighbours from nearby memory. Every row keeps its terms
            // in order, so the map's bits do not depend on this.
            if n >= REORDER_MIN_POINTS {
                let _ph = Phase::start("tsne: P along the map");
                p.reorder(affinity::map_order(&y));
            }
            let _ph = Phase::start("tsne: final phase");
            opt.run(
                &p,
                &mut y,
                &mut rep,
                &optimize::Phase {
                    n_iter: params.n_iter,
                    exaggeration: params.exaggeration,
                    learning_rate: lr(params.exaggeration),
                    momentum: 0.8,
                },
            );
            y
        }
        TsneEngine::Linfa => {
            if params.init != Init::Random {
                notices.push(
                    "linfa-tsne ignores the requested initial layout and starts from seeded \
                     random points"
                        .to_string(),
                );
            }
            let x64 = prep.x.mapv(|v| v as f64);
            let m = linfa::run_linfa(
                &x64,
                prep.perplexity,
                params.theta,
                params.early_exaggeration_iter,
                params.n_iter,
                params.seed,
            )?;
            m.rows().into_iter().map(|r| [r[0], r[1]]).collect()
        }
    };
    let ph = Phase::start("tsne: exact KL");
    let kl = quality::kl_divergence_exact(&p, &y);
    drop(ph);
    let mut coords = Array2::<f32>::zeros((n, 2));
    for (mut row, q) in coords.rows_mut().into_iter().zip(&y) {
        row[0] = q[0] as f32;
        row[1] = q[1] as f32;
    }
    Ok(TsneOutput {
        coords,
        kl_divergence: kl,
        perplexity: prep.perplexity,
        iterations,
        notices,
        neighbours,
    })
}
