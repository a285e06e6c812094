//! The `dannscope` command line: a thin shim over the library's [`dannscope::cli`].

fn main() -> std::process::ExitCode {
    dannscope::cli::main()
}
