//! Dog domain: a 38-actuator muscle-driven quadruped that stands, walks,
//! trots, runs, or fetches a thrown ball (dm_control `suite/dog.py`).
//!
//! dm_control builds the model from `dog.xml` with `make_model`: the floor is
//! resized to the distance the task's speed covers within the time limit, and
//! the Stand and Move tasks remove the ball, the target, the walls and the two
//! cameras that look at them. [`make_model`] applies the same edits to the
//! XML text; the model's meshes, skin and textures load from `dog_assets/`
//! next to `dog.xml` in the suite asset directory.

use mujoco_rs::prelude::{MjtJoint, MjtObjBase};

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, mjcf, put};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 15.0;
const CONTROL_TIMESTEP: f64 = 0.015;

/// Angle (in degrees) of local z from global z below which upright reward is 1.
const MAX_UPRIGHT_ANGLE: f64 = 30.0;

/// Standing reward is 1 for body-over-foot height that is at least this
/// fraction of the height at the default pose.
const STAND_HEIGHT_FRACTION: f64 = 0.9;

/// Horizontal speed above which the Walk reward is 1.
const WALK_SPEED: f64 = 1.0;
/// Horizontal speed above which the Trot reward is 1.
const TROT_SPEED: f64 = 3.0;
/// Horizontal speed above which the Run reward is 1.
const RUN_SPEED: f64 = 9.0;

/// `np.cos(np.deg2rad(_MAX_UPRIGHT_ANGLE))`.
fn min_upright_cosine() -> f64 {
    (MAX_UPRIGHT_ANGLE * (std::f64::consts::PI / 180.0)).cos()
}

/// The dog tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("dog-stand", "dog", "stand", |name| load(name, Kind::Stand)),
    TaskDef::dmc("dog-walk", "dog", "walk", |name| load(name, Kind::Move(WALK_SPEED))),
    TaskDef::dmc("dog-trot", "dog", "trot", |name| load(name, Kind::Move(TROT_SPEED))),
    TaskDef::dmc("dog-run", "dog", "run", |name| load(name, Kind::Move(RUN_SPEED))),
    TaskDef::dmc("dog-fetch", "dog", "fetch", |name| load(name, Kind::Fetch)),
];

fn load(name: &str, kind: Kind) -> Result<DmcEnv, EnvError> {
    // dm_control: the floor spans what the task's speed covers in the time
    // limit (the Stand task uses the walking speed); Fetch keeps the default 10.
    let xml = match kind {
        Kind::Stand => make_model(WALK_SPEED * DEFAULT_TIME_LIMIT, true)?,
        Kind::Move(speed) => make_model(speed * DEFAULT_TIME_LIMIT, true)?,
        Kind::Fetch => make_model(10.0, false)?,
    };
    let physics = Physics::from_xml_in_assets(&xml, "dog.xml")?;
    let task = Dog::new(&physics, kind)?;
    DmcEnv::with_control_timestep(
        name,
        physics,
        Box::new(task),
        DEFAULT_TIME_LIMIT,
        CONTROL_TIMESTEP,
    )
}

/// dm_control's `make_model(floor_size, remove_ball)`: `dog.xml` with the
/// floor resized to `floor_size` (half-length in metres) and, when
/// `remove_ball`, without the ball, the target, the walls and the `ball` and
/// `head` cameras.
pub fn make_model(floor_size: f64, remove_ball: bool) -> Result<String, EnvError> {
    let mut xml = Physics::read_asset("dog.xml")?;
    let size = format!("{floor_size} {floor_size} .1");
    mjcf::set_attribute(&mut xml, "geom", "floor", "size", &size)?;
    if remove_ball {
        for (tag, name) in [
            ("body", "ball"),
            ("geom", "target"),
            ("camera", "ball"),
            ("camera", "head"),
            ("geom", "wall_px"),
            ("geom", "wall_nx"),
            ("geom", "wall_py"),
            ("geom", "wall_ny"),
        ] {
            mjcf::remove_element(&mut xml, tag, name)?;
        }
    }
    Ok(xml)
}

/// Which dog task.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// Stand up from a random heading with random root velocities.
    Stand,
    /// Stand and move forward at (at least) the given speed.
    Move(f64),
    /// Stand, catch a thrown ball and bring it to the target.
    Fetch,
}

/// Model indices of the ball task (Fetch only).
struct BallIds {
    ball_geom: usize,
    target_geom: usize,
    ball_qpos: usize,
    ball_dof: usize,
    upper_bite: usize,
    lower_bite: usize,
    bite_radius: f64,
    target_radius: f64,
    floor_size: f64,
}

/// The dog's Stand, Move and Fetch tasks (dm_control's `Stand`, `Move` and
/// `Fetch`, which share Stand's observations and reward factors).
pub struct Dog {
    kind: Kind,
    /// `qpos` addresses of the hinge joints, in joint order.
    hinge_qpos: Vec<usize>,
    /// `qvel` addresses of the hinge joints, in joint order.
    hinge_dof: Vec<usize>,
    root_qpos: usize,
    torso: usize,
    pelvis: usize,
    skull: usize,
    head_site: usize,
    torso_linvel: usize,
    accelerometer: usize,
    velocimeter: usize,
    gyro: usize,
    /// `sensordata` addresses of `palm_L`, `palm_R`, `sole_L`, `sole_R`.
    touch: [usize; 4],
    /// `sensordata` addresses of `foot_L`, `foot_R`, `hand_L`, `hand_R`.
    force: [usize; 4],
    ball: Option<BallIds>,
    /// Number of actuator activations.
    na: usize,
    /// Torso and pelvis heights above which the standing reward is 1.
    stand_height: [f64; 2],
    body_weight: f64,
}

impl Dog {
    /// The task `kind` on a dog model (with the ball for Fetch).
    pub fn new(physics: &Physics, kind: Kind) -> Result<Self, EnvError> {
        let m = physics.model();
        if m.ffi().nu != m.ffi().na {
            return Err(EnvError::Model(
                "the dog needs one activation per actuator".into(),
            ));
        }
        let mut hinge_qpos = Vec::new();
        let mut hinge_dof = Vec::new();
        for j in 0..m.ffi().njnt as usize {
            if m.jnt_type()[j] == MjtJoint::mjJNT_HINGE {
                hinge_qpos.push(m.jnt_qposadr()[j] as usize);
                hinge_dof.push(m.jnt_dofadr()[j] as usize);
            }
        }
        let sensor = |name: &str, dim: usize| -> Result<usize, EnvError> {
            let r = physics.sensor_range(name)?;
            if r.len() != dim {
                return Err(EnvError::Model(format!(
                    "sensor '{name}' has {} values, expected {dim}",
                    r.len()
                )));
            }
            Ok(r.start)
        };
        let ball = if kind == Kind::Fetch {
            let target_geom = physics.geom_id("target")?;
            let upper_bite = physics.site_id("upper_bite")?;
            Some(BallIds {
                ball_geom: physics.geom_id("ball")?,
                target_geom,
                ball_qpos: physics.joint_qpos_adr("ball_root")?,
                ball_dof: physics.joint_dof_adr("ball_root")?,
                upper_bite,
                lower_bite: physics.site_id("lower_bite")?,
                bite_radius: m.site_size()[upper_bite][0],
                target_radius: m.geom_size()[target_geom][0],
                floor_size: m.geom_size()[physics.geom_id("floor")?][0],
            })
        } else {
            None
        };
        Ok(Dog {
            kind,
            hinge_qpos,
            hinge_dof,
            root_qpos: physics.joint_qpos_adr("root")?,
            torso: physics.body_id("torso")?,
            pelvis: physics.body_id("pelvis")?,
            skull: physics.body_id("skull")?,
            head_site: physics.site_id("head")?,
            torso_linvel: sensor("torso_linvel", 3)?,
            accelerometer: sensor("accelerometer", 3)?,
            velocimeter: sensor("velocimeter", 3)?,
            gyro: sensor("gyro", 3)?,
            touch: [
                sensor("palm_L", 1)?,
                sensor("palm_R", 1)?,
                sensor("sole_L", 1)?,
                sensor("sole_R", 1)?,
            ],
            force: [
                sensor("foot_L", 3)?,
                sensor("foot_R", 3)?,
                sensor("hand_L", 3)?,
                sensor("hand_R", 3)?,
            ],
            ball,
            na: m.ffi().na as usize,
            stand_height: [0.0; 2],
            body_weight: 0.0,
        })
    }

    /// Heights of the torso and the pelvis.
    fn torso_pelvis_height(&self, physics: &Physics) -> [f64; 2] {
        [physics.xpos(self.torso)[2], physics.xpos(self.pelvis)[2]]
    }

    /// The world-z row (`zx`, `zy`, `zz`) of the skull, torso and pelvis frames.
    fn z_projection(&self, physics: &Physics) -> [f64; 9] {
        let mut out = [0.0; 9];
        for (k, body) in [self.skull, self.torso, self.pelvis]
            .into_iter()
            .enumerate()
        {
            let m = physics.xmat(body);
            out[3 * k..3 * k + 3].copy_from_slice(&[m[mat::ZX], m[mat::ZY], m[mat::ZZ]]);
        }
        out
    }

    /// The torso subtree's centre-of-mass velocity in the torso frame.
    fn torso_com_velocity(&self, physics: &Physics) -> [f64; 3] {
        let s = physics.sensordata();
        let v = &s[self.torso_linvel..self.torso_linvel + 3];
        vec_dot_mat(v, physics.xmat(self.torso))
    }

    /// Sum of the four touch sensors.
    fn touch_sum(&self, physics: &Physics) -> f64 {
        let s = physics.sensordata();
        self.touch.iter().map(|&a| s[a]).sum()
    }

    /// dm_control's `Stand.get_reward_factors`, multiplied.
    fn standing_reward(&self, physics: &Physics) -> f64 {
        let [torso_h, pelvis_h] = self.torso_pelvis_height(physics);
        let torso = Tolerance::bounds(self.stand_height[0], f64::INFINITY)
            .margin(self.stand_height[0])
            .eval(torso_h);
        let pelvis = Tolerance::bounds(self.stand_height[1], f64::INFINITY)
            .margin(self.stand_height[1])
            .eval(pelvis_h);
        let cos = min_upright_cosine();
        let upright = Tolerance::bounds(cos, f64::INFINITY)
            .sigmoid(Sigmoid::Linear)
            .margin(cos + 1.0)
            .value_at_margin(0.0);
        let z = self.z_projection(physics);
        let touch = Tolerance::bounds(self.body_weight, f64::INFINITY)
            .margin(self.body_weight)
            .sigmoid(Sigmoid::Linear)
            .value_at_margin(0.9)
            .eval(self.touch_sum(physics));
        torso * pelvis * upright.eval(z[2]) * upright.eval(z[5]) * upright.eval(z[8]) * touch
    }

    fn ball_to_target_distance(&self, physics: &Physics, ids: &BallIds) -> f64 {
        norm3(&sub3(
            physics.geom_xpos(ids.ball_geom),
            physics.geom_xpos(ids.target_geom),
        ))
    }

    fn ball_to_mouth_distance(&self, physics: &Physics, ids: &BallIds) -> f64 {
        let ball = physics.geom_xpos(ids.ball_geom);
        let upper = norm3(&sub3(ball, physics.site_xpos(ids.upper_bite)));
        let lower = norm3(&sub3(ball, physics.site_xpos(ids.lower_bite)));
        0.5 * (upper + lower)
    }
}

/// `v.dot(m)` for a 3-vector and a row-major 3×3 matrix: `v` in the frame
/// whose axes are `m`'s columns.
fn vec_dot_mat(v: &[f64], m: &[f64; 9]) -> [f64; 3] {
    std::array::from_fn(|j| v[0] * m[j] + v[1] * m[3 + j] + v[2] * m[6 + j])
}

fn sub3(a: &[f64; 3], b: &[f64; 3]) -> [f64; 3] {
    [a[0] - b[0], a[1] - b[1], a[2] - b[2]]
}

fn norm3(v: &[f64; 3]) -> f64 {
    (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt()
}

impl Task for Dog {
    fn observation_layout(&self) -> ObsLayout {
        let n = self.hinge_qpos.len();
        // dm_control's key spells "velocites".
        let mut groups = vec![
            ("joint_angles", n),
            ("joint_velocites", n),
            ("torso_pelvis_height", 2),
            ("z_projection", 9),
            ("torso_com_velocity", 3),
            ("inertial_sensors", 9),
            ("foot_forces", 12),
            ("touch_sensors", 4),
            ("actuator_state", self.na),
        ];
        if self.ball.is_some() {
            groups.push(("ball_state", 6));
            groups.push(("target_position", 3));
        }
        ObsLayout::new(&groups)
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        physics.reset();
        let h = self.torso_pelvis_height(physics);
        self.stand_height = [h[0] * STAND_HEIGHT_FRACTION, h[1] * STAND_HEIGHT_FRACTION];
        let body_mass = physics.model().body_subtreemass()[self.torso];
        self.body_weight = -physics.model().ffi().opt.gravity[2] * body_mass;

        // Random heading.
        let azimuth = random.uniform(0.0, 2.0 * std::f64::consts::PI);
        let q = [(azimuth / 2.0).cos(), 0.0, 0.0, (azimuth / 2.0).sin()];
        let root = self.root_qpos;
        physics.data_mut().qpos_mut()[root + 3..root + 7].copy_from_slice(&q);

        // Random root velocities in the horizontal plane.
        for i in [0, 1, 5] {
            let v = 2.0 * random.standard_normal();
            physics.data_mut().qvel_mut()[i] = v;
        }

        // Random actuator states.
        for a in 0..physics.nu() {
            let [lo, hi] = physics.model().actuator_ctrlrange()[a];
            let v = random.uniform(lo, hi);
            physics.data_mut().act_mut()[a] = v;
        }

        if let Some(ids) = &self.ball {
            // The ball flies towards the centre at an upward angle.
            let radius = 0.75 * ids.floor_size;
            let azimuth = random.uniform(0.0, 2.0 * std::f64::consts::PI);
            let (s, c) = (azimuth.sin(), azimuth.cos());
            let position = [radius * s, radius * c, 0.05];
            let vertical_height = random.uniform(0.0, 3.0);
            let gravity = -physics.model().ffi().opt.gravity[2];
            let vertical_velocity = (2.0 * gravity * vertical_height).sqrt();
            let horizontal_speed = random.uniform(0.0, 5.0);
            let dx = -s + 0.05 * random.standard_normal();
            let dy = -c + 0.05 * random.standard_normal();
            let velocity = [
                horizontal_speed * dx,
                horizontal_speed * dy,
                vertical_velocity,
            ];
            let (qa, va) = (ids.ball_qpos, ids.ball_dof);
            physics.data_mut().qpos_mut()[qa..qa + 3].copy_from_slice(&position);
            physics.data_mut().qvel_mut()[va..va + 3].copy_from_slice(&velocity);
        }
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        let qpos = physics.qpos();
        for &a in &self.hinge_qpos {
            out[at] = qpos[a];
            at += 1;
        }
        let qvel = physics.qvel();
        for &a in &self.hinge_dof {
            out[at] = qvel[a];
            at += 1;
        }
        put(out, &mut at, &self.torso_pelvis_height(physics));
        put(out, &mut at, &self.z_projection(physics));
        put(out, &mut at, &self.torso_com_velocity(physics));
        let s = physics.sensordata();
        for a in [self.accelerometer, self.velocimeter, self.gyro] {
            put(out, &mut at, &s[a..a + 3]);
        }
        for a in self.force {
            put(out, &mut at, &s[a..a + 3]);
        }
        for a in self.touch {
            put(out, &mut at, &s[a..a + 1]);
        }
        put(out, &mut at, physics.data().act());
        if let Some(ids) = &self.ball {
            let head_frame = &physics.data().site_xmat()[self.head_site];
            let head_pos = physics.site_xpos(self.head_site);
            let head_to_ball = sub3(physics.geom_xpos(ids.ball_geom), head_pos);
            let head_vel =
                physics
                    .data()
                    .object_velocity(MjtObjBase::mjOBJ_SITE, self.head_site, false);
            let ball_vel =
                physics
                    .data()
                    .object_velocity(MjtObjBase::mjOBJ_GEOM, ids.ball_geom, false);
            let rel_vel = [
                ball_vel[3] - head_vel[3],
                ball_vel[4] - head_vel[4],
                ball_vel[5] - head_vel[5],
            ];
            put(out, &mut at, &vec_dot_mat(&head_to_ball, head_frame));
            put(out, &mut at, &vec_dot_mat(&rel_vel, head_frame));
            let head_to_target = sub3(physics.geom_xpos(ids.target_geom), head_pos);
            put(out, &mut at, &vec_dot_mat(&head_to_target, head_frame));
        }
        debug_assert_eq!(at, out.len());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let standing = self.standing_reward(physics);
        match self.kind {
            Kind::Stand => standing,
            Kind::Move(move_speed) => {
                let speed_margin = move_speed.max(1.0);
                let forward = Tolerance::bounds(move_speed, 2.0 * move_speed)
                    .margin(speed_margin)
                    .value_at_margin(0.0)
                    .sigmoid(Sigmoid::Linear)
                    .eval(self.torso_com_velocity(physics)[0]);
                standing * ((4.0 * forward + 1.0) / 5.0)
            }
            Kind::Fetch => {
                let Some(ids) = &self.ball else {
                    return standing;
                };
                let bite_margin = 2.0;
                let reach_ball = Tolerance::bounds(0.0, ids.bite_radius)
                    .sigmoid(Sigmoid::Reciprocal)
                    .margin(bite_margin)
                    .eval(self.ball_to_mouth_distance(physics, ids));
                let mut reach_ball = (6.0 * reach_ball + 1.0) / 7.0;
                let to_target = self.ball_to_target_distance(physics, ids);
                let ball_near_target = Tolerance::bounds(0.0, ids.target_radius)
                    .sigmoid(Sigmoid::Reciprocal)
                    .margin(ids.floor_size)
                    .eval(to_target);
                let fetch_ball = (ball_near_target + 1.0) / 2.0;
                // Let go of the ball once it has been fetched.
                if to_target < 2.0 * ids.target_radius {
                    reach_ball = 1.0;
                }
                standing * reach_ball * fetch_ball
            }
        }
    }
}
