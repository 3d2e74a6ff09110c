//! The `layerguard` binary: parse arguments, run, map the outcome to an exit code.

fn main() -> std::process::ExitCode {
    layerguard::cli::run()
}
