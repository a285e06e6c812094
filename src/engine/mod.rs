//! Engine stage: run a contract model on preprocessed batches.
//!
//! Two engines sit behind one trait: ONNX Runtime (crate `ort`, loaded at run time, with the CUDA
//! execution provider when it registers) and a pure-Rust fallback (`tract`) for machines without an
//! ONNX Runtime library.

mod cuda_libs;
pub(crate) mod error;
mod interface;
mod onnxruntime;
pub mod selfcheck;
mod tract;

pub use self::error::EngineError;
pub use self::interface::{
    available_cores, standard_library_dirs, BatchOutput, Device, Discovery, Engine, EngineInfo,
    EngineKind, EngineOptions, SelfCheckResult,
};
pub use self::onnxruntime::{find_onnxruntime, OrtEngine};
pub use self::tract::TractEngine;
use crate::error::Result;
use crate::model::ModelInfo;

/// Open an engine for `model` as `opts` asks, falling back to tract when no ONNX Runtime is found
/// (with `EngineKind::Auto`), then run the model's self-check ([`selfcheck`]) on it unless
/// `opts.self_check` is `None`.
pub fn open(model: &ModelInfo, opts: &EngineOptions) -> Result<Box<dyn Engine>> {
    let mut engine = open_unchecked(model, opts)?;
    if let Some(tolerance) = opts.self_check {
        if let Some(check) = selfcheck::SelfCheck::from_model(model)? {
            let result = check.verify(engine.as_mut(), model, tolerance)?;
            engine.info_mut().self_check = Some(result);
        }
    }
    Ok(engine)
}

fn open_unchecked(model: &ModelInfo, opts: &EngineOptions) -> Result<Box<dyn Engine>> {
    if opts.kind == EngineKind::Tract {
        return Ok(Box::new(TractEngine::open(model, opts, Vec::new())?));
    }
    // A library named by ORT_DYLIB_PATH is the user's choice: a missing file is an error, not a search.
    let chosen = opts.discovery.env_path.as_ref();
    if let Some(p) = chosen.filter(|p| !p.is_file()) {
        return Err(EngineError::OrtDylibPath {
            path: p.clone(),
            reason: "no such file".into(),
        }
        .into());
    }
    match opts.kind {
        EngineKind::Ort | EngineKind::Tract => {
            let lib = find_onnxruntime(&opts.discovery)
                .map_err(|tried| EngineError::NoLibrary { tried })?;
            Ok(Box::new(OrtEngine::open(model, opts, &lib)?))
        }
        EngineKind::Auto => match find_onnxruntime(&opts.discovery) {
            Ok(lib) => match OrtEngine::open(model, opts, &lib) {
                Ok(e) => Ok(Box::new(e)),
                Err(crate::Error::Engine(EngineError::LibraryLoad { library, reason }))
                    if chosen == Some(&library) =>
                {
                    Err(EngineError::OrtDylibPath {
                        path: library,
                        reason: format!("cannot be loaded: {reason}"),
                    }
                    .into())
                }
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
