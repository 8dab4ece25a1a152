//! Push (`sawyer_push_v3.py`): push a puck to a goal on the table, both
//! drawn at each reset. The goal's height is the puck's after the hand
//! reset.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered push tasks.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-push",
    "mw",
    "push",
    Source::MetaWorld,
    Build::MetaWorld(push),
)];

const PUSH: TaskConfig = TaskConfig {
    model: "sawyer_push_v3.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.6, 0.02, -0.1, 0.8, 0.01],
    rand_high: &[0.1, 0.7, 0.02, 0.1, 0.9, 0.02],
    goal_low: [-0.1, 0.8, 0.01],
    goal_high: [0.1, 0.9, 0.02],
};

const TARGET_RADIUS: f64 = 0.05;
const CAGING: Caging = Caging::new(0.015, 0.05, 0.01, 0.005).high_density();

fn push(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &PUSH, |s| {
        Ok(Box::new(Push {
            obj: s.id(MjtObjBase::mjOBJ_BODY, "obj")?,
            obj_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct Push {
    obj: usize,
    obj_geom: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

impl Push {
    /// The goal at the puck's current height.
    fn target_of(&self, s: &Sawyer, rand: &[f64]) -> [f64; 3] {
        [rand[3], rand[4], s.body_pos(self.obj)[2]]
    }
}

impl Task for Push {
    fn config(&self) -> &'static TaskConfig {
        &PUSH
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.15
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        let target = self.target_of(s, rand);
        s.set_site_model_pos(self.goal_site, target);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        let z = s.body_pos(self.obj)[2];
        self.target = [rand[3], rand[4], z];
        self.obj_init = [rand[0], rand[1], z];
        s.set_obj_xyz(self.obj_init)?;
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.obj));
        let xmat = &s.physics().data().geom_xmat()[self.obj_geom];
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(xmat));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
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
        let grasped = s.caging_reward(action, obj, self.obj_init, CAGING);
        let mut reward = Num::Py(2.0) * grasped;
        if tcp_to_obj < 0.02 && tcp_opened > 0.0 {
            reward = reward + (Num::Py(1.0) + reward + Num::Py(5.0) * Num::Py(in_place));
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
                f64::from(target_to_obj <= TARGET_RADIUS),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                grasped.get(),
                in_place,
                target_to_obj,
                reward.get(),
            ],
        }
    }
}
