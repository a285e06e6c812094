//! The model contract: read an ONNX file's graph interface and `dannscope.*` metadata, and refuse files
//! that break the contract before any image is read.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use tract_onnx::pb;
use tract_onnx::prelude::Framework;

use crate::error::{Error, Result};
use crate::preprocess::{Interpolation, PreprocessConfig};

/// Largest accepted `dannscope.input_size` (a larger one would ask for gigabytes per image).
pub const MAX_INPUT_SIZE: u32 = 8192;

/// Which outputs to read, when the model does not use the contract's names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutputOverrides {
    /// Name of the embedding output (default `embedding`).
    pub embedding: Option<String>,
    /// Name of the logits output (default `logits`).
    pub logits: Option<String>,
}

/// A dimension of a graph value: fixed or symbolic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(i64),
    /// A named or unknown size.
    Symbolic(String),
}

impl std::fmt::Display for Dim {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dim::Fixed(v) => write!(f, "{v}"),
            Dim::Symbolic(s) if s.is_empty() => f.write_str("?"),
            Dim::Symbolic(s) => f.write_str(s),
        }
    }
}

/// A graph input or output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueInfo {
    /// Its name.
    pub name: String,
    /// ONNX element type code (1 = float32).
    pub elem_type: i32,
    /// Shape, when declared.
    pub shape: Option<Vec<Dim>>,
}

fn shape_str(s: &Option<Vec<Dim>>) -> String {
    match s {
        None => "unknown shape".into(),
        Some(d) => format!(
            "[{}]",
            d.iter()
                .map(|x| x.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Names of the graph outputs that were read.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct OutputNames {
    /// The embedding output.
    pub embedding: String,
    /// The logits output, if any.
    pub logits: Option<String>,
    /// The domain-discriminator output, if any.
    pub domain_logits: Option<String>,
}

/// Everything dannscope needs to know about a model file.
#[derive(Debug, Clone)]
pub struct ModelInfo {
    /// The file.
    pub path: PathBuf,
    /// File stem, used for output folders.
    pub stem: String,
    /// SHA-256 of the file.
    pub sha256: String,
    /// Architecture name.
    pub arch: String,
    /// The single image input.
    pub input: ValueInfo,
    /// Outputs to read.
    pub outputs: OutputNames,
    /// Every graph output.
    pub all_outputs: Vec<ValueInfo>,
    /// Embedding width when the graph declares it.
    pub embedding_dim: Option<usize>,
    /// Number of logits when the graph declares it.
    pub logits_dim: Option<usize>,
    /// Preprocessing from the metadata.
    pub preprocess: PreprocessConfig,
    /// Class names in logit order (`dannscope.classes`).
    pub classes: Option<Vec<String>>,
    /// `dannscope.source`.
    pub source: Option<String>,
    /// `dannscope.target`.
    pub target: Option<String>,
    /// `dannscope.epoch`.
    pub epoch: Option<u32>,
    /// All metadata.
    pub metadata: BTreeMap<String, String>,
}

fn value_info(v: &pb::ValueInfoProto) -> ValueInfo {
    let mut elem_type = 0;
    let mut shape = None;
    if let Some(pb::TypeProto {
        value: Some(pb::type_proto::Value::TensorType(t)),
        ..
    }) = &v.r#type
    {
        elem_type = t.elem_type;
        shape = t.shape.as_ref().map(|s| {
            s.dim
                .iter()
                .map(|d| match &d.value {
                    Some(pb::tensor_shape_proto::dimension::Value::DimValue(v)) => Dim::Fixed(*v),
                    Some(pb::tensor_shape_proto::dimension::Value::DimParam(p)) => {
                        Dim::Symbolic(p.clone())
                    }
                    None => Dim::Symbolic(String::new()),
                })
                .collect()
        });
    }
    ValueInfo {
        name: v.name.clone(),
        elem_type,
        shape,
    }
}

fn contract_err(path: &Path, msg: impl std::fmt::Display) -> Error {
    Error::Invalid(format!(
        "{}: does not follow the model contract: {msg}",
        path.display()
    ))
}

/// The graph's one image input (initializers aside): float32 `[N, 3, H, W]` with `H = W` where fixed.
/// Returns it and its fixed side, if any.
fn image_input(path: &Path, graph: &pb::GraphProto) -> Result<(ValueInfo, Option<u32>)> {
    let initializers: std::collections::HashSet<&str> =
        graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<ValueInfo> = graph
        .input
        .iter()
        .filter(|i| !initializers.contains(i.name.as_str()))
        .map(value_info)
        .collect();
    if inputs.len() != 1 {
        return Err(contract_err(
            path,
            format!(
                "expected exactly one input [N, 3, H, W], found {} ({})",
                inputs.len(),
                inputs
                    .iter()
                    .map(|i| format!("{} {}", i.name, shape_str(&i.shape)))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    }
    let input = inputs.into_iter().next().unwrap_or_else(|| unreachable!());
    if input.elem_type != 1 && input.elem_type != 0 {
        return Err(contract_err(
            path,
            format!(
                "input \"{}\" must be float32, found ONNX element type {}",
                input.name, input.elem_type
            ),
        ));
    }
    let Some(shape) = &input.shape else {
        return Ok((input, None));
    };
    if shape.len() != 4 {
        return Err(contract_err(
            path,
            format!(
                "input \"{}\" must have rank 4 [N, 3, H, W], found rank {} {}",
                input.name,
                shape.len(),
                shape_str(&input.shape)
            ),
        ));
    }
    if let Dim::Fixed(c) = shape[1] {
        if c != 3 {
            return Err(contract_err(
                path,
                format!(
                    "input \"{}\" must have 3 channels [N, 3, H, W], found {}",
                    input.name,
                    shape_str(&input.shape)
                ),
            ));
        }
    }
    let mut static_hw = None;
    if let (Dim::Fixed(h), Dim::Fixed(w)) = (&shape[2], &shape[3]) {
        if h != w {
            return Err(contract_err(
                path,
                format!(
                    "input must be square (H = W), found {}",
                    shape_str(&input.shape)
                ),
            ));
        }
        static_hw = Some(*h as u32);
    }
    Ok((input, static_hw))
}

/// The outputs a model's rows are read from, and their widths where the graph declares them.
struct ChosenOutputs {
    names: OutputNames,
    embedding_dim: Option<usize>,
    logits_dim: Option<usize>,
}

/// Picks the embedding output (by override, by the name `embedding`, or the only `[N, D]` output),
/// the logits (by override or the name `logits`) and `domain_logits`, and checks that the first two
/// are 2-D.
fn choose_outputs(
    path: &Path,
    outputs: &[ValueInfo],
    overrides: &OutputOverrides,
) -> Result<ChosenOutputs> {
    let find = |n: &str| outputs.iter().find(|o| o.name == n);
    let listing = || {
        outputs
            .iter()
            .map(|o| format!("{} {}", o.name, shape_str(&o.shape)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let embedding = match &overrides.embedding {
        Some(n) => find(n).ok_or_else(|| {
            contract_err(
                path,
                format!("no output named \"{n}\" (outputs: {})", listing()),
            )
        })?,
        None => match find("embedding") {
            Some(o) => o,
            None if outputs.len() == 1
                && outputs[0].shape.as_ref().is_none_or(|s| s.len() == 2) =>
            {
                &outputs[0]
            }
            None => {
                return Err(contract_err(
                    path,
                    format!(
                    "expected an output named \"embedding\" [N, D] (or an embedding-output name \
                         override), found outputs: {}",
                    listing()
                ),
                ))
            }
        },
    };
    let logits = match &overrides.logits {
        Some(n) => Some(find(n).ok_or_else(|| {
            contract_err(
                path,
                format!("no output named \"{n}\" (outputs: {})", listing()),
            )
        })?),
        None => find("logits").filter(|o| o.name != embedding.name),
    };
    let dim2 = |o: &ValueInfo, what: &str| -> Result<Option<usize>> {
        match &o.shape {
            None => Ok(None),
            Some(s) if s.len() == 2 => Ok(match s[1] {
                Dim::Fixed(v) if v > 0 => Some(v as usize),
                _ => None,
            }),
            Some(_) => Err(contract_err(
                path,
                format!(
                    "{what} output \"{}\" must be [N, {}], found {}",
                    o.name,
                    if what == "embedding" { "D" } else { "C" },
                    shape_str(&o.shape)
                ),
            )),
        }
    };
    let embedding_dim = dim2(embedding, "embedding")?;
    let logits_dim = match logits {
        Some(l) => dim2(l, "logits")?,
        None => None,
    };
    Ok(ChosenOutputs {
        names: OutputNames {
            embedding: embedding.name.clone(),
            logits: logits.map(|l| l.name.clone()),
            domain_logits: find("domain_logits").map(|d| d.name.clone()),
        },
        embedding_dim,
        logits_dim,
    })
}

/// What the `dannscope.*` metadata says, checked.
struct Metadata {
    preprocess: PreprocessConfig,
    classes: Option<Vec<String>>,
    arch: Option<String>,
    source: Option<String>,
    target: Option<String>,
    epoch: Option<u32>,
}

impl Metadata {
    /// Reads the metadata, checking it against the graph: `static_hw` (the input's fixed side) and
    /// `logits_dim` (the declared number of logits).
    fn read(
        path: &Path,
        metadata: &BTreeMap<String, String>,
        static_hw: Option<u32>,
        logits_dim: Option<usize>,
    ) -> Result<Metadata> {
        let meta = |k: &str| {
            metadata
                .get(k)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let bad_meta = |k: &str, v: &str, exp: &str| {
            contract_err(path, format!("metadata {k} = \"{v}\": expected {exp}"))
        };
        let input_size = match meta("dannscope.input_size") {
            Some(v) => v
                .parse::<u32>()
                .ok()
                .filter(|&s| s > 0 && s <= MAX_INPUT_SIZE)
                .ok_or_else(|| {
                    bad_meta(
                        "dannscope.input_size",
                        &v,
                        "a positive integer of at most 8192",
                    )
                })?,
            None => static_hw.unwrap_or(224),
        };
        if let Some(hw) = static_hw {
            if hw != input_size {
                return Err(contract_err(
                        path,
                        format!("dannscope.input_size is {input_size} but the graph input is fixed at {hw}×{hw}"),
                    ));
            }
        }
        let crop_pct = match meta("dannscope.crop_pct") {
            Some(v) => v
                .parse::<f64>()
                .ok()
                .filter(|c| *c > 0.0 && *c <= 1.0)
                .ok_or_else(|| bad_meta("dannscope.crop_pct", &v, "a number in (0, 1]"))?,
            None => 0.875,
        };
        let interpolation = match meta("dannscope.interpolation") {
            Some(v) => Interpolation::parse(&v)
                .ok_or_else(|| bad_meta("dannscope.interpolation", &v, "bilinear or bicubic"))?,
            None => Interpolation::Bilinear,
        };
        let triple = |k: &str, default: [f32; 3]| -> Result<[f32; 3]> {
            match meta(k) {
                None => Ok(default),
                Some(v) => {
                    let t = v.trim_matches(|c| c == '[' || c == ']' || c == '(' || c == ')');
                    let parts: Vec<f32> = t
                        .split(',')
                        .map(|x| x.trim().parse::<f32>())
                        .collect::<std::result::Result<_, _>>()
                        .map_err(|_| bad_meta(k, &v, "three comma-separated numbers"))?;
                    if parts.len() != 3 || parts.iter().any(|x| !x.is_finite()) {
                        return Err(bad_meta(k, &v, "three comma-separated numbers"));
                    }
                    Ok([parts[0], parts[1], parts[2]])
                }
            }
        };
        let mean = triple("dannscope.mean", [0.485, 0.456, 0.406])?;
        let std = triple("dannscope.std", [0.229, 0.224, 0.225])?;
        if std.iter().any(|s| *s <= 0.0) {
            return Err(bad_meta(
                "dannscope.std",
                metadata
                    .get("dannscope.std")
                    .map(String::as_str)
                    .unwrap_or(""),
                "three positive numbers",
            ));
        }
        let classes = match meta("dannscope.classes") {
            None => None,
            Some(v) => {
                let c: Vec<String> = serde_json::from_str(&v).map_err(|_| {
                    bad_meta("dannscope.classes", &v, "a JSON array of class names")
                })?;
                if let Some(n) = logits_dim {
                    if c.len() != n {
                        return Err(contract_err(
                            path,
                            format!(
                                "dannscope.classes names {} classes but the logits output has {n}",
                                c.len()
                            ),
                        ));
                    }
                }
                Some(c)
            }
        };
        let epoch = match meta("dannscope.epoch") {
            None => None,
            Some(v) => Some(
                v.parse::<u32>()
                    .map_err(|_| bad_meta("dannscope.epoch", &v, "a non-negative integer"))?,
            ),
        };
        Ok(Metadata {
            preprocess: PreprocessConfig::new(input_size, crop_pct, interpolation, mean, std),
            classes,
            arch: meta("dannscope.arch"),
            source: meta("dannscope.source"),
            target: meta("dannscope.target"),
            epoch,
        })
    }
}

impl ModelInfo {
    /// Read and check a model file.
    pub fn load(path: &Path, overrides: &OutputOverrides) -> Result<ModelInfo> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        if bytes.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: the model file is empty (expected an ONNX model)",
                path.display()
            )));
        }
        let proto = tract_onnx::onnx()
            .proto_model_for_read(&mut bytes.as_slice())
            .map_err(|e| {
                Error::Invalid(format!(
                    "{}: not a readable ONNX model (truncated or not ONNX?): {e}",
                    path.display()
                ))
            })?;
        let graph = proto
            .graph
            .as_ref()
            .ok_or_else(|| contract_err(path, "the file holds no graph (truncated?)"))?;
        let sha256 = {
            use sha2::{Digest, Sha256};
            hex::encode(Sha256::digest(&bytes))
        };
        Self::from_proto(path, &proto, graph, sha256, overrides)
    }

    fn from_proto(
        path: &Path,
        proto: &pb::ModelProto,
        graph: &pb::GraphProto,
        sha256: String,
        overrides: &OutputOverrides,
    ) -> Result<ModelInfo> {
        let (input, static_hw) = image_input(path, graph)?;
        let all_outputs: Vec<ValueInfo> = graph.output.iter().map(value_info).collect();
        let chosen = choose_outputs(path, &all_outputs, overrides)?;
        let metadata: BTreeMap<String, String> = proto
            .metadata_props
            .iter()
            .map(|p| (p.key.clone(), p.value.clone()))
            .collect();
        let meta = Metadata::read(path, &metadata, static_hw, chosen.logits_dim)?;
        let stem = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "model".into());
        Ok(ModelInfo {
            path: path.to_path_buf(),
            arch: meta.arch.unwrap_or_else(|| stem.clone()),
            stem,
            sha256,
            outputs: chosen.names,
            input,
            all_outputs,
            embedding_dim: chosen.embedding_dim,
            logits_dim: chosen.logits_dim,
            preprocess: meta.preprocess,
            classes: meta.classes,
            source: meta.source,
            target: meta.target,
            epoch: meta.epoch,
            metadata,
        })
    }

    /// Map dataset classes to the model's logit indices: by name when the model carries
    /// `dannscope.classes` (a dataset with a subset of the model's classes is fine), by count otherwise.
    /// Returns, for each dataset class, its logit index, and the class names in logit order.
    pub fn class_mapping(&self, dataset_classes: &[String]) -> Result<(Vec<usize>, Vec<String>)> {
        match &self.classes {
            Some(names) => {
                let mut map = Vec::with_capacity(dataset_classes.len());
                let mut missing = Vec::new();
                for c in dataset_classes {
                    match names.iter().position(|n| n == c) {
                        Some(i) => map.push(i),
                        None => missing.push(c.clone()),
                    }
                }
                if !missing.is_empty() {
                    return Err(contract_err(
                        &self.path,
                        format!(
                            "its classes (dannscope.classes: {}) do not cover the dataset's: missing {}",
                            crate::dataset::preview(names, 12),
                            crate::dataset::preview(&missing, 12)
                        ),
                    ));
                }
                Ok((map, names.clone()))
            }
            None => {
                if let Some(n) = self.logits_dim {
                    if n != dataset_classes.len() {
                        return Err(contract_err(
                            &self.path,
                            format!(
                                "the logits output has {n} classes but the dataset has {} ({}); \
                                 pick the classes with --classes or add dannscope.classes to the model",
                                dataset_classes.len(),
                                crate::dataset::preview(dataset_classes, 12)
                            ),
                        ));
                    }
                }
                Ok((
                    (0..dataset_classes.len()).collect(),
                    dataset_classes.to_vec(),
                ))
            }
        }
    }

    /// What the `embedding` output is, in words, from `dannscope.embedding` (the contract's default
    /// is `g-output`): shown in the report's provenance.
    pub fn embedding_description(&self) -> String {
        match self.metadata.get("dannscope.embedding").map(|s| s.trim()) {
            None | Some("g-output") => "G(x): what the classifier and the discriminator see".into(),
            Some("pre-logits") => {
                "the backbone's pre-logits feature (the classifier and the discriminator see G(x))"
                    .into()
            }
            Some(other) => format!("{other} (dannscope.embedding)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedding_description_follows_the_metadata() {
        let tiny = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/models/tiny.onnx");
        let mut m = ModelInfo::load(&tiny, &OutputOverrides::default()).unwrap();
        m.metadata.remove("dannscope.embedding");
        assert!(m.embedding_description().starts_with("G(x)"));
        for (value, says) in [("g-output", "G(x)"), ("pre-logits", "pre-logits feature")] {
            m.metadata
                .insert("dannscope.embedding".into(), value.into());
            assert!(m.embedding_description().contains(says), "{value}");
        }
    }
}
