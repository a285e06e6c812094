//! Typed settings: what a command works on, resolved once (flags over `dannscope.toml` over defaults)
//! before any model is loaded or any file is written.
//!
//! Every value here is already checked: a [`SplitSel`] is one of the four splits, a [`Pair`] has two
//! distinct non-empty sides, [`MapSettings`] and [`MetricSettings`] can only be built from parameters
//! that passed their stage's check (the way linfa turns `Params` into `ValidParams`), and seeds are
//! named for what they seed.

use std::path::PathBuf;
use std::str::FromStr;

use crate::dataset::Domain;
use crate::engine::EngineOptions;
use crate::error::Result;
use crate::metrics::{ClassificationParams, CohesionParams, MetricsError};
use crate::model::{ModelInfo, OutputOverrides};
use crate::project::ProjectOptions;
use crate::split::Split;
use crate::tsne::{TsneError, TsneParams};

/// The split a command works on: one of the manifest's splits, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitSel {
    /// Training images.
    Train,
    /// Validation images (the default).
    #[default]
    Valid,
    /// Test images.
    Test,
    /// Every image of the manifest.
    All,
}

impl SplitSel {
    /// The name used in paths and records.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitSel::Train => "train",
            SplitSel::Valid => "valid",
            SplitSel::Test => "test",
            SplitSel::All => "all",
        }
    }

    /// The manifest split, `None` for all.
    pub fn manifest_split(self) -> Option<Split> {
        match self {
            SplitSel::Train => Some(Split::Train),
            SplitSel::Valid => Some(Split::Valid),
            SplitSel::Test => Some(Split::Test),
            SplitSel::All => None,
        }
    }
}

impl std::fmt::Display for SplitSel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown split name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("split {0:?}: expected train, valid, test or all")]
pub struct SplitError(pub String);

impl<'de> serde::Deserialize<'de> for SplitSel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for SplitSel {
    type Err = SplitError;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(SplitSel::All),
            other => match Split::parse(other) {
                Some(Split::Train) => Ok(SplitSel::Train),
                Some(Split::Valid) => Ok(SplitSel::Valid),
                Some(Split::Test) => Ok(SplitSel::Test),
                None => Err(SplitError(s.to_string())),
            },
        }
    }
}

/// A source→target pair as written by the user (`R-P`, `R→P`, `Real World-Product`): two distinct
/// domain keys (codes or names), resolved against the dataset's domains by [`Pair::resolve`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pair {
    /// Source domain code or name.
    pub source: String,
    /// Target domain code or name.
    pub target: String,
}

/// A pair that is not `SOURCE-TARGET`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pair {given:?}: {reason}; expected SOURCE-TARGET, e.g. R-P")]
pub struct PairError {
    /// What was given.
    pub given: String,
    /// What is wrong.
    pub reason: &'static str,
}

impl FromStr for Pair {
    type Err = PairError;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        let err = |reason| PairError {
            given: s.to_string(),
            reason,
        };
        let parts: Vec<&str> = s
            .split(['-', '>', '→'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() != 2 {
            return Err(err("it does not have exactly two sides"));
        }
        if parts[0].eq_ignore_ascii_case(parts[1]) {
            return Err(err("source and target are the same"));
        }
        Ok(Pair {
            source: parts[0].to_string(),
            target: parts[1].to_string(),
        })
    }
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.source, self.target)
    }
}

impl Pair {
    /// Indices of the source and target among `domains` (by code, then name).
    pub fn resolve(&self, domains: &[Domain]) -> Result<(usize, usize)> {
        crate::dataset::parse_pair(domains, &format!("{}-{}", self.source, self.target))
    }

    /// The pair a model names in its metadata (`dannscope.source` / `dannscope.target`).
    pub fn of_model(m: &ModelInfo) -> Option<Pair> {
        Some(Pair {
            source: m.source.clone()?,
            target: m.target.clone()?,
        })
    }
}

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

/// Seeds, named for what they seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Seeds {
    /// Order of images in a newly made split manifest.
    pub split: u64,
    /// t-SNE initial layout jitter and map subsampling.
    pub map: u64,
    /// Bootstrap resampling, the proxy A-distance split and metric subsamples.
    pub metrics: u64,
}

/// Checked settings of a joint map.
#[derive(Debug, Clone, PartialEq)]
pub struct MapSettings {
    params: TsneParams,
    max_points: Option<usize>,
}

impl MapSettings {
    /// Check the parameters; `max_points` (a stratified, seeded subsample) must keep at least 5 points.
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
        Ok(MapSettings { params, max_points })
    }

    /// The t-SNE parameters.
    pub fn params(&self) -> &TsneParams {
        &self.params
    }

    /// The point cap.
    pub fn max_points(&self) -> Option<usize> {
        self.max_points
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
        }
    }
}

/// Checked settings of the metrics stage.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MetricSettings {
    classification: ClassificationParams,
    cohesion: CohesionParams,
}

impl MetricSettings {
    /// Check both parameter sets.
    pub fn new(
        classification: ClassificationParams,
        cohesion: CohesionParams,
    ) -> Result<MetricSettings, MetricsError> {
        classification.check()?;
        cohesion.check()?;
        Ok(MetricSettings {
            classification,
            cohesion,
        })
    }

    /// Classification (bootstrap) parameters.
    pub fn classification(&self) -> &ClassificationParams {
        &self.classification
    }

    /// Cohesion parameters.
    pub fn cohesion(&self) -> &CohesionParams {
        &self.cohesion
    }
}

/// Everything a pipeline job needs, resolved once.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Data root, manifest, output root, classes, domain codes, split seed.
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
    /// The seeds (also applied inside `project`, `map` and `metrics`).
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
    fn splits_parse_strictly() {
        assert_eq!("valid".parse::<SplitSel>().unwrap(), SplitSel::Valid);
        assert_eq!("VAL".parse::<SplitSel>().unwrap(), SplitSel::Valid);
        assert_eq!("all".parse::<SplitSel>().unwrap(), SplitSel::All);
        let e = "vaild".parse::<SplitSel>().unwrap_err().to_string();
        assert!(
            e.contains("vaild") && e.contains("train, valid, test or all"),
            "{e}"
        );
    }

    #[test]
    fn pairs_parse_and_reject_bad_shapes() {
        let p: Pair = "R-P".parse().unwrap();
        assert_eq!((p.source.as_str(), p.target.as_str()), ("R", "P"));
        let p: Pair = "Real World→Product".parse().unwrap();
        assert_eq!(p.source, "Real World");
        for bad in ["R", "R-P-C", "R-R", "-", ""] {
            assert!(bad.parse::<Pair>().is_err(), "{bad}");
        }
    }

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
    }
}
