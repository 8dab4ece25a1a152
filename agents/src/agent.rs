//! The [`Agent`] trait: what a learning agent implements to run in ctrlbench.
//!
//! The run loop (harness) owns the environment and the [`ReplayBuffer`]; an
//! agent only maps observations to actions and learns from the buffer on its
//! own schedule. Observations and actions are `f32`; actions lie in [-1, 1]
//! (the benchmark protocol rescales them to the task's range).
//!
//! Calls, in order, for each training episode:
//! `begin_episode(Explore, _)`, then per agent step `act(obs, Explore)` → env step →
//! the transition is pushed to the buffer → `update(buffer, env_step,
//! episode_end)`, which returns how many gradient updates the agent wants
//! now → the loop runs them with `learn(buffer, n)`. At an episode end the
//! loop may split those updates into chunks with a checkpoint between them
//! (DCWM's 5,000-update pretraining survives an interruption), then calls
//! `end_episode(buffer)` and reads `metrics()` (train.csv).
//!
//! Evaluation plays its episodes side by side, episode `i` in slot `i`:
//! `begin_episode(Eval(i), seed_i)` for each, then per agent step one
//! `act_eval(rows, slots)` for the episodes still running. An agent keeps
//! per-episode state (a planner's warm start, a script's clock) per slot,
//! apart from the training episode's ([`EvalSlots`]), and draws an evaluation
//! episode's randomness from a stream seeded with its `seed_i` (derived by
//! the loop from the run seed, the env step and `i`), never from the
//! training streams: evaluating does not change training, and playing the
//! episodes one at a time gives what the batch gives, up to floating-point
//! rounding.
//! `save`/`load` checkpoint the whole state (networks, optimisers, RNG,
//! counters) between updates, so a resumed run continues identically; the
//! loop, not the agent, keeps count of the updates still owed.

use std::path::Path;

use envs::EnvSpec;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::buffer::{BufferError, ReplayBuffer};

/// Which episode an action is for: the training episode (exploration
/// allowed) or the evaluation episode in a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The training episode: exploration noise, planning with sampling, ...
    Explore,
    /// The evaluation episode in slot `n` (episodes played side by side
    /// occupy slots `0..n`): the agent's best behaviour, without
    /// exploration.
    Eval(usize),
}

/// Per-episode state an agent keeps for evaluation episodes, one value per
/// slot, next to its training episode's own.
#[derive(Debug)]
pub struct EvalSlots<T> {
    slots: Vec<Option<T>>,
}

impl<T> Default for EvalSlots<T> {
    fn default() -> Self {
        EvalSlots { slots: Vec::new() }
    }
}

impl<T> EvalSlots<T> {
    /// Starts (or restarts) the episode in `slot` with `value`.
    pub fn begin(&mut self, slot: usize, value: T) {
        if self.slots.len() <= slot {
            self.slots.resize_with(slot + 1, || None);
        }
        self.slots[slot] = Some(value);
    }

    /// The state of the episode in `slot`; an error when it was not begun.
    pub fn get_mut(&mut self, agent: &str, slot: usize) -> Result<&mut T, AgentError> {
        self.slots
            .get_mut(slot)
            .and_then(Option::as_mut)
            .ok_or_else(|| {
                AgentError::Other(format!(
                    "{agent}: evaluation slot {slot} acted before begin_episode(Eval({slot}), seed)"
                ))
            })
    }

    /// Forgets every slot (after loading a checkpoint).
    pub fn clear(&mut self) {
        self.slots.clear();
    }
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
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// The cause (in the message, not a separate source, so that it
        /// is printed once).
        cause: std::io::Error,
    },
    /// A libtorch error: its message without libtorch's C++ stack frames.
    #[error("libtorch: {0}")]
    Torch(String),
    /// Anything else.
    #[error("{0}")]
    Other(String),
}

/// A learning (or scripted) agent. See the module docs for the call order.
pub trait Agent: Send {
    /// Called before each episode (training or evaluation); planners reset
    /// their warm start here. `seed` seeds an evaluation episode's own
    /// randomness (see the module docs); training episodes draw from the
    /// agent's own streams, which its checkpoints carry, and ignore it.
    fn begin_episode(&mut self, _mode: Mode, _seed: u64) {}

    /// The action for `obs` (length `spec.obs_dim()`), `spec.action_dim()`
    /// values in [-1, 1].
    fn act(&mut self, obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError>;

    /// Evaluation actions for several episodes at once: row `i` of `obs`
    /// (`slots.len() × obs_dim`, row-major) is the observation of the
    /// episode in slot `slots[i]`; returns the actions as
    /// `slots.len() × action_dim` values in the same order. The default acts
    /// row by row with `act(row, Eval(slot))`; agents whose networks take a
    /// batch answer all rows in one pass.
    fn act_eval(&mut self, obs: &[f32], slots: &[usize]) -> Result<Vec<f32>, AgentError> {
        if slots.is_empty() {
            return check_rows(obs, 0, 0).map(|()| Vec::new());
        }
        let d = obs.len() / slots.len();
        check_rows(obs, slots.len(), d)?;
        let mut actions = Vec::new();
        for (row, &slot) in obs.chunks(d).zip(slots) {
            actions.extend(self.act(row, Mode::Eval(slot))?);
        }
        Ok(actions)
    }

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

impl From<tch::TchError> for AgentError {
    /// Keeps libtorch's message and drops tch's `Internal torch error: `
    /// prefix and the C++ stack trace libtorch appends (`Exception raised
    /// from …` and the `frame #N` lines).
    fn from(e: tch::TchError) -> Self {
        let text = e.to_string();
        let text = text.strip_prefix("Internal torch error: ").unwrap_or(&text);
        let message = text
            .split("\nException raised from")
            .next()
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim_start().starts_with("frame #"))
            .collect::<Vec<_>>()
            .join("\n");
        AgentError::Torch(message.trim_end().to_owned())
    }
}

/// Checks that `obs` holds `rows` observations of `obs_dim` values
/// ([`Agent::act_eval`]'s input).
pub fn check_rows(obs: &[f32], rows: usize, obs_dim: usize) -> Result<(), AgentError> {
    if obs.len() != rows * obs_dim {
        return Err(AgentError::Other(format!(
            "{} observation values given for {rows} episodes of {obs_dim} values",
            obs.len()
        )));
    }
    Ok(())
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
    std::fs::write(&path, text).map_err(|cause| AgentError::Io {
        path: path.display().to_string(),
        cause,
    })
}

/// Reads `dir/name` written by [`save_json`].
pub fn load_json<T: DeserializeOwned>(dir: &Path, name: &str) -> Result<T, AgentError> {
    let path = dir.join(name);
    let text = std::fs::read(&path).map_err(|cause| AgentError::Io {
        path: path.display().to_string(),
        cause,
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

#[cfg(test)]
mod tests {
    use super::AgentError;

    #[test]
    fn a_libtorch_error_keeps_its_message_without_the_stack() {
        // What a shape mismatch in `VarStore::load` reads like.
        let raw = "head.weight: The size of tensor a (12) must match the size of tensor b (6)\n\
                   Exception raised from infer_size_impl at aten/src/ATen/ExpandUtils.cpp:31 \
                   (most recent call first):\n\
                   frame #0: c10::Error::Error(...) + 0xb0 (0x7f in libc10.so)\n\
                   frame #1: at::infer_size(...) + 0x4 (0x7f in libtorch_cpu.so)\n";
        let e = AgentError::from(tch::TchError::Torch(raw.into())).to_string();
        assert_eq!(
            e,
            "libtorch: head.weight: The size of tensor a (12) must match the size of tensor b (6)"
        );
        // A real one, from libtorch itself.
        let real = tch::Tensor::zeros([2], tch::kind::FLOAT_CPU)
            .f_view([3])
            .unwrap_err();
        let e = AgentError::from(real).to_string();
        assert!(
            e.contains("shape '[3]' is invalid") && !e.contains("frame #"),
            "{e}"
        );
    }
}
