//! What callers and engines share: the options for opening one, where ONNX Runtime is looked for,
//! the [`Engine`] trait and what one batch returns.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// The outcome of a passed model self-check ([`super::selfcheck`]), recorded in each run's log
/// (`runs/<Domain>.json`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SelfCheckResult {
    /// Outputs compared.
    pub outputs: Vec<String>,
    /// Largest relative difference found.
    pub max_relative_diff: f64,
    /// Tolerance applied.
    pub tolerance: f64,
}

/// Which engine to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineKind {
    /// ONNX Runtime when a library is found, else tract.
    #[default]
    Auto,
    /// ONNX Runtime only (an error when no library is found).
    #[serde(alias = "onnxruntime")]
    Ort,
    /// The pure-Rust engine.
    Tract,
}

impl EngineKind {
    /// Parse `auto`, `ort` (or `onnxruntime`), `tract`.
    pub fn parse(s: &str) -> Option<EngineKind> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(EngineKind::Auto),
            "ort" | "onnxruntime" => Some(EngineKind::Ort),
            "tract" => Some(EngineKind::Tract),
            _ => None,
        }
    }
}

/// Which device to run on (ONNX Runtime only; tract always runs on the CPU).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    /// CUDA when its execution provider registers, else CPU.
    #[default]
    Auto,
    /// CUDA or an error.
    #[serde(alias = "gpu")]
    Cuda,
    /// CPU.
    Cpu,
}

impl Device {
    /// Parse `auto`, `cuda` (or `gpu`), `cpu`.
    pub fn parse(s: &str) -> Option<Device> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Device::Auto),
            "cuda" | "gpu" => Some(Device::Cuda),
            "cpu" => Some(Device::Cpu),
            _ => None,
        }
    }
}

/// Options for opening an engine.
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Engine choice.
    pub kind: EngineKind,
    /// Device choice.
    pub device: Device,
    /// Intra-op threads (0 = one per core).
    pub threads: usize,
    /// Batch size (the tract engine is compiled for it).
    pub batch_size: usize,
    /// Where to look for ONNX Runtime.
    pub discovery: Discovery,
    /// Tolerance of the model's self-check run when the engine opens (`None`: skipped).
    pub self_check: Option<f64>,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            kind: EngineKind::Auto,
            device: Device::Auto,
            threads: 0,
            batch_size: 16,
            discovery: Discovery::from_env(),
            self_check: Some(DEFAULT_TOLERANCE),
        }
    }
}

/// Default tolerance of the model's self-check (see [`super::selfcheck`]): the largest relative
/// difference accepted per row, `max(|Δ head|∞, |Δ norm|) / max(norm, 1)`.
pub const DEFAULT_TOLERANCE: f64 = 1e-2;

/// What an engine is, for the start-up line and the provenance record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct EngineInfo {
    /// `onnxruntime` or `tract`.
    pub engine: String,
    /// Execution provider: `CUDA` or `CPU`.
    pub provider: String,
    /// Threads.
    pub threads: usize,
    /// Library path and version, when relevant.
    pub library: Option<String>,
    /// Why this engine/provider was chosen (fallbacks).
    pub notes: Vec<String>,
    /// The model's self-check on this engine and device (`None`: the model has none, or it was
    /// skipped).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub self_check: Option<SelfCheckResult>,
}

/// Outputs of one batch, row-major.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOutput {
    /// `[n, dim]` embeddings.
    pub embedding: Vec<f32>,
    /// Embedding width.
    pub dim: usize,
    /// `[n, classes]` logits and the class count.
    pub logits: Option<(Vec<f32>, usize)>,
    /// `[n]` domain-discriminator outputs.
    pub domain_logits: Option<Vec<f32>>,
}

/// A model ready to run.
pub trait Engine: Send {
    /// What it is.
    fn info(&self) -> &EngineInfo;
    /// What it is, to record the self-check in.
    fn info_mut(&mut self) -> &mut EngineInfo;
    /// Run `n` preprocessed images (`n · 3 · S · S` values, NCHW).
    fn run(&mut self, input: &[f32], n: usize) -> Result<BatchOutput>;
}

/// Number of cores available to this process.
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Paths searched for ONNX Runtime in standard library folders.
pub fn standard_library_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("LD_LIBRARY_PATH")
        .map(|v| std::env::split_paths(&v).collect())
        .unwrap_or_default();
    for d in [
        "/usr/local/lib",
        "/usr/lib",
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib64",
        "/opt/onnxruntime/lib",
    ] {
        dirs.push(PathBuf::from(d));
    }
    dirs
}

/// Where to look for the ONNX Runtime shared library, in order.
#[derive(Debug, Clone, Default)]
pub struct Discovery {
    /// An explicit library path (`ORT_DYLIB_PATH`).
    pub env_path: Option<PathBuf>,
    /// A Python interpreter whose `onnxruntime` / `onnxruntime-gpu` package ships the library
    /// (`DANNSCOPE_PYTHON`, default `python3`); `None` skips this step.
    pub python: Option<String>,
    /// Library folders to search.
    pub dirs: Vec<PathBuf>,
}

impl Discovery {
    /// The standard search: `ORT_DYLIB_PATH`, then `python3`'s onnxruntime package, then library folders.
    pub fn from_env() -> Discovery {
        Discovery {
            env_path: std::env::var_os("ORT_DYLIB_PATH")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            python: Some(std::env::var("DANNSCOPE_PYTHON").unwrap_or_else(|_| "python3".into()))
                .filter(|p| !p.is_empty()),
            dirs: standard_library_dirs(),
        }
    }
}

/// Check that an output is `[n, k]` and return `k`; `Err` says how it differs.
pub(super) fn check_2d(shape: &[i64], n: usize, name: &str) -> std::result::Result<usize, String> {
    if shape.len() != 2 || shape[0] as usize != n {
        return Err(format!(
            "output \"{name}\" has shape {shape:?}, expected [{n}, K]"
        ));
    }
    Ok(shape[1] as usize)
}

/// The error of a batch of `rows` images that `info`'s engine could not run through `model`.
pub(super) fn inference_error(
    info: &EngineInfo,
    model: &std::path::Path,
    rows: usize,
    message: impl std::fmt::Display,
) -> Error {
    super::error::EngineError::Inference {
        engine: info.engine.clone(),
        model: model.to_path_buf(),
        rows,
        message: message.to_string(),
    }
    .into()
}
