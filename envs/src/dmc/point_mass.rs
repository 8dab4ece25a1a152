//! Point-mass domain: drive a planar point mass to the target at the origin
//! (dm_control `suite/point_mass.py`).

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, put, randomize_limited_and_rotational_joints};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 20.0;

/// The point-mass tasks (`pointmass-easy` as TD-MPC2 names it).
pub const TASKS: &[TaskDef] =
    &[TaskDef::dmc("pointmass-easy", "point_mass", "easy", load).aliases(&["point-mass-easy"])];

/// The `easy` task, registered as `name`.
fn load(name: &str) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("point_mass.xml")?;
    let task = PointMass::new(&physics)?;
    DmcEnv::new(name, physics, Box::new(task), DEFAULT_TIME_LIMIT, 1)
}

/// Reach the target from a random position with fixed actuator gains
/// (`easy`).
pub struct PointMass {
    target: usize,
    pointmass: usize,
}

impl PointMass {
    fn new(physics: &Physics) -> Result<Self, EnvError> {
        Ok(PointMass {
            target: physics.geom_id("target")?,
            pointmass: physics.geom_id("pointmass")?,
        })
    }
}

impl Task for PointMass {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[("position", 2), ("velocity", 2)])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        randomize_limited_and_rotational_joints(physics, random);
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        put(out, &mut at, physics.qpos());
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let target_size = physics.model().geom_size()[self.target][0];
        let t = physics.geom_xpos(self.target);
        let p = physics.geom_xpos(self.pointmass);
        let d = [t[0] - p[0], t[1] - p[1], t[2] - p[2]];
        let dist = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        let near_target = Tolerance::bounds(0.0, target_size)
            .margin(target_size)
            .eval(dist);
        let control = Tolerance::bounds(0.0, 0.0)
            .margin(1.0)
            .value_at_margin(0.0)
            .sigmoid(Sigmoid::Quadratic);
        let ctrl = physics.ctrl();
        let control_reward = ctrl.iter().map(|&u| control.eval(u)).sum::<f64>() / ctrl.len() as f64;
        let small_control = (control_reward + 4.0) / 5.0;
        near_target * small_control
    }
}
