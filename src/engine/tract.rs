//! Pure-Rust engine (tract), compiled for a concrete batch size. Partial batches are zero-padded.

use tract_onnx::prelude::*;

use super::interface::{check_2d, inference_error, BatchOutput, Engine, EngineInfo, EngineOptions};
use crate::error::{Error, Result};
use crate::model::ModelInfo;

type Plan = Arc<TypedRunnableModel>;

/// tract engine.
pub struct TractEngine {
    plan: Plan,
    info: EngineInfo,
    model: std::path::PathBuf,
    batch: usize,
    size: usize,
    has_logits: bool,
    has_domain: bool,
    names: Vec<String>,
}

impl TractEngine {
    /// Load and optimise `model` for batches of `opts.batch_size`.
    pub fn open(
        model: &ModelInfo,
        opts: &EngineOptions,
        notes: Vec<String>,
    ) -> Result<TractEngine> {
        let batch = opts.batch_size.max(1);
        let size = model.preprocess.input_size as usize;
        let fail = |what: &str, e: TractError| {
            Error::Invalid(format!(
                "{}: tract could not {what}: {e:#}",
                model.path.display()
            ))
        };
        let mut names = vec![model.outputs.embedding.clone()];
        if let Some(l) = &model.outputs.logits {
            names.push(l.clone());
        }
        if let Some(d) = &model.outputs.domain_logits {
            names.push(d.clone());
        }
        let mut m = tract_onnx::onnx()
            .with_ignore_output_shapes(true)
            .with_ignore_value_info(true)
            .model_for_path(&model.path)
            .map_err(|e| fail("read the model", e))?;
        m = m
            .with_input_fact(0, f32::fact([batch, 3, size, size]).into())
            .map_err(|e| fail("set the input shape", e))?;
        m.select_output_outlets(
            &names
                .iter()
                .map(|n| {
                    m.find_outlet_label(n)
                        .ok_or_else(|| TractError::msg(format!("no output {n}")))
                })
                .collect::<TractResult<Vec<_>>>()
                .map_err(|e| fail("find the outputs", e))?,
        )
        .map_err(|e| fail("select the outputs", e))?;
        let plan = m
            .into_optimized()
            .map_err(|e| fail("optimise the model", e))?
            .into_runnable()
            .map_err(|e| fail("prepare the model", e))?;
        Ok(TractEngine {
            plan,
            model: model.path.clone(),
            info: EngineInfo {
                engine: "tract".into(),
                provider: "CPU".into(),
                threads: 1,
                library: Some(format!("tract-onnx {}", tract_version())),
                notes,
                self_check: None,
            },
            batch,
            size,
            has_logits: model.outputs.logits.is_some(),
            has_domain: model.outputs.domain_logits.is_some(),
            names,
        })
    }
}

fn tract_version() -> &'static str {
    "0.23"
}

impl Engine for TractEngine {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    fn info_mut(&mut self) -> &mut EngineInfo {
        &mut self.info
    }

    fn run(&mut self, input: &[f32], n: usize) -> Result<BatchOutput> {
        let per = 3 * self.size * self.size;
        let mut emb = Vec::new();
        let mut logits = Vec::new();
        let mut dom = Vec::new();
        let (mut dim, mut classes) = (0, 0);
        let fail = |message: String| inference_error(&self.info, &self.model, n, message);
        if input.len() != n * per {
            return Err(fail(format!(
                "the input batch has {} values, expected {n} × 3 × {s} × {s} = {}",
                input.len(),
                n * per,
                s = self.size
            )));
        }
        for start in (0..n).step_by(self.batch) {
            let m = (n - start).min(self.batch);
            let mut buf = vec![0f32; self.batch * per];
            buf[..m * per].copy_from_slice(&input[start * per..(start + m) * per]);
            let t = Tensor::from_shape(&[self.batch, 3, self.size, self.size], &buf)
                .map_err(|e| fail(format!("cannot build the input tensor: {e}")))?;
            let out = self
                .plan
                .run(tvec!(t.into()))
                .map_err(|e| fail(format!("inference failed: {e:#}")))?;
            let take = |i: usize| -> Result<(Vec<i64>, Vec<f32>)> {
                let v = out[i].to_plain_array_view::<f32>().map_err(|e| {
                    fail(format!("output \"{}\" is not float32: {e}", self.names[i]))
                })?;
                let shape: Vec<i64> = v.shape().iter().map(|&d| d as i64).collect();
                Ok((shape, v.iter().copied().collect()))
            };
            let (es, e) = take(0)?;
            dim = check_2d(&es, self.batch, &self.names[0]).map_err(fail)?;
            emb.extend_from_slice(&e[..m * dim]);
            let mut k = 1;
            if self.has_logits {
                let (ls, l) = take(k)?;
                classes = check_2d(&ls, self.batch, &self.names[k]).map_err(fail)?;
                logits.extend_from_slice(&l[..m * classes]);
                k += 1;
            }
            if self.has_domain {
                let (_, d) = take(k)?;
                if d.len() == self.batch {
                    dom.extend_from_slice(&d[..m]);
                }
            }
        }
        Ok(BatchOutput {
            embedding: emb,
            dim,
            logits: self.has_logits.then_some((logits, classes)),
            domain_logits: (self.has_domain && dom.len() == n).then_some(dom),
        })
    }
}
