//! Evaluation: eval-mode episodes of an agent, as a run plays them at its
//! evaluation steps, and `ctrlbench evaluate` on a run's latest checkpoint.
//!
//! Contract:
//! - The episodes of one evaluation are played side by side on a batch of
//!   environments ([`EvalEnvs`], a [`VecEnv`] without autoreset, stepped on
//!   the calling thread): episode `i` in slot `i`, one
//!   [`Agent::act_eval`] per agent step for the episodes still running. A
//!   batch smaller than the episode count plays them in rounds (`bench
//!   agent`'s one-at-a-time comparison).
//! - Episode `i` of the evaluation at env step `s` is reset with a seed
//!   derived from the run seed, `s` and `i`, and the agent begins it with
//!   another seed derived from the same three, for its own randomness: the
//!   episodes do not depend on the batch size (up to floating-point
//!   rounding in batched network passes), evaluating never changes
//!   training, and a checkpoint's evaluation replays the run's.
//! - A diverging episode ends there (with the return so far, and a
//!   warning); the others play on.

use std::path::Path;

use agents::{Agent, DeviceChoice, Mode};
use anyhow::{Result, anyhow, bail};
use envs::{AutoReset, EnvSpec, VecEnv};

use super::checkpoint::checkpoint_state;
use super::files::{is_complete, read_run_config};
use super::{episode_seed, run_env_boxed};
use crate::config::RunConfig;

/// The outcome of evaluation episodes.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    /// Return of each episode, in order.
    pub returns: Vec<f64>,
    /// Episodes that succeeded at any step, for tasks that define success
    /// (Meta-World; DCWM's metric).
    pub successes: Option<usize>,
    /// Episodes whose final step succeeded (TD-MPC2's metric).
    pub final_successes: Option<usize>,
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

    /// Final-step success rate (eval.csv's `final_success`).
    pub fn final_success_rate(&self) -> Option<f64> {
        self.final_successes
            .map(|s| s as f64 / self.returns.len().max(1) as f64)
    }
}

/// A run's evaluation environments: `n` copies of its task under its
/// protocol, played side by side without autoreset.
pub struct EvalEnvs {
    venv: VecEnv,
    agent: String,
    obs32: Vec<f32>,
    actions: Vec<f64>,
}

impl EvalEnvs {
    /// `n` (at least 1) evaluation environments for the run `cfg`.
    pub fn new(cfg: &RunConfig, n: usize) -> Result<Self> {
        let envs = (0..n.max(1))
            .map(|_| run_env_boxed(cfg, "eval"))
            .collect::<Result<Vec<_>>>()?;
        let mut venv = VecEnv::new(envs, 1)?;
        venv.set_autoreset(AutoReset::Off);
        Ok(EvalEnvs {
            venv,
            agent: cfg.agent.clone(),
            obs32: Vec::new(),
            actions: Vec::new(),
        })
    }

    /// The environments' spec.
    pub fn spec(&self) -> &EnvSpec {
        self.venv.spec()
    }

    /// Environments in the batch.
    pub fn len(&self) -> usize {
        self.venv.len()
    }

    /// Whether the batch is empty (never).
    pub fn is_empty(&self) -> bool {
        self.venv.is_empty()
    }

    /// Environment steps per agent step.
    pub fn action_repeat(&self) -> u64 {
        self.venv.spec().action_repeat as u64
    }

    /// Steps the environments in `running` with the agent's actions for
    /// them (checked, clamped to [-1, 1]); the others stay as they are.
    fn step(&mut self, agent: &mut dyn Agent, running: &[usize]) -> Result<()> {
        let (d, a) = (self.spec().obs_dim(), self.spec().action_dim());
        let obs = self.venv.obs();
        self.obs32.clear();
        for &i in running {
            self.obs32
                .extend(obs[i * d..(i + 1) * d].iter().map(|&x| x as f32));
        }
        let acted = agent.act_eval(&self.obs32, running)?;
        let name = &self.agent;
        if acted.len() != running.len() * a {
            bail!(
                "agent '{name}' returned {} action values for {} evaluation episodes, the task needs {a} each",
                acted.len(),
                running.len()
            );
        }
        self.actions.clear();
        self.actions.resize(self.len() * a, 0.0);
        for (row, &i) in acted.chunks(a).zip(running) {
            if let Some(v) = row.iter().find(|v| !v.is_finite()) {
                bail!(
                    "agent '{name}' returned a non-finite action value ({v}) in evaluation episode {i}"
                );
            }
            for (dst, &v) in self.actions[i * a..(i + 1) * a].iter_mut().zip(row) {
                *dst = f64::from(v).clamp(-1.0, 1.0);
            }
        }
        self.venv.step(&self.actions)?;
        Ok(())
    }
}

/// Plays `episodes` episodes of `agent` in eval mode, as the run's
/// evaluation at `env_step` does (see the module docs), as many side by
/// side as `envs` holds. `on_step` is called after every agent step of
/// every episode.
pub fn play_evaluation(
    cfg: &RunConfig,
    agent: &mut dyn Agent,
    envs: &mut EvalEnvs,
    env_step: u64,
    episodes: usize,
    on_step: &mut dyn FnMut(),
) -> Result<Evaluation> {
    let mut played = Evaluation {
        returns: Vec::with_capacity(episodes),
        successes: None,
        final_successes: None,
    };
    let batch = envs.len();
    for first in (0..episodes).step_by(batch) {
        let count = batch.min(episodes - first);
        // Environments past `count` (a last, short round) replay the round's
        // first seed and are never stepped for the agent.
        let seeds: Vec<u64> = (0..batch)
            .map(|k| {
                let ep = first + if k < count { k } else { 0 };
                episode_seed(cfg.seed, &format!("eval/{env_step}/{ep}"))
            })
            .collect();
        envs.venv.reset_each(&seeds)?;
        for k in 0..count {
            let ep = first + k;
            let seed = agents::rng::derive_seed(cfg.seed, &format!("eval-agent/{env_step}/{ep}"));
            agent.begin_episode(Mode::Eval(k), seed);
        }
        let mut returns = vec![0.0f64; count];
        let mut success = vec![None::<bool>; count];
        let mut last_success = vec![None::<f64>; count];
        let mut running: Vec<usize> = (0..count).collect();
        while !running.is_empty() {
            envs.step(agent, &running)?;
            let spec = envs.venv.spec();
            for &k in &running {
                let t = &envs.venv.transitions()[k];
                on_step();
                returns[k] += t.reward;
                if let Some(e) = &envs.venv.physics_errors()[k] {
                    tracing::warn!(task = %cfg.task, env_step, episode = first + k, "evaluation episode diverged, ended: {e}");
                } else if let Some(s) = t.info.success {
                    success[k] = Some(success[k].unwrap_or(false) | s);
                    last_success[k] = t.info.value(spec, "success");
                }
            }
            let finished = envs.venv.finished();
            running.retain(|&k| !finished[k]);
        }
        for k in 0..count {
            played.returns.push(returns[k]);
            if let Some(s) = success[k] {
                played.successes = Some(played.successes.unwrap_or(0) + usize::from(s));
                let last = last_success[k].is_some_and(|v| v > 0.0);
                played.final_successes =
                    Some(played.final_successes.unwrap_or(0) + usize::from(last));
            }
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
    let envs = EvalEnvs::new(&cfg, episodes.unwrap_or(cfg.run.eval_episodes))?;
    let agent = run_agent_instance(&cfg, envs.spec(), tch_device)?;
    evaluate_checkpoint_with(dir, cfg, agent, envs, episodes, on_step)
}

/// The run's agent as the run starts it.
pub(super) fn run_agent_instance(
    cfg: &RunConfig,
    spec: &EnvSpec,
    device: tch::Device,
) -> Result<Box<dyn Agent>> {
    Ok(agents::make(
        &cfg.agent,
        spec,
        &cfg.agent_config,
        device,
        agents::rng::derive_seed(cfg.seed, "agent"),
        cfg.run.warmup_steps.unwrap_or(0),
    )?)
}

/// [`evaluate_checkpoint`] with the agent and environments built.
pub(super) fn evaluate_checkpoint_with(
    dir: &Path,
    cfg: RunConfig,
    mut agent: Box<dyn Agent>,
    mut envs: EvalEnvs,
    episodes: Option<usize>,
    on_step: &mut dyn FnMut(),
) -> Result<CheckpointEvaluation> {
    // A running run replaces its checkpoint now and then (checkpoint.tmp/ is
    // renamed over checkpoint/); a load that saw the swap is retried.
    const ATTEMPTS: usize = 5;
    let mut attempt = 0;
    let step = |dir: &Path| -> Result<Option<(u64, u64)>> {
        Ok(checkpoint_state(dir)?.map(|s| (s.env_step, s.owed_updates)))
    };
    let (env_step, pending_updates) = loop {
        attempt += 1;
        let before = step(dir)?;
        let loaded = match before {
            Some(_) => agent
                .load(&dir.join("checkpoint").join("agent"))
                .map_err(anyhow::Error::from),
            None => Err(anyhow!("no checkpoint")),
        };
        let after = step(dir)?;
        match (before, after, loaded) {
            (Some(a), Some(b), Ok(())) if a == b => break a,
            (Some(a), Some(b), Err(e)) if a == b => {
                return Err(e.context(format!("loading the checkpoint of {}", dir.display())));
            }
            (None, None, _) if !dir.join("checkpoint.old").is_dir() => {
                if is_complete(dir) {
                    bail!(
                        "the run in {} is complete, and a complete run keeps no \
                         checkpoint; its evaluations are in eval.csv and its final \
                         weights in final/agent/",
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
    let n = episodes.unwrap_or(cfg.run.eval_episodes).max(1);
    let evaluation = play_evaluation(&cfg, agent.as_mut(), &mut envs, env_step, n, on_step)?;
    Ok(CheckpointEvaluation {
        config: cfg,
        env_step,
        pending_updates,
        evaluation,
    })
}
