//! The model's self-check: a deterministic input whose outputs the exporter computed with PyTorch and
//! stored in the ONNX metadata (`dannscope.selfcheck`), run again on the engine and device in use
//! when the model is opened.
//!
//! It catches what no test here can see: a wrong export, a broken engine build, or a CUDA kernel (or
//! TF32 matmuls) that drift at the user's site. The input is exact in float32 on every side:
//! `x[n][c][y][x] = (((7n + 13c + 3y + 5x) mod 17) − 8) / 4` for a batch of 2 at the model's input
//! size. For each output the metadata holds the first (up to 8) values of each row and each row's L2
//! norm; the check is, per row, `max(|Δ head|∞, |Δ norm|) / max(norm, 1)`, and the model passes when
//! that stays at or below the tolerance ([`DEFAULT_TOLERANCE`], 1 %: far above float rounding and TF32
//! drift, far below what a wrong export gives).

use std::collections::BTreeMap;

use serde::Deserialize;

pub use super::interface::{SelfCheckResult, DEFAULT_TOLERANCE};
use super::{BatchOutput, Engine, EngineError};
use crate::model::ModelInfo;

/// The metadata key that holds the self-check.
pub const METADATA_KEY: &str = "dannscope.selfcheck";

/// Batch size of the self-check input.
pub const BATCH: usize = 2;

/// What the exporter stored: expected values per output.
#[derive(Debug, Clone, Deserialize)]
pub struct SelfCheck {
    /// Format version (1).
    pub version: u32,
    /// Rows of the input (2).
    pub batch: usize,
    /// Input height = width.
    pub size: u32,
    /// Expected values, by output name.
    pub outputs: BTreeMap<String, Expected>,
}

/// The expected values of one output.
#[derive(Debug, Clone, Deserialize)]
pub struct Expected {
    /// Output shape `[batch, width]` (rows flattened).
    pub shape: Vec<usize>,
    /// The first (up to 8) values of each row.
    pub head: Vec<Vec<f64>>,
    /// Each row's L2 norm.
    pub norm: Vec<f64>,
}

impl SelfCheck {
    /// The self-check stored in `model`'s metadata, if any; a malformed one is an error.
    pub fn from_model(model: &ModelInfo) -> Result<Option<SelfCheck>, EngineError> {
        let Some(raw) = model.metadata.get(METADATA_KEY) else {
            return Ok(None);
        };
        let bad = |reason: String| EngineError::SelfCheckMalformed {
            model: model.path.clone(),
            reason,
        };
        let check: SelfCheck = serde_json::from_str(raw).map_err(|e| bad(e.to_string()))?;
        if check.version != 1 {
            return Err(bad(format!("version {}, expected 1", check.version)));
        }
        if check.batch != BATCH || check.size != model.preprocess.input_size {
            return Err(bad(format!(
                "input {}×3×{}², expected {BATCH}×3×{}² (dannscope.input_size)",
                check.batch, check.size, model.preprocess.input_size
            )));
        }
        for (name, e) in &check.outputs {
            let rows_ok = e.head.len() == BATCH && e.norm.len() == BATCH;
            if !rows_ok || e.shape.first() != Some(&BATCH) {
                return Err(bad(format!(
                    "output {name}: expected {BATCH} rows of values and norms"
                )));
            }
        }
        Ok(Some(check))
    }

    /// The input tensor, `[2, 3, size, size]` float32.
    pub fn input(&self) -> Vec<f32> {
        input(self.size as usize)
    }

    /// Runs the check on `engine` and compares each output the engine reads with its expected values.
    pub fn verify(
        &self,
        engine: &mut dyn Engine,
        model: &ModelInfo,
        tolerance: f64,
    ) -> Result<SelfCheckResult, crate::Error> {
        let out = engine.run(&self.input(), BATCH)?;
        let info = engine.info();
        let mut compared = Vec::new();
        let mut worst = 0f64;
        for (name, rows, width) in got_outputs(&out, model) {
            let Some(expected) = self.outputs.get(name) else {
                continue;
            };
            let diff = relative_diff(expected, rows, width).ok_or_else(|| {
                EngineError::SelfCheckMismatch {
                    model: model.path.clone(),
                    engine: info.engine.clone(),
                    device: info.provider.clone(),
                    output: name.to_string(),
                    detail: format!(
                        "{width} values per row, the exporter recorded {}",
                        expected.shape.get(1).copied().unwrap_or(0)
                    ),
                }
            })?;
            if diff > tolerance {
                return Err(EngineError::SelfCheckMismatch {
                    model: model.path.clone(),
                    engine: info.engine.clone(),
                    device: info.provider.clone(),
                    output: name.to_string(),
                    detail: format!(
                        "relative difference {diff:.3e} > tolerance {tolerance:.0e} against the \
                         exporter's PyTorch values"
                    ),
                }
                .into());
            }
            worst = worst.max(diff);
            compared.push(name.to_string());
        }
        Ok(SelfCheckResult {
            outputs: compared,
            max_relative_diff: worst,
            tolerance,
        })
    }
}

/// `x[n][c][y][x] = (((7n + 13c + 3y + 5x) mod 17) − 8) / 4`, exact in float32.
pub fn input(size: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(BATCH * 3 * size * size);
    for n in 0..BATCH {
        for c in 0..3 {
            for y in 0..size {
                for x in 0..size {
                    let k = (7 * n + 13 * c + 3 * y + 5 * x) % 17;
                    v.push((k as f32 - 8.0) / 4.0);
                }
            }
        }
    }
    v
}

/// The outputs the engine returned, by the model's output names: (name, values, row width).
fn got_outputs<'a>(out: &'a BatchOutput, model: &'a ModelInfo) -> Vec<(&'a str, &'a [f32], usize)> {
    let mut v = vec![(
        model.outputs.embedding.as_str(),
        &out.embedding[..],
        out.dim,
    )];
    if let (Some(name), Some((l, c))) = (&model.outputs.logits, &out.logits) {
        v.push((name.as_str(), &l[..], *c));
    }
    if let (Some(name), Some(d)) = (&model.outputs.domain_logits, &out.domain_logits) {
        v.push((name.as_str(), &d[..], 1));
    }
    v
}

/// Per row `max(|Δ head|∞, |Δ norm|) / max(norm, 1)`, the largest over rows; `None` when the width
/// differs from the recorded shape.
fn relative_diff(expected: &Expected, rows: &[f32], width: usize) -> Option<f64> {
    if expected.shape.get(1).copied() != Some(width) || rows.len() != BATCH * width {
        return None;
    }
    let mut worst = 0f64;
    for (r, row) in rows.chunks_exact(width).enumerate() {
        // NaN or infinity counts as the worst possible difference (`f64::max` would drop a NaN).
        if row.iter().any(|v| !v.is_finite()) {
            return Some(f64::INFINITY);
        }
        let norm = row
            .iter()
            .map(|&v| (v as f64) * (v as f64))
            .sum::<f64>()
            .sqrt();
        let mut d = (norm - expected.norm[r]).abs();
        for (g, e) in row.iter().zip(&expected.head[r]) {
            d = d.max((*g as f64 - e).abs());
        }
        worst = worst.max(d / expected.norm[r].max(1.0));
    }
    Some(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_formula_is_exact_and_periodic() {
        let x = input(4);
        assert_eq!(x.len(), 2 * 3 * 16);
        assert_eq!(x[0], -2.0); // k = 0
        assert_eq!(x[1], (5.0 - 8.0) / 4.0); // x = 1
        assert_eq!(x[4], (3.0 - 8.0) / 4.0); // y = 1
        assert_eq!(x[16], (13.0 - 8.0) / 4.0); // c = 1
        assert_eq!(x[48], (7.0 - 8.0) / 4.0); // n = 1
        assert!(x.iter().all(|v| (-2.0..=2.0).contains(v)));
    }

    #[test]
    fn relative_diff_uses_head_and_norm() {
        let e = Expected {
            shape: vec![2, 2],
            head: vec![vec![3.0, 4.0], vec![0.0, 0.5]],
            norm: vec![5.0, 0.5],
        };
        assert_eq!(relative_diff(&e, &[3.0, 4.0, 0.0, 0.5], 2), Some(0.0));
        // Row 0 off by 0.05 in one value: the norm moves too; relative to norm 5.
        let d = relative_diff(&e, &[3.05, 4.0, 0.0, 0.5], 2).unwrap();
        assert!((d - 0.05 / 5.0).abs() < 1e-6, "{d}");
        // Small rows are measured against 1, not their tiny norm.
        let d = relative_diff(&e, &[3.0, 4.0, 0.0, 0.51], 2).unwrap();
        assert!((d - 0.01).abs() < 1e-6, "{d}");
        assert_eq!(relative_diff(&e, &[1.0; 6], 3), None);
        assert_eq!(
            relative_diff(&e, &[f32::NAN, 4.0, 0.0, 0.5], 2),
            Some(f64::INFINITY)
        );
    }
}
