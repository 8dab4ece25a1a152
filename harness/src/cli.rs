//! Command-line interface definition.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// ctrlbench: sample-efficient continuous-control RL benchmarks on MuJoCo.
///
/// The DeepMind Control Suite ported to Rust and proven identical to
/// dm_control, with benchmarks of its speed.
#[derive(Debug, Parser)]
#[command(name = "ctrlbench", version, propagate_version = true)]
pub struct Cli {
    /// More log output (or set CTRLBENCH_LOG=debug).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Versions of MuJoCo and libtorch, CUDA availability and asset paths.
    Info,
    /// List the registered tasks with observation/action sizes and episode length.
    ///
    /// Example: ctrlbench envs
    Envs,
    /// Work with one environment.
    #[command(subcommand)]
    Env(EnvCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(BenchCommand),
    /// Tables (summary.csv), figures (PNG, SVG) and index.html for a results
    /// directory: per-task learning curves with 95% CIs, rliable aggregates
    /// (IQM, median, mean, optimality gap), performance profiles, ablations.
    Report(crate::report::ReportArgs),
    /// Write the long-format table of all runs (every eval.csv) as CSV or Parquet.
    Export(crate::report::ExportArgs),
}

/// `ctrlbench env ...`
#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Run the raw task open loop from an actions file and write the trajectory.
    ///
    /// The raw task is dm_control's: its own action space (no rescaling), no
    /// action repeat, dm_control's time limit; the same seed gives the same
    /// initial state as `suite.load(domain, task, task_kwargs={'random': seed})`.
    ///
    /// A.csv: no header, one row of comma-separated floats per step.
    /// O.csv: header t,reward,discount,obs_0,...; row t=0 is the reset
    /// observation (empty reward and discount); row t is the result of action
    /// row t. Stops after the episode's last step.
    ///
    /// Example: ctrlbench env rollout --task cartpole-swingup --seed 3 --actions A.csv --out O.csv
    Rollout(RolloutArgs),
}

/// Arguments of `ctrlbench env rollout`.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Task name (see `ctrlbench envs`; dm_control-style aliases accepted).
    #[arg(long)]
    pub task: String,
    /// Seed of the task's random state (dm_control's `task_kwargs={'random': seed}`).
    #[arg(long)]
    pub seed: u64,
    /// Actions CSV (no header, one row per step).
    #[arg(long)]
    pub actions: PathBuf,
    /// Output trajectory CSV.
    #[arg(long)]
    pub out: PathBuf,
}

/// `ctrlbench bench ...`
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Environment throughput: raw mj_step loop vs env.step vs VecEnv.
    ///
    /// Measures, in one run and with the same pre-drawn random actions:
    /// a raw MuJoCo loop (mj_step × n_sub_steps, no observation or reward) on
    /// the task's model; the raw task's env.step (observation + reward,
    /// episodes reset when they end); and a VecEnv of N environments stepped
    /// on one thread and on K threads. Prints steps/s and the ratios.
    ///
    /// Example: ctrlbench bench env --task walker-walk --steps 20000 --threads 2 --dm-control
    Env(BenchEnvArgs),
}

/// Arguments of `ctrlbench bench env`.
#[derive(Debug, Args)]
pub struct BenchEnvArgs {
    /// Task name.
    #[arg(long)]
    pub task: String,
    /// Control steps per measurement (per environment for the VecEnv).
    #[arg(long, default_value_t = 20_000)]
    pub steps: usize,
    /// Environments in the VecEnv measurement.
    #[arg(long, default_value_t = 8)]
    pub envs: usize,
    /// Threads for the parallel VecEnv measurement (compared with one thread).
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Repetitions; the best of each measurement is reported.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Seed for the environments and the random actions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also measure dm_control's own env.step on the same task (runs
    /// scripts/dmc_speed.py in the reference venv; slow for dog/humanoid).
    #[arg(long)]
    pub dm_control: bool,
}
