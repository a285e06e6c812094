//! A source→target pair of domains: parsed once from what the user wrote (`R-P`, `R→P`,
//! `Real World-Product`), written back as `S-T` by [`Display`](std::fmt::Display), and resolved against a
//! dataset's domains by [`Pair::resolve`]. This file imports nothing of the crate, so that
//! [`crate::error`] can name [`PairError`] here without a loop; what needs the domains ([`Pair::of`],
//! [`Pair::resolve`]) is in [`crate::dataset`].

use std::str::FromStr;

/// A pair that is not `SOURCE-TARGET`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("pair {given:?}: {reason}; expected SOURCE-TARGET, e.g. R-P")]
pub struct PairError {
    /// What was given.
    pub given: String,
    /// What is wrong.
    pub reason: &'static str,
}

/// A source→target pair: two distinct domain keys (codes or names).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pair {
    /// Source domain code or name.
    pub source: String,
    /// Target domain code or name.
    pub target: String,
}

impl FromStr for Pair {
    type Err = PairError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = |reason| PairError {
            given: s.to_string(),
            reason,
        };
        let parts: Vec<&str> = s
            .split(['-', '>', '→'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if parts.len() != 2 {
            return Err(err("it does not have exactly two sides"));
        }
        if parts[0].eq_ignore_ascii_case(parts[1]) {
            return Err(err("source and target are the same"));
        }
        Ok(Pair {
            source: parts[0].to_string(),
            target: parts[1].to_string(),
        })
    }
}

impl std::fmt::Display for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.source, self.target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_parse_and_reject_bad_shapes() {
        let p: Pair = "R-P".parse().unwrap();
        assert_eq!((p.source.as_str(), p.target.as_str()), ("R", "P"));
        let p: Pair = "Real World→Product".parse().unwrap();
        assert_eq!(p.source, "Real World");
        assert_eq!(p.to_string(), "Real World-Product");
        let p: Pair = " C > A ".parse().unwrap();
        assert_eq!(p.to_string(), "C-A");
        for bad in ["R", "R-P-C", "R-R", "r-R", "-", ""] {
            assert!(bad.parse::<Pair>().is_err(), "{bad}");
        }
    }
}
