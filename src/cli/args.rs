//! Flag groups shared by the commands. Every flag is optional here so that the resolver can tell a
//! given flag from a default (flags win over `dannscope.toml`, which wins over the defaults named in
//! each help text). Values are parsed and range-checked by clap, before any work starts.

use std::path::PathBuf;

use crate::engine::{Device, EngineKind};
use crate::metrics::CohesionMode;
use crate::shard::ShardSpec;
use crate::split::SplitSel;
use crate::tsne::{Init, Method, TsneEngine};
use clap::Args;

/// Where the data and the outputs are.
#[derive(Debug, Clone, Default, Args)]
pub struct ProjectArgs {
    /// Config file (default: ./dannscope.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data root laid out as <root>/<Domain>/<Class>/<image>.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Split manifest CSV (path,domain,class,split). Without one, a stratified split is made under
    /// <out>/manifests/.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Output root [default: outputs].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Keep only these classes (comma-separated folder names).
    #[arg(long, value_delimiter = ',', value_name = "A,B,...")]
    pub classes: Option<Vec<String>>,
    /// Domain code override, e.g. "Real World=W" (repeatable). Default: first letter.
    #[arg(long = "domain-code", value_name = "NAME=CODE", value_parser = parse_domain_code)]
    pub domain_code: Vec<(String, String)>,
}

pub fn parse_domain_code(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() && !v.trim().is_empty() => {
            Ok((k.trim().to_string(), v.trim().to_string()))
        }
        _ => Err(format!(
            "\"{s}\": expected NAME=CODE, e.g. \"Real World=R\""
        )),
    }
}

/// Seeds, named for what they seed; `--seed` is the default of all three.
#[derive(Debug, Clone, Default, Args)]
pub struct SeedArgs {
    /// Default of every seed below [default: 0].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Seed of a newly made split manifest (image order within each domain × class).
    #[arg(long = "split-seed", value_name = "N")]
    pub split_seed: Option<u64>,
    /// Seed of the t-SNE initial layout and of map subsampling.
    #[arg(long = "map-seed", value_name = "N")]
    pub map_seed: Option<u64>,
    /// Seed of the bootstrap, the proxy A-distance split and metric subsamples.
    #[arg(long = "metrics-seed", value_name = "N")]
    pub metrics_seed: Option<u64>,
}

/// The split worked on.
#[derive(Debug, Clone, Default, Args)]
pub struct SplitArgs {
    /// Split: train, valid, test or all [default: valid].
    #[arg(long, value_name = "SPLIT")]
    pub split: Option<SplitSel>,
}

/// Inference engine and input pipeline: every command that may compute embeddings takes them.
#[derive(Debug, Clone, Default, Args)]
pub struct EngineArgs {
    /// Engine: auto (ONNX Runtime when found, else tract), ort, tract [default: auto].
    #[arg(long, value_name = "ENGINE", value_parser = parse_engine)]
    pub engine: Option<EngineKind>,
    /// Device: auto (CUDA when its execution provider registers), cuda, cpu [default: auto].
    #[arg(long, value_name = "DEVICE", value_parser = parse_device)]
    pub device: Option<Device>,
    /// Images per inference batch [default: 16].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub batch_size: Option<u32>,
    /// Engine threads, 0 = one per core [default: 0].
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Name of the embedding output, when the model does not call it "embedding".
    #[arg(long, value_name = "NAME")]
    pub embedding_output: Option<String>,
    /// Name of the logits output, when the model does not call it "logits".
    #[arg(long, value_name = "NAME")]
    pub logits_output: Option<String>,
    /// Decode large JPEGs at a reduced DCT scale: faster, but not the training pipeline's exact input.
    /// Results are stored apart (<split>-fast-decode) and never mixed with exact ones.
    #[arg(long)]
    pub fast_decode: bool,
    /// Skip the model's self-check (its exporter's PyTorch outputs on a fixed input, compared with
    /// this engine's when it opens; a difference above 1 % per row refuses the model).
    #[arg(long)]
    pub no_self_check: bool,
}

fn parse_engine(s: &str) -> Result<EngineKind, String> {
    EngineKind::parse(s).ok_or_else(|| format!("\"{s}\": expected auto, ort or tract"))
}

fn parse_device(s: &str) -> Result<Device, String> {
    Device::parse(s).ok_or_else(|| format!("\"{s}\": expected auto, cuda or cpu"))
}

/// A flag that takes one of `names` (listed in its help and checked by clap), turned into its typed
/// value by `to` (which sees only those names).
fn one_of<T: Clone + Send + Sync + 'static, const N: usize>(
    names: [&'static str; N],
    to: fn(&str) -> T,
) -> impl clap::builder::TypedValueParser<Value = T> {
    use clap::builder::TypedValueParser;
    clap::builder::PossibleValuesParser::new(names).map(move |s: String| to(&s))
}

/// Joint t-SNE map settings.
#[derive(Debug, Clone, Default, Args)]
pub struct MapArgs {
    /// Perplexity, reduced with a notice for small sets [default: 30].
    #[arg(long, value_name = "P")]
    pub perplexity: Option<f64>,
    /// Iterations after the 250 early-exaggeration iterations [default: 500].
    #[arg(long, value_name = "N")]
    pub iterations: Option<usize>,
    /// Keep at most this many points per map (stratified by domain and class, seeded).
    #[arg(long, value_name = "N")]
    pub max_points: Option<usize>,
    /// Initial layout: pca or random [default: pca].
    #[arg(long, value_name = "INIT", value_parser = one_of(["pca", "random"], |s| match s {
        "random" => Init::Random,
        _ => Init::Pca,
    }))]
    pub init: Option<Init>,
    /// t-SNE implementation: native (reproducible) or linfa (linfa-tsne; not reproducible)
    /// [default: native].
    #[arg(long = "tsne-engine", value_name = "ENGINE", value_parser = one_of(["native", "linfa"], |s| match s {
        "linfa" => TsneEngine::Linfa,
        _ => TsneEngine::Native,
    }))]
    pub tsne_engine: Option<TsneEngine>,
    /// t-SNE neighbours: auto (exact below 100,000 points, approximate and seeded from it on),
    /// exact or approximate [default: auto].
    #[arg(long, value_name = "METHOD", value_parser = one_of(["auto", "exact", "approximate"], |s| {
        Method::parse(s).unwrap_or_default()
    }))]
    pub neighbours: Option<Method>,
    /// Also draw the target placed on a map fitted on the source only (openTSNE's transform),
    /// as `<S>-<T>_placed.{svg,png,npz,csv}`; placement pulls points toward source clusters, so
    /// the joint map stays the honest view.
    #[arg(long)]
    pub place_target: bool,
}

/// Metric settings.
#[derive(Debug, Clone, Default, Args)]
pub struct MetricArgs {
    /// Bootstrap resamples for the 95% intervals, 0 = none [default: 1000].
    #[arg(long, value_name = "N")]
    pub bootstrap: Option<usize>,
    /// Source neighbours of each target image in the per-class transfer [default: 10].
    #[arg(long, value_name = "N")]
    pub transfer_k: Option<usize>,
    /// Neighbours per image in the kNN Jaccard overlap of two models' spaces [default: 10].
    #[arg(long, value_name = "N")]
    pub jaccard_k: Option<usize>,
    /// Source neighbours shown per confidently wrong target image in the report's galleries
    /// [default: 5].
    #[arg(long, value_name = "N")]
    pub gallery_k: Option<usize>,
    /// Quadratic cohesion measures (silhouettes, RBF MMD², kNN transfer accuracy, domain kNN purity,
    /// SND): exact, scalable (repeated anchor samples with an interval) or auto (scalable above
    /// --cohesion-threshold points) [default: auto].
    #[arg(long, value_name = "MODE", value_parser = one_of(["auto", "exact", "scalable"], |s| {
        CohesionMode::parse(s).unwrap_or_default()
    }))]
    pub cohesion_mode: Option<CohesionMode>,
    /// In auto mode, measures over more points than this are scalable [default: 20000].
    #[arg(long, value_name = "N")]
    pub cohesion_threshold: Option<usize>,
    /// Anchors per repeated sample of the scalable mode [default: 400].
    #[arg(long, value_name = "N")]
    pub cohesion_anchors: Option<usize>,
    /// Repeated samples of the scalable mode [default: 10].
    #[arg(long, value_name = "R")]
    pub cohesion_repeats: Option<usize>,
    /// Confidence level of the scalable mode's intervals, in (0, 1) [default: 0.99].
    #[arg(long, value_name = "P")]
    pub cohesion_level: Option<f64>,
}

/// Which part of the work this process does (`embed` across machines).
#[derive(Debug, Clone, Default, Args)]
pub struct ShardArgs {
    /// Embed only shard I of N (0-based, e.g. 0/4): disjoint, contiguous, batch-aligned rows of the
    /// embed order, written under <embeddings>/shards/I-of-N/; `dannscope merge` joins them. `auto`:
    /// from a Slurm array job (SLURM_ARRAY_TASK_ID/_COUNT/_MIN) or a Kubernetes Indexed Job
    /// (JOB_COMPLETION_INDEX, with DANNSCOPE_SHARD_COUNT set to spec.completions). In a Slurm array of
    /// fewer tasks than DANNSCOPE_SHARD_COUNT (failed tasks resubmitted), task IDs are shard indices.
    #[arg(long, value_name = "I/N|auto")]
    pub shard: Option<ShardSpec>,
}

/// The flag groups of every command that may compute embeddings: data and outputs, seeds, split, engine.
#[derive(Debug, Clone, Default, Args)]
pub struct EmbeddingArgs {
    #[command(flatten)]
    pub project: ProjectArgs,
    #[command(flatten)]
    pub seeds: SeedArgs,
    #[command(flatten)]
    pub split: SplitArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        map: MapArgs,
        #[command(flatten)]
        metrics: MetricArgs,
    }

    #[test]
    fn named_choices_become_typed_values() {
        let parse = |init: &str, engine: &str, neighbours: &str, mode: &str| {
            let c = Cli::try_parse_from([
                "x",
                "--init",
                init,
                "--tsne-engine",
                engine,
                "--neighbours",
                neighbours,
                "--cohesion-mode",
                mode,
            ])
            .unwrap();
            (
                c.map.init.unwrap(),
                c.map.tsne_engine.unwrap(),
                c.map.neighbours.unwrap(),
                c.metrics.cohesion_mode.unwrap(),
            )
        };
        assert_eq!(
            parse("random", "linfa", "exact", "scalable"),
            (
                Init::Random,
                TsneEngine::Linfa,
                Method::Exact,
                CohesionMode::Scalable
            )
        );
        assert_eq!(
            parse("pca", "native", "approximate", "exact"),
            (
                Init::Pca,
                TsneEngine::Native,
                Method::Approximate,
                CohesionMode::Exact
            )
        );
        assert_eq!(parse("pca", "native", "auto", "auto").2, Method::Auto);
        assert_eq!(parse("pca", "native", "auto", "auto").3, CohesionMode::Auto);
        let c = Cli::try_parse_from(["x"]).unwrap();
        assert_eq!((c.map.init, c.map.neighbours), (None, None));
    }

    #[test]
    fn names_outside_the_choices_are_refused_with_the_choices() {
        for (flag, bad) in [
            ("--init", "spectral"),
            ("--tsne-engine", "sklearn"),
            ("--neighbours", "Exact"),
            ("--cohesion-mode", "fast"),
        ] {
            let e = Cli::try_parse_from(["x", flag, bad])
                .unwrap_err()
                .to_string();
            assert!(e.contains(bad) && e.contains("possible values"), "{e}");
        }
    }
}
