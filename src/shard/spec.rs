//! A shard (`I/N`, checked) and a shard as written on the command line (`I/N` or `auto`).

use std::str::FromStr;

use super::ShardError;

/// Shard `index` of `count`, 0-based (`0 <= index < count`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    index: usize,
    count: usize,
}

impl Shard {
    /// Shard `index` of `count`; refused unless `index < count`.
    pub fn new(index: usize, count: usize) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::Spec {
                given: format!("{index}/{count}"),
                reason: "the count must be at least 1".into(),
            });
        }
        if index >= count {
            return Err(ShardError::Spec {
                given: format!("{index}/{count}"),
                reason: format!("shards are numbered from 0, so the index must be below {count}"),
            });
        }
        Ok(Shard { index, count })
    }

    /// The 0-based index.
    pub fn index(self) -> usize {
        self.index
    }

    /// The number of shards.
    pub fn count(self) -> usize {
        self.count
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A shard as written on the command line: `I/N`, or `auto` (from the scheduler's environment).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardSpec {
    /// An explicit shard.
    Fixed(Shard),
    /// From `SLURM_ARRAY_TASK_*` or `JOB_COMPLETION_INDEX` (see [`super::env`]).
    Auto,
}

impl FromStr for ShardSpec {
    type Err = ShardError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("auto") {
            return Ok(ShardSpec::Auto);
        }
        let bad = |reason: &str| ShardError::Spec {
            given: s.to_string(),
            reason: reason.to_string(),
        };
        let (i, n) = t.split_once('/').ok_or_else(|| bad("there is no '/'"))?;
        let i: usize = i
            .trim()
            .parse()
            .map_err(|_| bad("the index is not a non-negative integer"))?;
        let n: usize = n
            .trim()
            .parse()
            .map_err(|_| bad("the count is not a positive integer"))?;
        Ok(ShardSpec::Fixed(Shard::new(i, n)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_strictly() {
        assert_eq!(
            "0/4".parse::<ShardSpec>().unwrap(),
            ShardSpec::Fixed(Shard::new(0, 4).unwrap())
        );
        assert_eq!(
            " 3 / 4 ".parse::<ShardSpec>().unwrap(),
            ShardSpec::Fixed(Shard::new(3, 4).unwrap())
        );
        assert_eq!("AUTO".parse::<ShardSpec>().unwrap(), ShardSpec::Auto);
        for (bad, why) in [
            ("4/4", "below 4"),
            ("1/0", "at least 1"),
            ("-1/4", "index"),
            ("1", "no '/'"),
            ("a/b", "index"),
            ("1/x", "count"),
            ("", "no '/'"),
        ] {
            let e = bad.parse::<ShardSpec>().unwrap_err().to_string();
            assert!(e.contains(why) && e.contains("expected I/N"), "{bad}: {e}");
        }
        assert_eq!(Shard::new(2, 5).unwrap().to_string(), "2/5");
    }
}
