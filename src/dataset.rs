//! Dataset stage: read an image-folder dataset laid out as `<root>/<Domain>/<Class>/<file>`.
//!
//! Class indices follow the ImageFolder convention (class folders sorted by name) unless a model says
//! otherwise; domains get short codes (first letter by default) so that `--pair R-P` works.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

pub(crate) mod pair;

pub use self::pair::{Pair, PairError};

/// File extensions (lower case) that are read as images.
pub const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "bmp", "webp", "tif", "tiff"];

/// True when the file name has one of the [`IMAGE_EXTENSIONS`], case-insensitively.
pub fn is_image_name(name: &str) -> bool {
    Path::new(name)
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| IMAGE_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
        .unwrap_or(false)
}

/// One domain of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Domain {
    /// Folder name, e.g. `Real World`.
    pub name: String,
    /// Short code, e.g. `R`.
    pub code: String,
}

/// One image of a dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageEntry {
    /// Path relative to the data root, `/`-separated.
    pub rel_path: String,
    /// Index into [`Dataset::domains`].
    pub domain: usize,
    /// Index into [`Dataset::classes`].
    pub class: usize,
}

/// A file that was found but is not part of the dataset, with the reason.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StrayFile {
    /// Path relative to the data root.
    pub rel_path: String,
    /// Why it was left out.
    pub reason: String,
}

/// Options for reading a dataset.
#[derive(Debug, Clone, Default)]
pub struct DatasetOptions {
    /// Domain code overrides: folder name → code. Other domains use their first letter, upper-cased.
    pub domain_codes: BTreeMap<String, String>,
    /// Keep only these classes (by folder name). `None` keeps every class.
    pub classes: Option<Vec<String>>,
}

/// A scanned dataset: domains, classes and images.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The data root.
    pub root: PathBuf,
    /// Domains, sorted by folder name.
    pub domains: Vec<Domain>,
    /// Class names, sorted by name (ImageFolder order).
    pub classes: Vec<String>,
    /// Images, sorted by relative path.
    pub images: Vec<ImageEntry>,
    /// Files that were skipped (not images, or outside a class folder). Hidden files are ignored silently.
    pub stray: Vec<StrayFile>,
}

fn io_err(path: &Path, source: std::io::Error) -> Error {
    Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf, bool)>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io_err(dir, e))? {
        let entry = entry.map_err(|e| io_err(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        // Follow symbolic links: datasets are often assembled from links.
        let is_dir = std::fs::metadata(&path)
            .map(|m| m.is_dir())
            .unwrap_or(false);
        out.push((name, path, is_dir));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// Code of a domain: the override if any, else the first character upper-cased.
pub fn default_domain_code(name: &str) -> String {
    name.chars()
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default()
}

/// Assign codes to domain folder names, checking that they are unique and that names and codes are safe
/// in output paths. `origin` says where the names come from (a manifest, a data folder), for errors.
pub fn assign_domain_codes(
    names: &[String],
    overrides: &BTreeMap<String, String>,
    origin: &str,
) -> Result<Vec<Domain>> {
    for key in overrides.keys() {
        if !names.contains(key) {
            return Err(Error::Invalid(format!(
                "domain code given for \"{key}\", but there is no such domain (found: {})",
                names.join(", ")
            )));
        }
    }
    let mut domains = Vec::with_capacity(names.len());
    for n in names {
        crate::layout::check_name("domain name", n, Some(origin))?;
        let code = match overrides.get(n) {
            Some(c) => crate::layout::check_name("domain code", c, Some("a domain-code override"))?
                .to_string(),
            None => default_domain_code(n),
        };
        crate::layout::check_name("domain code", &code, Some(n))?;
        domains.push(Domain {
            name: n.clone(),
            code,
        });
    }
    let mut seen: BTreeMap<&str, &str> = BTreeMap::new();
    for d in &domains {
        if let Some(other) = seen.insert(&d.code, &d.name) {
            return Err(Error::Invalid(format!(
                "domains \"{other}\" and \"{}\" both have the code \"{}\"; give them distinct codes \
                 (a domain-code override such as \"{}={}2\")",
                d.name, d.code, d.name, d.code
            )));
        }
    }
    Ok(domains)
}

impl Dataset {
    /// Scan `root` for `<Domain>/<Class>/<file>` images.
    pub fn scan(root: &Path, opts: &DatasetOptions) -> Result<Dataset> {
        let meta = std::fs::metadata(root).map_err(|e| io_err(root, e))?;
        if !meta.is_dir() {
            return Err(Error::Invalid(format!(
                "{}: expected a data folder laid out as <root>/<Domain>/<Class>/<image>, found a file",
                root.display()
            )));
        }
        let mut stray = Vec::new();
        let mut domain_names = Vec::new();
        // (domain name, class name, rel path)
        let mut raw: Vec<(usize, String, String)> = Vec::new();
        let mut class_set = BTreeSet::new();
        for (dname, dpath, is_dir) in sorted_entries(root)? {
            if !is_dir {
                stray.push(StrayFile {
                    rel_path: dname,
                    reason: "file at the top level (expected domain folders)".into(),
                });
                continue;
            }
            let di = domain_names.len();
            domain_names.push(dname.clone());
            for (cname, cpath, cis_dir) in sorted_entries(&dpath)? {
                if !cis_dir {
                    stray.push(StrayFile {
                        rel_path: format!("{dname}/{cname}"),
                        reason: "file directly in a domain folder (expected class folders)".into(),
                    });
                    continue;
                }
                class_set.insert(cname.clone());
                for (fname, _fpath, fis_dir) in sorted_entries(&cpath)? {
                    let rel = format!("{dname}/{cname}/{fname}");
                    if fis_dir {
                        stray.push(StrayFile {
                            rel_path: rel,
                            reason: "folder inside a class folder (not read)".into(),
                        });
                    } else if is_image_name(&fname) {
                        raw.push((di, cname.clone(), rel));
                    } else {
                        stray.push(StrayFile {
                            rel_path: rel,
                            reason: format!(
                                "not an image file name (expected one of: {})",
                                IMAGE_EXTENSIONS.join(", ")
                            ),
                        });
                    }
                }
            }
        }
        if domain_names.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: no domain folders found (expected <root>/<Domain>/<Class>/<image>)",
                root.display()
            )));
        }
        stray.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
        let all_classes: Vec<String> = class_set.into_iter().collect();
        let classes = match &opts.classes {
            None => all_classes,
            Some(wanted) => select_classes(&all_classes, wanted, root)?,
        };
        let domains = assign_domain_codes(
            &domain_names,
            &opts.domain_codes,
            &root.display().to_string(),
        )?;
        let mut images: Vec<ImageEntry> = raw
            .into_iter()
            .filter_map(|(domain, cname, rel_path)| {
                classes.binary_search(&cname).ok().map(|class| ImageEntry {
                    rel_path,
                    domain,
                    class,
                })
            })
            .collect();
        images.sort_by(|a, b| a.rel_path.cmp(&b.rel_path));
        if images.is_empty() {
            return Err(Error::Invalid(format!(
                "{}: no images found (expected <root>/<Domain>/<Class>/<image> with extensions {})",
                root.display(),
                IMAGE_EXTENSIONS.join(", ")
            )));
        }
        Ok(Dataset {
            root: root.to_path_buf(),
            domains,
            classes,
            images,
            stray,
        })
    }

    /// Find a domain by code or by name (case-insensitive for names).
    pub fn domain_index(&self, key: &str) -> Result<usize> {
        find_domain(&self.domains, key)
    }

    /// Number of images per (domain, class).
    pub fn counts(&self) -> Vec<Vec<usize>> {
        let mut c = vec![vec![0; self.classes.len()]; self.domains.len()];
        for im in &self.images {
            c[im.domain][im.class] += 1;
        }
        c
    }
}

/// Find a domain by code (exact) or folder name (case-insensitive).
pub fn find_domain(domains: &[Domain], key: &str) -> Result<usize> {
    let key = key.trim();
    if let Some(i) = domains.iter().position(|d| d.code == key) {
        return Ok(i);
    }
    if let Some(i) = domains
        .iter()
        .position(|d| d.name.eq_ignore_ascii_case(key) || d.code.eq_ignore_ascii_case(key))
    {
        return Ok(i);
    }
    Err(Error::Invalid(format!(
        "unknown domain \"{key}\"; known domains: {}",
        domains
            .iter()
            .map(|d| format!("{} ({})", d.code, d.name))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

impl Pair {
    /// The pair of two domains, by their codes (what output names and tables show).
    pub fn of(source: &Domain, target: &Domain) -> Pair {
        Pair {
            source: source.code.clone(),
            target: target.code.clone(),
        }
    }

    /// Indices of the source and target among `domains` (each by code, then name); an error when a
    /// side is unknown or both name the same domain (e.g. `R-Real World`).
    pub fn resolve(&self, domains: &[Domain]) -> Result<(usize, usize)> {
        let s = find_domain(domains, &self.source)?;
        let t = find_domain(domains, &self.target)?;
        if s == t {
            return Err(Error::Invalid(format!(
                "pair \"{self}\": source and target are the same domain"
            )));
        }
        Ok((s, t))
    }
}

fn select_classes(all: &[String], wanted: &[String], root: &Path) -> Result<Vec<String>> {
    let mut out = Vec::new();
    for w in wanted {
        let w = w.trim();
        if w.is_empty() {
            continue;
        }
        match all.iter().find(|c| c.as_str() == w) {
            Some(c) => out.push(c.clone()),
            None => {
                return Err(Error::Invalid(format!(
                    "class \"{w}\" was asked for, but {} has no such class folder (found {} classes: {})",
                    root.display(),
                    all.len(),
                    preview(all, 12)
                )))
            }
        }
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(Error::Invalid("the class list is empty".into()));
    }
    Ok(out)
}

/// First `n` items joined with commas, with "…" when there are more.
pub fn preview(items: &[String], n: usize) -> String {
    let mut s = items.iter().take(n).cloned().collect::<Vec<_>>().join(", ");
    if items.len() > n {
        s.push_str(", …");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names() {
        assert!(is_image_name("a.JPG"));
        assert!(is_image_name("x y.TiFf"));
        assert!(!is_image_name("notes.txt"));
        assert!(!is_image_name("jpg"));
    }

    #[test]
    fn codes_and_pairs() {
        let names: Vec<String> = ["Art", "Clipart", "Product", "Real World"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let d = assign_domain_codes(&names, &BTreeMap::new(), "test").unwrap();
        assert_eq!(d[3].code, "R");
        let pair = |s: &str| s.parse::<Pair>().unwrap().resolve(&d);
        assert_eq!(pair("R-P").unwrap(), (3, 2));
        assert_eq!(pair("real world->art").unwrap(), (3, 0));
        let same = pair("R-Real World").unwrap_err().to_string();
        assert!(
            same.contains("\"R-Real World\"") && same.contains("same domain"),
            "{same}"
        );
        assert!(pair("X-P")
            .unwrap_err()
            .to_string()
            .contains("known domains"));
        assert_eq!(Pair::of(&d[3], &d[2]).to_string(), "R-P");
        let clash: Vec<String> = vec!["Paint".into(), "Photo".into()];
        assert!(assign_domain_codes(&clash, &BTreeMap::new(), "test").is_err());
        let mut o = BTreeMap::new();
        o.insert("Photo".to_string(), "H".to_string());
        assert_eq!(
            assign_domain_codes(&clash, &o, "test").unwrap()[1].code,
            "H"
        );
    }
}
