//! Bin picking (`sawyer_bin_picking_v3.py`): pick a block up from one bin,
//! placed at each reset, and drop it into the other. The goal is the target
//! bin's body position, which metaworld holds as a live view of the
//! simulation (`_target_pos = get_body_com("bin_goal")`), so it is read
//! from the current state here too.
//!
//! The in-place margin is the block's distance to the goal at the first
//! step of the episode. While the block is lifted, the reward is damped
//! when the hand is below a floor made of two funnels around the bins
//! (NumPy's `np.log`).

use std::cell::Cell;

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, hamacher, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_log, numpy_norm};
use crate::registry::Build;

/// The registered bin-picking task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-bin-picking",
    "mw",
    "bin-picking",
    Source::MetaWorld,
    Build::MetaWorld(bin_picking),
)];

const BIN_PICKING: TaskConfig = TaskConfig {
    model: "sawyer_bin_picking.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.07],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.21, 0.65, 0.02, 0.1199, 0.699, -0.001],
    rand_high: &[-0.03, 0.75, 0.02, 0.1201, 0.701, 0.001],
    goal_low: [0.1199, 0.699, -0.001],
    goal_high: [0.1201, 0.701, 0.001],
};

/// The base class's `TARGET_RADIUS`.
const TARGET_RADIUS: f64 = 0.05;

/// `_gripper_caging_reward`'s arguments (`desired_gripper_effort=0.7`).
const CAGING: Caging = Caging {
    desired_gripper_effort: 0.7,
    ..Caging::new(0.015, 0.05, 0.01, 0.01).high_density()
};

fn bin_picking(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &BIN_PICKING, |s| {
        Ok(Box::new(BinPicking {
            obj: s.id(MjtObjBase::mjOBJ_BODY, "obj")?,
            bin_goal: s.id(MjtObjBase::mjOBJ_BODY, "bin_goal")?,
            obj_init: [0.0; 3],
            target_to_obj_init: Cell::new(None),
        }))
    })
}

struct BinPicking {
    obj: usize,
    bin_goal: usize,
    obj_init: [f64; 3],
    /// `_target_to_obj_init`: unset at reset, then the first step's
    /// block-to-goal distance.
    target_to_obj_init: Cell<Option<f64>>,
}

impl Task for BinPicking {
    fn config(&self) -> &'static TaskConfig {
        &BIN_PICKING
    }

    /// The bins do not move.
    fn move_model(&self, _s: &mut Sawyer, _rand: &[f64]) {}

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        let obj_height = s.body_pos(self.obj)[2];
        self.obj_init = [rand[0], rand[1], obj_height];
        s.set_obj_xyz(self.obj_init)?;
        self.target_to_obj_init.set(None);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.obj));
        out[3..7].copy_from_slice(&s.body_quat(self.obj));
    }

    fn goal(&self, s: &Sawyer) -> [f64; 3] {
        s.body_pos(self.bin_goal)
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let hand = [obs[0], obs[1], obs[2]];
        let obj = [obs[4], obs[5], obs[6]];
        let target = s.body_pos(self.bin_goal);
        let init = self.obj_init;
        let target_to_obj = dist(obj, target);
        let margin = match self.target_to_obj_init.get() {
            Some(m) => m,
            None => {
                self.target_to_obj_init.set(Some(target_to_obj));
                target_to_obj
            }
        };
        let in_place = tolerance(target_to_obj, 0.0, TARGET_RADIUS, margin, Sigmoid::LongTail);
        const THRESHOLD: f64 = 0.03;
        let radii = [
            numpy_norm(&[hand[0] - init[0], hand[1] - init[1]]),
            numpy_norm(&[hand[0] - target[0], hand[1] - target[1]]),
        ];
        // The floor: two funnels, around the block's start and the goal.
        let [f0, f1] = radii.map(|radius| {
            if radius > THRESHOLD {
                0.02 * numpy_log(radius - THRESHOLD) + 0.2
            } else {
                0.0
            }
        });
        // Python's `min` keeps the first unless the second is smaller.
        let floor = if f1 < f0 { f1 } else { f0 };
        let above_floor = if hand[2] >= floor {
            1.0
        } else {
            tolerance(
                (floor - hand[2]).max(0.0),
                0.0,
                0.01,
                0.05,
                Sigmoid::LongTail,
            )
        };
        // float32 once the gripper closes on the block.
        let object_grasped = s.caging_reward(action, obj, init, CAGING);
        let mut reward = hamacher(object_grasped, Num::Py(in_place));
        let near_object = dist(obj, hand) < 0.04;
        let pinched_without_obj = obs[3] < 0.43;
        let lifted = obj[2] - 0.02 > init[2];
        let grasp_success = near_object && lifted && !pinched_without_obj;
        if grasp_success {
            // Python floats throughout.
            reward = reward + Num::Py(1.0 + 5.0 * hamacher_product(above_floor, in_place));
        }
        if target_to_obj < TARGET_RADIUS {
            reward = Num::Py(10.0);
        }
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(target_to_obj <= 0.05),
                f64::from(near_object),
                f64::from(grasp_success),
                object_grasped.get(),
                in_place,
                target_to_obj,
                reward.get(),
            ],
        }
    }
}
