//! A project: the data root, its split manifest, domains and classes, and the output root, resolved from
//! the settings. Opening a project reads; it writes nothing. An automatic manifest (made when none is
//! given) is written by [`Project::save_manifest`], which the pipeline calls once the rest of the
//! command's settings have been checked against the project (so a typo in a pair makes no manifest).

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::dataset::{assign_domain_codes, Dataset, DatasetOptions, Domain, Pair};
use crate::error::{Error, Result};
use crate::layout::Layout;
use crate::split::SplitSel;
use crate::split::{Manifest, SplitRatios};

/// One image of a split: its path, domain and class.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// Path relative to the data root.
    pub rel_path: String,
    /// Index into [`Project::domains`].
    pub domain: usize,
    /// Index into [`Project::classes`].
    pub class: usize,
}

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
    /// The automatic manifest is new or changed and not yet written.
    manifest_unsaved: bool,
    /// The manifest was given or found (never written), not the automatic one.
    manifest_user: bool,
    /// Domain code overrides (to recognise a domain folder without images by its code).
    domain_codes: std::collections::BTreeMap<String, String>,
}

impl Project {
    /// Resolve a project (reads only; see [`Project::save_manifest`]). Needs a data root; `seed` orders
    /// the images of a newly made or updated automatic manifest.
    ///
    /// Without a user manifest, the automatic one under the output root is read and brought up to date:
    /// rows whose image still exists keep their split, deleted images are dropped (and reported with a
    /// count and the first paths), new images are assigned without moving any existing one.
    pub fn open(opts: &ProjectOptions, seed: u64) -> Result<Project> {
        let root = opts.data.clone().ok_or_else(|| {
            Error::Invalid(
                "no data folder was given: name the data root laid out as <root>/<Domain>/<Class>/<image>"
                    .into(),
            )
        })?;
        let mut notices = Vec::new();
        let mut unsaved = false;
        let recorded = match &opts.manifest {
            Some(_) => None,
            None => find_manifest(&root, &mut notices),
        };
        let automatic = opts.manifest.is_none() && recorded.is_none();
        let (manifest, manifest_path) = match (&opts.manifest, recorded) {
            (Some(m), _) => (Manifest::read(m, &root)?, m.clone()),
            (None, Some((m, how))) => {
                let manifest = Manifest::read(&m, &root)?;
                let auto = Layout::new(&opts.out).auto_manifest(&root);
                let mut n = format!(
                    "split manifest {} ({how}; give --manifest to use another)",
                    m.display()
                );
                if auto.is_file() {
                    n.push_str(&format!(
                        "; {} made earlier for this data is not used",
                        auto.display()
                    ));
                }
                notices.push(n);
                (manifest, m)
            }
            (None, None) => {
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
                let path = Layout::new(&opts.out).auto_manifest(&root);
                let (m, summary) =
                    Manifest::create_or_update(&path, &root, &ds, &opts.ratios, seed).map_err(
                        |e| {
                            e.context(format!(
                                "the automatic split manifest {} cannot be read; delete it to make \
                                 a new split (images may then change splits)",
                                path.display()
                            ))
                        },
                    )?;
                match summary {
                    None => {
                        notices.push(format!(
                            "made a stratified split (seed {}) at {}; later runs on this data reuse it",
                            seed,
                            path.display()
                        ));
                        unsaved = true;
                    }
                    Some(s) if s.added == 0 && s.removed == 0 => notices.push(format!(
                        "split manifest {} (made earlier for this data)",
                        path.display()
                    )),
                    Some(s) => {
                        let mut n = format!(
                            "manifest {}: {} kept in their splits, {} new added",
                            path.display(),
                            s.kept,
                            s.added
                        );
                        if s.removed > 0 {
                            n.push_str(&format!(
                                ", {} deleted image{} dropped ({}{})",
                                s.removed,
                                if s.removed == 1 { "" } else { "s" },
                                s.removed_paths.join(", "),
                                if s.removed > s.removed_paths.len() {
                                    ", …"
                                } else {
                                    ""
                                }
                            ));
                        }
                        notices.push(n);
                        unsaved = true;
                    }
                }
                (m, path)
            }
        };
        let mut p = Self::from_manifest(root, manifest, manifest_path, opts, notices)?;
        p.manifest_unsaved = unsaved;
        p.manifest_user = !automatic;
        Ok(p)
    }

    /// Write the automatic manifest when it is new or changed (a no-op otherwise, and for a user
    /// manifest, which is never written).
    pub fn save_manifest(&mut self) -> Result<()> {
        if self.manifest_unsaved {
            self.manifest.write(&self.manifest_path)?;
            self.manifest_unsaved = false;
        }
        Ok(())
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
        let domains = assign_domain_codes(
            &domain_names,
            &opts.domain_codes,
            &manifest_path.display().to_string(),
        )?;
        Ok(Project {
            root,
            manifest,
            manifest_path,
            domains,
            classes,
            out: opts.out.clone(),
            notices,
            manifest_unsaved: false,
            manifest_user: true,
            domain_codes: opts.domain_codes.clone(),
        })
    }

    /// Domain index by code or name. A key naming a domain folder of the data root that holds no image
    /// of the manifest is refused as such, not as an unknown domain.
    pub fn domain(&self, key: &str) -> Result<usize> {
        crate::dataset::find_domain(&self.domains, key).map_err(|e| self.explain_missing(key, e))
    }

    /// Indices of a pair's source and target (see [`Project::domain`] for a domain without images).
    pub fn pair(&self, pair: &Pair) -> Result<(usize, usize)> {
        Ok((self.domain(&pair.source)?, self.domain(&pair.target)?))
    }

    /// `e`, or a clearer error when `key` names a folder of the data root without images.
    fn explain_missing(&self, key: &str, e: Error) -> Error {
        let key = key.trim();
        let Ok(rd) = std::fs::read_dir(&self.root) else {
            return e;
        };
        let mut folders: Vec<String> = rd
            .filter_map(|x| x.ok())
            .filter(|x| x.path().is_dir())
            .map(|x| x.file_name().to_string_lossy().into_owned())
            .filter(|n| !n.starts_with('.') && !self.domains.iter().any(|d| &d.name == n))
            .collect();
        folders.sort();
        let found = folders.into_iter().find(|n| {
            n.eq_ignore_ascii_case(key)
                || crate::dataset::default_domain_code(n) == key
                || self.domain_codes.get(n).is_some_and(|c| c == key)
        });
        match found {
            Some(name) => Error::Invalid(format!(
                "domain \"{name}\" ({}) has no images{}: add images to it, or pick another domain",
                self.root.join(&name).display(),
                if self.manifest_user {
                    format!(" listed in {}", self.manifest_path.display())
                } else {
                    String::new()
                }
            )),
            None => e,
        }
    }

    /// The images of a split.
    pub fn items(&self, split: SplitSel) -> Vec<Item> {
        let want = split.manifest_split();
        self.manifest
            .rows
            .iter()
            .filter(|r| want.is_none_or(|s| r.split == s))
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
}

/// Names of split manifests looked for next to a data root (in its parent folder, then in the root):
/// the default output of `dannscope split`.
pub const MANIFEST_NAMES: &[&str] = &["splits.csv"];

/// A manifest that already exists for the data root `root`, and how it was found: named by a
/// `dannscope.toml` next to the data (the demo writes one) whose `data` is this root, or a
/// [`MANIFEST_NAMES`] file next to the data whose every row is an image of the root. Files that do not
/// fit are passed over with a notice.
pub fn find_manifest(
    root: &std::path::Path,
    notices: &mut Vec<String>,
) -> Option<(PathBuf, String)> {
    let abs = std::fs::canonicalize(root).ok()?;
    let places: Vec<PathBuf> = abs
        .parent()
        .map(|p| vec![p.to_path_buf(), abs.clone()])
        .unwrap_or_else(|| vec![abs.clone()]);
    let shown = |p: &std::path::Path| -> PathBuf { relative_to_cwd(p) };
    for dir in &places {
        let cfg_path = dir.join(crate::config::FILE_NAME);
        if !cfg_path.is_file() {
            continue;
        }
        match crate::config::Config::read(&cfg_path) {
            Ok(c) => {
                let same = c
                    .data
                    .as_ref()
                    .and_then(|d| std::fs::canonicalize(d).ok())
                    .is_some_and(|d| d == abs);
                if let (true, Some(m)) = (same, c.manifest) {
                    if m.is_file() {
                        return Some((
                            shown(&m),
                            format!("recorded for this data in {}", shown(&cfg_path).display()),
                        ));
                    }
                }
            }
            Err(e) => notices.push(format!("{} passed over: {e}", shown(&cfg_path).display())),
        }
    }
    for dir in &places {
        for name in MANIFEST_NAMES {
            let m = dir.join(name);
            if !m.is_file() {
                continue;
            }
            match Manifest::read(&m, &abs) {
                Ok(_) => return Some((shown(&m), "found next to the data".into())),
                Err(e) => notices.push(format!(
                    "{} passed over: it does not fit this data ({e})",
                    shown(&m).display()
                )),
            }
        }
    }
    None
}

/// `p` relative to the working directory when it lies under it (shorter messages), else as it is.
fn relative_to_cwd(p: &std::path::Path) -> PathBuf {
    std::env::current_dir()
        .ok()
        .and_then(|d| std::fs::canonicalize(d).ok())
        .and_then(|d| p.strip_prefix(d).ok().map(|r| r.to_path_buf()))
        .filter(|r| !r.as_os_str().is_empty())
        .unwrap_or_else(|| p.to_path_buf())
}
