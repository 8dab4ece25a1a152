//! [`AgentEnv`]: an environment as an f32 agent sees it.
//!
//! Agents observe and act in f32; environments compute in f64. The stepper
//! owns the conversion buffers, checks the agent's action (size,
//! finiteness), clamps it to the benchmark's [-1, 1] box and turns a
//! diverging simulation into the end of the episode, as dm_control does.
//! Training, evaluation and `bench agent` all step through it.

use agents::ReplayBuffer;
use anyhow::{Result, bail};
use envs::{Env, EnvSpec, PhysicsError, Transition};

/// What one agent step did.
#[derive(Debug, Clone)]
pub enum Stepped {
    /// The environment moved; the observation is in [`AgentEnv::obs`].
    Moved(Transition),
    /// The simulation diverged: the episode is over, its last observation
    /// is not valid, and the next call must be a reset.
    Diverged(PhysicsError),
}

/// An environment with f32 observation and action buffers.
pub struct AgentEnv {
    env: Box<dyn Env>,
    agent: String,
    obs: Vec<f64>,
    obs32: Vec<f32>,
    action64: Vec<f64>,
}

impl AgentEnv {
    /// Wraps `env` for `agent` (the name is used in error messages).
    pub fn new(env: Box<dyn Env>, agent: &str) -> Self {
        let spec = env.spec();
        let (obs_dim, action_dim) = (spec.obs_dim(), spec.action_dim());
        AgentEnv {
            env,
            agent: agent.to_string(),
            obs: vec![0.0; obs_dim],
            obs32: vec![0.0; obs_dim],
            action64: vec![0.0; action_dim],
        }
    }

    /// The wrapped environment's spec.
    pub fn spec(&self) -> &EnvSpec {
        self.env.spec()
    }

    /// Environment steps per agent step (the spec's action repeat).
    pub fn action_repeat(&self) -> u64 {
        self.env.spec().action_repeat as u64
    }

    /// The current observation.
    pub fn obs(&self) -> &[f32] {
        &self.obs32
    }

    /// Starts an episode with `seed`.
    pub fn reset(&mut self, seed: u64) -> Result<()> {
        self.env.reset_into(Some(seed), &mut self.obs)?;
        self.convert();
        Ok(())
    }

    /// Starts an episode with `seed` and records its first observation in
    /// `buffer`.
    pub fn reset_recorded(&mut self, seed: u64, buffer: &mut ReplayBuffer) -> Result<()> {
        self.reset(seed)?;
        buffer.start_episode(&self.obs32);
        Ok(())
    }

    /// Applies the agent's `action` (checked, then clamped to [-1, 1]).
    pub fn step(&mut self, action: &[f32]) -> Result<Stepped> {
        self.check(action)?;
        for (d, &a) in self.action64.iter_mut().zip(action) {
            *d = f64::from(a).clamp(-1.0, 1.0);
        }
        match self.env.step_into(&self.action64, &mut self.obs) {
            Ok(t) => {
                self.convert();
                Ok(Stepped::Moved(t))
            }
            Err(envs::EnvError::Physics(e)) => Ok(Stepped::Diverged(e)),
            Err(e) => Err(e.into()),
        }
    }

    /// [`AgentEnv::step`], recording a completed transition in `buffer`.
    pub fn step_recorded(&mut self, action: &[f32], buffer: &mut ReplayBuffer) -> Result<Stepped> {
        let stepped = self.step(action)?;
        if let Stepped::Moved(t) = &stepped {
            self.record(action, t, buffer)?;
        }
        Ok(stepped)
    }

    /// Records the transition `t` that `action` just made in `buffer`.
    pub fn record(&self, action: &[f32], t: &Transition, buffer: &mut ReplayBuffer) -> Result<()> {
        buffer.push(
            action,
            t.reward as f32,
            t.terminated,
            t.truncated,
            &self.obs32,
        )?;
        Ok(())
    }

    /// Checks an agent's action: size, finiteness.
    fn check(&self, action: &[f32]) -> Result<()> {
        let (agent, action_dim) = (&self.agent, self.action64.len());
        if action.len() != action_dim {
            bail!(
                "agent '{agent}' returned {} action values, the task needs {action_dim}",
                action.len()
            );
        }
        if let Some(v) = action.iter().find(|v| !v.is_finite()) {
            bail!("agent '{agent}' returned a non-finite action value ({v})");
        }
        Ok(())
    }

    fn convert(&mut self) {
        for (d, &s) in self.obs32.iter_mut().zip(&self.obs) {
            *d = s as f32;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cartpole() -> AgentEnv {
        AgentEnv::new(envs::benchmark_env("cartpole-swingup", 1).unwrap(), "test")
    }

    #[test]
    fn observations_match_the_f64_environment() {
        let mut a = cartpole();
        let mut b = envs::benchmark_env("cartpole-swingup", 1).unwrap();
        a.reset(7).unwrap();
        let (obs, _) = b.reset(Some(7)).unwrap();
        assert_eq!(a.obs(), obs.iter().map(|&x| x as f32).collect::<Vec<_>>());
        // Out-of-box actions are clamped as the run loop always did.
        let Stepped::Moved(t) = a.step(&[3.0]).unwrap() else {
            panic!("diverged")
        };
        let s = b.step(&[1.0]).unwrap();
        assert_eq!(t.reward, s.reward);
        assert_eq!(a.obs(), s.obs.iter().map(|&x| x as f32).collect::<Vec<_>>());
        assert_eq!(a.action_repeat(), 2);
    }

    #[test]
    fn bad_actions_name_the_agent() {
        let mut a = cartpole();
        a.reset(0).unwrap();
        let e = a.step(&[0.0, 0.0]).unwrap_err().to_string();
        assert!(e.contains("agent 'test' returned 2 action values"), "{e}");
        let e = a.step(&[f32::NAN]).unwrap_err().to_string();
        assert!(e.contains("non-finite"), "{e}");
    }
}
