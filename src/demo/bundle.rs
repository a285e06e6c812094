//! The demo bundle: the committed demo models, their training curves and split, written next to a
//! freshly generated demo dataset, with the report runs that use them.

use std::path::{Path, PathBuf};

use super::{generate, DemoParams};
use crate::config::RunConfig;
use crate::error::Result;

/// Files of `models/demo/`, compiled in so that `dannscope demo` works from any folder.
const FILES: &[(&str, &[u8])] = &[
    (
        "demo_cnn_R-P.onnx",
        include_bytes!("../../models/demo/demo_cnn_R-P.onnx"),
    ),
    (
        "demo_cnn_P-C.onnx",
        include_bytes!("../../models/demo/demo_cnn_P-C.onnx"),
    ),
    (
        "demo_cnn_C-A.onnx",
        include_bytes!("../../models/demo/demo_cnn_C-A.onnx"),
    ),
    (
        "demo_cnn_A-R.onnx",
        include_bytes!("../../models/demo/demo_cnn_A-R.onnx"),
    ),
    (
        "demo_cnn_R-P.curves.csv",
        include_bytes!("../../models/demo/demo_cnn_R-P.curves.csv"),
    ),
    (
        "demo_cnn_P-C.curves.csv",
        include_bytes!("../../models/demo/demo_cnn_P-C.curves.csv"),
    ),
    (
        "demo_cnn_C-A.curves.csv",
        include_bytes!("../../models/demo/demo_cnn_C-A.curves.csv"),
    ),
    (
        "demo_cnn_A-R.curves.csv",
        include_bytes!("../../models/demo/demo_cnn_A-R.curves.csv"),
    ),
    (
        "demo_manifest.csv",
        include_bytes!("../../models/demo/demo_manifest.csv"),
    ),
    (
        "evolution/demo_cnn_P-C_ep02.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep02.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep04.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep04.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep06.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep06.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep08.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep08.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep10.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep10.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep12.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep12.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep14.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep14.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep16.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep16.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep18.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep18.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep20.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep20.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep22.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep22.onnx"),
    ),
    (
        "evolution/demo_cnn_P-C_ep24.onnx",
        include_bytes!("../../models/demo/evolution/demo_cnn_P-C_ep24.onnx"),
    ),
];

/// The forward pairs of the demo, as trained.
pub const PAIRS: [&str; 4] = ["R-P", "P-C", "C-A", "A-R"];

/// Where the bundle was installed.
#[derive(Debug, Clone)]
pub struct Bundle {
    /// The demo dataset.
    pub data: PathBuf,
    /// The split the models were trained with.
    pub manifest: PathBuf,
    /// The report runs (one per pair; P→C also has its per-epoch checkpoints).
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
    let runs = PAIRS
        .iter()
        .map(|pair| RunConfig {
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
        })
        .collect();
    Ok(Bundle {
        data,
        manifest: models.join("demo_manifest.csv"),
        runs,
        generated,
    })
}
