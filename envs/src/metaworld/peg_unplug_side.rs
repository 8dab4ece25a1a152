//! Peg unplugging (`sawyer_peg_unplug_side_v3.py`): pull a plug out of the
//! side of a box placed at each reset, to a goal 0.15 m along x. The
//! observed object is the plug's end site, with the plug body's quaternion.
//!
//! The class's `_set_obj_xyz` also resets the plug's orientation
//! (`qpos[12..16] = [1, 0, 0, 0]`) and zeroes only its linear velocity
//! (`qvel[9..12]`).

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::registry::Build;

/// The registered peg-unplugging task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-peg-unplug-side",
    "mw",
    "peg-unplug-side",
    Source::MetaWorld,
    Build::MetaWorld(peg_unplug_side),
)];

const PEG_UNPLUG_SIDE: TaskConfig = TaskConfig {
    model: "sawyer_peg_unplug_side.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.25, 0.6, -0.001],
    rand_high: &[-0.15, 0.8, 0.001],
    // `obj_low + np.array([0.194, 0.0, 0.131])`, and the same for the upper
    // bound.
    goal_low: [-0.25 + 0.194, 0.6 + 0.0, -0.001 + 0.131],
    goal_high: [-0.15 + 0.194, 0.8 + 0.0, 0.001 + 0.131],
};

/// `_gripper_caging_reward`'s arguments (`desired_gripper_effort=0.8`).
const CAGING: Caging = Caging {
    desired_gripper_effort: 0.8,
    ..Caging::new(0.025, 0.05, 0.01, 0.005).high_density()
};

fn peg_unplug_side(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &PEG_UNPLUG_SIDE, |s| {
        Ok(Box::new(PegUnplugSide {
            peg_end: s.id(MjtObjBase::mjOBJ_SITE, "pegEnd")?,
            plug: s.id(MjtObjBase::mjOBJ_BODY, "plug1")?,
            box_body: s.id(MjtObjBase::mjOBJ_BODY, "box")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct PegUnplugSide {
    peg_end: usize,
    plug: usize,
    box_body: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

/// The plug's start: the box's position plus `[0.044, 0.0, 0.131]`.
fn plug_of(rand: &[f64]) -> [f64; 3] {
    [rand[0] + 0.044, rand[1] + 0.0, rand[2] + 0.131]
}

/// The goal: the plug's start plus `[0.15, 0.0, 0.0]`.
fn target_of(rand: &[f64]) -> [f64; 3] {
    let p = plug_of(rand);
    [p[0] + 0.15, p[1] + 0.0, p[2] + 0.0]
}

impl Task for PegUnplugSide {
    fn config(&self) -> &'static TaskConfig {
        &PEG_UNPLUG_SIDE
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.box_body, [rand[0], rand[1], rand[2]]);
        s.set_site_model_pos(self.goal_site, target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        s.set_body_model_pos(self.box_body, [rand[0], rand[1], rand[2]]);
        let plug = plug_of(rand);
        s.set_state(|qpos, qvel| {
            qpos[9..12].copy_from_slice(&plug);
            qpos[12..16].copy_from_slice(&[1.0, 0.0, 0.0, 0.0]);
            qvel[9..12].fill(0.0);
        })?;
        self.obj_init = s.site_pos(self.peg_end);
        self.target = target_of(rand);
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.site_pos(self.peg_end));
        out[3..7].copy_from_slice(&s.body_quat(self.plug));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let tcp = s.tcp_center();
        let obj = [obs[4], obs[5], obs[6]];
        let tcp_opened = obs[3];
        let t = self.target;
        let tcp_to_obj = dist(obj, tcp);
        let obj_to_target = dist(obj, t);
        // float32 once the gripper closes on the plug (see `CAGING`).
        let object_grasped = s.caging_reward(action, obj, self.obj_init, CAGING);
        let in_place = tolerance(
            obj_to_target,
            0.0,
            0.05,
            dist(self.obj_init, t),
            Sigmoid::LongTail,
        );
        let grasp_success = tcp_opened > 0.5 && obj[0] - self.obj_init[0] > 0.015;
        // `2 * object_grasped`: a Python int with the caging reward.
        let mut reward = Num::Py(2.0) * object_grasped;
        if grasp_success && tcp_to_obj < 0.035 {
            // `1 + 2 * object_grasped + 5 * in_place`
            reward = Num::Py(1.0) + Num::Py(2.0) * object_grasped + Num::Py(5.0 * in_place);
        }
        if obj_to_target <= 0.05 {
            reward = Num::Py(10.0);
        }
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(obj_to_target <= 0.07),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                object_grasped.get(),
                in_place,
                obj_to_target,
                reward.get(),
            ],
        }
    }
}
