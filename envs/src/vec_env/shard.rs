//! One contiguous slice of a [`super::VecEnv`]'s environments and the
//! per-environment rules of a step: autoreset, evaluation mode, divergence.

use std::ops::Range;

use crate::env::{Env, Info, Transition};
use crate::error::{EnvError, PhysicsError};

use super::AutoReset;

/// What a shard does when it is run.
#[derive(Debug, Clone, Copy)]
pub(super) enum Command {
    /// Step every environment with its action, handling episode ends by the
    /// given mode.
    Step(AutoReset),
    /// Reset every environment; `Some(seed)` seeds environment `i` (global
    /// index) with `seed + i`.
    Reset(Option<u64>),
    /// Reset every environment with its own seed from the shard's `seeds`.
    ResetEach,
}

/// Why a shard's command did not complete.
#[derive(Debug)]
pub(super) enum Failure {
    /// An environment returned an error other than a divergence.
    Env(EnvError),
    /// An environment panicked; the message names its global index.
    Panic(String),
}

impl Failure {
    /// Whether the failure is a panic.
    pub(super) fn is_panic(&self) -> bool {
        matches!(self, Failure::Panic(_))
    }

    /// The error `step` or `reset` returns for it.
    pub(super) fn into_error(self) -> EnvError {
        match self {
            Failure::Env(e) => e,
            Failure::Panic(message) => EnvError::Panicked(message),
        }
    }
}

/// Environments `offset..offset + len` of a batch with their inputs and the
/// results of the latest command, in the batch's row-major layout.
pub(super) struct Shard {
    offset: usize,
    obs_dim: usize,
    action_dim: usize,
    envs: Vec<Box<dyn Env>>,
    /// Actions of the next step, `len × action_dim`.
    pub(super) actions: Vec<f64>,
    /// Seeds of the next [`Command::ResetEach`], one per environment.
    seeds: Vec<u64>,
    /// Current observations, `len × obs_dim`.
    pub(super) obs: Vec<f64>,
    /// Last observations of episodes that ended, `len × obs_dim`.
    pub(super) final_obs: Vec<f64>,
    /// Transitions of the latest step.
    pub(super) transitions: Vec<Transition>,
    /// Environments whose episode ended without autoreset.
    pub(super) finished: Vec<bool>,
    /// The divergence that ended each environment's episode, as reported by
    /// the latest step.
    pub(super) physics_errors: Vec<Option<PhysicsError>>,
    /// The command the next run executes.
    pub(super) command: Command,
    /// Why the latest run did not complete, if it did not.
    pub(super) failure: Option<Failure>,
    /// Local index of the environment being worked on (names a panic).
    current: usize,
}

impl Shard {
    /// A shard of `envs`, the first of which has global index `offset`.
    pub(super) fn new(
        offset: usize,
        envs: Vec<Box<dyn Env>>,
        obs_dim: usize,
        action_dim: usize,
    ) -> Self {
        let n = envs.len();
        Shard {
            offset,
            obs_dim,
            action_dim,
            envs,
            actions: vec![0.0; n * action_dim],
            seeds: vec![0; n],
            obs: vec![0.0; n * obs_dim],
            final_obs: vec![0.0; n * obs_dim],
            transitions: vec![idle_transition(); n],
            finished: vec![false; n],
            physics_errors: vec![None; n],
            command: Command::Reset(None),
            failure: None,
            current: 0,
        }
    }

    /// Global indices of the shard's environments.
    pub(super) fn range(&self) -> Range<usize> {
        self.offset..self.offset + self.envs.len()
    }

    /// Copies the action of each of the shard's environments from
    /// `action_of(global index)`, which must have `action_dim` values.
    pub(super) fn load_actions<'a>(&mut self, action_of: &impl Fn(usize) -> &'a [f64]) {
        let a = self.action_dim;
        for (k, i) in self.range().enumerate() {
            self.actions[k * a..(k + 1) * a].copy_from_slice(action_of(i));
        }
    }

    /// Copies the seed of each of the shard's environments from `seeds`
    /// (indexed globally).
    pub(super) fn load_seeds(&mut self, seeds: &[u64]) {
        let range = self.range();
        self.seeds.copy_from_slice(&seeds[range]);
    }

    /// The message of a panic that interrupted the latest command, naming
    /// the environment that panicked.
    pub(super) fn panic_context(&self, message: &str) -> String {
        format!("environment {}: {message}", self.offset + self.current)
    }

    /// Executes the current command over the shard's environments in order,
    /// stopping at the first error.
    pub(super) fn execute(&mut self) -> Result<(), EnvError> {
        let command = self.command;
        for i in 0..self.envs.len() {
            self.current = i;
            match command {
                Command::Step(mode) => self.step_env(i, mode)?,
                Command::Reset(seed) => {
                    let global = (self.offset + i) as u64;
                    self.reset_env(i, seed.map(|s| s.wrapping_add(global)))?
                }
                Command::ResetEach => self.reset_env(i, Some(self.seeds[i]))?,
            }
        }
        Ok(())
    }

    /// Steps environment `i` (local index). A finished environment is left
    /// as it is and reports its ending again with reward 0; a divergence
    /// ends the episode as a truncation.
    fn step_env(&mut self, i: usize, mode: AutoReset) -> Result<(), EnvError> {
        let (d, a) = (self.obs_dim, self.action_dim);
        let transition = &mut self.transitions[i];
        if self.finished[i] {
            transition.reward = 0.0;
            return Ok(());
        }
        let env = &mut self.envs[i];
        let obs = &mut self.obs[i * d..(i + 1) * d];
        let action = &self.actions[i * a..(i + 1) * a];
        self.physics_errors[i] = None;
        *transition = match env.step_into(action, obs) {
            Ok(t) => t,
            Err(EnvError::Physics(e)) => {
                self.physics_errors[i] = Some(e);
                diverged_transition()
            }
            Err(e) => return Err(e),
        };
        if transition.done() {
            self.final_obs[i * d..(i + 1) * d].copy_from_slice(obs);
            match mode {
                AutoReset::On => {
                    env.reset_into(None, obs)?;
                }
                AutoReset::Off => self.finished[i] = true,
            }
        }
        Ok(())
    }

    /// Resets environment `i` (local index), with `seed` when one is given.
    fn reset_env(&mut self, i: usize, seed: Option<u64>) -> Result<(), EnvError> {
        let d = self.obs_dim;
        let obs = &mut self.obs[i * d..(i + 1) * d];
        self.envs[i].reset_into(seed, obs)?;
        self.transitions[i] = idle_transition();
        self.finished[i] = false;
        self.physics_errors[i] = None;
        Ok(())
    }
}

/// The transition reported before the first step of an episode.
pub(super) fn idle_transition() -> Transition {
    Transition {
        reward: 0.0,
        terminated: false,
        truncated: false,
        info: Info::default(),
    }
}

/// The transition of a step whose physics diverged: the episode is cut
/// (truncated, not terminal) with reward 0.
fn diverged_transition() -> Transition {
    Transition {
        truncated: true,
        ..idle_transition()
    }
}
