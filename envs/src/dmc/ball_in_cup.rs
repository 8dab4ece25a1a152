//! Ball-in-cup domain: a planar cup with a ball attached by a string; swing
//! the ball up and catch it in the cup (dm_control `suite/ball_in_cup.py`).

use super::{DmcEnv, Task, TaskDef, put};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 20.0;
const CONTROL_TIMESTEP: f64 = 0.02;
/// Draws of the ball's initial position before giving up. dm_control retries
/// without bound; a collision-free position is found within a few draws.
const MAX_ATTEMPTS: usize = 100_000;

/// The ball-in-cup tasks (`cup-catch` as TD-MPC2 names it).
pub const TASKS: &[TaskDef] =
    &[TaskDef::dmc("cup-catch", "ball_in_cup", "catch", load).aliases(&["ball-in-cup-catch"])];

/// The `catch` task, registered as `name`.
fn load(name: &str) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("ball_in_cup.xml")?;
    let task = BallInCup::new(&physics)?;
    DmcEnv::with_control_timestep(
        name,
        physics,
        Box::new(task),
        DEFAULT_TIME_LIMIT,
        CONTROL_TIMESTEP,
    )
}

/// Put the ball in the cup (sparse reward while it is inside the target box).
pub struct BallInCup {
    ball_x: usize,
    ball_z: usize,
    ball_body: usize,
    ball_geom: usize,
    target: usize,
    nq: usize,
    nv: usize,
}

impl BallInCup {
    fn new(physics: &Physics) -> Result<Self, EnvError> {
        Ok(BallInCup {
            ball_x: physics.joint_qpos_adr("ball_x")?,
            ball_z: physics.joint_qpos_adr("ball_z")?,
            ball_body: physics.body_id("ball")?,
            ball_geom: physics.geom_id("ball")?,
            target: physics.site_id("target")?,
            nq: physics.nq(),
            nv: physics.nv(),
        })
    }

    /// (x, z) vector from the ball to the target.
    fn ball_to_target(&self, physics: &Physics) -> [f64; 2] {
        let target = physics.site_xpos(self.target);
        let ball = physics.xpos(self.ball_body);
        [target[0] - ball[0], target[2] - ball[2]]
    }

    /// 1 if the ball lies entirely inside the target box, 0 otherwise.
    fn in_target(&self, physics: &Physics) -> f64 {
        let [dx, dz] = self.ball_to_target(physics);
        let m = physics.model();
        let target_size = m.site_size()[self.target];
        let ball_size = m.geom_size()[self.ball_geom][0];
        let inside = dx.abs() < target_size[0] - ball_size && dz.abs() < target_size[2] - ball_size;
        if inside { 1.0 } else { 0.0 }
    }
}

impl Task for BallInCup {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[("position", self.nq), ("velocity", self.nv)])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        // Draw ball positions until the ball touches nothing.
        for _ in 0..MAX_ATTEMPTS {
            let x = random.uniform(-0.2, 0.2);
            let z = random.uniform(0.2, 0.5);
            let qpos = physics.data_mut().qpos_mut();
            qpos[self.ball_x] = x;
            qpos[self.ball_z] = z;
            physics.after_reset()?;
            if physics.data().ncon() == 0 {
                return Ok(());
            }
        }
        Err(EnvError::Invalid(format!(
            "ball_in_cup: no collision-free ball position after {MAX_ATTEMPTS} draws"
        )))
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        put(out, &mut at, physics.qpos());
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        self.in_target(physics)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dm_control_and_tdmpc2_names_resolve() {
        for name in [
            "cup-catch",
            "ball-in-cup-catch",
            "ball_in_cup-catch",
            "dm_control/ball_in_cup-catch-v0",
        ] {
            assert_eq!(
                crate::registry::find(name).unwrap().name,
                "cup-catch",
                "{name}"
            );
        }
    }
}
