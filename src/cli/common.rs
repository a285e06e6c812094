//! What every command shares: exit statuses, bad settings, finding and loading the model, checking
//! pairs and domains named on the command line.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::dataset::Pair;
use crate::model::ModelInfo;
use crate::pipeline::Workspace;
use crate::settings::{contract_defaults_notice, Settings};
use anyhow::{Context, Result};

use super::console;

/// Exit status: the command did its work.
pub const EXIT_OK: u8 = 0;
/// Exit status: an error stopped the command (bad input, unreadable files, a failed stage).
pub const EXIT_ERROR: u8 = 1;
/// Exit status: the command line or the configuration is wrong (clap's status for an unknown flag; a
/// [`BadSetting`] for a bad value, in a flag or in `dannscope.toml`).
pub const EXIT_USAGE: u8 = 2;
/// Exit status: `report` or `demo` finished every run and wrote the report, but some runs failed.
pub const EXIT_RUNS_FAILED: u8 = 3;

/// A bad value of a setting, named with where it came from (`--perplexity 0`, `perplexity = 0 in
/// ./dannscope.toml`); the command exits with [`EXIT_USAGE`].
#[derive(Debug, thiserror::Error)]
#[error("{origin}: {message}")]
pub struct BadSetting {
    /// The setting and its value, as given: `--flag value` or `key = value in FILE`.
    pub origin: String,
    /// What is wrong, or what was expected.
    pub message: String,
}

impl BadSetting {
    /// A bad setting: where it came from, and what is wrong with it.
    pub fn new(origin: impl Into<String>, message: impl Into<String>) -> BadSetting {
        BadSetting {
            origin: origin.into(),
            message: message.into(),
        }
    }
}

/// The exit status of a failed command: [`EXIT_USAGE`] for a bad setting, else [`EXIT_ERROR`].
pub fn exit_status(e: &anyhow::Error) -> u8 {
    if e.downcast_ref::<BadSetting>().is_some() {
        EXIT_USAGE
    } else {
        EXIT_ERROR
    }
}

/// The model of a command: the flag, else `model` of the config.
pub fn model_path(flag: Option<&Path>, cfg: &Config) -> Result<PathBuf> {
    flag.map(Path::to_path_buf)
        .or_else(|| cfg.model.clone())
        .context("no model: give --model FILE (or `model = \"FILE\"` in dannscope.toml)")
}

/// The checkpoints of `select`: the `--model` files or folders given, else the `checkpoints` of the
/// config's `[[run]]` whose model is the config's `model`.
pub fn checkpoints_path(given: &[PathBuf], cfg: &Config) -> Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let hint =
        "no checkpoints: give --model DIR (or FILE several times), or `model = \"FILE\"` in \
                dannscope.toml with a [[run]] of that model that lists its checkpoints";
    let model = cfg.model.as_deref().context(hint)?;
    cfg.run_of(model)
        .map(|r| r.checkpoints.clone())
        .filter(|c| !c.is_empty())
        .with_context(|| format!("{hint} (found none for {})", model.display()))
}

/// The two models of `compare`, A then B: the `--model` flags, else the source-only baseline of the
/// config's `model` (A, as the report pairs them) and that model (B).
pub fn compared_paths(given: &[PathBuf], cfg: &Config) -> Result<Vec<PathBuf>> {
    if !given.is_empty() {
        return Ok(given.to_vec());
    }
    let hint =
        "no models: give --model A --model B, or `model = \"FILE\"` in dannscope.toml with a \
                [[run]] of that model whose pair has a source-only baseline run";
    let model = cfg.model.as_deref().context(hint)?;
    let baseline = cfg
        .run_of(model)
        .and_then(|r| cfg.baseline_of(r))
        .with_context(|| format!("{hint} (found none for {})", model.display()))?;
    Ok(vec![baseline.model.clone(), model.to_path_buf()])
}

/// Load and check a model under the settings (before any image is read); says once which of the
/// contract's defaults it runs with when its metadata leaves some out.
pub fn load_model(s: &Settings, path: &Path) -> Result<ModelInfo> {
    let m = s
        .model(path)
        .load()
        .with_context(|| format!("cannot use the model {}", path.display()))?;
    if let Some(n) = contract_defaults_notice(&m) {
        console::note(n);
    }
    Ok(m)
}

/// Check pairs against the workspace's domains before any work. A pair given with `--pair` that names
/// no domain is a bad setting (exit status 2); one taken from a model's metadata is an error.
pub fn check_pairs(ws: &Workspace, pairs: &[Pair], from_flag: bool) -> Result<()> {
    for p in pairs {
        if let Err(e) = ws.check_pairs(std::slice::from_ref(p)) {
            if from_flag {
                return Err(BadSetting::new(format!("--pair {p}"), e.chain_text()).into());
            }
            return Err(e.into());
        }
    }
    Ok(())
}

/// Domain indices of the keys given with `--domains` (a key that names no domain is a bad setting).
pub fn domains_of(ws: &Workspace, keys: &[String]) -> Result<Vec<usize>> {
    keys.iter()
        .map(|k| {
            ws.domain(k).map_err(|e| {
                BadSetting::new(format!("--domains {}", keys.join(",")), e.chain_text()).into()
            })
        })
        .collect()
}

/// The pair a model names in its metadata (`dannscope.source` / `dannscope.target`).
pub fn model_pair(m: &ModelInfo) -> Option<Pair> {
    Some(Pair {
        source: m.source.clone()?,
        target: m.target.clone()?,
    })
}

/// The pair of a command: `--pair`, else the model's `dannscope.source`/`target`; the flag tells
/// whether it came from the command line.
pub fn pick_pair(pair: &Option<Pair>, model: &ModelInfo) -> Result<(Pair, bool)> {
    match pair {
        Some(p) => Ok((p.clone(), true)),
        None => model_pair(model).map(|p| (p, false)).with_context(|| {
            format!(
                "no --pair given and {} names no dannscope.source/target",
                model.path.display()
            )
        }),
    }
}

/// Open the workspace and say what it found (the manifest in use, stray files).
pub fn open_workspace(settings: Settings) -> Result<Workspace> {
    let ws = Workspace::open(settings).context("cannot read the dataset")?;
    Ok(ws)
}

/// Print the workspace's notices (manifest made or reused, stray files): after the settings were
/// checked against it, so that a typo never reads as if work had started.
pub fn workspace_notes(ws: &Workspace) {
    console::notes(ws.notices());
}

/// The checkpoints of one run, ordered by epoch, with the pair and the workspace they are read in:
/// every file loaded, the run checked (one source and target, each epoch once), the pair and each
/// model's classes checked against the data, then the workspace's notices: all before any work.
pub fn checkpoints_workspace(
    settings: Settings,
    given: &[PathBuf],
    pair: &Option<Pair>,
) -> Result<(Vec<ModelInfo>, Pair, Workspace)> {
    let files = crate::pipeline::evolution::checkpoint_files(given)?;
    let mut models = files
        .iter()
        .map(|p| load_model(&settings, p))
        .collect::<Result<Vec<_>>>()?;
    crate::pipeline::evolution::order_checkpoints(&mut models)?;
    let (pair, from_flag) = pick_pair(pair, &models[0])?;
    let ws = open_workspace(settings)?;
    check_pairs(&ws, std::slice::from_ref(&pair), from_flag)?;
    for m in &models {
        ws.check_model(m)?;
    }
    workspace_notes(&ws);
    Ok((models, pair, ws))
}

/// The outermost message of a failed command with the commands that would fix it; `main` prints them
/// after the error and its causes, one `  run: …` line each.
#[derive(Debug)]
pub struct WithCommands {
    /// What failed.
    pub message: String,
    /// Shell command lines to run, in order.
    pub commands: Vec<String>,
}

impl std::fmt::Display for WithCommands {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// The command line [`super::run_from`] was called with (the program name first).
static INVOCATION: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();

/// Records the command line of this run (the first call wins: one command per process).
pub fn set_invocation(args: &[std::ffi::OsString]) {
    let _ = INVOCATION.set(
        args.iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
    );
}

/// The command line of this run: the one given to [`super::run_from`], else this process's arguments.
fn invocation() -> Vec<String> {
    INVOCATION
        .get()
        .cloned()
        .unwrap_or_else(|| std::env::args().collect())
}

/// `word` as one shell word (single-quoted unless it is plain).
pub fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// This process's command line run as `embed` on `shard` (`I/N`, or `$i/N` in a loop): the
/// subcommand `from` becomes `embed`, `--shard` takes `shard`, and the flags of `drop` (flags
/// without values that `embed` does not take the same way) are left out.
pub fn embed_command(args: &[String], from: &str, shard: &str, drop: &[&str]) -> String {
    let mut out: Vec<String> = Vec::with_capacity(args.len() + 2);
    let mut it = args.iter().enumerate();
    let mut sub_seen = false;
    while let Some((i, a)) = it.next() {
        if i > 0 && !sub_seen && a == from {
            sub_seen = true;
            out.push("embed".into());
        } else if a == "--shard" {
            it.next();
        } else if a.starts_with("--shard=") || drop.contains(&a.as_str()) {
        } else {
            out.push(shell_word(a));
        }
    }
    out.push("--shard".into());
    out.push(shard.to_string());
    out.join(" ")
}

/// The commands that run the shards `missing` of a plan of `count` shards: this command line as
/// `embed --shard I/N` (a loop over several), and where this runs in a Slurm job, the array tasks to
/// resubmit with the plan's count.
pub fn missing_shard_commands(
    from: &str,
    drop: &[&str],
    missing: &[usize],
    count: usize,
) -> Vec<String> {
    let args = invocation();
    let list = |sep: &str| -> String {
        missing
            .iter()
            .map(usize::to_string)
            .collect::<Vec<_>>()
            .join(sep)
    };
    let mut v = match missing {
        [] => return Vec::new(),
        [one] => vec![embed_command(
            args.as_slice(),
            from,
            &format!("{one}/{count}"),
            drop,
        )],
        _ => vec![format!(
            "for i in {}; do {}; done",
            list(" "),
            embed_command(args.as_slice(), from, &format!("$i/{count}"), drop)
        )],
    };
    if std::env::var_os("SLURM_JOB_ID").is_some() {
        v.push(format!(
            "{}={count} sbatch --array={} <the array job's script>, then the merge again",
            crate::shard::env::COUNT_VAR,
            list(",")
        ));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_settings_exit_2_and_other_errors_1() {
        let e: anyhow::Error = BadSetting::new("--perplexity 0", "expected a number > 0").into();
        assert_eq!(exit_status(&e), EXIT_USAGE);
        assert_eq!(e.to_string(), "--perplexity 0: expected a number > 0");
        let wrapped = e.context("in the map settings");
        assert_eq!(exit_status(&wrapped), EXIT_USAGE);
        assert_eq!(exit_status(&anyhow::anyhow!("disk full")), EXIT_ERROR);
    }

    #[test]
    fn a_command_line_becomes_the_embed_of_one_shard() {
        let args: Vec<String> = [
            "/opt/bin/dannscope",
            "-q",
            "merge",
            "--data",
            "data/Office Home",
            "--out",
            "merge",
            "--partial",
            "--shard=auto",
            "--model",
            "it's.onnx",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            embed_command(&args, "merge", "2/4", &["--partial"]),
            "/opt/bin/dannscope -q embed --data 'data/Office Home' --out merge --model \
             'it'\\''s.onnx' --shard 2/4"
        );
        let args: Vec<String> = ["dannscope", "embed", "--shard", "auto", "--data", "d"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            embed_command(&args, "embed", "$i/4", &[]),
            "dannscope embed --data d --shard $i/4"
        );
    }
}
