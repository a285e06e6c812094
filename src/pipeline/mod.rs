//! The pipeline layer: the jobs that chain the stages, one file each.
//!
//! - [`embed`]: dataset → preprocess → engine → store;
//! - [`eval`]: store → metrics → `metrics/…` files;
//! - [`map`]: store → t-SNE → plot (one pair's joint map and figure);
//! - [`placed`]: the optional placed view of a pair (target placed on a source-only map);
//! - [`evolution`]: the map job over a run's checkpoints;
//! - [`explore`]: the map of a pair as one offline HTML page, every dot an image;
//! - [`compare`]: two models on the same images (accuracy difference, McNemar, kNN overlap);
//! - [`select`]: label-free validators per checkpoint against the true target accuracy;
//! - [`diagnose`]: a report run's galleries and discriminator view;
//! - [`baseline`]: each report run against its source-only baseline;
//! - [`shard`]: one shard of the embed job (`embed --shard I/N`) and the merge of finished shards;
//! - [`batch`]: every configured run through all of the above, for `report` and `demo`.
//!
//! A command resolves its [`Settings`] first, then opens one [`Workspace`]: the project (data root,
//! manifest, domains, classes) is opened once per command, and every output path comes from its
//! [`Layout`]. The stages below this layer (`metrics`, `tsne`) are pure computation.

pub mod baseline;
pub mod batch;
pub mod compare;
pub mod diagnose;
pub mod embed;
pub mod eval;
pub mod evolution;
pub mod explore;
pub mod map;
pub mod names;
pub mod placed;
pub mod select;
pub mod shard;

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

use crate::dataset::Pair;
use crate::dataset::{assign_domain_codes, Domain};
use crate::error::{Error, Result};
use crate::layout::{Layout, StoreKey};
use crate::model::ModelInfo;
use crate::project::Project;
use crate::settings::Settings;
use crate::store::{self, DomainEmbeddings};

use self::embed::{EmbedJob, EmbedSummary, Event};
use self::names::ModelName;

/// One model's embeddings of every domain of the split, in domain order.
#[derive(Debug, Clone)]
pub struct Embedded {
    /// Which stored embeddings these are.
    pub key: StoreKey,
    /// The domains (sorted by name), with their codes.
    pub domains: Vec<Domain>,
    /// `data[i]` belongs to `domains[i]`.
    pub data: Vec<DomainEmbeddings>,
}

impl Embedded {
    /// Source and target indices of a pair.
    pub fn pair(&self, p: &Pair) -> Result<(usize, usize)> {
        p.resolve(&self.domains)
    }
}

/// The settings of one command and what they locate: the project (opened once, when a data root is
/// configured) and the output layout.
#[derive(Debug)]
pub struct Workspace {
    /// The resolved settings.
    pub settings: Settings,
    /// Every output path.
    pub layout: Layout,
    project: Option<Project>,
    /// The output name of each model met so far (by path and content).
    names: HashMap<(PathBuf, String), ModelName>,
}

impl Workspace {
    /// Open the project when a data root is configured (reads only; nothing is written yet).
    pub fn open(settings: Settings) -> Result<Workspace> {
        let layout = Layout::new(&settings.project.out);
        let project = match settings.project.data {
            Some(_) => Some(Project::open(&settings.project, settings.seeds.split)?),
            None => None,
        };
        Ok(Workspace {
            settings,
            layout,
            project,
            names: HashMap::new(),
        })
    }

    /// The project, when a data root is configured.
    pub fn project(&self) -> Option<&Project> {
        self.project.as_ref()
    }

    /// Things the user should know about the project (stray files, manifest updates).
    pub fn notices(&self) -> &[String] {
        self.project
            .as_ref()
            .map(|p| p.notices.as_slice())
            .unwrap_or_default()
    }

    /// Check pairs against the project's domains before any work (nothing to check when only stored
    /// embeddings are read).
    pub fn check_pairs(&self, pairs: &[Pair]) -> Result<()> {
        if let Some(p) = &self.project {
            for pair in pairs {
                p.pair(pair)?;
            }
        }
        Ok(())
    }

    /// Check that `model`'s classes fit the project's before anything is written (the automatic
    /// manifest included); nothing to check when only stored embeddings are read.
    pub fn check_model(&self, model: &ModelInfo) -> Result<()> {
        if let Some(p) = &self.project {
            model.class_mapping(&p.classes)?;
        }
        Ok(())
    }

    /// A domain of the project by code or name.
    pub fn domain(&self, key: &str) -> Result<usize> {
        self.project
            .as_ref()
            .ok_or_else(|| Error::Invalid(NO_DATA.into()))?
            .domain(key)
    }

    /// Where a model's results of the configured split are stored: under its output name (see
    /// [`names`]), told through `on_event` when it is not the file's stem.
    pub fn key(
        &mut self,
        model: &ModelInfo,
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<StoreKey> {
        let id = (model.path.clone(), model.sha256.clone());
        let name = match self.names.get(&id) {
            Some(n) => n.clone(),
            None => {
                let n = names::model_name(&self.layout.names(), model)?;
                if let Some(note) = n.notice(model) {
                    on_event(Event::Note(&note));
                }
                self.names.insert(id, n.clone());
                n
            }
        };
        Ok(StoreKey {
            model: name.name,
            split: self.settings.split,
            fast_decode: self.settings.input.fast_decode,
        })
    }

    /// Run the embed job for `domains` (indices into the project's domains; all when `None`) with
    /// `force`/`strict` as given, for the shard of the settings when one is set. Needs a data root.
    pub fn embed(
        &mut self,
        model: &ModelInfo,
        domains: Option<Vec<usize>>,
        force: bool,
        strict: bool,
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<EmbedSummary> {
        let job = self.embed_job(model, domains, force, strict, on_event)?;
        match self.settings.shard {
            None => embed::run(&job, model, &self.settings.engine, on_event),
            Some(s) => shard::run_shard(&job, model, &self.settings.engine, s, on_event),
        }
    }

    /// The embed job of `model` over `domains` (all when `None`); saves the manifest when it was made
    /// or updated, once the model's classes were found to fit the data.
    pub fn embed_job(
        &mut self,
        model: &ModelInfo,
        domains: Option<Vec<usize>>,
        force: bool,
        strict: bool,
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<EmbedJob> {
        self.project_mut()?;
        self.check_model(model)?;
        let key = self.key(model, on_event)?;
        let dir = self.layout.embeddings(&key)?;
        let project = self.project_mut()?;
        project.save_manifest()?;
        let domains = domains.unwrap_or_else(|| (0..project.domains.len()).collect());
        let mut job = EmbedJob::new(project, key.split, domains, dir);
        job.force = force;
        job.strict = strict;
        Ok(job)
    }

    fn project_mut(&mut self) -> Result<&mut Project> {
        self.project
            .as_mut()
            .ok_or_else(|| Error::Invalid(NO_DATA.into()))
    }

    /// Indices of the domains of `pairs` among the project's (all domains when `pairs` is empty).
    fn pair_domains(&self, pairs: &[Pair]) -> Result<Option<Vec<usize>>> {
        let Some(p) = &self.project else {
            return Ok(None);
        };
        if pairs.is_empty() {
            return Ok(None);
        }
        let mut idx = Vec::new();
        for pair in pairs {
            let (s, t) = p.pair(pair)?;
            idx.extend([s, t]);
        }
        idx.sort_unstable();
        idx.dedup();
        Ok(Some(idx))
    }

    /// The embeddings of `model` for the domains of `pairs` (every domain when `pairs` is empty):
    /// computed through the embed cache when a data root is configured, else read from the store
    /// (written earlier by `embed`, or by `merge` from shards).
    pub fn embeddings(
        &mut self,
        model: &ModelInfo,
        pairs: &[Pair],
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<Embedded> {
        let key = self.key(model, on_event)?;
        let dir = self.layout.embeddings(&key)?;
        if self.project.is_some() {
            let wanted = self.pair_domains(pairs)?;
            // Reading needs every row: never only one shard's.
            let job = self.embed_job(model, wanted, false, false, on_event)?;
            let shards = Layout::shards(&dir);
            if shards.is_dir() {
                let (works, _) = embed::plan(&job, model)?;
                if let Some(w) = works
                    .iter()
                    .find(|w| embed::cached(&dir, &w.domain.name, &w.fingerprint, false).is_none())
                {
                    return Err(Error::Invalid(format!(
                        "{} holds shards of a sharded embed, and \"{}\" has no merged result for                          these inputs: merge them first (`dannscope merge` with the same --model,                          --split and --data), or delete that folder to embed every image here",
                        shards.display(),
                        w.domain.name
                    )));
                }
            }
            embed::run(&job, model, &self.settings.engine, on_event)?;
            let p = self.project_mut()?;
            let domains: Vec<_> = job
                .domains_wanted
                .iter()
                .map(|&i| p.domains[i].clone())
                .collect();
            let data = domains
                .iter()
                .map(|d| store::read_domain(&dir, &d.name))
                .collect::<Result<Vec<_>>>()?;
            return Ok(Embedded { key, domains, data });
        }
        let no_embeddings = || {
            let shards = crate::layout::Layout::shards(&dir);
            let hint = if shards.is_dir() {
                format!(
                    " ({} holds shards of a sharded embed: merge them first with `dannscope merge`)",
                    shards.display()
                )
            } else {
                String::new()
            };
            Error::Invalid(format!(
                "no embeddings in {}{hint}: give --data DIR (or `data` in dannscope.toml) so that \
                 they are computed, or run `dannscope embed` first",
                dir.display()
            ))
        };
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .map_err(|_| no_embeddings())?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().into_owned();
                let stem = name.strip_suffix(".json")?.to_string();
                (!stem.starts_with('.') && dir.join(format!("{stem}.npz")).is_file())
                    .then_some(stem)
            })
            .collect();
        names.sort();
        if names.is_empty() {
            return Err(no_embeddings());
        }
        let data = names
            .iter()
            .map(|n| store::read_domain(&dir, n))
            .collect::<Result<Vec<_>>>()?;
        if let Some(d) = data.iter().find(|d| d.record.model.sha256 != model.sha256) {
            return Err(Error::Invalid(format!(
                "{}: these embeddings were made by another model file (sha256 {}…), not {} ({}…); \
                 name the data root to recompute them",
                dir.join(format!("{}.json", d.record.domain)).display(),
                &d.record.model.sha256[..12.min(d.record.model.sha256.len())],
                model.path.display(),
                &model.sha256[..12.min(model.sha256.len())]
            )));
        }
        let mut codes = BTreeMap::new();
        for d in &data {
            codes.insert(d.record.domain.clone(), d.record.domain_code.clone());
        }
        codes.extend(self.settings.project.domain_codes.clone());
        let domains = assign_domain_codes(&names, &codes, &dir.display().to_string())?;
        let all = Embedded { key, domains, data };
        if pairs.is_empty() {
            return Ok(all);
        }
        let mut keep = Vec::new();
        for p in pairs {
            let (s, t) = all.pair(p)?;
            keep.extend([s, t]);
        }
        keep.sort_unstable();
        keep.dedup();
        let (domains, data) = all
            .domains
            .into_iter()
            .zip(all.data)
            .enumerate()
            .filter(|(i, _)| keep.binary_search(i).is_ok())
            .map(|(_, x)| x)
            .unzip();
        Ok(Embedded {
            key: all.key,
            domains,
            data,
        })
    }
}

/// Why a job that reads images cannot run without a data root.
const NO_DATA: &str = "no data folder was given, and images have to be read: give --data DIR (or \
     `data = \"DIR\"` in dannscope.toml)";

impl Workspace {
    /// Merge the finished shards of `model`'s embeddings of the configured split (see
    /// [`crate::shard::merge`]). With a data root, the shards are checked against the current inputs of
    /// `domains` (all when `None`: give the same domains as to the sharded embed).
    pub fn merge(
        &mut self,
        model: &ModelInfo,
        domains: Option<Vec<usize>>,
        partial: bool,
        force: bool,
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<(crate::shard::merge::MergeSummary, std::path::PathBuf)> {
        let key = self.key(model, on_event)?;
        let dir = self.layout.embeddings(&key)?;
        let expected = match self.project.is_some() {
            false => None,
            true => {
                let job = self.embed_job(model, domains, false, false, on_event)?;
                let (works, _) = embed::plan(&job, model)?;
                Some(
                    works
                        .iter()
                        .map(|w| (w.domain.name.clone(), w.fingerprint.clone()))
                        .collect(),
                )
            }
        };
        let opts = crate::shard::merge::MergeOptions {
            model_sha256: model.sha256.clone(),
            expected,
            partial,
            force,
        };
        let summary = shard::merge(&dir, &opts, on_event)?;
        Ok((summary, dir))
    }
}
