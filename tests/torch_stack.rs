//! The researchers' training stack end to end: checkpoints made the study's way (timm
//! `mobilenetv3_large_100` and `resmlp_12_distilled_224` with `G.classifier = nn.Identity()`,
//! pytorch-adapt 0.0.83's `Classifier` / `Discriminator`, DANN steps with its `DANNHook`, trained
//! BatchNorm statistics, state dicts per epoch in `{arch}_src(S)_tgt(T)/{EE}_acc{NN}_auroc{NN}/`),
//! exported by `models/export_onnx.py --run-tree` in one call, then `dannscope embed`, `eval` and
//! `report` on PNGs and JPEGs of every chroma layout. dannscope's embeddings, logits and domain
//! logits must equal PyTorch's eval-mode outputs on PIL + timm's eval transform within 1e-4 per row
//! (max |diff| / max(row norm, 1)) with every argmax equal, and its accuracy and AUROC must equal
//! scikit-learn's on PyTorch's logits to 1e-9 (`tests/torch/study.py compare`). The exported files
//! must equal a fresh load of their checkpoints, with the embedding = G(x) and a valid self-check
//! (`study.py check-onnx`: BatchNorm statistics intact, embedding = G(x), a self-check: what the earlier exporter got wrong). The
//! exporter also reads whole pickled modules and pytorch-adapt `Models` containers, fails on a wrong
//! `--arch` in one line, and leaves a training run's modules as it found them
//! (`tests/torch/exporter_checks.py`).
//!
//! Needs python3 with torch, timm, pytorch-adapt, onnx, onnxscript, onnxruntime and scikit-learn
//! (the versions of models/requirements.txt); without them the tests skip with a note, and with
//! `DANNSCOPE_REQUIRE_TORCH=1` (CI) they fail instead.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> String {
    std::env::var("DANNSCOPE_TORCH_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether the training stack can be imported. With `DANNSCOPE_REQUIRE_TORCH=1` (CI) a missing
/// package is a failure, so these tests never silently skip there.
fn torch_available() -> bool {
    let probe = Command::new(python())
        .args([
            "-c",
            "import torch, timm, onnx, onnxscript, onnxruntime, sklearn, PIL; \
             import pytorch_adapt.hooks, pytorch_adapt.models, pytorch_adapt.containers",
        ])
        .output();
    let why = match &probe {
        Ok(o) if o.status.success() => return true,
        Ok(o) => String::from_utf8_lossy(&o.stderr)
            .lines()
            .last()
            .unwrap_or("")
            .to_string(),
        Err(e) => format!("{}: {e}", python()),
    };
    if std::env::var("DANNSCOPE_REQUIRE_TORCH").is_ok_and(|v| v == "1") {
        panic!("DANNSCOPE_REQUIRE_TORCH=1 but the training stack cannot be imported: {why}");
    }
    eprintln!(
        "skipping: torch, timm, pytorch-adapt, onnx, onnxscript, onnxruntime or scikit-learn is \
         missing ({why}); see models/requirements.txt"
    );
    false
}

/// Run a command in `dir`, print what it said, fail the test on a non-zero exit; returns its stdout
/// and the seconds it took.
fn run(what: &str, cmd: &mut Command, dir: &Path) -> (String, f64) {
    let t = Instant::now();
    let o: Output = cmd
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let secs = t.elapsed().as_secs_f64();
    let stdout = String::from_utf8_lossy(&o.stdout).to_string();
    let stderr = String::from_utf8_lossy(&o.stderr);
    println!("--- {what} ({secs:.1} s)\n{stdout}");
    assert!(
        o.status.success(),
        "{what} failed ({}):\n{stdout}\n{stderr}",
        o.status
    );
    (stdout, secs)
}

fn py(script: &str) -> Command {
    let mut c = Command::new(python());
    c.arg(repo().join(script));
    c
}

fn dannscope() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dannscope"))
}

fn onnx_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for run in std::fs::read_dir(dir).unwrap().flatten() {
        if run.path().is_dir() {
            for f in std::fs::read_dir(run.path()).unwrap().flatten() {
                if f.path().extension().is_some_and(|e| e == "onnx") {
                    out.push(f.path());
                }
            }
        }
    }
    out.sort();
    out
}

#[test]
fn study_checkpoints_through_dannscope_equal_pytorch() {
    if !torch_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path();
    let t0 = Instant::now();
    let mut times = Vec::new();
    let mut step = |what: &str, cmd: &mut Command| {
        let (out, secs) = run(what, cmd, w);
        times.push(format!("{what} {secs:.1} s"));
        out
    };
    step("dataset", py("tests/torch/study.py").args(["data", "data"]));
    step(
        "study checkpoints (2 archs x 2 epochs)",
        py("tests/torch/study.py").args(["runs", "runs"]),
    );
    let export = || {
        let mut c = py("models/export_onnx.py");
        c.args(["--run-tree", "runs", "--out", "exported", "--data", "data"]);
        c
    };
    let out = step("export the run tree", &mut export());
    assert!(out.contains("exported 4, unchanged 0"), "{out}");
    step(
        "exported files vs a fresh load (items 1, 2, 5)",
        py("tests/torch/study.py").args(["check-onnx", "--runs", "runs", "--exported", "exported"]),
    );
    let models = onnx_files(&w.join("exported"));
    assert_eq!(models.len(), 4, "{models:?}");
    for m in &models {
        let common = ["--data", "data", "--split", "all", "--out", "outputs"];
        step(
            "dannscope embed",
            dannscope().arg("embed").arg("--model").arg(m).args(common),
        );
        step(
            "dannscope eval",
            dannscope().arg("eval").arg("--model").arg(m).args(common),
        );
    }
    step(
        "dannscope report",
        dannscope().args([
            "report",
            "--config",
            "exported/dannscope.toml",
            "--split",
            "all",
            "--out",
            "outputs",
        ]),
    );
    assert!(w.join("outputs/report/index.html").is_file());
    step(
        "dannscope vs PyTorch and scikit-learn",
        py("tests/torch/study.py").args([
            "compare",
            "--runs",
            "runs",
            "--exported",
            "exported",
            "--data",
            "data",
            "--outputs",
            "outputs",
            "--report",
            "outputs/report/results.csv",
        ]),
    );
    let again = step("export again (nothing changed)", &mut export());
    assert!(again.contains("exported 0, unchanged 4"), "{again}");
    println!(
        "total {:.1} s: {}",
        t0.elapsed().as_secs_f64(),
        times.join(", ")
    );
}

#[test]
fn exporter_reads_every_checkpoint_form_and_leaves_training_modules_alone() {
    if !torch_available() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    run(
        "state dicts, whole modules, Models container, Models.state_dict(); wrong --arch",
        py("tests/torch/exporter_checks.py")
            .arg("formats")
            .arg(tmp.path()),
        tmp.path(),
    );
    run(
        "embedding_dim and export_model as a library",
        py("tests/torch/exporter_checks.py").arg("library"),
        tmp.path(),
    );
}
