//! What every measure takes: one domain's arrays, checked, and the shared conversions.

use ndarray::{ArrayView1, ArrayView2};

use super::error::{MetricsError, MetricsResult};

/// One domain's arrays, borrowed.
#[derive(Debug, Clone, Copy)]
pub struct DomainData<'a> {
    /// Embedding `[N, D]`.
    pub embedding: ArrayView2<'a, f32>,
    /// Logits `[N, C]`, if the model has a classification head.
    pub logits: Option<ArrayView2<'a, f32>>,
    /// Class labels `[N]` (index into the logit order).
    pub labels: ArrayView1<'a, i64>,
}

impl<'a> DomainData<'a> {
    /// Bundles borrowed arrays; call [`DomainData::validate`] to check them.
    pub fn new(
        embedding: ArrayView2<'a, f32>,
        logits: Option<ArrayView2<'a, f32>>,
        labels: ArrayView1<'a, i64>,
    ) -> Self {
        Self {
            embedding,
            logits,
            labels,
        }
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.embedding.nrows()
    }

    /// Whether the domain holds no points.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Checks shapes (rows agree), finiteness of embedding and logits, and that labels are non-negative.
    /// `name` prefixes error messages (e.g. "source").
    pub fn validate(&self, name: &str) -> MetricsResult<()> {
        let n = self.embedding.nrows();
        if self.labels.len() != n {
            return Err(MetricsError::Shape {
                what: format!("{name} labels"),
                expected: format!("{n} labels (one per embedding row)"),
                found: format!("{}", self.labels.len()),
            });
        }
        check_finite(self.embedding, &format!("{name} embedding"))?;
        if let Some(l) = self.logits {
            if l.nrows() != n {
                return Err(MetricsError::Shape {
                    what: format!("{name} logits"),
                    expected: format!("{n} rows (one per embedding row)"),
                    found: format!("{} rows", l.nrows()),
                });
            }
            check_finite(l, &format!("{name} logits"))?;
        }
        if let Some((row, &label)) = self.labels.iter().enumerate().find(|(_, &v)| v < 0) {
            return Err(MetricsError::Shape {
                what: format!("{name} labels"),
                expected: "non-negative class labels".into(),
                found: format!("{label} at row {row}"),
            });
        }
        Ok(())
    }
}

/// Returns an error naming the first row/column holding a NaN or infinity.
pub fn check_finite(a: ArrayView2<f32>, what: &str) -> MetricsResult<()> {
    for (row, r) in a.outer_iter().enumerate() {
        if let Some((col, &value)) = r.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(MetricsError::NonFinite {
                what: what.to_string(),
                row,
                col,
                value,
            });
        }
    }
    Ok(())
}

/// Row-wise softmax in `f64` (max-subtracted, so large logits do not overflow).
pub fn softmax_f64(logits: ArrayView2<f32>) -> ndarray::Array2<f64> {
    let mut out = ndarray::Array2::<f64>::zeros(logits.raw_dim());
    for (src, mut dst) in logits.outer_iter().zip(out.outer_iter_mut()) {
        let m = src
            .iter()
            .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
        let mut z = 0.0;
        for (d, &s) in dst.iter_mut().zip(src.iter()) {
            *d = (f64::from(s) - m).exp();
            z += *d;
        }
        dst.mapv_inplace(|v| v / z);
    }
    out
}
