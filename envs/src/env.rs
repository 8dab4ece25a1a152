//! The Gymnasium-style environment interface.
//!
//! `reset(seed) -> (obs, info)` and `step(action) -> (obs, reward, terminated,
//! truncated, info)`. A time limit sets `truncated` only (agents bootstrap
//! through it); `terminated` means a true terminal state. The allocation-free
//! forms `reset_into` / `step_into` write the observation into a caller buffer
//! and are what the run loop and [`crate::VecEnv`] use.

use crate::error::EnvError;
use crate::spaces::{BoxSpace, ObsLayout};

/// Static description of an environment.
#[derive(Debug, Clone)]
pub struct EnvSpec {
    /// Registered task name (e.g. `cartpole-swingup`).
    pub name: String,
    /// Observation space (flat, float64).
    pub observation_space: BoxSpace,
    /// Action space.
    pub action_space: BoxSpace,
    /// Named groups of the flat observation.
    pub layout: ObsLayout,
    /// Steps per episode before truncation, if limited.
    pub max_episode_steps: Option<usize>,
    /// Simulated seconds per `step`.
    pub control_timestep: f64,
    /// Raw environment steps per `step` (1 for a raw task; the
    /// [`crate::ActionRepeat`] wrapper multiplies it). Step counts in results
    /// are raw environment steps: an agent step counts `action_repeat`.
    pub action_repeat: usize,
    /// Names of the suite's per-step values in [`Info::values`], in order (at
    /// most [`MAX_INFO_VALUES`]; Meta-World's `near_object`, ...). Empty for
    /// DMC.
    pub info_names: Vec<&'static str>,
    /// Bounds of one raw environment step's reward where the suite
    /// guarantees them (dm_control: [0, 1]); `None` otherwise.
    pub reward_range: Option<(f64, f64)>,
}

impl EnvSpec {
    /// Observation dimension.
    pub fn obs_dim(&self) -> usize {
        self.observation_space.dim()
    }

    /// Action dimension.
    pub fn action_dim(&self) -> usize {
        self.action_space.dim()
    }
}

/// Most named values an [`Info`] carries (Meta-World has seven).
pub const MAX_INFO_VALUES: usize = 8;

/// Per-step information beyond reward and flags.
///
/// `Copy` and of fixed size, so stepping allocates nothing: a suite's named
/// values sit in [`Info::values`] in the order of [`EnvSpec::info_names`],
/// NaN where unused. Two infos are equal when their discounts, successes and
/// values are (unused NaN values compare equal).
#[derive(Debug, Clone, Copy)]
pub struct Info {
    /// dm_control's discount of this transition (1.0 while running and at a
    /// time limit; the task's termination discount at a terminal state).
    pub discount: f64,
    /// Task success, for suites that define it (Meta-World); `None` otherwise.
    pub success: Option<bool>,
    /// The suite's named per-step values, named by [`EnvSpec::info_names`]
    /// (entry `i` is `info_names[i]`); NaN past the named ones. All NaN for
    /// DMC.
    pub values: [f64; MAX_INFO_VALUES],
}

impl Info {
    /// The value named `name` in `spec.info_names`, or `None` when the
    /// environment's suite defines no value of that name.
    pub fn value(&self, spec: &EnvSpec, name: &str) -> Option<f64> {
        spec.info_names
            .iter()
            .position(|n| *n == name)
            .and_then(|i| self.values.get(i).copied())
    }

    /// `(name, value)` for each named value of `spec`'s suite, in order.
    pub fn named_values<'a>(
        &'a self,
        spec: &'a EnvSpec,
    ) -> impl Iterator<Item = (&'static str, f64)> + 'a {
        spec.info_names.iter().copied().zip(self.values)
    }
}

impl Default for Info {
    /// Discount 1, no success, no values.
    fn default() -> Self {
        Info {
            discount: 1.0,
            success: None,
            values: [f64::NAN; MAX_INFO_VALUES],
        }
    }
}

impl PartialEq for Info {
    fn eq(&self, other: &Self) -> bool {
        self.discount == other.discount
            && self.success == other.success
            && self
                .values
                .iter()
                .zip(&other.values)
                .all(|(a, b)| a == b || (a.is_nan() && b.is_nan()))
    }
}

/// Result of [`Env::step_into`]: everything but the observation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// Reward of the transition.
    pub reward: f64,
    /// The episode reached a terminal state.
    pub terminated: bool,
    /// The episode was cut (time limit); bootstrap through it.
    pub truncated: bool,
    /// Extra information.
    pub info: Info,
}

impl Transition {
    /// Whether the episode is over (terminated or truncated).
    pub fn done(&self) -> bool {
        self.terminated || self.truncated
    }
}

/// Result of [`Env::step`].
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// Observation after the step.
    pub obs: Vec<f64>,
    /// Reward of the transition.
    pub reward: f64,
    /// The episode reached a terminal state.
    pub terminated: bool,
    /// The episode was cut (time limit).
    pub truncated: bool,
    /// Extra information.
    pub info: Info,
}

/// An environment with Gymnasium semantics.
///
/// Stepping after the episode ended (or before the first reset) is an
/// [`EnvError::NeedsReset`]; a diverging simulation ends the episode with
/// [`EnvError::Physics`], after which `reset` works again.
pub trait Env: Send {
    /// The environment's spaces and limits.
    fn spec(&self) -> &EnvSpec;

    /// Starts an episode; `Some(seed)` reseeds the environment's generator,
    /// `None` continues its stream. Writes the first observation into `obs`.
    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError>;

    /// Applies `action` and writes the next observation into `obs`.
    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError>;

    /// Starts an episode and returns `(obs, info)`.
    fn reset(&mut self, seed: Option<u64>) -> Result<(Vec<f64>, Info), EnvError> {
        let mut obs = vec![0.0; self.spec().obs_dim()];
        let info = self.reset_into(seed, &mut obs)?;
        Ok((obs, info))
    }

    /// Applies `action` and returns the step.
    fn step(&mut self, action: &[f64]) -> Result<Step, EnvError> {
        let mut obs = vec![0.0; self.spec().obs_dim()];
        let t = self.step_into(action, &mut obs)?;
        Ok(Step {
            obs,
            reward: t.reward,
            terminated: t.terminated,
            truncated: t.truncated,
            info: t.info,
        })
    }
}

impl<E: Env + ?Sized> Env for Box<E> {
    fn spec(&self) -> &EnvSpec {
        (**self).spec()
    }
    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        (**self).reset_into(seed, obs)
    }
    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        (**self).step_into(action, obs)
    }
}

/// Checks an action's length and finiteness.
pub fn check_action(spec: &EnvSpec, action: &[f64]) -> Result<(), EnvError> {
    if action.len() != spec.action_dim() {
        return Err(EnvError::ActionSize {
            expected: spec.action_dim(),
            got: action.len(),
        });
    }
    if let Some((index, &value)) = action.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(EnvError::NonFiniteAction { index, value });
    }
    Ok(())
}

/// Checks an observation buffer's length.
pub fn check_obs_buffer(spec: &EnvSpec, obs: &[f64]) -> Result<(), EnvError> {
    if obs.len() != spec.obs_dim() {
        return Err(EnvError::ObservationSize {
            expected: spec.obs_dim(),
            got: obs.len(),
        });
    }
    Ok(())
}
