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
}
