//! Reacher domain: a two-link planar arm reaching a randomly placed target
//! (dm_control `suite/reacher.py`).

use super::rewards::Tolerance;
use super::{DmcEnv, Task, TaskDef, put, randomize_limited_and_rotational_joints};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 20.0;
const BIG_TARGET: f64 = 0.05;
const SMALL_TARGET: f64 = 0.015;

/// The reacher tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("reacher-easy", "reacher", "easy", |name| load(name, BIG_TARGET)),
    TaskDef::dmc("reacher-hard", "reacher", "hard", |name| load(name, SMALL_TARGET)),
];

fn load(name: &str, target_size: f64) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("reacher.xml")?;
    let task = Reacher::new(&physics, target_size)?;
    DmcEnv::new(name, physics, Box::new(task), DEFAULT_TIME_LIMIT, 1)
}

/// Reach a target of a given size placed at a random angle and radius.
pub struct Reacher {
    target_size: f64,
    target: usize,
    finger: usize,
}

impl Reacher {
    fn new(physics: &Physics, target_size: f64) -> Result<Self, EnvError> {
        Ok(Reacher {
            target_size,
            target: physics.geom_id("target")?,
            finger: physics.geom_id("finger")?,
        })
    }

    /// Vector from finger to target in the plane.
    fn finger_to_target(&self, physics: &Physics) -> [f64; 2] {
        let t = physics.geom_xpos(self.target);
        let f = physics.geom_xpos(self.finger);
        [t[0] - f[0], t[1] - f[1]]
    }
}

impl Task for Reacher {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[("position", 2), ("to_target", 2), ("velocity", 2)])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        physics.model_mut().geom_size_mut()[self.target][0] = self.target_size;
        randomize_limited_and_rotational_joints(physics, random);
        let angle = random.uniform(0.0, 2.0 * std::f64::consts::PI);
        let radius = random.uniform(0.05, 0.20);
        let pos = &mut physics.model_mut().geom_pos_mut()[self.target];
        pos[0] = radius * angle.sin();
        pos[1] = radius * angle.cos();
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        put(out, &mut at, physics.qpos());
        put(out, &mut at, &self.finger_to_target(physics));
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let size = physics.model().geom_size();
        let radii = size[self.target][0] + size[self.finger][0];
        let [dx, dy] = self.finger_to_target(physics);
        Tolerance::bounds(0.0, radii).eval((dx * dx + dy * dy).sqrt())
    }
}
