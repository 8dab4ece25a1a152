//! Walker domain: a planar biped that stands up, walks or runs
//! (dm_control `suite/walker.py`).

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, put, randomize_limited_and_rotational_joints};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 25.0;
const CONTROL_TIMESTEP: f64 = 0.025;
/// Minimal torso height above which the stand reward is 1.
const STAND_HEIGHT: f64 = 1.2;
/// Horizontal speed above which the walk reward is 1.
const WALK_SPEED: f64 = 1.0;
/// Horizontal speed above which the run reward is 1.
const RUN_SPEED: f64 = 8.0;

/// The walker tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("walker-stand", "walker", "stand", |name| load(name, 0.0)),
    TaskDef::dmc("walker-walk", "walker", "walk", |name| load(name, WALK_SPEED)),
    TaskDef::dmc("walker-run", "walker", "run", |name| load(name, RUN_SPEED)),
];

fn load(name: &str, move_speed: f64) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("walker.xml")?;
    let task = PlanarWalker::new(&physics, move_speed)?;
    DmcEnv::with_control_timestep(
        name,
        physics,
        Box::new(task),
        DEFAULT_TIME_LIMIT,
        CONTROL_TIMESTEP,
    )
}

/// Stand up (`move_speed == 0`) or move forward at `move_speed` while
/// staying upright, from random joint angles.
pub struct PlanarWalker {
    move_speed: f64,
    torso: usize,
    /// `sensordata` index of the torso subtree's forward velocity.
    speed: usize,
    nbody: usize,
    nv: usize,
}

impl PlanarWalker {
    fn new(physics: &Physics, move_speed: f64) -> Result<Self, EnvError> {
        Ok(PlanarWalker {
            move_speed,
            torso: physics.body_id("torso")?,
            speed: physics.sensor_range("torso_subtreelinvel")?.start,
            nbody: physics.model().ffi().nbody as usize,
            nv: physics.nv(),
        })
    }

    /// Projection of the torso's z axis on the world's z axis.
    fn torso_upright(&self, physics: &Physics) -> f64 {
        physics.xmat(self.torso)[mat::ZZ]
    }

    /// Height of the torso.
    fn torso_height(&self, physics: &Physics) -> f64 {
        physics.xpos(self.torso)[2]
    }

    /// Horizontal velocity of the torso subtree's centre of mass.
    fn horizontal_velocity(&self, physics: &Physics) -> f64 {
        physics.sensordata()[self.speed]
    }
}

impl Task for PlanarWalker {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[
            ("orientations", 2 * (self.nbody - 1)),
            ("height", 1),
            ("velocity", self.nv),
        ])
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
        // Planar orientations of every body but the world: xmat's xx and xz.
        for b in 1..self.nbody {
            let m = physics.xmat(b);
            put(out, &mut at, &[m[mat::XX], m[mat::XZ]]);
        }
        put(out, &mut at, &[self.torso_height(physics)]);
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let standing = Tolerance::bounds(STAND_HEIGHT, f64::INFINITY)
            .margin(STAND_HEIGHT / 2.0)
            .eval(self.torso_height(physics));
        let upright = (1.0 + self.torso_upright(physics)) / 2.0;
        let stand_reward = (3.0 * standing + upright) / 4.0;
        if self.move_speed == 0.0 {
            return stand_reward;
        }
        let move_reward = Tolerance::bounds(self.move_speed, f64::INFINITY)
            .margin(self.move_speed / 2.0)
            .value_at_margin(0.5)
            .sigmoid(Sigmoid::Linear)
            .eval(self.horizontal_velocity(physics));
        stand_reward * (5.0 * move_reward + 1.0) / 6.0
    }
}
