//! Hyper-parameters of the cohesion measures.

use serde::{Deserialize, Serialize};

use crate::metrics::distance::Precision;
use crate::metrics::domain_classifier::ProxyAParams;
use crate::metrics::{MetricsError, MetricsResult};

/// How the quadratic measures (silhouettes, RBF MMD², kNN transfer accuracy, domain kNN purity, SND)
/// are computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum CohesionMode {
    /// Exact up to [`ScaleParams::threshold`] points, scalable above (default).
    #[default]
    Auto,
    /// Always exact (all pairs).
    Exact,
    /// Always by repeated anchor samples with an interval.
    Scalable,
}

impl CohesionMode {
    /// Parses `auto`, `exact` or `scalable`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "auto" => Some(Self::Auto),
            "exact" => Some(Self::Exact),
            "scalable" => Some(Self::Scalable),
            _ => None,
        }
    }
}

/// When and how the quadratic measures switch to the scalable mode: `repeats` seeded samples of
/// `anchors` anchors each (stratified), every anchor's value computed exactly against all points; the
/// estimate is the mean of the repeats, with a Student-t interval at `level` (see `sampling`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScaleParams {
    /// Exact, scalable, or chosen by size. Default [`CohesionMode::Auto`].
    pub mode: CohesionMode,
    /// In auto mode, a measure over more than this many points is scalable. Default 20,000.
    pub threshold: usize,
    /// Anchors per repeated sample. Default 400.
    pub anchors: usize,
    /// Repeated samples. Default 10.
    pub repeats: usize,
    /// Confidence level of the interval, in (0, 1). Default 0.99: a nominal 95 % interval leaves the
    /// exact value outside in one seed of twenty, a 99 % one (1.44× as wide at 10 repeats) in one of a
    /// hundred.
    #[serde(default = "default_level")]
    pub level: f64,
}

fn default_level() -> f64 {
    0.99
}

impl Default for ScaleParams {
    fn default() -> Self {
        Self {
            mode: CohesionMode::Auto,
            threshold: 20_000,
            anchors: 400,
            repeats: 10,
            level: default_level(),
        }
    }
}

impl ScaleParams {
    /// Whether a measure over `n` points runs in the scalable mode.
    pub fn scalable(&self, n: usize) -> bool {
        match self.mode {
            CohesionMode::Auto => n > self.threshold,
            CohesionMode::Exact => false,
            CohesionMode::Scalable => true,
        }
    }

    /// Validates the parameters.
    pub fn check(&self) -> MetricsResult<&Self> {
        if self.threshold == 0 {
            return Err(MetricsError::Param {
                name: "cohesion threshold",
                expected: "at least 1 point".into(),
                found: "0".into(),
            });
        }
        if self.anchors < 2 || self.repeats < 2 {
            return Err(MetricsError::Param {
                name: "cohesion anchors/repeats",
                expected: "at least 2 anchors per sample and at least 2 samples".into(),
                found: format!("{}/{}", self.anchors, self.repeats),
            });
        }
        if !(self.level > 0.0 && self.level < 1.0) {
            return Err(MetricsError::Param {
                name: "cohesion level",
                expected: "a confidence level strictly between 0 and 1, e.g. 0.99".into(),
                found: self.level.to_string(),
            });
        }
        Ok(self)
    }
}

/// Hyper-parameters of [`cohesion`](super::cohesion) and the single measures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CohesionParams {
    /// Precision of the distance matrix products. Default [`Precision::F32`].
    pub precision: Precision,
    /// Neighbours voting in [`knn_transfer_accuracy`](super::knn_transfer_accuracy). Default 5.
    pub knn_k: usize,
    /// Neighbours in [`domain_knn_purity`](super::domain_knn_purity). Default 10.
    pub purity_k: usize,
    /// Largest pooled sample whose pairwise distances give the exact RBF bandwidth; above it a seeded
    /// subsample of this many points is used. Default 4000.
    pub mmd_median_max_points: usize,
    /// Seed of the bandwidth subsample. Default 0.
    pub seed: u64,
    /// Temperature of [`snd`](super::snd). Default 0.05.
    pub snd_temperature: f64,
    /// Proxy A-distance recipe.
    pub proxy_a: ProxyAParams,
    /// Exact or scalable quadratic measures.
    pub scale: ScaleParams,
    /// Bootstrap resamples of the exact measures' intervals (0: no intervals). Default 1000.
    pub n_resamples: usize,
    /// Confidence level of the exact measures' intervals, in (0, 1). Default 0.95, as the
    /// classification intervals.
    pub ci_level: f64,
}

impl Default for CohesionParams {
    fn default() -> Self {
        Self {
            precision: Precision::F32,
            knn_k: 5,
            purity_k: 10,
            mmd_median_max_points: 4000,
            seed: 0,
            snd_temperature: 0.05,
            proxy_a: ProxyAParams::default(),
            scale: ScaleParams::default(),
            n_resamples: 1000,
            ci_level: 0.95,
        }
    }
}

impl CohesionParams {
    /// Sets the precision.
    pub fn precision(mut self, p: Precision) -> Self {
        self.precision = p;
        self
    }
    /// Sets the kNN transfer `k`.
    pub fn knn_k(mut self, k: usize) -> Self {
        self.knn_k = k;
        self
    }
    /// Sets the purity `k`.
    pub fn purity_k(mut self, k: usize) -> Self {
        self.purity_k = k;
        self
    }
    /// Sets the seed (bandwidth subsample and proxy A-distance split).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self.proxy_a.seed = seed;
        self
    }
    /// Sets the scalable-mode parameters.
    pub fn scale(mut self, scale: ScaleParams) -> Self {
        self.scale = scale;
        self
    }
    /// Sets the bootstrap resamples of the exact measures' intervals (0 turns them off).
    pub fn n_resamples(mut self, n: usize) -> Self {
        self.n_resamples = n;
        self
    }
    /// Validates the parameters.
    pub fn check(&self) -> MetricsResult<&Self> {
        if !(self.ci_level > 0.0 && self.ci_level < 1.0) {
            return Err(MetricsError::Param {
                name: "ci_level",
                expected: "a confidence level in (0, 1)".into(),
                found: self.ci_level.to_string(),
            });
        }
        if self.knn_k == 0 || self.purity_k == 0 {
            return Err(MetricsError::Param {
                name: "knn_k/purity_k",
                expected: "at least 1 neighbour".into(),
                found: format!("{}/{}", self.knn_k, self.purity_k),
            });
        }
        if self.mmd_median_max_points < 2 {
            return Err(MetricsError::Param {
                name: "mmd_median_max_points",
                expected: "at least 2".into(),
                found: self.mmd_median_max_points.to_string(),
            });
        }
        if !(self.snd_temperature > 0.0 && self.snd_temperature.is_finite()) {
            return Err(MetricsError::Param {
                name: "snd_temperature",
                expected: "a finite positive number".into(),
                found: self.snd_temperature.to_string(),
            });
        }
        self.proxy_a.check()?;
        self.scale.check()?;
        Ok(self)
    }
}
