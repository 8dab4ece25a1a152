//! Command-line interface definition.

use std::path::PathBuf;

use agents::DeviceChoice;
use clap::{Args, Parser, Subcommand};

/// ctrlbench: sample-efficient continuous-control RL benchmarks on MuJoCo.
///
/// The DeepMind Control Suite and Meta-World v3 ported to Rust on MuJoCo,
/// proven identical to dm_control and metaworld step by step; agents (DCWM,
/// SAC, PETS, a behavior prior) on libtorch; resumable, shardable sweeps of
/// agents × tasks × seeds × hyperparameters, reports and paper figures.
///
/// Start with `ctrlbench reproduce --help` (a paper's figure in one command),
/// `ctrlbench train --help` (one run) or `ctrlbench sweep --help` (an
/// experiment file). `ctrlbench envs` and `ctrlbench agents` list what there is.
#[derive(Debug, Parser)]
#[command(name = "ctrlbench", version, propagate_version = true)]
pub struct Cli {
    /// More log output (or set CTRLBENCH_LOG=debug).
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// libtorch intra-op threads per run on CPU (0: libtorch's default, one
    /// per core). One is fastest for these small networks; use `sweep --jobs`
    /// to fill the cores.
    #[arg(
        long,
        global = true,
        default_value_t = 1,
        env = "CTRLBENCH_TORCH_THREADS",
        value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(0..=1024)
    )]
    pub torch_threads: usize,
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
    /// List the registered agents.
    ///
    /// Example: ctrlbench agents
    Agents,
    /// Train one agent on one task with one seed (resumes if interrupted)
    ///
    /// Writes config.yaml, eval.csv, train.csv and meta.json into
    /// results/train/<task>/<agent>/seed-<n>/ (or --out). Steps are env steps
    /// including action repeat. Re-running the same command resumes an
    /// interrupted run from its last checkpoint, or does nothing if it is
    /// complete.
    ///
    /// Examples:
    ///   ctrlbench train --agent random --task cartpole-swingup --seed 1 --steps 20000
    ///   ctrlbench train --agent scripted --task walker-walk --seed 2 --steps 10000 \
    ///       --set eval_every=5000 --set scripted.amplitude=0.8 --device cpu
    #[command(verbatim_doc_comment)]
    Train(TrainArgs),
    /// Run an experiment: agents × tasks × grid variants × seeds
    ///
    /// Complete runs are skipped and partial runs resume, so re-running the
    /// same command after an interruption finishes the sweep. A failing run is
    /// appended to <results>/<experiment>/failed.txt; the others continue and
    /// the exit status is non-zero at the end. --shard i/n (0 <= i < n) runs
    /// every n-th run starting at i, so n processes or cluster jobs cover the
    /// sweep exactly once.
    ///
    /// Examples:
    ///   ctrlbench sweep configs/experiments/quickstart.yaml --budget smoke --jobs 2
    ///   ctrlbench sweep configs/experiments/quickstart.yaml --shard 0/4 --results /scratch/results
    #[command(verbatim_doc_comment)]
    Sweep(SweepArgs),
    /// Evaluate the agent in a run's latest checkpoint, while the run trains
    /// or after it was interrupted
    ///
    /// Loads the agent from RUN/checkpoint/ and plays eval-mode episodes on
    /// the run's evaluation environment, reset with the seeds the run's own
    /// evaluation at the checkpoint's env step uses. A run checkpoints before
    /// an evaluation due at that step, so such an evaluation plays the same
    /// episodes, and with the run's eval_episodes its eval.csv row holds the
    /// same mean. Prints each episode's return and the mean. Writes nothing
    /// into RUN: a training run can go on meanwhile (the evaluation shares
    /// its CPU). A complete run keeps no checkpoint; its evaluations are in
    /// its eval.csv.
    ///
    /// Example:
    ///   ctrlbench evaluate results/dcwm-check-walker-walk/walker-walk/dcwm/seed-1 --episodes 2
    #[command(verbatim_doc_comment)]
    Evaluate(EvaluateArgs),
    /// Play a finished run's final agent and write every agent step to a CSV
    ///
    /// Builds the agent from RUN/config.yaml with the --set overrides on top,
    /// loads RUN/final/agent/ and plays episodes on the run's task (episode i
    /// reset with a seed derived from --seed and i). Eval mode acts with the
    /// agent's deterministic behaviour, --explore samples. The CSV has one row
    /// per agent step: episode, step, reward and the task's named info values.
    /// `--set bprior.act_with=prior` plays a behavior prior as a policy.
    ///
    /// Example:
    ///   ctrlbench play results/bprior-seqnav/pointmass-seqnav/bprior/memoryless/seed-1 \
    ///       --set bprior.act_with=prior --explore --episodes 50 --out prior.csv
    #[command(verbatim_doc_comment)]
    Play(PlayArgs),
    /// Write a Slurm array script that runs an experiment's shards
    ///
    /// One array task per shard, each calling
    /// `ctrlbench sweep EXPERIMENT --shard $SLURM_ARRAY_TASK_ID/n`.
    ///
    /// Example:
    ///   ctrlbench slurm configs/experiments/quickstart.yaml --out job.sbatch --shards 8 --budget short
    #[command(verbatim_doc_comment)]
    Slurm(SlurmArgs),
    /// Tables (summary.csv), figures (PNG, SVG) and index.html for a results
    /// directory: per-task learning curves with 95% CIs, rliable aggregates
    /// (IQM, median, mean, optimality gap), performance profiles, ablations.
    Report(crate::report::ReportArgs),
    /// Reproduce a paper's figure: run (or resume) its sweep at a budget,
    /// then draw it in the paper's layout beside the published runs
    ///
    /// Writes <results>/reproduce/<figure>/<budget>/: figure.png/svg (and
    /// curves.png/svg for aggregate figures), comparison.csv (our mean and CI
    /// per task, variant and step against the published mean and seed range)
    /// and index.html. Budgets: smoke (a pipeline check with small networks,
    /// minutes on a laptop; not a result), short (100k env steps at paper
    /// sizes) and paper (as published; cluster-sized, see --list and
    /// --slurm). --published-only draws the paper's figure from its
    /// published data alone, before any compute is spent.
    ///
    /// Examples:
    ///   ctrlbench reproduce --list
    ///   ctrlbench reproduce dmc30 --published-only
    ///   ctrlbench reproduce sac-cartpole-swingup --budget short --jobs 2
    #[command(verbatim_doc_comment)]
    Reproduce(crate::reproduce::ReproduceArgs),
    /// Write the long-format table of all runs (every eval.csv) as CSV or Parquet.
    Export(crate::report::ExportArgs),
    /// Next-target statistics of pointmass-seqnav plays (`ctrlbench play` CSVs)
    ///
    /// For each play CSV (or label, summing several CSVs), counts the
    /// sequences of visited targets and compares the distribution of the next
    /// visited target, given the last two, with the task's Markov chain and
    /// with a memoryless answer; writes visits.csv, summary.md and visits.png
    /// (the Behavior Priors talk's figure for one current target) into --out.
    Visits(crate::report::visits::VisitsArgs),
    /// DCWM's side of the step-by-step check against the official code
    ///
    /// Reads a work directory written by `scripts/dcwm_official_check.py`
    /// (config.json, weights.safetensors in the official layout,
    /// inputs.safetensors with each update's batch and noise and each plan's
    /// noise), runs the updates and plans on the CPU, and writes
    /// rust.safetensors (encodings, losses, gradients, parameters, plan
    /// values, elites and actions, in the official names) and rust.json
    /// (timings when config.json asks for them). The script compares.
    ///
    /// Example:
    ///   ctrlbench --torch-threads 2 dcwm-replay ~/.cache/ctrlbench/dcwm-official-check/small
    #[command(verbatim_doc_comment)]
    DcwmReplay(DcwmReplayArgs),
}

/// Arguments of `ctrlbench dcwm-replay`.
#[derive(Debug, Args)]
pub struct DcwmReplayArgs {
    /// The work directory.
    pub dir: PathBuf,
}

/// Arguments of `ctrlbench train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    /// Agent name (see `ctrlbench agents`).
    #[arg(long)]
    pub agent: String,
    /// Task name (see `ctrlbench envs`).
    #[arg(long)]
    pub task: String,
    /// Seed of the run (environments, agent, sampling).
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Environment steps, including action repeat.
    #[arg(long, default_value_t = 100_000)]
    pub steps: u64,
    /// Override a setting: run settings (steps, eval_every, eval_episodes,
    /// eval_at, warmup_steps, checkpoint_every, buffer_capacity, action_repeat) or agent keys
    /// (`random.batch_size=64` or `batch_size=64`); values are YAML.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Output directory of the run (default results/train/<task>/<agent>/seed-<n>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

/// What a sweep runs and where its results go: shared by `sweep` and
/// `slurm` (which forwards them to each array task).
#[derive(Debug, Args)]
pub struct SweepSpec {
    /// Experiment file (configs/experiments/*.yaml).
    pub experiment: PathBuf,
    /// Named budget: smoke, short, paper, or one defined in the file.
    #[arg(long)]
    pub budget: Option<String>,
    /// Runs at a time (within each array task for `slurm`).
    #[arg(long, default_value_t = 1, value_parser = count::<1024>)]
    pub jobs: usize,
    /// Results root; runs go to <results>/<experiment>/<task>/<agent>[/<variant>]/seed-<n>.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Override a setting for all runs (`steps=2000`, `random.batch_size=64`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

/// Arguments of `ctrlbench sweep`.
#[derive(Debug, Args)]
pub struct SweepArgs {
    /// The experiment, budget, jobs, results and overrides.
    #[command(flatten)]
    pub spec: SweepSpec,
    /// Run only slice i of n (0 <= i < n).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Only list the runs (this shard's, in order) and whether they are complete.
    #[arg(long)]
    pub dry_run: bool,
}

/// Arguments of `ctrlbench evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Run directory (holds config.yaml and checkpoint/).
    pub run: PathBuf,
    /// Episodes to play (default: the run's eval_episodes).
    #[arg(long, value_parser = count::<100_000>)]
    pub episodes: Option<usize>,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

/// Arguments of `ctrlbench play`.
#[derive(Debug, Args)]
pub struct PlayArgs {
    /// Run directory of a finished run (holds config.yaml and final/agent/).
    pub run: PathBuf,
    /// Episodes to play.
    #[arg(long, default_value_t = 10, value_parser = count::<100_000>)]
    pub episodes: usize,
    /// Seed of the episodes' resets and of the agent's sampling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Sample actions (explore mode) instead of the deterministic ones.
    #[arg(long)]
    pub explore: bool,
    /// Agent setting overrides, `agent.key=value` or `key=value` (repeatable).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Output CSV.
    #[arg(long)]
    pub out: PathBuf,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
}

/// Arguments of `ctrlbench slurm`.
#[derive(Debug, Args)]
pub struct SlurmArgs {
    /// The experiment, budget, jobs, results (made absolute in the script)
    /// and overrides, forwarded to each array task.
    #[command(flatten)]
    pub spec: SweepSpec,
    /// Script to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Array tasks (shards); capped at the number of runs.
    #[arg(long, default_value_t = 1, value_parser = count::<1_000_000>)]
    pub shards: usize,
    /// Device of each array task (not cpu: a GPU is requested).
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Wall-clock limit per array task.
    #[arg(long, default_value = "48:00:00")]
    pub time: String,
    /// CPUs per array task.
    #[arg(long, default_value_t = 4, value_parser = count::<4096>)]
    pub cpus: usize,
    /// Slurm partition.
    #[arg(long)]
    pub partition: Option<String>,
}

/// `ctrlbench env ...`
#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Run the raw task open loop from an actions file and write the trajectory.
    ///
    /// The raw task is the suite's own: its action space (no rescaling), no
    /// action repeat, its time limit. A dm_control task with seed s starts
    /// where `suite.load(domain, task, task_kwargs={'random': s})` starts; a
    /// Meta-World task where metaworld's goal-observable v3 class built with
    /// `seed=s` starts after `np.random.seed(s)` and an unfrozen reset (the
    /// TD-MPC2/DCWM recipe), and takes its actions as float32.
    ///
    /// A.csv: no header, one row of comma-separated floats per step.
    /// O.csv: header t,reward,discount[,info...],obs_0,...; the first row is
    /// the reset observation (empty reward and discount); each further row
    /// is the result of the next action row. The info columns are the
    /// suite's named values (Meta-World: success, near_object,
    /// grasp_success, grasp_reward, in_place_reward, obj_to_target,
    /// unscaled_reward; none for DMC). When an episode ends and actions
    /// remain, the task is reset (its random stream continues) and the reset
    /// row is written, so one file can hold several episodes.
    ///
    /// Example: ctrlbench env rollout --task mw-reach --seed 3 --actions A.csv --out O.csv
    Rollout(RolloutArgs),
}

/// Arguments of `ctrlbench env rollout`.
#[derive(Debug, Args)]
pub struct RolloutArgs {
    /// Task name (see `ctrlbench envs`; dm_control-style aliases accepted).
    #[arg(long)]
    pub task: String,
    /// Seed of the task's random state (dm_control's `task_kwargs={'random': seed}`;
    /// metaworld's `seed=` and `np.random.seed`).
    #[arg(long)]
    pub seed: u64,
    /// Actions CSV (no header, one row per step).
    #[arg(long)]
    pub actions: PathBuf,
    /// Output trajectory CSV.
    #[arg(long)]
    pub out: PathBuf,
    /// Meta-World only: metaworld's benchmark mode, as
    /// `gym.make('Meta-World/MT1', env_name=..., seed=SEED)` (50 task vectors
    /// drawn from the seed, one chosen at each reset) instead of fresh goals
    /// at every reset.
    #[arg(long)]
    pub benchmark_mode: bool,
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
    /// on one thread and on K threads; and the machine's limit, K raw loops
    /// side by side. The measurements run in rounds of one each; prints
    /// steps/s (the median of --repeats) and the ratios (each taken within a
    /// round, then the median over the rounds, so that a shared machine's
    /// drift between rounds cancels out).
    ///
    /// For Meta-World tasks the raw loop is the mocap move, five mj_step and
    /// an mj_forward (what a step needs at least).
    ///
    /// --envpool adds EnvPool 1.2.5's pool of the same N environments on K
    /// threads, timed from Python (its API: the figure includes a Python
    /// call per batch). EnvPool ships its own MuJoCo build and port of the
    /// task, so the same task is not the same physics binary.
    ///
    /// Examples:
    ///   ctrlbench bench env --task walker-walk --steps 20000 --threads 2 --dm-control
    ///   ctrlbench bench env --task mw-pick-place --steps 20000 --metaworld
    ///   ctrlbench bench env --task cheetah-run --envs 8 --threads 2 --envpool
    #[command(verbatim_doc_comment)]
    Env(BenchEnvArgs),
    /// Agent speed: gradient update time, act (planning) latency and the
    /// env steps/s of a training loop, with hours per 1M env steps.
    ///
    /// Fills a replay buffer with --fill env steps of random actions, times
    /// --updates gradient updates (world model + actor-critic for DCWM) and
    /// --acts training-mode actions on visited states, then runs --loop-steps
    /// agent steps of a training loop (act, env step, buffer, updates at the
    /// agent's UTD ratio), then plays --eval-episodes evaluation episodes side
    /// by side (one batched act per step, as runs evaluate) and the same
    /// episodes one at a time. The agent's config is its defaults for the task
    /// plus --set overrides. Use --torch-threads for libtorch's CPU threads.
    ///
    /// Examples:
    ///   ctrlbench bench agent --agent sac --task walker-walk --device cpu
    ///   ctrlbench bench agent --agent dcwm --task walker-walk --device cuda --updates 200
    #[command(verbatim_doc_comment)]
    Agent(BenchAgentArgs),
}

/// Arguments of `ctrlbench bench agent`.
#[derive(Debug, Args)]
pub struct BenchAgentArgs {
    /// Agent name (see `ctrlbench agents`).
    #[arg(long)]
    pub agent: String,
    /// Task name.
    #[arg(long)]
    pub task: String,
    /// auto (CUDA when available), cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Override an agent setting (`batch_size=256` or `dcwm.batch_size=256`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Env steps of random data in the buffer before timing.
    #[arg(long, default_value_t = 10_000)]
    pub fill: u64,
    /// Timed gradient updates.
    #[arg(long, default_value_t = 50, value_parser = count::<1_000_000>)]
    pub updates: usize,
    /// Timed actions.
    #[arg(long, default_value_t = 50, value_parser = count::<1_000_000>)]
    pub acts: usize,
    /// Agent steps of the timed training loop.
    #[arg(long, default_value_t = 100, value_parser = count::<1_000_000>)]
    pub loop_steps: usize,
    /// Episodes of the timed evaluations: played side by side as runs
    /// evaluate, then one at a time (0 skips them; a planner on a CPU takes
    /// minutes).
    #[arg(long, default_value_t = 10)]
    pub eval_episodes: usize,
    /// Seed.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the measurement as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `ctrlbench bench env`.
#[derive(Debug, Args)]
pub struct BenchEnvArgs {
    /// Task name.
    #[arg(long)]
    pub task: String,
    /// Control steps per measurement (per environment for the VecEnv).
    #[arg(long, default_value_t = 20_000, value_parser = count::<1_000_000_000>)]
    pub steps: usize,
    /// Environments in the VecEnv measurement.
    #[arg(long, default_value_t = 8, value_parser = count::<4096>)]
    pub envs: usize,
    /// Threads for the parallel VecEnv measurement (compared with one thread).
    #[arg(long, default_value_t = 2, value_parser = count::<1024>)]
    pub threads: usize,
    /// Repetitions; the median of each measurement is reported.
    #[arg(long, default_value_t = 3, value_parser = count::<1000>)]
    pub repeats: usize,
    /// Seed for the environments and the random actions.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also measure dm_control's own env.step on the same task (runs
    /// scripts/dmc_speed.py in the reference venv; slow for dog/humanoid).
    #[arg(long)]
    pub dm_control: bool,
    /// Also measure metaworld's own env.step on the same Meta-World task
    /// (runs scripts/metaworld_speed.py in the reference venv; resets timed
    /// apart).
    #[arg(long)]
    pub metaworld: bool,
    /// Also measure EnvPool 1.2.5's pool of the same task with the same
    /// --envs and --threads (its Python API, scripts/envpool_speed.py;
    /// installed from PyPI into <cache>/envpool-1.2.5-venv on first use).
    #[arg(long)]
    pub envpool: bool,
    /// Print the measurement as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// Parses a count between 1 and `MAX` (`--jobs`, `--episodes`, `--reps`,
/// ...), for flags where 0 means nothing and a huge value only exhausts
/// memory; clap's error names the flag.
pub fn count<const MAX: usize>(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX).contains(&n) => Ok(n),
        Ok(n) => Err(format!("{n} is not in 1..={MAX}")),
        Err(e) => Err(e.to_string()),
    }
}
