//! `ctrlbench` with one more agent, `pd`: a proportional-derivative
//! controller on the observation, learning nothing. Every command of the
//! `ctrlbench` binary works (`train`, `sweep`, `report`, ...), against the
//! same task suites:
//!
//! ```sh
//! ctrlbench-custom-agent agents
//! ctrlbench-custom-agent train --agent pd --task cartpole-balance --steps 4000
//! ```

use std::path::Path;

use ctrlbench::agents::{Agent, AgentEntry, AgentError, AgentInit, Mode, NamedAgent};
use ctrlbench::agents::{ReplayBuffer, parse_config};
use serde::Deserialize;

/// The agent's settings; `pd.yaml` holds the defaults.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PdConfig {
    /// Gain on the first `action_dim` observations.
    kp: f32,
    /// Gain on the next `action_dim` observations.
    kd: f32,
}

/// `a_i = clip(-kp · o_i - kd · o_{n+i})` for each action dimension `i`.
struct Pd {
    cfg: PdConfig,
    action_dim: usize,
}

impl NamedAgent for Pd {
    type Config = PdConfig;

    fn new(init: &AgentInit) -> Result<Self, AgentError> {
        Ok(Pd {
            cfg: parse_config("pd", init.config)?,
            action_dim: init.spec.action_dim(),
        })
    }
}

impl Agent for Pd {
    fn act(&mut self, obs: &[f32], _mode: Mode) -> Result<Vec<f32>, AgentError> {
        let at = |i: usize| obs.get(i).copied().unwrap_or(0.0);
        let n = self.action_dim;
        Ok((0..n)
            .map(|i| (-self.cfg.kp * at(i) - self.cfg.kd * at(n + i)).clamp(-1.0, 1.0))
            .collect())
    }

    fn update(&mut self, _: &ReplayBuffer, _: u64, _: bool) -> Result<u64, AgentError> {
        Ok(0) // learns nothing
    }

    fn save(&self, _dir: &Path) -> Result<(), AgentError> {
        Ok(()) // no state
    }

    fn load(&mut self, _dir: &Path) -> Result<(), AgentError> {
        Ok(())
    }
}

fn main() -> std::process::ExitCode {
    let pd = AgentEntry::of::<Pd>("pd", "proportional-derivative controller (example)")
        .with_defaults(include_str!("../pd.yaml"));
    ctrlbench::main_with(&[pd])
}
