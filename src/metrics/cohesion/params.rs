//! Hyper-parameters of the cohesion measures.

use serde::Serialize;

use crate::metrics::distance::Precision;
use crate::metrics::domain_classifier::ProxyAParams;
use crate::metrics::{MetricsError, MetricsResult};

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
    /// Validates the parameters.
    pub fn check(&self) -> MetricsResult<&Self> {
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
        Ok(self)
    }
}
