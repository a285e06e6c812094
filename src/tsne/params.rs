//! Hyper-parameters of the t-SNE stage and their validation.
use crate::neighbours::{Method, NeighbourParams};
use ndarray::Array2;

/// Errors raised by the t-SNE stage.
#[derive(Debug, thiserror::Error)]
pub enum TsneError {
    /// Too few rows to embed.
    #[error("t-SNE needs at least 5 points, found {found}")]
    TooFewPoints {
        /// Number of rows found.
        found: usize,
    },
    /// The input matrix has no columns.
    #[error("t-SNE input must have at least 1 column, found 0")]
    NoColumns,
    /// A non-finite value in an input matrix.
    #[error(
        "{what} row {row}, column {col} is not finite (found {value}); expected finite numbers"
    )]
    NonFinite {
        /// Which matrix (input data or initial layout).
        what: &'static str,
        /// Row index of the offending value.
        row: usize,
        /// Column index of the offending value.
        col: usize,
        /// The offending value.
        value: f32,
    },
    /// A hyper-parameter outside its valid range.
    #[error("invalid t-SNE parameter {name}: expected {expected}, found {found}")]
    InvalidParam {
        /// Parameter name.
        name: &'static str,
        /// What was expected.
        expected: &'static str,
        /// What was found.
        found: String,
    },
    /// Two matrices whose shapes should agree do not.
    #[error("{what}: expected shape {expected}, found {found}")]
    Shape {
        /// What was being checked.
        what: &'static str,
        /// Expected shape, in words.
        expected: String,
        /// Found shape, in words.
        found: String,
    },
    /// The neighbour search failed.
    #[error(transparent)]
    Neighbours(#[from] crate::neighbours::NeighbourError),
    /// The linfa-tsne engine failed.
    #[error("linfa-tsne failed: {0}")]
    Linfa(String),
}

/// Which implementation computes the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TsneEngine {
    /// This crate's implementation: exact kNN affinities, Barnes–Hut or FFT-accelerated
    /// interpolation for the repulsive forces; reproducible at any thread count.
    #[default]
    Native,
    /// `linfa-tsne` 0.8 (Barnes–Hut, one core). Inputs are reduced by PCA first (to
    /// `pca_dims`, 50 by default). Not reproducible: its neighbour tree uses an unseeded
    /// generator, so two runs with the same seed differ.
    Linfa,
}

/// Initial layout of the map.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Init {
    /// First two principal components of the (reduced) input, rescaled so that the first
    /// column has standard deviation 1e-4, plus a small seeded jitter.
    #[default]
    Pca,
    /// Seeded Gaussian points with standard deviation 1e-4.
    Random,
    /// A given `[N, 2]` layout, used as is (e.g. the previous epoch's map).
    Given(Array2<f32>),
}

/// Learning rate of the gradient descent.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum LearningRate {
    /// N / exaggeration in each phase (openTSNE's "auto").
    #[default]
    Auto,
    /// A fixed learning rate (gradient convention without the factor 4).
    Fixed(f64),
}

/// How the repulsive (negative) forces are approximated by the native engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NegativeGradient {
    /// Barnes–Hut below 10,000 points, FFT-accelerated interpolation from 10,000 on.
    #[default]
    Auto,
    /// Barnes–Hut quadtree with opening angle `theta`.
    BarnesHut,
    /// FFT-accelerated interpolation on an equispaced grid (FIt-SNE).
    Fft,
}

/// Number of points from which [`NegativeGradient::Auto`] switches to the FFT method.
pub const FFT_THRESHOLD: usize = 10_000;

/// Checked t-SNE hyper-parameters (builder style; call [`TsneParams::check`] or let
/// [`crate::tsne::fit`] do it).
#[derive(Debug, Clone, PartialEq)]
pub struct TsneParams {
    /// Target perplexity (effective number of neighbours); default 30. Reduced to (N−1)/3
    /// with a notice when the data set is too small.
    pub perplexity: f64,
    /// Iterations after early exaggeration; default 500.
    pub n_iter: usize,
    /// Early-exaggeration iterations; default 250.
    pub early_exaggeration_iter: usize,
    /// Exaggeration factor of the early phase; default 12.
    pub early_exaggeration: f64,
    /// Exaggeration of the main phase; default 1.
    pub exaggeration: f64,
    /// Learning rate; default [`LearningRate::Auto`].
    pub learning_rate: LearningRate,
    /// Barnes–Hut opening angle; default 0.5.
    pub theta: f64,
    /// Initial layout; default [`Init::Pca`].
    pub init: Init,
    /// Seed of every random choice; default 0.
    pub seed: u64,
    /// Engine; default [`TsneEngine::Native`].
    pub engine: TsneEngine,
    /// Reduce inputs with more columns than this by PCA first; default `Some(50)`.
    pub pca_dims: Option<usize>,
    /// Repulsive-force method of the native engine; default [`NegativeGradient::Auto`].
    pub negative_gradient: NegativeGradient,
    /// Interpolation points per grid interval of the FFT method; default 3.
    pub n_interpolation_points: usize,
    /// Minimum number of grid intervals per axis of the FFT method; default 50.
    pub min_num_intervals: usize,
    /// Width of a grid interval, in map units, of the FFT method; default 1.
    pub ints_in_interval: f64,
    /// How the perplexity neighbours are found; default [`Method::Auto`] (exact below
    /// `neighbour_threshold` points, approximate from it on).
    pub neighbours: Method,
    /// Points from which [`Method::Auto`] finds neighbours approximately; default
    /// [`crate::neighbours::APPROX_THRESHOLD`].
    pub neighbour_threshold: usize,
}

impl Default for TsneParams {
    fn default() -> Self {
        Self {
            perplexity: 30.0,
            n_iter: 500,
            early_exaggeration_iter: 250,
            early_exaggeration: 12.0,
            exaggeration: 1.0,
            learning_rate: LearningRate::Auto,
            theta: 0.5,
            init: Init::Pca,
            seed: 0,
            engine: TsneEngine::Native,
            pca_dims: Some(50),
            negative_gradient: NegativeGradient::Auto,
            n_interpolation_points: 3,
            min_num_intervals: 50,
            ints_in_interval: 1.0,
            neighbours: Method::Auto,
            neighbour_threshold: crate::neighbours::APPROX_THRESHOLD,
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

impl TsneParams {
    /// Default parameters (same as [`Default::default`]).
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the perplexity.
    pub fn perplexity(mut self, v: f64) -> Self {
        self.perplexity = v;
        self
    }
    /// Sets the number of main-phase iterations.
    pub fn n_iter(mut self, v: usize) -> Self {
        self.n_iter = v;
        self
    }
    /// Sets the number of early-exaggeration iterations.
    pub fn early_exaggeration_iter(mut self, v: usize) -> Self {
        self.early_exaggeration_iter = v;
        self
    }
    /// Sets the early-exaggeration factor.
    pub fn early_exaggeration(mut self, v: f64) -> Self {
        self.early_exaggeration = v;
        self
    }
    /// Sets the main-phase exaggeration.
    pub fn exaggeration(mut self, v: f64) -> Self {
        self.exaggeration = v;
        self
    }
    /// Sets the learning rate.
    pub fn learning_rate(mut self, v: LearningRate) -> Self {
        self.learning_rate = v;
        self
    }
    /// Sets the Barnes–Hut opening angle.
    pub fn theta(mut self, v: f64) -> Self {
        self.theta = v;
        self
    }
    /// Sets the initial layout.
    pub fn init(mut self, v: Init) -> Self {
        self.init = v;
        self
    }
    /// Sets the seed.
    pub fn seed(mut self, v: u64) -> Self {
        self.seed = v;
        self
    }
    /// Sets the engine.
    pub fn engine(mut self, v: TsneEngine) -> Self {
        self.engine = v;
        self
    }
    /// Sets the PCA pre-reduction (None: use the input as is).
    pub fn pca_dims(mut self, v: Option<usize>) -> Self {
        self.pca_dims = v;
        self
    }
    /// Sets the repulsive-force method of the native engine.
    pub fn negative_gradient(mut self, v: NegativeGradient) -> Self {
        self.negative_gradient = v;
        self
    }

    /// Sets how the perplexity neighbours are found.
    pub fn neighbours(mut self, v: Method) -> Self {
        self.neighbours = v;
        self
    }
    /// Sets the size from which [`Method::Auto`] finds neighbours approximately.
    pub fn neighbour_threshold(mut self, v: usize) -> Self {
        self.neighbour_threshold = v;
        self
    }
    /// The neighbour-search parameters these settings imply (seeded with `seed`).
    pub fn neighbour_params(&self) -> NeighbourParams {
        NeighbourParams {
            method: self.neighbours,
            threshold: self.neighbour_threshold,
            seed: self.seed,
            ..NeighbourParams::default()
        }
    }

    /// Validates every field; returns the first problem found.
    pub fn check(&self) -> Result<&Self, TsneError> {
        if !(self.perplexity.is_finite() && self.perplexity > 0.0) {
            return Err(bad("perplexity", "a finite number > 0", self.perplexity));
        }
        if !(self.early_exaggeration.is_finite() && self.early_exaggeration > 0.0) {
            return Err(bad(
                "early_exaggeration",
                "a finite number > 0",
                self.early_exaggeration,
            ));
        }
        if !(self.exaggeration.is_finite() && self.exaggeration > 0.0) {
            return Err(bad(
                "exaggeration",
                "a finite number > 0",
                self.exaggeration,
            ));
        }
        if let LearningRate::Fixed(lr) = self.learning_rate {
            if !(lr.is_finite() && lr > 0.0) {
                return Err(bad("learning_rate", "a finite number > 0", lr));
            }
        }
        if !(self.theta.is_finite() && self.theta >= 0.0) {
            return Err(bad("theta", "a finite number >= 0", self.theta));
        }
        if let Some(d) = self.pca_dims {
            if d < 2 {
                return Err(bad("pca_dims", "None or at least 2", d));
            }
        }
        if !(1..=8).contains(&self.n_interpolation_points) {
            return Err(bad(
                "n_interpolation_points",
                "between 1 and 8",
                self.n_interpolation_points,
            ));
        }
        if !(1..=2000).contains(&self.min_num_intervals) {
            return Err(bad(
                "min_num_intervals",
                "between 1 and 2000",
                self.min_num_intervals,
            ));
        }
        if !(self.ints_in_interval.is_finite() && self.ints_in_interval > 0.0) {
            return Err(bad(
                "ints_in_interval",
                "a finite number > 0",
                self.ints_in_interval,
            ));
        }
        if self.neighbour_threshold < 1 {
            return Err(bad(
                "neighbour_threshold",
                "at least 1",
                self.neighbour_threshold,
            ));
        }
        if let Init::Given(y) = &self.init {
            if y.ncols() != 2 {
                return Err(TsneError::Shape {
                    what: "initial layout",
                    expected: "2 columns".into(),
                    found: format!("{} columns", y.ncols()),
                });
            }
            if let Some(((row, col), v)) = y.indexed_iter().find(|(_, v)| !v.is_finite()) {
                return Err(TsneError::NonFinite {
                    what: "initial layout",
                    row,
                    col,
                    value: *v,
                });
            }
        }
        Ok(self)
    }
}
