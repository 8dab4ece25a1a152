//! The DeepMind Control Suite, one file per domain as in dm_control's `suite/`.
//!
//! A [`DmcEnv`] is dm_control's `control.Environment` around a domain's
//! [`Physics`] and a [`Task`]: `reset` runs `initialize_episode` inside
//! dm_control's reset context; `step` sets the control, steps the physics
//! `n_sub_steps` times with the legacy step, and reads reward, observation and
//! termination. The episode ends when the step count reaches
//! `time_limit / control_timestep` (truncation, discount 1) or the task
//! terminates (discount from the task).

pub mod acrobot;
pub mod ball_in_cup;
pub mod cartpole;
pub mod cheetah;
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
pub mod reacher;
pub mod rewards;
pub mod stacker;
pub mod swimmer;
pub mod walker;

use crate::env::{Env, EnvSpec, Info, Transition, check_action, check_obs_buffer};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::{BoxSpace, ObsLayout};

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

    /// `Some(discount)` when the episode terminates in the current state.
    fn termination(&self, _physics: &Physics) -> Option<f64> {
        None
    }

    /// Applies the action before the physics steps (dm_control's `before_step`
    /// sets the control).
    fn before_step(&mut self, action: &[f64], physics: &mut Physics) {
        physics.set_control(action);
    }
}

/// A registered dm_control task.
#[derive(Clone, Copy, Debug)]
pub struct TaskDef {
    /// Registered name (TD-MPC2/DCWM style, e.g. `cartpole-swingup-sparse`).
    pub name: &'static str,
    /// dm_control domain (e.g. `cartpole`).
    pub domain: &'static str,
    /// dm_control task (e.g. `swingup_sparse`).
    pub task: &'static str,
    /// Extra accepted names (underscores and `dm_control/...-v0` forms are
    /// accepted for every task without listing them).
    pub aliases: &'static [&'static str],
    /// Where the task is defined (and what the parity tests compare with).
    pub source: Source,
    /// Builds the raw environment.
    pub build: fn() -> Result<DmcEnv, EnvError>,
}

impl TaskDef {
    /// The benchmark protocol of the task's suite.
    pub fn protocol(&self) -> crate::Protocol {
        match self.source {
            Source::DmControl | Source::TdMpc2 => crate::DMC_PROTOCOL,
        }
    }
}

/// Where a task's definition comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// dm_control's suite: parity-tested step by step against dm_control.
    DmControl,
    /// TD-MPC2's extra DMControl tasks (`tdmpc2/envs/tasks/`), which have no
    /// installable reference: their reward definitions are tested directly.
    TdMpc2,
}

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
        Ok(Transition {
            reward,
            terminated,
            truncated,
            info: Info {
                discount,
                success: None,
            },
        })
    }
}

/// Copies `src` into `out` at `*at` and advances `*at`: the building block of
/// the tasks' `observation` methods.
#[inline]
pub(crate) fn put(out: &mut [f64], at: &mut usize, src: &[f64]) {
    out[*at..*at + src.len()].copy_from_slice(src);
    *at += src.len();
}

/// Sets every hinge and slide joint with limits to a uniform value in its
/// range, every unlimited hinge to a uniform angle in [-π, π), every ball to a
/// random (limited) quaternion and every free joint's orientation to a random
/// quaternion — dm_control's `randomizers.randomize_limited_and_rotational_joints`,
/// drawing from `random` in joint order.
pub(crate) fn randomize_limited_and_rotational_joints(
    physics: &mut Physics,
    random: &mut RandomState,
) {
    use mujoco_rs::prelude::MjtJoint;
    let njnt = physics.model().ffi().njnt as usize;
    for j in 0..njnt {
        let (kind, limited, range, adr) = {
            let m = physics.model();
            (
                m.jnt_type()[j],
                m.jnt_limited()[j],
                m.jnt_range()[j],
                m.jnt_qposadr()[j] as usize,
            )
        };
        let qpos = physics.data_mut().qpos_mut();
        match (kind, limited) {
            (MjtJoint::mjJNT_HINGE | MjtJoint::mjJNT_SLIDE, true) => {
                qpos[adr] = random.uniform(range[0], range[1]);
            }
            (MjtJoint::mjJNT_HINGE, false) => {
                qpos[adr] = random.uniform(-std::f64::consts::PI, std::f64::consts::PI);
            }
            (MjtJoint::mjJNT_BALL, true) => {
                let q = random_limited_quaternion(random, range[1]);
                qpos[adr..adr + 4].copy_from_slice(&q);
            }
            (MjtJoint::mjJNT_BALL, false) => {
                let q = normalized4(random.randn(4));
                qpos[adr..adr + 4].copy_from_slice(&q);
            }
            (MjtJoint::mjJNT_FREE, _) => {
                let q = normalized4(random.rand(4));
                qpos[adr + 3..adr + 7].copy_from_slice(&q);
            }
            _ => {}
        }
    }
}

/// `x · x` as numpy computes it for short vectors (`np.dot`,
/// `np.linalg.norm`) on this CPU. numpy's OpenBLAS picks its `ddot` kernel
/// by CPU, and both kinds accumulate in order but round differently: the
/// kernels for AVX-512 CPUs (SkylakeX and later) add one fused multiply-add
/// per element, those for AVX2 CPUs (Haswell, Zen) and older add each
/// rounded square. The two results differ in the last bit for up to a third
/// of vectors, so dm_control's initial states (a normalised random
/// quaternion) depend on the CPU, and on chaotic systems so does the whole
/// trajectory; this follows the kernel numpy uses on the same machine.
pub fn numpy_dot_self(x: impl IntoIterator<Item = f64>) -> f64 {
    if openblas_ddot_fuses() {
        x.into_iter().fold(0.0, |s, v| v.mul_add(v, s))
    } else {
        x.into_iter().fold(0.0, |s, v| s + v * v)
    }
}

/// Whether numpy's OpenBLAS `ddot` runs a fused multiply-add kernel here:
/// its AVX-512 kernels, chosen when the CPU has AVX-512F.
fn openblas_ddot_fuses() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx512f")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// `np.linalg.norm(x)` for short vectors (see [`numpy_dot_self`]).
pub fn numpy_norm(x: &[f64]) -> f64 {
    numpy_dot_self(x.iter().copied()).sqrt()
}

/// `v / np.linalg.norm(v)` for a 4-vector.
fn normalized4(v: Vec<f64>) -> [f64; 4] {
    let n = numpy_norm(&v);
    [v[0] / n, v[1] / n, v[2] / n, v[3] / n]
}

/// dm_control's `random_limited_quaternion`: a random axis and an angle in
/// `[0, limit)`, converted with `mju_axisAngle2Quat`.
fn random_limited_quaternion(random: &mut RandomState, limit: f64) -> [f64; 4] {
    let axis = random.randn(3);
    let n = numpy_norm(&axis);
    let axis = [axis[0] / n, axis[1] / n, axis[2] / n];
    let angle = random.rand(1)[0] * limit;
    let (s, c) = (angle / 2.0).sin_cos();
    [c, axis[0] * s, axis[1] * s, axis[2] * s]
}
