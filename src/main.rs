//! The `tlc` binary: parses the command line and reports errors at the edge.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = tlc::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tlc: cannot start the async runtime: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match runtime.block_on(tlc::cli::run(cli)) {
        Ok(code) => std::process::ExitCode::from(code),
        Err(failure) => {
            eprintln!("tlc: {}", failure.message);
            std::process::ExitCode::from(failure.code)
        }
    }
}
