//! Lever pull (`sawyer_lever_pull_v3.py`): lift a lever placed at each
//! reset until it points straight up. The lever's hinge is `LeverAxis`;
//! the observed object is the `leverStart` site and the lever geom's
//! orientation (scipy). The lever moves (`model.body_pos`) without a
//! forward at reset, so the reset observation sees the previous draw's
//! lever, as in metaworld.

use std::f64::consts::PI;

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, dist, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered lever task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-lever-pull",
    "mw",
    "lever-pull",
    Source::MetaWorld,
    Build::MetaWorld(lever_pull),
)];

const LEVER: TaskConfig = TaskConfig {
    model: "sawyer_lever_pull.xml",
    hand_init_pos: f32s([0.0, 0.4, 0.2]),
    mocap_low: [-0.5, 0.40, -0.15],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.7, 0.0],
    rand_high: &[0.1, 0.8, 0.0],
    // The goal space is the hand space.
    goal_low: [-0.5, 0.40, -0.15],
    goal_high: [0.5, 1.0, 0.5],
};

/// The class's `LEVER_RADIUS`.
const LEVER_RADIUS: f64 = 0.2;

fn lever_pull(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &LEVER, |s| {
        Ok(Box::new(LeverPull {
            lever: s.id(MjtObjBase::mjOBJ_BODY, "lever")?,
            lever_start: s.id(MjtObjBase::mjOBJ_SITE, "leverStart")?,
            obj_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            lever_qpos: s.physics().joint_qpos_adr("LeverAxis")?,
            lever_pos_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct LeverPull {
    lever: usize,
    lever_start: usize,
    obj_geom: usize,
    goal_site: usize,
    lever_qpos: usize,
    /// `_lever_pos_init`.
    lever_pos_init: [f64; 3],
    target: [f64; 3],
}

/// The goal: the lever's tip pointing up (`obj_init_pos + [0.12, 0, 0.25 +
/// LEVER_RADIUS]`).
fn target_of(rand: &[f64]) -> [f64; 3] {
    [
        rand[0] + 0.12,
        rand[1] + 0.0,
        rand[2] + (0.25 + LEVER_RADIUS),
    ]
}

impl Task for LeverPull {
    fn config(&self) -> &'static TaskConfig {
        &LEVER
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.lever, [rand[0], rand[1], rand[2]]);
        s.set_site_model_pos(self.goal_site, target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        s.set_body_model_pos(self.lever, [rand[0], rand[1], rand[2]]);
        // obj_init_pos + [0.12, -LEVER_RADIUS, 0.25]
        self.lever_pos_init = [rand[0] + 0.12, rand[1] + -LEVER_RADIUS, rand[2] + 0.25];
        self.target = target_of(rand);
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.site_pos(self.lever_start));
        let xmat = &s.physics().data().geom_xmat()[self.obj_geom];
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(xmat));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    /// The v2 reward (no float32: the action is unused).
    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        let gripper = [obs[0], obs[1], obs[2]];
        let lever = [obs[4], obs[5], obs[6]];
        // De-emphasise y; the Sawyer's shoulder rather than its fingers.
        let scale = [4.0, 1.0, 4.0];
        let offset = [0.0, 0.055, 0.07];
        let shoulder_to_lever = [0, 1, 2].map(|i| (gripper[i] + offset[i] - lever[i]) * scale[i]);
        let init = s.init_tcp;
        let lpi = self.lever_pos_init;
        let shoulder_to_lever_init = [0, 1, 2].map(|i| (init[i] + offset[i] - lpi[i]) * scale[i]);
        let shoulder_dist = numpy_norm(&shoulder_to_lever);
        let ready_to_lift = tolerance(
            shoulder_dist,
            0.0,
            0.02,
            numpy_norm(&shoulder_to_lever_init),
            Sigmoid::LongTail,
        );
        // float(-data.joint("LeverAxis").qpos.item()), read live.
        let lever_angle = -s.physics().qpos()[self.lever_qpos];
        let lever_angle_desired = PI / 2.0;
        let lever_error = (lever_angle - lever_angle_desired).abs();
        let lever_engagement = tolerance(
            lever_error,
            0.0,
            PI / 48.0,
            PI / 2.0 - PI / 12.0,
            Sigmoid::LongTail,
        );
        let t = self.target;
        let obj_to_target = dist(lever, t);
        let in_place_margin = dist(lpi, t);
        let in_place = tolerance(obj_to_target, 0.0, 0.04, in_place_margin, Sigmoid::LongTail);
        let reward = 10.0 * hamacher_product(ready_to_lift, in_place);
        Evaluation {
            reward,
            info: [
                f64::from(lever_error <= PI / 24.0),
                f64::from(shoulder_dist < 0.03),
                f64::from(ready_to_lift > 0.9),
                ready_to_lift,
                lever_engagement,
                shoulder_dist,
                reward,
            ],
        }
    }
}
