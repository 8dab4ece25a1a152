//! Stacker domain: a planar arm with a two-finger hand stacks boxes on a
//! target (dm_control `suite/stacker.py`).
//!
//! The model is generated as dm_control's `make_model(n_boxes)` does: the
//! bodies `box{n_boxes}` .. `box3` are removed from `stacker.xml`.

use super::rewards::Tolerance;
use super::{DmcEnv, Task, TaskDef, put};
use crate::error::EnvError;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

/// Distance (metres) below which a thing is considered close.
const CLOSE: f64 = 0.01;
/// Seconds per control step.
const CONTROL_TIMESTEP: f64 = 0.01;
/// Episode length in seconds.
const TIME_LIMIT: f64 = 10.0;
/// The arm's joints, in observation order.
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
/// Boxes in `stacker.xml`.
const MAX_BOXES: usize = 4;
/// Touch sensors in `stacker.xml`.
const N_TOUCH: usize = 5;

/// The stacker tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("stacker-stack-2", "stacker", "stack_2", |name| load(name, 2)),
    TaskDef::dmc("stacker-stack-4", "stacker", "stack_4", |name| load(name, 4)),
];

fn load(name: &str, n_boxes: usize) -> Result<DmcEnv, EnvError> {
    let physics = Physics::from_xml_in_assets(&make_model(n_boxes)?, "stacker.xml")?;
    let task = Stack::new(&physics, n_boxes)?;
    DmcEnv::with_control_timestep(name, physics, Box::new(task), TIME_LIMIT, CONTROL_TIMESTEP)
}

/// `stacker.xml` without the bodies of boxes `n_boxes..4` (dm_control's
/// `make_model`).
pub fn make_model(n_boxes: usize) -> Result<String, EnvError> {
    if n_boxes > MAX_BOXES {
        return Err(EnvError::Invalid(format!(
            "stacker has at most {MAX_BOXES} boxes, not {n_boxes}"
        )));
    }
    let mut xml = Physics::read_asset("stacker.xml")?;
    for b in n_boxes..MAX_BOXES {
        let open = format!("<body name=\"box{b}\"");
        let missing = || EnvError::Model(format!("stacker.xml has no body box{b}"));
        let start = xml.find(&open).ok_or_else(missing)?;
        // Box bodies hold no nested bodies: the body ends at the next `</body>`.
        let len = xml[start..].find("</body>").ok_or_else(missing)?;
        xml.replace_range(start..start + len + "</body>".len(), "");
    }
    Ok(xml)
}

/// Stack the boxes: put one on the target while the hand stays away from it.
pub struct Stack {
    n_boxes: usize,
    arm_qpos: [usize; 8],
    arm_dof: [usize; 8],
    arm_jnt: [usize; 8],
    /// Per box: qpos addresses of its `x`, `z` and `y` joints.
    box_qpos: [[usize; 3]; MAX_BOXES],
    /// Per box: dof addresses of its `x`, `y` and `z` joints (observation order).
    box_dof: [[usize; 3]; MAX_BOXES],
    box_body: [usize; MAX_BOXES],
    box_site: [usize; MAX_BOXES],
    finger_qpos: usize,
    thumb_qpos: usize,
    hand: usize,
    target_body: usize,
    target_geom: usize,
    target_site: usize,
    grasp_site: usize,
}

impl Stack {
    fn new(physics: &Physics, n_boxes: usize) -> Result<Self, EnvError> {
        let mut arm_qpos = [0; 8];
        let mut arm_dof = [0; 8];
        let mut arm_jnt = [0; 8];
        for (i, name) in ARM_JOINTS.iter().enumerate() {
            arm_qpos[i] = physics.joint_qpos_adr(name)?;
            arm_dof[i] = physics.joint_dof_adr(name)?;
            arm_jnt[i] = physics.joint_id(name)?;
        }
        let mut box_qpos = [[0; 3]; MAX_BOXES];
        let mut box_dof = [[0; 3]; MAX_BOXES];
        let mut box_body = [0; MAX_BOXES];
        let mut box_site = [0; MAX_BOXES];
        for b in 0..n_boxes {
            let name = format!("box{b}");
            for (k, dim) in ["x", "z", "y"].iter().enumerate() {
                box_qpos[b][k] = physics.joint_qpos_adr(&format!("{name}_{dim}"))?;
            }
            for (k, dim) in ["x", "y", "z"].iter().enumerate() {
                box_dof[b][k] = physics.joint_dof_adr(&format!("{name}_{dim}"))?;
            }
            box_body[b] = physics.body_id(&name)?;
            box_site[b] = physics.site_id(&name)?;
        }
        if physics.sensordata().len() != N_TOUCH {
            return Err(EnvError::Model(format!(
                "stacker expects {N_TOUCH} touch sensors, the model has {}",
                physics.sensordata().len()
            )));
        }
        Ok(Stack {
            n_boxes,
            arm_qpos,
            arm_dof,
            arm_jnt,
            box_qpos,
            box_dof,
            box_body,
            box_site,
            finger_qpos: physics.joint_qpos_adr("finger")?,
            thumb_qpos: physics.joint_qpos_adr("thumb")?,
            hand: physics.body_id("hand")?,
            target_body: physics.body_id("target")?,
            target_geom: physics.geom_id("target")?,
            target_site: physics.site_id("target")?,
            grasp_site: physics.site_id("grasp")?,
        })
    }

    /// Distance between two sites (`Physics.site_distance`).
    fn site_distance(physics: &Physics, a: usize, b: usize) -> f64 {
        let (p, q) = (physics.site_xpos(a), physics.site_xpos(b));
        let d = [p[0] - q[0], p[1] - q[1], p[2] - q[2]];
        (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt()
    }

    /// A body's planar pose: `x`, `z` of its position, `qw`, `qy` of its
    /// orientation (`Physics.body_2d_pose`).
    fn body_2d_pose(physics: &Physics, body: usize) -> [f64; 4] {
        let p = physics.xpos(body);
        let q = &physics.data().xquat()[body];
        [p[0], p[2], q[0], q[2]]
    }
}

impl Task for Stack {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[
            ("arm_pos", 2 * ARM_JOINTS.len()),
            ("arm_vel", ARM_JOINTS.len()),
            ("touch", N_TOUCH),
            ("hand_pos", 4),
            ("box_pos", 4 * self.n_boxes),
            ("box_vel", 3 * self.n_boxes),
            ("target_pos", 2),
        ])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        use std::f64::consts::PI;
        // Rejection sampling until no two geoms touch.
        loop {
            // Arm angles: uniform within the limits, unlimited joints in [-π, π).
            for i in 0..ARM_JOINTS.len() {
                let (limited, range) = {
                    let m = physics.model();
                    (
                        m.jnt_limited()[self.arm_jnt[i]],
                        m.jnt_range()[self.arm_jnt[i]],
                    )
                };
                let (low, high) = if limited {
                    (range[0], range[1])
                } else {
                    (-PI, PI)
                };
                physics.data_mut().qpos_mut()[self.arm_qpos[i]] = random.uniform(low, high);
            }
            // Symmetric hand.
            let qpos = physics.data_mut().qpos_mut();
            qpos[self.finger_qpos] = qpos[self.thumb_qpos];

            // Target location.
            let target_height = (2 * random.randint(0, self.n_boxes as i64) + 1) as f64;
            let box_size = physics.model().geom_size()[self.target_geom][0];
            let x = random.uniform(-0.37, 0.37);
            let pos = &mut physics.model_mut().body_pos_mut()[self.target_body];
            pos[2] = box_size * target_height;
            pos[0] = x;

            // Box locations.
            for b in 0..self.n_boxes {
                let [jx, jz, jy] = self.box_qpos[b];
                let qpos = physics.data_mut().qpos_mut();
                qpos[jx] = random.uniform(0.1, 0.3);
                qpos[jz] = random.uniform(0.0, 0.7);
                qpos[jy] = random.uniform(0.0, 2.0 * PI);
            }

            physics.after_reset()?;
            if physics.data().ncon() == 0 {
                return Ok(());
            }
        }
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let qpos = physics.qpos();
        let qvel = physics.qvel();
        let mut at = 0;
        for &adr in &self.arm_qpos {
            put(out, &mut at, &[qpos[adr].sin(), qpos[adr].cos()]);
        }
        for &adr in &self.arm_dof {
            put(out, &mut at, &[qvel[adr]]);
        }
        for &t in physics.sensordata() {
            put(out, &mut at, &[t.ln_1p()]);
        }
        put(out, &mut at, &Self::body_2d_pose(physics, self.hand));
        for &body in &self.box_body[..self.n_boxes] {
            put(out, &mut at, &Self::body_2d_pose(physics, body));
        }
        for dofs in &self.box_dof[..self.n_boxes] {
            for &adr in dofs {
                put(out, &mut at, &[qvel[adr]]);
            }
        }
        let t = physics.xpos(self.target_body);
        put(out, &mut at, &[t[0], t[2]]);
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let box_size = physics.model().geom_size()[self.target_geom][0];
        let min_box_to_target = self.box_site[..self.n_boxes]
            .iter()
            .map(|&s| Self::site_distance(physics, s, self.target_site))
            .fold(f64::INFINITY, f64::min);
        let box_is_close = Tolerance::bounds(0.0, 0.0)
            .margin(2.0 * box_size)
            .eval(min_box_to_target);
        let hand_to_target = Self::site_distance(physics, self.grasp_site, self.target_site);
        let hand_is_far = Tolerance::bounds(0.1, f64::INFINITY)
            .margin(CLOSE)
            .eval(hand_to_target);
        box_is_close * hand_is_far
    }
}
