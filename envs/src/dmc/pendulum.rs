//! Pendulum domain: swing up and hold an actuated pendulum with limited torque
//! (dm_control `suite/pendulum.py`).
//!
//! `pendulum-spin` is one of TD-MPC2's extra tasks
//! (`tdmpc2/envs/tasks/pendulum.py` in nicklashansen/tdmpc2): the swing-up
//! episode with a reward for spinning at [`SPIN_TARGET_SPEED`] or faster. It
//! has no installable reference implementation, so its reward is tested
//! directly below instead of step by step against dm_control.

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, put};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 20.0;
/// Upright within 8 degrees: `cos(deg2rad(8))`.
const ANGLE_BOUND_DEG: f64 = 8.0;

/// Angular speed (rad/s) at which `pendulum-spin` pays full reward
/// (TD-MPC2's `_TARGET_SPEED`).
pub const SPIN_TARGET_SPEED: f64 = 9.0;

/// The pendulum tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("pendulum-swingup", "pendulum", "swingup", |name| load(name, false)),
    TaskDef::tdmpc2("pendulum-spin", "pendulum", "spin", |name| load(name, true)),
];

/// The swing-up episode registered as `name`, with TD-MPC2's spin reward
/// when `spin`.
fn load(name: &str, spin: bool) -> Result<DmcEnv, EnvError> {
    // TD-MPC2's `tasks/pendulum.xml` is dm_control's `pendulum.xml`.
    let physics = Physics::load("pendulum.xml")?;
    let swing_up = SwingUp::new(&physics)?;
    let task: Box<dyn Task> = if spin {
        Box::new(Spin(swing_up))
    } else {
        Box::new(swing_up)
    };
    DmcEnv::new(name, physics, task, DEFAULT_TIME_LIMIT, 1)
}

/// Swing the pole up from a random angle and keep it upright.
pub struct SwingUp {
    pole: usize,
    hinge_qpos: usize,
    hinge_dof: usize,
}

impl SwingUp {
    pub(crate) fn new(physics: &Physics) -> Result<Self, EnvError> {
        Ok(SwingUp {
            pole: physics.body_id("pole")?,
            hinge_qpos: physics.joint_qpos_adr("hinge")?,
            hinge_dof: physics.joint_dof_adr("hinge")?,
        })
    }

    /// `cos` of the pole's angle from vertical.
    pub(crate) fn pole_vertical(&self, physics: &Physics) -> f64 {
        physics.xmat(self.pole)[mat::ZZ]
    }

    /// Angular velocity of the hinge.
    pub(crate) fn angular_velocity(&self, physics: &Physics) -> f64 {
        physics.qvel()[self.hinge_dof]
    }
}

impl Task for SwingUp {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[("orientation", 2), ("velocity", 1)])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        use std::f64::consts::PI;
        physics.data_mut().qpos_mut()[self.hinge_qpos] = random.uniform(-PI, PI);
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let m = physics.xmat(self.pole);
        let mut at = 0;
        put(
            out,
            &mut at,
            &[m[mat::ZZ], m[mat::XZ], self.angular_velocity(physics)],
        );
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let cosine_bound = ANGLE_BOUND_DEG.to_radians().cos();
        Tolerance::bounds(cosine_bound, 1.0).eval(self.pole_vertical(physics))
    }
}

/// TD-MPC2's spin task: the swing-up episode, rewarded for the pendulum's
/// angular speed, linearly from 0 at rest to 1 at [`SPIN_TARGET_SPEED`] and
/// faster.
pub struct Spin(SwingUp);

impl Spin {
    /// `rewards.tolerance(|ω|, bounds=(target, inf), margin=target/2,
    /// value_at_margin=0.5, sigmoid='linear')`.
    fn spin_reward(angular_velocity: f64) -> f64 {
        Tolerance::bounds(SPIN_TARGET_SPEED, f64::INFINITY)
            .margin(SPIN_TARGET_SPEED / 2.0)
            .value_at_margin(0.5)
            .sigmoid(Sigmoid::Linear)
            .eval(angular_velocity.abs())
    }
}

impl Task for Spin {
    fn observation_layout(&self) -> ObsLayout {
        self.0.observation_layout()
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        self.0.initialize_episode(physics, random)
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        self.0.observation(physics, out);
    }

    fn reward(&self, physics: &Physics) -> f64 {
        Self::spin_reward(self.0.angular_velocity(physics))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    /// A `pendulum-spin` environment after reset, with the hinge set to
    /// `angle` (rad) and `velocity` (rad/s).
    fn spin_reward_at(angle: f64, velocity: f64) -> f64 {
        let def = TASKS.iter().find(|t| t.name == "pendulum-spin").unwrap();
        let mut env = def.make_raw().unwrap();
        let mut obs = vec![0.0; env.spec().layout.dim()];
        env.reset_into(Some(0), &mut obs).unwrap();
        let physics = env.physics_mut();
        let q = physics.joint_qpos_adr("hinge").unwrap();
        let v = physics.joint_dof_adr("hinge").unwrap();
        physics.data_mut().qpos_mut()[q] = angle;
        physics.data_mut().qvel_mut()[v] = velocity;
        physics.forward().unwrap();
        let task = Spin(SwingUp::new(physics).unwrap());
        task.reward(physics)
    }

    #[test]
    fn spin_reward_follows_the_angular_speed() {
        // At or above the target speed, in either direction: full reward.
        assert_eq!(spin_reward_at(0.3, SPIN_TARGET_SPEED), 1.0);
        assert_eq!(spin_reward_at(2.0, -12.0), 1.0);
        // At rest, upright or hanging: two margins below the target, where
        // the linear sigmoid (0.5 at one margin) reaches 0.
        assert_eq!(spin_reward_at(0.0, 0.0), 0.0);
        assert_eq!(spin_reward_at(std::f64::consts::PI, 0.0), 0.0);
        // Half a margin below the target: 1 - 0.5 * 0.5.
        assert!((spin_reward_at(1.0, -6.75) - 0.75).abs() < 1e-12);
        // One margin below: value_at_margin.
        assert!((spin_reward_at(1.0, 4.5) - 0.5).abs() < 1e-12);
    }

    #[test]
    fn spin_keeps_the_swingup_episode() {
        let def = TASKS.iter().find(|t| t.name == "pendulum-spin").unwrap();
        let mut env = def.make_raw().unwrap();
        assert_eq!(env.spec().layout.dim(), 3);
        assert_eq!(env.spec().max_episode_steps, Some(1000));
        let mut obs = vec![0.0; 3];
        env.reset_into(Some(3), &mut obs).unwrap();
        let t = env.step_into(&[1.0], &mut obs).unwrap();
        assert!((0.0..=1.0).contains(&t.reward));
    }
}
