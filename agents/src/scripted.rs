//! `scripted`: a trivial deterministic controller for tests and sanity checks.
//!
//! Action `j` at agent step `t` of an episode is an open-loop sinusoid with a
//! phase shift per actuator plus velocity damping from the observation (when
//! the task's observation layout has a `velocity` group):
//!
//! ```text
//! a_j(t) = clip(amplitude · sin(2π t / period + 2π j / action_dim) − damping · v_(j mod |v|), −1, 1)
//! ```
//!
//! It uses no randomness and does not learn: the same task seed gives the same
//! returns, in explore and eval mode alike.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::agent::{
    Agent, AgentError, AgentInit, EvalSlots, Mode, load_json, parse_config, save_json,
};
use crate::buffer::ReplayBuffer;
use crate::registry::NamedAgent;

/// Configuration of the scripted agent (`configs/agents/scripted.yaml`).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ScriptedConfig {
    /// Sinusoid amplitude (actions are clipped to [-1, 1]).
    pub amplitude: f64,
    /// Sinusoid period in agent steps.
    pub period: f64,
    /// Gain on the observed velocity (0 disables the feedback term).
    pub damping: f64,
}

/// The sinusoid-plus-damping controller.
pub struct ScriptedAgent {
    cfg: ScriptedConfig,
    action_dim: usize,
    /// Flat indices of the `velocity` observation group (empty if none).
    velocity: Vec<usize>,
    /// Agent steps into the training episode.
    t: u64,
    /// Agent steps into each evaluation episode.
    eval_t: EvalSlots<u64>,
}

impl NamedAgent for ScriptedAgent {
    type Config = ScriptedConfig;

    /// A scripted controller for `init.spec`.
    fn new(init: &AgentInit) -> Result<Self, AgentError> {
        let cfg: ScriptedConfig = parse_config("scripted", init.config)?;
        if cfg.period.is_nan() || cfg.period <= 0.0 {
            return Err(AgentError::Config {
                agent: "scripted".into(),
                message: format!("period must be > 0, got {}", cfg.period),
            });
        }
        let velocity = init.spec.layout.indices(&["velocity"]).unwrap_or_default();
        Ok(ScriptedAgent {
            cfg,
            action_dim: init.spec.action_dim(),
            velocity,
            t: 0,
            eval_t: EvalSlots::default(),
        })
    }
}

impl Agent for ScriptedAgent {
    fn begin_episode(&mut self, mode: Mode, _seed: u64) {
        match mode {
            Mode::Explore => self.t = 0,
            Mode::Eval(slot) => self.eval_t.begin(slot, 0),
        }
    }

    fn act(&mut self, obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
        let t = match mode {
            Mode::Explore => &mut self.t,
            Mode::Eval(slot) => self.eval_t.get_mut("scripted", slot)?,
        };
        let phase = std::f64::consts::TAU * *t as f64 / self.cfg.period;
        *t += 1;
        let n = self.action_dim as f64;
        let action = (0..self.action_dim)
            .map(|j| {
                let mut a =
                    self.cfg.amplitude * (phase + std::f64::consts::TAU * j as f64 / n).sin();
                if !self.velocity.is_empty() {
                    let v = obs[self.velocity[j % self.velocity.len()]];
                    a -= self.cfg.damping * f64::from(v);
                }
                a.clamp(-1.0, 1.0) as f32
            })
            .collect();
        Ok(action)
    }

    fn update(&mut self, _: &ReplayBuffer, _: u64, _: bool) -> Result<u64, AgentError> {
        Ok(0)
    }

    fn save(&self, dir: &Path) -> Result<(), AgentError> {
        save_json(dir, "scripted.json", &self.t)
    }

    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        self.t = load_json(dir, "scripted.json")?;
        Ok(())
    }
}
