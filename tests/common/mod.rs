//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use dannscope::engine::{find_onnxruntime, Discovery};

/// The fixtures folder.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Whether an ONNX Runtime library can be found. With `DANNSCOPE_REQUIRE_ORT=1` (CI), a missing library
/// is a failure, so the ONNX Runtime tests never silently skip there.
pub fn ort_available() -> bool {
    let found = find_onnxruntime(&Discovery::from_env());
    if found.is_err() && std::env::var("DANNSCOPE_REQUIRE_ORT").is_ok_and(|v| v == "1") {
        panic!("DANNSCOPE_REQUIRE_ORT=1 but no ONNX Runtime library was found: {found:?}");
    }
    if let Err(tried) = &found {
        eprintln!("skipping: no ONNX Runtime library ({})", tried.join("; "));
    }
    found.is_ok()
}

/// Copy a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let t = to.join(e.file_name());
        if p.is_dir() {
            copy_tree(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

/// Every file under `dir`, recursively (none when `dir` cannot be read).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files_under(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Every file under `dir` whose name looks like a temporary file of an atomic write.
pub fn temp_files(dir: &Path) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "tmp"))
        .collect()
}

/// Copy the ONNX model `from` to `to` with its metadata changed: each `(key, Some(value))` is set,
/// each `(key, None)` removed (a way to make checkpoints of other epochs or runs, or a model without
/// `dannscope.*` metadata, from a fixture).
pub fn with_metadata(from: &Path, to: &Path, changes: &[(&str, Option<&str>)]) {
    use prost::Message;
    let bytes = std::fs::read(from).unwrap();
    let mut m = tract_onnx::pb::ModelProto::decode(bytes.as_slice()).unwrap();
    for (k, v) in changes {
        m.metadata_props.retain(|p| p.key != *k);
        if let Some(v) = v {
            m.metadata_props
                .push(tract_onnx::pb::StringStringEntryProto {
                    key: k.to_string(),
                    value: v.to_string(),
                });
        }
    }
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(to, m.encode_to_vec()).unwrap();
}
