//! The `dannscope` command line: argument parsing and command dispatch. Flags and `dannscope.toml` are
//! resolved into one typed settings value (`resolve`) before any work; library errors get context here
//! (anyhow), the command line's edge. The binary (`src/main.rs`) and the Python package's `dannscope`
//! command both call [`run_from`], so both take the same flags and write the same bytes.

mod args;
mod common;
mod compare;
mod console;
mod curves;
mod embed;
mod eval;
mod explore;
mod merge;
mod progress;
mod report;
mod resolve;
mod select;
mod split;
mod tsne;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use self::common::EXIT_OK;

/// Show how well a domain-adaptation (DANN) model has aligned its domains.
#[derive(Debug, Parser)]
#[command(name = "dannscope", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// Print only results, warnings and errors (no progress lines, notices or hints).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print every detail: each domain of a batch, cached results, engine details.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write a stratified, seeded split manifest (path,domain,class,split) for a dataset.
    #[command(
        after_help = "Example:\n  dannscope split --data data/OfficeHome --out splits.csv --seed 0"
    )]
    Split(split::Args),
    /// Run a model on every image of a split and store embeddings and logits per domain (.npz + .json).
    #[command(
        after_help = "Example:\n  dannscope embed --model models/mobilenetv3.onnx --split valid --data data/OfficeHome"
    )]
    Embed(embed::Args),
    /// Join the finished shards of `embed --shard I/N` into the files a single-process embed writes
    /// (byte for byte); refuses missing, overlapping or mismatched shards.
    #[command(
        after_help = "Example:\n  dannscope merge --model models/mobilenetv3.onnx --split valid --data data/OfficeHome"
    )]
    Merge(merge::Args),
    /// Per-domain accuracy and AUROC (with bootstrap intervals) and cohesion/alignment measures per pair.
    #[command(
        after_help = "Example:\n  dannscope eval --model models/mobilenetv3.onnx --split valid --pair R-P"
    )]
    Eval(eval::Args),
    /// Joint t-SNE of source and target embeddings (one fit), drawn to SVG and PNG; with several
    /// checkpoints, the training evolution as a grid and an animated GIF.
    #[command(
        after_help = "Example:\n  dannscope tsne --pair R-P --model models/mobilenetv3.onnx\n  dannscope tsne --pair R-P --model checkpoints/   # one map per epoch, grid + GIF"
    )]
    Tsne(tsne::Args),
    /// One offline HTML map of a pair in which every dot is an image: hover, nearest neighbours in the
    /// embedding space, selection, colour by class, domain, right/wrong, confidence.
    #[command(
        after_help = "Example:\n  dannscope explore --pair R-P --model models/mobilenetv3.onnx --split valid"
    )]
    Explore(explore::Args),
    /// Batch report of every [[run]] in dannscope.toml: tables for slides (Markdown, LaTeX, CSV), and a
    /// self-contained index.html with every figure.
    #[command(after_help = "Example:\n  dannscope report --config dannscope.toml")]
    Report(report::Args),
    /// Training curves (accuracy and AUROC per epoch; source dashed, target solid) from a tidy CSV log.
    #[command(
        after_help = "Example:\n  dannscope curves --log models/demo/demo_cnn_P-C.curves.csv"
    )]
    Curves(curves::Args),
    /// Generate a small procedurally drawn dataset, run the committed demo models on it and write the
    /// full report (no data, download or GPU needed).
    #[command(after_help = "Example:\n  dannscope demo --out outputs/demo")]
    Demo(report::DemoArgs),
    /// Two models on the same images: accuracy difference (paired bootstrap, McNemar), per-class
    /// deltas, the images fixed and broken, and how much their embedding spaces agree.
    #[command(
        after_help = "Example:\n  dannscope compare --model a.onnx --model b.onnx --pair R-P --split valid"
    )]
    Compare(compare::Args),
    /// Label-free checkpoint selection: entropy, IM, SND, BNM, ClassAMI, DEV and ATC per epoch next to
    /// the true target accuracy, their rank correlation with it and the epoch each would pick.
    #[command(after_help = "Example:\n  dannscope select --model checkpoints/ --pair R-P")]
    Select(select::Args),
}

/// Entry point of the binary: [`run_from`] on this process's arguments.
pub fn main() -> ExitCode {
    ExitCode::from(run_from(std::env::args_os()))
}

/// Parses `args` (the program name first, as `std::env::args_os` gives them), runs the command, prints
/// errors with their causes to stderr and returns the exit status (0 done, 1 an error, 2 a wrong
/// command line or configuration, 3 a report with failed runs). `--help` and `--version` print to
/// stdout and return 0. Nothing here ends the process, so a host (the Python package) can call it.
pub fn run_from<I, T>(args: I) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    common::set_invocation(&args);
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors to stderr with status 2.
            let code = e.exit_code();
            let _ = e.print();
            return u8::try_from(code).unwrap_or(2);
        }
    };
    console::set_verbosity(cli.quiet, cli.verbose);
    let r = match cli.command {
        Command::Split(a) => split::run(a).map(|()| EXIT_OK),
        Command::Embed(a) => embed::run(a).map(|()| EXIT_OK),
        Command::Merge(a) => merge::run(a).map(|()| EXIT_OK),
        Command::Eval(a) => eval::run(a).map(|()| EXIT_OK),
        Command::Tsne(a) => tsne::run(a).map(|()| EXIT_OK),
        Command::Explore(a) => explore::run(a).map(|()| EXIT_OK),
        Command::Report(a) => report::run(a),
        Command::Curves(a) => curves::run(a).map(|()| EXIT_OK),
        Command::Demo(a) => report::demo(a),
        Command::Compare(a) => compare::run(a).map(|()| EXIT_OK),
        Command::Select(a) => select::run(a).map(|()| EXIT_OK),
    };
    match r {
        Ok(code) => code,
        Err(e) => {
            for line in error_lines(&e) {
                console::err_line(line);
            }
            common::exit_status(&e)
        }
    }
}

/// The error and its causes, one line each; a cause whose text the line above already ends with (an
/// error that prints its source) is not repeated.
fn error_lines(e: &anyhow::Error) -> Vec<String> {
    let mut lines = vec![format!("error: {e}")];
    let mut last = e.to_string();
    for cause in e.chain().skip(1) {
        let t = cause.to_string();
        if !last.contains(&t) {
            lines.push(format!("  caused by: {t}"));
        }
        last = t;
    }
    if let Some(w) = e.downcast_ref::<common::WithCommands>() {
        lines.extend(w.commands.iter().map(|c| format!("  run: {c}")));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        // Flag ids that clash (explore's neighbour count and the t-SNE method were both `neighbours`),
        // bad defaults and conflicting short flags all panic here instead of at run time.
        Cli::command().debug_assert();
    }

    #[test]
    fn run_from_returns_the_status_instead_of_ending_the_process() {
        // A host (the Python package) calls it in its own process: help, version and usage errors
        // come back as statuses, the same as the binary's.
        assert_eq!(run_from(["dannscope", "--version"]), 0);
        assert_eq!(run_from(["dannscope", "eval", "--no-such-flag"]), 2);
        assert_eq!(
            run_from(["dannscope", "curves", "--log", "/nonexistent/run.csv"]),
            1
        );
        assert_eq!(run_from(["dannscope"]), 2);
    }

    #[test]
    fn causes_are_not_repeated() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let e = anyhow::Error::new(crate::Error::Io {
            path: "x.csv".into(),
            source: io,
        })
        .context("cannot read the training log");
        let lines = error_lines(&e);
        assert_eq!(
            lines,
            vec![
                "error: cannot read the training log".to_string(),
                "  caused by: x.csv: No such file or directory".to_string(),
            ],
            "{lines:?}"
        );
    }
}
