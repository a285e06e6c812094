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
pub mod placed;
pub mod select;
pub mod shard;

use std::collections::BTreeMap;

use crate::dataset::{assign_domain_codes, Domain};
use crate::error::{Error, Result};
use crate::layout::{Layout, StoreKey};
use crate::model::ModelInfo;
use crate::project::Project;
use crate::settings::{Pair, Settings};
use crate::store::{self, DomainEmbeddings};

use self::embed::{EmbedJob, EmbedSummary, Event};

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
}

impl Workspace {
    /// Open the project when a data root is configured (reads only; nothing is written yet).
    pub fn open(settings: Settings) -> Result<Workspace> {
        let layout = Layout::new(&settings.project.out);
        let project = match settings.project.data {
            Some(_) => Some(Project::open(&settings.project)?),
            None => None,
        };
        Ok(Workspace {
            settings,
            layout,
            project,
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
                pair.resolve(&p.domains)?;
            }
        }
        Ok(())
    }

    /// Where a model's results of the configured split are stored.
    pub fn key(&self, model: &ModelInfo) -> StoreKey {
        StoreKey {
            model: model.stem.clone(),
            split: self.settings.split,
            fast_decode: self.settings.input.fast_decode,
        }
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
        let job = self.embed_job(model, domains, force, strict)?;
        match self.settings.shard {
            None => embed::run(&job, model, &self.settings.engine, on_event),
            Some(s) => shard::run_shard(&job, model, &self.settings.engine, s, on_event),
        }
    }

    /// The embed job of `model` over `domains` (all when `None`); saves the manifest when it was made
    /// or updated.
    pub fn embed_job(
        &mut self,
        model: &ModelInfo,
        domains: Option<Vec<usize>>,
        force: bool,
        strict: bool,
    ) -> Result<EmbedJob> {
        let key = self.key(model);
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
        self.project.as_mut().ok_or_else(|| {
            Error::Invalid(
                "no data folder was given, and images have to be read: name the data root".into(),
            )
        })
    }

    /// Every domain's embeddings for `model`: computed through the embed cache when a data root is
    /// configured, else read from the store (written earlier by `embed`).
    pub fn embeddings(
        &mut self,
        model: &ModelInfo,
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<Embedded> {
        let key = self.key(model);
        let dir = self.layout.embeddings(&key)?;
        if self.project.is_some() {
            // Reading needs every row: never only one shard's.
            let job = self.embed_job(model, None, false, false)?;
            embed::run(&job, model, &self.settings.engine, on_event)?;
            let p = self.project_mut()?;
            let data = p
                .domains
                .iter()
                .map(|d| store::read_domain(&dir, &d.name))
                .collect::<Result<Vec<_>>>()?;
            return Ok(Embedded {
                key,
                domains: p.domains.clone(),
                data,
            });
        }
        let no_embeddings = || {
            let shards = crate::layout::Layout::shards(&dir);
            let hint = if shards.is_dir() {
                format!(
                    " ({} holds shards of a sharded embed: merge them first)",
                    shards.display()
                )
            } else {
                String::new()
            };
            Error::Invalid(format!(
                "no embeddings in {}{hint}: name the data root so that they are computed, or run `dannscope embed` first",
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
        Ok(Embedded { key, domains, data })
    }
}

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
        let dir = self.layout.embeddings(&self.key(model))?;
        let expected = match self.project.is_some() {
            false => None,
            true => {
                let job = self.embed_job(model, domains, false, false)?;
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
