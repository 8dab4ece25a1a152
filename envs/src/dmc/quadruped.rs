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

mod body;

use mujoco_rs::prelude::MjtSensor;

use self::body::{Body, sensor_indices};
use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, mjcf, put};
use crate::error::EnvError;
use crate::numpy::{CubicZoom, numpy_norm};
use crate::physics::Physics;
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
    TaskDef::dmc("quadruped-walk", "quadruped", "walk", |name| {
        let xml = make_model(Some(DEFAULT_TIME_LIMIT * WALK_SPEED), false, false, false)?;
        build(name, &xml, Kind::Move(WALK_SPEED))
    }),
    TaskDef::dmc("quadruped-run", "quadruped", "run", |name| {
        let xml = make_model(Some(DEFAULT_TIME_LIMIT * RUN_SPEED), false, false, false)?;
        build(name, &xml, Kind::Move(RUN_SPEED))
    }),
    TaskDef::dmc("quadruped-escape", "quadruped", "escape", |name| {
        let xml = make_model(Some(40.0), true, true, false)?;
        build(name, &xml, Kind::Escape)
    }),
    TaskDef::dmc("quadruped-fetch", "quadruped", "fetch", |name| {
        let xml = make_model(None, false, false, true)?;
        build(name, &xml, Kind::Fetch)
    }),
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

#[cfg(test)]
mod tests {
    use super::*;

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
