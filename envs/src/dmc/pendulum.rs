//! Pendulum domain: swing up and hold an actuated pendulum with limited torque
//! (dm_control `suite/pendulum.py`).

use super::rewards::Tolerance;
use super::{DmcEnv, Source, Task, TaskDef, put};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 20.0;
/// Upright within 8 degrees: `cos(deg2rad(8))`.
const ANGLE_BOUND_DEG: f64 = 8.0;

/// The pendulum tasks.
pub const TASKS: &[TaskDef] = &[TaskDef {
    name: "pendulum-swingup",
    domain: "pendulum",
    task: "swingup",
    aliases: &[],
    source: Source::DmControl,
    build: || {
        let physics = Physics::load("pendulum.xml")?;
        let task = SwingUp::new(&physics)?;
        DmcEnv::new(
            "pendulum-swingup",
            physics,
            Box::new(task),
            DEFAULT_TIME_LIMIT,
            1,
        )
    },
}];

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
