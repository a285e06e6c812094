//! Flags plus `dannscope.toml` become one [`Settings`] value, before any model is loaded or any file
//! is written. Precedence, for every setting: a flag, then the config file, then the default. Among
//! seeds, a named seed (`--map-seed`, `map_seed`) wins over the general one (`--seed`, `seed`) at the
//! same level, and any flag wins over the config.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::config::Config;
use crate::engine::EngineOptions;
use crate::metrics::{ClassificationParams, CohesionParams, ScaleParams};
use crate::model::OutputOverrides;
use crate::project::ProjectOptions;
use crate::settings::{InputPipeline, MapSettings, MetricSettings, Neighbours, Seeds, Settings};
use crate::shard::ShardSpec;
use crate::split::SplitSel;
use crate::tsne::{Method, TsneParams};
use anyhow::Result;

use super::args::{
    EmbeddingArgs, EngineArgs, MapArgs, MetricArgs, ProjectArgs, SeedArgs, SplitArgs,
};
use super::common::BadSetting;

/// The flag groups a command has (absent groups take the config and defaults).
#[derive(Debug, Clone, Default)]
pub struct Flags<'a> {
    /// Data and output locations.
    pub project: Option<&'a ProjectArgs>,
    /// Seeds.
    pub seeds: Option<&'a SeedArgs>,
    /// The split.
    pub split: Option<SplitSel>,
    /// Engine and input pipeline.
    pub engine: Option<&'a EngineArgs>,
    /// Map settings.
    pub map: Option<&'a MapArgs>,
    /// Metric settings.
    pub metrics: Option<&'a MetricArgs>,
    /// The shard (`embed` only).
    pub shard: Option<ShardSpec>,
}

impl<'a> Flags<'a> {
    /// The groups of every command that may compute embeddings: project, seeds, split and engine.
    pub fn embedding(
        project: &'a ProjectArgs,
        seeds: &'a SeedArgs,
        split: &SplitArgs,
        engine: &'a EngineArgs,
    ) -> Flags<'a> {
        Flags {
            project: Some(project),
            seeds: Some(seeds),
            split: split.split,
            engine: Some(engine),
            ..Flags::default()
        }
    }

    /// Add the map group.
    pub fn with_map(self, map: &'a MapArgs) -> Flags<'a> {
        Flags {
            map: Some(map),
            ..self
        }
    }

    /// Add the shard of an embed job.
    pub fn with_shard(self, shard: Option<ShardSpec>) -> Flags<'a> {
        Flags { shard, ..self }
    }

    /// Add the metric group.
    pub fn with_metrics(self, metrics: &'a MetricArgs) -> Flags<'a> {
        Flags {
            metrics: Some(metrics),
            ..self
        }
    }

    /// Read the config these flags name and resolve every setting: the first step of a command.
    pub fn resolve(&self) -> Result<(Config, Settings)> {
        let cfg = config(self.project)?;
        let s = settings(self, &cfg)?;
        Ok((cfg, s))
    }
}

impl EmbeddingArgs {
    /// These groups as the flags to resolve.
    pub fn flags(&self) -> Flags<'_> {
        Flags::embedding(&self.project, &self.seeds, &self.split, &self.engine)
    }
}

/// Read the config named by the flags (or ./dannscope.toml when present). A file that cannot be read
/// or holds a bad value is a [`BadSetting`] (exit status 2).
pub fn config(p: Option<&ProjectArgs>) -> Result<Config> {
    let path = p.and_then(|p| p.config.as_deref());
    Config::discover(path).map_err(|e| {
        let file = path.unwrap_or(std::path::Path::new(crate::config::FILE_NAME));
        let text = e.chain_text();
        // The error names the file already: say it once.
        let prefix = format!("{}: ", file.display());
        let message = text.strip_prefix(&prefix).unwrap_or(&text).to_string();
        let origin = match path {
            Some(f) => format!("--config {}", f.display()),
            None => file.display().to_string(),
        };
        BadSetting::new(origin, message).into()
    })
}

/// A setting's value and whether a flag gave it (else the config file did).
#[derive(Debug, Clone, Copy)]
struct Given<T> {
    value: T,
    from_flag: bool,
}

/// The flag's value, else the config's, with where it came from.
fn given<T>(flag: Option<T>, cfg: Option<T>) -> Option<Given<T>> {
    match (flag, cfg) {
        (Some(value), _) => Some(Given {
            value,
            from_flag: true,
        }),
        (None, Some(value)) => Some(Given {
            value,
            from_flag: false,
        }),
        (None, None) => None,
    }
}

/// Where a value came from: `--flag value` or `key = value in FILE`. `flag` is the flag's name
/// without dashes (`cohesion-level`); the config key is the same with `_` for `-`.
fn origin(flag: &str, value: &dyn std::fmt::Display, from_flag: bool, c: &Config) -> String {
    if from_flag {
        format!("--{flag} {value}")
    } else {
        format!(
            "{} = {value} in {}",
            flag.replace('-', "_"),
            c.path
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| crate::config::FILE_NAME.into())
        )
    }
}

/// The value of a setting when `ok` accepts it; else a [`BadSetting`] naming the setting, where it
/// came from and what was `expected`.
fn checked<T: std::fmt::Display + Copy>(
    g: Option<Given<T>>,
    flag: &str,
    c: &Config,
    ok: impl Fn(T) -> bool,
    expected: &str,
) -> Result<Option<T>> {
    match g {
        Some(g) if !ok(g.value) => Err(BadSetting::new(
            origin(flag, &g.value, g.from_flag, c),
            format!("expected {expected}"),
        )
        .into()),
        g => Ok(g.map(|g| g.value)),
    }
}

/// The seeds: each named seed from its flag, else `--seed`, else its config key, else `seed`, else
/// the default of [`Seeds`].
pub fn seeds(f: Option<&SeedArgs>, c: &Config) -> Seeds {
    let fd = SeedArgs::default();
    let f = f.unwrap_or(&fd);
    let d = Seeds::default();
    let pick = |flag: Option<u64>, cfg: Option<u64>, default: u64| {
        flag.or(f.seed).or(cfg).or(c.seed).unwrap_or(default)
    };
    Seeds {
        split: pick(f.split_seed, c.split_seed, d.split),
        map: pick(f.map_seed, c.map_seed, d.map),
        metrics: pick(f.metrics_seed, c.metrics_seed, d.metrics),
    }
}

fn scale_params(x: &MetricArgs, c: &Config) -> Result<ScaleParams> {
    let d = ScaleParams::default();
    Ok(ScaleParams {
        mode: x.cohesion_mode.or(c.cohesion_mode).unwrap_or(d.mode),
        threshold: checked(
            given(x.cohesion_threshold, c.cohesion_threshold),
            "cohesion-threshold",
            c,
            |v| v >= 1,
            "at least 1 point",
        )?
        .unwrap_or(d.threshold),
        anchors: checked(
            given(x.cohesion_anchors, c.cohesion_anchors),
            "cohesion-anchors",
            c,
            |v| v >= 2,
            "at least 2 anchors per sample",
        )?
        .unwrap_or(d.anchors),
        repeats: checked(
            given(x.cohesion_repeats, c.cohesion_repeats),
            "cohesion-repeats",
            c,
            |v| v >= 2,
            "at least 2 samples",
        )?
        .unwrap_or(d.repeats),
        level: checked(
            given(x.cohesion_level, c.cohesion_level),
            "cohesion-level",
            c,
            |v| v > 0.0 && v < 1.0,
            "a confidence level strictly between 0 and 1, e.g. 0.99",
        )?
        .unwrap_or(d.level),
    })
}

/// Where the data and the outputs are: each value from its flag, else the config; domain codes from
/// both (a flag wins for the same domain).
pub fn project(p: Option<&ProjectArgs>, c: &Config) -> ProjectOptions {
    let pd = ProjectArgs::default();
    let p = p.unwrap_or(&pd);
    let mut codes: BTreeMap<String, String> = c.domain_codes.clone();
    for (k, v) in &p.domain_code {
        codes.insert(k.clone(), v.clone());
    }
    ProjectOptions {
        data: p.data.clone().or_else(|| c.data.clone()),
        manifest: p.manifest.clone().or_else(|| c.manifest.clone()),
        out: p
            .out
            .clone()
            .or_else(|| c.out.clone())
            .unwrap_or_else(|| PathBuf::from("outputs")),
        classes: p.classes.clone().or_else(|| c.classes.clone()),
        domain_codes: codes,
        ..ProjectOptions::default()
    }
}

/// Resolve the settings of a command (`--shard auto` reads the process environment).
pub fn settings(f: &Flags, c: &Config) -> Result<Settings> {
    settings_env(f, c, &|k| std::env::var(k).ok())
}

/// Resolve the settings of a command, looking environment variables up with `env`.
pub fn settings_env(
    f: &Flags,
    c: &Config,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Settings> {
    let shard = f
        .shard
        .map(|s| {
            s.resolve(env).map_err(|e| {
                let given = match s {
                    ShardSpec::Auto => "auto".to_string(),
                    ShardSpec::Fixed(f) => f.to_string(),
                };
                BadSetting::new(format!("--shard {given}"), e.to_string())
            })
        })
        .transpose()?;
    let seeds = seeds(f.seeds, c);
    let project = project(f.project, c);
    let ed = EngineArgs::default();
    let e = f.engine.unwrap_or(&ed);
    let batch_size = checked(
        given(e.batch_size, c.batch_size),
        "batch-size",
        c,
        |v| (1..=4096).contains(&v),
        "1 to 4096 images",
    )?;
    let engine_default = EngineOptions::default();
    let skip_self_check = e.no_self_check || c.no_self_check.unwrap_or(false);
    let engine = EngineOptions {
        kind: e.engine.or(c.engine).unwrap_or(engine_default.kind),
        device: e.device.or(c.device).unwrap_or(engine_default.device),
        threads: e.threads.or(c.threads).unwrap_or(engine_default.threads),
        batch_size: batch_size.map_or(engine_default.batch_size, |b| b as usize),
        // Skipped on request; otherwise the default tolerance.
        self_check: engine_default.self_check.filter(|_| !skip_self_check),
        ..engine_default
    };
    let input = InputPipeline {
        fast_decode: e.fast_decode || c.fast_decode.unwrap_or(false),
    };
    let outputs = OutputOverrides {
        embedding: e
            .embedding_output
            .clone()
            .or_else(|| c.embedding_output.clone()),
        logits: e.logits_output.clone().or_else(|| c.logits_output.clone()),
    };
    let md = MapArgs::default();
    let m = f.map.unwrap_or(&md);
    let perplexity = checked(
        given(m.perplexity, c.perplexity),
        "perplexity",
        c,
        |v| v.is_finite() && v > 0.0,
        "a finite number > 0, e.g. 30",
    )?;
    let max_points = checked(
        given(m.max_points, c.max_points),
        "max-points",
        c,
        |v| v >= 5,
        "at least 5 points",
    )?;
    // Every value not given keeps the default of `TsneParams`.
    let mut params = TsneParams::new();
    if let Some(p) = perplexity {
        params = params.perplexity(p);
    }
    if let Some(i) = m.init.clone() {
        params = params.init(i);
    }
    if let Some(t) = m.tsne_engine {
        params = params.engine(t);
    }
    if let Some(n) = m.iterations.or(c.iterations) {
        params = params.n_iter(n);
    }
    let method = match (m.neighbours, c.neighbours.as_deref()) {
        (Some(method), _) => Some(method),
        (None, Some(v)) => Some(Method::parse(v).ok_or_else(|| {
            BadSetting::new(
                origin("neighbours", &v, false, c),
                "expected auto, exact or approximate",
            )
        })?),
        (None, None) => None,
    };
    if let Some(method) = method {
        params = params.neighbours(method);
    }
    let map = MapSettings::new(params, max_points)
        .map_err(|e| BadSetting::new("the t-SNE settings", e.to_string()))?
        .with_place_target(m.place_target || c.place_target.unwrap_or(false));
    let xd = MetricArgs::default();
    let x = f.metrics.unwrap_or(&xd);
    let k = |flag: Option<usize>, cfg: Option<usize>, name: &str, default: usize| {
        checked(
            given(flag, cfg),
            name,
            c,
            |v| v >= 1,
            "at least 1 neighbour",
        )
        .map(|v| v.unwrap_or(default))
    };
    let d = Neighbours::default();
    let neighbours = Neighbours {
        transfer: k(x.transfer_k, c.transfer_k, "transfer-k", d.transfer)?,
        jaccard: k(x.jaccard_k, c.jaccard_k, "jaccard-k", d.jaccard)?,
        gallery: k(x.gallery_k, c.gallery_k, "gallery-k", d.gallery)?,
    };
    let mut classification = ClassificationParams::default();
    if let Some(n) = x.bootstrap.or(c.bootstrap) {
        classification = classification.n_resamples(n);
    }
    let metrics = MetricSettings::new(
        classification,
        CohesionParams::default().scale(scale_params(x, c)?),
    )
    .and_then(|m| m.with_neighbours(neighbours))
    .map_err(|e| BadSetting::new("the metric settings", e.to_string()))?;
    Ok(Settings {
        project,
        split: f.split.or(c.split).unwrap_or_default(),
        engine,
        input,
        outputs,
        map,
        metrics,
        seeds,
        shard,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Device, EngineKind};
    use crate::metrics::CohesionMode;
    use crate::tsne::{Init, TsneEngine};

    fn cfg(text: &str) -> Config {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("dannscope.toml");
        std::fs::write(&p, text).unwrap();
        let mut c = Config::read(&p).unwrap();
        // Paths in these tests are compared as given.
        for x in [&mut c.data, &mut c.manifest, &mut c.out]
            .into_iter()
            .flatten()
        {
            *x = x.strip_prefix(d.path()).unwrap().to_path_buf();
        }
        c
    }

    const CONFIG: &str = r#"
data = "cdata"
manifest = "cman.csv"
out = "cout"
classes = ["A"]
split = "test"
seed = 7
map_seed = 8
engine = "tract"
device = "cpu"
batch_size = 4
threads = 3
embedding_output = "cemb"
logits_output = "clog"
fast_decode = true
perplexity = 10.0
iterations = 100
max_points = 50
place_target = true
bootstrap = 20
transfer_k = 12
jaccard_k = 4
[domain_codes]
"Real World" = "W"
"#;

    #[test]
    fn defaults_without_flags_or_config() {
        let s = settings(&Flags::default(), &Config::default()).unwrap();
        assert_eq!(s.split, SplitSel::Valid);
        assert_eq!(s.project.out, PathBuf::from("outputs"));
        assert_eq!(s.engine.kind, EngineKind::Auto);
        assert_eq!(s.engine.device, Device::Auto);
        assert_eq!((s.engine.batch_size, s.engine.threads), (16, 0));
        assert!(!s.input.fast_decode);
        assert_eq!(s.seeds, Seeds::default());
        assert_eq!(s.map.params(&s.seeds).perplexity, 30.0);
        assert_eq!(s.map.params(&s.seeds).n_iter, 500);
        assert_eq!(s.map.max_points(), None);
        assert!(!s.map.place_target());
        assert_eq!(s.metrics.classification(&s.seeds).n_resamples, 1000);
        assert_eq!(s.metrics.neighbours(), Neighbours::default());
    }

    #[test]
    fn config_over_defaults_for_every_setting() {
        let c = cfg(CONFIG);
        let s = settings(&Flags::default(), &c).unwrap();
        assert_eq!(s.project.data, Some(PathBuf::from("cdata")));
        assert_eq!(s.project.manifest, Some(PathBuf::from("cman.csv")));
        assert_eq!(s.project.out, PathBuf::from("cout"));
        assert_eq!(s.project.classes, Some(vec!["A".to_string()]));
        assert_eq!(s.project.domain_codes["Real World"], "W");
        assert_eq!(s.split, SplitSel::Test);
        assert_eq!(s.engine.kind, EngineKind::Tract);
        assert_eq!(s.engine.device, Device::Cpu);
        assert_eq!((s.engine.batch_size, s.engine.threads), (4, 3));
        assert_eq!(s.outputs.embedding.as_deref(), Some("cemb"));
        assert_eq!(s.outputs.logits.as_deref(), Some("clog"));
        assert!(s.input.fast_decode);
        assert_eq!(s.map.params(&s.seeds).perplexity, 10.0);
        assert_eq!(s.map.params(&s.seeds).n_iter, 100);
        assert_eq!(s.map.max_points(), Some(50));
        assert!(s.map.place_target());
        assert_eq!(s.metrics.classification(&s.seeds).n_resamples, 20);
        assert_eq!(
            s.metrics.neighbours(),
            Neighbours {
                transfer: 12,
                jaccard: 4,
                gallery: 5
            }
        );
        // `seed` is the default of the seeds; a named one wins.
        assert_eq!(
            s.seeds,
            Seeds {
                split: 7,
                map: 8,
                metrics: 7
            }
        );
        assert_eq!(s.map.params(&s.seeds).seed, 8);
        assert_eq!(s.metrics.classification(&s.seeds).seed, 7);
        assert_eq!(s.metrics.cohesion(&s.seeds).seed, 7);
        assert_eq!(s.metrics.cohesion(&s.seeds).proxy_a.seed, 7);
    }

    #[test]
    fn flags_over_config_for_every_setting() {
        let c = cfg(CONFIG);
        let p = ProjectArgs {
            config: None,
            data: Some("fdata".into()),
            manifest: Some("fman.csv".into()),
            out: Some("fout".into()),
            classes: Some(vec!["B".into()]),
            domain_code: vec![("Real World".into(), "R".into())],
        };
        let seeds = SeedArgs {
            seed: Some(1),
            split_seed: None,
            map_seed: None,
            metrics_seed: Some(2),
        };
        let e = EngineArgs {
            engine: Some(EngineKind::Ort),
            device: Some(Device::Cuda),
            batch_size: Some(32),
            threads: Some(1),
            embedding_output: Some("femb".into()),
            logits_output: Some("flog".into()),
            fast_decode: true,
            no_self_check: true,
        };
        let m = MapArgs {
            perplexity: Some(5.0),
            iterations: Some(50),
            max_points: Some(40),
            init: Some(Init::Random),
            tsne_engine: Some(TsneEngine::Linfa),
            neighbours: Some(Method::Approximate),
            place_target: true,
        };
        let x = MetricArgs {
            bootstrap: Some(0),
            transfer_k: Some(7),
            jaccard_k: None,
            gallery_k: Some(3),
            ..MetricArgs::default()
        };
        let f = Flags {
            project: Some(&p),
            seeds: Some(&seeds),
            split: Some(SplitSel::All),
            engine: Some(&e),
            map: Some(&m),
            metrics: Some(&x),
            shard: None,
        };
        let s = settings(&f, &c).unwrap();
        assert_eq!(s.project.data, Some(PathBuf::from("fdata")));
        assert_eq!(s.project.manifest, Some(PathBuf::from("fman.csv")));
        assert_eq!(s.project.out, PathBuf::from("fout"));
        assert_eq!(s.project.classes, Some(vec!["B".to_string()]));
        assert_eq!(s.project.domain_codes["Real World"], "R");
        assert_eq!(s.split, SplitSel::All);
        assert_eq!(s.engine.kind, EngineKind::Ort);
        assert_eq!(s.engine.device, Device::Cuda);
        assert_eq!((s.engine.batch_size, s.engine.threads), (32, 1));
        assert_eq!(s.engine.self_check, None);
        assert_eq!(s.outputs.embedding.as_deref(), Some("femb"));
        assert_eq!(s.outputs.logits.as_deref(), Some("flog"));
        assert!(s.input.fast_decode);
        assert_eq!(s.map.params(&s.seeds).perplexity, 5.0);
        assert_eq!(s.map.params(&s.seeds).n_iter, 50);
        assert_eq!(s.map.params(&s.seeds).init, Init::Random);
        assert_eq!(s.map.params(&s.seeds).neighbours, Method::Approximate);
        assert_eq!(s.map.params(&s.seeds).engine, TsneEngine::Linfa);
        assert_eq!(s.map.max_points(), Some(40));
        assert!(s.map.place_target());
        assert_eq!(s.metrics.classification(&s.seeds).n_resamples, 0);
        // flag > file > default, one count at a time
        assert_eq!(
            s.metrics.neighbours(),
            Neighbours {
                transfer: 7,
                jaccard: 4,
                gallery: 3
            }
        );
        // Flag `--seed 1` beats the config's `map_seed = 8`; `--metrics-seed 2` beats `--seed`.
        assert_eq!(
            s.seeds,
            Seeds {
                split: 1,
                map: 1,
                metrics: 2
            }
        );
    }

    #[test]
    fn shards_resolve_before_any_work() {
        use crate::shard::Shard;
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let s = settings(&Flags::default(), &Config::default()).unwrap();
        assert_eq!(s.shard, None);
        let f = Flags {
            shard: Some("2/4".parse().unwrap()),
            ..Flags::default()
        };
        let s = settings_env(&f, &Config::default(), &env(&[])).unwrap();
        assert_eq!(s.shard, Some(Shard::new(2, 4).unwrap()));
        let f = Flags {
            shard: Some(ShardSpec::Auto),
            ..Flags::default()
        };
        let slurm = env(&[
            ("SLURM_ARRAY_TASK_ID", "3"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_MAX", "4"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        let s = settings_env(&f, &Config::default(), &slurm).unwrap();
        assert_eq!(s.shard, Some(Shard::new(2, 4).unwrap()));
        let e = settings_env(&f, &Config::default(), &env(&[])).unwrap_err();
        let msg = format!("{e:#}");
        assert!(
            msg.contains("--shard") && msg.contains("SLURM_ARRAY_TASK_ID"),
            "{msg}"
        );
    }

    #[test]
    fn bad_values_fail_before_any_work() {
        let m = MapArgs {
            perplexity: Some(-3.0),
            ..MapArgs::default()
        };
        let f = Flags {
            map: Some(&m),
            ..Flags::default()
        };
        let e = settings(&f, &Config::default()).unwrap_err();
        assert!(format!("{e:#}").contains("perplexity"), "{e:#}");
        let m = MapArgs {
            max_points: Some(2),
            ..MapArgs::default()
        };
        let f = Flags {
            map: Some(&m),
            ..Flags::default()
        };
        assert!(settings(&f, &Config::default()).is_err());
        let x = MetricArgs {
            gallery_k: Some(0),
            ..MetricArgs::default()
        };
        let f = Flags {
            metrics: Some(&x),
            ..Flags::default()
        };
        let e = settings(&f, &Config::default()).unwrap_err();
        assert!(format!("{e:#}").contains("--gallery-k 0"), "{e:#}");
    }

    #[test]
    fn cohesion_mode_flag_over_config_over_default() {
        let d = settings(&Flags::default(), &Config::default()).unwrap();
        assert_eq!(d.metrics.cohesion(&d.seeds).scale, ScaleParams::default());
        let c =
            cfg("cohesion_mode = \"exact\"\ncohesion_threshold = 5000\ncohesion_repeats = 20\ncohesion_level = 0.9\n");
        let s = settings(&Flags::default(), &c).unwrap();
        let sc = s.metrics.cohesion(&s.seeds).scale;
        assert_eq!(sc.mode, CohesionMode::Exact);
        assert_eq!(sc.level, 0.9);
        assert_eq!((sc.threshold, sc.anchors, sc.repeats), (5000, 400, 20));
        assert!(!sc.scalable(1_000_000));
        let x = MetricArgs {
            cohesion_mode: Some(CohesionMode::Scalable),
            cohesion_anchors: Some(50),
            cohesion_level: Some(0.95),
            ..MetricArgs::default()
        };
        let f = Flags {
            metrics: Some(&x),
            ..Flags::default()
        };
        let s = settings(&f, &c).unwrap();
        let sc = s.metrics.cohesion(&s.seeds).scale;
        assert_eq!(sc.mode, CohesionMode::Scalable);
        assert_eq!((sc.threshold, sc.anchors, sc.repeats), (5000, 50, 20));
        assert_eq!(sc.level, 0.95);
        assert!(sc.scalable(10));
        let auto = ScaleParams {
            mode: CohesionMode::Auto,
            ..sc
        };
        assert!(!auto.scalable(5000) && auto.scalable(5001));
    }

    #[test]
    fn bad_cohesion_settings_fail_before_any_work() {
        for x in [
            MetricArgs {
                cohesion_repeats: Some(1),
                ..MetricArgs::default()
            },
            MetricArgs {
                cohesion_anchors: Some(0),
                ..MetricArgs::default()
            },
            MetricArgs {
                cohesion_threshold: Some(0),
                ..MetricArgs::default()
            },
            MetricArgs {
                cohesion_level: Some(1.0),
                ..MetricArgs::default()
            },
            MetricArgs {
                cohesion_level: Some(f64::NAN),
                ..MetricArgs::default()
            },
        ] {
            let f = Flags {
                metrics: Some(&x),
                ..Flags::default()
            };
            let e = settings(&f, &Config::default()).unwrap_err();
            assert!(format!("{e:#}").contains("cohesion"), "{e:#}");
        }
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("dannscope.toml");
        std::fs::write(&p, "cohesion_mode = \"fast\"\n").unwrap();
        let e = Config::read(&p).unwrap_err();
        assert!(e.to_string().contains("dannscope.toml"), "{e}");
    }
}
