//! The ctrlbench harness: the `ctrlbench` command line and what it runs.

pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod report;
pub mod run;
pub mod sweep;

/// The project directory (holding `scripts/`, `configs/`): `$CTRLBENCH_HOME`
/// if set, else the source checkout this binary was built from.
pub fn project_dir() -> std::path::PathBuf {
    std::env::var_os("CTRLBENCH_HOME")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}
