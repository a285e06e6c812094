//! Flags plus `dannscope.toml` become one [`Settings`] value, before any model is loaded or any file
//! is written. Precedence, for every setting: a flag, then the config file, then the default. Among
//! seeds, a named seed (`--map-seed`, `map_seed`) wins over the general one (`--seed`, `seed`) at the
//! same level, and any flag wins over the config.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, Result};
use dannscope::config::Config;
use dannscope::engine::EngineOptions;
use dannscope::metrics::{ClassificationParams, CohesionParams};
use dannscope::model::OutputOverrides;
use dannscope::project::ProjectOptions;
use dannscope::settings::{InputPipeline, MapSettings, MetricSettings, Seeds, Settings, SplitSel};
use dannscope::tsne::{Init, Method, TsneEngine, TsneParams};

use super::args::{EngineArgs, MapArgs, MetricArgs, ProjectArgs, SeedArgs};

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
}

/// Read the config named by the flags (or ./dannscope.toml when present).
pub fn config(p: Option<&ProjectArgs>) -> Result<Config> {
    let path = p.and_then(|p| p.config.as_deref());
    Config::discover(path).context("cannot read the configuration")
}

fn seeds(f: Option<&SeedArgs>, c: &Config) -> Seeds {
    let d = SeedArgs::default();
    let f = f.unwrap_or(&d);
    let pick =
        |flag: Option<u64>, cfg: Option<u64>| flag.or(f.seed).or(cfg).or(c.seed).unwrap_or(0);
    Seeds {
        split: pick(f.split_seed, c.split_seed),
        map: pick(f.map_seed, c.map_seed),
        metrics: pick(f.metrics_seed, c.metrics_seed),
    }
}

/// Resolve the settings of a command.
pub fn settings(f: &Flags, c: &Config) -> Result<Settings> {
    let seeds = seeds(f.seeds, c);
    let pd = ProjectArgs::default();
    let p = f.project.unwrap_or(&pd);
    let mut codes: BTreeMap<String, String> = c.domain_codes.clone();
    for (k, v) in &p.domain_code {
        codes.insert(k.clone(), v.clone());
    }
    let project = ProjectOptions {
        data: p.data.clone().or_else(|| c.data.clone()),
        manifest: p.manifest.clone().or_else(|| c.manifest.clone()),
        out: p
            .out
            .clone()
            .or_else(|| c.out.clone())
            .unwrap_or_else(|| PathBuf::from("outputs")),
        classes: p.classes.clone().or_else(|| c.classes.clone()),
        domain_codes: codes,
        seed: seeds.split,
        ..ProjectOptions::default()
    };
    let ed = EngineArgs::default();
    let e = f.engine.unwrap_or(&ed);
    let engine = EngineOptions {
        kind: e.engine.or(c.engine).unwrap_or_default(),
        device: e.device.or(c.device).unwrap_or_default(),
        threads: e.threads.or(c.threads).unwrap_or(0),
        batch_size: e.batch_size.or(c.batch_size).unwrap_or(16) as usize,
        ..EngineOptions::default()
    };
    if engine.batch_size == 0 || engine.batch_size > 4096 {
        anyhow::bail!(
            "batch_size = {} in the configuration: expected 1 to 4096",
            engine.batch_size
        );
    }
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
    let mut params = TsneParams::new()
        .perplexity(m.perplexity.or(c.perplexity).unwrap_or(30.0))
        .seed(seeds.map)
        .init(if m.init.as_deref() == Some("random") {
            Init::Random
        } else {
            Init::Pca
        })
        .engine(if m.tsne_engine.as_deref() == Some("linfa") {
            TsneEngine::Linfa
        } else {
            TsneEngine::Native
        });
    if let Some(n) = m.iterations.or(c.iterations) {
        params = params.n_iter(n);
    }
    if let Some(name) = m.neighbours.as_deref().or(c.neighbours.as_deref()) {
        let method = Method::parse(name).with_context(|| {
            format!("neighbours = \"{name}\": expected auto, exact or approximate")
        })?;
        params = params.neighbours(method);
    }
    let map = MapSettings::new(params, m.max_points.or(c.max_points))
        .context("invalid t-SNE settings")?;
    let xd = MetricArgs::default();
    let x = f.metrics.unwrap_or(&xd);
    let metrics = MetricSettings::new(
        ClassificationParams::default()
            .n_resamples(x.bootstrap.or(c.bootstrap).unwrap_or(1000))
            .seed(seeds.metrics),
        CohesionParams::default().seed(seeds.metrics),
    )
    .context("invalid metric settings")?;
    Ok(Settings {
        project,
        split: f.split.or(c.split).unwrap_or_default(),
        engine,
        input,
        outputs,
        map,
        metrics,
        seeds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use dannscope::engine::{Device, EngineKind};

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
bootstrap = 20
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
        assert_eq!(s.map.params().perplexity, 30.0);
        assert_eq!(s.map.params().n_iter, 500);
        assert_eq!(s.map.max_points(), None);
        assert_eq!(s.metrics.classification().n_resamples, 1000);
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
        assert_eq!(s.map.params().perplexity, 10.0);
        assert_eq!(s.map.params().n_iter, 100);
        assert_eq!(s.map.max_points(), Some(50));
        assert_eq!(s.metrics.classification().n_resamples, 20);
        // `seed` is the default of the seeds; a named one wins.
        assert_eq!(
            s.seeds,
            Seeds {
                split: 7,
                map: 8,
                metrics: 7
            }
        );
        assert_eq!(s.project.seed, 7);
        assert_eq!(s.map.params().seed, 8);
        assert_eq!(s.metrics.classification().seed, 7);
        assert_eq!(s.metrics.cohesion().seed, 7);
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
        };
        let m = MapArgs {
            perplexity: Some(5.0),
            iterations: Some(50),
            max_points: Some(40),
            init: Some("random".into()),
            tsne_engine: Some("linfa".into()),
            neighbours: Some("approximate".into()),
        };
        let x = MetricArgs { bootstrap: Some(0) };
        let f = Flags {
            project: Some(&p),
            seeds: Some(&seeds),
            split: Some(SplitSel::All),
            engine: Some(&e),
            map: Some(&m),
            metrics: Some(&x),
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
        assert_eq!(s.outputs.embedding.as_deref(), Some("femb"));
        assert_eq!(s.outputs.logits.as_deref(), Some("flog"));
        assert!(s.input.fast_decode);
        assert_eq!(s.map.params().perplexity, 5.0);
        assert_eq!(s.map.params().n_iter, 50);
        assert_eq!(s.map.params().init, Init::Random);
        assert_eq!(s.map.params().neighbours, Method::Approximate);
        assert_eq!(s.map.params().engine, TsneEngine::Linfa);
        assert_eq!(s.map.max_points(), Some(40));
        assert_eq!(s.metrics.classification().n_resamples, 0);
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
    }
}
