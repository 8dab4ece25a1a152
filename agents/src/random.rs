//! `random`: uniform actions in [-1, 1] from a seeded generator.
//!
//! The baseline every benchmark needs, and the harness's test agent: with
//! `batch_size > 0` it also draws a replay batch after each training episode
//! (through the same `update` hook and buffer sampling the learning agents
//! use) and logs the batch's mean reward, so checkpoints and resume are
//! exercised end to end.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::agent::{
    Agent, AgentError, AgentInit, EvalSlots, Mode, load_json, parse_config, save_json,
};
use crate::buffer::ReplayBuffer;
use crate::registry::NamedAgent;
use crate::rng::Rng;

/// Configuration of the random agent (`configs/agents/random.yaml`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RandomConfig {
    /// Transitions sampled from the buffer after each training episode (0: none).
    pub batch_size: usize,
}

/// Uniform random actions.
pub struct RandomAgent {
    cfg: RandomConfig,
    action_dim: usize,
    state: RandomAgentState,
    /// Each evaluation episode's generator, seeded by `begin_episode`.
    eval: EvalSlots<Rng>,
}

/// Everything that changes while the agent runs (its checkpoint).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct RandomAgentState {
    rng: Rng,
    sample_rng: Rng,
    episodes: u64,
    sampled_reward_mean: Option<f64>,
    replay_size: usize,
}

impl NamedAgent for RandomAgent {
    type Config = RandomConfig;

    /// A random agent for `init.spec` seeded with `init.seed`.
    fn new(init: &AgentInit) -> Result<Self, AgentError> {
        let cfg: RandomConfig = parse_config("random", init.config)?;
        Ok(RandomAgent {
            cfg,
            action_dim: init.spec.action_dim(),
            state: RandomAgentState {
                rng: Rng::new(crate::rng::derive_seed(init.seed, "random/act")),
                sample_rng: Rng::new(crate::rng::derive_seed(init.seed, "random/sample")),
                episodes: 0,
                sampled_reward_mean: None,
                replay_size: 0,
            },
            eval: EvalSlots::default(),
        })
    }
}

impl Agent for RandomAgent {
    fn begin_episode(&mut self, mode: Mode, seed: u64) {
        if let Mode::Eval(slot) = mode {
            self.eval.begin(slot, Rng::new(seed));
        }
    }

    fn act(&mut self, _obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
        let rng = match mode {
            Mode::Explore => &mut self.state.rng,
            Mode::Eval(slot) => self.eval.get_mut("random", slot)?,
        };
        Ok(rng.uniform_action(self.action_dim))
    }

    fn update(
        &mut self,
        buffer: &ReplayBuffer,
        _env_step: u64,
        episode_end: bool,
    ) -> Result<u64, AgentError> {
        if !episode_end {
            return Ok(0);
        }
        self.state.episodes += 1;
        self.state.replay_size = buffer.len();
        if self.cfg.batch_size > 0 {
            let batch = buffer.sample(self.cfg.batch_size, &mut self.state.sample_rng)?;
            let sum: f64 = batch.reward.iter().map(|&r| f64::from(r)).sum();
            self.state.sampled_reward_mean = Some(sum / batch.reward.len() as f64);
        }
        Ok(0)
    }

    fn metrics(&self) -> Vec<(String, f64)> {
        vec![
            ("replay_size".into(), self.state.replay_size as f64),
            (
                "sampled_reward_mean".into(),
                self.state.sampled_reward_mean.unwrap_or(f64::NAN),
            ),
        ]
    }

    fn save(&self, dir: &Path) -> Result<(), AgentError> {
        save_json(dir, "random.json", &self.state)
    }

    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        self.state = load_json(dir, "random.json")?;
        Ok(())
    }
}
