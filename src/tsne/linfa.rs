//! The `linfa-tsne` 0.8 engine, kept as a cross-check of the native one.
//!
//! Guarded: inputs are PCA-reduced (by the caller) before reaching it, because on raw
//! high-dimensional inputs its perplexity search can produce an all-NaN map. It runs on
//! one core and is not reproducible (its neighbour tree draws from an unseeded generator).
use super::params::TsneError;
use linfa::traits::Transformer;
use linfa_tsne::TSneParams;
use ndarray::Array2;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Runs linfa-tsne on `x` (already reduced) and returns the `[N, 2]` map.
pub fn run_linfa(
    x: &Array2<f64>,
    perplexity: f64,
    theta: f64,
    early_iter: usize,
    n_iter: usize,
    seed: u64,
) -> Result<Array2<f64>, TsneError> {
    let rng = ChaCha8Rng::seed_from_u64(seed);
    let total = (early_iter + n_iter).max(1);
    let y = TSneParams::embedding_size_with_rng(2, rng)
        .perplexity(perplexity)
        .approx_threshold(theta)
        .max_iter(total)
        .preliminary_iter(early_iter.min(total))
        .transform(x.as_standard_layout().to_owned())
        .map_err(|e| TsneError::Linfa(e.to_string()))?;
    if let Some(((row, col), v)) = y.indexed_iter().find(|(_, v)| !v.is_finite()) {
        return Err(TsneError::Linfa(format!(
            "non-finite map value {v} at row {row}, column {col}"
        )));
    }
    Ok(y)
}
