//! Options shared by the commands that read images or stored embeddings.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use clap::Args as ClapArgs;
use dannscope::config::Config;
use dannscope::embed::Event;
use dannscope::engine::{Device, EngineKind, EngineOptions};
use dannscope::model::{ModelInfo, OutputOverrides};
use dannscope::project::{Project, ProjectOptions};
use indicatif::{ProgressBar, ProgressStyle};

/// Data, split, output and engine options (every key of `dannscope.toml` is also a flag; flags win).
#[derive(Debug, Clone, ClapArgs)]
pub struct Common {
    /// Config file (default: ./dannscope.toml when present).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Data root laid out as <root>/<Domain>/<Class>/<image>.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Split manifest CSV (path,domain,class,split). Without one, a stratified split is made under <out>/manifests/.
    #[arg(long, value_name = "FILE")]
    pub manifest: Option<PathBuf>,
    /// Output root.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Keep only these classes (comma-separated folder names).
    #[arg(long, value_delimiter = ',', value_name = "A,B,...")]
    pub classes: Option<Vec<String>>,
    /// Domain code override, e.g. "Real World=W" (repeatable). Default: first letter.
    #[arg(long = "domain-code", value_name = "NAME=CODE")]
    pub domain_code: Vec<String>,
    /// Seed of a newly made split (see `dannscope split`).
    #[arg(long = "split-seed", value_name = "SEED")]
    pub split_seed: Option<u64>,
}

/// Engine options.
#[derive(Debug, Clone, ClapArgs)]
pub struct EngineArgs {
    /// Engine: auto (ONNX Runtime when found, else tract), ort, tract.
    #[arg(long, default_value = "auto", value_parser = parse_engine)]
    pub engine: EngineKind,
    /// Device: auto (CUDA when its execution provider registers), cuda, cpu.
    #[arg(long, default_value = "auto", value_parser = parse_device)]
    pub device: Device,
    /// Images per inference batch.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub batch_size: u32,
    /// Engine threads (0 = one per core).
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Name of the embedding output, when the model does not call it "embedding".
    #[arg(long, value_name = "NAME")]
    pub embedding_output: Option<String>,
    /// Name of the logits output, when the model does not call it "logits".
    #[arg(long, value_name = "NAME")]
    pub logits_output: Option<String>,
    /// Decode JPEGs at full resolution (the default now; kept until `--fast-decode` replaces it).
    #[arg(long)]
    pub exact_decode: bool,
}

fn parse_engine(s: &str) -> Result<EngineKind, String> {
    EngineKind::parse(s).ok_or_else(|| format!("\"{s}\": expected auto, ort or tract"))
}

fn parse_device(s: &str) -> Result<Device, String> {
    Device::parse(s).ok_or_else(|| format!("\"{s}\": expected auto, cuda or cpu"))
}

impl EngineArgs {
    /// Engine options.
    pub fn options(&self) -> EngineOptions {
        EngineOptions {
            kind: self.engine,
            device: self.device,
            threads: self.threads,
            batch_size: self.batch_size as usize,
            ..EngineOptions::default()
        }
    }

    /// The model of a command (`--model`, else `model` of the config), loaded and checked before any
    /// image is read, and the split (`--split`, else the config's, else `valid`).
    pub fn model_and_split(
        &self,
        model: Option<&std::path::Path>,
        split: Option<&str>,
        cfg: &Config,
    ) -> Result<(ModelInfo, String)> {
        let path = model
            .map(|p| p.to_path_buf())
            .or_else(|| cfg.model.clone())
            .context("no model: give --model FILE (or `model = \"FILE\"` in dannscope.toml)")?;
        let split = split
            .map(str::to_string)
            .or_else(|| cfg.split.clone())
            .unwrap_or_else(|| "valid".into());
        let m = self
            .load_model(&path)
            .with_context(|| format!("cannot use the model {}", path.display()))?;
        Ok((m, split))
    }

    /// Load a model with the output overrides.
    pub fn load_model(&self, path: &std::path::Path) -> Result<ModelInfo> {
        let mut m = ModelInfo::load(
            path,
            &OutputOverrides {
                embedding: self.embedding_output.clone(),
                logits: self.logits_output.clone(),
            },
        )?;
        if self.exact_decode {
            m.preprocess.set_fast_decode(false);
        }
        Ok(m)
    }
}

impl Common {
    /// Read the config (explicit or ./dannscope.toml).
    pub fn config(&self) -> Result<Config> {
        Ok(Config::discover(self.config.as_deref())?)
    }

    /// Project options: flags over config over defaults.
    pub fn project_options(&self, cfg: &Config) -> Result<ProjectOptions> {
        let mut codes: BTreeMap<String, String> = cfg.domain_codes.clone();
        for kv in &self.domain_code {
            let Some((k, v)) = kv.split_once('=') else {
                bail!("--domain-code \"{kv}\": expected NAME=CODE, e.g. \"Real World=R\"");
            };
            codes.insert(k.trim().to_string(), v.trim().to_string());
        }
        Ok(ProjectOptions {
            data: self.data.clone().or_else(|| cfg.data.clone()),
            manifest: self.manifest.clone().or_else(|| cfg.manifest.clone()),
            out: self.out_dir(cfg),
            classes: self.classes.clone().or_else(|| cfg.classes.clone()),
            domain_codes: codes,
            seed: self.split_seed.or(cfg.seed).unwrap_or(0),
            ..ProjectOptions::default()
        })
    }

    /// The output root.
    pub fn out_dir(&self, cfg: &Config) -> PathBuf {
        self.out
            .clone()
            .or_else(|| cfg.out.clone())
            .unwrap_or_else(|| PathBuf::from("outputs"))
    }

    /// Resolve the project and print its notices.
    pub fn project(&self, cfg: &Config) -> Result<Project> {
        let opts = self.project_options(cfg)?;
        let p = Project::open(&opts).context("cannot read the dataset")?;
        for n in &p.notices {
            eprintln!("note: {n}");
        }
        Ok(p)
    }
}

/// A progress reporter for embed events: a bar on a terminal, a summary line otherwise.
pub struct Reporter {
    bar: Mutex<Option<ProgressBar>>,
    tty: bool,
    skipped: Mutex<Vec<String>>,
}

impl Reporter {
    /// A reporter for stderr.
    pub fn new() -> Reporter {
        Reporter {
            bar: Mutex::new(None),
            tty: std::io::stderr().is_terminal(),
            skipped: Mutex::new(Vec::new()),
        }
    }

    /// Handle one event.
    pub fn event(&self, e: Event) {
        match e {
            Event::Engine(info, batch) => {
                eprintln!(
                    "engine: {} · provider {} · {} thread{} · batch {}{}",
                    info.engine,
                    info.provider,
                    info.threads,
                    if info.threads == 1 { "" } else { "s" },
                    batch,
                    info.library
                        .as_ref()
                        .map(|l| format!(" · {l}"))
                        .unwrap_or_default()
                );
                for n in &info.notes {
                    eprintln!("note: {n}");
                }
            }
            Event::DomainStart(name, n) => {
                if self.tty {
                    let pb = ProgressBar::new(n as u64);
                    pb.set_style(
                        ProgressStyle::with_template(
                            "{prefix:>12} [{bar:30}] {pos}/{len} {per_sec} eta {eta}",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar())
                        .progress_chars("=> "),
                    );
                    pb.set_prefix(name.to_string());
                    if let Ok(mut b) = self.bar.lock() {
                        *b = Some(pb);
                    }
                }
            }
            Event::Progress(done) => {
                if let Ok(b) = self.bar.lock() {
                    if let Some(pb) = b.as_ref() {
                        pb.set_position(done as u64);
                    }
                }
            }
            Event::Skipped(path, reason) => {
                let msg = format!("warning: skipped {path}: {reason}");
                if let Ok(b) = self.bar.lock() {
                    match b.as_ref() {
                        Some(pb) => pb.println(&msg),
                        None => eprintln!("{msg}"),
                    }
                }
                if let Ok(mut s) = self.skipped.lock() {
                    s.push(path.to_string());
                }
            }
            Event::DomainDone(r, cached) => {
                if let Ok(mut b) = self.bar.lock() {
                    if let Some(pb) = b.take() {
                        pb.finish_and_clear();
                    }
                }
                if cached {
                    eprintln!(
                        "{:>12}: {} images (cached) → {}",
                        r.domain,
                        r.n,
                        r.npz.display()
                    );
                } else {
                    eprintln!(
                        "{:>12}: {} images, {} skipped, {:.1} s, {:.1} images/s → {}",
                        r.domain,
                        r.n,
                        r.skipped,
                        r.timings.total_s,
                        r.timings.images_per_s,
                        r.npz.display()
                    );
                }
            }
        }
    }
}
