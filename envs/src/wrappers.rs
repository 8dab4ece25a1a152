//! Wrappers that turn a raw task into the benchmark protocol: actions in
//! [-1, 1], action repeat, a time limit in agent steps.

use crate::env::{Env, EnvSpec, Info, Transition, check_action};
use crate::error::EnvError;
use crate::registry::Build;
use crate::spaces::BoxSpace;

/// Maps actions from [-1, 1] to the task's bounds (dm_control's
/// `action_scale` wrapper: `low + (a + 1) (high - low) / 2`). Actions outside
/// [-1, 1] are clipped first. Dimensions without bounds (lqr's motors) pass
/// through unchanged, so they too receive actions in [-1, 1].
pub struct RescaleAction<E: Env> {
    inner: E,
    spec: EnvSpec,
    scaled: Vec<f64>,
}

impl<E: Env> RescaleAction<E> {
    /// Wraps `inner`.
    pub fn new(inner: E) -> Result<Self, EnvError> {
        let space = &inner.spec().action_space;
        let mut spec = inner.spec().clone();
        spec.action_space = BoxSpace::symmetric_unit(space.dim());
        let scaled = vec![0.0; space.dim()];
        Ok(RescaleAction {
            inner,
            spec,
            scaled,
        })
    }
}

impl<E: Env> Env for RescaleAction<E> {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        self.inner.reset_into(seed, obs)
    }
    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        check_action(&self.spec, action)?;
        let space = &self.inner.spec().action_space;
        for (i, s) in self.scaled.iter_mut().enumerate() {
            let a = action[i].clamp(-1.0, 1.0);
            let (lo, hi) = (space.low[i], space.high[i]);
            *s = if lo.is_finite() && hi.is_finite() {
                lo + (a + 1.0) * (hi - lo) / 2.0
            } else {
                a
            };
        }
        self.inner.step_into(&self.scaled, obs)
    }
}

/// Repeats each action `k` times, summing rewards and stopping early when the
/// episode ends; the discount is the product of the inner discounts, success
/// is whether any inner step succeeded, and the named values are the last
/// inner step's.
pub struct ActionRepeat<E: Env> {
    inner: E,
    spec: EnvSpec,
    k: usize,
}

impl<E: Env> ActionRepeat<E> {
    /// Wraps `inner` with repeat `k >= 1`.
    pub fn new(inner: E, k: usize) -> Result<Self, EnvError> {
        if k == 0 {
            return Err(EnvError::Invalid("action repeat must be at least 1".into()));
        }
        let mut spec = inner.spec().clone();
        spec.control_timestep *= k as f64;
        spec.action_repeat *= k;
        spec.max_episode_steps = spec.max_episode_steps.map(|n| n.div_ceil(k));
        Ok(ActionRepeat { inner, spec, k })
    }
}

impl<E: Env> Env for ActionRepeat<E> {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        self.inner.reset_into(seed, obs)
    }
    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        let mut total = Transition {
            reward: 0.0,
            terminated: false,
            truncated: false,
            info: Info::default(),
        };
        for _ in 0..self.k {
            let t = self.inner.step_into(action, obs)?;
            total.reward += t.reward;
            total.terminated = t.terminated;
            total.truncated = t.truncated;
            total.info.discount *= t.info.discount;
            total.info.success = match (total.info.success, t.info.success) {
                (Some(a), Some(b)) => Some(a || b),
                (a, b) => a.or(b),
            };
            total.info.values = t.info.values;
            if t.done() {
                break;
            }
        }
        Ok(total)
    }
}

/// Truncates episodes after `max_steps` steps (truncation only: a time limit
/// is not a terminal state).
pub struct TimeLimit<E: Env> {
    inner: E,
    spec: EnvSpec,
    max_steps: usize,
    elapsed: usize,
}

impl<E: Env> TimeLimit<E> {
    /// Wraps `inner` with a limit of `max_steps >= 1` steps.
    pub fn new(inner: E, max_steps: usize) -> Result<Self, EnvError> {
        if max_steps == 0 {
            return Err(EnvError::Invalid(
                "time limit must be at least 1 step".into(),
            ));
        }
        let mut spec = inner.spec().clone();
        spec.max_episode_steps = Some(
            spec.max_episode_steps
                .map_or(max_steps, |n| n.min(max_steps)),
        );
        Ok(TimeLimit {
            inner,
            spec,
            max_steps,
            elapsed: 0,
        })
    }
}

impl<E: Env> Env for TimeLimit<E> {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }
    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        self.elapsed = 0;
        self.inner.reset_into(seed, obs)
    }
    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        let mut t = self.inner.step_into(action, obs)?;
        self.elapsed += 1;
        if self.elapsed >= self.max_steps && !t.terminated {
            t.truncated = true;
        }
        Ok(t)
    }
}

/// What an evaluation reports as a task's score.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Mean episode return (DMC: 0..1000).
    Return,
    /// Share of episodes in which `success` was ever true (Meta-World, as in
    /// DCWM), reported beside the return.
    SuccessRate,
}

/// A suite's benchmark protocol: how its raw tasks are wrapped for agents.
///
/// The action repeat is a run setting that defaults to the suite's; an
/// episode keeps the suite's raw length whatever the repeat (DMC: 1000 env
/// steps = 500 agent steps at repeat 2, 125 at repeat 8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol {
    /// Suite name, as results and `ctrlbench envs` show it.
    pub suite: &'static str,
    /// Environment steps per agent step.
    pub action_repeat: usize,
    /// Raw environment steps per episode.
    pub episode_env_steps: usize,
    /// The score evaluations report.
    pub metric: Metric,
    /// Whether each reset is followed by one zero-action raw step whose
    /// result is discarded (TD-MPC2's and DCWM's Meta-World wrappers: the
    /// agent sees the reset observation; the step counts nowhere).
    pub zero_step_after_reset: bool,
}

impl Protocol {
    /// The protocol with another action repeat (episodes keep their raw length).
    pub const fn with_action_repeat(self, action_repeat: usize) -> Self {
        Protocol {
            action_repeat,
            ..self
        }
    }

    /// Agent steps per episode.
    pub const fn episode_length(&self) -> usize {
        self.episode_env_steps.div_ceil(self.action_repeat)
    }
}

/// DMControl as DCWM and TD-MPC2 run it: action repeat 2, 1000 env steps
/// (500 agent steps) per episode, the return as the score.
pub const DMC_PROTOCOL: Protocol = Protocol {
    suite: "dmc",
    action_repeat: 2,
    episode_env_steps: 1000,
    metric: Metric::Return,
    zero_step_after_reset: false,
};

/// Meta-World as TD-MPC2 and DCWM run it: one zero-action step after each
/// reset (not counted), action repeat 2, 200 env steps (100 agent steps)
/// per episode, the success rate as the score.
pub const METAWORLD_PROTOCOL: Protocol = Protocol {
    suite: "metaworld",
    action_repeat: 2,
    episode_env_steps: 200,
    metric: Metric::SuccessRate,
    zero_step_after_reset: true,
};

/// Every suite's protocol, one entry per suite.
pub const PROTOCOLS: &[Protocol] = &[DMC_PROTOCOL, METAWORLD_PROTOCOL];

/// The task wrapped for its suite's benchmark protocol: actions in [-1, 1],
/// the suite's action repeat (rewards summed), the suite's episode length,
/// truncation only. The environment is seeded with `seed` at its first
/// `reset(None)`.
pub fn benchmark_env(name: &str, seed: u64) -> Result<Box<dyn Env>, EnvError> {
    protocol_env(name, seed, crate::registry::find(name)?.protocol())
}

/// The task wrapped with a given protocol (e.g. the suite's with another
/// action repeat).
pub fn protocol_env(name: &str, seed: u64, p: Protocol) -> Result<Box<dyn Env>, EnvError> {
    if p.action_repeat == 0 {
        return Err(EnvError::Invalid("action repeat must be at least 1".into()));
    }
    let def = crate::registry::find(name)?;
    match def.build {
        Build::Dmc(build) => wrap(build(def.name)?, seed, p),
        Build::MetaWorld(build) => wrap(build(def.name)?, seed, p),
        Build::Env(build) => wrap(build(def.name)?, seed, p),
    }
}

/// `raw` wrapped for protocol `p` (generic, so a dm_control task keeps its
/// concrete type inside the wrappers).
fn wrap<E: Env + 'static>(raw: E, seed: u64, p: Protocol) -> Result<Box<dyn Env>, EnvError> {
    let raw = ZeroStepAfterReset::new(Seeded::new(raw, seed), p.zero_step_after_reset);
    let env = TimeLimit::new(
        ActionRepeat::new(RescaleAction::new(raw)?, p.action_repeat)?,
        p.episode_length(),
    )?;
    Ok(Box::new(env))
}

/// Takes one zero-action step after each reset and returns the reset's
/// observation (when enabled): the state moves on, the agent does not see
/// the step, and the step counts toward no limit of the wrappers above.
pub struct ZeroStepAfterReset<E: Env> {
    inner: E,
    enabled: bool,
    zeros: Vec<f64>,
    scratch: Vec<f64>,
}

impl<E: Env> ZeroStepAfterReset<E> {
    /// Wraps `inner`; `enabled = false` passes everything through.
    pub fn new(inner: E, enabled: bool) -> Self {
        let zeros = vec![0.0; inner.spec().action_dim()];
        let scratch = vec![0.0; inner.spec().obs_dim()];
        ZeroStepAfterReset {
            inner,
            enabled,
            zeros,
            scratch,
        }
    }
}

impl<E: Env> Env for ZeroStepAfterReset<E> {
    fn spec(&self) -> &EnvSpec {
        self.inner.spec()
    }
    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        let info = self.inner.reset_into(seed, obs)?;
        if self.enabled {
            self.inner.step_into(&self.zeros, &mut self.scratch)?;
        }
        Ok(info)
    }
    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        self.inner.step_into(action, obs)
    }
}

/// Seeds an environment at its first reset when no seed is given there.
pub struct Seeded<E: Env> {
    inner: E,
    seed: Option<u64>,
}

impl<E: Env> Seeded<E> {
    /// Wraps `inner`; its first `reset(None)` becomes `reset(Some(seed))`.
    pub fn new(inner: E, seed: u64) -> Self {
        Seeded {
            inner,
            seed: Some(seed),
        }
    }
}

impl<E: Env> Env for Seeded<E> {
    fn spec(&self) -> &EnvSpec {
        self.inner.spec()
    }
    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        let seed = seed.or(self.seed.take());
        self.seed = None;
        self.inner.reset_into(seed, obs)
    }
    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        self.inner.step_into(action, obs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::MAX_INFO_VALUES;
    use crate::spaces::ObsLayout;

    /// Records the last action it received; its info's first value counts
    /// its steps.
    struct Recorder {
        spec: EnvSpec,
        last: Vec<f64>,
        steps: usize,
    }

    impl Env for Recorder {
        fn spec(&self) -> &EnvSpec {
            &self.spec
        }
        fn reset_into(&mut self, _: Option<u64>, _: &mut [f64]) -> Result<Info, EnvError> {
            Ok(Info::default())
        }
        fn step_into(&mut self, action: &[f64], _: &mut [f64]) -> Result<Transition, EnvError> {
            self.last = action.to_vec();
            self.steps += 1;
            let mut values = [f64::NAN; MAX_INFO_VALUES];
            values[0] = self.steps as f64;
            Ok(Transition {
                reward: 1.0,
                terminated: false,
                truncated: false,
                info: Info {
                    values,
                    ..Info::default()
                },
            })
        }
    }

    fn recorder(low: Vec<f64>, high: Vec<f64>) -> Recorder {
        Recorder {
            spec: EnvSpec {
                name: "recorder".into(),
                observation_space: BoxSpace::unbounded(0),
                action_space: BoxSpace::new(low, high),
                layout: ObsLayout::default(),
                max_episode_steps: None,
                control_timestep: 0.01,
                action_repeat: 1,
                info_names: vec!["steps"],
                reward_range: None,
            },
            last: vec![],
            steps: 0,
        }
    }

    #[test]
    fn rescale_maps_the_unit_box_onto_the_bounds_and_clips() {
        let mut env = RescaleAction::new(recorder(vec![-2.0, 0.0], vec![4.0, 1.0])).unwrap();
        let mut obs = [];
        env.step_into(&[-1.0, 1.0], &mut obs).unwrap();
        assert_eq!(env.inner.last, vec![-2.0, 1.0]);
        env.step_into(&[0.0, 0.5], &mut obs).unwrap();
        assert_eq!(env.inner.last, vec![1.0, 0.75]);
        env.step_into(&[7.0, -3.0], &mut obs).unwrap();
        assert_eq!(env.inner.last, vec![4.0, 0.0]);
        assert!(env.step_into(&[f64::NAN, 0.0], &mut obs).is_err());
        let mut unbounded =
            RescaleAction::new(recorder(vec![f64::NEG_INFINITY], vec![f64::INFINITY])).unwrap();
        unbounded.step_into(&[0.25], &mut obs).unwrap();
        assert_eq!(unbounded.inner.last, vec![0.25]);
    }

    #[test]
    fn repeat_sums_rewards() {
        let mut env = ActionRepeat::new(recorder(vec![-1.0], vec![1.0]), 3).unwrap();
        let t = env.step_into(&[0.2], &mut []).unwrap();
        assert_eq!(t.reward, 3.0);
        assert_eq!(env.spec().action_repeat, 3);
        // The named values are the last inner step's.
        assert_eq!(t.info.value(env.spec(), "steps"), Some(3.0));
        assert_eq!(t.info.value(env.spec(), "success"), None);
        assert!(t.info.values[1].is_nan());
        assert!(ActionRepeat::new(recorder(vec![-1.0], vec![1.0]), 0).is_err());
    }
}
