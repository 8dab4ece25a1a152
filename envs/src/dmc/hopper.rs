//! Hopper domain: a planar one-legged robot that balances upright or hops
//! forward (dm_control `suite/hopper.py`).

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, put, randomize_limited_and_rotational_joints};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 20.0;
const CONTROL_TIMESTEP: f64 = 0.02;
/// Minimal height of the torso over the foot above which the stand reward is 1.
const STAND_HEIGHT: f64 = 0.6;
/// Hopping speed above which the hop reward is 1.
const HOP_SPEED: f64 = 2.0;

/// The hopper tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("hopper-stand", "hopper", "stand", |name| load(name, false)),
    TaskDef::dmc("hopper-hop", "hopper", "hop", |name| load(name, true)),
];

fn load(name: &str, hopping: bool) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("hopper.xml")?;
    let task = Hopper::new(&physics, hopping)?;
    DmcEnv::with_control_timestep(
        name,
        physics,
        Box::new(task),
        DEFAULT_TIME_LIMIT,
        CONTROL_TIMESTEP,
    )
}

/// Stand upright with little control effort, or hop forward (`hopping`).
pub struct Hopper {
    hopping: bool,
    torso: usize,
    foot: usize,
    /// `sensordata` index of the torso subtree's forward velocity.
    speed: usize,
    touch_toe: usize,
    touch_heel: usize,
    nq: usize,
    nv: usize,
}

impl Hopper {
    fn new(physics: &Physics, hopping: bool) -> Result<Self, EnvError> {
        Ok(Hopper {
            hopping,
            torso: physics.body_id("torso")?,
            foot: physics.body_id("foot")?,
            speed: physics.sensor_range("torso_subtreelinvel")?.start,
            touch_toe: physics.sensor_range("touch_toe")?.start,
            touch_heel: physics.sensor_range("touch_heel")?.start,
            nq: physics.nq(),
            nv: physics.nv(),
        })
    }

    /// Height of the torso's centre of mass above the foot's.
    fn height(&self, physics: &Physics) -> f64 {
        let xipos = physics.data().xipos();
        xipos[self.torso][2] - xipos[self.foot][2]
    }

    /// Horizontal speed of the torso subtree's centre of mass.
    fn speed(&self, physics: &Physics) -> f64 {
        physics.sensordata()[self.speed]
    }

    /// Log-scaled signals of the toe and heel touch sensors.
    fn touch(&self, physics: &Physics) -> [f64; 2] {
        let s = physics.sensordata();
        [s[self.touch_toe].ln_1p(), s[self.touch_heel].ln_1p()]
    }
}

impl Task for Hopper {
    fn observation_layout(&self) -> ObsLayout {
        // The horizontal position (rootx) is left out.
        ObsLayout::new(&[
            ("position", self.nq - 1),
            ("velocity", self.nv),
            ("touch", 2),
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
        put(out, &mut at, &physics.qpos()[1..]);
        put(out, &mut at, physics.qvel());
        put(out, &mut at, &self.touch(physics));
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let standing = Tolerance::bounds(STAND_HEIGHT, 2.0).eval(self.height(physics));
        if self.hopping {
            let hopping = Tolerance::bounds(HOP_SPEED, f64::INFINITY)
                .margin(HOP_SPEED / 2.0)
                .value_at_margin(0.5)
                .sigmoid(Sigmoid::Linear)
                .eval(self.speed(physics));
            standing * hopping
        } else {
            let control = Tolerance::bounds(0.0, 0.0)
                .margin(1.0)
                .value_at_margin(0.0)
                .sigmoid(Sigmoid::Quadratic);
            let ctrl = physics.ctrl();
            // numpy's mean: a sequential sum (fewer than 8 terms) over n.
            let small_control =
                ctrl.iter().map(|&u| control.eval(u)).sum::<f64>() / ctrl.len() as f64;
            let small_control = (small_control + 4.0) / 5.0;
            standing * small_control
        }
    }
}
