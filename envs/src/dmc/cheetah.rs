//! Cheetah domain: a planar biped (the "half cheetah") rewarded for running
//! forward (dm_control `suite/cheetah.py`).

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, put};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 10.0;
/// Running speed above which the reward is 1.
const RUN_SPEED: f64 = 10.0;
/// Physics steps taken in `initialize_episode` to let the model settle.
const SETTLE_STEPS: usize = 200;

/// The cheetah tasks.
pub const TASKS: &[TaskDef] = &[TaskDef::dmc("cheetah-run", "cheetah", "run", load)];

/// The `run` task, registered as `name`.
fn load(name: &str) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("cheetah.xml")?;
    let task = Cheetah::new(&physics)?;
    DmcEnv::new(name, physics, Box::new(task), DEFAULT_TIME_LIMIT, 1)
}

/// Run forward as fast as possible (reward 1 from `RUN_SPEED` on).
pub struct Cheetah {
    /// `qpos` address and range of each joint with limits, in joint order.
    limited: Vec<(usize, [f64; 2])>,
    nq: usize,
    nv: usize,
    /// `sensordata` index of the torso subtree's forward velocity.
    speed: usize,
}

impl Cheetah {
    fn new(physics: &Physics) -> Result<Self, EnvError> {
        let m = physics.model();
        // dm_control indexes qpos by joint id: every joint has one coordinate.
        if physics.nq() != m.ffi().njnt as usize {
            return Err(EnvError::Model(
                "cheetah: expected one coordinate per joint".into(),
            ));
        }
        let limited = (0..m.ffi().njnt as usize)
            .filter(|&j| m.jnt_limited()[j])
            .map(|j| (m.jnt_qposadr()[j] as usize, m.jnt_range()[j]))
            .collect();
        Ok(Cheetah {
            limited,
            nq: physics.nq(),
            nv: physics.nv(),
            speed: physics.sensor_range("torso_subtreelinvel")?.start,
        })
    }

    /// Horizontal speed of the torso subtree's centre of mass.
    fn speed(&self, physics: &Physics) -> f64 {
        physics.sensordata()[self.speed]
    }
}

impl Task for Cheetah {
    fn observation_layout(&self) -> ObsLayout {
        // The horizontal position (rootx) is left out.
        ObsLayout::new(&[("position", self.nq - 1), ("velocity", self.nv)])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        // `qpos[is_limited] = uniform(lower, upper)`: one draw per limited
        // joint, in joint order.
        let qpos = physics.data_mut().qpos_mut();
        for &(adr, [lower, upper]) in &self.limited {
            qpos[adr] = random.uniform(lower, upper);
        }
        // Let the model settle on the ground, then restart the clock.
        physics.step(SETTLE_STEPS)?;
        physics.data_mut().set_time(0.0);
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        put(out, &mut at, &physics.qpos()[1..]);
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        Tolerance::bounds(RUN_SPEED, f64::INFINITY)
            .margin(RUN_SPEED)
            .value_at_margin(0.0)
            .sigmoid(Sigmoid::Linear)
            .eval(self.speed(physics))
    }
}
