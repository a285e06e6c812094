//! `--shard auto`: this task's shard from the scheduler's environment.
//!
//! - **Slurm array job** (`sbatch --array=A-B[:S]`): `SLURM_ARRAY_TASK_ID`, `SLURM_ARRAY_TASK_COUNT`,
//!   `SLURM_ARRAY_TASK_MIN` and (optional) `SLURM_ARRAY_TASK_STEP` / `SLURM_ARRAY_TASK_MAX`. The shard
//!   index is `(ID - MIN) / STEP`, so `--array=1-4` and `--array=0-3` both give shards 0..3 of 4. The
//!   array must be a regular range (`--array=1,3,7` is refused: its tasks do not number shards).
//! - **Kubernetes Indexed Job** (`completionMode: Indexed`): `JOB_COMPLETION_INDEX` is the index; the
//!   Job does not tell a pod how many completions there are, so the count comes from
//!   `DANNSCOPE_SHARD_COUNT`, which the Job's pod template sets to the same number as
//!   `spec.completions` (see `examples/k8s/embed-job.yaml`).
//!
//! `DANNSCOPE_SHARD_COUNT=N` in a Slurm task keeps a plan of `N` shards when the array has fewer
//! tasks: a resubmitted part of the array (`DANNSCOPE_SHARD_COUNT=4 sbatch --array=2 ...` runs shard
//! 2/4, `--array=1,3` shards 1/4 and 3/4). Task IDs then *are* shard indices (`0..N`), whatever the
//! first array's range was. With as many tasks as `N` it only repeats the count; more tasks than `N`
//! is refused. Without it, an array of one task is a plan of one shard (the whole dataset), which
//! `embed` refuses where shards of another count are already on disk.

use super::{Shard, ShardError, ShardSpec};

impl ShardSpec {
    /// The shard, reading the environment through `get` for `auto` (see [`from_env`]).
    pub fn resolve(self, get: &dyn Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
        match self {
            ShardSpec::Fixed(s) => Ok(s),
            ShardSpec::Auto => from_env(get),
        }
    }
}

/// The variable that gives the shard count where the scheduler does not (Kubernetes).
pub const COUNT_VAR: &str = "DANNSCOPE_SHARD_COUNT";

/// This task's shard, from environment variables looked up by `get` (`std::env::var` in the command
/// line; a map in tests).
pub fn from_env(get: &dyn Fn(&str) -> Option<String>) -> Result<Shard, ShardError> {
    let num = |var: &str| -> Result<Option<u64>, ShardError> {
        match get(var) {
            None => Ok(None),
            Some(v) => v.trim().parse::<u64>().map(Some).map_err(|_| {
                ShardError::Scheduler(format!("{var}={v:?} is not a non-negative integer"))
            }),
        }
    };
    let count_var = num(COUNT_VAR)?;
    let slurm = num("SLURM_ARRAY_TASK_ID")?;
    let k8s = num("JOB_COMPLETION_INDEX")?;
    let (index, count) = match (slurm, k8s) {
        (Some(_), Some(_)) => {
            return Err(ShardError::Scheduler(
                "both SLURM_ARRAY_TASK_ID (Slurm) and JOB_COMPLETION_INDEX (Kubernetes) are set; \
                 give the shard explicitly as I/N"
                    .into(),
            ))
        }
        (Some(id), None) => {
            let need = |var: &str| {
                num(var)?.ok_or_else(|| {
                    ShardError::Scheduler(format!(
                        "SLURM_ARRAY_TASK_ID is set but {var} is not (Slurm sets both in array jobs)"
                    ))
                })
            };
            let count = need("SLURM_ARRAY_TASK_COUNT")?;
            match count_var {
                // Part of a plan of `c` shards: the task ID is the shard index.
                Some(c) if c > count => {
                    if id >= c {
                        return Err(ShardError::Scheduler(format!(
                            "SLURM_ARRAY_TASK_ID={id} is not a shard of {COUNT_VAR}={c}: with the \
                             count set for an array of fewer tasks ({count}), task IDs are shard \
                             indices 0..{}",
                            c - 1
                        )));
                    }
                    (id, c)
                }
                Some(c) if c < count => {
                    return Err(ShardError::Scheduler(format!(
                        "{COUNT_VAR}={c} but the Slurm array has {count} tasks, more than there \
                         are shards"
                    )))
                }
                _ => (array_index(&num, id, count)?, count),
            }
        }
        (None, Some(index)) => {
            let count = count_var.ok_or_else(|| {
                ShardError::Scheduler(format!(
                    "JOB_COMPLETION_INDEX={index} is set (Kubernetes Indexed Job) but {COUNT_VAR} \
                     is not; set it in the pod template to the Job's spec.completions"
                ))
            })?;
            (index, count)
        }
        (None, None) => {
            let hint = if get("SLURM_JOB_ID").is_some() {
                " (this Slurm job is not an array job: submit it with --array=0-<N-1>)"
            } else {
                ""
            };
            return Err(ShardError::Scheduler(format!(
                "neither SLURM_ARRAY_TASK_ID (Slurm array job) nor JOB_COMPLETION_INDEX \
                 (Kubernetes Indexed Job) is set{hint}; give the shard explicitly as I/N"
            )));
        }
    };
    let (index, count) = (index as usize, count as usize);
    Shard::new(index, count).map_err(|_| {
        ShardError::Scheduler(format!(
            "the environment names shard {index} of {count}, which does not exist"
        ))
    })
}

/// The shard index of Slurm array task `id` of an array of `count` tasks: `(ID - MIN) / STEP` of a
/// regular range.
fn array_index(
    num: &dyn Fn(&str) -> Result<Option<u64>, ShardError>,
    id: u64,
    count: u64,
) -> Result<u64, ShardError> {
    let min = num("SLURM_ARRAY_TASK_MIN")?.ok_or_else(|| {
        ShardError::Scheduler(
            "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not (Slurm sets both in array \
             jobs)"
                .into(),
        )
    })?;
    let step = num("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1);
    if step == 0 {
        return Err(ShardError::Scheduler("SLURM_ARRAY_TASK_STEP=0".into()));
    }
    if id < min || !(id - min).is_multiple_of(step) {
        return Err(ShardError::Scheduler(format!(
            "SLURM_ARRAY_TASK_ID={id} is not on the array's range (min {min}, step {step})"
        )));
    }
    if let Some(max) = num("SLURM_ARRAY_TASK_MAX")? {
        if count == 0 || max != min + (count - 1) * step {
            return Err(ShardError::Scheduler(format!(
                "the array is not a regular range (min {min}, max {max}, step {step}, {count} \
                 tasks); submit it as --array=0-{} (a % limit is fine), or set {COUNT_VAR} to the \
                 number of shards (task IDs are then shard indices)",
                count.max(1) - 1
            )));
        }
    }
    Ok((id - min) / step)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn run(vars: &[(&str, &str)]) -> Result<Shard, ShardError> {
        let m: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_env(&|k| m.get(k).cloned())
    }

    fn slurm(id: u32, min: u32, max: u32, count: u32, step: Option<u32>) -> Vec<(String, String)> {
        let mut v = vec![
            ("SLURM_JOB_ID".to_string(), "77".to_string()),
            ("SLURM_ARRAY_TASK_ID".into(), id.to_string()),
            ("SLURM_ARRAY_TASK_MIN".into(), min.to_string()),
            ("SLURM_ARRAY_TASK_MAX".into(), max.to_string()),
            ("SLURM_ARRAY_TASK_COUNT".into(), count.to_string()),
        ];
        if let Some(s) = step {
            v.push(("SLURM_ARRAY_TASK_STEP".into(), s.to_string()));
        }
        v
    }

    fn run_owned(v: &[(String, String)]) -> Result<Shard, ShardError> {
        let r: Vec<(&str, &str)> = v.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        run(&r)
    }

    #[test]
    fn slurm_ranges_starting_anywhere_number_shards_from_zero() {
        // --array=0-3
        for id in 0..4 {
            assert_eq!(
                run_owned(&slurm(id, 0, 3, 4, Some(1))).unwrap(),
                Shard::new(id as usize, 4).unwrap()
            );
        }
        // --array=1-4 (no STEP variable: step 1)
        for id in 1..=4 {
            assert_eq!(
                run_owned(&slurm(id, 1, 4, 4, None)).unwrap(),
                Shard::new(id as usize - 1, 4).unwrap()
            );
        }
        // --array=10-40:10
        assert_eq!(
            run_owned(&slurm(30, 10, 40, 4, Some(10))).unwrap(),
            Shard::new(2, 4).unwrap()
        );
        // The count variable may repeat the array's count.
        let mut v = slurm(2, 0, 3, 4, None);
        v.push((COUNT_VAR.into(), "4".into()));
        assert_eq!(run_owned(&v).unwrap(), Shard::new(2, 4).unwrap());
    }

    #[test]
    fn slurm_inconsistencies_are_named() {
        let msg = |v: &[(String, String)]| run_owned(v).unwrap_err().to_string();
        // --array=1,3,7: three tasks that do not form a range.
        let m = msg(&slurm(3, 1, 7, 3, None));
        assert!(
            m.contains("not a regular range") && m.contains("--array=0-2"),
            "{m}"
        );
        // off the step
        let m = msg(&slurm(15, 10, 40, 4, Some(10)));
        assert!(m.contains("SLURM_ARRAY_TASK_ID=15"), "{m}");
        // below the minimum
        assert!(msg(&slurm(0, 1, 4, 4, None)).contains("not on the array's range"));
        // count variable below the array's task count
        let mut v = slurm(1, 0, 3, 4, None);
        v.push((COUNT_VAR.into(), "2".into()));
        assert!(msg(&v).contains("DANNSCOPE_SHARD_COUNT=2 but the Slurm array has 4 tasks"));
        // missing count or min
        let m = run(&[("SLURM_ARRAY_TASK_ID", "1"), ("SLURM_ARRAY_TASK_MIN", "0")])
            .unwrap_err()
            .to_string();
        assert!(m.contains("SLURM_ARRAY_TASK_COUNT is not"), "{m}");
        let m = run(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "2"),
        ])
        .unwrap_err()
        .to_string();
        assert!(m.contains("SLURM_ARRAY_TASK_MIN is not"), "{m}");
        // not a number
        let m = run(&[("SLURM_ARRAY_TASK_ID", "x")])
            .unwrap_err()
            .to_string();
        assert!(m.contains("SLURM_ARRAY_TASK_ID=\"x\""), "{m}");
        // a Slurm job that is not an array
        let m = run(&[("SLURM_JOB_ID", "5")]).unwrap_err().to_string();
        assert!(m.contains("not an array job"), "{m}");
    }

    #[test]
    fn the_count_variable_keeps_a_plan_for_part_of_an_array() {
        // `DANNSCOPE_SHARD_COUNT=4 sbatch --array=2`: one task, ID 2, shard 2/4.
        let mut v = slurm(2, 2, 2, 1, None);
        assert_eq!(run_owned(&v).unwrap(), Shard::new(0, 1).unwrap());
        v.push((COUNT_VAR.into(), "4".into()));
        assert_eq!(run_owned(&v).unwrap(), Shard::new(2, 4).unwrap());
        // `--array=1,3` (not a regular range) with the count: shards 1/4 and 3/4.
        for id in [1, 3] {
            let mut v = slurm(id, 1, 3, 2, None);
            v.push((COUNT_VAR.into(), "4".into()));
            assert_eq!(run_owned(&v).unwrap(), Shard::new(id as usize, 4).unwrap());
        }
        // A task ID beyond the plan.
        let mut v = slurm(4, 4, 4, 1, None);
        v.push((COUNT_VAR.into(), "4".into()));
        let m = run_owned(&v).unwrap_err().to_string();
        assert!(
            m.contains("SLURM_ARRAY_TASK_ID=4 is not a shard of DANNSCOPE_SHARD_COUNT=4")
                && m.contains("0..3"),
            "{m}"
        );
    }

    #[test]
    fn kubernetes_needs_the_count_variable() {
        assert_eq!(
            run(&[("JOB_COMPLETION_INDEX", "3"), (COUNT_VAR, "5")]).unwrap(),
            Shard::new(3, 5).unwrap()
        );
        let m = run(&[("JOB_COMPLETION_INDEX", "3")])
            .unwrap_err()
            .to_string();
        assert!(
            m.contains(COUNT_VAR) && m.contains("spec.completions"),
            "{m}"
        );
        let m = run(&[("JOB_COMPLETION_INDEX", "5"), (COUNT_VAR, "5")])
            .unwrap_err()
            .to_string();
        assert!(m.contains("shard 5 of 5"), "{m}");
        let m = run(&[("JOB_COMPLETION_INDEX", "0"), (COUNT_VAR, "0")])
            .unwrap_err()
            .to_string();
        assert!(m.contains("shard 0 of 0"), "{m}");
    }

    #[test]
    fn nothing_or_both_schedulers_is_an_error() {
        let m = run(&[]).unwrap_err().to_string();
        assert!(
            m.contains("neither SLURM_ARRAY_TASK_ID") && m.contains("I/N"),
            "{m}"
        );
        let m = run(&[
            ("JOB_COMPLETION_INDEX", "0"),
            ("SLURM_ARRAY_TASK_ID", "0"),
            (COUNT_VAR, "2"),
        ])
        .unwrap_err()
        .to_string();
        assert!(m.contains("both"), "{m}");
    }
}
