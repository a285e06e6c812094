//! Project configuration: an optional `dannscope.toml` in the working directory.
//!
//! Every key is also a command-line flag; flags win. Relative paths are relative to the file's folder.
//!
//! ```toml
//! data = "data/OfficeHome"          # --data
//! manifest = "splits.csv"           # --manifest
//! out = "outputs"                   # --out
//! classes = ["Bed", "Drill"]        # --classes
//! model = "models/mobilenetv3.onnx" # --model (default model)
//! split = "valid"                   # --split
//! seed = 0                          # --seed: default of the three seeds below
//! split_seed = 0                    # --split-seed: order of a newly made split
//! map_seed = 0                      # --map-seed: t-SNE layout and subsampling
//! metrics_seed = 0                  # --metrics-seed: bootstrap and metric subsamples
//! engine = "auto"                   # --engine: auto, ort, tract
//! device = "auto"                   # --device: auto, cuda, cpu
//! batch_size = 16                   # --batch-size
//! threads = 0                       # --threads (0 = one per core)
//! embedding_output = "feat"         # --embedding-output
//! logits_output = "scores"          # --logits-output
//! fast_decode = false               # --fast-decode
//! no_self_check = false             # --no-self-check
//! perplexity = 30.0                 # --perplexity
//! iterations = 500                  # --iterations
//! max_points = 20000                # --max-points
//! neighbours = "auto"               # --neighbours: auto, exact, approximate (t-SNE kNN)
//! place_target = false              # --place-target: also the target placed on a source-only map
//! bootstrap = 1000                  # --bootstrap
//! transfer_k = 10                   # --transfer-k: source neighbours in the per-class transfer
//! jaccard_k = 10                    # --jaccard-k: neighbours in the kNN overlap of two models
//! gallery_k = 5                     # --gallery-k: source neighbours per wrong image in galleries
//! cohesion_mode = "auto"            # --cohesion-mode: auto, exact, scalable
//! cohesion_threshold = 20000        # --cohesion-threshold: auto goes scalable above this many points
//! cohesion_anchors = 400            # --cohesion-anchors: anchors per repeated sample
//! cohesion_repeats = 10             # --cohesion-repeats: repeated samples (interval)
//! cohesion_level = 0.99             # --cohesion-level: confidence level of the interval
//!
//! [domain_codes]                    # --domain-code "Real World=R" (also read as [domain_code])
//! "Real World" = "R"
//!
//! [[run]]                           # runs for `dannscope report`
//! model = "models/mobilenetv3_R-P.onnx"
//! pair = "R-P"
//! name = "MobileNetV3"
//! group = "forward"                 # e.g. forward, reversed, baseline
//! curves = "logs/mnv3_R-P.csv"      # optional training log
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};

/// Default config file name.
pub const FILE_NAME: &str = "dannscope.toml";

/// One run of a batch report.
#[derive(Debug, Clone, Deserialize, PartialEq, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// Model file.
    pub model: PathBuf,
    /// Source-target pair, e.g. `R-P`.
    pub pair: String,
    /// Display name (rows of the tables), default the model's arch.
    pub name: Option<String>,
    /// Group, e.g. `forward`, `reversed`, `baseline`.
    pub group: Option<String>,
    /// Training-curves CSV.
    pub curves: Option<PathBuf>,
    /// Per-epoch checkpoints (files or one folder) for the evolution figure.
    #[serde(default)]
    pub checkpoints: Vec<PathBuf>,
    /// Display name of the source-only baseline run (same pair) this run is compared with in the
    /// report; without it, the one run of group `baseline` on the same pair, if there is exactly one.
    #[serde(default)]
    pub baseline: Option<String>,
}

/// The contents of `dannscope.toml`.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Data root.
    pub data: Option<PathBuf>,
    /// Split manifest.
    pub manifest: Option<PathBuf>,
    /// Output root.
    pub out: Option<PathBuf>,
    /// Class subset.
    pub classes: Option<Vec<String>>,
    /// Default model.
    pub model: Option<PathBuf>,
    /// Default split.
    pub split: Option<crate::split::SplitSel>,
    /// Default of the three seeds.
    pub seed: Option<u64>,
    /// Seed of a newly made split.
    pub split_seed: Option<u64>,
    /// Seed of the t-SNE maps.
    pub map_seed: Option<u64>,
    /// Seed of the bootstrap and metric subsamples.
    pub metrics_seed: Option<u64>,
    /// Inference engine.
    pub engine: Option<crate::engine::EngineKind>,
    /// Inference device.
    pub device: Option<crate::engine::Device>,
    /// Images per inference batch.
    pub batch_size: Option<u32>,
    /// Engine threads (0 = one per core).
    pub threads: Option<usize>,
    /// Name of the embedding output.
    pub embedding_output: Option<String>,
    /// Name of the logits output.
    pub logits_output: Option<String>,
    /// Reduced-DCT JPEG decoding.
    pub fast_decode: Option<bool>,
    /// Skip the model's self-check.
    pub no_self_check: Option<bool>,
    /// t-SNE perplexity.
    pub perplexity: Option<f64>,
    /// t-SNE iterations after early exaggeration.
    pub iterations: Option<usize>,
    /// Cap on the points of a map.
    pub max_points: Option<usize>,
    /// How the t-SNE neighbours are found: auto, exact or approximate.
    pub neighbours: Option<String>,
    /// Also draw the target placed on a source-only map.
    pub place_target: Option<bool>,
    /// Bootstrap resamples.
    pub bootstrap: Option<usize>,
    /// Source neighbours in the per-class transfer.
    pub transfer_k: Option<usize>,
    /// Neighbours in the kNN Jaccard overlap of two models.
    pub jaccard_k: Option<usize>,
    /// Source neighbours per wrong image in the galleries.
    pub gallery_k: Option<usize>,
    /// Exact or scalable quadratic cohesion measures.
    pub cohesion_mode: Option<crate::metrics::CohesionMode>,
    /// Points above which `auto` goes scalable.
    pub cohesion_threshold: Option<usize>,
    /// Anchors per repeated sample of the scalable mode.
    pub cohesion_anchors: Option<usize>,
    /// Repeated samples of the scalable mode.
    pub cohesion_repeats: Option<usize>,
    /// Confidence level of the scalable mode's intervals.
    pub cohesion_level: Option<f64>,
    /// Domain code overrides (`[domain_codes]`; `[domain_code]`, the flag's name, is read too).
    #[serde(default, alias = "domain_code")]
    pub domain_codes: BTreeMap<String, String>,
    /// Report runs.
    #[serde(default, rename = "run")]
    pub runs: Vec<RunConfig>,
    /// Report title.
    pub title: Option<String>,
    /// The file this configuration was read from (`None`: no file, every setting from the defaults).
    #[serde(skip)]
    pub path: Option<PathBuf>,
}

impl Config {
    /// Read a config file; relative paths become relative to its folder.
    pub fn read(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let mut c: Config = toml::from_str(&text)
            .map_err(|e| Error::Invalid(format!("{}: {e}", path.display())))?;
        c.path = Some(path.to_path_buf());
        let base = path.parent().unwrap_or(Path::new("."));
        let fix = |p: &mut PathBuf| {
            if p.is_relative() && !base.as_os_str().is_empty() {
                // `out = "."` is the file's folder, not `<folder>/.`.
                *p = base
                    .join(&*p)
                    .components()
                    .filter(|c| *c != std::path::Component::CurDir)
                    .collect();
            }
        };
        for p in [&mut c.data, &mut c.manifest, &mut c.out, &mut c.model]
            .into_iter()
            .flatten()
        {
            fix(p);
        }
        for r in &mut c.runs {
            fix(&mut r.model);
            if let Some(p) = &mut r.curves {
                fix(p);
            }
            for p in &mut r.checkpoints {
                fix(p);
            }
        }
        Ok(c)
    }

    /// The `[[run]]` whose model is `model` (paths compared as [`Config::read`] rebased them).
    pub fn run_of(&self, model: &Path) -> Option<&RunConfig> {
        self.runs.iter().find(|r| r.model == model)
    }

    /// The source-only baseline of `run`: the run on the same pair named by its `baseline` key, else
    /// the one run of group `baseline` on that pair (as the report pairs them). `None` when there is
    /// none or the choice is ambiguous.
    pub fn baseline_of(&self, run: &RunConfig) -> Option<&RunConfig> {
        let same_pair = |r: &&RunConfig| r.pair == run.pair && r.model != run.model;
        match &run.baseline {
            Some(want) => self
                .runs
                .iter()
                .filter(same_pair)
                .find(|r| r.name.as_deref() == Some(want.as_str())),
            None => {
                let found: Vec<&RunConfig> = self
                    .runs
                    .iter()
                    .filter(same_pair)
                    .filter(|r| {
                        r.group
                            .as_deref()
                            .is_some_and(|g| g.trim().eq_ignore_ascii_case("baseline"))
                    })
                    .collect();
                (found.len() == 1).then(|| found[0])
            }
        }
    }

    /// Read `path` if given (it must exist), else `./dannscope.toml` if present, else the empty config.
    pub fn discover(path: Option<&Path>) -> Result<Config> {
        match path {
            Some(p) => Config::read(p),
            None => {
                let p = Path::new(FILE_NAME);
                if p.is_file() {
                    Config::read(p)
                } else {
                    Ok(Config::default())
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_rebases() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("dannscope.toml");
        std::fs::write(
            &p,
            "data = \"data\"\nclasses = [\"Bed\"]\n[domain_codes]\n\"Real World\" = \"W\"\n\
             [[run]]\nmodel = \"m.onnx\"\npair = \"R-P\"\n",
        )
        .unwrap();
        let c = Config::read(&p).unwrap();
        assert_eq!(c.data.unwrap(), d.path().join("data"));
        assert_eq!(c.runs[0].model, d.path().join("m.onnx"));
        assert_eq!(c.domain_codes["Real World"], "W");
        std::fs::write(&p, "dataa = 1\n").unwrap();
        let e = Config::read(&p).unwrap_err().to_string();
        assert!(e.contains("dannscope.toml") && e.contains("dataa"), "{e}");
    }

    #[test]
    fn finds_the_run_of_a_model_and_its_baseline() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("dannscope.toml");
        let run = |model: &str, pair: &str, name: &str, group: &str, baseline: Option<&str>| {
            format!(
                "[[run]]\nmodel = \"{model}\"\npair = \"{pair}\"\nname = \"{name}\"\ngroup = \"{group}\"\n{}",
                baseline.map(|b| format!("baseline = \"{b}\"\n")).unwrap_or_default()
            )
        };
        let text = [
            "model = \"a.onnx\"\n".to_string(),
            run("a.onnx", "R-P", "dann", "forward", Some("so")),
            run("b.onnx", "R-P", "other", "Baseline", None),
            run("c.onnx", "R-P", "so", "baseline", None),
            run("d.onnx", "P-C", "dann", "forward", None),
            run("e.onnx", "P-C", "so", " baseline ", None),
            run("f.onnx", "C-A", "dann", "forward", None),
            run("g.onnx", "C-A", "x", "baseline", None),
            run("h.onnx", "C-A", "y", "baseline", None),
        ]
        .concat();
        std::fs::write(&p, text).unwrap();
        let c = Config::read(&p).unwrap();
        let of = |m: &str| c.run_of(&d.path().join(m)).unwrap();
        let model = c.model.clone().unwrap();
        assert_eq!(c.run_of(&model).unwrap().pair, "R-P");
        assert!(c.run_of(&d.path().join("z.onnx")).is_none());
        // Named baseline wins over the group; the group alone works when it is the only one.
        assert_eq!(
            c.baseline_of(of("a.onnx")).unwrap().model,
            d.path().join("c.onnx")
        );
        assert_eq!(
            c.baseline_of(of("d.onnx")).unwrap().model,
            d.path().join("e.onnx")
        );
        // Two baselines on the pair and none named: no choice.
        assert!(c.baseline_of(of("f.onnx")).is_none());
        // A run is never its own baseline.
        assert!(c.baseline_of(of("e.onnx")).is_none());
    }
}
