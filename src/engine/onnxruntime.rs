//! ONNX Runtime engine (crate `ort`, library loaded at run time).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::session::builder::GraphOptimizationLevel;
use ort::session::Session;
use ort::value::TensorRef;

use super::interface::{
    available_cores, check_2d, inference_error, BatchOutput, Device, Discovery, Engine, EngineInfo,
    EngineOptions,
};
use crate::error::{Error, Result};
use crate::model::ModelInfo;

fn lib_in_dir(dir: &Path) -> Option<PathBuf> {
    let plain = dir.join("libonnxruntime.so");
    if plain.is_file() {
        return Some(plain);
    }
    let mut versioned: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("libonnxruntime.so.") || n == "libonnxruntime.dylib")
        })
        .collect();
    // Newest version first: 1.23 after 1.9 (sorted as numbers, not as text).
    versioned
        .sort_by_key(|p| library_version(p.file_name().and_then(|n| n.to_str()).unwrap_or("")));
    versioned.pop()
}

/// The version numbers of a library file name (`libonnxruntime.so.1.23.2` → `[1, 23, 2]`; none → `[]`).
/// A part that is not a number counts as 0.
pub(crate) fn library_version(file_name: &str) -> Vec<u64> {
    match file_name.split_once(".so.") {
        Some((_, v)) => v.split('.').map(|x| x.parse().unwrap_or(0)).collect(),
        None => Vec::new(),
    }
}

fn python_package_dir(python: &str) -> Option<PathBuf> {
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "import importlib.util as u; s = u.find_spec('onnxruntime'); \
             print(list(s.submodule_search_locations)[0] if s else '')",
        ])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let s = String::from_utf8(out.stdout).ok()?;
    let s = s.trim();
    (!s.is_empty()).then(|| PathBuf::from(s))
}

/// Find the ONNX Runtime library. On failure, returns what was tried.
pub fn find_onnxruntime(d: &Discovery) -> std::result::Result<PathBuf, Vec<String>> {
    let mut tried = Vec::new();
    if let Some(p) = &d.env_path {
        if p.is_file() {
            return Ok(p.clone());
        }
        tried.push(format!("ORT_DYLIB_PATH={} (no such file)", p.display()));
    } else {
        tried.push("ORT_DYLIB_PATH (unset)".into());
    }
    if let Some(py) = &d.python {
        match python_package_dir(py) {
            Some(pkg) => match lib_in_dir(&pkg.join("capi")) {
                Some(lib) => return Ok(lib),
                None => tried.push(format!(
                    "{py}: {}/capi has no libonnxruntime",
                    pkg.display()
                )),
            },
            None => tried.push(format!("{py}: no onnxruntime package")),
        }
    }
    for dir in &d.dirs {
        if let Some(lib) = lib_in_dir(dir) {
            return Ok(lib);
        }
    }
    if !d.dirs.is_empty() {
        tried.push("standard library folders".into());
    }
    Err(tried)
}

type Loaded = std::result::Result<(ort::environment::Environment, PathBuf, String), String>;
static LOADED: OnceLock<Loaded> = OnceLock::new();

/// Load the library and create the environment once per process; later calls return the first outcome.
fn load_library(lib: &Path) -> Result<&'static (ort::environment::Environment, PathBuf, String)> {
    let r = LOADED.get_or_init(|| {
        let env = ort::init_from(lib)
            .map_err(|e| e.to_string())?
            .with_name("dannscope")
            .build()
            .map_err(|e| e.to_string())?;
        Ok((env, lib.to_path_buf(), ort_version(lib)))
    });
    r.as_ref().map_err(|e| {
        Error::from(super::EngineError::LibraryLoad {
            library: lib.to_path_buf(),
            reason: e.clone(),
        })
    })
}

/// The library version from a versioned file name (`libonnxruntime.so.1.31.1` → `1.31.1`), else the
/// library's build-info string.
fn ort_version(lib: &Path) -> String {
    let name = lib
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match name.split_once(".so.") {
        Some((_, v)) if !v.is_empty() => format!("ONNX Runtime {v}"),
        _ => ort::info().to_string(),
    }
}

/// ONNX Runtime engine.
pub struct OrtEngine {
    session: Session,
    info: EngineInfo,
    model: PathBuf,
    input_name: String,
    size: usize,
    outputs: crate::model::OutputNames,
}

fn ort_err(model: &Path, what: &str, e: impl std::fmt::Display) -> Error {
    Error::Invalid(format!(
        "{}: ONNX Runtime could not {what}: {e}",
        model.display()
    ))
}

impl OrtEngine {
    /// Open `model` with the library at `lib`.
    pub fn open(model: &ModelInfo, opts: &EngineOptions, lib: &Path) -> Result<OrtEngine> {
        let (env, lib_path, version) = load_library(lib)?;
        let threads = if opts.threads == 0 {
            available_cores()
        } else {
            opts.threads
        };
        let mut notes = Vec::new();
        let build = |cuda: bool| -> Result<Session> {
            let mk = |e: ort::Error<ort::session::builder::SessionBuilder>| {
                ort_err(&model.path, "configure a session", e)
            };
            let mut b = Session::builder(env)
                .map_err(|e| ort_err(&model.path, "create a session", e))?
                .with_optimization_level(GraphOptimizationLevel::Level3)
                .map_err(mk)?
                .with_intra_threads(threads)
                .map_err(mk)?;
            // Idle intra-op workers sleep instead of spinning: during `embed` the decoding threads
            // share the cores with inference, and spinning workers would take their time.
            // `DANNSCOPE_ORT_SPIN=1` turns spinning back on (for comparisons).
            let spin = std::env::var("DANNSCOPE_ORT_SPIN").is_ok_and(|v| v == "1");
            b = b.with_intra_op_spinning(spin).map_err(mk)?;
            if cuda {
                // The CUDA and cuDNN libraries of the nvidia-* wheels first (as Python's
                // onnxruntime.preload_dlls()); a provider that still fails is explained by name.
                let pre = super::cuda_libs::prepare(lib_path).map_err(|why| {
                    Error::Invalid(format!(
                        "{}: ONNX Runtime could not register CUDA: {why}",
                        model.path.display()
                    ))
                })?;
                let explain = |e: String| {
                    let why = super::cuda_libs::diagnose(lib_path, pre);
                    let msg = if why.is_empty() {
                        e
                    } else {
                        format!("{why} ({e})")
                    };
                    ort_err(&model.path, "register CUDA", msg)
                };
                b = b
                    .with_execution_providers([ort::ep::CUDA::default().build().error_on_failure()])
                    .map_err(|e| explain(e.to_string()))?;
                return b
                    .commit_from_file(&model.path)
                    .map_err(|e| explain(e.to_string()));
            }
            b.commit_from_file(&model.path)
                .map_err(|e| ort_err(&model.path, "load the model", e))
        };
        let (session, provider) = match opts.device {
            Device::Cpu => (build(false)?, "CPU"),
            Device::Cuda => (build(true)?, "CUDA"),
            Device::Auto => match build(true) {
                Ok(s) => (s, "CUDA"),
                Err(e) => {
                    let why = e.to_string();
                    // The reason after the model path, which names the missing library first.
                    let line = why.lines().next().unwrap_or("");
                    let reason = line
                        .split_once("could not register CUDA: ")
                        .map_or(line, |(_, r)| r);
                    let short = reason.chars().take(400).collect::<String>();
                    notes.push(format!(
                        "CUDA execution provider unavailable, using CPU ({short})"
                    ));
                    (build(false)?, "CPU")
                }
            },
        };
        if provider == "CUDA" {
            if let Ok(pre) = super::cuda_libs::prepare(lib_path) {
                let optional = pre.missing_optional();
                if !optional.is_empty() {
                    notes.push(format!(
                        "CUDA registered, but {} could not be loaded: a model that needs it \
                         (cuDNN: convolutions; cuFFT, NVRTC: a few operators) will fail on CUDA",
                        optional.join(", ")
                    ));
                }
            }
        }
        Ok(OrtEngine {
            session,
            model: model.path.clone(),
            info: EngineInfo {
                engine: "onnxruntime".into(),
                provider: provider.into(),
                threads,
                library: Some(format!("{} ({version})", lib_path.display())),
                notes,
                self_check: None,
            },
            input_name: model.input.name.clone(),
            size: model.preprocess.input_size as usize,
            outputs: model.outputs.clone(),
        })
    }
}

impl Engine for OrtEngine {
    fn info(&self) -> &EngineInfo {
        &self.info
    }

    fn info_mut(&mut self) -> &mut EngineInfo {
        &mut self.info
    }

    fn run(&mut self, input: &[f32], n: usize) -> Result<BatchOutput> {
        let s = self.size;
        let fail = |message: String| inference_error(&self.info, &self.model, n, message);
        if input.len() != n * 3 * s * s {
            return Err(fail(format!(
                "the input batch has {} values, expected {n} × 3 × {s} × {s} = {}",
                input.len(),
                n * 3 * s * s
            )));
        }
        // Borrow the batch: no copy of the input on the way in.
        let tensor = TensorRef::from_array_view(([n, 3, s, s], input))
            .map_err(|e| fail(format!("cannot build the input tensor: {e}")))?;
        let outs = self
            .session
            .run(ort::inputs![self.input_name.as_str() => tensor])
            .map_err(|e| fail(format!("inference failed: {e}")))?;
        let get = |name: &str| -> Result<(Vec<i64>, Vec<f32>)> {
            let v = outs
                .get(name)
                .ok_or_else(|| fail(format!("the model produced no output \"{name}\"")))?;
            let (shape, data) = v
                .try_extract_tensor::<f32>()
                .map_err(|e| fail(format!("output \"{name}\" is not a float32 tensor: {e}")))?;
            Ok((shape.to_vec(), data.to_vec()))
        };
        let (es, emb) = get(&self.outputs.embedding)?;
        let dim = check_2d(&es, n, &self.outputs.embedding).map_err(fail)?;
        let logits = match &self.outputs.logits {
            Some(name) => {
                let (ls, l) = get(name)?;
                Some((l, check_2d(&ls, n, name).map_err(fail)?))
            }
            None => None,
        };
        let domain_logits = match &self.outputs.domain_logits {
            Some(name) => Some(get(name)?.1).filter(|d| d.len() == n),
            None => None,
        };
        Ok(BatchOutput {
            embedding: emb,
            dim,
            logits,
            domain_logits,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn library_versions_compare_as_numbers() {
        assert_eq!(library_version("libonnxruntime.so.1.23.2"), [1, 23, 2]);
        assert_eq!(library_version("libonnxruntime.so.1"), [1]);
        assert!(library_version("libonnxruntime.dylib").is_empty());
        assert!(
            library_version("libonnxruntime.so.1.9.0")
                < library_version("libonnxruntime.so.1.23.0")
        );
        let tmp = tempfile::tempdir().unwrap();
        for v in ["1.9.0", "1.23.2", "1.3.0", "1"] {
            std::fs::write(tmp.path().join(format!("libonnxruntime.so.{v}")), b"").unwrap();
        }
        std::fs::write(tmp.path().join("libonnxruntime_providers_shared.so"), b"").unwrap();
        assert_eq!(
            lib_in_dir(tmp.path()),
            Some(tmp.path().join("libonnxruntime.so.1.23.2"))
        );
        // The unversioned name wins when present.
        std::fs::write(tmp.path().join("libonnxruntime.so"), b"").unwrap();
        assert_eq!(
            lib_in_dir(tmp.path()),
            Some(tmp.path().join("libonnxruntime.so"))
        );
    }
}
