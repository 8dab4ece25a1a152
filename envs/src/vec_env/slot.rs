//! One environment of a [`super::VecEnv`] with its inputs and the results of
//! the latest command, and the per-environment rules of a step: autoreset,
//! evaluation mode, divergence.

use crate::env::{Env, Info, Transition};
use crate::error::{EnvError, PhysicsError};

use super::AutoReset;

/// What a slot does when it is run.
#[derive(Debug, Clone, Copy)]
pub(super) enum Command {
    /// Step the environment with its action, handling an episode's end by
    /// the given mode.
    Step(AutoReset),
    /// Reset the environment; `Some(seed)` seeds environment `i` (its index
    /// in the batch) with `seed + i`.
    Reset(Option<u64>),
    /// Reset the environment with the slot's own seed.
    ResetEach,
}

/// Why a slot's command did not complete.
#[derive(Debug)]
pub(super) enum Failure {
    /// The environment returned an error other than a divergence.
    Env(EnvError),
    /// The environment panicked; the message names its index.
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

/// Environment `index` of a batch with its inputs and the results of the
/// latest command.
pub(super) struct Slot {
    /// The environment's index in the batch.
    pub(super) index: usize,
    env: Box<dyn Env>,
    /// The action of the next step.
    action: Vec<f64>,
    /// The seed of the next [`Command::ResetEach`].
    pub(super) seed: u64,
    /// The current observation.
    pub(super) obs: Vec<f64>,
    /// The last observation of the episode that ended, if one did.
    pub(super) final_obs: Vec<f64>,
    /// The transition of the latest step.
    pub(super) transition: Transition,
    /// Whether the episode ended without autoreset.
    pub(super) finished: bool,
    /// The divergence that ended the episode, as reported by the latest step.
    pub(super) physics_error: Option<PhysicsError>,
    /// The command the next run executes.
    pub(super) command: Command,
    /// Why the latest run did not complete, if it did not.
    pub(super) failure: Option<Failure>,
}

impl Slot {
    /// Environment `index` of a batch, with the batch's dimensions.
    pub(super) fn new(index: usize, env: Box<dyn Env>, obs_dim: usize, action_dim: usize) -> Self {
        Slot {
            index,
            env,
            action: vec![0.0; action_dim],
            seed: 0,
            obs: vec![0.0; obs_dim],
            final_obs: vec![0.0; obs_dim],
            transition: idle_transition(),
            finished: false,
            physics_error: None,
            command: Command::Reset(None),
            failure: None,
        }
    }

    /// Sets the action of the next step (`action_dim` values).
    pub(super) fn load_action(&mut self, action: &[f64]) {
        self.action.copy_from_slice(action);
    }

    /// Executes the current command.
    pub(super) fn execute(&mut self) -> Result<(), EnvError> {
        match self.command {
            Command::Step(mode) => self.step(mode),
            Command::Reset(seed) => self.reset(seed.map(|s| s.wrapping_add(self.index as u64))),
            Command::ResetEach => self.reset(Some(self.seed)),
        }
    }

    /// Steps the environment. A finished environment is left as it is and
    /// reports its ending again with reward 0; a divergence ends the episode
    /// as a truncation.
    fn step(&mut self, mode: AutoReset) -> Result<(), EnvError> {
        if self.finished {
            self.transition.reward = 0.0;
            return Ok(());
        }
        self.physics_error = None;
        self.transition = match self.env.step_into(&self.action, &mut self.obs) {
            Ok(t) => t,
            Err(EnvError::Physics(e)) => {
                self.physics_error = Some(e);
                diverged_transition()
            }
            Err(e) => return Err(e),
        };
        if self.transition.done() {
            self.final_obs.copy_from_slice(&self.obs);
            match mode {
                AutoReset::On => {
                    self.env.reset_into(None, &mut self.obs)?;
                }
                AutoReset::Off => self.finished = true,
            }
        }
        Ok(())
    }

    /// Resets the environment, with `seed` when one is given.
    fn reset(&mut self, seed: Option<u64>) -> Result<(), EnvError> {
        self.env.reset_into(seed, &mut self.obs)?;
        self.transition = idle_transition();
        self.finished = false;
        self.physics_error = None;
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
