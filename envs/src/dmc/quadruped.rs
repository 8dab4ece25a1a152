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
use super::{DmcEnv, Source, Task, TaskDef, mjcf, numpy_norm, put};
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

const HEIGHTFIELD_ID: usize = 0;
/// 0.0: maximally bumpy; 1.0: completely smooth.
const TERRAIN_SMOOTHNESS: f64 = 0.15;
/// Spatial scale of terrain bumps (in meters).
const TERRAIN_BUMP_SCALE: f64 = 2.0;

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
    TaskDef {
        name: "quadruped-escape",
        domain: "quadruped",
        task: "escape",
        aliases: &[],
        source: Source::DmControl,
        build: || {
            let xml = make_model(Some(40.0), true, true, false)?;
            build("quadruped-escape", &xml, Kind::Escape)
        },
    },
    TaskDef {
        name: "quadruped-fetch",
        domain: "quadruped",
        task: "fetch",
        aliases: &[],
        source: Source::DmControl,
        build: || {
            let xml = make_model(None, false, false, true)?;
            build("quadruped-fetch", &xml, Kind::Fetch)
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
    /// Escape the bowl-shaped terrain.
    Escape,
    /// Bring the ball to the target.
    Fetch,
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

    /// `v @ torso_frame`: a world vector in the torso frame.
    fn to_torso_frame(&self, physics: &Physics, v: [f64; 3]) -> [f64; 3] {
        let m = physics.xmat(self.torso);
        std::array::from_fn(|j| v[0] * m[j] + v[1] * m[3 + j] + v[2] * m[6 + j])
    }

    /// World position of the torso.
    fn torso_pos(&self, physics: &Physics) -> [f64; 3] {
        *physics.xpos(self.torso)
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

/// A random unit quaternion: `randn(4)` normalised with `np.linalg.norm`.
fn random_orientation(random: &mut RandomState) -> [f64; 4] {
    let q: [f64; 4] = std::array::from_fn(|_| random.standard_normal());
    let n = numpy_norm(&q);
    q.map(|x| x / n)
}

/// Model indices of the fetch task.
struct FetchParts {
    ball: usize,
    ball_qpos: usize,
    ball_dof: usize,
    root_dof: usize,
    target: usize,
    workspace: usize,
    floor: usize,
    ball_geom: usize,
}

/// The escape task's terrain generator and model indices.
struct EscapeParts {
    workspace: usize,
    /// `sensordata` indices of the rangefinders.
    rangefinders: Vec<usize>,
    /// Heightfield resolution (square).
    res: usize,
    /// Start of the heightfield in `hfield_data`.
    hfield_adr: usize,
    /// Number of random bumps along each side.
    bump_res: usize,
    /// The sinusoidal bowl, `res × res`, row-major.
    bowl: Vec<f64>,
    /// Smooth bumps resampled to `res × res`.
    zoom: CubicZoom,
}

impl EscapeParts {
    fn new(physics: &Physics) -> Result<Self, EnvError> {
        let m = physics.model();
        if m.ffi().nhfield as usize <= HEIGHTFIELD_ID {
            return Err(EnvError::Model(
                "quadruped escape needs a heightfield".into(),
            ));
        }
        let res = m.hfield_nrow()[HEIGHTFIELD_ID] as usize;
        if res != m.hfield_ncol()[HEIGHTFIELD_ID] as usize || res < 2 {
            return Err(EnvError::Model(
                "quadruped escape needs a square heightfield".into(),
            ));
        }
        // Sinusoidal bowl shape: np.ogrid[-1:1:res*1j] on both axes.
        let step = 2.0 / (res - 1) as f64;
        let grid: Vec<f64> = (0..res).map(|i| i as f64 * step + -1.0).collect();
        let mut bowl = Vec::with_capacity(res * res);
        for row in &grid {
            for col in &grid {
                let radius = (col * col + row * row).sqrt().clamp(0.04, 1.0);
                bowl.push(0.5 - (2.0 * std::f64::consts::PI * radius).cos() / 2.0);
            }
        }
        let terrain_size = 2.0 * m.hfield_size()[HEIGHTFIELD_ID][0];
        let bump_res = (terrain_size / TERRAIN_BUMP_SCALE) as usize;
        if bump_res == 0 {
            return Err(EnvError::Model(
                "quadruped escape terrain is too small".into(),
            ));
        }
        let zoom = CubicZoom::new(bump_res, res as f64 / bump_res as f64);
        if zoom.out_len != res {
            return Err(EnvError::Model(
                "quadruped escape: bump grid does not resample to the heightfield".into(),
            ));
        }
        Ok(EscapeParts {
            workspace: physics.site_id("workspace")?,
            rangefinders: sensor_indices(physics, &[MjtSensor::mjSENS_RANGEFINDER]),
            res,
            hfield_adr: m.hfield_adr()[HEIGHTFIELD_ID] as usize,
            bump_res,
            bowl,
            zoom,
        })
    }

    /// Writes a new random terrain into the heightfield: the bowl times
    /// random bumps in `[TERRAIN_SMOOTHNESS, 1)` smoothed by cubic-spline
    /// resampling.
    fn randomize_terrain(&mut self, physics: &mut Physics, random: &mut RandomState) {
        let n = self.bump_res;
        let bumps: Vec<f64> = (0..n * n)
            .map(|_| random.uniform(TERRAIN_SMOOTHNESS, 1.0))
            .collect();
        let smooth = self.zoom.apply(&bumps);
        let cells = self.res * self.res;
        let data =
            &mut physics.model_mut().hfield_data_mut()[self.hfield_adr..self.hfield_adr + cells];
        for ((h, b), s) in data.iter_mut().zip(&self.bowl).zip(smooth) {
            *h = (b * s) as f32;
        }
    }
}

/// A quadruped task.
pub struct Quadruped {
    kind: Kind,
    body: Body,
    na: usize,
    fetch: Option<FetchParts>,
    escape: Option<EscapeParts>,
}

impl Quadruped {
    fn new(physics: &Physics, kind: Kind) -> Result<Self, EnvError> {
        let fetch = match kind {
            Kind::Fetch => Some(FetchParts {
                ball: physics.body_id("ball")?,
                ball_qpos: physics.joint_qpos_adr("ball_root")?,
                ball_dof: physics.joint_dof_adr("ball_root")?,
                root_dof: physics.joint_dof_adr("root")?,
                target: physics.site_id("target")?,
                workspace: physics.site_id("workspace")?,
                floor: physics.geom_id("floor")?,
                ball_geom: physics.geom_id("ball")?,
            }),
            _ => None,
        };
        let escape = match kind {
            Kind::Escape => Some(EscapeParts::new(physics)?),
            _ => None,
        };
        Ok(Quadruped {
            kind,
            body: Body::new(physics)?,
            na: physics.model().ffi().na as usize,
            fetch,
            escape,
        })
    }

    /// `ball_state`: ball position and linear velocity relative to the
    /// torso, and ball angular velocity, each in the torso frame.
    fn ball_state(&self, f: &FetchParts, physics: &Physics, out: &mut [f64], at: &mut usize) {
        let torso = self.body.torso_pos(physics);
        let ball = physics.xpos(f.ball);
        let qvel = physics.qvel();
        let (b, r) = (
            &qvel[f.ball_dof..f.ball_dof + 6],
            &qvel[f.root_dof..f.root_dof + 3],
        );
        let rows = [
            [ball[0] - torso[0], ball[1] - torso[1], ball[2] - torso[2]],
            [b[0] - r[0], b[1] - r[1], b[2] - r[2]],
            [b[3], b[4], b[5]],
        ];
        for row in rows {
            put(out, at, &self.body.to_torso_frame(physics, row));
        }
    }
}

impl Task for Quadruped {
    fn observation_layout(&self) -> ObsLayout {
        let mut groups = self.body.common_layout(self.na);
        if let Some(e) = &self.escape {
            groups.push(("origin", 3));
            groups.push(("rangefinder", e.rangefinders.len()));
        }
        if self.fetch.is_some() {
            groups.push(("ball_state", 9));
            groups.push(("target_position", 3));
        }
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
            Kind::Escape => {
                if let Some(e) = self.escape.as_mut() {
                    e.randomize_terrain(physics, random);
                }
                let orientation = random_orientation(random);
                self.body
                    .find_non_contacting_height(physics, orientation, 0.0, 0.0)
            }
            Kind::Fetch => {
                let Some(f) = &self.fetch else {
                    return Ok(());
                };
                // Random azimuth and horizontal position.
                let azimuth = random.uniform(0.0, 2.0 * std::f64::consts::PI);
                let orientation = [(azimuth / 2.0).cos(), 0.0, 0.0, (azimuth / 2.0).sin()];
                let spawn_radius = 0.9 * physics.model().geom_size()[f.floor][0];
                let x = random.uniform(-spawn_radius, spawn_radius);
                let y = random.uniform(-spawn_radius, spawn_radius);
                self.body
                    .find_non_contacting_height(physics, orientation, x, y)?;
                // Ball dropped from 2 m with a random horizontal velocity.
                let bx = random.uniform(-spawn_radius, spawn_radius);
                let by = random.uniform(-spawn_radius, spawn_radius);
                let qpos = physics.data_mut().qpos_mut();
                qpos[f.ball_qpos..f.ball_qpos + 3].copy_from_slice(&[bx, by, 2.0]);
                let vx = 5.0 * random.standard_normal();
                let vy = 5.0 * random.standard_normal();
                let qvel = physics.data_mut().qvel_mut();
                qvel[f.ball_dof..f.ball_dof + 2].copy_from_slice(&[vx, vy]);
                Ok(())
            }
        }
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        self.body.common_observations(physics, out, &mut at);
        if let Some(e) = &self.escape {
            // Origin in the torso frame: -(torso_pos @ torso_frame).
            let origin = self
                .body
                .to_torso_frame(physics, self.body.torso_pos(physics))
                .map(|x| -x);
            put(out, &mut at, &origin);
            let sensordata = physics.sensordata();
            for &i in &e.rangefinders {
                let r = sensordata[i];
                put(out, &mut at, &[if r == -1.0 { 1.0 } else { r.tanh() }]);
            }
        }
        if let Some(f) = &self.fetch {
            self.ball_state(f, physics, out, &mut at);
            let torso = self.body.torso_pos(physics);
            let target = physics.site_xpos(f.target);
            let to_target = std::array::from_fn(|i| target[i] - torso[i]);
            put(out, &mut at, &self.body.to_torso_frame(physics, to_target));
        }
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
            Kind::Escape => {
                let Some(e) = &self.escape else { return 0.0 };
                let terrain_size = physics.model().hfield_size()[HEIGHTFIELD_ID][0];
                let origin_distance = numpy_norm(physics.site_xpos(e.workspace));
                let escape_reward = Tolerance::bounds(terrain_size, f64::INFINITY)
                    .margin(terrain_size)
                    .value_at_margin(0.0)
                    .sigmoid(Sigmoid::Linear)
                    .eval(origin_distance);
                self.body.upright_reward(physics, 20.0) * escape_reward
            }
            Kind::Fetch => {
                let Some(f) = &self.fetch else { return 0.0 };
                let m = physics.model();
                let arena_radius = m.geom_size()[f.floor][0] * std::f64::consts::SQRT_2;
                let workspace_radius = m.site_size()[f.workspace][0];
                let ball_radius = m.geom_size()[f.ball_geom][0];
                let target_radius = m.site_size()[f.target][0];
                let ball = physics.xpos(f.ball);
                let workspace = physics.site_xpos(f.workspace);
                let target = physics.site_xpos(f.target);
                let self_to_ball = numpy_norm(&[workspace[0] - ball[0], workspace[1] - ball[1]]);
                let ball_to_target = numpy_norm(&[target[0] - ball[0], target[1] - ball[1]]);
                let reach_reward = Tolerance::bounds(0.0, workspace_radius + ball_radius)
                    .sigmoid(Sigmoid::Linear)
                    .margin(arena_radius)
                    .value_at_margin(0.0)
                    .eval(self_to_ball);
                let fetch_reward = Tolerance::bounds(0.0, target_radius)
                    .sigmoid(Sigmoid::Linear)
                    .margin(arena_radius)
                    .value_at_margin(0.0)
                    .eval(ball_to_target);
                let reach_then_fetch = reach_reward * (0.5 + 0.5 * fetch_reward);
                self.body.upright_reward(physics, 0.0) * reach_then_fetch
            }
        }
    }
}

/// scipy's `ndimage.zoom(input, factor)` of a square grid with its defaults
/// (cubic spline, `mode='constant'`, prefilter, `grid_mode=False`), as
/// dm_control smooths the escape terrain's bumps: the input is converted to
/// B-spline coefficients (mirror boundaries, axis 0 then axis 1), then each
/// output sample `k` is interpolated at input coordinate
/// `k (n - 1) / (out - 1)` with mirrored coefficient indices at the edges.
struct CubicZoom {
    n: usize,
    out_len: usize,
    /// Per output index: the four input indices and their weights, or
    /// `None` outside the input (value 0).
    taps: Vec<Option<([usize; 4], [f64; 4])>>,
    coeffs: Vec<f64>,
    line: Vec<f64>,
    out: Vec<f64>,
}

/// The cubic B-spline's filter pole, `sqrt(3) - 2`.
const CUBIC_POLE: f64 = -0.267_949_192_431_122_7;

impl CubicZoom {
    fn new(n: usize, factor: f64) -> Self {
        let out_len = (n as f64 * factor).round_ties_even() as usize;
        let zoom = if out_len > 1 {
            (n - 1) as f64 / (out_len - 1) as f64
        } else {
            1.0
        };
        let taps = (0..out_len)
            .map(|k| {
                let cc = k as f64 * zoom;
                if cc < 0.0 || cc > (n - 1) as f64 {
                    return None;
                }
                let start = cc.floor() as i64 - 1;
                let idx = std::array::from_fn(|h| mirror_index(start + h as i64, n));
                Some((idx, cubic_weights(cc)))
            })
            .collect();
        CubicZoom {
            n,
            out_len,
            taps,
            coeffs: vec![0.0; n * n],
            line: vec![0.0; n],
            out: vec![0.0; out_len * out_len],
        }
    }

    /// The zoomed `out_len × out_len` grid (row-major) of an `n × n` input.
    fn apply(&mut self, input: &[f64]) -> &[f64] {
        let n = self.n;
        self.coeffs.copy_from_slice(input);
        if n > 1 {
            // Axis 0: every column.
            for c in 0..n {
                for r in 0..n {
                    self.line[r] = self.coeffs[r * n + c];
                }
                spline_filter_line(&mut self.line);
                for r in 0..n {
                    self.coeffs[r * n + c] = self.line[r];
                }
            }
            // Axis 1: every row.
            for r in 0..n {
                spline_filter_line(&mut self.coeffs[r * n..(r + 1) * n]);
            }
        }
        for (i, tap_i) in self.taps.iter().enumerate() {
            for (j, tap_j) in self.taps.iter().enumerate() {
                self.out[i * self.out_len + j] = match (tap_i, tap_j) {
                    (Some((ri, wi)), Some((cj, wj))) => {
                        let mut t = 0.0;
                        for a in 0..4 {
                            for b in 0..4 {
                                t += self.coeffs[ri[a] * n + cj[b]] * wi[a] * wj[b];
                            }
                        }
                        t
                    }
                    _ => 0.0,
                };
            }
        }
        &self.out
    }
}

/// An index outside `[0, len)` mirrored about the end samples.
fn mirror_index(idx: i64, len: usize) -> usize {
    let len = len as i64;
    if len <= 1 {
        return 0;
    }
    let s2 = 2 * len - 2;
    let mut idx = idx;
    if idx < 0 {
        idx += s2 * (-idx / s2);
        idx = if idx <= 1 - len { idx + s2 } else { -idx };
    } else if idx >= len {
        idx -= s2 * (idx / s2);
        if idx >= len {
            idx = s2 - idx;
        }
    }
    idx as usize
}

/// The four cubic B-spline weights at coordinate `x` (for the samples
/// `floor(x) - 1 ..= floor(x) + 2`).
fn cubic_weights(x: f64) -> [f64; 4] {
    let y = x - x.floor();
    let z = 1.0 - y;
    let w1 = (y * y * (y - 2.0) * 3.0 + 4.0) / 6.0;
    let w2 = (z * z * (z - 2.0) * 3.0 + 4.0) / 6.0;
    let w0 = z * z * z / 6.0;
    let w3 = 1.0 - w0 - w1 - w2;
    [w0, w1, w2, w3]
}

/// Converts one line of samples to cubic B-spline coefficients in place,
/// with mirror-symmetric boundaries (a causal and an anti-causal recursive
/// filter after the gain).
fn spline_filter_line(c: &mut [f64]) {
    let n = c.len();
    let z = CUBIC_POLE;
    let gain = (1.0 - z) * (1.0 - 1.0 / z);
    for v in c.iter_mut() {
        *v *= gain;
    }
    // Causal initialisation (mirror).
    let z_n_1 = z.powf((n - 1) as f64);
    let mut z_i = z;
    c[0] += z_n_1 * c[n - 1];
    for i in 1..n - 1 {
        c[0] += z_i * (c[i] + z_n_1 * c[n - 1 - i]);
        z_i *= z;
    }
    c[0] /= 1.0 - z_n_1 * z_n_1;
    for i in 1..n {
        c[i] += z * c[i - 1];
    }
    // Anti-causal initialisation (mirror).
    c[n - 1] = (z * c[n - 2] + c[n - 1]) * z / (z * z - 1.0);
    for i in (0..n - 1).rev() {
        c[i] = z * (c[i + 1] - c[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// scipy.ndimage.zoom(RandomState(0).uniform(.15, 1, (30, 30)), 201 / 30),
    /// values printed by scipy 1.17.
    #[test]
    fn cubic_zoom_matches_scipy_bit_for_bit() {
        let mut random = RandomState::new(0);
        let bumps: Vec<f64> = (0..900).map(|_| random.uniform(0.15, 1.0)).collect();
        let mut zoom = CubicZoom::new(30, 201.0 / 30.0);
        assert_eq!(zoom.out_len, 201);
        let out = zoom.apply(&bumps);
        let expected = [
            ((0, 0), 0.6164914783382262),
            ((0, 1), 0.6235082608541967),
            ((1, 200), 0.4891723757595413),
            ((5, 7), 0.8544046257955905),
            ((100, 100), 0.30414718828717086),
            ((137, 64), 0.4953515581245582),
            ((199, 2), 0.7931444127630733),
            ((200, 200), 0.5041879933724044),
        ];
        for ((i, j), v) in expected {
            assert_eq!(out[i * 201 + j], v, "zoom[{i}, {j}]");
        }
        let sum: f64 = out.iter().sum();
        assert!((sum - 22982.72892465467).abs() < 1e-8, "sum {sum}");
    }

    #[test]
    fn make_model_keeps_only_what_the_task_uses() {
        let walk = make_model(Some(10.0), false, false, false).unwrap();
        assert!(!walk.contains("wall_px") && !walk.contains("<body name=\"ball\""));
        assert!(!walk.contains("<rangefinder") && !walk.contains("name=\"terrain\" type"));
        assert!(walk.contains(r#"<geom name="floor" type="plane" size="10 10 .5""#));
        let escape = make_model(Some(40.0), true, true, false).unwrap();
        assert_eq!(escape.matches("<rangefinder").count(), 20);
        let fetch = make_model(None, false, false, true).unwrap();
        assert!(fetch.contains("wall_ny") && fetch.contains("<body name=\"ball\""));
    }
}
