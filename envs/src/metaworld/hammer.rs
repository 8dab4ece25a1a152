//! Hammer (`sawyer_hammer_v3.py`): pick up a hammer placed at each reset
//! and drive a nail into a fixed block. The observation holds two objects:
//! the hammer's body and the nail (`nail_link`), each with its orientation.
//!
//! The reset writes the block's model position (its compiled value), reads
//! the goal from the `goal` site before any forward (the kinematics of the
//! hand reset's last step; the block never moves), then places the hammer.
//! The reward cages the handle with the base class's caging reward (the
//! handle's x snapped to the hand's within half the handle's length),
//! measures the hammer's head against the goal and is scaled by how flat
//! the hammer lies; it is float32 once the gripper closes on the handle
//! (see [`super::grasp::gripper_effort`]). Success is the nail's slide
//! joint past 0.09.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::numpy_norm;
use crate::registry::Build;

/// The registered hammer task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-hammer",
    "mw",
    "hammer",
    Source::MetaWorld,
    Build::MetaWorld(hammer),
)];

const HAMMER: TaskConfig = TaskConfig {
    model: "sawyer_hammer.xml",
    // A float64 array in this class.
    hand_init_pos: [0.0, 0.4, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.4, 0.0],
    rand_high: &[0.1, 0.5, 0.0],
    goal_low: [0.2399, 0.7399, 0.109],
    goal_high: [0.2401, 0.7401, 0.111],
};

/// The class's `HAMMER_HANDLE_LENGTH`.
const HAMMER_HANDLE_LENGTH: f64 = 0.14;
/// Where every reset puts the nail's block (`model.body("box").pos`).
const BOX_POS: [f64; 3] = [0.24, 0.85, 0.0];
/// The head's offset from the hammer's body.
const HEAD_OFFSET: [f64; 3] = [0.16, 0.06, 0.0];
const CAGING: Caging = Caging::new(0.015, 0.02, 0.01, 0.01).high_density();

fn hammer(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &HAMMER, |s| {
        Ok(Box::new(Hammer {
            hammer: s.id(MjtObjBase::mjOBJ_BODY, "hammer")?,
            nail: s.id(MjtObjBase::mjOBJ_BODY, "nail_link")?,
            block: s.id(MjtObjBase::mjOBJ_BODY, "box")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            nail_qpos: s.physics().joint_qpos_adr("NailSlideJoint")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct Hammer {
    hammer: usize,
    nail: usize,
    block: usize,
    goal_site: usize,
    nail_qpos: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

/// `_reward_quat`: 1 when the hammer lies flat (`[1, 0, 0, 0]`), falling
/// linearly with the quaternion's distance from it.
fn reward_quat(obs: &[f64]) -> f64 {
    let ideal = [1.0, 0.0, 0.0, 0.0];
    let error = numpy_norm(&[0, 1, 2, 3].map(|i| obs[7 + i] - ideal[i]));
    let q = 1.0 - error / 0.4;
    // max(q, 0.0)
    if 0.0 > q { 0.0 } else { q }
}

/// `_reward_pos(hammer_head, target)`: a Python float.
fn reward_pos(head: [f64; 3], target: [f64; 3]) -> f64 {
    let pos_error = [0, 1, 2].map(|i| target[i] - head[i]);
    let lifted = head[2] > 0.02;
    0.1 * f64::from(lifted)
        + 0.9 * tolerance(numpy_norm(&pos_error), 0.0, 0.02, 0.2, Sigmoid::LongTail)
}

impl Task for Hammer {
    fn config(&self) -> &'static TaskConfig {
        &HAMMER
    }

    fn move_model(&self, s: &mut Sawyer, _rand: &[f64]) {
        s.set_body_model_pos(self.block, BOX_POS);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.move_model(s, rand);
        // `_get_site_pos("goal")` with no forward since the hand reset.
        self.target = s.site_pos(self.goal_site);
        self.obj_init = [rand[0], rand[1], rand[2]];
        // `_set_hammer_xyz`: the base `_set_obj_xyz`.
        s.set_obj_xyz(self.obj_init)?;
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.hammer));
        out[3..7].copy_from_slice(&s.body_quat(self.hammer));
        out[7..10].copy_from_slice(&s.body_pos(self.nail));
        out[10..14].copy_from_slice(&s.body_quat(self.nail));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let hand = [obs[0], obs[1], obs[2]];
        let hammer = [obs[4], obs[5], obs[6]];
        let head = [0, 1, 2].map(|i| hammer[i] + HEAD_OFFSET[i]);
        // The handle is no sphere: its x counts as the hand's when within
        // half the handle's length.
        let mut hammer_threshed = hammer;
        if (hammer[0] - hand[0]).abs() < HAMMER_HANDLE_LENGTH / 2.0 {
            hammer_threshed[0] = hand[0];
        }
        let quat = reward_quat(obs);
        // float32 once the gripper closes on the handle.
        let grab = s.caging_reward(action, hammer_threshed, self.obj_init, CAGING);
        let in_place = reward_pos(head, self.target);
        // (2.0 * reward_grab + 6.0 * reward_in_place) * reward_quat
        let mut reward = (Num::Py(2.0) * grab + Num::Py(6.0 * in_place)) * Num::Py(quat);
        let success = s.physics().qpos()[self.nail_qpos] > 0.09;
        // float32 compares with 5.0 in float32, exactly as widened.
        if success && reward.get() > 5.0 {
            reward = Num::Py(10.0);
        }
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(success),
                quat,
                f64::from(grab.get() >= 0.5),
                grab.get(),
                in_place,
                0.0,
                reward.get(),
            ],
        }
    }
}
