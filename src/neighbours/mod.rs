//! k-nearest-neighbour search (squared euclidean distance): the graph of one set, and the
//! neighbours of one set's rows among another's. Used by the t-SNE affinities and by metrics
//! that look at neighbourhoods.
//!
//! Below [`APPROX_THRESHOLD`] reference rows ([`Method::Auto`]) the search is exact (blocked
//! brute force, O(N·M·D) time); from it on, approximate: a forest of random-projection trees
//! gives each row its first candidates, and NN-descent rounds refine them (the recipe of
//! pynndescent, which openTSNE also uses). This was chosen by measurement against NN-descent
//! from random lists alone (slower to reach the same recall) and the forest alone (needs many
//! more trees for the same recall); `docs/architecture.md` and `/work/notes` carry the figures.
//! Queries of another set walk the reference set's own neighbour graph from their leaves.
//!
//! Both searches are deterministic: the same inputs, parameters and seed give the same lists
//! at any rayon thread count. Lists are sorted by distance then index; the distances returned
//! are recomputed in f64. For cosine neighbourhoods, normalise the rows first (on unit vectors
//! the squared distance is `2 − 2·cos`).
mod descent;
mod error;
mod exact;
mod forest;

use ndarray::{ArrayView1, ArrayView2};

pub use error::NeighbourError;

/// Reference-set size from which [`Method::Auto`] searches approximately.
pub const APPROX_THRESHOLD: usize = 50_000;

/// How neighbours are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Exact below the parameters' threshold of reference rows, approximate from it on.
    #[default]
    Auto,
    /// Blocked brute force.
    Exact,
    /// Random-projection forest plus NN-descent.
    Approximate,
}

impl Method {
    /// The method's name as written in settings and records.
    pub fn name(self) -> &'static str {
        match self {
            Method::Auto => "auto",
            Method::Exact => "exact",
            Method::Approximate => "approximate",
        }
    }
    /// Parses a name written by [`Method::name`].
    pub fn parse(s: &str) -> Option<Method> {
        [Method::Auto, Method::Exact, Method::Approximate]
            .into_iter()
            .find(|m| m.name() == s)
    }
}

/// Parameters of the search; [`NeighbourParams::check`] validates them.
#[derive(Debug, Clone, PartialEq)]
pub struct NeighbourParams {
    /// Method; default [`Method::Auto`].
    pub method: Method,
    /// Reference rows from which `Auto` is approximate; default [`APPROX_THRESHOLD`].
    pub threshold: usize,
    /// Seed of the trees and of every sample; default 0.
    pub seed: u64,
    /// Random-projection trees; 0 (default) picks by size (`5 + ⌊N^0.25⌋`, at most 32).
    pub n_trees: usize,
    /// Largest leaf; 0 (default) picks `max(k + 1, 64)`.
    pub leaf_size: usize,
    /// Candidates sampled per row and NN-descent round; default 30.
    pub max_candidates: usize,
    /// Most NN-descent rounds (and query expansions); default 12.
    pub max_iter: usize,
    /// NN-descent stops when a round changes fewer than `delta · N · k` entries; default 0.001.
    pub delta: f64,
}

impl Default for NeighbourParams {
    fn default() -> Self {
        NeighbourParams {
            method: Method::Auto,
            threshold: APPROX_THRESHOLD,
            seed: 0,
            n_trees: 0,
            leaf_size: 0,
            max_candidates: 30,
            max_iter: 12,
            delta: 0.001,
        }
    }
}

fn bad(name: &'static str, expected: &'static str, found: impl ToString) -> NeighbourError {
    NeighbourError::InvalidParam {
        name,
        expected,
        found: found.to_string(),
    }
}

impl NeighbourParams {
    /// Default parameters with this method.
    pub fn with_method(method: Method) -> Self {
        NeighbourParams {
            method,
            ..Default::default()
        }
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Validates every field.
    pub fn check(&self) -> Result<&Self, NeighbourError> {
        if self.threshold < 1 {
            return Err(bad("threshold", "at least 1", self.threshold));
        }
        if self.n_trees > 1024 {
            return Err(bad("n_trees", "0 (automatic) to 1024", self.n_trees));
        }
        if self.leaf_size != 0 && self.leaf_size < 2 {
            return Err(bad(
                "leaf_size",
                "0 (automatic) or at least 2",
                self.leaf_size,
            ));
        }
        if self.max_candidates < 1 {
            return Err(bad("max_candidates", "at least 1", self.max_candidates));
        }
        if self.max_iter > 1000 {
            return Err(bad("max_iter", "at most 1000", self.max_iter));
        }
        if !(self.delta.is_finite() && (0.0..1.0).contains(&self.delta)) {
            return Err(bad("delta", "a finite number in [0, 1)", self.delta));
        }
        Ok(self)
    }
    /// The method used for a reference set of `n` rows.
    pub fn resolve(&self, n: usize) -> Method {
        match self.method {
            Method::Auto if n >= self.threshold => Method::Approximate,
            Method::Auto => Method::Exact,
            m => m,
        }
    }
    /// Trees used for `n` reference rows.
    pub fn trees_for(&self, n: usize) -> usize {
        if self.n_trees > 0 {
            self.n_trees
        } else {
            (5 + (n as f64).powf(0.25) as usize).min(32)
        }
    }
    /// Leaf size used for `k` neighbours.
    pub fn leaf_size_for(&self, k: usize) -> usize {
        if self.leaf_size > 0 {
            self.leaf_size
        } else {
            (k + 1).max(64)
        }
    }
}

/// Neighbour lists of a set of query rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Neighbours {
    /// Neighbours per row.
    pub k: usize,
    /// Row-major `[Q, k]` indices into the reference set, nearest first (ties by index).
    pub indices: Vec<u32>,
    /// Row-major `[Q, k]` squared euclidean distances (f64), ascending.
    pub dist2: Vec<f64>,
    /// The method that found them ([`Method::Exact`] or [`Method::Approximate`]).
    pub method: Method,
}

impl Neighbours {
    /// Number of query rows.
    pub fn n_rows(&self) -> usize {
        self.indices.len().checked_div(self.k).unwrap_or(0)
    }
    /// Neighbour indices of row `i`.
    pub fn row(&self, i: usize) -> &[u32] {
        &self.indices[i * self.k..(i + 1) * self.k]
    }
    /// Squared distances of row `i`.
    pub fn dist2_row(&self, i: usize) -> &[f64] {
        &self.dist2[i * self.k..(i + 1) * self.k]
    }
    /// Mean fraction of `exact`'s neighbours found in these lists (row by row), the recall.
    /// Both must have the same rows and `k`.
    pub fn recall(&self, exact: &Neighbours) -> f64 {
        let n = self.n_rows();
        assert_eq!(n, exact.n_rows(), "recall: different numbers of rows");
        assert_eq!(self.k, exact.k, "recall: different k");
        if n == 0 || self.k == 0 {
            return 1.0;
        }
        let hits: usize = (0..n)
            .map(|i| {
                let mut a = self.row(i).to_vec();
                a.sort_unstable();
                exact
                    .row(i)
                    .iter()
                    .filter(|j| a.binary_search(j).is_ok())
                    .count()
            })
            .sum();
        hits as f64 / (n * self.k) as f64
    }
}

/// Contiguous rows of an f32 matrix.
pub(crate) struct Rows<'a> {
    pub data: &'a [f32],
    pub n: usize,
    pub dim: usize,
}

impl Rows<'_> {
    #[inline]
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }
}

const LANES: usize = 16;

/// `Σ aᵢbᵢ` in f32 with a fixed summation order.
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    let mut s: f32 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    for v in acc {
        s += v;
    }
    s
}

/// `Σ (aᵢ − bᵢ)²` in f32 with a fixed summation order (bitwise symmetric in `a`, `b`).
#[inline]
pub(crate) fn dist2_f32(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; LANES];
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..LANES {
            let d = x[l] - y[l];
            acc[l] += d * d;
        }
    }
    let mut s: f32 = ra
        .iter()
        .zip(rb)
        .map(|(x, y)| {
            let d = x - y;
            d * d
        })
        .sum();
    for v in acc {
        s += v;
    }
    s
}

/// `Σ (aᵢ − bᵢ)²` in f64.
pub(crate) fn dist2_f64(a: ArrayView1<f32>, b: ArrayView1<f32>) -> f64 {
    a.iter()
        .zip(b.iter())
        .map(|(&x, &y)| {
            let t = x as f64 - y as f64;
            t * t
        })
        .sum()
}

fn check_input(x: ArrayView2<f32>, what: &'static str) -> Result<(), NeighbourError> {
    if x.nrows() > u32::MAX as usize - 1 {
        return Err(NeighbourError::TooManyPoints {
            found: x.nrows(),
            max: u32::MAX as usize - 1,
        });
    }
    if let Some(((row, col), v)) = x.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(NeighbourError::NonFinite {
            what,
            row,
            col,
            value: *v,
        });
    }
    Ok(())
}

/// Sorted lists with f64 distances from approximate keys.
fn finish(x: ArrayView2<f32>, q: ArrayView2<f32>, l: descent::Lists) -> Neighbours {
    use rayon::prelude::*;
    let k = l.k;
    let mut indices = vec![0u32; l.keys.len()];
    let mut dist2 = vec![0f64; l.keys.len()];
    indices
        .par_chunks_mut(k)
        .zip(dist2.par_chunks_mut(k))
        .enumerate()
        .for_each(|(i, (ix, ds))| {
            let mut row: Vec<(f64, u32)> = l.keys[i * k..(i + 1) * k]
                .iter()
                .map(|&kk| {
                    let j = descent::key_index(kk);
                    (dist2_f64(q.row(i), x.row(j as usize)), j)
                })
                .collect();
            row.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            for (t, (d, j)) in row.into_iter().enumerate() {
                ix[t] = j;
                ds[t] = d;
            }
        });
    Neighbours {
        k,
        indices,
        dist2,
        method: Method::Approximate,
    }
}

/// The `k` nearest other rows of every row of `x` (`[N, D]`).
///
/// Errors: invalid parameters, `k ≥ N`, a non-finite value (naming row and column).
pub fn knn_graph(
    x: ArrayView2<f32>,
    k: usize,
    params: &NeighbourParams,
) -> Result<Neighbours, NeighbourError> {
    params.check()?;
    let n = x.nrows();
    if k >= n.max(1) {
        return Err(NeighbourError::TooFewPoints {
            k,
            available: n.saturating_sub(1),
        });
    }
    check_input(x, "reference set")?;
    let method = params.resolve(n);
    if method == Method::Exact || k == 0 {
        let (indices, dist2) = exact::search(x, None, k);
        return Ok(Neighbours {
            k,
            indices,
            dist2,
            method: Method::Exact,
        });
    }
    let xs = x.as_standard_layout();
    let rows = Rows {
        data: xs.as_slice().expect("standard layout"),
        n,
        dim: x.ncols(),
    };
    let trees = forest::forest(
        &rows,
        params.trees_for(n),
        params.leaf_size_for(k),
        params.seed,
    );
    let lists = descent::from_leaves(&rows, &trees, k, params.seed);
    drop(trees);
    let lists = descent::refine(
        &rows,
        lists,
        params.max_candidates,
        params.max_iter,
        params.delta,
        params.seed,
    );
    Ok(finish(x, x, lists))
}

/// The `k` nearest rows of `reference` (`[N, D]`) for every row of `queries` (`[Q, D]`).
/// The method is chosen by the reference set's size.
///
/// Errors: invalid parameters, `k > N`, different widths, a non-finite value.
pub fn query(
    reference: ArrayView2<f32>,
    queries: ArrayView2<f32>,
    k: usize,
    params: &NeighbourParams,
) -> Result<Neighbours, NeighbourError> {
    params.check()?;
    let n = reference.nrows();
    if k > n {
        return Err(NeighbourError::TooFewPoints { k, available: n });
    }
    if reference.ncols() != queries.ncols() {
        return Err(NeighbourError::Width {
            reference: reference.ncols(),
            queries: queries.ncols(),
        });
    }
    check_input(reference, "reference set")?;
    check_input(queries, "query set")?;
    let method = params.resolve(n);
    if method == Method::Exact || k == 0 || k >= n {
        let (indices, dist2) = exact::search(reference, Some(queries), k);
        return Ok(Neighbours {
            k,
            indices,
            dist2,
            method: Method::Exact,
        });
    }
    // The reference graph guides the queries; a wider graph than k (at least 40 lists per
    // row) lets queries from a shifted distribution walk out of a poor starting leaf.
    let kg = k.max(40).min(n - 1).max(1);
    let graph = knn_graph(
        reference,
        kg,
        &NeighbourParams {
            method: Method::Approximate,
            ..params.clone()
        },
    )?;
    let xs = reference.as_standard_layout();
    let qs = queries.as_standard_layout();
    let rows = Rows {
        data: xs.as_slice().expect("standard layout"),
        n,
        dim: reference.ncols(),
    };
    let qrows = Rows {
        data: qs.as_slice().expect("standard layout"),
        n: queries.nrows(),
        dim: queries.ncols(),
    };
    let trees = forest::forest(
        &rows,
        params.trees_for(n),
        params.leaf_size_for(k),
        params.seed,
    );
    // Search with a wider list than k (like HNSW's `ef`), then keep the k nearest found.
    let ef = (2 * k).max(40).min(n);
    let wide = descent::query(
        &rows,
        &graph.indices,
        kg,
        &qrows,
        &trees,
        ef,
        params.max_iter.max(1) * 4,
        params.seed,
    );
    let keys: Vec<u64> = wide
        .keys
        .chunks(ef)
        .flat_map(|r| r[..k].iter().copied())
        .collect();
    let lists = descent::Lists {
        k,
        fresh: vec![false; keys.len()],
        keys,
    };
    Ok(finish(reference, queries, lists))
}
