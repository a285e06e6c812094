//! The name a model's outputs are filed under (`<out>/embeddings/<name>/…`, `metrics/<name>/…`, …).
//!
//! A name is the model file's stem, claimed in `<out>/names/<name>.json` by the first model that uses
//! it (its absolute path and sha256). A later model with the same stem that is neither that file
//! (same path, perhaps retrained) nor a copy of it (same content) gets the stem plus 8 hex digits of
//! a hash of its absolute path, `G-1a2b3c4d`, claimed the same way: two different models never share
//! a folder, and the same model keeps its name from run to run.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::layout::check_name;
use crate::model::ModelInfo;

/// What `<out>/names/<name>.json` records: the model that holds the name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameClaim {
    /// Absolute path of the model file.
    pub path: String,
    /// SHA-256 of its content when it last used the name.
    pub sha256: String,
}

/// The name given to a model, and the model that held its stem when it was not the stem itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelName {
    /// The folder name of the model's outputs.
    pub name: String,
    /// The path of the other model that holds the stem, when `name` is not the stem.
    pub stem_taken_by: Option<String>,
}

impl ModelName {
    /// The notice that tells the user which name was used, when it is not the file's stem.
    pub fn notice(&self, model: &ModelInfo) -> Option<String> {
        self.stem_taken_by.as_ref().map(|other| {
            format!(
                "{}: outputs are filed under \"{}\" (the name \"{}\" belongs to another model, {other})",
                model.path.display(),
                self.name,
                model.stem
            )
        })
    }
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(p))
            .unwrap_or_else(|_| p.to_path_buf())
    })
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

/// Claim `name` in `dir` for the model (absolute path `path`, content `sha256`): `Ok(None)` when it is
/// now or was already this model's (the record is brought up to date), `Ok(Some(other))` when another
/// model holds it.
fn claim(dir: &Path, name: &str, path: &str, sha256: &str) -> Result<Option<String>> {
    let file = dir.join(format!("{name}.json"));
    let mine = NameClaim {
        path: path.to_string(),
        sha256: sha256.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    // The first process to create the file holds the name (no race between two processes).
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&file)
    {
        Ok(mut f) => {
            let text = serde_json::to_string_pretty(&mine)
                .map_err(|e| Error::Invalid(format!("{}: {e}", file.display())))?;
            f.write_all(text.as_bytes()).map_err(io(&file))?;
            return Ok(None);
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(&file)(e)),
    }
    let text = std::fs::read_to_string(&file).map_err(io(&file))?;
    let held: NameClaim = match serde_json::from_str(&text) {
        Ok(h) => h,
        // Being written by another process this instant, or damaged: the name is not ours to take.
        Err(_) => return Ok(Some(format!("an unreadable claim in {}", file.display()))),
    };
    if held.path == mine.path || held.sha256 == mine.sha256 {
        if held.path == mine.path && held.sha256 != mine.sha256 {
            crate::atomic::write_json(&file, &mine)?;
        }
        return Ok(None);
    }
    Ok(Some(held.path))
}

/// The name of `model`'s outputs under the output root whose name records are in `dir`
/// ([`crate::layout::Layout::names`]): its stem when free or its own, else the stem plus a short hash
/// of its absolute path.
pub fn model_name(dir: &Path, model: &ModelInfo) -> Result<ModelName> {
    let path = absolute(&model.path).display().to_string();
    check_name("model name", &model.stem, Some(&path))?;
    let Some(other) = claim(dir, &model.stem, &path, &model.sha256)? else {
        return Ok(ModelName {
            name: model.stem.clone(),
            stem_taken_by: None,
        });
    };
    let h = hex::encode(Sha256::digest(path.as_bytes()));
    let name = format!("{}-{}", model.stem, &h[..8]);
    check_name("model name", &name, Some(&path))?;
    match claim(dir, &name, &path, &model.sha256)? {
        None => Ok(ModelName {
            name,
            stem_taken_by: Some(other),
        }),
        Some(third) => Err(Error::Invalid(format!(
            "{path}: the output names \"{}\" and \"{name}\" are both held by other models ({other}, {third}); \
             give this model another file name",
            model.stem
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stem_belongs_to_its_first_model_and_its_copies() {
        let d = tempfile::tempdir().unwrap();
        let dir = d.path().join("names");
        assert_eq!(claim(&dir, "G", "/a/G.onnx", "s1").unwrap(), None);
        // the same file again, then retrained in place: still its name
        assert_eq!(claim(&dir, "G", "/a/G.onnx", "s1").unwrap(), None);
        assert_eq!(claim(&dir, "G", "/a/G.onnx", "s2").unwrap(), None);
        // a copy of its current content elsewhere shares it
        assert_eq!(claim(&dir, "G", "/c/G.onnx", "s2").unwrap(), None);
        // another model with the same stem does not
        assert_eq!(
            claim(&dir, "G", "/b/G.onnx", "s3").unwrap(),
            Some("/a/G.onnx".to_string())
        );
    }
}
