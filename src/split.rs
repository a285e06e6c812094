//! Splits: the manifest CSV (`path,domain,class,split`) that says which image is in train, valid or test.
//!
//! A new manifest is stratified by (domain, class): within each stratum the images are ordered by a seeded
//! hash of their path and the first ⌊ratio·n⌉ go to train, the next to valid, the rest to test (largest
//! remainder rounding). Updating an existing manifest never moves an image that it already lists: new images
//! are added to the split of their stratum that is furthest below its ratio.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::{Component, Path};
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::dataset::Dataset;
use crate::error::{Error, Result};

/// A split name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    /// Training images.
    Train,
    /// Validation images.
    Valid,
    /// Test images.
    Test,
}

impl Split {
    /// All splits in order.
    pub const ALL: [Split; 3] = [Split::Train, Split::Valid, Split::Test];

    /// The manifest spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    /// Parse `train`, `valid` (or `val`, `validation`) or `test`.
    pub fn parse(s: &str) -> Option<Split> {
        match s.trim().to_ascii_lowercase().as_str() {
            "train" => Some(Split::Train),
            "valid" | "val" | "validation" => Some(Split::Valid),
            "test" => Some(Split::Test),
            _ => None,
        }
    }
}

impl std::fmt::Display for Split {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The split a command works on: one of the manifest's splits, or all of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SplitSel {
    /// Training images.
    Train,
    /// Validation images (the default).
    #[default]
    Valid,
    /// Test images.
    Test,
    /// Every image of the manifest.
    All,
}

impl SplitSel {
    /// The name used in paths and records.
    pub fn as_str(self) -> &'static str {
        match self {
            SplitSel::Train => "train",
            SplitSel::Valid => "valid",
            SplitSel::Test => "test",
            SplitSel::All => "all",
        }
    }

    /// The manifest split, `None` for all.
    pub fn manifest_split(self) -> Option<Split> {
        match self {
            SplitSel::Train => Some(Split::Train),
            SplitSel::Valid => Some(Split::Valid),
            SplitSel::Test => Some(Split::Test),
            SplitSel::All => None,
        }
    }
}

impl std::fmt::Display for SplitSel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown split name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("split {0:?}: expected train, valid, test or all")]
pub struct SplitError(pub String);

impl<'de> serde::Deserialize<'de> for SplitSel {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for SplitSel {
    type Err = SplitError;
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "all" => Ok(SplitSel::All),
            other => match Split::parse(other) {
                Some(Split::Train) => Ok(SplitSel::Train),
                Some(Split::Valid) => Ok(SplitSel::Valid),
                Some(Split::Test) => Ok(SplitSel::Test),
                None => Err(SplitError(s.to_string())),
            },
        }
    }
}

/// Split ratios (train, valid, test), checked to be non-negative and sum to 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplitRatios {
    /// Fractions for train, valid, test.
    pub ratios: [f64; 3],
}

impl Default for SplitRatios {
    fn default() -> Self {
        SplitRatios {
            ratios: [2.0 / 3.0, 1.0 / 6.0, 1.0 / 6.0],
        }
    }
}

impl SplitRatios {
    /// Parse `a,b,c` where each item is a number or a fraction such as `2/3`; normalised to sum 1.
    pub fn parse(s: &str) -> Result<SplitRatios> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        let bad = || {
            Error::Invalid(format!(
                "split ratios \"{s}\": expected three non-negative numbers train,valid,test such as 2/3,1/6,1/6"
            ))
        };
        if parts.len() != 3 {
            return Err(bad());
        }
        let mut r = [0.0; 3];
        for (i, p) in parts.iter().enumerate() {
            let v = if let Some((a, b)) = p.split_once('/') {
                let a: f64 = a.trim().parse().map_err(|_| bad())?;
                let b: f64 = b.trim().parse().map_err(|_| bad())?;
                a / b
            } else {
                p.parse().map_err(|_| bad())?
            };
            if !v.is_finite() || v < 0.0 {
                return Err(bad());
            }
            r[i] = v;
        }
        let sum: f64 = r.iter().sum();
        if sum <= 0.0 {
            return Err(bad());
        }
        Ok(SplitRatios {
            ratios: r.map(|v| v / sum),
        })
    }

    /// Counts per split for `n` images by largest-remainder rounding (ties prefer valid, then test, then train).
    pub fn counts(&self, n: usize) -> [usize; 3] {
        let exact = self.ratios.map(|r| r * n as f64);
        // Values equal up to rounding noise count as equal (e.g. 2/3 and 1/6 parsed from text).
        let floor = |e: f64| (e + 1e-9).floor();
        let mut c = exact.map(|e| floor(e) as usize);
        let mut left = n - c.iter().sum::<usize>();
        let rem = |i: usize| ((exact[i] - floor(exact[i])) * 1e9).round() as i64;
        let mut order = [1usize, 2, 0];
        order.sort_by_key(|&i| std::cmp::Reverse(rem(i)));
        for &i in order.iter().cycle() {
            if left == 0 {
                break;
            }
            c[i] += 1;
            left -= 1;
        }
        c
    }
}

/// One manifest row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestRow {
    /// Path relative to the data root, `/`-separated.
    pub path: String,
    /// Domain folder name.
    pub domain: String,
    /// Class name.
    pub class: String,
    /// The split.
    pub split: Split,
}

/// A split manifest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Manifest {
    /// Rows sorted by path.
    pub rows: Vec<ManifestRow>,
}

/// What [`Manifest::update`] changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpdateSummary {
    /// Rows kept from the existing manifest.
    pub kept: usize,
    /// New images added.
    pub added: usize,
    /// Rows dropped because the image is gone from the dataset.
    pub removed: usize,
    /// The first few dropped paths (at most [`UpdateSummary::LISTED`]), in path order.
    pub removed_paths: Vec<String>,
}

impl UpdateSummary {
    /// How many dropped paths are listed.
    pub const LISTED: usize = 5;
}

fn rank_key(seed: u64, path: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(seed.to_le_bytes());
    h.update(path.as_bytes());
    h.finalize().into()
}

type Strata = BTreeMap<(usize, usize), Vec<usize>>;

fn strata(ds: &Dataset) -> Strata {
    let mut s: Strata = BTreeMap::new();
    for (i, im) in ds.images.iter().enumerate() {
        s.entry((im.domain, im.class)).or_default().push(i);
    }
    s
}

impl Manifest {
    /// Make a new stratified, seeded manifest for every image of `ds`.
    pub fn create(ds: &Dataset, ratios: &SplitRatios, seed: u64) -> Manifest {
        let mut rows = Vec::with_capacity(ds.images.len());
        for idx in strata(ds).values() {
            let mut order = idx.clone();
            order.sort_by_key(|&i| rank_key(seed, &ds.images[i].rel_path));
            let c = ratios.counts(order.len());
            for (rank, &i) in order.iter().enumerate() {
                let split = if rank < c[0] {
                    Split::Train
                } else if rank < c[0] + c[1] {
                    Split::Valid
                } else {
                    Split::Test
                };
                rows.push(row_for(ds, i, split));
            }
        }
        rows.sort_by(|a, b| a.path.cmp(&b.path));
        Manifest { rows }
    }

    /// Extend `self` with the images of `ds` it does not list yet, keeping every existing assignment.
    /// Rows whose image is no longer in `ds` are dropped.
    pub fn update(
        &self,
        ds: &Dataset,
        ratios: &SplitRatios,
        seed: u64,
    ) -> (Manifest, UpdateSummary) {
        let existing: HashMap<&str, &ManifestRow> =
            self.rows.iter().map(|r| (r.path.as_str(), r)).collect();
        let mut summary = UpdateSummary::default();
        let mut rows = Vec::with_capacity(ds.images.len());
        for idx in strata(ds).values() {
            let mut counts = [0usize; 3];
            let mut new = Vec::new();
            for &i in idx {
                match existing.get(ds.images[i].rel_path.as_str()) {
                    Some(r) => {
                        counts[r.split as usize] += 1;
                        rows.push((*r).clone());
                        summary.kept += 1;
                    }
                    None => new.push(i),
                }
            }
            new.sort_by_key(|&i| rank_key(seed, &ds.images[i].rel_path));
            for i in new {
                let total = counts.iter().sum::<usize>() + 1;
                let target = ratios.counts(total);
                // The split furthest below its target; ties go to train, then valid, then test.
                let s = (0..3)
                    .max_by_key(|&s| (target[s] as i64 - counts[s] as i64, -(s as i64)))
                    .unwrap_or(0);
                counts[s] += 1;
                rows.push(row_for(ds, i, Split::ALL[s]));
                summary.added += 1;
            }
        }
        summary.removed = self.rows.len() - summary.kept;
        let present: std::collections::HashSet<&str> =
            ds.images.iter().map(|im| im.rel_path.as_str()).collect();
        summary.removed_paths = self
            .rows
            .iter()
            .filter(|r| !present.contains(r.path.as_str()))
            .take(UpdateSummary::LISTED)
            .map(|r| r.path.clone())
            .collect();
        rows.sort_by(|a, b| a.path.cmp(&b.path));
        (Manifest { rows }, summary)
    }

    /// The manifest at `path` brought up to date with `ds` ([`Manifest::update`], with the summary), or
    /// a new one ([`Manifest::create`], no summary) when `path` holds no file. The existing file is read
    /// without requiring its images to exist: rows of deleted images are dropped by the update.
    pub fn create_or_update(
        path: &Path,
        root: &Path,
        ds: &Dataset,
        ratios: &SplitRatios,
        seed: u64,
    ) -> Result<(Manifest, Option<UpdateSummary>)> {
        if !path.is_file() {
            return Ok((Manifest::create(ds, ratios, seed), None));
        }
        let (m, s) = Manifest::read_with(path, root, false)?.update(ds, ratios, seed);
        Ok((m, Some(s)))
    }

    /// Write the manifest CSV atomically.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::atomic::write_csv(path, |wr| {
            wr.write_record(["path", "domain", "class", "split"])?;
            for r in &self.rows {
                wr.write_record([&r.path, &r.domain, &r.class, r.split.as_str()])?;
            }
            Ok(())
        })?;
        Ok(())
    }

    /// Read and validate a manifest: the header, split values, paths inside `root`, files that exist.
    /// Accepts a UTF-8 BOM and CRLF line ends. Errors name the file and line.
    pub fn read(path: &Path, root: &Path) -> Result<Manifest> {
        Self::read_with(path, root, true)
    }

    /// [`Manifest::read`], optionally without requiring every listed image to exist (an automatic
    /// manifest whose images were deleted is read as it is, then [`Manifest::update`] drops the gone
    /// rows and keeps every other row in its split).
    pub fn read_with(path: &Path, root: &Path, require_files: bool) -> Result<Manifest> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            path: path.to_path_buf(),
            source: e,
        })?;
        let text = std::str::from_utf8(&bytes)
            .map_err(|e| Error::Invalid(format!("{}: not UTF-8 text ({e})", path.display())))?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let at =
            |line: u64, msg: String| Error::Invalid(format!("{}:{line}: {msg}", path.display()));
        let mut rd = csv::ReaderBuilder::new()
            .has_headers(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let header = rd
            .headers()
            .map_err(|e| at(1, format!("cannot read the header: {e}")))?
            .clone();
        let col = |name: &str| header.iter().position(|h| h.eq_ignore_ascii_case(name));
        let expected = "expected the header path,domain,class,split";
        let (Some(cp), Some(cd), Some(cc), Some(cs)) =
            (col("path"), col("domain"), col("class"), col("split"))
        else {
            let missing: Vec<&str> = ["path", "domain", "class", "split"]
                .into_iter()
                .filter(|n| col(n).is_none())
                .collect();
            return Err(at(
                1,
                format!(
                    "{expected}, found \"{}\" (missing: {})",
                    header.iter().collect::<Vec<_>>().join(","),
                    missing.join(", ")
                ),
            ));
        };
        let mut rows = Vec::new();
        let mut seen = HashMap::new();
        for (i, rec) in rd.records().enumerate() {
            let line = i as u64 + 2;
            let rec = rec.map_err(|e| at(line, format!("malformed CSV row: {e}")))?;
            if rec.iter().all(|f| f.is_empty()) {
                continue;
            }
            let get = |c: usize, name: &str| -> Result<String> {
                match rec.get(c) {
                    Some(v) if !v.is_empty() => Ok(v.to_string()),
                    _ => Err(at(line, format!("the \"{name}\" column is empty"))),
                }
            };
            let p = get(cp, "path")?.replace('\\', "/");
            let domain = get(cd, "domain")?;
            let class = get(cc, "class")?;
            let split_s = get(cs, "split")?;
            let split = Split::parse(&split_s).ok_or_else(|| {
                at(
                    line,
                    format!("split \"{split_s}\": expected train, valid or test"),
                )
            })?;
            check_inside(&p).map_err(|m| at(line, m))?;
            let full = root.join(&p);
            if require_files && !full.is_file() {
                return Err(at(
                    line,
                    format!("image \"{p}\" does not exist under {}", root.display()),
                ));
            }
            if let Some(prev) = seen.insert(p.clone(), line) {
                return Err(at(
                    line,
                    format!("\"{p}\" is listed twice (also line {prev})"),
                ));
            }
            rows.push(ManifestRow {
                path: p,
                domain,
                class,
                split,
            });
        }
        if rows.is_empty() {
            return Err(at(2, "the manifest lists no images".into()));
        }
        rows.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(Manifest { rows })
    }

    /// Number of rows per split.
    pub fn split_counts(&self) -> [usize; 3] {
        let mut c = [0; 3];
        for r in &self.rows {
            c[r.split as usize] += 1;
        }
        c
    }
}

fn row_for(ds: &Dataset, i: usize, split: Split) -> ManifestRow {
    let im = &ds.images[i];
    ManifestRow {
        path: im.rel_path.clone(),
        domain: ds.domains[im.domain].name.clone(),
        class: ds.classes[im.class].clone(),
        split,
    }
}

fn check_inside(p: &str) -> std::result::Result<(), String> {
    let path = Path::new(p);
    for c in path.components() {
        match c {
            Component::Normal(_) | Component::CurDir => {}
            _ => {
                return Err(format!(
                    "path \"{p}\" must be relative to the data root and stay inside it"
                ))
            }
        }
    }
    Ok(())
}

/// Write a one-line summary of split counts per domain to `w`.
pub fn write_summary(m: &Manifest, mut w: impl Write) -> std::io::Result<()> {
    let mut per: BTreeMap<&str, [usize; 3]> = BTreeMap::new();
    for r in &m.rows {
        per.entry(&r.domain).or_default()[r.split as usize] += 1;
    }
    for (d, c) in per {
        writeln!(
            w,
            "{d:>16}: train {:>5}  valid {:>5}  test {:>5}",
            c[0], c[1], c[2]
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_parse_strictly() {
        assert_eq!("valid".parse::<SplitSel>().unwrap(), SplitSel::Valid);
        assert_eq!("VAL".parse::<SplitSel>().unwrap(), SplitSel::Valid);
        assert_eq!("all".parse::<SplitSel>().unwrap(), SplitSel::All);
        let e = "vaild".parse::<SplitSel>().unwrap_err().to_string();
        assert!(
            e.contains("vaild") && e.contains("train, valid, test or all"),
            "{e}"
        );
    }

    #[test]
    fn ratio_counts() {
        let r = SplitRatios::default();
        assert_eq!(r.counts(6), [4, 1, 1]);
        assert_eq!(r.counts(5), [3, 1, 1]);
        assert_eq!(r.counts(26), [17, 5, 4]);
        assert_eq!(r.counts(1), [1, 0, 0]);
        assert_eq!(r.counts(0), [0, 0, 0]);
        for n in 0..200 {
            assert_eq!(r.counts(n).iter().sum::<usize>(), n);
        }
        let p = SplitRatios::parse("2/3, 1/6, 1/6").unwrap();
        for n in 0..200 {
            assert_eq!(p.counts(n), r.counts(n), "n = {n}");
        }
        assert!((p.ratios[0] - 2.0 / 3.0).abs() < 1e-12);
        assert!(SplitRatios::parse("1,2").is_err());
        assert!(SplitRatios::parse("1,-1,0").is_err());
    }

    #[test]
    fn inside_root() {
        assert!(check_inside("Art/Bed/a b.jpg").is_ok());
        assert!(check_inside("../x.jpg").is_err());
        assert!(check_inside("/etc/passwd").is_err());
        assert!(check_inside("Art/../../x.jpg").is_err());
    }
}
