//! dm_control's `control.Environment`: a [`Task`] on its [`Physics`] behind
//! the [`Env`] interface.
//!
//! Contract (as dm_control): `reset` seeds the task's `RandomState` when
//! given a seed, runs `initialize_episode` inside dm_control's reset context
//! (`Physics::reset` ... `Physics::after_reset`) and returns the first
//! observation; `step` applies the action (the task's `before_step` sets the
//! control), steps the physics `n_sub_steps`
//! times with the legacy step, runs the task's `after_step`, then reads
//! reward, observation and termination. The episode ends when the step count reaches
//! `time_limit / control_timestep` (truncation, discount 1) or the task
//! terminates (discount from the task). A physics error ends the episode.
//! The step [`Info`] carries the discount and the task's named values (none
//! for dm_control's tasks).

use super::Task;
use crate::env::{Env, EnvSpec, Info, MAX_INFO_VALUES, Transition, check_action, check_obs_buffer};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::BoxSpace;

/// A dm_control `control.Environment` (raw task: dm_control's action space,
/// no action repeat, dm_control's time limit).
pub struct DmcEnv {
    physics: Physics,
    task: Box<dyn Task>,
    random: RandomState,
    spec: EnvSpec,
    n_sub_steps: usize,
    step_limit: f64,
    step_count: usize,
    needs_reset: bool,
}

impl DmcEnv {
    /// An environment for `task` on `physics`, with a time limit in seconds and
    /// `n_sub_steps` physics steps per control step.
    pub fn new(
        name: &str,
        mut physics: Physics,
        mut task: Box<dyn Task>,
        time_limit: f64,
        n_sub_steps: usize,
    ) -> Result<Self, EnvError> {
        if n_sub_steps == 0 {
            return Err(EnvError::Invalid("n_sub_steps must be at least 1".into()));
        }
        let control_timestep = physics.timestep() * n_sub_steps as f64;
        // dm_control: step_limit = time_limit / (timestep * n_sub_steps), a float.
        let step_limit = time_limit / control_timestep;
        let (low, high) = physics.action_bounds();
        let layout = task.observation_layout();
        let spec = EnvSpec {
            name: name.to_string(),
            observation_space: BoxSpace::unbounded(layout.dim()),
            action_space: BoxSpace::new(low, high),
            layout,
            max_episode_steps: step_limit.is_finite().then(|| step_limit.ceil() as usize),
            control_timestep,
            action_repeat: 1,
            info_names: task.info_names().to_vec(),
            reward_range: task.reward_range(),
        };
        let mut random = RandomState::from_entropy();
        task.on_seed(&mut physics, &mut random)?;
        Ok(DmcEnv {
            physics,
            task,
            random,
            spec,
            n_sub_steps,
            step_limit,
            step_count: 0,
            needs_reset: true,
        })
    }

    /// An environment whose control timestep is `control_timestep` seconds
    /// (dm_control's `compute_n_steps`: must be an integer multiple of the
    /// physics timestep).
    pub fn with_control_timestep(
        name: &str,
        physics: Physics,
        task: Box<dyn Task>,
        time_limit: f64,
        control_timestep: f64,
    ) -> Result<Self, EnvError> {
        let ratio = control_timestep / physics.timestep();
        if ratio < 1.0 || (ratio - ratio.round()).abs() > 1e-8 {
            return Err(EnvError::Invalid(format!(
                "control timestep {control_timestep} is not a multiple of the physics timestep {}",
                physics.timestep()
            )));
        }
        Self::new(name, physics, task, time_limit, ratio.round() as usize)
    }

    /// The simulation.
    pub fn physics(&self) -> &Physics {
        &self.physics
    }

    /// Mutable access to the simulation (benchmarks, robustness tests).
    pub fn physics_mut(&mut self) -> &mut Physics {
        &mut self.physics
    }

    /// Physics steps per control step.
    pub fn n_sub_steps(&self) -> usize {
        self.n_sub_steps
    }

    /// Control steps taken in the current episode.
    pub fn step_count(&self) -> usize {
        self.step_count
    }
}

impl Env for DmcEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        check_obs_buffer(&self.spec, obs)?;
        self.needs_reset = true;
        if let Some(seed) = seed {
            self.random = RandomState::new(seed);
            self.task.on_seed(&mut self.physics, &mut self.random)?;
        }
        self.step_count = 0;
        self.physics.reset();
        self.task
            .initialize_episode(&mut self.physics, &mut self.random)?;
        self.physics.after_reset()?;
        self.task.observation(&self.physics, obs);
        self.needs_reset = false;
        Ok(Info::default())
    }

    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        if self.needs_reset {
            return Err(EnvError::NeedsReset);
        }
        check_action(&self.spec, action)?;
        check_obs_buffer(&self.spec, obs)?;
        self.task.before_step(action, &mut self.physics);
        if let Err(e) = self.physics.step(self.n_sub_steps) {
            self.needs_reset = true;
            return Err(e.into());
        }
        self.task.after_step(&self.physics, &mut self.random);
        let reward = self.task.reward(&self.physics);
        self.task.observation(&self.physics, obs);
        self.step_count += 1;
        let (terminated, truncated, discount) = if self.step_count as f64 >= self.step_limit {
            (false, true, 1.0)
        } else {
            match self.task.termination(&self.physics) {
                Some(d) => (true, false, d),
                None => (false, false, 1.0),
            }
        };
        self.needs_reset = terminated || truncated;
        let mut values = [f64::NAN; MAX_INFO_VALUES];
        let named = self.spec.info_names.len();
        self.task.info(&self.physics, &mut values[..named]);
        Ok(Transition {
            reward,
            terminated,
            truncated,
            info: Info {
                discount,
                success: None,
                values,
            },
        })
    }
}
