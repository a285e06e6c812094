//! Engine stage: run a contract model on preprocessed batches.
//!
//! Two engines sit behind one trait: ONNX Runtime (crate `ort`, loaded at run time, with the CUDA
//! execution provider when it registers) and a pure-Rust fallback (`tract`) for machines without an
//! ONNX Runtime library.

mod cuda_libs;
mod onnxruntime;
mod tract;

use std::path::PathBuf;

pub use self::onnxruntime::{find_onnxruntime, Discovery, OrtEngine};
pub use self::tract::TractEngine;
use crate::error::Result;
use crate::model::ModelInfo;

/// Why an engine could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// No ONNX Runtime shared library was found.
    #[error("no ONNX Runtime library found (tried: {}); install one with `pip install onnxruntime` or set ORT_DYLIB_PATH to libonnxruntime", tried.join("; "))]
    NoLibrary {
        /// What was tried, in order.
        tried: Vec<String>,
    },
    /// An ONNX Runtime library was found but could not be loaded or initialised.
    #[error("the ONNX Runtime library {library} could not be loaded: {reason}")]
    LibraryLoad {
        /// The library file.
        library: PathBuf,
        /// What the loader said.
        reason: String,
    },
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
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            kind: EngineKind::Auto,
            device: Device::Auto,
            threads: 0,
            batch_size: 16,
            discovery: Discovery::from_env(),
        }
    }
}

/// What an engine is, for the start-up line and the provenance record.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
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
    /// Run `n` preprocessed images (`n · 3 · S · S` values, NCHW).
    fn run(&mut self, input: &[f32], n: usize) -> Result<BatchOutput>;
}

/// Number of cores available to this process.
pub fn available_cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// Open an engine for `model` as `opts` asks, falling back to tract when no ONNX Runtime is found
/// (with `EngineKind::Auto`).
pub fn open(model: &ModelInfo, opts: &EngineOptions) -> Result<Box<dyn Engine>> {
    match opts.kind {
        EngineKind::Tract => Ok(Box::new(TractEngine::open(model, opts, Vec::new())?)),
        EngineKind::Ort => {
            let lib = find_onnxruntime(&opts.discovery)
                .map_err(|tried| EngineError::NoLibrary { tried })?;
            Ok(Box::new(OrtEngine::open(model, opts, &lib)?))
        }
        EngineKind::Auto => match find_onnxruntime(&opts.discovery) {
            Ok(lib) => match OrtEngine::open(model, opts, &lib) {
                Ok(e) => Ok(Box::new(e)),
                Err(crate::Error::Engine(e @ EngineError::LibraryLoad { .. })) => {
                    let note = format!("{e}; using the pure-Rust engine (tract)");
                    Ok(Box::new(TractEngine::open(model, opts, vec![note])?))
                }
                Err(e) => Err(e),
            },
            Err(tried) => {
                let note = format!(
                    "{}; using the pure-Rust engine (tract)",
                    EngineError::NoLibrary { tried }
                );
                Ok(Box::new(TractEngine::open(model, opts, vec![note])?))
            }
        },
    }
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
