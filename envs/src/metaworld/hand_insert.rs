//! Hand insert (`sawyer_hand_insert_v3.py`): push or carry a block into a
//! hole in the table (the goal, below the table top), both drawn at each
//! reset. Uses `sawyer_table_with_hole.xml`; the mocap may go down to
//! z = -0.15.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, hamacher, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::numpy_norm;
use crate::registry::Build;

/// The registered hand-insert task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-hand-insert",
    "mw",
    "hand-insert",
    Source::MetaWorld,
    Build::MetaWorld(hand_insert),
)];

const HAND_INSERT: TaskConfig = TaskConfig {
    model: "sawyer_table_with_hole.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, -0.15],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.6, 0.05, -0.04, 0.8, -0.0201],
    rand_high: &[0.1, 0.7, 0.05, 0.04, 0.88, -0.0199],
    goal_low: [-0.04, 0.8, -0.0201],
    goal_high: [0.04, 0.88, -0.0199],
};

/// The class's `TARGET_RADIUS`.
const TARGET_RADIUS: f64 = 0.05;
/// The block's start height: `init_config["obj_init_pos"][-1]` (float64).
const OBJ_INIT_Z: f64 = 0.05;
const CAGING: Caging = Caging::new(0.015, 0.05, 0.01, 0.005).high_density();

fn hand_insert(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &HAND_INSERT, |s| {
        Ok(Box::new(HandInsert {
            obj: s.id(MjtObjBase::mjOBJ_BODY, "obj")?,
            obj_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct HandInsert {
    obj: usize,
    obj_geom: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

impl Task for HandInsert {
    fn config(&self) -> &'static TaskConfig {
        &HAND_INSERT
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.15
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_site_model_pos(self.goal_site, [rand[3], rand[4], rand[5]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.obj_init = [rand[0], rand[1], OBJ_INIT_Z];
        self.target = [rand[3], rand[4], rand[5]];
        s.set_obj_xyz(self.obj_init)?;
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
        let t = self.target;
        let target_to_obj = dist(obj, t);
        let in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            dist(self.obj_init, t),
            Sigmoid::LongTail,
        );
        // float32 once the gripper closes on the block.
        let object_grasped = s.caging_reward(action, obj, self.obj_init, CAGING);
        let mut reward = hamacher(object_grasped, Num::Py(in_place));
        let tcp_opened = obs[3];
        let tcp_to_obj = dist(obj, s.tcp_center());
        if tcp_to_obj < 0.02 && tcp_opened > 0.0 {
            reward = reward + Num::Py(1.0 + 7.0 * in_place);
        }
        if target_to_obj < TARGET_RADIUS {
            reward = Num::Py(10.0);
        }
        let grasp_success = s.touching_object(self.obj_geom)
            && tcp_opened > 0.0
            && obj[2] - 0.02 > self.obj_init[2];
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(target_to_obj <= 0.05),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                object_grasped.get(),
                in_place,
                target_to_obj,
                reward.get(),
            ],
        }
    }
}
