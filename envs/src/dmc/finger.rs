//! Finger domain: a planar two-link finger that spins a free-turning body or
//! turns it so that its tip reaches a target (dm_control `suite/finger.py`).
//!
//! Every observation is read from the model's sensors, as in dm_control.

use super::{DmcEnv, Task, TaskDef, put, randomize_limited_and_rotational_joints};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 20.0;
const CONTROL_TIMESTEP: f64 = 0.02;
/// Radius of the target the tip must enter in `turn_easy`.
const EASY_TARGET_SIZE: f64 = 0.07;
/// Radius of the target the tip must enter in `turn_hard`.
const HARD_TARGET_SIZE: f64 = 0.03;
/// Hinge speed (rad/s) above which the body counts as spinning.
const SPIN_VELOCITY: f64 = 15.0;
/// Hinge damping during the spin task.
const SPIN_HINGE_DAMPING: f64 = 0.03;
/// Attempts at a collision-free initial configuration.
const MAX_ATTEMPTS: usize = 1000;

/// The finger tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("finger-spin", "finger", "spin", |name| load(name, None)),
    TaskDef::dmc("finger-turn-easy", "finger", "turn_easy",
        |name| load(name, Some(EASY_TARGET_SIZE))),
    TaskDef::dmc("finger-turn-hard", "finger", "turn_hard",
        |name| load(name, Some(HARD_TARGET_SIZE))),
];

fn load(name: &str, target_radius: Option<f64>) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("finger.xml")?;
    let sensors = Sensors::new(&physics)?;
    let task: Box<dyn Task> = match target_radius {
        None => Box::new(Spin::new(&physics, sensors)?),
        Some(r) => Box::new(Turn::new(&physics, sensors, r)?),
    };
    DmcEnv::with_control_timestep(name, physics, task, DEFAULT_TIME_LIMIT, CONTROL_TIMESTEP)
}

/// `sensordata` addresses of the finger's sensors (dm_control's
/// `finger.Physics` helpers).
struct Sensors {
    proximal: usize,
    distal: usize,
    proximal_velocity: usize,
    distal_velocity: usize,
    hinge_velocity: usize,
    tip: usize,
    target: usize,
    spinner: usize,
    touchtop: usize,
    touchbottom: usize,
}

impl Sensors {
    fn new(physics: &Physics) -> Result<Self, EnvError> {
        let at = |name: &str| physics.sensor_range(name).map(|r| r.start);
        Ok(Sensors {
            proximal: at("proximal")?,
            distal: at("distal")?,
            proximal_velocity: at("proximal_velocity")?,
            distal_velocity: at("distal_velocity")?,
            hinge_velocity: at("hinge_velocity")?,
            tip: at("tip")?,
            target: at("target")?,
            spinner: at("spinner")?,
            touchtop: at("touchtop")?,
            touchbottom: at("touchbottom")?,
        })
    }

    /// (x, z) of a frame-position sensor relative to the spinner's hinge.
    fn relative_xz(&self, physics: &Physics, sensor: usize) -> [f64; 2] {
        let s = physics.sensordata();
        [
            s[sensor] - s[self.spinner],
            s[sensor + 2] - s[self.spinner + 2],
        ]
    }

    /// (x, z) of the tip relative to the hinge.
    fn tip_position(&self, physics: &Physics) -> [f64; 2] {
        self.relative_xz(physics, self.tip)
    }

    /// (x, z) of the target relative to the hinge.
    fn target_position(&self, physics: &Physics) -> [f64; 2] {
        self.relative_xz(physics, self.target)
    }

    /// Joint angles of the finger, then the tip position (instead of the
    /// unbounded hinge angle).
    fn bounded_position(&self, physics: &Physics) -> [f64; 4] {
        let s = physics.sensordata();
        let [x, z] = self.tip_position(physics);
        [s[self.proximal], s[self.distal], x, z]
    }

    /// Velocities of the two finger joints and the hinge.
    fn velocity(&self, physics: &Physics) -> [f64; 3] {
        let s = physics.sensordata();
        [
            s[self.proximal_velocity],
            s[self.distal_velocity],
            s[self.hinge_velocity],
        ]
    }

    /// Log-scaled signals of the two fingertip touch sensors.
    fn touch(&self, physics: &Physics) -> [f64; 2] {
        let s = physics.sensordata();
        [s[self.touchtop].ln_1p(), s[self.touchbottom].ln_1p()]
    }

    /// Writes the observations common to both tasks.
    fn put_state(&self, physics: &Physics, out: &mut [f64], at: &mut usize) {
        put(out, at, &self.bounded_position(physics));
        put(out, at, &self.velocity(physics));
        put(out, at, &self.touch(physics));
    }
}

/// Sets the joints to random angles until the configuration has no contacts
/// (dm_control's `_set_random_joint_angles`).
fn set_random_joint_angles(
    physics: &mut Physics,
    random: &mut RandomState,
) -> Result<(), EnvError> {
    for _ in 0..MAX_ATTEMPTS {
        randomize_limited_and_rotational_joints(physics, random);
        physics.after_reset()?;
        if physics.data().ncon() == 0 {
            return Ok(());
        }
    }
    Err(EnvError::Invalid(format!(
        "finger: could not find a collision-free state after {MAX_ATTEMPTS} attempts"
    )))
}

/// Spin the body fast (sparse reward while the hinge turns at
/// `SPIN_VELOCITY` or faster, in the negative direction).
pub struct Spin {
    sensors: Sensors,
    target_site: usize,
    tip_site: usize,
    hinge_dof: usize,
}

impl Spin {
    fn new(physics: &Physics, sensors: Sensors) -> Result<Self, EnvError> {
        Ok(Spin {
            sensors,
            target_site: physics.site_id("target")?,
            tip_site: physics.site_id("tip")?,
            hinge_dof: physics.joint_dof_adr("hinge")?,
        })
    }
}

impl Task for Spin {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[("position", 4), ("velocity", 3), ("touch", 2)])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        let model = physics.model_mut();
        model.site_rgba_mut()[self.target_site][3] = 0.0;
        model.site_rgba_mut()[self.tip_site][3] = 0.0;
        model.dof_damping_mut()[self.hinge_dof] = SPIN_HINGE_DAMPING;
        set_random_joint_angles(physics, random)
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        self.sensors.put_state(physics, out, &mut at);
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let hinge_velocity = physics.sensordata()[self.sensors.hinge_velocity];
        if hinge_velocity <= -SPIN_VELOCITY {
            1.0
        } else {
            0.0
        }
    }
}

/// Turn the body until its tip is inside a target of radius
/// `target_radius`, placed at a random angle on the tip's circle.
pub struct Turn {
    sensors: Sensors,
    target_radius: f64,
    target_site: usize,
    hinge_joint: usize,
    cap1: usize,
}

impl Turn {
    fn new(physics: &Physics, sensors: Sensors, target_radius: f64) -> Result<Self, EnvError> {
        Ok(Turn {
            sensors,
            target_radius,
            target_site: physics.site_id("target")?,
            hinge_joint: physics.joint_id("hinge")?,
            cap1: physics.geom_id("cap1")?,
        })
    }

    /// Vector from the tip to the target.
    fn to_target(&self, physics: &Physics) -> [f64; 2] {
        let t = self.sensors.target_position(physics);
        let p = self.sensors.tip_position(physics);
        [t[0] - p[0], t[1] - p[1]]
    }

    /// Signed distance from the tip to the target's surface (negative inside).
    fn dist_to_target(&self, physics: &Physics) -> f64 {
        let [dx, dz] = self.to_target(physics);
        (dx * dx + dz * dz).sqrt() - physics.model().site_size()[self.target_site][0]
    }
}

impl Task for Turn {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[
            ("position", 4),
            ("velocity", 3),
            ("touch", 2),
            ("target_position", 2),
            ("dist_to_target", 1),
        ])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        let target_angle = random.uniform(-std::f64::consts::PI, std::f64::consts::PI);
        let anchor = physics.data().xanchor()[self.hinge_joint];
        let size = physics.model().geom_size()[self.cap1];
        let radius = size[0] + size[1] + size[2];
        let model = physics.model_mut();
        let pos = &mut model.site_pos_mut()[self.target_site];
        pos[0] = anchor[0] + radius * target_angle.sin();
        pos[2] = anchor[2] + radius * target_angle.cos();
        model.site_size_mut()[self.target_site][0] = self.target_radius;
        set_random_joint_angles(physics, random)
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        self.sensors.put_state(physics, out, &mut at);
        put(out, &mut at, &self.sensors.target_position(physics));
        put(out, &mut at, &[self.dist_to_target(physics)]);
    }

    fn reward(&self, physics: &Physics) -> f64 {
        if self.dist_to_target(physics) <= 0.0 {
            1.0
        } else {
            0.0
        }
    }
}
