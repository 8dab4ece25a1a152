use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = harness::cli::Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_from_env("CTRLBENCH_LOG").unwrap_or_else(|_| {
            tracing_subscriber::EnvFilter::new(if cli.verbose { "debug" } else { "info" })
        });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .without_time()
        .with_target(false)
        .init();
    match harness::commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
