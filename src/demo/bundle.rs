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
/// DANN model and its source-only baseline with their training curves, the split, and the P→C
/// checkpoints of every second epoch.
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
    demo_file!("evolution/demo_cnn_P-C_ep02.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep04.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep06.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep08.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep10.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep12.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep14.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep16.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep18.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep20.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep22.onnx"),
    demo_file!("evolution/demo_cnn_P-C_ep24.onnx"),
];

/// The forward pairs of the demo, as trained.
pub const PAIRS: [&str; 4] = ["R-P", "P-C", "C-A", "A-R"];

/// Display name of the source-only baselines (same network and recipe, no gradient reversal).
pub const BASELINE_NAME: &str = "demo_cnn · source only";

/// Where the bundle was installed.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The demo dataset.
    pub data: PathBuf,
    /// The split the models were trained with.
    pub manifest: PathBuf,
    /// The report runs: the DANN model of each pair (P→C also with its per-epoch checkpoints), then
    /// the source-only baseline of each pair (group `baseline`).
    pub runs: Vec<RunConfig>,
    /// Whether the dataset was generated now (false: an earlier one was reused).
    pub generated: bool,
}

/// Write the demo models and split under `root/models`, generate the dataset under `root/data` unless it
/// is already there, and describe the report runs.
pub fn install(root: &Path) -> Result<Bundle> {
    let models = root.join("models");
    for (name, bytes) in FILES {
        let p = models.join(name);
        if std::fs::read(&p).ok().as_deref() != Some(*bytes) {
            crate::store::atomic_write_bytes(&p, bytes)?;
        }
    }
    let data = root.join("data");
    // A marker written after the last image: an interrupted generation is redone.
    let marker = data.join(".dannscope-demo-complete");
    let complete = marker.is_file();
    let generated = !complete;
    if !complete {
        generate(&data, &DemoParams::default().overwrite(true))?;
        crate::store::atomic_write_bytes(&marker, b"complete\n")?;
    }
    let dann = PAIRS.iter().map(|pair| RunConfig {
        model: models.join(format!("demo_cnn_{pair}.onnx")),
        pair: pair.to_string(),
        name: Some("demo_cnn".into()),
        group: Some("forward".into()),
        curves: Some(models.join(format!("demo_cnn_{pair}.curves.csv"))),
        checkpoints: if *pair == "P-C" {
            vec![models.join("evolution")]
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
        data,
        manifest: models.join("demo_manifest.csv"),
        runs,
        generated,
    })
}
