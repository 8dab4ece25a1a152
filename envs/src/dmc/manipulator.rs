//! Manipulator domain: a planar arm with a two-finger hand bringing a ball or
//! a peg to a target, optionally inserting it into a cup or slot
//! (dm_control `suite/manipulator.py`).
//!
//! The model is `manipulator.xml` without the props the task does not use,
//! as dm_control's `make_model` builds it. Episodes start from a random
//! collision-free configuration: arm angles, target pose and the object
//! either in the hand, in the target or anywhere (thrown sideways), redrawn
//! until nothing penetrates.

use super::rewards::Tolerance;
use super::{DmcEnv, Task, TaskDef, mjcf, put};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

/// Distance (m) below which a thing is considered close.
const CLOSE: f64 = 0.01;
const CONTROL_TIMESTEP: f64 = 0.01;
const TIME_LIMIT: f64 = 10.0;
/// Probability of starting with the object in the hand.
const P_IN_HAND: f64 = 0.1;
/// Probability of starting with the object in the target.
const P_IN_TARGET: f64 = 0.1;
const ARM_JOINTS: [&str; 8] = [
    "arm_root",
    "arm_shoulder",
    "arm_elbow",
    "arm_wrist",
    "finger",
    "fingertip",
    "thumb",
    "thumbtip",
];
const ALL_PROPS: [&str; 6] = ["ball", "target_ball", "cup", "peg", "target_peg", "slot"];
const TOUCH_SENSORS: [&str; 5] = [
    "palm_touch",
    "finger_touch",
    "thumb_touch",
    "fingertip_touch",
    "thumbtip_touch",
];

/// The manipulator tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("manipulator-bring-ball", "manipulator", "bring_ball",
        |name| load(name, false, false)),
    TaskDef::dmc("manipulator-bring-peg", "manipulator", "bring_peg",
        |name| load(name, true, false)),
    TaskDef::dmc("manipulator-insert-ball", "manipulator", "insert_ball",
        |name| load(name, false, true)),
    TaskDef::dmc("manipulator-insert-peg", "manipulator", "insert_peg",
        |name| load(name, true, true)),
];

fn load(name: &str, use_peg: bool, insert: bool) -> Result<DmcEnv, EnvError> {
    let xml = make_model(use_peg, insert)?;
    let physics = Physics::from_xml_in_assets(&xml, "manipulator.xml")?;
    let task = Bring::new(&physics, use_peg, insert)?;
    DmcEnv::with_control_timestep(name, physics, Box::new(task), TIME_LIMIT, CONTROL_TIMESTEP)
}

/// `manipulator.xml` with only the prop, target and (when inserting)
/// receptacle of the task.
pub fn make_model(use_peg: bool, insert: bool) -> Result<String, EnvError> {
    let required: &[&str] = match (use_peg, insert) {
        (true, false) => &["peg", "target_peg"],
        (true, true) => &["peg", "target_peg", "slot"],
        (false, false) => &["ball", "target_ball"],
        (false, true) => &["ball", "target_ball", "cup"],
    };
    let mut xml = Physics::read_asset("manipulator.xml")?;
    for prop in ALL_PROPS.iter().filter(|p| !required.contains(p)) {
        mjcf::remove_element(&mut xml, "body", prop)?;
    }
    Ok(xml)
}

/// A joint's `qpos` and `qvel` addresses.
#[derive(Clone, Copy)]
struct Joint {
    qpos: usize,
    dof: usize,
}

fn joint(physics: &Physics, name: &str) -> Result<Joint, EnvError> {
    Ok(Joint {
        qpos: physics.joint_qpos_adr(name)?,
        dof: physics.joint_dof_adr(name)?,
    })
}

/// Sites compared by the reward.
enum RewardSites {
    /// `ball` to `target_ball`.
    Ball { ball: usize, target: usize },
    /// Grasping (`peg_grasp`–`grasp`, `peg_pinch`–`pinch`) and bringing
    /// (`peg`–`target_peg`, `target_peg_tip`–`peg_tip`).
    Peg {
        peg_grasp: usize,
        grasp: usize,
        peg_pinch: usize,
        pinch: usize,
        peg: usize,
        target_peg: usize,
        target_peg_tip: usize,
        peg_tip: usize,
    },
}

/// Bring the prop to the target (and into the receptacle for `insert`).
pub struct Bring {
    insert: bool,
    arm: [Joint; 8],
    /// Uniform sampling bounds of each arm joint (its range, or ±π).
    arm_bounds: [(f64, f64); 8],
    finger: usize,
    thumb: usize,
    /// The object's x, z and y (rotation) joints.
    object_joints: [Joint; 3],
    object: usize,
    target: usize,
    receptacle: Option<usize>,
    hand: usize,
    grasp_site: usize,
    touch: [usize; 5],
    reward_sites: RewardSites,
}

impl Bring {
    fn new(physics: &Physics, use_peg: bool, insert: bool) -> Result<Self, EnvError> {
        let object = if use_peg { "peg" } else { "ball" };
        let target = if use_peg { "target_peg" } else { "target_ball" };
        let receptacle = if use_peg { "slot" } else { "cup" };
        let mut arm = [Joint { qpos: 0, dof: 0 }; 8];
        let mut arm_bounds = [(0.0, 0.0); 8];
        for (i, name) in ARM_JOINTS.iter().enumerate() {
            arm[i] = joint(physics, name)?;
            let j = physics.joint_id(name)?;
            let m = physics.model();
            arm_bounds[i] = if m.jnt_limited()[j] {
                (m.jnt_range()[j][0], m.jnt_range()[j][1])
            } else {
                (-std::f64::consts::PI, std::f64::consts::PI)
            };
        }
        let mut touch = [0; 5];
        for (t, name) in touch.iter_mut().zip(TOUCH_SENSORS) {
            *t = physics.sensor_range(name)?.start;
        }
        let site = |name: &str| physics.site_id(name);
        let reward_sites = if use_peg {
            RewardSites::Peg {
                peg_grasp: site("peg_grasp")?,
                grasp: site("grasp")?,
                peg_pinch: site("peg_pinch")?,
                pinch: site("pinch")?,
                peg: site("peg")?,
                target_peg: site("target_peg")?,
                target_peg_tip: site("target_peg_tip")?,
                peg_tip: site("peg_tip")?,
            }
        } else {
            RewardSites::Ball {
                ball: site("ball")?,
                target: site("target_ball")?,
            }
        };
        Ok(Bring {
            insert,
            arm,
            arm_bounds,
            finger: physics.joint_qpos_adr("finger")?,
            thumb: physics.joint_qpos_adr("thumb")?,
            object_joints: [
                joint(physics, &format!("{object}_x"))?,
                joint(physics, &format!("{object}_z"))?,
                joint(physics, &format!("{object}_y"))?,
            ],
            object: physics.body_id(object)?,
            target: physics.body_id(target)?,
            receptacle: if insert {
                Some(physics.body_id(receptacle)?)
            } else {
                None
            },
            hand: physics.body_id("hand")?,
            grasp_site: physics.site_id("grasp")?,
            touch,
            reward_sites,
        })
    }

    /// `body_2d_pose`: x, z position and (qw, qy) orientation of a body.
    fn body_2d_pose(physics: &Physics, body: usize) -> [f64; 4] {
        let p = physics.xpos(body);
        let q = physics.data().xquat()[body];
        [p[0], p[2], q[0], q[2]]
    }

    /// Places a body of the model in the x-z plane, rotated about y.
    fn place_body(physics: &mut Physics, body: usize, x: f64, z: f64, angle: f64) {
        let m = physics.model_mut();
        m.body_pos_mut()[body][0] = x;
        m.body_pos_mut()[body][2] = z;
        m.body_quat_mut()[body][0] = (angle / 2.0).cos();
        m.body_quat_mut()[body][2] = (angle / 2.0).sin();
    }
}

/// `np.linalg.norm(site1 - site2)` (numpy's dot product accumulates with
/// fused multiply-adds).
fn site_distance(physics: &Physics, site1: usize, site2: usize) -> f64 {
    let (a, b) = (physics.site_xpos(site1), physics.site_xpos(site2));
    crate::numpy::numpy_norm(&[a[0] - b[0], a[1] - b[1], a[2] - b[2]])
}

/// 1 within `CLOSE`, a gaussian falling to 0.1 one `2 CLOSE` further.
fn is_close(distance: f64) -> f64 {
    Tolerance::bounds(0.0, CLOSE)
        .margin(CLOSE * 2.0)
        .eval(distance)
}

impl Task for Bring {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[
            ("arm_pos", 16),
            ("arm_vel", 8),
            ("touch", 5),
            ("hand_pos", 4),
            ("object_pos", 4),
            ("object_vel", 3),
            ("target_pos", 4),
        ])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        use std::f64::consts::PI;
        let init_probs = [P_IN_HAND, P_IN_TARGET, 1.0 - P_IN_HAND - P_IN_TARGET];
        // Redraw until the configuration is collision-free.
        loop {
            // Random arm angles, symmetric hand.
            for (j, &(low, high)) in self.arm.iter().zip(&self.arm_bounds) {
                let angle = random.uniform(low, high);
                physics.data_mut().qpos_mut()[j.qpos] = angle;
            }
            let qpos = physics.data_mut().qpos_mut();
            qpos[self.finger] = qpos[self.thumb];

            // Random target pose (and receptacle pose when inserting).
            let target_x = random.uniform(-0.4, 0.4);
            let target_z = random.uniform(0.1, 0.4);
            let target_angle = match self.receptacle {
                Some(receptacle) if self.insert => {
                    let angle = random.uniform(-PI / 3.0, PI / 3.0);
                    Self::place_body(physics, receptacle, target_x, target_z, angle);
                    angle
                }
                _ => random.uniform(-PI, PI),
            };
            Self::place_body(physics, self.target, target_x, target_z, target_angle);

            // Object in the hand, in the target, or anywhere.
            let init_type = random.choice(3, 1, true, Some(&init_probs))[0];
            let (object_x, object_z, object_angle) = match init_type {
                1 => (target_x, target_z, target_angle),
                0 => {
                    physics.after_reset()?;
                    let grasp = physics.site_xpos(self.grasp_site);
                    let xmat = &physics.data().site_xmat()[self.grasp_site];
                    let angle = PI - xmat[mat::ZX].atan2(xmat[mat::XX]);
                    (grasp[0], grasp[2], angle)
                }
                _ => {
                    let x = random.uniform(-0.5, 0.5);
                    let z = random.uniform(0.0, 0.7);
                    let angle = random.uniform(0.0, 2.0 * PI);
                    let v = random.uniform(-5.0, 5.0);
                    physics.data_mut().qvel_mut()[self.object_joints[0].dof] = v;
                    (x, z, angle)
                }
            };
            let qpos = physics.data_mut().qpos_mut();
            for (j, v) in self
                .object_joints
                .iter()
                .zip([object_x, object_z, object_angle])
            {
                qpos[j.qpos] = v;
            }

            physics.after_reset()?;
            if physics.data().ncon() == 0 {
                return Ok(());
            }
        }
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        let (qpos, qvel) = (physics.qpos(), physics.qvel());
        for j in &self.arm {
            let (s, c) = qpos[j.qpos].sin_cos();
            put(out, &mut at, &[s, c]);
        }
        for j in &self.arm {
            put(out, &mut at, &[qvel[j.dof]]);
        }
        let sensordata = physics.sensordata();
        for &t in &self.touch {
            put(out, &mut at, &[sensordata[t].ln_1p()]);
        }
        put(out, &mut at, &Self::body_2d_pose(physics, self.hand));
        put(out, &mut at, &Self::body_2d_pose(physics, self.object));
        for j in &self.object_joints {
            put(out, &mut at, &[qvel[j.dof]]);
        }
        put(out, &mut at, &Self::body_2d_pose(physics, self.target));
    }

    fn reward(&self, physics: &Physics) -> f64 {
        match self.reward_sites {
            RewardSites::Ball { ball, target } => is_close(site_distance(physics, ball, target)),
            RewardSites::Peg {
                peg_grasp,
                grasp,
                peg_pinch,
                pinch,
                peg,
                target_peg,
                target_peg_tip,
                peg_tip,
            } => {
                let grasp = is_close(site_distance(physics, peg_grasp, grasp));
                let pinch = is_close(site_distance(physics, peg_pinch, pinch));
                let grasping = (grasp + pinch) / 2.0;
                let bring = is_close(site_distance(physics, peg, target_peg));
                let bring_tip = is_close(site_distance(physics, target_peg_tip, peg_tip));
                let bringing = (bring + bring_tip) / 2.0;
                bringing.max(grasping / 3.0)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn make_model_keeps_only_the_task_props() {
        let xml = make_model(true, true).unwrap();
        for kept in ["peg", "target_peg", "slot"] {
            assert!(xml.contains(&format!("<body name=\"{kept}\"")), "{kept}");
        }
        for removed in ["ball", "target_ball", "cup"] {
            assert!(
                !xml.contains(&format!("<body name=\"{removed}\"")),
                "{removed}"
            );
        }
        let xml = make_model(false, false).unwrap();
        assert!(xml.contains("<body name=\"ball\"") && !xml.contains("<body name=\"cup\""));
    }
}
