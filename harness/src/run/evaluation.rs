//! Evaluation: eval-mode episodes of an agent, as a run plays them at its
//! evaluation steps, and `ctrlbench evaluate` on a run's latest checkpoint.
//!
//! Evaluation episode `i` at env step `s` is reset with a seed derived from
//! the run seed, `s` and `i`, on an environment of its own, so evaluating
//! never changes training and a checkpoint's evaluation replays the run's.

use std::path::Path;

use agents::{Agent, DeviceChoice, Mode};
use anyhow::{Result, anyhow, bail};

use super::checkpoint::checkpoint_state;
use super::files::{is_complete, read_run_config};
use super::stepper::{AgentEnv, Stepped};
use super::{episode_seed, run_env};
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

/// Plays `episodes` episodes of `agent` in eval mode, as the run's
/// evaluation at `env_step` does: on the evaluation environment, episode `i`
/// reset with the seed derived from the run seed, `env_step` and `i`.
/// `on_step` is called after every agent step.
pub(super) fn play_evaluation(
    cfg: &RunConfig,
    agent: &mut dyn Agent,
    env: &mut AgentEnv,
    env_step: u64,
    episodes: usize,
    on_step: &mut dyn FnMut(),
) -> Result<Evaluation> {
    let mut played = Evaluation {
        returns: Vec::with_capacity(episodes),
        successes: None,
        final_successes: None,
    };
    for ep in 0..episodes {
        env.reset(episode_seed(cfg.seed, &format!("eval/{env_step}/{ep}")))?;
        agent.begin_episode(Mode::Eval);
        let (mut ret, mut success, mut last_success) = (0.0f64, None::<bool>, None::<f64>);
        loop {
            let action = agent.act(env.obs(), Mode::Eval)?;
            let t = match env.step(&action)? {
                Stepped::Moved(t) => t,
                Stepped::Diverged(e) => {
                    tracing::warn!(task = %cfg.task, env_step, "evaluation episode diverged, ended: {e}");
                    break;
                }
            };
            on_step();
            ret += t.reward;
            if let Some(s) = t.info.success {
                success = Some(success.unwrap_or(false) | s);
                last_success = t.info.value(env.spec(), "success");
            }
            if t.done() {
                break;
            }
        }
        played.returns.push(ret);
        if let Some(s) = success {
            played.successes = Some(played.successes.unwrap_or(0) + usize::from(s));
            let last = last_success.is_some_and(|v| v > 0.0);
            played.final_successes = Some(played.final_successes.unwrap_or(0) + usize::from(last));
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
pub(super) fn eval_env_and_agent(
    cfg: &RunConfig,
    device: tch::Device,
) -> Result<(AgentEnv, Box<dyn Agent>)> {
    let env = run_env(cfg, "eval")?;
    let agent = agents::make(
        &cfg.agent,
        env.spec(),
        &cfg.agent_config,
        device,
        agents::rng::derive_seed(cfg.seed, "agent"),
        cfg.run.warmup_steps.unwrap_or(0),
    )?;
    Ok((env, agent))
}

/// [`evaluate_checkpoint`] with the agent and environment built.
pub(super) fn evaluate_checkpoint_with(
    dir: &Path,
    cfg: RunConfig,
    mut agent: Box<dyn Agent>,
    mut env: AgentEnv,
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
    let evaluation = play_evaluation(&cfg, agent.as_mut(), &mut env, env_step, n, on_step)?;
    Ok(CheckpointEvaluation {
        config: cfg,
        env_step,
        pending_updates,
        evaluation,
    })
}
