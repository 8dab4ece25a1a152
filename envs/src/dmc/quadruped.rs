//! Quadruped domain: a four-legged ant-like robot with tendon-driven legs
//! (dm_control `suite/quadruped.py`).
//!
//! * `walk` / `run`: move forward at 0.5 / 5 m/s while staying upright.
//! * `escape`: climb out of a bowl of random bumpy terrain (heightfield),
//!   sensing it with 20 rangefinders.
//! * `fetch`: bring a ball, thrown in from a random position, to the target
//!   at the origin of a walled arena.
//!
//! The model is `quadruped.xml` edited as dm_control's `make_model` does
//! (floor size; walls, ball, target, terrain and rangefinders kept only
//! where the task uses them).

use mujoco_rs::prelude::{MjtJoint, MjtSensor};

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Source, Task, TaskDef, mjcf, put};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 20.0;
const CONTROL_TIMESTEP: f64 = 0.02;

/// Horizontal speed above which the `run` move reward is 1.
const RUN_SPEED: f64 = 5.0;
/// Horizontal speed above which the `walk` move reward is 1.
const WALK_SPEED: f64 = 0.5;

const WALLS: [&str; 4] = ["wall_px", "wall_py", "wall_nx", "wall_ny"];

/// The quadruped tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef {
        name: "quadruped-walk",
        domain: "quadruped",
        task: "walk",
        aliases: &[],
        source: Source::DmControl,
        build: || {
            let xml = make_model(Some(DEFAULT_TIME_LIMIT * WALK_SPEED), false, false, false)?;
            build("quadruped-walk", &xml, Kind::Move(WALK_SPEED))
        },
    },
    TaskDef {
        name: "quadruped-run",
        domain: "quadruped",
        task: "run",
        aliases: &[],
        source: Source::DmControl,
        build: || {
            let xml = make_model(Some(DEFAULT_TIME_LIMIT * RUN_SPEED), false, false, false)?;
            build("quadruped-run", &xml, Kind::Move(RUN_SPEED))
        },
    },
];

fn build(name: &str, xml: &str, kind: Kind) -> Result<DmcEnv, EnvError> {
    let physics = Physics::from_xml_in_assets(xml, "quadruped.xml")?;
    let task = Quadruped::new(&physics, kind)?;
    DmcEnv::with_control_timestep(
        name,
        physics,
        Box::new(task),
        DEFAULT_TIME_LIMIT,
        CONTROL_TIMESTEP,
    )
}

/// `quadruped.xml` edited as dm_control's `make_model`: the floor resized to
/// `floor_size`, and the terrain geom, rangefinder sensors, walls, ball and
/// target removed unless asked for.
pub fn make_model(
    floor_size: Option<f64>,
    terrain: bool,
    rangefinders: bool,
    walls_and_ball: bool,
) -> Result<String, EnvError> {
    let mut xml = Physics::read_asset("quadruped.xml")?;
    if let Some(size) = floor_size {
        mjcf::set_attribute(
            &mut xml,
            "geom",
            "floor",
            "size",
            &format!("{size} {size} .5"),
        )?;
    }
    if !walls_and_ball {
        for wall in WALLS {
            mjcf::remove_element(&mut xml, "geom", wall)?;
        }
        mjcf::remove_element(&mut xml, "body", "ball")?;
        mjcf::remove_element(&mut xml, "site", "target")?;
    }
    if !terrain {
        mjcf::remove_element(&mut xml, "geom", "terrain")?;
    }
    if !rangefinders {
        mjcf::remove_all(&mut xml, "rangefinder")?;
    }
    Ok(xml)
}

/// What the agent is asked to do.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// Move forward at (at least) this speed.
    Move(f64),
}

/// Model indices shared by the tasks (dm_control's quadruped `Physics`).
struct Body {
    torso: usize,
    root_qpos: usize,
    /// `qpos` / `qvel` addresses of the hinge joints, in joint order.
    hinge_qpos: Vec<usize>,
    hinge_dof: Vec<usize>,
    velocimeter: std::ops::Range<usize>,
    /// `sensordata` indices of the gyro and accelerometer sensors.
    imu: Vec<usize>,
    /// `sensordata` indices of the force and torque sensors.
    force_torque: Vec<usize>,
}

impl Body {
    fn new(physics: &Physics) -> Result<Self, EnvError> {
        let m = physics.model();
        let (mut hinge_qpos, mut hinge_dof) = (Vec::new(), Vec::new());
        for j in 0..m.ffi().njnt as usize {
            if m.jnt_type()[j] == MjtJoint::mjJNT_HINGE {
                hinge_qpos.push(m.jnt_qposadr()[j] as usize);
                hinge_dof.push(m.jnt_dofadr()[j] as usize);
            }
        }
        Ok(Body {
            torso: physics.body_id("torso")?,
            root_qpos: physics.joint_qpos_adr("root")?,
            hinge_qpos,
            hinge_dof,
            velocimeter: physics.sensor_range("velocimeter")?,
            imu: sensor_indices(
                physics,
                &[MjtSensor::mjSENS_GYRO, MjtSensor::mjSENS_ACCELEROMETER],
            ),
            force_torque: sensor_indices(
                physics,
                &[MjtSensor::mjSENS_FORCE, MjtSensor::mjSENS_TORQUE],
            ),
        })
    }

    fn common_layout(&self, na: usize) -> Vec<(&'static str, usize)> {
        vec![
            ("egocentric_state", 2 * self.hinge_qpos.len() + na),
            ("torso_velocity", 3),
            ("torso_upright", 1),
            ("imu", self.imu.len()),
            ("force_torque", self.force_torque.len()),
        ]
    }

    /// `_common_observations`: egocentric state (hinge positions and
    /// velocities, actuator activations), torso velocity, torso uprightness,
    /// IMU and `arcsinh` of the toe force/torque sensors.
    fn common_observations(&self, physics: &Physics, out: &mut [f64], at: &mut usize) {
        let (qpos, qvel) = (physics.qpos(), physics.qvel());
        for &a in &self.hinge_qpos {
            put(out, at, &[qpos[a]]);
        }
        for &a in &self.hinge_dof {
            put(out, at, &[qvel[a]]);
        }
        put(out, at, physics.data().act());
        let sensordata = physics.sensordata();
        put(out, at, &sensordata[self.velocimeter.clone()]);
        put(out, at, &[self.torso_upright(physics)]);
        for &i in &self.imu {
            put(out, at, &[sensordata[i]]);
        }
        for &i in &self.force_torque {
            put(out, at, &[sensordata[i].asinh()]);
        }
    }

    /// z component of the torso's z axis.
    fn torso_upright(&self, physics: &Physics) -> f64 {
        physics.xmat(self.torso)[mat::ZZ]
    }

    /// Velocimeter reading (torso velocity in its own frame).
    fn torso_velocity(&self, physics: &Physics) -> [f64; 3] {
        let s = &physics.sensordata()[self.velocimeter.clone()];
        [s[0], s[1], s[2]]
    }

    /// `_upright_reward`: 1 when the torso's z axis is within
    /// `deviation_angle` degrees of vertical, falling linearly to 0 upside
    /// down.
    fn upright_reward(&self, physics: &Physics, deviation_angle: f64) -> f64 {
        let deviation = (deviation_angle * (std::f64::consts::PI / 180.0)).cos();
        Tolerance::bounds(deviation, f64::INFINITY)
            .sigmoid(Sigmoid::Linear)
            .margin(1.0 + deviation)
            .value_at_margin(0.0)
            .eval(self.torso_upright(physics))
    }

    /// Moves the torso up from the floor in 1 cm steps, with the given
    /// orientation and horizontal position, until nothing touches
    /// (`_find_non_contacting_height`; each try is a full reset).
    fn find_non_contacting_height(
        &self,
        physics: &mut Physics,
        orientation: [f64; 4],
        x: f64,
        y: f64,
    ) -> Result<(), EnvError> {
        let mut z = 0.0;
        let mut attempts = 0;
        loop {
            physics.reset();
            let q = &mut physics.data_mut().qpos_mut()[self.root_qpos..self.root_qpos + 7];
            q[..3].copy_from_slice(&[x, y, z]);
            q[3..].copy_from_slice(&orientation);
            // A full contact buffer raises a physics error here: dm_control
            // ignores it and tries the next height.
            let _ = physics.after_reset();
            let contacts = physics.data().ncon();
            z += 0.01;
            attempts += 1;
            if attempts > 10_000 {
                return Err(EnvError::Invalid(
                    "quadruped: failed to find a non-contacting configuration".into(),
                ));
            }
            if contacts == 0 {
                return Ok(());
            }
        }
    }
}

/// `sensordata` indices of every sensor whose type is one of `types`, in
/// sensor order.
fn sensor_indices(physics: &Physics, types: &[MjtSensor]) -> Vec<usize> {
    let m = physics.model();
    (0..m.ffi().nsensor as usize)
        .filter(|&s| types.contains(&m.sensor_type()[s]))
        .flat_map(|s| {
            let adr = m.sensor_adr()[s] as usize;
            adr..adr + m.sensor_dim()[s] as usize
        })
        .collect()
}

/// `np.linalg.norm` of a short vector as numpy computes it here: the square
/// root of a dot product accumulated with fused multiply-adds.
fn norm(v: &[f64]) -> f64 {
    v.iter().fold(0.0, |acc, &x| x.mul_add(x, acc)).sqrt()
}

/// A random unit quaternion: `randn(4)` normalised with `np.linalg.norm`.
fn random_orientation(random: &mut RandomState) -> [f64; 4] {
    let q: [f64; 4] = std::array::from_fn(|_| random.standard_normal());
    let n = norm(&q);
    q.map(|x| x / n)
}

/// A quadruped task.
pub struct Quadruped {
    kind: Kind,
    body: Body,
    na: usize,
}

impl Quadruped {
    fn new(physics: &Physics, kind: Kind) -> Result<Self, EnvError> {
        Ok(Quadruped {
            kind,
            body: Body::new(physics)?,
            na: physics.model().ffi().na as usize,
        })
    }
}

impl Task for Quadruped {
    fn observation_layout(&self) -> ObsLayout {
        let groups = self.body.common_layout(self.na);
        ObsLayout::new(&groups)
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        match self.kind {
            Kind::Move(_) => {
                let orientation = random_orientation(random);
                self.body
                    .find_non_contacting_height(physics, orientation, 0.0, 0.0)
            }
        }
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        self.body.common_observations(physics, out, &mut at);
    }

    fn reward(&self, physics: &Physics) -> f64 {
        match self.kind {
            Kind::Move(desired_speed) => {
                let move_reward = Tolerance::bounds(desired_speed, f64::INFINITY)
                    .margin(desired_speed)
                    .value_at_margin(0.5)
                    .sigmoid(Sigmoid::Linear)
                    .eval(self.body.torso_velocity(physics)[0]);
                self.body.upright_reward(physics, 0.0) * move_reward
            }
        }
    }
}
