//! The demo bundle: the committed demo models, their training curves and split, written next to a
//! freshly generated demo dataset, with the report runs that use them.

use std::path::{Path, PathBuf};

use super::{generate, DemoParams};
use crate::config::RunConfig;
use crate::error::Result;

/// One file of `models/demo/`, compiled in.
macro_rules! demo_file {
    ($name:literal) => {
        ($name, include_bytes!(concat!("../../models/demo/", $name)))
    };
}

/// Files of `models/demo/`, compiled in so that `dannscope demo` works from any folder: per pair the
/// DANN model and its source-only baseline with their training curves, the split, and the R→P and
/// P→C checkpoints of every second epoch.
const FILES: &[(&str, &[u8])] = &[
    demo_file!("demo_cnn_R-P.onnx"),
    demo_file!("demo_cnn_P-C.onnx"),
    demo_file!("demo_cnn_C-A.onnx"),
    demo_file!("demo_cnn_A-R.onnx"),
    demo_file!("demo_cnn_R-P.curves.csv"),
    demo_file!("demo_cnn_P-C.curves.csv"),
    demo_file!("demo_cnn_C-A.curves.csv"),
    demo_file!("demo_cnn_A-R.curves.csv"),
    demo_file!("demo_cnn_R-P.source_only.onnx"),
    demo_file!("demo_cnn_P-C.source_only.onnx"),
    demo_file!("demo_cnn_C-A.source_only.onnx"),
    demo_file!("demo_cnn_A-R.source_only.onnx"),
    demo_file!("demo_cnn_R-P.source_only.curves.csv"),
    demo_file!("demo_cnn_P-C.source_only.curves.csv"),
    demo_file!("demo_cnn_C-A.source_only.curves.csv"),
    demo_file!("demo_cnn_A-R.source_only.curves.csv"),
    demo_file!("demo_manifest.csv"),
    demo_file!("evolution/R-P/demo_cnn_R-P_ep02.onnx"),
    demo_file!("evolution/R-P/demo_cnn_R-P_ep04.onnx"),
    demo_file!("evolution/R-P/demo_cnn_R-P_ep06.onnx"),
    demo_file!("evolution/R-P/demo_cnn_R-P_ep08.onnx"),
    demo_file!("evolution/R-P/demo_cnn_R-P_ep10.onnx"),
    demo_file!("evolution/R-P/demo_cnn_R-P_ep12.onnx"),
    demo_file!("evolution/R-P/demo_cnn_R-P_ep14.onnx"),
    demo_file!("evolution/R-P/demo_cnn_R-P_ep16.onnx"),
    demo_file!("evolution/P-C/demo_cnn_P-C_ep02.onnx"),
    demo_file!("evolution/P-C/demo_cnn_P-C_ep04.onnx"),
    demo_file!("evolution/P-C/demo_cnn_P-C_ep06.onnx"),
    demo_file!("evolution/P-C/demo_cnn_P-C_ep08.onnx"),
    demo_file!("evolution/P-C/demo_cnn_P-C_ep10.onnx"),
    demo_file!("evolution/P-C/demo_cnn_P-C_ep12.onnx"),
    demo_file!("evolution/P-C/demo_cnn_P-C_ep14.onnx"),
    demo_file!("evolution/P-C/demo_cnn_P-C_ep16.onnx"),
];

/// The forward pairs of the demo, as trained.
pub const PAIRS: [&str; 4] = ["R-P", "P-C", "C-A", "A-R"];

/// The pairs whose DANN runs come with a checkpoint of every second epoch (`evolution/<pair>/`).
pub const EVOLUTION_PAIRS: [&str; 2] = ["R-P", "P-C"];

/// The pair the demo's project points at: `model` of the `dannscope.toml` it writes is this pair's
/// DANN model, so `eval`, `tsne`, `explore`, `select` (its checkpoints) and `compare` (against its
/// source-only baseline) run in the demo's folder without flags. One of [`EVOLUTION_PAIRS`].
pub const HEADLINE_PAIR: &str = "R-P";

/// Display name of the source-only baselines (same network and recipe, no gradient reversal).
pub const BASELINE_NAME: &str = "demo_cnn · source only";

/// Where the bundle was installed.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The folder the bundle was installed in.
    pub root: PathBuf,
    /// The demo dataset.
    pub data: PathBuf,
    /// The split of the demo data (train / valid / test); the models were trained on a separate
    /// draw of the generator, so none of these images was seen in training.
    pub manifest: PathBuf,
    /// The report runs: the DANN model of each pair (those of [`EVOLUTION_PAIRS`] also with their
    /// per-epoch checkpoints), then
    /// the source-only baseline of each pair (group `baseline`).
    pub runs: Vec<RunConfig>,
    /// Whether the dataset was generated now (false: an earlier one was reused).
    pub generated: bool,
}

impl Bundle {
    /// The DANN model of [`HEADLINE_PAIR`], the project's default `model`.
    pub fn headline_model(&self) -> &Path {
        &self
            .runs
            .iter()
            .find(|r| r.pair == HEADLINE_PAIR && r.baseline.is_some())
            .expect("the bundle has a DANN run of every pair")
            .model
    }
}

/// Write the demo models and split under `root/models`, generate the dataset under `root/data` unless it
/// is already there, and describe the report runs.
pub fn install(root: &Path) -> Result<Bundle> {
    let models = root.join("models");
    for (name, bytes) in FILES {
        let p = models.join(name);
        if std::fs::read(&p).ok().as_deref() != Some(*bytes) {
            crate::atomic::write_bytes(&p, bytes)?;
        }
    }
    let data = root.join("data");
    // A marker written after the last image: an interrupted generation is redone.
    let marker = data.join(".dannscope-demo-complete");
    let complete = marker.is_file();
    let generated = !complete;
    if !complete {
        generate(&data, &DemoParams::default().overwrite(true))?;
        crate::atomic::write_bytes(&marker, b"complete\n")?;
    }
    let dann = PAIRS.iter().map(|pair| RunConfig {
        model: models.join(format!("demo_cnn_{pair}.onnx")),
        pair: pair.to_string(),
        name: Some("demo_cnn".into()),
        group: Some("forward".into()),
        curves: Some(models.join(format!("demo_cnn_{pair}.curves.csv"))),
        checkpoints: if EVOLUTION_PAIRS.contains(pair) {
            vec![models.join("evolution").join(pair)]
        } else {
            vec![]
        },
        baseline: Some(BASELINE_NAME.into()),
    });
    let baselines = PAIRS.iter().map(|pair| RunConfig {
        model: models.join(format!("demo_cnn_{pair}.source_only.onnx")),
        pair: pair.to_string(),
        name: Some(BASELINE_NAME.into()),
        group: Some("baseline".into()),
        curves: Some(models.join(format!("demo_cnn_{pair}.source_only.curves.csv"))),
        checkpoints: vec![],
        baseline: None,
    });
    let runs = dann.chain(baselines).collect();
    Ok(Bundle {
        root: root.to_path_buf(),
        data,
        manifest: models.join("demo_manifest.csv"),
        runs,
        generated,
    })
}

/// `dannscope.toml` as the demo writes it: paths relative to the file's folder.
#[derive(serde::Serialize)]
struct DemoConfig<'a> {
    title: &'a str,
    data: PathBuf,
    manifest: PathBuf,
    out: PathBuf,
    split: String,
    model: PathBuf,
    run: Vec<RunConfig>,
}

impl Bundle {
    /// Write `<root>/dannscope.toml`: the demo's data, its manifest (the split the models were trained
    /// with), the output root, the default model (the DANN model of [`HEADLINE_PAIR`]) and every
    /// report run with its curves and checkpoints. `dannscope report
    /// --config <root>/dannscope.toml` redoes the report; any command given `--data <root>/data`
    /// finds the manifest through it (see [`crate::project::find_manifest`]). Returns the file.
    pub fn write_config(&self, title: &str, split: &str) -> Result<PathBuf> {
        let rel = |p: &Path| p.strip_prefix(&self.root).unwrap_or(p).to_path_buf();
        let cfg = DemoConfig {
            title,
            data: rel(&self.data),
            manifest: rel(&self.manifest),
            out: PathBuf::from("."),
            split: split.to_string(),
            model: rel(self.headline_model()),
            run: self
                .runs
                .iter()
                .map(|r| RunConfig {
                    model: rel(&r.model),
                    curves: r.curves.as_deref().map(rel),
                    checkpoints: r.checkpoints.iter().map(|c| rel(c)).collect(),
                    ..r.clone()
                })
                .collect(),
        };
        let text = toml::to_string(&cfg)
            .map_err(|e| crate::Error::Invalid(format!("demo configuration: {e}")))?;
        let path = self.root.join(crate::config::FILE_NAME);
        let text = format!(
            "# Written by `dannscope demo`: the demo's data, its split (the models were trained on\n\
             # a separate draw) and its report runs. `dannscope report --config {}` redoes the report;\n\
             # commands given `--data {}` use this manifest. In this folder `dannscope eval`, `tsne`, `explore`,\n\
             # `select`, `compare` and `report` need no flags: they use `model` ({HEADLINE_PAIR}'s DANN model),\n\
             # its checkpoints and its source-only baseline.\n{text}",
            path.display(),
            self.data.display()
        );
        if std::fs::read(&path).ok().as_deref() != Some(text.as_bytes()) {
            crate::atomic::write_bytes(&path, text.as_bytes())?;
        }
        Ok(path)
    }
}
