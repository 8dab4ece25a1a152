//! The DeepMind Control Suite, one file per domain as in dm_control's `suite/`.
//!
//! Each domain file defines its [`Task`]s and a `TASKS` table of
//! [`TaskDef`]s; [`tasks`] lists them all. A task runs in a [`DmcEnv`]
//! (dm_control's `control.Environment`, in `control.rs`); initial-state
//! randomisers shared by the domains are in `randomizers.rs`.

pub mod acrobot;
pub mod ball_in_cup;
pub mod cartpole;
pub mod cheetah;
mod control;
pub mod cup_spin;
pub mod dog;
pub mod finger;
pub mod fish;
pub mod hopper;
pub mod humanoid;
pub mod lqr;
pub mod manipulator;
mod mjcf;
pub mod pendulum;
pub mod point_mass;
pub mod quadruped;
mod randomizers;
pub mod reacher;
pub mod rewards;
pub mod seqnav;
pub mod stacker;
pub mod swimmer;
pub mod walker;

pub use self::control::DmcEnv;
pub(crate) use self::randomizers::randomize_limited_and_rotational_joints;
pub use crate::registry::{Source, TaskDef};

use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

/// Every DeepMind Control Suite task (dm_control's and TD-MPC2's extra
/// ones), in listing order: one line per domain.
pub fn tasks() -> impl Iterator<Item = &'static TaskDef> {
    [
        acrobot::TASKS,
        ball_in_cup::TASKS,
        cartpole::TASKS,
        cheetah::TASKS,
        cup_spin::TASKS,
        dog::TASKS,
        finger::TASKS,
        fish::TASKS,
        hopper::TASKS,
        humanoid::TASKS,
        lqr::TASKS,
        manipulator::TASKS,
        pendulum::TASKS,
        point_mass::TASKS,
        quadruped::TASKS,
        reacher::TASKS,
        seqnav::TASKS,
        stacker::TASKS,
        swimmer::TASKS,
        walker::TASKS,
    ]
    .into_iter()
    .flatten()
}

/// What a dm_control task defines on top of its physics.
pub trait Task: Send {
    /// The observation groups, in dm_control's `OrderedDict` order.
    fn observation_layout(&self) -> ObsLayout;

    /// Called whenever the environment's random stream is seeded (when it is
    /// built and by `reset` with a seed), before the next episode starts.
    /// dm_control tasks that draw from their `RandomState` while the
    /// environment is built (lqr's random spring stiffnesses) draw here, so a
    /// seeded reset equals dm_control's environment built with that seed.
    fn on_seed(
        &mut self,
        _physics: &mut Physics,
        _random: &mut RandomState,
    ) -> Result<(), EnvError> {
        Ok(())
    }

    /// Sets the initial state of an episode (dm_control's `initialize_episode`);
    /// runs between `Physics::reset` and `Physics::after_reset`.
    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError>;

    /// Writes the flat observation into `out` (length = layout dimension).
    fn observation(&self, physics: &Physics, out: &mut [f64]);

    /// The reward of the current state.
    fn reward(&self, physics: &Physics) -> f64;

    /// The range of the task's rewards: [0, 1] for the suite's tasks, whose
    /// rewards are products of `rewards.tolerance` terms; `None` when
    /// unbounded or not declared.
    fn reward_range(&self) -> Option<(f64, f64)> {
        Some((0.0, 1.0))
    }

    /// `Some(discount)` when the episode terminates in the current state.
    fn termination(&self, _physics: &Physics) -> Option<f64> {
        None
    }

    /// Applies the action before the physics steps (dm_control's `before_step`
    /// sets the control).
    fn before_step(&mut self, action: &[f64], physics: &mut Physics) {
        physics.set_control(action);
    }

    /// Updates the task's own state after the physics steps and before the
    /// reward, observation and termination are read (dm_control's
    /// `after_step`). The suite's tasks keep no state; tasks with episode
    /// state (which target to visit next) advance it here.
    fn after_step(&mut self, _physics: &Physics, _random: &mut RandomState) {}

    /// Names of the task's per-step [`crate::Info`] values (none for the
    /// suite's tasks; at most [`crate::env::MAX_INFO_VALUES`]).
    fn info_names(&self) -> &'static [&'static str] {
        &[]
    }

    /// Writes the values named by [`Task::info_names`] into `out` (same
    /// length), after [`Task::after_step`].
    fn info(&self, _physics: &Physics, _out: &mut [f64]) {}
}

/// Copies `src` into `out` at `*at` and advances `*at`: the building block of
/// the tasks' `observation` methods.
#[inline]
pub(crate) fn put(out: &mut [f64], at: &mut usize, src: &[f64]) {
    out[*at..*at + src.len()].copy_from_slice(src);
    *at += src.len();
}
