//! Pick out of hole (`sawyer_pick_out_of_hole_v3.py`): lift a puck out of a
//! hole in the table to a goal in the air drawn at each reset.
//!
//! Once the puck is lifted, the reward is damped while the hand is below a
//! funnel-shaped "floor" around the hole (NumPy's `np.log`). The class
//! defines `_TARGET_RADIUS = 0.02` but its success bonus reads the base
//! class's `TARGET_RADIUS` (0.05), as here.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, hamacher, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_log, numpy_norm};
use crate::registry::Build;

/// The registered pick-out-of-hole task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-pick-out-of-hole",
    "mw",
    "pick-out-of-hole",
    Source::MetaWorld,
    Build::MetaWorld(pick_out_of_hole),
)];

const PICK_OUT_OF_HOLE: TaskConfig = TaskConfig {
    model: "sawyer_pick_out_of_hole.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, -0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[0.0, 0.75, 0.02, -0.1, 0.5, 0.15],
    rand_high: &[0.0, 0.75, 0.02, 0.1, 0.6, 0.3],
    goal_low: [-0.1, 0.5, 0.15],
    goal_high: [0.1, 0.6, 0.3],
};

/// The base class's `TARGET_RADIUS` (the success bonus's threshold).
const TARGET_RADIUS: f64 = 0.05;

/// `_gripper_caging_reward`'s arguments (`desired_gripper_effort=0.1`).
const CAGING: Caging = Caging {
    desired_gripper_effort: 0.1,
    ..Caging::new(0.015, 0.02, 0.01, 0.03).high_density()
};

fn pick_out_of_hole(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &PICK_OUT_OF_HOLE, |s| {
        Ok(Box::new(PickOutOfHole {
            obj: s.id(MjtObjBase::mjOBJ_BODY, "obj")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct PickOutOfHole {
    obj: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

impl Task for PickOutOfHole {
    fn config(&self) -> &'static TaskConfig {
        &PICK_OUT_OF_HOLE
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.15
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_site_model_pos(self.goal_site, [rand[3], rand[4], rand[5]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.obj_init = [rand[0], rand[1], rand[2]];
        s.set_obj_xyz(self.obj_init)?;
        self.target = [rand[3], rand[4], rand[5]];
        self.move_model(s, rand);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.obj));
        out[3..7].copy_from_slice(&s.body_quat(self.obj));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let obj = [obs[4], obs[5], obs[6]];
        let gripper = s.tcp_center();
        let t = self.target;
        let init = self.obj_init;
        let obj_to_target = dist(obj, t);
        let tcp_to_obj = dist(obj, gripper);
        let in_place_margin = dist(init, t);
        const THRESHOLD: f64 = 0.03;
        // The floor: a funnel centred on the puck's start.
        let radius = numpy_norm(&[gripper[0] - init[0], gripper[1] - init[1]]);
        let floor = if radius <= THRESHOLD {
            0.0
        } else {
            0.015 * numpy_log(radius - THRESHOLD) + 0.15
        };
        let above_floor = if gripper[2] >= floor {
            1.0
        } else {
            tolerance(
                (floor - gripper[2]).max(0.0),
                0.0,
                0.01,
                0.02,
                Sigmoid::LongTail,
            )
        };
        // float32 once the gripper closes on the puck (see `CAGING`).
        let object_grasped = s.caging_reward(action, obj, init, CAGING);
        let in_place = tolerance(obj_to_target, 0.0, 0.02, in_place_margin, Sigmoid::LongTail);
        let mut reward = hamacher(object_grasped, Num::Py(in_place));
        let near_object = tcp_to_obj < 0.04;
        let pinched_without_obj = obs[3] < 0.33;
        let lifted = obj[2] - 0.02 > init[2];
        let grasp_success = near_object && lifted && !pinched_without_obj;
        if grasp_success {
            // Python floats throughout.
            reward = reward + Num::Py(1.0 + 5.0 * hamacher_product(in_place, above_floor));
        }
        if obj_to_target < TARGET_RADIUS {
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
