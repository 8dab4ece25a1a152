//! The ctrlbench harness: the `ctrlbench` command line and what it runs.

pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod report;
pub mod run;
pub mod sweep;

use std::path::{Path, PathBuf};

/// The project directory (holding `configs/` and `scripts/`), resolved when
/// the program runs; the first that applies:
///
/// 1. `$CTRLBENCH_HOME`;
/// 2. the nearest folder at or above the current directory that holds this
///    workspace (a `Cargo.toml` with `[workspace]`, `harness/` and
///    `configs/agents/`), so a binary shared by several checkouts reads the
///    configs of the checkout it runs in;
/// 3. a bundle's layout: the folder above the executable's
///    (`<bundle>/libexec/ctrlbench`), when it holds `configs/agents/`;
/// 4. the checkout this binary was built from.
pub fn project_dir() -> PathBuf {
    if let Some(home) = std::env::var_os("CTRLBENCH_HOME") {
        return PathBuf::from(home);
    }
    let checkout = std::env::current_dir().ok().and_then(|cwd| {
        cwd.ancestors()
            .find(|d| is_checkout(d))
            .map(Path::to_path_buf)
    });
    let bundle = || {
        let exe = std::env::current_exe().ok()?;
        let root = exe.parent()?.parent()?;
        root.join("configs/agents")
            .is_dir()
            .then(|| root.to_path_buf())
    };
    checkout
        .or_else(bundle)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
}

/// Whether `dir` is a checkout of this workspace.
fn is_checkout(dir: &Path) -> bool {
    dir.join("configs/agents").is_dir()
        && dir.join("harness/Cargo.toml").is_file()
        && std::fs::read_to_string(dir.join("Cargo.toml")).is_ok_and(|t| t.contains("[workspace]"))
}
