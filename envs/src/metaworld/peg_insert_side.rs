//! Peg insertion (`sawyer_peg_insertion_side_v3.py`): grasp a peg lying on
//! the table and push its head into the hole in the side of a box, both
//! placed at each reset. The observed object is the peg's grasp site.
//!
//! The reward measures the peg's head against the hole and damps it while
//! the head is inside one of two boxes below and above the hole
//! (`rect_prism_tolerance`). The head's "initial" position is read at reset
//! before the peg is moved, so it is where the hand reset left the peg.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, hamacher, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered peg-insertion task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-peg-insert-side",
    "mw",
    "peg-insert-side",
    Source::MetaWorld,
    Build::MetaWorld(peg_insert_side),
)];

const PEG_INSERT_SIDE: TaskConfig = TaskConfig {
    model: "sawyer_peg_insertion_side.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[0.0, 0.5, 0.02, -0.35, 0.4, -0.001],
    rand_high: &[0.2, 0.7, 0.02, -0.25, 0.7, 0.001],
    // `np.array(goal_low) + np.array([0.03, 0.0, 0.13])`, and the same for
    // the upper bound.
    goal_low: [-0.35 + 0.03, 0.4 + 0.0, -0.001 + 0.13],
    goal_high: [-0.25 + 0.03, 0.7 + 0.0, 0.001 + 0.13],
};

/// The class's `TARGET_RADIUS`.
const TARGET_RADIUS: f64 = 0.07;
const CAGING: Caging = Caging::new(0.0075, 0.03, 0.01, 0.005).high_density();

fn peg_insert_side(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &PEG_INSERT_SIDE, |s| {
        let site = |name: &str| s.id(MjtObjBase::mjOBJ_SITE, name);
        Ok(Box::new(PegInsertSide {
            peg_head: site("pegHead")?,
            peg_grasp: site("pegGrasp")?,
            box_body: s.id(MjtObjBase::mjOBJ_BODY, "box")?,
            goal_site: site("goal")?,
            collision_boxes: [
                [
                    site("bottom_right_corner_collision_box_1")?,
                    site("top_left_corner_collision_box_1")?,
                ],
                [
                    site("bottom_right_corner_collision_box_2")?,
                    site("top_left_corner_collision_box_2")?,
                ],
            ],
            obj_init: [0.0; 3],
            peg_head_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct PegInsertSide {
    peg_head: usize,
    peg_grasp: usize,
    box_body: usize,
    goal_site: usize,
    /// Per collision box, its `[zero, one]` corner sites (bottom right, top
    /// left).
    collision_boxes: [[usize; 2]; 2],
    obj_init: [f64; 3],
    peg_head_init: [f64; 3],
    target: [f64; 3],
}

/// The hole: the box's position plus `[0.03, 0.0, 0.13]`.
fn target_of(rand: &[f64]) -> [f64; 3] {
    [rand[3] + 0.03, rand[4] + 0.0, rand[5] + 0.13]
}

/// `reward_utils.rect_prism_tolerance(curr, zero, one)`: inside the prism
/// spanned by the corners, the product of the three scaled coordinates, a
/// NumPy float64 (a product of array elements); outside, the Python float
/// 1.0. The float64 matters where it meets the float32 caging reward.
fn rect_prism_tolerance(curr: [f64; 3], zero: [f64; 3], one: [f64; 3]) -> Num {
    let in_range = |a: f64, b: f64, c: f64| {
        if c >= b {
            b <= a && a <= c
        } else {
            c <= a && a <= b
        }
    };
    if (0..3).all(|i| in_range(curr[i], zero[i], one[i])) {
        let diff = [one[0] - zero[0], one[1] - zero[1], one[2] - zero[2]];
        let x_scale = (curr[0] - zero[0]) / diff[0];
        let y_scale = (curr[1] - zero[1]) / diff[1];
        let z_scale = (curr[2] - zero[2]) / diff[2];
        Num::F64(x_scale * y_scale * z_scale)
    } else {
        Num::Py(1.0)
    }
}

impl Task for PegInsertSide {
    fn config(&self) -> &'static TaskConfig {
        &PEG_INSERT_SIDE
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.1
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.box_body, [rand[3], rand[4], rand[5]]);
        s.set_site_model_pos(self.goal_site, target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.obj_init = [rand[0], rand[1], rand[2]];
        // Read before `_set_obj_xyz`: the head where the hand reset left the
        // peg (the data of the reset's last physics step).
        self.peg_head_init = s.site_pos(self.peg_head);
        s.set_obj_xyz(self.obj_init)?;
        // The box and the goal site move after the forward.
        self.target = target_of(rand);
        self.move_model(s, rand);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.site_pos(self.peg_grasp));
        let xmat = &s.physics().data().site_xmat()[self.peg_grasp];
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(xmat));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let tcp = s.tcp_center();
        let obj = [obs[4], obs[5], obs[6]];
        let obj_head = s.site_pos(self.peg_head);
        let tcp_opened = obs[3];
        let t = self.target;
        let tcp_to_obj = dist(obj, tcp);
        let scale = [1.0, 2.0, 2.0];
        let obj_to_target = numpy_norm(&[0, 1, 2].map(|i| (obj_head[i] - t[i]) * scale[i]));
        let in_place_margin =
            numpy_norm(&[0, 1, 2].map(|i| (self.peg_head_init[i] - t[i]) * scale[i]));
        let in_place = tolerance(
            obj_to_target,
            0.0,
            TARGET_RADIUS,
            in_place_margin,
            Sigmoid::LongTail,
        );
        let [box_1, box_2] = self
            .collision_boxes
            .map(|[zero, one]| rect_prism_tolerance(obj_head, s.site_pos(zero), s.site_pos(one)));
        // Python float, or NumPy float64 once the head is in a box.
        let collision_boxes = hamacher(box_2, box_1);
        let in_place = hamacher(Num::Py(in_place), collision_boxes);
        // float32 once the gripper closes on the peg (see `gripper_effort`).
        let mut object_grasped = s.caging_reward(action, obj, self.obj_init, CAGING);
        let lifted = tcp_to_obj < 0.08 && tcp_opened > 0.0 && obj[2] - 0.01 > self.obj_init[2];
        if lifted {
            object_grasped = Num::Py(1.0);
        }
        let mut reward = hamacher(object_grasped, in_place);
        if lifted {
            // `reward += 1.0 + 5 * in_place`
            reward = reward + (Num::Py(1.0) + Num::Py(5.0) * in_place);
        }
        if obj_to_target <= 0.07 {
            reward = Num::Py(10.0);
        }
        let grasp_success =
            tcp_to_obj < 0.02 && tcp_opened > 0.0 && obj[2] - 0.01 > self.obj_init[2];
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(obj_to_target <= 0.07),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                object_grasped.get(),
                in_place.get(),
                obj_to_target,
                reward.get(),
            ],
        }
    }
}
