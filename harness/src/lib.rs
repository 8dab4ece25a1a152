//! The ctrlbench harness: the `ctrlbench` command line and what it runs.
//!
//! A crate of your own can run its agents with the same command line
//! against the same task suites, without editing this repository:
//!
//! ```no_run
//! use ctrlbench::agents::{Agent, AgentEntry, AgentError, AgentInit, Mode, NamedAgent};
//! use ctrlbench::agents::{ReplayBuffer, parse_config};
//!
//! /// Always pushes the same way.
//! struct Constant {
//!     action: Vec<f32>,
//! }
//!
//! #[derive(serde::Deserialize)]
//! #[serde(deny_unknown_fields)]
//! struct ConstantConfig {
//!     value: f32,
//! }
//!
//! impl NamedAgent for Constant {
//!     type Config = ConstantConfig;
//!     fn new(init: &AgentInit) -> Result<Self, AgentError> {
//!         let cfg: ConstantConfig = parse_config("constant", init.config)?;
//!         Ok(Constant { action: vec![cfg.value; init.spec.action_dim()] })
//!     }
//! }
//!
//! impl Agent for Constant {
//!     fn act(&mut self, _obs: &[f32], _mode: Mode) -> Result<Vec<f32>, AgentError> {
//!         Ok(self.action.clone())
//!     }
//!     fn update(&mut self, _: &ReplayBuffer, _: u64, _: bool) -> Result<u64, AgentError> {
//!         Ok(0) // learns nothing
//!     }
//!     fn save(&self, _dir: &std::path::Path) -> Result<(), AgentError> {
//!         Ok(())
//!     }
//!     fn load(&mut self, _dir: &std::path::Path) -> Result<(), AgentError> {
//!         Ok(())
//!     }
//! }
//!
//! fn main() -> std::process::ExitCode {
//!     ctrlbench::main_with(&[AgentEntry::of::<Constant>("constant", "a constant action")
//!         .with_defaults("value: 0.5\n")])
//! }
//! ```
//!
//! `examples/custom-agent/` in the repository is such a crate, with the
//! build settings it needs.

pub use agents;
pub use envs;

pub mod bench;
pub mod cli;
pub mod commands;
pub mod config;
pub mod report;
pub mod reproduce;
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

/// Runs the `ctrlbench` command line (arguments from the process) with the
/// built-in agents and `extra` ones; returns the exit code. `main` of the
/// `ctrlbench` binary is `main_with(&[])`.
pub fn main_with(extra: &[agents::AgentEntry]) -> std::process::ExitCode {
    use clap::Parser;
    // Die quietly on a closed pipe (`ctrlbench envs | head`) like other
    // command-line tools, instead of panicking in println!.
    // SAFETY: restoring the default disposition of SIGPIPE at start-up.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    keep_freed_memory();
    for entry in extra {
        if let Err(e) = agents::register(*entry) {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    }
    let cli = cli::Cli::parse();
    // MuJoCo's warnings (e.g. deprecated model attributes) go to the console
    // only, not to a MUJOCO_LOG.TXT in the working directory.
    // SAFETY: no other thread exists yet and no MuJoCo object is in use.
    unsafe {
        let mut config = mujoco_rs::wrappers::mj_logging::log_config();
        config.set_logto_file(false);
        mujoco_rs::wrappers::mj_logging::set_log_config(config);
    }
    // Each distinct MuJoCo warning once per process (a model's deprecation
    // warning would otherwise repeat for every environment built).
    envs::mujoco_log::print_warnings_once();
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
    match commands::run(cli) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Lets glibc's malloc keep freed memory for reuse instead of returning it
/// to the kernel. libtorch allocates and frees tensors of tens of MB at every
/// gradient update (e.g. DCWM's `[batch, codes, latents]` logits); by default
/// each one is a fresh `mmap` whose pages the kernel faults in and zeroes
/// again, which costs a tenth of a CPU update. Peak memory is unchanged.
fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; called before any thread
    // exists.
    unsafe {
        const LARGE: libc::c_int = 1 << 30;
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE);
        libc::mallopt(libc::M_TRIM_THRESHOLD, LARGE);
    }
}
