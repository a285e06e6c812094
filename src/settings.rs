//! Typed settings: what a command works on, resolved once (flags over `dannscope.toml` over defaults)
//! before any model is loaded or any file is written.
//!
//! Every value here is already checked: a [`SplitSel`] is one of the four splits, a
//! [`Pair`](crate::dataset::Pair) has two distinct non-empty sides, [`MapSettings`] and
//! [`MetricSettings`] can only be built from parameters that passed their stage's check (the way
//! linfa turns `Params` into `ValidParams`), and seeds are named for what they seed. The seeds are
//! held once, in [`Settings::seeds`]: the map and metric settings hold no seed of their own and hand
//! out their stage's parameters with the [`Seeds`] the reader passes in.

use std::path::PathBuf;

use crate::engine::EngineOptions;
use crate::error::Result;
use crate::metrics::{ClassificationParams, CohesionParams, MetricsError};
use crate::model::{ModelInfo, OutputOverrides};
use crate::project::ProjectOptions;
use crate::split::SplitSel;
use crate::tsne::{TsneError, TsneParams};

/// How images become model input beyond what the model's metadata says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InputPipeline {
    /// Decode large JPEGs at a reduced DCT scale (faster, not the training pipeline's exact input).
    pub fast_decode: bool,
}

/// A model file with the output-name overrides and the input pipeline to use it with.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ModelSpec {
    /// The ONNX file.
    pub path: PathBuf,
    /// Output names, when the model does not use the contract's.
    pub outputs: OutputOverrides,
    /// Input pipeline.
    pub input: InputPipeline,
}

impl ModelSpec {
    /// Load and check the model (the contract), with the input pipeline applied.
    pub fn load(&self) -> Result<ModelInfo> {
        let mut m = ModelInfo::load(&self.path, &self.outputs)?;
        m.preprocess.set_fast_decode(self.input.fast_decode);
        Ok(m)
    }
}

/// The notice for a model whose `dannscope.*` metadata leaves out preprocessing or class names: which
/// of the model contract's defaults it is run with (`None` when it names them all). Training with
/// other values moves every number, so the user is told once.
pub fn contract_defaults_notice(m: &ModelInfo) -> Option<String> {
    let has = |k: &str| m.metadata.contains_key(&format!("dannscope.{k}"));
    let p = &m.preprocess;
    let mut used = Vec::new();
    let fixed_size = m.input.shape.as_ref().is_some_and(|d| {
        d.len() == 4
            && matches!(d[2], crate::model::Dim::Fixed(_))
            && matches!(d[3], crate::model::Dim::Fixed(_))
    });
    if !has("input_size") && !fixed_size {
        used.push(format!("input size {}", p.input_size));
    }
    if !has("crop_pct") {
        used.push(format!("crop {}", p.crop_pct));
    }
    if !has("interpolation") {
        used.push("bilinear resize".to_string());
    }
    match (has("mean"), has("std")) {
        (false, false) => used.push("ImageNet mean/std".to_string()),
        (false, true) => used.push("ImageNet mean".to_string()),
        (true, false) => used.push("ImageNet std".to_string()),
        (true, true) => {}
    }
    if m.classes.is_none() && m.outputs.logits.is_some() {
        used.push("class names = the data's class folders in sorted order".to_string());
    }
    if used.is_empty() {
        return None;
    }
    let what = if m.metadata.keys().any(|k| k.starts_with("dannscope.")) {
        "leaves out some dannscope.* metadata"
    } else {
        "has no dannscope.* metadata"
    };
    Some(format!(
        "{} {what}: using the model contract's defaults ({}); if it was trained otherwise, every number will be off",
        m.path.display(),
        used.join(", ")
    ))
}

/// Seeds, named for what they seed; each defaults to 0 (the default of `--seed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Seeds {
    /// Order of images in a newly made split manifest.
    pub split: u64,
    /// t-SNE initial layout jitter and map subsampling.
    pub map: u64,
    /// Bootstrap resampling, the proxy A-distance split and metric subsamples.
    pub metrics: u64,
}

/// Checked settings of a joint map (the seed comes from [`Seeds::map`]).
#[derive(Debug, Clone, PartialEq)]
pub struct MapSettings {
    params: TsneParams,
    max_points: Option<usize>,
    place_target: bool,
}

impl MapSettings {
    /// Check the parameters; `max_points` (a stratified, seeded subsample) must keep at least 5 points.
    /// The seed of `params` is not kept: [`MapSettings::params`] seeds them with [`Seeds::map`].
    pub fn new(params: TsneParams, max_points: Option<usize>) -> Result<MapSettings, TsneError> {
        params.check()?;
        if let Some(m) = max_points {
            if m < 5 {
                return Err(TsneError::InvalidParam {
                    name: "max_points",
                    expected: "at least 5",
                    found: m.to_string(),
                });
            }
        }
        Ok(MapSettings {
            params,
            max_points,
            place_target: false,
        })
    }

    /// The t-SNE parameters, seeded with `seeds.map`.
    pub fn params(&self, seeds: &Seeds) -> TsneParams {
        self.params.clone().seed(seeds.map)
    }

    /// The point cap.
    pub fn max_points(&self) -> Option<usize> {
        self.max_points
    }

    /// Whether `tsne` also draws the placed view (target placed on a source-only map).
    pub fn place_target(&self) -> bool {
        self.place_target
    }

    /// The same settings with the placed view switched on or off.
    pub fn with_place_target(mut self, on: bool) -> MapSettings {
        self.place_target = on;
        self
    }

    /// The same settings started from a given layout (the evolution view starts each epoch from the
    /// previous one); the layout's shape is checked by the fit.
    pub fn with_init(&self, init: crate::tsne::Init) -> MapSettings {
        let mut s = self.clone();
        s.params.init = init;
        s
    }
}

impl Default for MapSettings {
    fn default() -> Self {
        MapSettings {
            params: TsneParams::new(),
            max_points: None,
            place_target: false,
        }
    }
}

/// Checked settings of the metrics stage (the seed comes from [`Seeds::metrics`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricSettings {
    classification: ClassificationParams,
    cohesion: CohesionParams,
    neighbours: Neighbours,
}

/// Neighbour counts of the diagnosis measures, each at least 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbours {
    /// Source neighbours of each target image in the per-class transfer (`--transfer-k`).
    pub transfer: usize,
    /// Neighbours per image in the kNN Jaccard overlap of two embedding spaces (`--jaccard-k`).
    pub jaccard: usize,
    /// Source neighbours shown per wrong target image in the galleries (`--gallery-k`).
    pub gallery: usize,
}

impl Default for Neighbours {
    fn default() -> Self {
        Self {
            transfer: 10,
            jaccard: 10,
            gallery: 5,
        }
    }
}

impl MetricSettings {
    /// Check both parameter sets. Their seeds are not kept: the accessors seed them with [`Seeds::metrics`].
    pub fn new(
        classification: ClassificationParams,
        cohesion: CohesionParams,
    ) -> Result<MetricSettings, MetricsError> {
        classification.check()?;
        cohesion.check()?;
        Ok(MetricSettings {
            classification,
            cohesion,
            neighbours: Neighbours::default(),
        })
    }

    /// Sets the neighbour counts of the diagnosis measures; each must be at least 1.
    pub fn with_neighbours(mut self, n: Neighbours) -> Result<MetricSettings, MetricsError> {
        for (name, v) in [
            ("transfer_k", n.transfer),
            ("jaccard_k", n.jaccard),
            ("gallery_k", n.gallery),
        ] {
            if v == 0 {
                return Err(MetricsError::Param {
                    name,
                    expected: "at least 1 neighbour".into(),
                    found: "0".into(),
                });
            }
        }
        self.neighbours = n;
        Ok(self)
    }

    /// Neighbour counts of the diagnosis measures.
    pub fn neighbours(&self) -> Neighbours {
        self.neighbours
    }

    /// Classification (bootstrap) parameters, seeded with `seeds.metrics`.
    pub fn classification(&self, seeds: &Seeds) -> ClassificationParams {
        self.classification.clone().seed(seeds.metrics)
    }

    /// Cohesion parameters, seeded with `seeds.metrics`.
    pub fn cohesion(&self, seeds: &Seeds) -> CohesionParams {
        self.cohesion.clone().seed(seeds.metrics)
    }

    /// Precision of the distance matrix products (of every measure that computes distances).
    pub fn precision(&self) -> crate::metrics::Precision {
        self.cohesion.precision
    }
}

/// Everything a pipeline job needs, resolved once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Data root, manifest, output root, classes, domain codes.
    pub project: ProjectOptions,
    /// The split worked on.
    pub split: SplitSel,
    /// Inference engine options.
    pub engine: EngineOptions,
    /// Input pipeline.
    pub input: InputPipeline,
    /// Output-name overrides of the models.
    pub outputs: OutputOverrides,
    /// Joint maps.
    pub map: MapSettings,
    /// Metrics.
    pub metrics: MetricSettings,
    /// The seeds: the one copy every reader takes (project, maps, metrics, explore pages).
    pub seeds: Seeds,
    /// The shard `embed` computes (`--shard I/N`, or `auto` resolved from the scheduler's environment
    /// before any work); `None`: every row.
    pub shard: Option<crate::shard::Shard>,
}

impl Settings {
    /// The model spec of a file under these settings.
    pub fn model(&self, path: impl Into<PathBuf>) -> ModelSpec {
        ModelSpec {
            path: path.into(),
            outputs: self.outputs.clone(),
            input: self.input,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_parameters_refuse_bad_values() {
        assert!(MapSettings::new(TsneParams::new().perplexity(-1.0), None).is_err());
        assert!(MapSettings::new(TsneParams::new(), Some(3)).is_err());
        assert!(MapSettings::new(TsneParams::new(), Some(5)).is_ok());
        let c = ClassificationParams {
            level: 1.5,
            ..Default::default()
        };
        assert!(MetricSettings::new(c, CohesionParams::default()).is_err());
        let ok = MetricSettings::new(ClassificationParams::default(), CohesionParams::default())
            .unwrap();
        assert_eq!(ok.neighbours(), Neighbours::default());
        for bad in [
            Neighbours {
                transfer: 0,
                ..Neighbours::default()
            },
            Neighbours {
                jaccard: 0,
                ..Neighbours::default()
            },
            Neighbours {
                gallery: 0,
                ..Neighbours::default()
            },
        ] {
            let e = ok.clone().with_neighbours(bad).unwrap_err();
            assert!(e.to_string().contains("_k"), "{e}");
        }
    }
}
