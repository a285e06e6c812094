//! Why an inference engine could not be opened.

use std::path::PathBuf;

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
    /// `ORT_DYLIB_PATH` names a file that is missing or cannot be loaded: the user chose that library,
    /// so dannscope neither looks elsewhere nor falls back to tract.
    #[error("ORT_DYLIB_PATH={}: {reason}; point it at libonnxruntime (e.g. the onnxruntime package's capi/libonnxruntime.so.*), or unset it to let dannscope find ONNX Runtime", path.display())]
    OrtDylibPath {
        /// The path the variable holds.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A batch could not be run through the model, or its outputs are not what the model declares.
    #[error("{}: {engine} could not run a batch of {}: {message}", model.display(), crate::text::count(*rows, "image"))]
    Inference {
        /// `onnxruntime` or `tract`.
        engine: String,
        /// The model file.
        model: PathBuf,
        /// Images in the batch.
        rows: usize,
        /// What went wrong.
        message: String,
    },
    /// The model's `dannscope.selfcheck` metadata cannot be read.
    #[error("{}: the self-check in its metadata (dannscope.selfcheck) is malformed: {reason}", model.display())]
    SelfCheckMalformed {
        /// The model file.
        model: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The engine's outputs on the self-check input differ from what the exporter recorded.
    #[error("{}: self-check failed on {engine} ({device}), output {output}: {detail}; the export, the engine build or the device computes something else than PyTorch did (skip the check with --no-self-check)", model.display())]
    SelfCheckMismatch {
        /// The model file.
        model: PathBuf,
        /// `onnxruntime` or `tract`.
        engine: String,
        /// Execution provider.
        device: String,
        /// The output that differs.
        output: String,
        /// How it differs.
        detail: String,
    },
}
