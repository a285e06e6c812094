//! Which split a command works on.

use std::str::FromStr;

use crate::split::Split;

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
