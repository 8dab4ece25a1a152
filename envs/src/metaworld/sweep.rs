//! Sweep (`sawyer_sweep_v3.py`, `sawyer_sweep_into_goal_v3.py`): push a
//! block along the table, off its edge at x = 0.5 (sweep) or into a hole at
//! a fixed goal (sweep-into, `sawyer_table_with_hole.xml`). The block is
//! drawn at each reset; sweep's goal takes the block's y. sweep-into draws
//! six values but only uses the block's two: its goal is the fixed
//! `self.goal`, which the rejection loop also measures against.
//!
//! Both have their own caging reward, the one push-back defines
//! (`push_back::pad_caging`) with their own margins; it ignores the
//! gripper action, so the rewards stay float64.

use mujoco_rs::prelude::MjtObjBase;

use super::push_back::pad_caging;
use super::rewards::{Sigmoid, dist, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered sweep tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-sweep-into",
        "mw",
        "sweep-into",
        Source::MetaWorld,
        Build::MetaWorld(sweep_into),
    ),
    TaskDef::new(
        "mw-sweep",
        "mw",
        "sweep",
        Source::MetaWorld,
        Build::MetaWorld(sweep),
    ),
];

const SWEEP: TaskConfig = TaskConfig {
    model: "sawyer_sweep_v3.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.6, 0.02],
    rand_high: &[0.1, 0.7, 0.02],
    goal_low: [0.49, 0.6, 0.00],
    goal_high: [0.51, 0.7, 0.02],
};

const SWEEP_INTO: TaskConfig = TaskConfig {
    model: "sawyer_table_with_hole.xml",
    rand_low: &[-0.1, 0.6, 0.02, -0.001, 0.8399, 0.0199],
    rand_high: &[0.1, 0.7, 0.02, 0.001, 0.8401, 0.0201],
    goal_low: [-0.001, 0.8399, 0.0199],
    goal_high: [0.001, 0.8401, 0.0201],
    ..SWEEP
};

/// Both classes' `OBJ_RADIUS`.
const OBJ_RADIUS: f64 = 0.02;
/// Both rewards' `_TARGET_RADIUS`.
const TARGET_RADIUS: f64 = 0.05;
/// sweep's `self.goal` (its y is replaced by the block's at each reset).
const SWEEP_GOAL: [f64; 3] = [0.5, 0.65, 0.01];
/// sweep's block start height: `init_config["obj_init_pos"][-1]`.
const SWEEP_OBJ_Z: f64 = 0.02;
/// sweep-into's `self.goal`, its target at every reset.
const SWEEP_INTO_GOAL: [f64; 3] = [0.0, 0.84, 0.02];

fn sweep_into(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    build(name, true)
}

fn sweep(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    build(name, false)
}

fn build(name: &'static str, into: bool) -> Result<MetaWorldEnv, EnvError> {
    let config = if into { &SWEEP_INTO } else { &SWEEP };
    MetaWorldEnv::new(name, config, |s| {
        Ok(Box::new(Sweep {
            into,
            obj: s.id(MjtObjBase::mjOBJ_BODY, "obj")?,
            obj_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct Sweep {
    /// sweep-into rather than sweep.
    into: bool,
    obj: usize,
    obj_geom: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

impl Sweep {
    /// `_target_pos`: sweep's goal with the block's y, or sweep-into's
    /// fixed goal.
    fn target_of(&self, rand: &[f64]) -> [f64; 3] {
        if self.into {
            SWEEP_INTO_GOAL
        } else {
            [SWEEP_GOAL[0], rand[1], SWEEP_GOAL[2]]
        }
    }
}

impl Task for Sweep {
    fn config(&self) -> &'static TaskConfig {
        if self.into { &SWEEP_INTO } else { &SWEEP }
    }

    fn accept(&self, rand: &[f64]) -> bool {
        if self.into {
            // `norm(goal_pos[:2] - self._target_pos[:2]) < 0.15` redraws,
            // against the fixed goal.
            let g = SWEEP_INTO_GOAL;
            numpy_norm(&[rand[0] - g[0], rand[1] - g[1]]) >= 0.15
        } else {
            true
        }
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_site_model_pos(self.goal_site, self.target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.target = self.target_of(rand);
        // sweep-into's start height is the block's where the hand reset
        // left it (`obj_init_pos` is a live view of its position until the
        // draw replaces it).
        let z = if self.into {
            s.body_pos(self.obj)[2]
        } else {
            SWEEP_OBJ_Z
        };
        self.obj_init = [rand[0], rand[1], z];
        s.set_obj_xyz(self.obj_init)?;
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.obj));
        let quat = if self.into {
            scipy_quat_from_matrix(&s.physics().data().geom_xmat()[self.obj_geom])
        } else {
            s.body_quat(self.obj)
        };
        out[3..7].copy_from_slice(&quat);
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        // float64 throughout: the own caging ignores the gripper action.
        let obj = [obs[4], obs[5], obs[6]];
        let tcp_opened = obs[3];
        // sweep-into measures in the block's plane.
        let target = if self.into {
            [self.target[0], self.target[1], obj[2]]
        } else {
            self.target
        };
        let obj_to_target = dist(obj, target);
        let tcp_to_obj = dist(obj, s.tcp_center());
        let in_place = tolerance(
            obj_to_target,
            0.0,
            TARGET_RADIUS,
            dist(self.obj_init, target),
            Sigmoid::LongTail,
        );
        let object_grasped = if self.into {
            pad_caging(s, obj, self.obj_init, OBJ_RADIUS, OBJ_RADIUS + 0.005, 0.01)
        } else {
            pad_caging(s, obj, self.obj_init, OBJ_RADIUS, OBJ_RADIUS + 0.01, 0.005)
        };
        let in_place_and_object_grasped = hamacher_product(object_grasped, in_place);
        let mut reward = 2.0 * object_grasped + 6.0 * in_place_and_object_grasped;
        if obj_to_target < TARGET_RADIUS {
            reward = 10.0;
        }
        let grasp_success = s.touching_object(self.obj_geom) && tcp_opened > 0.0;
        Evaluation {
            reward,
            info: [
                f64::from(obj_to_target <= 0.05),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                object_grasped,
                in_place,
                obj_to_target,
                reward,
            ],
        }
    }
}
