//! Errors raised by environments.

use std::fmt;

/// The simulation became invalid (dm_control's `PhysicsError`): MuJoCo raised
/// new warnings during a step, e.g. `mjWARN_BADQACC` for a diverging state.
#[derive(Debug, Clone, PartialEq)]
pub struct PhysicsError {
    /// The MuJoCo warnings raised by the step.
    pub warnings: Vec<&'static str>,
    /// Simulation time when it happened.
    pub time: f64,
}

impl fmt::Display for PhysicsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "physics state is invalid at t={:.4}s (MuJoCo warnings: {}); the episode has ended, call reset()",
            self.time,
            self.warnings.join(", ")
        )
    }
}

impl std::error::Error for PhysicsError {}

/// Everything that can go wrong when making or stepping an environment.
#[derive(Debug, thiserror::Error)]
pub enum EnvError {
    /// No task of that name; `suggestions` are the closest registered names.
    #[error("unknown task '{name}'{}", did_you_mean(.suggestions))]
    UnknownTask {
        /// The name as given.
        name: String,
        /// Closest registered names.
        suggestions: Vec<String>,
    },
    /// The action has the wrong number of values.
    #[error("action has {got} values but the task expects {expected}")]
    ActionSize {
        /// Action dimension of the task.
        expected: usize,
        /// Length of the given action.
        got: usize,
    },
    /// The action contains NaN or ±∞.
    #[error("action[{index}] is {value}: actions must be finite")]
    NonFiniteAction {
        /// Position of the first bad value.
        index: usize,
        /// The bad value.
        value: f64,
    },
    /// The observation buffer has the wrong length.
    #[error("observation buffer has {got} slots but the task has {expected} observations")]
    ObservationSize {
        /// Observation dimension of the task.
        expected: usize,
        /// Length of the given buffer.
        got: usize,
    },
    /// `step` was called before `reset` or after the episode ended.
    #[error("the episode has ended (or never started): call reset() before step()")]
    NeedsReset,
    /// The simulation diverged.
    #[error(transparent)]
    Physics(#[from] PhysicsError),
    /// Assets or set-up are missing.
    #[error("{0}")]
    Assets(String),
    /// The model could not be built or lacks a named element.
    #[error("model error: {0}")]
    Model(String),
    /// An invalid argument (e.g. a wrapper parameter).
    #[error("{0}")]
    Invalid(String),
    /// An environment panicked while a [`crate::VecEnv`] ran it; the message
    /// names the environment. The batch cannot be used any more.
    #[error("an environment panicked: {0}")]
    Panicked(String),
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        " (run `ctrlbench envs` to list the tasks)".to_string()
    } else {
        format!("; did you mean {}?", s.join(", "))
    }
}
