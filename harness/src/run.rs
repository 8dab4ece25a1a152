//! The run loop: one agent on one task with one seed, DESIGN.md's protocol.
//!
//! - Steps are environment steps including action repeat (2 on DMC): one
//!   agent decision = 2 env steps, one episode = 1000 env steps.
//! - The first `seed_steps` env steps use uniform random actions.
//! - After every step the transition goes into the replay buffer and the
//!   agent's `update` hook runs (the agent picks its schedule).
//! - Evaluation at env step 0, every `eval_every` env steps and at the end:
//!   `eval_episodes` episodes in eval mode on a separate evaluation env. Each
//!   evaluation episode (and each training episode) is reset with a seed
//!   derived from the run seed and its position, so nothing about the
//!   environments needs saving.
//! - `eval.csv` columns: `agent,env,env_step,episode_reward,episode_success,
//!   seed,variant,wall_time_s,episodes` (the DCWM published-CSV columns first).
//!   `episode_reward` is the mean return over the episodes; `episode_success`
//!   is the success rate for tasks that define success (Meta-World) and empty
//!   for DMC, as in DCWM's published DMC CSVs.
//! - `train.csv`: one row per training episode: `env_step,episode,
//!   episode_reward,episode_length,wall_time_s` + the agent's metrics.
//! - Update blocks an agent schedules at an episode end
//!   ([`Agent::pending_updates`], e.g. DCWM's 5,000-update pretraining) run
//!   before the next episode in chunks of [`UPDATE_CHUNK`] updates, with a
//!   checkpoint between chunks; the episode's train.csv row (with the
//!   metrics after the block) follows the block.
//! - Checkpoints at episode ends (every `checkpoint_every` env steps, before
//!   that step's evaluation) and before the final evaluation into
//!   `checkpoint/`: agent, replay buffer, loop state (step, episode, RNG, CSV
//!   byte lengths). Written to `checkpoint.tmp/` and renamed into place. On
//!   resume the CSVs are cut back to their length at the checkpoint, so a
//!   killed run never leaves duplicated or half rows, and the finished run's
//!   eval.csv equals an uninterrupted run's (except wall_time_s).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use agents::{Agent, DeviceChoice, Mode, ReplayBuffer, Rng};
use anyhow::{Context, Result, anyhow, bail};
use envs::Env;
use serde::{Deserialize, Serialize};

use crate::config::RunConfig;

/// eval.csv header.
pub const EVAL_HEADER: &str =
    "agent,env,env_step,episode_reward,episode_success,seed,variant,wall_time_s,episodes";

/// Live progress of a run (for progress bars).
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    /// Env steps done.
    pub env_step: u64,
    /// Env steps in the run.
    pub total: u64,
    /// Env steps per second since this process (re)started the run.
    pub steps_per_s: f64,
    /// Mean return of the last evaluation.
    pub last_eval: Option<f64>,
    /// True on the report right after an evaluation.
    pub evaluated: bool,
}

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Ran (from scratch or from a checkpoint) to the end.
    Finished,
    /// Was already complete; nothing done.
    AlreadyComplete,
}

/// Updates per chunk of an agent's scheduled update block; a block longer
/// than this is checkpointed between chunks.
pub const UPDATE_CHUNK: u64 = 1000;

/// A finished training episode whose train.csv row waits for the agent's
/// update block.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct EpisodeEnd {
    env_step: u64,
    episode: u64,
    ret: f64,
    len: u64,
}

/// The loop's own state, saved with each checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct LoopState {
    env_step: u64,
    episode: u64,
    next_eval: u64,
    last_eval_step: Option<u64>,
    last_eval: Option<f64>,
    last_checkpoint: u64,
    rng: Rng,
    wall_time_s: f64,
    eval_csv_bytes: u64,
    train_csv_bytes: u64,
    train_columns: Vec<String>,
    /// Set while the agent's update block after this episode runs.
    #[serde(default)]
    episode_end: Option<EpisodeEnd>,
}

/// `meta.json`: versions, device, host, times, and the commits built from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    ctrlbench_version: String,
    mujoco_version: String,
    libtorch_version: String,
    device: String,
    /// The commit the binary was built from, at the run's start.
    git_commit: Option<String>,
    host: String,
    start_time: String,
    resumed_at: Vec<String>,
    /// The commit the binary was built from, at each resume (in the order
    /// of `resumed_at`; `null` where it is unknown).
    #[serde(default)]
    resumed_git_commits: Vec<Option<String>>,
    end_time: Option<String>,
    complete: bool,
}

/// Whether the run in `dir` finished (meta.json says complete).
pub fn is_complete(dir: &Path) -> bool {
    std::fs::read(dir.join("meta.json"))
        .ok()
        .and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
        .is_some_and(|m| m.complete)
}

/// Whether `dir` holds a complete run of exactly `cfg` (a complete run with
/// another config is not: running it reports the conflict).
pub fn is_complete_run(dir: &Path, cfg: &RunConfig) -> bool {
    is_complete(dir)
        && std::fs::read_to_string(dir.join("config.yaml"))
            .ok()
            .and_then(|t| serde_yaml::from_str::<RunConfig>(&t).ok())
            .is_some_and(|c| &c == cfg)
}

/// Whether `dir` holds a checkpoint to resume from.
pub fn has_checkpoint(dir: &Path) -> bool {
    dir.join("checkpoint").is_dir() || dir.join("checkpoint.old").is_dir()
}

/// Appends whole lines to a CSV file and tracks its length.
struct CsvLog {
    file: File,
    bytes: u64,
    path: PathBuf,
}

impl CsvLog {
    /// Opens `path` cut to `bytes` (0: new file with `header`).
    fn open(path: PathBuf, bytes: u64, header: &str) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.set_len(bytes)
            .with_context(|| format!("truncating {}", path.display()))?;
        let mut log = CsvLog { file, bytes, path };
        if bytes == 0 {
            log.line(header)?;
        }
        Ok(log)
    }

    /// Appends `line` + newline in one write.
    fn line(&mut self, line: &str) -> Result<()> {
        let s = format!("{line}\n");
        self.file
            .write_all(s.as_bytes())
            .and_then(|()| self.file.flush())
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.bytes += s.len() as u64;
        Ok(())
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Current UTC time as RFC 3339 (`2025-01-31T12:00:00Z`).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The git commit this binary was built from (build.rs), if it was built
/// from a git checkout.
fn git_commit() -> Option<String> {
    option_env!("CTRLBENCH_GIT_COMMIT").map(String::from)
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

/// A reset seed for numpy's RandomState (< 2^32) derived from the run seed.
fn episode_seed(seed: u64, stream: &str) -> u64 {
    agents::rng::derive_seed(seed, stream) & 0xFFFF_FFFF
}

/// A float for CSV: shortest round-trip form, empty for NaN.
fn csv_f64(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

/// Everything one run needs while it runs.
struct Runner<'a> {
    cfg: &'a RunConfig,
    dir: &'a Path,
    agent: Box<dyn Agent>,
    env: Box<dyn Env>,
    eval_env: Box<dyn Env>,
    buffer: ReplayBuffer,
    state: LoopState,
    eval_csv: CsvLog,
    train_csv: CsvLog,
    started: Instant,
    wall_offset: f64,
    steps_at_start: u64,
    repeat: u64,
}

/// Runs (or resumes, or skips when complete) the run `cfg` in `dir`.
/// `progress` is called a few times per second.
pub fn execute(
    cfg: &RunConfig,
    dir: &Path,
    device: DeviceChoice,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the results directory {}", dir.display()))?;
    let config_path = dir.join("config.yaml");
    let config_text = serde_yaml::to_string(cfg)?;
    if config_path.exists() {
        let old = std::fs::read_to_string(&config_path)?;
        let old_cfg: Option<RunConfig> = serde_yaml::from_str(&old).ok();
        if old_cfg.as_ref() != Some(cfg) {
            bail!(
                "{} holds a run with a different configuration; delete it or use another \
                 experiment name / --out directory",
                dir.display()
            );
        }
        if is_complete(dir) {
            return Ok(Outcome::AlreadyComplete);
        }
    }
    write_atomic(&config_path, config_text.as_bytes())?;

    let tch_device = device.resolve()?;
    agents::apply_torch_threads();
    let env = envs::benchmark_env(&cfg.task, episode_seed(cfg.seed, "train"))?;
    let (eval_env, agent) = eval_env_and_agent(cfg, tch_device)?;
    let device_name = match tch_device {
        tch::Device::Cuda(i) => format!("cuda:{i}"),
        d => format!("{d:?}").to_lowercase(),
    };
    run_agent(cfg, dir, agent, env, eval_env, &device_name, progress)
}

/// Runs (or resumes) `agent` in `dir`, whose config `execute` has checked.
fn run_agent(
    cfg: &RunConfig,
    dir: &Path,
    agent: Box<dyn Agent>,
    env: Box<dyn Env>,
    eval_env: Box<dyn Env>,
    device_name: &str,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome> {
    let spec = env.spec().clone();
    let repeat = envs::DMC_PROTOCOL.action_repeat as u64;
    let episode_len = spec.max_episode_steps.unwrap_or(500) as u64;
    let agent_steps = cfg.run.steps.div_ceil(repeat);
    let capacity = cfg
        .run
        .buffer_capacity
        .unwrap_or((agent_steps + agent_steps / episode_len.max(1) + 2) as usize)
        .max(2);

    // Meta: keep the first start time across resumes.
    let meta_path = dir.join("meta.json");
    let now = utc_now();
    let mut meta = std::fs::read(&meta_path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
        .unwrap_or(Meta {
            ctrlbench_version: env!("CARGO_PKG_VERSION").into(),
            mujoco_version: envs::mujoco_version(),
            libtorch_version: agents::libtorch_version().into(),
            device: device_name.into(),
            git_commit: git_commit(),
            host: host(),
            start_time: now.clone(),
            resumed_at: vec![],
            resumed_git_commits: vec![],
            end_time: None,
            complete: false,
        });

    // Resume from the checkpoint, or start fresh.
    let ckpt = dir.join("checkpoint");
    let old = dir.join("checkpoint.old");
    let _ = std::fs::remove_dir_all(dir.join("checkpoint.tmp"));
    if !ckpt.is_dir() && old.is_dir() {
        std::fs::rename(&old, &ckpt)?;
    }
    let mut agent = agent;
    let (buffer, state) = if ckpt.is_dir() {
        let state: LoopState = serde_json::from_slice(
            &std::fs::read(ckpt.join("state.json")).context("reading checkpoint/state.json")?,
        )
        .context("reading checkpoint/state.json")?;
        agent.load(&ckpt.join("agent"))?;
        let buffer = ReplayBuffer::load(&ckpt.join("buffer.bin"))?;
        // meta.json files from before the commits were recorded lack them.
        let unknown = meta
            .resumed_at
            .len()
            .saturating_sub(meta.resumed_git_commits.len());
        meta.resumed_git_commits
            .splice(0..0, std::iter::repeat_n(None, unknown));
        meta.resumed_at.push(now);
        meta.resumed_git_commits.push(git_commit());
        tracing::info!(run = %dir.display(), env_step = state.env_step, "resuming from checkpoint");
        (buffer, state)
    } else {
        let state = LoopState {
            env_step: 0,
            episode: 0,
            next_eval: 0,
            last_eval_step: None,
            last_eval: None,
            last_checkpoint: 0,
            rng: Rng::new(agents::rng::derive_seed(cfg.seed, "seed-steps")),
            wall_time_s: 0.0,
            eval_csv_bytes: 0,
            train_csv_bytes: 0,
            train_columns: agent.metrics().into_iter().map(|(k, _)| k).collect(),
            episode_end: None,
        };
        meta.start_time = now;
        meta.git_commit = git_commit();
        meta.resumed_at.clear();
        meta.resumed_git_commits.clear();
        (
            ReplayBuffer::new(spec.obs_dim(), spec.action_dim(), capacity)?,
            state,
        )
    };
    meta.end_time = None;
    meta.complete = false;
    write_atomic(&meta_path, &serde_json::to_vec_pretty(&meta)?)?;

    let train_header = [
        "env_step",
        "episode",
        "episode_reward",
        "episode_length",
        "wall_time_s",
    ]
    .iter()
    .map(|s| s.to_string())
    .chain(state.train_columns.iter().cloned())
    .collect::<Vec<_>>()
    .join(",");
    let eval_csv = CsvLog::open(dir.join("eval.csv"), state.eval_csv_bytes, EVAL_HEADER)?;
    let train_csv = CsvLog::open(dir.join("train.csv"), state.train_csv_bytes, &train_header)?;
    let mut runner = Runner {
        cfg,
        dir,
        agent,
        env,
        eval_env,
        buffer,
        wall_offset: state.wall_time_s,
        steps_at_start: state.env_step,
        state,
        eval_csv,
        train_csv,
        started: Instant::now(),
        repeat,
    };
    runner.train(progress)?;

    meta.end_time = Some(utc_now());
    meta.complete = true;
    write_atomic(&meta_path, &serde_json::to_vec_pretty(&meta)?)?;
    let _ = std::fs::remove_dir_all(dir.join("checkpoint"));
    Ok(Outcome::Finished)
}

impl Runner<'_> {
    fn wall_time(&self) -> f64 {
        self.wall_offset + self.started.elapsed().as_secs_f64()
    }

    fn progress(&self) -> Progress {
        let secs = self.started.elapsed().as_secs_f64().max(1e-9);
        Progress {
            env_step: self.state.env_step,
            total: self.cfg.run.steps,
            steps_per_s: (self.state.env_step - self.steps_at_start) as f64 / secs,
            last_eval: self.state.last_eval,
            evaluated: false,
        }
    }

    fn checked(&self, action: Vec<f32>) -> Result<Vec<f32>> {
        checked_action(&self.cfg.agent, self.env.spec().action_dim(), action)
    }

    fn train(&mut self, progress: &mut dyn FnMut(&Progress)) -> Result<()> {
        let steps = self.cfg.run.steps;
        let obs_dim = self.env.spec().obs_dim();
        let action_dim = self.env.spec().action_dim();
        let mut obs = vec![0.0f64; obs_dim];
        let mut obs32 = vec![0.0f32; obs_dim];
        let mut action64 = vec![0.0f64; action_dim];
        let mut last_report = Instant::now();
        progress(&self.progress());
        // A run resumed inside an update block finishes it first.
        self.finish_episode(progress)?;
        if self.maybe_eval()? {
            progress(&self.evaluated());
        }
        while self.state.env_step < steps {
            let seed = episode_seed(self.cfg.seed, &format!("train/{}", self.state.episode));
            self.env.reset_into(Some(seed), &mut obs)?;
            to_f32(&obs, &mut obs32);
            self.buffer.start_episode(&obs32);
            self.agent.begin_episode(Mode::Explore);
            let (mut ret, mut len, mut done) = (0.0f64, 0u64, false);
            while !done && self.state.env_step < steps {
                let action = if self.state.env_step < self.cfg.run.seed_steps {
                    let rng = &mut self.state.rng;
                    (0..action_dim)
                        .map(|_| rng.uniform(-1.0, 1.0) as f32)
                        .collect()
                } else {
                    let a = self.agent.act(&obs32, Mode::Explore)?;
                    self.checked(a)?
                };
                for (d, &a) in action64.iter_mut().zip(&action) {
                    *d = f64::from(a).clamp(-1.0, 1.0);
                }
                let t = match self.env.step_into(&action64, &mut obs) {
                    Ok(t) => t,
                    Err(envs::EnvError::Physics(e)) => {
                        // dm_control ends such an episode too; go on with the next.
                        tracing::warn!(run = %self.dir.display(), env_step = self.state.env_step, "simulation diverged, episode ended: {e}");
                        done = true;
                        self.agent.update(&self.buffer, self.state.env_step, true)?;
                        break;
                    }
                    Err(e) => return Err(e.into()),
                };
                self.state.env_step += self.repeat;
                to_f32(&obs, &mut obs32);
                self.buffer
                    .push(&action, t.reward as f32, t.terminated, t.truncated, &obs32)?;
                ret += t.reward;
                len += 1;
                done = t.done();
                self.agent.update(&self.buffer, self.state.env_step, done)?;
                if done {
                    break;
                }
                if self.maybe_eval()? {
                    progress(&self.evaluated());
                    last_report = Instant::now();
                } else if last_report.elapsed().as_millis() >= 200 {
                    progress(&self.progress());
                    last_report = Instant::now();
                }
            }
            if done {
                self.state.episode_end = Some(EpisodeEnd {
                    env_step: self.state.env_step,
                    episode: self.state.episode,
                    ret,
                    len,
                });
                self.state.episode += 1;
                self.finish_episode(progress)?;
                // Checkpoint before a due evaluation: an interruption then
                // costs the evaluation only, which a resumed run starts with.
                let since = self.state.env_step - self.state.last_checkpoint;
                if self.state.env_step < steps && since >= self.cfg.run.checkpoint_every {
                    self.checkpoint()?;
                }
                if self.maybe_eval()? {
                    progress(&self.evaluated());
                    last_report = Instant::now();
                }
            } else {
                self.state.episode += 1;
            }
        }
        if self.state.last_eval_step != Some(self.state.env_step) {
            // The final evaluation of a planning agent can take as long as
            // several episodes of training; keep the training behind it.
            if self.state.last_checkpoint < self.state.env_step {
                self.checkpoint()?;
            }
            self.evaluate()?;
            progress(&self.evaluated());
        } else {
            progress(&self.progress());
        }
        Ok(())
    }

    /// Runs the update block the agent scheduled at the end of an episode
    /// (checkpointing between chunks), then writes the episode's train.csv
    /// row. Nothing to do when no episode end is pending.
    fn finish_episode(&mut self, progress: &mut dyn FnMut(&Progress)) -> Result<()> {
        let Some(end) = self.state.episode_end else {
            return Ok(());
        };
        while self.agent.pending_updates() > 0 {
            let pending = self.agent.pending_updates();
            if self.agent.run_pending_updates(&self.buffer, UPDATE_CHUNK)? == 0 {
                bail!("the agent reports {pending} pending updates but runs none");
            }
            if self.agent.pending_updates() > 0 {
                self.checkpoint()?;
            }
            progress(&self.progress());
        }
        self.state.episode_end = None;
        self.train_row(&end)
    }

    fn train_row(&mut self, end: &EpisodeEnd) -> Result<()> {
        let metrics = self.agent.metrics();
        let mut row = vec![
            end.env_step.to_string(),
            end.episode.to_string(),
            csv_f64(end.ret),
            end.len.to_string(),
            format!("{:.3}", self.wall_time()),
        ];
        for col in &self.state.train_columns {
            let v = metrics
                .iter()
                .find(|(k, _)| k == col)
                .map_or(f64::NAN, |(_, v)| *v);
            row.push(csv_f64(v));
        }
        self.train_csv.line(&row.join(","))
    }

    /// Progress right after an evaluation.
    fn evaluated(&self) -> Progress {
        Progress {
            evaluated: true,
            ..self.progress()
        }
    }

    /// Evaluates when due; returns whether it did.
    fn maybe_eval(&mut self) -> Result<bool> {
        if self.cfg.run.eval_every == 0 || self.state.env_step < self.state.next_eval {
            return Ok(false);
        }
        self.evaluate()?;
        while self.state.next_eval <= self.state.env_step {
            self.state.next_eval += self.cfg.run.eval_every;
        }
        Ok(true)
    }

    /// Runs the evaluation episodes and appends an eval.csv row.
    fn evaluate(&mut self) -> Result<()> {
        let n = self.cfg.run.eval_episodes.max(1);
        let played = play_evaluation(
            self.cfg,
            self.agent.as_mut(),
            self.eval_env.as_mut(),
            self.state.env_step,
            n,
            &mut || {},
        )?;
        let mean = played.mean();
        let c = self.cfg;
        let row = format!(
            "{},{},{},{},{},{},{},{:.3},{}",
            c.agent,
            c.task,
            self.state.env_step,
            csv_f64(mean),
            played.success_rate().map(csv_f64).unwrap_or_default(),
            c.seed,
            c.variant.as_deref().unwrap_or(""),
            self.wall_time(),
            n
        );
        self.eval_csv.line(&row)?;
        self.state.last_eval = Some(mean);
        self.state.last_eval_step = Some(self.state.env_step);
        tracing::debug!(run = %self.dir.display(), env_step = self.state.env_step, episode_reward = mean, "eval");
        Ok(())
    }

    /// Writes `checkpoint.tmp/` and renames it to `checkpoint/`.
    fn checkpoint(&mut self) -> Result<()> {
        let tmp = self.dir.join("checkpoint.tmp");
        let ckpt = self.dir.join("checkpoint");
        let old = self.dir.join("checkpoint.old");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("agent"))
            .with_context(|| format!("creating {}", tmp.display()))?;
        self.agent.save(&tmp.join("agent"))?;
        self.buffer.save(&tmp.join("buffer.bin"))?;
        self.eval_csv.file.sync_data()?;
        self.train_csv.file.sync_data()?;
        self.state.last_checkpoint = self.state.env_step;
        self.state.wall_time_s = self.wall_time();
        self.state.eval_csv_bytes = self.eval_csv.bytes;
        self.state.train_csv_bytes = self.train_csv.bytes;
        std::fs::write(
            tmp.join("state.json"),
            serde_json::to_vec_pretty(&self.state)?,
        )?;
        if ckpt.is_dir() {
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&ckpt, &old)?;
        }
        std::fs::rename(&tmp, &ckpt).map_err(|e| anyhow!("installing checkpoint: {e}"))?;
        let _ = std::fs::remove_dir_all(&old);
        tracing::debug!(run = %self.dir.display(), env_step = self.state.env_step, "checkpoint");
        Ok(())
    }
}

/// Checks an agent's action: size, finiteness.
fn checked_action(agent: &str, action_dim: usize, action: Vec<f32>) -> Result<Vec<f32>> {
    if action.len() != action_dim {
        bail!(
            "agent '{agent}' returned {} action values, the task needs {action_dim}",
            action.len()
        );
    }
    if let Some(v) = action.iter().find(|v| !v.is_finite()) {
        bail!("agent '{agent}' returned a non-finite action value ({v})");
    }
    Ok(action)
}

/// The outcome of evaluation episodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Return of each episode, in order.
    pub returns: Vec<f64>,
    /// Episodes that succeeded, for tasks that define success (Meta-World).
    pub successes: Option<usize>,
}

impl Evaluation {
    /// Mean return (eval.csv's `episode_reward`).
    pub fn mean(&self) -> f64 {
        self.returns.iter().sum::<f64>() / self.returns.len().max(1) as f64
    }

    /// Success rate (eval.csv's `episode_success`).
    pub fn success_rate(&self) -> Option<f64> {
        self.successes
            .map(|s| s as f64 / self.returns.len().max(1) as f64)
    }
}

/// Plays `episodes` episodes of `agent` in eval mode, as the run's
/// evaluation at `env_step` does: on the evaluation environment, episode `i`
/// reset with the seed derived from the run seed, `env_step` and `i`.
/// `on_step` is called after every agent step.
fn play_evaluation(
    cfg: &RunConfig,
    agent: &mut dyn Agent,
    env: &mut dyn Env,
    env_step: u64,
    episodes: usize,
    on_step: &mut dyn FnMut(),
) -> Result<Evaluation> {
    let spec = env.spec().clone();
    let mut obs = vec![0.0f64; spec.obs_dim()];
    let mut obs32 = vec![0.0f32; spec.obs_dim()];
    let mut action64 = vec![0.0f64; spec.action_dim()];
    let mut played = Evaluation {
        returns: Vec::with_capacity(episodes),
        successes: None,
    };
    for ep in 0..episodes {
        let seed = episode_seed(cfg.seed, &format!("eval/{env_step}/{ep}"));
        env.reset_into(Some(seed), &mut obs)?;
        agent.begin_episode(Mode::Eval);
        let (mut ret, mut success) = (0.0f64, None::<bool>);
        loop {
            to_f32(&obs, &mut obs32);
            let a = checked_action(
                &cfg.agent,
                spec.action_dim(),
                agent.act(&obs32, Mode::Eval)?,
            )?;
            for (d, &x) in action64.iter_mut().zip(&a) {
                *d = f64::from(x).clamp(-1.0, 1.0);
            }
            let t = match env.step_into(&action64, &mut obs) {
                Ok(t) => t,
                Err(envs::EnvError::Physics(e)) => {
                    tracing::warn!(task = %cfg.task, env_step, "evaluation episode diverged, ended: {e}");
                    break;
                }
                Err(e) => return Err(e.into()),
            };
            on_step();
            ret += t.reward;
            if let Some(s) = t.info.success {
                success = Some(success.unwrap_or(false) | s);
            }
            if t.done() {
                break;
            }
        }
        played.returns.push(ret);
        if let Some(s) = success {
            played.successes = Some(played.successes.unwrap_or(0) + usize::from(s));
        }
    }
    Ok(played)
}

/// What [`evaluate_checkpoint`] measured.
#[derive(Debug, Clone)]
pub struct CheckpointEvaluation {
    /// The run's configuration (its config.yaml).
    pub config: RunConfig,
    /// Env step of the checkpoint.
    pub env_step: u64,
    /// Updates of an update block the checkpoint was taken inside, still to
    /// run (0 when it was taken between episodes).
    pub pending_updates: u64,
    /// The episodes played.
    pub evaluation: Evaluation,
}

/// Evaluates the agent in the latest checkpoint of the run in `dir` (a run
/// in progress or interrupted), without touching the run: `episodes`
/// eval-mode episodes (default: the run's `eval_episodes`), with the
/// environment seeds the run's own evaluation at the checkpoint's env step
/// uses. `on_step` is called after every agent step.
pub fn evaluate_checkpoint(
    dir: &Path,
    device: DeviceChoice,
    episodes: Option<usize>,
    on_step: &mut dyn FnMut(),
) -> Result<CheckpointEvaluation> {
    let cfg = read_run_config(dir)?;
    let tch_device = device.resolve()?;
    agents::apply_torch_threads();
    let (env, agent) = eval_env_and_agent(&cfg, tch_device)?;
    evaluate_checkpoint_with(dir, cfg, agent, env, episodes, on_step)
}

/// The run's evaluation environment, and its agent as the run starts it.
fn eval_env_and_agent(
    cfg: &RunConfig,
    device: tch::Device,
) -> Result<(Box<dyn Env>, Box<dyn Agent>)> {
    let env = envs::benchmark_env(&cfg.task, episode_seed(cfg.seed, "eval"))?;
    let agent = agents::make(
        &cfg.agent,
        env.spec(),
        &cfg.agent_config,
        device,
        agents::rng::derive_seed(cfg.seed, "agent"),
    )?;
    Ok((env, agent))
}

/// The run configuration in `dir`'s config.yaml.
fn read_run_config(dir: &Path) -> Result<RunConfig> {
    let path = dir.join("config.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is not a run directory (cannot read its config.yaml)",
            dir.display()
        )
    })?;
    serde_yaml::from_str(&text).with_context(|| format!("reading {}", path.display()))
}

/// The env step of `dir`'s checkpoint, if it has one.
fn checkpoint_step(dir: &Path) -> Result<Option<u64>> {
    let path = dir.join("checkpoint").join("state.json");
    match std::fs::read(&path) {
        Ok(bytes) => {
            let state: LoopState = serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display()))?;
            Ok(Some(state.env_step))
        }
        Err(_) => Ok(None),
    }
}

/// [`evaluate_checkpoint`] with the agent and environment built.
fn evaluate_checkpoint_with(
    dir: &Path,
    cfg: RunConfig,
    mut agent: Box<dyn Agent>,
    mut env: Box<dyn Env>,
    episodes: Option<usize>,
    on_step: &mut dyn FnMut(),
) -> Result<CheckpointEvaluation> {
    // A running run replaces its checkpoint now and then (checkpoint.tmp/ is
    // renamed over checkpoint/); a load that saw the swap is retried.
    const ATTEMPTS: usize = 5;
    let mut attempt = 0;
    let env_step = loop {
        attempt += 1;
        let before = checkpoint_step(dir)?;
        let loaded = match before {
            Some(_) => agent
                .load(&dir.join("checkpoint").join("agent"))
                .map_err(anyhow::Error::from),
            None => Err(anyhow!("no checkpoint")),
        };
        let after = checkpoint_step(dir)?;
        match (before, after, loaded) {
            (Some(a), Some(b), Ok(())) if a == b => break a,
            (Some(a), Some(b), Err(e)) if a == b => {
                return Err(e.context(format!("loading the checkpoint of {}", dir.display())));
            }
            (None, None, _) if !dir.join("checkpoint.old").is_dir() => {
                if is_complete(dir) {
                    bail!(
                        "the run in {} is complete, and a complete run keeps no \
                         checkpoint; its evaluations are in eval.csv",
                        dir.display()
                    );
                }
                bail!(
                    "the run in {} has no checkpoint yet (the first is written after \
                     checkpoint_every = {} env steps)",
                    dir.display(),
                    cfg.run.checkpoint_every
                );
            }
            _ if attempt < ATTEMPTS => std::thread::sleep(std::time::Duration::from_millis(200)),
            _ => bail!(
                "the checkpoint of {} changed during each of {ATTEMPTS} attempts to load it",
                dir.display()
            ),
        }
    };
    let pending_updates = agent.pending_updates();
    let n = episodes.unwrap_or(cfg.run.eval_episodes).max(1);
    let evaluation = play_evaluation(&cfg, agent.as_mut(), env.as_mut(), env_step, n, on_step)?;
    Ok(CheckpointEvaluation {
        config: cfg,
        env_step,
        pending_updates,
        evaluation,
    })
}

fn to_f32(src: &[f64], dst: &mut [f32]) {
    for (d, &s) in dst.iter_mut().zip(src) {
        *d = s as f32;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RunSettings;
    use agents::AgentError;
    use agents::agent::{load_json, save_json};

    /// Schedules a 2,500-update block after its first episode and 7 updates
    /// after each later one. Each update folds its index into `value`, so
    /// train.csv shows how many updates ran, and in which order. Fails, as a
    /// crash would, on reaching update `crash_at`, or in evaluation episode
    /// `crash_in_eval` (counted from 1 in this process).
    #[derive(Default, Serialize, Deserialize)]
    struct BlockAgent {
        episodes: u64,
        pending: u64,
        updates: u64,
        value: u64,
        #[serde(skip)]
        crash_at: Option<u64>,
        #[serde(skip)]
        crash_in_eval: Option<u64>,
        #[serde(skip)]
        eval_episodes: u64,
    }

    impl Agent for BlockAgent {
        fn begin_episode(&mut self, mode: Mode) {
            if mode == Mode::Eval {
                self.eval_episodes += 1;
            }
        }

        fn act(&mut self, _obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
            if mode == Mode::Eval && self.crash_in_eval == Some(self.eval_episodes) {
                return Err(AgentError::Other("crashed in evaluation".into()));
            }
            // What the agent learned shows in its evaluation returns.
            Ok(vec![(self.value % 101) as f32 / 50.0 - 1.0])
        }

        fn update(&mut self, _: &ReplayBuffer, _: u64, end: bool) -> Result<(), AgentError> {
            if end {
                self.episodes += 1;
                self.pending += if self.episodes == 1 { 2500 } else { 7 };
            }
            Ok(())
        }

        fn pending_updates(&self) -> u64 {
            self.pending
        }

        fn run_pending_updates(&mut self, _: &ReplayBuffer, max: u64) -> Result<u64, AgentError> {
            let n = max.min(self.pending);
            for _ in 0..n {
                if self.crash_at == Some(self.updates) {
                    return Err(AgentError::Other("crashed".into()));
                }
                self.updates += 1;
                self.pending -= 1;
                self.value = (self.value * 31 + self.updates) % 1_000_003;
            }
            Ok(n)
        }

        fn metrics(&self) -> Vec<(String, f64)> {
            vec![
                ("updates".into(), self.updates as f64),
                ("value".into(), self.value as f64),
            ]
        }

        fn save(&self, dir: &Path) -> Result<(), AgentError> {
            save_json(dir, "block.json", self)
        }

        fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
            let (crash_at, crash_in_eval) = (self.crash_at, self.crash_in_eval);
            *self = BlockAgent {
                crash_at,
                crash_in_eval,
                ..load_json(dir, "block.json")?
            };
            Ok(())
        }
    }

    /// eval.csv and train.csv without their wall_time_s columns.
    fn csvs(dir: &Path) -> Vec<String> {
        ["eval.csv", "train.csv"]
            .iter()
            .map(|f| {
                let text = std::fs::read_to_string(dir.join(f)).unwrap();
                let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
                let wall = header.iter().position(|h| *h == "wall_time_s").unwrap();
                text.lines()
                    .map(|l| {
                        let mut cells: Vec<&str> = l.split(',').collect();
                        cells.remove(wall);
                        cells.join(",")
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
            .collect()
    }

    /// A 4,000-step cartpole-balance run of [`BlockAgent`] (4 episodes).
    fn block_config(eval_every: u64, checkpoint_every: u64) -> RunConfig {
        RunConfig {
            experiment: "block".into(),
            agent: "block".into(),
            task: "cartpole-balance".into(),
            seed: 3,
            variant: None,
            run: RunSettings {
                steps: 4000,
                eval_every,
                eval_episodes: 1,
                checkpoint_every,
                ..RunSettings::default()
            },
            agent_config: serde_yaml::Value::Null,
        }
    }

    fn block_run(cfg: &RunConfig, dir: &Path, agent: BlockAgent) -> Result<Outcome> {
        let env = envs::benchmark_env(&cfg.task, episode_seed(cfg.seed, "train")).unwrap();
        let eval_env = envs::benchmark_env(&cfg.task, episode_seed(cfg.seed, "eval")).unwrap();
        run_agent(cfg, dir, Box::new(agent), env, eval_env, "cpu", &mut |_| {})
    }

    fn checkpoint_state(dir: &Path) -> LoopState {
        serde_json::from_slice(&std::fs::read(dir.join("checkpoint/state.json")).unwrap()).unwrap()
    }

    /// Fresh `full` and `cut` run directories under a per-test root.
    fn block_dirs(name: &str) -> (PathBuf, PathBuf, PathBuf) {
        let root = std::env::temp_dir().join(format!("ctrlbench-{name}-{}", std::process::id()));
        let (full, cut) = (root.join("full"), root.join("cut"));
        for d in [&full, &cut] {
            std::fs::create_dir_all(d).unwrap();
        }
        (root, full, cut)
    }

    /// Runs `cfg` uninterrupted into `full` and, cut by a crash in its
    /// `eval`-th evaluation episode, into `cut`; returns the uninterrupted
    /// CSVs.
    fn run_full_and_cut_in_eval(
        cfg: &RunConfig,
        full: &Path,
        cut: &Path,
        eval: u64,
    ) -> Vec<String> {
        block_run(cfg, full, BlockAgent::default()).unwrap();
        let crash = BlockAgent {
            crash_in_eval: Some(eval),
            ..BlockAgent::default()
        };
        let err = block_run(cfg, cut, crash).unwrap_err();
        assert!(err.to_string().contains("crashed in evaluation"), "{err}");
        csvs(full)
    }

    #[test]
    fn a_run_cut_inside_an_update_block_resumes_to_identical_results() {
        let cfg = block_config(2000, RunSettings::default().checkpoint_every);
        let (root, full, cut) = block_dirs("block");
        block_run(&cfg, &full, BlockAgent::default()).unwrap();
        let reference = csvs(&full);
        // 4 episodes; after the first, 2,500 updates, then 7 per episode.
        let last = reference[1].lines().last().unwrap();
        assert!(last.starts_with("4000,3,"), "{last}");
        assert!(last.contains(",2521,"), "{last}");

        // A crash at update 1,500: the checkpoint after the first 1,000 of
        // the block is on disk, and no train.csv row yet.
        let crash = BlockAgent {
            crash_at: Some(1500),
            ..BlockAgent::default()
        };
        let err = block_run(&cfg, &cut, crash).unwrap_err();
        assert!(err.to_string().contains("crashed"), "{err}");
        assert!(has_checkpoint(&cut));
        let rows = std::fs::read_to_string(cut.join("train.csv")).unwrap();
        assert_eq!(rows.lines().count(), 1, "{rows}");
        assert!(checkpoint_state(&cut).episode_end.is_some());
        block_run(&cfg, &cut, BlockAgent::default()).unwrap();
        assert_eq!(csvs(&cut), reference);
        std::fs::remove_dir_all(root).ok();
    }

    #[test]
    fn meta_records_the_commit_of_the_start_and_of_each_resume() {
        let cfg = block_config(2000, 1000);
        let (root, full, cut) = block_dirs("meta-commits");
        run_full_and_cut_in_eval(&cfg, &full, &cut, 2);
        // A meta.json from before the resumes' commits were recorded.
        let path = cut.join("meta.json");
        let mut meta: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        meta["resumed_at"] = serde_json::json!(["2026-01-01T00:00:00Z"]);
        meta.as_object_mut().unwrap().remove("resumed_git_commits");
        std::fs::write(&path, meta.to_string()).unwrap();
        block_run(&cfg, &cut, BlockAgent::default()).unwrap();
        let meta: Meta = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        assert_eq!(meta.git_commit, git_commit());
        assert_eq!(meta.resumed_at.len(), 2);
        assert_eq!(meta.resumed_git_commits, [None, git_commit()]);
        assert!(meta.complete);
        std::fs::remove_dir_all(root).ok();
    }

    #[test]
    fn a_run_cut_during_an_evaluation_resumes_at_that_evaluation() {
        // Evaluations at 0, 2,000 and 4,000 steps; a checkpoint due at
        // 2,000 (the update block after the first episode checkpointed at
        // 1,000).
        let cfg = block_config(2000, 1000);
        let (root, full, cut) = block_dirs("eval-cut");
        // A crash in the evaluation at 2,000 steps: the training before it
        // is checkpointed.
        let reference = run_full_and_cut_in_eval(&cfg, &full, &cut, 2);
        assert_eq!(reference[0].lines().count(), 4, "{}", reference[0]);
        let state = checkpoint_state(&cut);
        assert_eq!((state.env_step, state.last_eval_step), (2000, Some(0)));
        block_run(&cfg, &cut, BlockAgent::default()).unwrap();
        assert_eq!(csvs(&cut), reference);
        std::fs::remove_dir_all(root).ok();
    }

    #[test]
    fn a_run_cut_during_its_final_evaluation_does_not_train_again() {
        // The CPU budget's setting: one evaluation, at the end.
        let cfg = block_config(0, RunSettings::default().checkpoint_every);
        let (root, full, cut) = block_dirs("final-eval-cut");
        let reference = run_full_and_cut_in_eval(&cfg, &full, &cut, 1);
        let state = checkpoint_state(&cut);
        assert_eq!((state.env_step, state.last_eval_step), (4000, None));
        // Resumed, the run only evaluates: any update would crash it.
        let no_updates = BlockAgent {
            crash_at: Some(2521),
            ..BlockAgent::default()
        };
        block_run(&cfg, &cut, no_updates).unwrap();
        assert_eq!(csvs(&cut), reference);
        std::fs::remove_dir_all(root).ok();
    }

    /// Evaluates `dir`'s checkpoint with a fresh [`BlockAgent`].
    fn evaluate_block_checkpoint(
        dir: &Path,
        cfg: &RunConfig,
        episodes: Option<usize>,
        on_step: &mut dyn FnMut(),
    ) -> Result<CheckpointEvaluation> {
        let env = envs::benchmark_env(&cfg.task, episode_seed(cfg.seed, "eval")).unwrap();
        let agent = Box::new(BlockAgent::default());
        evaluate_checkpoint_with(dir, cfg.clone(), agent, env, episodes, on_step)
    }

    #[test]
    fn evaluating_a_checkpoint_plays_the_runs_own_evaluation() {
        let cfg = block_config(2000, 1000);
        let (root, full, cut) = block_dirs("evaluate-checkpoint");
        // Cut in the evaluation at 2,000 steps, checkpointed just before it.
        let reference = run_full_and_cut_in_eval(&cfg, &full, &cut, 2);
        let mut steps = 0;
        let e = evaluate_block_checkpoint(&cut, &cfg, Some(2), &mut || steps += 1).unwrap();
        assert_eq!((e.env_step, e.pending_updates), (2000, 0));
        assert_eq!(e.evaluation.returns.len(), 2);
        assert_eq!(steps, 1000, "two episodes of 500 agent steps");
        let rows: Vec<Vec<String>> = reference[0]
            .lines()
            .map(|l| l.split(',').map(String::from).collect())
            .collect();
        // eval.csv without wall_time_s: agent,env,env_step,episode_reward,...
        let at = |step: &str| rows.iter().find(|r| r[2] == step).unwrap()[3].clone();
        // The run's evaluation at 2,000 played the first of these episodes
        // with the trained agent; the one at 0 did not.
        assert_eq!(csv_f64(e.evaluation.returns[0]), at("2000"));
        assert_ne!(at("0"), at("2000"));
        // Nothing in the run changed: it resumes to the uninterrupted result.
        block_run(&cfg, &cut, BlockAgent::default()).unwrap();
        assert_eq!(csvs(&cut), reference);
        // A complete run has no checkpoint left.
        let err = evaluate_block_checkpoint(&cut, &cfg, None, &mut || {}).unwrap_err();
        assert!(err.to_string().contains("is complete"), "{err}");
        std::fs::remove_dir_all(root).ok();
    }

    #[test]
    fn evaluating_a_run_without_a_checkpoint_says_so() {
        let cfg = block_config(2000, 1000);
        let (root, dir, _) = block_dirs("evaluate-none");
        let err = evaluate_block_checkpoint(&dir, &cfg, None, &mut || {}).unwrap_err();
        assert!(err.to_string().contains("no checkpoint yet"), "{err}");
        let err = evaluate_checkpoint(&dir, DeviceChoice::Cpu, None, &mut || {}).unwrap_err();
        assert!(err.to_string().contains("not a run directory"), "{err}");
        std::fs::remove_dir_all(root).ok();
    }

    #[test]
    fn utc_now_is_rfc3339() {
        let t = super::utc_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.starts_with("20"), "{t}");
    }
}
