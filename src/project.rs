//! A project: the data root, its split manifest, domains and classes, and the output root, resolved from
//! flags and `dannscope.toml`. Commands that need embeddings get them through [`Project::embeddings`],
//! which reads the store and runs the embed job only for what is missing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::dataset::{assign_domain_codes, Dataset, DatasetOptions, Domain};
use crate::embed::{self, EmbedJob, EmbedSummary, Event, Item};
use crate::engine::EngineOptions;
use crate::error::{Error, Result};
use crate::model::ModelInfo;
use crate::split::{Manifest, Split, SplitRatios};
use crate::store::{self, DomainEmbeddings};

/// Settings that locate a project.
#[derive(Debug, Clone, Default)]
pub struct ProjectOptions {
    /// Data root (`<root>/<Domain>/<Class>/<image>`). Optional when only stored embeddings are read.
    pub data: Option<PathBuf>,
    /// A user-supplied manifest. Without one, dannscope makes one under `<out>/manifests/`.
    pub manifest: Option<PathBuf>,
    /// Output root.
    pub out: PathBuf,
    /// Class subset.
    pub classes: Option<Vec<String>>,
    /// Domain code overrides.
    pub domain_codes: BTreeMap<String, String>,
    /// Seed for a new split.
    pub seed: u64,
    /// Ratios for a new split.
    pub ratios: SplitRatios,
}

/// A resolved project.
#[derive(Debug, Clone)]
pub struct Project {
    /// Data root.
    pub root: PathBuf,
    /// The manifest in use.
    pub manifest: Manifest,
    /// Where the manifest lives.
    pub manifest_path: PathBuf,
    /// Domains (sorted by name).
    pub domains: Vec<Domain>,
    /// Classes (sorted by name).
    pub classes: Vec<String>,
    /// Output root.
    pub out: PathBuf,
    /// Things the user should know (stray files, manifest updates).
    pub notices: Vec<String>,
}

/// Where an automatically made manifest for `root` is kept.
pub fn auto_manifest_path(out: &Path, root: &Path) -> PathBuf {
    use sha2::{Digest, Sha256};
    let abs = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let h = hex::encode(Sha256::digest(abs.to_string_lossy().as_bytes()));
    let name = abs
        .file_name()
        .map(|n| n.to_string_lossy().replace(' ', "_"))
        .unwrap_or_else(|| "data".into());
    out.join("manifests")
        .join(format!("{name}-{}.csv", &h[..8]))
}

impl Project {
    /// Resolve a project. Needs a data root.
    pub fn open(opts: &ProjectOptions) -> Result<Project> {
        let root = opts.data.clone().ok_or_else(|| {
            Error::Invalid(
                "no data folder: give --data DIR (or `data = \"DIR\"` in dannscope.toml)".into(),
            )
        })?;
        let mut notices = Vec::new();
        let (manifest, manifest_path) = match &opts.manifest {
            Some(m) => (Manifest::read(m, &root)?, m.clone()),
            None => {
                let ds = Dataset::scan(
                    &root,
                    &DatasetOptions {
                        domain_codes: opts.domain_codes.clone(),
                        classes: None,
                    },
                )?;
                for s in ds.stray.iter().take(20) {
                    notices.push(format!("skipped {}: {}", s.rel_path, s.reason));
                }
                if ds.stray.len() > 20 {
                    notices.push(format!("… and {} more skipped files", ds.stray.len() - 20));
                }
                let path = auto_manifest_path(&opts.out, &root);
                let m = if path.is_file() {
                    let old = Manifest::read(&path, &root).or_else(|_| {
                        // An old manifest that lists vanished files: keep the rows that still exist.
                        Ok::<_, Error>(Manifest::default())
                    })?;
                    let (m, s) = old.update(&ds, &opts.ratios, opts.seed);
                    if s.added > 0 || s.removed > 0 {
                        notices.push(format!(
                            "manifest {} updated: {} new images added, {} gone, {} kept",
                            path.display(),
                            s.added,
                            s.removed,
                            s.kept
                        ));
                        m.write(&path)?;
                    }
                    m
                } else {
                    let m = Manifest::create(&ds, &opts.ratios, opts.seed);
                    m.write(&path)?;
                    notices.push(format!(
                        "made a stratified split (seed {}) at {}",
                        opts.seed,
                        path.display()
                    ));
                    m
                };
                (m, path)
            }
        };
        Self::from_manifest(root, manifest, manifest_path, opts, notices)
    }

    fn from_manifest(
        root: PathBuf,
        mut manifest: Manifest,
        manifest_path: PathBuf,
        opts: &ProjectOptions,
        notices: Vec<String>,
    ) -> Result<Project> {
        let mut domain_names: Vec<String> =
            manifest.rows.iter().map(|r| r.domain.clone()).collect();
        domain_names.sort();
        domain_names.dedup();
        let mut classes: Vec<String> = manifest.rows.iter().map(|r| r.class.clone()).collect();
        classes.sort();
        classes.dedup();
        if let Some(wanted) = &opts.classes {
            let mut keep = Vec::new();
            for w in wanted.iter().map(|w| w.trim()).filter(|w| !w.is_empty()) {
                if !classes.iter().any(|c| c == w) {
                    return Err(Error::Invalid(format!(
                        "class \"{w}\" was asked for, but {} has no such class (found: {})",
                        manifest_path.display(),
                        crate::dataset::preview(&classes, 12)
                    )));
                }
                keep.push(w.to_string());
            }
            keep.sort();
            keep.dedup();
            classes = keep;
            manifest
                .rows
                .retain(|r| classes.binary_search(&r.class).is_ok());
        }
        let domains = assign_domain_codes(&domain_names, &opts.domain_codes)?;
        Ok(Project {
            root,
            manifest,
            manifest_path,
            domains,
            classes,
            out: opts.out.clone(),
            notices,
        })
    }

    /// Domain index by code or name.
    pub fn domain(&self, key: &str) -> Result<usize> {
        crate::dataset::find_domain(&self.domains, key)
    }

    /// The images of a split (all splits when `None`).
    pub fn items(&self, split: Option<Split>) -> Vec<Item> {
        self.manifest
            .rows
            .iter()
            .filter(|r| split.is_none_or(|s| r.split == s))
            .filter_map(|r| {
                let domain = self.domains.iter().position(|d| d.name == r.domain)?;
                let class = self.classes.binary_search(&r.class).ok()?;
                Some(Item {
                    rel_path: r.path.clone(),
                    domain,
                    class,
                })
            })
            .collect()
    }

    /// An embed job for `split` (`all` for every split) and the given domains.
    pub fn embed_job(
        &self,
        split: &str,
        domains: Vec<usize>,
        force: bool,
        strict: bool,
    ) -> Result<EmbedJob> {
        let which = if split == "all" {
            None
        } else {
            Some(Split::parse(split).ok_or_else(|| {
                Error::Invalid(format!(
                    "split \"{split}\": expected train, valid, test or all"
                ))
            })?)
        };
        Ok(EmbedJob {
            data_root: self.root.clone(),
            domains: self.domains.clone(),
            domains_wanted: domains,
            classes: self.classes.clone(),
            items: self.items(which),
            split: which
                .map(|s| s.as_str().to_string())
                .unwrap_or_else(|| "all".into()),
            out: self.out.clone(),
            force,
            strict,
        })
    }

    /// Make sure the embeddings of `domains` exist for `model` and `split` (running the embed job through
    /// its cache), then read them.
    pub fn embeddings(
        &self,
        model: &ModelInfo,
        split: &str,
        domains: &[usize],
        engine: &EngineOptions,
        on_event: &(dyn Fn(Event) + Sync),
    ) -> Result<(Vec<DomainEmbeddings>, EmbedSummary)> {
        let job = self.embed_job(split, domains.to_vec(), false, false)?;
        let summary = embed::run(&job, model, engine, on_event)?;
        let dir = store::embeddings_dir(&self.out, &model.stem, &job.split);
        let data = domains
            .iter()
            .map(|&d| store::read_domain(&dir, &self.domains[d].name))
            .collect::<Result<Vec<_>>>()?;
        Ok((data, summary))
    }
}

/// Read stored embeddings of one model, split and domain (no data root needed).
pub fn read_stored(
    out: &Path,
    model_stem: &str,
    split: &str,
    domain: &str,
) -> Result<DomainEmbeddings> {
    let dir = store::embeddings_dir(out, model_stem, split);
    let (npz, _) = store::domain_files(&dir, domain);
    if !npz.is_file() {
        return Err(Error::Invalid(format!(
            "no embeddings at {}: run `dannscope embed` first, or give --data so they are computed",
            npz.display()
        )));
    }
    store::read_domain(&dir, domain)
}

/// Embeddings of every domain of `split` for `model`: computed through the cache when a data root is
/// configured, else read from the store (written earlier by `embed`).
pub fn gather_embeddings(
    opts: &ProjectOptions,
    model: &ModelInfo,
    split: &str,
    engine: &EngineOptions,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<(Vec<Domain>, Vec<DomainEmbeddings>, Vec<String>)> {
    if opts.data.is_some() {
        let p = Project::open(opts)?;
        let all: Vec<usize> = (0..p.domains.len()).collect();
        let (data, _) = p.embeddings(model, split, &all, engine, on_event)?;
        return Ok((p.domains.clone(), data, p.notices));
    }
    let dir = store::embeddings_dir(&opts.out, &model.stem, split);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|_| {
            Error::Invalid(format!(
                "no embeddings in {}: give --data DIR so they are computed, or run `dannscope embed` first",
                dir.display()
            ))
        })?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let stem = name.strip_suffix(".json")?.to_string();
            (!stem.starts_with('.') && dir.join(format!("{stem}.npz")).is_file()).then_some(stem)
        })
        .collect();
    names.sort();
    if names.is_empty() {
        return Err(Error::Invalid(format!(
            "no embeddings in {}: give --data DIR so they are computed, or run `dannscope embed` first",
            dir.display()
        )));
    }
    let data = names
        .iter()
        .map(|n| store::read_domain(&dir, n))
        .collect::<Result<Vec<_>>>()?;
    if let Some(d) = data.iter().find(|d| d.record.model.sha256 != model.sha256) {
        return Err(Error::Invalid(format!(
            "{}: these embeddings were made by another model file (sha256 {}…), not {} ({}…); \
             give --data DIR to recompute them",
            dir.join(format!("{}.json", d.record.domain)).display(),
            &d.record.model.sha256[..12.min(d.record.model.sha256.len())],
            model.path.display(),
            &model.sha256[..12]
        )));
    }
    let mut codes = BTreeMap::new();
    for d in &data {
        codes.insert(d.record.domain.clone(), d.record.domain_code.clone());
    }
    let mut overrides = codes;
    overrides.extend(opts.domain_codes.clone());
    let domains = assign_domain_codes(&names, &overrides)?;
    Ok((domains, data, Vec::new()))
}
