//! Soccer (`sawyer_soccer_v3.py`): push a ball into a goal, both placed at
//! each reset (the goal body `goal_whole` moves). The ball's free joint
//! follows the arm (`qpos[9..16]`); its observed position is the body's.
//!
//! soccer has its own caging reward, the one push-back defines
//! (`push_back::pad_caging`) with a wider grip margin; it ignores the
//! gripper action, so the reward stays float64.

use mujoco_rs::prelude::MjtObjBase;

use super::push_back::pad_caging;
use super::rewards::{Sigmoid, dist, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered soccer task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-soccer",
    "mw",
    "soccer",
    Source::MetaWorld,
    Build::MetaWorld(soccer),
)];

const SOCCER: TaskConfig = TaskConfig {
    model: "sawyer_soccer.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.6, 0.03, -0.1, 0.8, 0.0],
    rand_high: &[0.1, 0.7, 0.03, 0.1, 0.9, 0.0],
    goal_low: [-0.1, 0.8, 0.0],
    goal_high: [0.1, 0.9, 0.0],
};

const OBJ_RADIUS: f64 = 0.013;
const TARGET_RADIUS: f64 = 0.07;
/// The ball's start height: `obj_init_pos[-1]` of `init_config`, carried
/// from reset to reset.
const BALL_Z: f64 = 0.03;

fn soccer(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &SOCCER, |s| {
        Ok(Box::new(Soccer {
            ball: s.id(MjtObjBase::mjOBJ_BODY, "soccer_ball")?,
            ball_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            goal_whole: s.id(MjtObjBase::mjOBJ_BODY, "goal_whole")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct Soccer {
    ball: usize,
    ball_geom: usize,
    goal_whole: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

/// `norm((a - b) * [3, 1, 1])`.
fn x_scaled_dist(a: [f64; 3], b: [f64; 3]) -> f64 {
    let scaling = [3.0, 1.0, 1.0];
    numpy_norm(&[0, 1, 2].map(|i| (a[i] - b[i]) * scaling[i]))
}

impl Task for Soccer {
    fn config(&self) -> &'static TaskConfig {
        &SOCCER
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.15
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        let target = [rand[3], rand[4], rand[5]];
        s.set_body_model_pos(self.goal_whole, target);
        s.set_site_model_pos(self.goal_site, target);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.target = [rand[3], rand[4], rand[5]];
        self.obj_init = [rand[0], rand[1], BALL_Z];
        // The goal body moves before the ball's forward, the goal site
        // after it.
        s.set_body_model_pos(self.goal_whole, self.target);
        s.set_obj_xyz(self.obj_init)?;
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.ball));
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(s.physics().xmat(self.ball)));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        // float64 throughout: the own caging ignores the gripper action.
        let obj = [obs[4], obs[5], obs[6]];
        let tcp_opened = obs[3];
        let t = self.target;
        let tcp_to_obj = dist(obj, s.tcp_center());
        let target_to_obj = x_scaled_dist(obj, t);
        // The margin measures from the current ball, as metaworld's does
        // (0 when the ball has not moved: then 0 outside the bounds).
        let target_to_obj_init = x_scaled_dist(obj, self.obj_init);
        let mut in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            target_to_obj_init,
            Sigmoid::LongTail,
        );
        let goal_line = t[1] - 0.1;
        if obj[1] > goal_line && (obj[0] - t[0]).abs() > 0.10 {
            // np.clip(in_place - 2 * ((obj[1] - goal_line) / (1 - goal_line)), 0, 1)
            in_place =
                (in_place - 2.0 * ((obj[1] - goal_line) / (1.0 - goal_line))).clamp(0.0, 1.0);
        }
        let grasped = pad_caging(s, obj, self.obj_init, OBJ_RADIUS, OBJ_RADIUS + 0.01, 0.005);
        let mut reward = 3.0 * grasped + 6.5 * in_place;
        if target_to_obj < TARGET_RADIUS {
            reward = 10.0;
        }
        let obj_to_target = dist(obj, t);
        let grasp_success = s.touching_object(self.ball_geom)
            && tcp_opened > 0.0
            && obj[2] - 0.02 > self.obj_init[2];
        Evaluation {
            reward,
            info: [
                f64::from(obj_to_target <= 0.07),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                grasped,
                in_place,
                obj_to_target,
                reward,
            ],
        }
    }
}
