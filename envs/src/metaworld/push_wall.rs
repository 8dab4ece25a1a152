//! Push wall (`sawyer_push_wall_v3.py`): push a puck around a wall to a
//! goal behind it, both drawn at each reset. The puck and the goal take
//! the puck geom's height after the hand reset; the observed position is
//! the geom's.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered push-wall task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-push-wall",
    "mw",
    "push-wall",
    Source::MetaWorld,
    Build::MetaWorld(push_wall),
)];

const PUSH_WALL: TaskConfig = TaskConfig {
    model: "sawyer_push_wall_v3.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.05, 0.6, 0.015, -0.05, 0.85, 0.01],
    rand_high: &[0.05, 0.65, 0.015, 0.05, 0.9, 0.02],
    goal_low: [-0.05, 0.85, 0.01],
    goal_high: [0.05, 0.9, 0.02],
};

const TARGET_RADIUS: f64 = 0.05;
/// `_gripper_caging_reward(object_reach_radius=0.01, obj_radius=0.015,
/// pad_success_thresh=0.05, xz_thresh=0.005, high_density=True)`.
const CAGING: Caging = Caging::new(0.015, 0.05, 0.01, 0.005).high_density();

fn push_wall(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &PUSH_WALL, |s| {
        Ok(Box::new(PushWall {
            obj_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct PushWall {
    obj_geom: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

impl PushWall {
    /// The puck geom's current height (`adjust_initObjPos(...)[-1]`).
    fn height(&self, s: &Sawyer) -> f64 {
        s.physics().data().geom_xpos()[self.obj_geom][2]
    }
}

impl Task for PushWall {
    fn config(&self) -> &'static TaskConfig {
        &PUSH_WALL
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.15
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        let z = self.height(s);
        s.set_site_model_pos(self.goal_site, [rand[3], rand[4], z]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        let z = self.height(s);
        self.target = [rand[3], rand[4], z];
        self.obj_init = [rand[0], rand[1], z];
        s.set_site_model_pos(self.goal_site, self.target);
        s.set_obj_xyz(self.obj_init)
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        let data = s.physics().data();
        out[..3].copy_from_slice(&data.geom_xpos()[self.obj_geom]);
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(&data.geom_xmat()[self.obj_geom]));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let tcp = s.tcp_center();
        let obj = [obs[4], obs[5], obs[6]];
        let tcp_opened = obs[3];
        let midpoint = [-0.05, 0.77, obj[2]];
        let t = self.target;
        let tcp_to_obj = dist(obj, tcp);
        let scaling = [3.0, 1.0, 1.0];
        let scaled =
            |p: [f64; 3]| numpy_norm(&[0, 1, 2].map(|i| (p[i] - midpoint[i]) * scaling[i]));
        let obj_to_midpoint = scaled(obj);
        let obj_to_midpoint_init = scaled(self.obj_init);
        let obj_to_target = dist(obj, t);
        let obj_to_target_init = dist(self.obj_init, t);
        // tolerance returns Python floats.
        let part1 = tolerance(
            obj_to_midpoint,
            0.0,
            TARGET_RADIUS,
            obj_to_midpoint_init,
            Sigmoid::LongTail,
        );
        let part2 = tolerance(
            obj_to_target,
            0.0,
            TARGET_RADIUS,
            obj_to_target_init,
            Sigmoid::LongTail,
        );
        // float32 once the gripper closes on the caged puck; the sums below
        // then run in float32 (Python floats are weak).
        let grasped = s.caging_reward(action, obj, self.obj_init, CAGING);
        let mut reward = Num::Py(2.0) * grasped;
        if tcp_to_obj < 0.02 && tcp_opened > 0.0 {
            // 2.0 * grasped + 1.0 + 4.0 * part1, left to right.
            reward = Num::Py(2.0) * grasped + Num::Py(1.0) + Num::Py(4.0 * part1);
            if obj[1] > 0.75 {
                // 2 * grasped + 1.0 + 4.0 + 3.0 * part2, left to right.
                reward =
                    Num::Py(2.0) * grasped + Num::Py(1.0) + Num::Py(4.0) + Num::Py(3.0 * part2);
            }
        }
        if obj_to_target < TARGET_RADIUS {
            reward = Num::Py(10.0);
        }
        let grasp_success = s.touching_object(self.obj_geom)
            && tcp_opened > 0.0
            && obj[2] - 0.02 > self.obj_init[2];
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(obj_to_target <= 0.07),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                grasped.get(),
                part2,
                obj_to_target,
                reward.get(),
            ],
        }
    }
}
