//! Cup spin: TD-MPC2's extra Ball-in-Cup task (`tdmpc2/envs/tasks/ball_in_cup.py`
//! in nicklashansen/tdmpc2), on dm_control's ball-in-cup model
//! (`suite/ball_in_cup.xml`; TD-MPC2's `tasks/ball_in_cup.xml` is the same
//! file).
//!
//! The ball, tied to the cup by a string, should swing around the cup, far
//! from the target inside it and fast. The episode starts with the ball in the
//! cup, except with probability 0.1 anywhere collision-free.
//!
//! This task has no installable reference implementation (TD-MPC2 registers
//! it in its own tree), so it is not parity-tested step by step against
//! dm_control; its reward definition is tested directly below.

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, put};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

/// Distance (m) from the target at and beyond which the distance term is 1.
const DIST_TARGET: f64 = 0.5;
/// Ball speed (m/s) at and beyond which the speed term is 1.
const TARGET_SPEED: f64 = 6.0;
/// Episode length in seconds.
const DEFAULT_TIME_LIMIT: f64 = 20.0;
/// Seconds per control step.
const CONTROL_TIMESTEP: f64 = 0.02;
/// Probability that an episode may start with the ball out of the cup.
const OUT_OF_TARGET_PROBABILITY: f64 = 0.1;

/// The cup-spin task.
pub const TASKS: &[TaskDef] = &[TaskDef::tdmpc2("cup-spin", "ball_in_cup", "spin", load)];

/// The `spin` task, registered as `name`.
fn load(name: &str) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("ball_in_cup.xml")?;
    let task = Spin::new(&physics)?;
    DmcEnv::with_control_timestep(
        name,
        physics,
        Box::new(task),
        DEFAULT_TIME_LIMIT,
        CONTROL_TIMESTEP,
    )
}

/// Spin the ball around the cup.
pub struct Spin {
    ball_x_qpos: usize,
    ball_z_qpos: usize,
    ball_x_dof: usize,
    ball_z_dof: usize,
    ball_body: usize,
    ball_geom: usize,
    target_site: usize,
}

impl Spin {
    fn new(physics: &Physics) -> Result<Self, EnvError> {
        Ok(Spin {
            ball_x_qpos: physics.joint_qpos_adr("ball_x")?,
            ball_z_qpos: physics.joint_qpos_adr("ball_z")?,
            ball_x_dof: physics.joint_dof_adr("ball_x")?,
            ball_z_dof: physics.joint_dof_adr("ball_z")?,
            ball_body: physics.body_id("ball")?,
            ball_geom: physics.geom_id("ball")?,
            target_site: physics.site_id("target")?,
        })
    }

    /// Vector from the ball to the target in the x-z plane.
    fn ball_to_target(&self, physics: &Physics) -> [f64; 2] {
        let t = physics.site_xpos(self.target_site);
        let b = physics.xpos(self.ball_body);
        [t[0] - b[0], t[2] - b[2]]
    }

    /// Whether the ball lies entirely inside the target box.
    fn in_target(&self, physics: &Physics) -> bool {
        let [dx, dz] = self.ball_to_target(physics);
        let m = physics.model();
        let target = m.site_size()[self.target_site];
        let ball = m.geom_size()[self.ball_geom][0];
        dx.abs() < target[0] - ball && dz.abs() < target[2] - ball
    }
}

impl Task for Spin {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[("position", 4), ("velocity", 4)])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        let init_out_of_target = random.random_sample() < OUT_OF_TARGET_PROBABILITY;
        loop {
            let x = random.uniform(-0.2, 0.2);
            let z = random.uniform(0.2, 0.5);
            let qpos = physics.data_mut().qpos_mut();
            qpos[self.ball_x_qpos] = x;
            qpos[self.ball_z_qpos] = z;
            physics.after_reset()?;
            let penetrating = physics.data().ncon() > 0;
            let valid = init_out_of_target || self.in_target(physics);
            if !penetrating && valid {
                return Ok(());
            }
        }
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        put(out, &mut at, physics.qpos());
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let [dx, dz] = self.ball_to_target(physics);
        let dist = (dx * dx + dz * dz).sqrt();
        let qvel = physics.qvel();
        let (vx, vz) = (qvel[self.ball_x_dof], qvel[self.ball_z_dof]);
        let speed = (vx * vx + vz * vz).sqrt();
        let dist_reward = Tolerance::bounds(DIST_TARGET, f64::INFINITY)
            .margin(DIST_TARGET / 2.0)
            .value_at_margin(0.5)
            .sigmoid(Sigmoid::Linear)
            .eval(dist);
        let vel_reward = Tolerance::bounds(TARGET_SPEED, f64::INFINITY)
            .margin(TARGET_SPEED / 2.0)
            .value_at_margin(0.5)
            .sigmoid(Sigmoid::Linear)
            .eval(speed);
        let not_in_target = if self.in_target(physics) { 0.0 } else { 1.0 };
        not_in_target * (dist_reward + 2.0 * vel_reward) / 3.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    /// A reset environment and its task's index tables.
    fn env() -> (DmcEnv, Spin) {
        let mut env = TASKS[0].make_raw().unwrap();
        let mut obs = vec![0.0; env.spec().layout.dim()];
        env.reset_into(Some(0), &mut obs).unwrap();
        let task = Spin::new(env.physics()).unwrap();
        (env, task)
    }

    /// Sets the cup at rest at its origin and the ball at `(x, z)` (joint
    /// coordinates) with velocity `(vx, vz)`, then returns the reward.
    fn reward_at(env: &mut DmcEnv, task: &Spin, x: f64, z: f64, vx: f64, vz: f64) -> f64 {
        let physics = env.physics_mut();
        let d = physics.data_mut();
        d.qpos_mut().fill(0.0);
        d.qvel_mut().fill(0.0);
        d.qpos_mut()[task.ball_x_qpos] = x;
        d.qpos_mut()[task.ball_z_qpos] = z;
        d.qvel_mut()[task.ball_x_dof] = vx;
        d.qvel_mut()[task.ball_z_dof] = vz;
        physics.forward().unwrap();
        task.reward(physics)
    }

    #[test]
    fn ball_in_the_cup_earns_nothing() {
        let (mut env, task) = env();
        // The target centre is 0.35 above the ball's origin (cup at 0.6,
        // target 0.05 below it, ball body at 0.2).
        assert_eq!(reward_at(&mut env, &task, 0.0, 0.35, 0.0, 0.0), 0.0);
        assert!(task.in_target(env.physics()));
        // Even when fast.
        assert_eq!(reward_at(&mut env, &task, 0.01, 0.34, 8.0, 0.0), 0.0);
    }

    #[test]
    fn reward_mixes_distance_and_speed() {
        let (mut env, task) = env();
        // Ball at its origin: 0.35 below the target. Distance term: 0.15 below
        // the bound = 0.6 margins, linear sigmoid 1 - 0.6 * 0.5 = 0.7.
        let dist_term = 0.7;
        // At rest: the speed term is 0 (two margins below the target speed).
        let r = reward_at(&mut env, &task, 0.0, 0.0, 0.0, 0.0);
        assert!((r - dist_term / 3.0).abs() < 1e-12, "{r}");
        // At the target speed (3-4-5 triangle, 6 m/s): speed term 1.
        let r = reward_at(&mut env, &task, 0.0, 0.0, 3.6, -4.8);
        assert!((r - (dist_term + 2.0) / 3.0).abs() < 1e-12, "{r}");
        // One margin below the target speed: speed term 0.5.
        let r = reward_at(&mut env, &task, 0.0, 0.0, -3.0, 0.0);
        assert!((r - (dist_term + 1.0) / 3.0).abs() < 1e-12, "{r}");
    }

    #[test]
    fn episodes_start_collision_free_and_mostly_in_the_cup() {
        let mut env = TASKS[0].make_raw().unwrap();
        assert_eq!(env.n_sub_steps(), 10);
        assert_eq!(env.spec().max_episode_steps, Some(1000));
        let task = Spin::new(env.physics()).unwrap();
        let mut obs = vec![0.0; 8];
        let mut in_cup = 0;
        for seed in 0..40 {
            env.reset_into(Some(seed), &mut obs).unwrap();
            assert_eq!(env.physics().data().ncon(), 0);
            in_cup += usize::from(task.in_target(env.physics()));
        }
        assert!(in_cup >= 28, "{in_cup} of 40 episodes start in the cup");
    }
}
