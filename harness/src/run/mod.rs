//! The run loop: one agent on one task with one seed, DESIGN.md's protocol.
//!
//! - Steps are environment steps including action repeat: one agent
//!   decision = `action_repeat` env steps (the run setting, by default the
//!   suite's: 2 on DMC), read from the environment's spec.
//! - The first `warmup_steps` env steps use uniform random actions, drawn
//!   by the loop from its own stream; the agent learns nothing before.
//! - After every step the transition goes into the replay buffer and the
//!   agent's `update` hook runs (the agent picks its schedule).
//! - Evaluation at env step 0, every `eval_every` env steps, at the steps
//!   listed in `eval_at` (at the first agent step reaching each) and at the end:
//!   `eval_episodes` episodes in eval mode, side by side on evaluation
//!   environments of their own (`evaluation.rs`). Each evaluation episode (and each training episode) is
//!   reset with a seed derived from the run seed and its position, so
//!   nothing about the environments needs saving.
//! - `eval.csv`: one [`EvalRow`] per evaluation. `episode_reward` is the
//!   mean return over the episodes; `episode_success` is the success rate
//!   for tasks that define success (Meta-World) and empty for DMC, as in
//!   DCWM's published DMC CSVs.
//! - `train.csv`: one row per training episode: `env_step,episode,
//!   episode_reward,episode_length,wall_time_s,episode_reward_max` (the
//!   largest training return so far) + the agent's metrics.
//! - The updates an agent asks for ([`Agent::update`]'s count) run through
//!   [`Agent::learn`] before the next step. At an episode end (DCWM's
//!   5,000-update pretraining) they run in chunks of [`UPDATE_CHUNK`]
//!   updates, with a checkpoint between chunks that records how many are
//!   still owed; then [`Agent::end_episode`], then the episode's train.csv
//!   row (with the metrics after the block).
//! - A finished run keeps its agent's final weights in `final/agent/`
//!   ([`final_weights_dir`]); its checkpoint (with the replay buffer) goes.
//! - Checkpoints (`checkpoint.rs`) at episode ends (every `checkpoint_every`
//!   env steps, before that step's evaluation), after each evaluation
//!   between episodes, and before the final evaluation. On resume the CSVs
//!   are cut back to their length at the checkpoint, so a killed run never
//!   leaves duplicated or half rows, and the finished run's eval.csv equals
//!   an uninterrupted run's (except wall_time_s).

mod checkpoint;
mod evaluation;
mod files;
mod play;
mod stepper;
#[cfg(test)]
mod tests;

use std::path::Path;
use std::time::Instant;

use agents::{Agent, DeviceChoice, Mode, ReplayBuffer};
use anyhow::{Context, Result, bail};

pub use checkpoint::has_checkpoint;
use checkpoint::{EpisodeEnd, LoopState};
pub use evaluation::{
    CheckpointEvaluation, EvalEnvs, Evaluation, evaluate_checkpoint, play_evaluation,
};
use files::{CsvLog, Meta};
pub use files::{EvalRow, csv_f64, is_complete, is_complete_run, utc_now, write_atomic};
pub use play::{Played, play};
pub use stepper::{AgentEnv, Stepped};

use crate::config::RunConfig;

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

/// A reset seed for numpy's RandomState (< 2^32) derived from the run seed.
fn episode_seed(seed: u64, stream: &str) -> u64 {
    agents::rng::derive_seed(seed, stream) & 0xFFFF_FFFF
}

/// The run's environment for a stream of episodes (`train`, `eval`): the
/// task under its suite's protocol with the run's action repeat.
fn run_env(cfg: &RunConfig, stream: &str) -> Result<AgentEnv> {
    Ok(AgentEnv::new(run_env_boxed(cfg, stream)?, &cfg.agent))
}

/// [`run_env`] as the environment itself.
fn run_env_boxed(cfg: &RunConfig, stream: &str) -> Result<Box<dyn envs::Env>> {
    Ok(envs::protocol_env(
        &cfg.task,
        episode_seed(cfg.seed, stream),
        cfg.protocol()?,
    )?)
}

/// Everything one run needs while it runs.
struct Runner<'a> {
    cfg: &'a RunConfig,
    dir: &'a Path,
    agent: Box<dyn Agent>,
    env: AgentEnv,
    eval_envs: EvalEnvs,
    buffer: ReplayBuffer,
    state: LoopState,
    eval_csv: CsvLog,
    /// Trailing columns of [`EvalRow`] that the run's eval.csv predates
    /// (`action_repeat`, `final_success`): its rows keep the columns of its
    /// header.
    eval_csv_missing_columns: usize,
    train_csv: CsvLog,
    started: Instant,
    wall_offset: f64,
    steps_at_start: u64,
}

/// Runs (or resumes, or skips when complete) the run `cfg` in `dir`.
/// `progress` is called a few times per second.
pub fn execute(
    cfg: &RunConfig,
    dir: &Path,
    device: DeviceChoice,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome> {
    let cfg = &cfg.clone().resolved()?;
    let config_path = dir.join("config.yaml");
    if config_path.exists() {
        let old = files::read_run_config(dir).with_context(|| {
            format!(
                "{} holds a run whose configuration cannot be read; delete it or use another \
                 experiment name / --out directory",
                dir.display()
            )
        })?;
        if !old.same_run(cfg) {
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
    // Everything the run needs is built before its directory is written, so
    // that a configuration the agent refuses leaves nothing behind.
    let tch_device = device.resolve()?;
    agents::apply_torch_threads();
    let env = run_env(cfg, "train")?;
    let eval_envs = EvalEnvs::new(cfg, cfg.run.eval_episodes)?;
    let agent = evaluation::run_agent_instance(cfg, env.spec(), tch_device)?;

    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the results directory {}", dir.display()))?;
    let text = format!(
        "# agent defaults from {}\n{}",
        crate::config::configs_dir().display(),
        serde_yaml::to_string(cfg)?
    );
    write_atomic(&config_path, text.as_bytes())?;
    let device_name = match tch_device {
        tch::Device::Cuda(i) => format!("cuda:{i}"),
        d => format!("{d:?}").to_lowercase(),
    };
    run_agent(cfg, dir, agent, env, eval_envs, &device_name, progress)
}

/// Runs (or resumes) `agent` in `dir`, whose config `execute` has checked.
fn run_agent(
    cfg: &RunConfig,
    dir: &Path,
    mut agent: Box<dyn Agent>,
    env: AgentEnv,
    eval_envs: EvalEnvs,
    device_name: &str,
    progress: &mut dyn FnMut(&Progress),
) -> Result<Outcome> {
    let meta_path = dir.join("meta.json");
    // meta.json is written before the first evaluation row; without it (and
    // without a checkpoint) the run cannot be told finished or resumed, and
    // starting it again would overwrite its evaluations.
    if Meta::read(&meta_path).is_none()
        && !checkpoint::has_checkpoint(dir)
        && files::holds_rows(&dir.join("eval.csv"))
    {
        bail!(
            "{} holds evaluations but no readable meta.json and no checkpoint, so the run \
             can be neither resumed nor told complete; move its results away (or delete the \
             directory) to run it again",
            dir.display()
        );
    }
    // Keeps the first start time across resumes.
    let mut meta = Meta::read_or_new(&meta_path, device_name);
    let (buffer, state) = match checkpoint::resume(dir, agent.as_mut())? {
        Some((buffer, state)) => {
            meta.resumed(utc_now());
            tracing::info!(run = %dir.display(), env_step = state.env_step, "resuming from checkpoint");
            (buffer, state)
        }
        None => {
            meta.started(utc_now());
            let spec = env.spec();
            let columns = agent.metrics().into_iter().map(|(k, _)| k).collect();
            let buffer = ReplayBuffer::new(
                spec.obs_dim(),
                spec.action_dim(),
                buffer_capacity(cfg, &env),
            )?;
            (buffer, LoopState::start(cfg.seed, columns))
        }
    };
    meta.end_time = None;
    meta.complete = false;
    meta.write(&meta_path)?;

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
    let eval_path = dir.join("eval.csv");
    let eval_csv_missing_columns = if state.eval_csv_bytes > 0 {
        let text = std::fs::read_to_string(&eval_path).unwrap_or_default();
        let header = text.lines().next().unwrap_or_default();
        let ours = EvalRow::header();
        if ours.starts_with(header) {
            ours.split(',').count() - header.split(',').count()
        } else {
            0
        }
    } else {
        0
    };
    let eval_csv = CsvLog::open(eval_path, state.eval_csv_bytes, &EvalRow::header())?;
    let train_csv = CsvLog::open(dir.join("train.csv"), state.train_csv_bytes, &train_header)?;
    let mut runner = Runner {
        cfg,
        dir,
        agent,
        env,
        eval_envs,
        buffer,
        wall_offset: state.wall_time_s,
        steps_at_start: state.env_step,
        state,
        eval_csv,
        eval_csv_missing_columns,
        train_csv,
        started: Instant::now(),
    };
    runner.train(progress)?;
    save_final_weights(dir, runner.agent.as_ref())?;

    meta.end_time = Some(utc_now());
    meta.complete = true;
    meta.write(&meta_path)?;
    let _ = std::fs::remove_dir_all(dir.join("checkpoint"));
    Ok(Outcome::Finished)
}

/// Where a finished run keeps its agent's final weights (the agent's own
/// `save` format; `Agent::load` reads them back).
pub fn final_weights_dir(dir: &Path) -> std::path::PathBuf {
    dir.join("final").join("agent")
}

/// Saves the agent into `final/agent/` (through `final.tmp/` and a rename).
fn save_final_weights(dir: &Path, agent: &dyn Agent) -> Result<()> {
    let tmp = dir.join("final.tmp");
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(tmp.join("agent"))
        .with_context(|| format!("creating {}", tmp.display()))?;
    agent.save(&tmp.join("agent"))?;
    let done = dir.join("final");
    let _ = std::fs::remove_dir_all(&done);
    std::fs::rename(&tmp, &done).with_context(|| format!("writing {}", done.display()))
}

/// Replay capacity in transitions: the setting, else the whole run (its
/// agent steps and one first observation per episode).
fn buffer_capacity(cfg: &RunConfig, env: &AgentEnv) -> usize {
    let agent_steps = cfg.run.steps.div_ceil(env.action_repeat());
    let episode_len = env.spec().max_episode_steps.unwrap_or(usize::MAX) as u64;
    cfg.run
        .buffer_capacity
        .unwrap_or((agent_steps + agent_steps / episode_len.max(1) + 2) as usize)
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

    /// Progress right after an evaluation.
    fn progress_after_eval(&self) -> Progress {
        Progress {
            evaluated: true,
            ..self.progress()
        }
    }

    fn train(&mut self, progress: &mut dyn FnMut(&Progress)) -> Result<()> {
        let steps = self.cfg.run.steps;
        let repeat = self.env.action_repeat();
        let action_dim = self.env.spec().action_dim();
        let mut last_report = Instant::now();
        progress(&self.progress());
        // A run resumed inside an update block finishes it first.
        self.finish_episode(progress)?;
        if self.maybe_eval_between_episodes()? {
            progress(&self.progress_after_eval());
        }
        while self.state.env_step < steps {
            let seed = episode_seed(self.cfg.seed, &format!("train/{}", self.state.episode));
            self.env.reset_recorded(seed, &mut self.buffer)?;
            self.agent.begin_episode(Mode::Explore, 0);
            let (mut ret, mut len, mut done) = (0.0f64, 0u64, false);
            while !done && self.state.env_step < steps {
                let action = if self.state.env_step < self.cfg.run.warmup_steps.unwrap_or(0) {
                    self.state.seed_step_rng.uniform_action(action_dim)
                } else {
                    self.agent.act(self.env.obs(), Mode::Explore)?
                };
                let t = match self.env.step_recorded(&action, &mut self.buffer)? {
                    Stepped::Moved(t) => t,
                    Stepped::Diverged(e) => {
                        // dm_control ends such an episode too; go on with the next.
                        tracing::warn!(run = %self.dir.display(), env_step = self.state.env_step, "simulation diverged, episode ended: {e}");
                        done = true;
                        self.state.owed_updates +=
                            self.agent.update(&self.buffer, self.state.env_step, true)?;
                        break;
                    }
                };
                self.state.env_step += repeat;
                ret += t.reward;
                len += 1;
                done = t.done();
                let wanted = self.agent.update(&self.buffer, self.state.env_step, done)?;
                if done {
                    // Run at the episode end, in chunks between checkpoints.
                    self.state.owed_updates += wanted;
                    break;
                }
                if wanted > 0 {
                    self.agent.learn(&self.buffer, wanted)?;
                }
                if self.maybe_eval()? {
                    progress(&self.progress_after_eval());
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
                if self.maybe_eval_between_episodes()? {
                    progress(&self.progress_after_eval());
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
            progress(&self.progress_after_eval());
        } else {
            progress(&self.progress());
        }
        Ok(())
    }

    /// Runs the updates the agent asked for at the end of an episode
    /// (checkpointing between chunks), then ends the agent's episode and
    /// writes its train.csv row. Nothing to do when no episode end is
    /// pending.
    fn finish_episode(&mut self, progress: &mut dyn FnMut(&Progress)) -> Result<()> {
        let Some(end) = self.state.episode_end else {
            return Ok(());
        };
        while self.state.owed_updates > 0 {
            let chunk = self.state.owed_updates.min(UPDATE_CHUNK);
            self.agent.learn(&self.buffer, chunk)?;
            self.state.owed_updates -= chunk;
            if self.state.owed_updates > 0 {
                self.checkpoint()?;
            }
            progress(&self.progress());
        }
        self.agent.end_episode(&self.buffer)?;
        self.state.episode_end = None;
        self.train_row(&end)
    }

    fn train_row(&mut self, end: &EpisodeEnd) -> Result<()> {
        let metrics = self.agent.metrics();
        let max_return = self.state.max_return.map_or(end.ret, |m| m.max(end.ret));
        self.state.max_return = Some(max_return);
        let mut row = vec![
            end.env_step.to_string(),
            end.episode.to_string(),
            csv_f64(end.ret),
            end.len.to_string(),
            format!("{:.3}", self.wall_time()),
        ];
        for col in &self.state.train_columns {
            let v = if col == checkpoint::MAX_RETURN_COLUMN {
                max_return
            } else {
                metrics
                    .iter()
                    .find(|(k, _)| k == col)
                    .map_or(f64::NAN, |(_, v)| *v)
            };
            row.push(csv_f64(v));
        }
        self.train_csv.line(&row.join(","))
    }

    /// Evaluates when due; returns whether it did.
    fn maybe_eval(&mut self) -> Result<bool> {
        let (every, step) = (self.cfg.run.eval_every, self.state.env_step);
        let periodic = every > 0 && step >= self.state.next_eval;
        // A listed step is due once: when reached since the last evaluation.
        let listed = self
            .cfg
            .run
            .eval_at
            .iter()
            .any(|&t| t <= step && self.state.last_eval_step.is_none_or(|last| last < t));
        if !(periodic || listed) {
            return Ok(false);
        }
        self.evaluate()?;
        while every > 0 && self.state.next_eval <= step {
            self.state.next_eval += every;
        }
        Ok(true)
    }

    /// [`Self::maybe_eval`] between two training episodes, followed by a
    /// checkpoint when it evaluated, so that a run interrupted before its
    /// next checkpoint does not play the evaluation again.
    fn maybe_eval_between_episodes(&mut self) -> Result<bool> {
        let evaluated = self.maybe_eval()?;
        if evaluated && self.state.env_step < self.cfg.run.steps {
            self.checkpoint()?;
        }
        Ok(evaluated)
    }

    /// Runs the evaluation episodes and appends an eval.csv row.
    fn evaluate(&mut self) -> Result<()> {
        let n = self.cfg.run.eval_episodes.max(1);
        let played = evaluation::play_evaluation(
            self.cfg,
            self.agent.as_mut(),
            &mut self.eval_envs,
            self.state.env_step,
            n,
            &mut || {},
        )?;
        let c = self.cfg;
        let row = EvalRow {
            agent: c.agent.clone(),
            env: c.task.clone(),
            env_step: self.state.env_step,
            episode_reward: played.mean(),
            episode_success: played.success_rate(),
            seed: c.seed,
            variant: c.variant.clone().unwrap_or_default(),
            wall_time_s: self.wall_time(),
            episodes: n,
            action_repeat: self.eval_envs.action_repeat(),
            final_success: played.final_success_rate(),
        };
        let mut line = row.line()?;
        // The trailing cells are numbers (never quoted), so they split
        // cleanly.
        for _ in 0..self.eval_csv_missing_columns {
            if let Some((cells, _)) = line.rsplit_once(',') {
                line = cells.to_string();
            }
        }
        self.eval_csv.line(&line)?;
        self.state.last_eval = Some(row.episode_reward);
        self.state.last_eval_step = Some(self.state.env_step);
        tracing::debug!(run = %self.dir.display(), env_step = self.state.env_step, episode_reward = row.episode_reward, "eval");
        Ok(())
    }
}
