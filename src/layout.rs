//! Every path dannscope writes under the output root, in one place, and the check that keeps names
//! from manifests, folders, model metadata, the config and flags from escaping it.
//!
//! ```text
//! <out>/manifests/<data folder>-<hash>.csv                 automatic split manifests
//! <out>/names/<model>.json                                  which model file holds an output name
//! <out>/embeddings/<model>/<split>/<Domain>.{npz,json}     embed, merge
//! <out>/embeddings/<model>/<split>/runs/<Domain>.json      embed, merge (time, threads, timings)
//! <out>/embeddings/<model>/<split>/shards/<I>-of-<N>/{<Domain>.{npz,json},shard.json}   embed --shard
//! <out>/metrics/<model>/<split>/{classification,cohesion}.csv, metrics.json
//! <out>/tsne/<model>/<split>/<S>-<T>.{npz,csv,json,svg,png}
//! <out>/tsne/<model>/<split>/<S>-<T>_evolution.{svg,png,gif}, <S>-<T>_curves.{svg,png}
//! <out>/tsne/<model>/<split>/<S>-<T>_misalignment.{svg,png}            eval (per-class transfer)
//! <out>/compare/<A>_vs_<B>/<split>/<S>-<T>.{csv,json}                   compare
//! <out>/select/<last checkpoint>/<split>/<S>-<T>{.csv,.json,.svg,.png,_summary.csv}   select
//! <out>/curves/<log name>.{svg,png}
//! <out>/report/...
//! ```
//!
//! `<split>` is the split name (`train`, `valid`, `test`, `all`), with `-fast-decode` appended when the
//! embeddings were computed with the reduced JPEG decode: such results never share a folder with (or
//! overwrite) the exact ones, and everything derived from them (metrics, maps) inherits the suffix.

pub(crate) mod name;

use std::path::{Path, PathBuf};

use crate::dataset::{Domain, Pair};
use crate::split::SplitSel;

pub use self::name::{check_name, explore_page_name, gallery_csv_name, NameError, MAX_NAME_BYTES};

/// Which stored embeddings (and everything derived from them) a path is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StoreKey {
    /// The model's output name: its file stem, or the stem and a short hash when another model holds
    /// the stem (see [`crate::pipeline::names`]).
    pub model: String,
    /// Split.
    pub split: SplitSel,
    /// Embedded with the reduced (fast) JPEG decode.
    pub fast_decode: bool,
}

impl StoreKey {
    /// The split folder name: the split, plus `-fast-decode` for reduced-decode embeddings.
    pub fn split_dir(&self) -> String {
        if self.fast_decode {
            format!("{}-fast-decode", self.split)
        } else {
            self.split.to_string()
        }
    }
}

/// The output root and every path under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

/// `base` with `.ext` appended (not replacing anything after a dot in the name).
pub fn with_ext(base: &Path, ext: &str) -> PathBuf {
    let mut p = base.as_os_str().to_owned();
    p.push(".");
    p.push(ext);
    PathBuf::from(p)
}

impl Layout {
    /// The layout under `root`.
    pub fn new(root: impl Into<PathBuf>) -> Layout {
        Layout { root: root.into() }
    }

    /// The output root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where an automatically made manifest for the data root `data` is kept: named after the data
    /// folder and a hash of its absolute path.
    pub fn auto_manifest(&self, data: &Path) -> PathBuf {
        use sha2::{Digest, Sha256};
        let abs = std::fs::canonicalize(data).unwrap_or_else(|_| data.to_path_buf());
        let h = hex::encode(Sha256::digest(abs.to_string_lossy().as_bytes()));
        let name: String = abs
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "data".into())
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .take(64)
            .collect();
        self.root
            .join("manifests")
            .join(format!("{name}-{}.csv", &h[..8]))
    }

    /// Folder of the output-name claims: `<out>/names/<model>.json` says which model file holds the
    /// name `<model>` (see [`crate::pipeline::names`]).
    pub fn names(&self) -> PathBuf {
        self.root.join("names")
    }

    fn keyed(&self, stage: &str, key: &StoreKey) -> Result<PathBuf, NameError> {
        check_name("model name", &key.model, None)?;
        Ok(self.root.join(stage).join(&key.model).join(key.split_dir()))
    }

    /// Folder of one model's embeddings of one split.
    pub fn embeddings(&self, key: &StoreKey) -> Result<PathBuf, NameError> {
        self.keyed("embeddings", key)
    }

    /// Folder of one model's metrics of one split.
    pub fn metrics(&self, key: &StoreKey) -> Result<PathBuf, NameError> {
        self.keyed("metrics", key)
    }

    /// Folder of one model's maps and figures of one split.
    pub fn tsne(&self, key: &StoreKey) -> Result<PathBuf, NameError> {
        self.keyed("tsne", key)
    }

    /// Folder of one model's explore pages of one split.
    pub fn explore(&self, key: &StoreKey) -> Result<PathBuf, NameError> {
        self.keyed("explore", key)
    }

    /// Folder of the comparison of model `a` with model `b` on one split (both keys must name the same
    /// split folder): `<out>/compare/<A>_vs_<B>/<split>`.
    pub fn compare(&self, a: &StoreKey, b: &StoreKey) -> Result<PathBuf, NameError> {
        check_name("model name", &a.model, None)?;
        check_name("model name", &b.model, None)?;
        let name = format!("{}_vs_{}", a.model, b.model);
        check_name("comparison name", &name, None)?;
        if a.split_dir() != b.split_dir() {
            return Err(NameError {
                what: "split folder",
                value: format!("{} / {}", a.split_dir(), b.split_dir()),
                origin: None,
                reason: "the two models were embedded on different splits or decodes",
            });
        }
        Ok(self.root.join("compare").join(name).join(a.split_dir()))
    }

    /// Folder of a label-free checkpoint selection, named after the run's last checkpoint:
    /// `<out>/select/<model>/<split>`.
    pub fn select(&self, key: &StoreKey) -> Result<PathBuf, NameError> {
        self.keyed("select", key)
    }

    /// Base path (no extension) of a pair's files in `dir`, named by the domains' codes, e.g.
    /// `<dir>/R-P`, with `suffix` appended to the pair (e.g. `_evolution`).
    pub fn pair_base(
        dir: &Path,
        source: &Domain,
        target: &Domain,
        suffix: &str,
    ) -> Result<PathBuf, NameError> {
        check_name("domain code", &source.code, None)?;
        check_name("domain code", &target.code, None)?;
        Ok(dir.join(format!("{}{suffix}", Pair::of(source, target))))
    }

    /// The `.npz` and `.json` files of one domain in an embeddings folder.
    pub fn domain_files(dir: &Path, domain: &str) -> Result<(PathBuf, PathBuf), NameError> {
        check_name("domain name", domain, None)?;
        Ok((
            dir.join(format!("{domain}.npz")),
            dir.join(format!("{domain}.json")),
        ))
    }

    /// The run log of one domain in an embeddings folder: `<dir>/runs/<Domain>.json` (what differs from
    /// one run of the same inputs to the next: time, threads, timings).
    pub fn domain_runs(dir: &Path, domain: &str) -> Result<PathBuf, NameError> {
        check_name("domain name", domain, None)?;
        Ok(dir.join("runs").join(format!("{domain}.json")))
    }

    /// Folder holding the shards of a sharded embed of an embeddings folder: `<dir>/shards`.
    pub fn shards(dir: &Path) -> PathBuf {
        dir.join("shards")
    }

    /// Folder of shard `index` of `count` (0-based): `<dir>/shards/<I>-of-<N>`; it holds the shard's
    /// `<Domain>.{npz,json}` and, once the shard is finished, `shard.json`.
    pub fn shard_dir(dir: &Path, index: usize, count: usize) -> PathBuf {
        Self::shards(dir).join(format!("{index}-of-{count}"))
    }

    /// The record that marks a shard folder finished.
    pub fn shard_record(shard_dir: &Path) -> PathBuf {
        shard_dir.join("shard.json")
    }

    /// Base path (no extension) of a training-curves figure named after its log file.
    pub fn curves(&self, log_name: &str) -> Result<PathBuf, NameError> {
        check_name("training-log name", log_name, None)?;
        Ok(self.root.join("curves").join(log_name))
    }

    /// Folder of the batch report.
    pub fn report(&self) -> PathBuf {
        self.root.join("report")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_names_are_refused_with_their_origin() {
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "a\\b",
            "/abs",
            "nul\0x",
            "tab\tx",
            ".hidden",
            &"x".repeat(MAX_NAME_BYTES + 1),
        ] {
            let e = check_name("domain name", bad, Some("splits.csv")).unwrap_err();
            let msg = e.to_string();
            assert!(
                msg.contains("domain name") && msg.contains("splits.csv"),
                "{msg}"
            );
        }
        for good in ["Real World", "Art", "Clipart_2", "Ünïcode", "a.b"] {
            assert_eq!(check_name("domain name", good, None).unwrap(), good);
        }
    }

    #[test]
    fn paths_stay_under_the_root_and_fast_decode_has_its_own_folder() {
        let l = Layout::new("/o");
        let exact = StoreKey {
            model: "m".into(),
            split: SplitSel::Valid,
            fast_decode: false,
        };
        let fast = StoreKey {
            fast_decode: true,
            ..exact.clone()
        };
        assert_eq!(
            l.embeddings(&exact).unwrap(),
            PathBuf::from("/o/embeddings/m/valid")
        );
        assert_eq!(
            l.metrics(&fast).unwrap(),
            PathBuf::from("/o/metrics/m/valid-fast-decode")
        );
        let bad = StoreKey {
            model: "..".into(),
            ..exact
        };
        assert!(l.tsne(&bad).is_err());
        assert!(Layout::domain_files(Path::new("/o"), "../../etc").is_err());
        let d = |code: &str| Domain {
            name: "D".into(),
            code: code.into(),
        };
        assert!(Layout::pair_base(Path::new("/o"), &d("R"), &d("/P"), "").is_err());
        assert_eq!(
            Layout::pair_base(Path::new("/o"), &d("R"), &d("P"), "_gallery").unwrap(),
            Path::new("/o/R-P_gallery")
        );
    }

    #[test]
    fn comparisons_name_both_models_and_refuse_unsafe_names() {
        let l = Layout::new("/o");
        let key = |m: &str| StoreKey {
            model: m.into(),
            split: SplitSel::Valid,
            fast_decode: false,
        };
        assert_eq!(
            l.compare(&key("a"), &key("b")).unwrap(),
            PathBuf::from("/o/compare/a_vs_b/valid")
        );
        assert!(l.compare(&key(".."), &key("b")).is_err());
        assert!(l.compare(&key("a"), &key("x/y")).is_err());
        let long = "m".repeat(MAX_NAME_BYTES / 2 + 1);
        assert!(l.compare(&key(&long), &key(&long)).is_err());
        let fast = StoreKey {
            fast_decode: true,
            ..key("b")
        };
        assert!(l.compare(&key("a"), &fast).is_err());
        assert_eq!(
            l.select(&key("ep01")).unwrap(),
            PathBuf::from("/o/select/ep01/valid")
        );
    }

    #[test]
    fn extensions_are_appended_so_dotted_names_do_not_collide() {
        let l = Layout::new("o");
        let a = with_ext(&l.curves("a.v1").unwrap(), "svg");
        let b = with_ext(&l.curves("a.v2").unwrap(), "svg");
        assert_ne!(a, b);
        assert_eq!(a, PathBuf::from("o/curves/a.v1.svg"));
    }
}
