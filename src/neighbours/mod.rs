//! k-nearest-neighbour search (squared euclidean distance): the graph of one set, and the
//! neighbours of one set's rows among another's. Used by the t-SNE affinities and by metrics
//! that look at neighbourhoods.
//!
//! Below [`APPROX_THRESHOLD`] reference rows ([`Method::Auto`]) the search is exact (blocked
//! brute force, O(N·M·D) time); from it on, approximate: a forest of random-projection trees
//! gives each row its first candidates, and NN-descent rounds refine them (the recipe of
//! pynndescent, which openTSNE also offers). Queries of another set start from the leaves
//! they fall into and walk the reference set's own neighbour graph with a list twice as wide
//! as `k` (like HNSW's `ef`), keeping the `k` nearest found.
//!
//! Measured choice (70,000 × 50 PCA of `scripts/make_tsne_data.py` data, k = 90, 2 cores,
//! `cargo bench --bench neighbours`, quiet machine): the exact search takes 14.9 s; forest +
//! NN-descent (pynndescent's local join) with the defaults (21 trees, rounds of 20 candidates,
//! at most 5 rounds, stop below 0.1 % changes) takes 16.7 s at recall 0.998; 3 rounds give
//! 15.0 s at recall 0.993, 8 trees with 30 candidates 17.1 s at 0.999. Most pairs a converged
//! round proposes are already listed; such offers are skipped without a lock, and a pair listed
//! at both ends is not measured. At 70k the two searches cost the same, and
//! the exact one grows as N² while the approximate one grows as about N·log N, so the
//! threshold sits at 100,000 points; below it maps are unchanged, byte for byte. A per-row
//! "pull" variant of NN-descent (each row measuring its neighbours' neighbours itself) measured
//! twice the distances and 4–8× the time; HNSW was not measured.
//!
//! Both searches are deterministic: the same inputs, parameters and seed give the same lists
//! at any rayon thread count. Lists are sorted by distance then index; the distances returned
//! are recomputed in f64. For cosine neighbourhoods, normalise the rows first (on unit vectors
//! the squared distance is `2 − 2·cos`).
mod descent;
mod error;
mod exact;
mod forest;
mod rows;

use ndarray::{ArrayView2, Axis};

use crate::phase_log::Phase;
use exact::Queries;
use rows::Rows;

pub use error::NeighbourError;
pub use exact::NO_NEIGHBOUR;
pub use rows::dist2_f64;

/// Reference-set size from which [`Method::Auto`] searches approximately.
pub const APPROX_THRESHOLD: usize = 100_000;

/// Most graph-walk expansions of one query (each stops earlier once its list stops changing).
const QUERY_MAX_EXPANSIONS: usize = 64;

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
    /// Candidates sampled per row and NN-descent round; default 20.
    pub max_candidates: usize,
    /// Most NN-descent rounds; default 5.
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
            max_candidates: 20,
            max_iter: 5,
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

/// For every row of `x`, its `k` nearest other rows among the rows `refs` of `x` (ascending), by
/// the exact search keeping `margin` more f32 candidates than `k` for the f64 ranking. Returns
/// row-major `[N, k]` indices into `x` and squared distances, ending in [`NO_NEIGHBOUR`] / `NaN`
/// where a row has fewer than `k` others among `refs`. `k` must not exceed `refs.len()`.
pub(crate) fn exact_among(
    x: ArrayView2<f32>,
    refs: &[usize],
    k: usize,
    margin: usize,
) -> (Vec<u32>, Vec<f64>) {
    let r = x.select(Axis(0), refs);
    let (mut idx, dist2) = exact::search(r.view(), Queries::Containing(x.view(), refs), k, margin);
    for j in idx.iter_mut().filter(|j| **j != NO_NEIGHBOUR) {
        *j = refs[*j as usize] as u32;
    }
    (idx, dist2)
}

/// A permutation of the rows of `x` that keeps nearby rows together: the leaf order of one
/// seeded random-projection tree. Loops that visit rows in this order touch the same
/// neighbours one row after another, so those stay in cache.
pub fn locality_order(x: ArrayView2<f32>, seed: u64) -> Vec<u32> {
    let xs = x.as_standard_layout();
    let rows = Rows {
        data: xs.as_slice().expect("standard layout"),
        n: x.nrows(),
        dim: x.ncols(),
    };
    forest::Tree::build(&rows, 64, forest::mix(seed, 0x10ca1)).order
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
        let (indices, dist2) = exact::search(x, Queries::Itself, k, 0);
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
    let ph = Phase::start("knn: forest");
    let trees = forest::forest(
        &rows,
        params.trees_for(n),
        params.leaf_size_for(k),
        params.seed,
    );
    drop(ph);
    let ph = Phase::start("knn: leaf candidates");
    let lists = descent::from_leaves(&rows, &trees, k, params.seed);
    drop(trees);
    drop(ph);
    let lists = descent::refine(
        &rows,
        lists,
        params.max_candidates,
        params.max_iter,
        params.delta,
        params.seed,
    );
    let _ph = Phase::start("knn: f64 ranking");
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
        let (indices, dist2) = exact::search(reference, Queries::Other(queries), k, 0);
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
            // A walk is only as good as its graph: refine it further than a plain graph.
            max_iter: params.max_iter.max(8),
            delta: params.delta.min(0.001),
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
        (&graph.indices, kg),
        &qrows,
        &trees,
        ef,
        QUERY_MAX_EXPANSIONS,
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
        order: Vec::new(),
    };
    Ok(finish(reference, queries, lists))
}
