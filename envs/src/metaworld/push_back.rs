//! Push back (`sawyer_push_back_v3.py`): push a block back towards the
//! robot to a goal, both drawn at each reset. The block and the goal take
//! the block geom's height after the hand reset; the observed position is
//! the geom's.
//!
//! push-back has its own caging reward (`pad_caging`, shared with
//! soccer). Its "initial" pad positions are live views of the simulation
//! in metaworld (`init_left_pad` aliases `data.xpos`), so they are read
//! from the current state; the float32 gripper action is computed there
//! but unused, so the reward stays float64.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, dist, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered push-back task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-push-back",
    "mw",
    "push-back",
    Source::MetaWorld,
    Build::MetaWorld(push_back),
)];

const PUSH_BACK: TaskConfig = TaskConfig {
    model: "sawyer_push_back_v3.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.8, 0.02, -0.1, 0.6, 0.0199],
    rand_high: &[0.1, 0.85, 0.02, 0.1, 0.7, 0.0201],
    goal_low: [-0.1, 0.6, 0.0199],
    goal_high: [0.1, 0.7, 0.0201],
};

const OBJ_RADIUS: f64 = 0.007;
const TARGET_RADIUS: f64 = 0.05;

fn push_back(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &PUSH_BACK, |s| {
        Ok(Box::new(PushBack {
            obj_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct PushBack {
    obj_geom: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

/// `v + [0, -v[1], 0]`: the point projected on the x-z plane.
fn xz(v: [f64; 3]) -> [f64; 3] {
    [v[0] + 0.0, v[1] + -v[1], v[2] + 0.0]
}

/// The `_gripper_caging_reward(action, obj_pos, obj_radius)` that
/// push-back and soccer define: y caging of each pad between `obj_radius`
/// and 0.05, y gripping between `obj_radius` and `grip_success_margin`,
/// x-z caging within `x_z_success_margin`; `(caging + gripping) / 2`,
/// gripping counted when caging exceeds 0.95. The margins measure from
/// the pads' current positions (metaworld's `init_*_pad` are live views).
/// All Python floats and float64 (the float32 gripper action is unused).
pub(super) fn pad_caging(
    s: &Sawyer,
    obj: [f64; 3],
    obj_init: [f64; 3],
    obj_radius: f64,
    grip_success_margin: f64,
    x_z_success_margin: f64,
) -> f64 {
    const PAD_SUCCESS_MARGIN: f64 = 0.05;
    let tcp = s.tcp_center();
    let left = s.body_pos(s.left_pad);
    let right = s.body_pos(s.right_pad);
    let delta_left = left[1] - obj[1];
    let delta_right = obj[1] - right[1];
    let right_margin = ((obj[1] - right[1]).abs() - PAD_SUCCESS_MARGIN).abs();
    let left_margin = ((obj[1] - left[1]).abs() - PAD_SUCCESS_MARGIN).abs();
    let right_caging = tolerance(
        delta_right,
        obj_radius,
        PAD_SUCCESS_MARGIN,
        right_margin,
        Sigmoid::LongTail,
    );
    let left_caging = tolerance(
        delta_left,
        obj_radius,
        PAD_SUCCESS_MARGIN,
        left_margin,
        Sigmoid::LongTail,
    );
    let right_gripping = tolerance(
        delta_right,
        obj_radius,
        grip_success_margin,
        right_margin,
        Sigmoid::LongTail,
    );
    let left_gripping = tolerance(
        delta_left,
        obj_radius,
        grip_success_margin,
        left_margin,
        Sigmoid::LongTail,
    );
    let y_caging = hamacher_product(right_caging, left_caging);
    let y_gripping = hamacher_product(right_gripping, left_gripping);
    let tcp_obj_x_z = dist(xz(tcp), xz(obj));
    let margin = dist(xz(obj_init), xz(s.init_tcp)) - x_z_success_margin;
    let x_z_caging = tolerance(
        tcp_obj_x_z,
        0.0,
        x_z_success_margin,
        margin,
        Sigmoid::LongTail,
    );
    let caging = hamacher_product(y_caging, x_z_caging);
    let gripping = if caging > 0.95 { y_gripping } else { 0.0 };
    (caging + gripping) / 2.0
}

impl PushBack {
    /// The block geom's current height (`adjust_initObjPos(...)[-1]`).
    fn height(&self, s: &Sawyer) -> f64 {
        s.physics().data().geom_xpos()[self.obj_geom][2]
    }
}

impl Task for PushBack {
    fn config(&self) -> &'static TaskConfig {
        &PUSH_BACK
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
        s.set_obj_xyz(self.obj_init)?;
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        let data = s.physics().data();
        out[..3].copy_from_slice(&data.geom_xpos()[self.obj_geom]);
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(&data.geom_xmat()[self.obj_geom]));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        // float64 throughout: the own caging ignores the gripper action.
        let obj = [obs[4], obs[5], obs[6]];
        let tcp_opened = obs[3];
        let tcp_to_obj = dist(obj, s.tcp_center());
        let target_to_obj = dist(obj, self.target);
        let target_to_obj_init = dist(self.obj_init, self.target);
        let in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            target_to_obj_init,
            Sigmoid::LongTail,
        );
        let grasped = pad_caging(s, obj, self.obj_init, OBJ_RADIUS, OBJ_RADIUS + 0.003, 0.01);
        let mut reward = hamacher_product(grasped, in_place);
        if tcp_to_obj < 0.01
            && 0.0 < tcp_opened
            && tcp_opened < 0.55
            && target_to_obj_init - target_to_obj > 0.01
        {
            reward += 1.0 + 5.0 * in_place;
        }
        if target_to_obj < TARGET_RADIUS {
            reward = 10.0;
        }
        let grasp_success = s.touching_object(self.obj_geom)
            && tcp_opened > 0.0
            && obj[2] - 0.02 > self.obj_init[2];
        Evaluation {
            reward,
            info: [
                f64::from(target_to_obj <= 0.07),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                grasped,
                in_place,
                target_to_obj,
                reward,
            ],
        }
    }
}
