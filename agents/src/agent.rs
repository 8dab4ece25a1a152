//! The [`Agent`] trait: what a learning agent implements to run in ctrlbench.
//!
//! The run loop (harness) owns the environment and the [`ReplayBuffer`]; an
//! agent only maps observations to actions and learns from the buffer on its
//! own schedule. Observations and actions are `f32`; actions lie in [-1, 1]
//! (the benchmark protocol rescales them to the task's range).
//!
//! Calls, in order, for each training episode:
//! `begin_episode(Explore)`, then per agent step `act(obs, Explore)` → env step →
//! the transition is pushed to the buffer → `update(buffer, env_step,
//! episode_end)`, which returns how many gradient updates the agent wants
//! now → the loop runs them with `learn(buffer, n)`. At an episode end the
//! loop may split those updates into chunks with a checkpoint between them
//! (DCWM's 5,000-update pretraining survives an interruption), then calls
//! `end_episode(buffer)` and reads `metrics()` (train.csv). Evaluation
//! episodes call `begin_episode(Eval)` and `act(obs, Eval)` only.
//! `save`/`load` checkpoint the whole state (networks, optimisers, RNG,
//! counters) between updates, so a resumed run continues identically; the
//! loop, not the agent, keeps count of the updates still owed.

use std::path::Path;

use envs::EnvSpec;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::buffer::{BufferError, ReplayBuffer};

/// Whether an action is for training (exploration allowed) or evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Training episodes: exploration noise, planning with sampling, ...
    Explore,
    /// Evaluation episodes: the agent's best deterministic behaviour.
    Eval,
}

/// What an agent is constructed from.
#[derive(Debug, Clone, Copy)]
pub struct AgentInit<'a> {
    /// The (protocol) environment's spec: sizes, observation layout, episode length.
    pub spec: &'a EnvSpec,
    /// The agent's resolved configuration (defaults file + overrides).
    pub config: &'a serde_yaml::Value,
    /// libtorch device for networks.
    pub device: tch::Device,
    /// The run's agent seed (initialisation, exploration, replay sampling).
    pub seed: u64,
    /// The run's warm-up: the env steps of uniform random actions the loop
    /// plays before it asks the agent to act. The agent learns nothing
    /// before it.
    pub warmup_steps: u64,
}

/// Errors of agents and their registry.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// No agent of that name is registered.
    #[error("unknown agent '{name}'{hint}; known agents: {known}")]
    Unknown {
        /// The requested name.
        name: String,
        /// ` (did you mean 'x'?)` or empty.
        hint: String,
        /// Comma-separated registered names.
        known: String,
    },
    /// The configuration does not fit the agent.
    #[error("{agent} config: {message}")]
    Config {
        /// Agent name.
        agent: String,
        /// What is wrong.
        message: String,
    },
    /// A replay-buffer error.
    #[error(transparent)]
    Buffer(#[from] BufferError),
    /// Reading or writing agent state.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A libtorch error.
    #[error(transparent)]
    Torch(#[from] tch::TchError),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// A learning (or scripted) agent. See the module docs for the call order.
pub trait Agent: Send {
    /// Called before each episode (training or evaluation); planners reset
    /// their warm start here.
    fn begin_episode(&mut self, _mode: Mode) {}

    /// The action for `obs` (length `spec.obs_dim()`), `spec.action_dim()`
    /// values in [-1, 1].
    fn act(&mut self, obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError>;

    /// Called after every training env step once the transition is in
    /// `buffer`. `env_step` counts environment steps including action repeat;
    /// `episode_end` is true after an episode's last step. Returns how many
    /// gradient updates the agent wants now (0 while it only collects data):
    /// every step (SAC), after each episode (DCWM), every epoch, ... The loop
    /// runs them through [`Agent::learn`] before the next step.
    fn update(
        &mut self,
        buffer: &ReplayBuffer,
        env_step: u64,
        episode_end: bool,
    ) -> Result<u64, AgentError>;

    /// Runs `n` gradient updates of everything the agent learns, each on a
    /// batch drawn from `buffer`. A block that [`Agent::update`] asked for
    /// may arrive in several calls, with a checkpoint between them.
    /// Benchmarks call it outside the schedule; afterwards the agent acts
    /// with what it learned (no more warm-up random actions). Agents that do
    /// not learn keep the default, which does nothing.
    fn learn(&mut self, _buffer: &ReplayBuffer, _n: u64) -> Result<(), AgentError> {
        Ok(())
    }

    /// Called at the end of a training episode once the updates asked for
    /// at its last step have run, before [`Agent::metrics`] is read (DCWM
    /// measures its codebook usage here).
    fn end_episode(&mut self, _buffer: &ReplayBuffer) -> Result<(), AgentError> {
        Ok(())
    }

    /// Gradient updates per agent step at the configured update-to-data
    /// ratio, averaged over training (benchmark projections).
    fn updates_per_agent_step(&self) -> f64 {
        0.0
    }

    /// Matrix-multiply FLOPs of one training-mode `act`, where the agent
    /// can count them (`bench agent` compares the act time with the
    /// machine's matrix-multiply rate: the FLOP floor).
    fn act_flops(&self) -> Option<f64> {
        None
    }

    /// Training metrics for train.csv (e.g. losses). Return the same names
    /// every time; use `f64::NAN` for "not yet available" (written empty).
    fn metrics(&self) -> Vec<(String, f64)> {
        Vec::new()
    }

    /// Writes the agent's whole state (parameters, optimisers, RNG, counters)
    /// into the existing directory `dir`.
    fn save(&self, dir: &Path) -> Result<(), AgentError>;

    /// Restores the state written by [`Agent::save`].
    fn load(&mut self, dir: &Path) -> Result<(), AgentError>;
}

/// Deserialises an agent's typed config (use `#[serde(deny_unknown_fields)]`
/// on it), naming the agent in the error.
pub fn parse_config<T: DeserializeOwned>(
    agent: &str,
    config: &serde_yaml::Value,
) -> Result<T, AgentError> {
    serde_yaml::from_value(config.clone()).map_err(|e| AgentError::Config {
        agent: agent.to_string(),
        message: e.to_string(),
    })
}

/// Writes `value` as `dir/name` (JSON), for small agent state.
pub fn save_json<T: Serialize>(dir: &Path, name: &str, value: &T) -> Result<(), AgentError> {
    let path = dir.join(name);
    let text = serde_json::to_vec_pretty(value).map_err(|e| AgentError::Other(e.to_string()))?;
    std::fs::write(&path, text).map_err(|source| AgentError::Io {
        path: path.display().to_string(),
        source,
    })
}

/// Reads `dir/name` written by [`save_json`].
pub fn load_json<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<T, AgentError> {
    let path = dir.join(name);
    let text = std::fs::read(&path).map_err(|source| AgentError::Io {
        path: path.display().to_string(),
        source,
    })?;
    serde_json::from_slice(&text).map_err(|e| AgentError::Other(format!("{}: {e}", path.display())))
}

/// Serde for `f64` metrics that may be NaN ("not yet available"): JSON has
/// no NaN, so it is written as `null` and read back as NaN. Use with
/// `#[serde(with = "crate::agent::nan_as_null")]`.
pub mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// Writes NaN as `null`.
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.is_nan() {
            s.serialize_none()
        } else {
            s.serialize_f64(*v)
        }
    }

    /// Reads `null` as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}
