//! Handle pull (`sawyer_handle_pull*_v3.py`): grasp a handle on a box
//! placed at each reset and pull it up to a goal height, from the front or
//! the side (the handle-press models with the handle started low).

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, hamacher, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::registry::Build;

/// The registered handle-pull tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-handle-pull-side",
        "mw",
        "handle-pull-side",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, true)),
    ),
    TaskDef::new(
        "mw-handle-pull",
        "mw",
        "handle-pull",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, false)),
    ),
];

const FRONT: TaskConfig = TaskConfig {
    model: "sawyer_handle_press.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.8, -0.001],
    rand_high: &[0.1, 0.9, 0.001],
    goal_low: [-0.1, 0.55, 0.04],
    goal_high: [0.1, 0.70, 0.18],
};

const SIDE: TaskConfig = TaskConfig {
    model: "sawyer_handle_press_sideways.xml",
    rand_low: &[-0.35, 0.65, 0.0],
    rand_high: &[-0.25, 0.75, 0.0],
    goal_low: [-0.5, 0.40, 0.05],
    goal_high: [0.5, 1.0, 0.5],
    ..FRONT
};

const TARGET_RADIUS: f64 = 0.05;

fn build(name: &'static str, side: bool) -> Result<MetaWorldEnv, EnvError> {
    let config = if side { &SIDE } else { &FRONT };
    MetaWorldEnv::new(name, config, |s| {
        Ok(Box::new(HandlePull {
            side,
            box_body: s.id(MjtObjBase::mjOBJ_BODY, "box")?,
            // The front task observes the handle's right end, the side task
            // its centre.
            handle: s.id(
                MjtObjBase::mjOBJ_SITE,
                if side { "handleCenter" } else { "handleRight" },
            )?,
            goal_pull: s.id(MjtObjBase::mjOBJ_SITE, "goalPull")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct HandlePull {
    side: bool,
    box_body: usize,
    handle: usize,
    goal_pull: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

impl Task for HandlePull {
    fn config(&self) -> &'static TaskConfig {
        if self.side { &SIDE } else { &FRONT }
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.box_body, [rand[0], rand[1], rand[2]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.obj_init = [rand[0], rand[1], rand[2]];
        self.move_model(s, rand);
        s.set_state(|qpos, qvel| {
            qpos[9] = -0.1;
            qvel[9] = 0.0;
        })?;
        self.target = s.site_pos(self.goal_pull);
        if self.side {
            // The side task measures from the handle's position after the
            // reset, the front task from the box's.
            self.obj_init = s.site_pos(self.handle);
        }
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.site_pos(self.handle));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let obj = [obs[4], obs[5], obs[6]];
        let t = self.target;
        let (target_to_obj, target_to_obj_init, caging) = if self.side {
            (
                // (obj - target) * [1, 1, 1]
                dist(obj, t),
                dist(self.obj_init, t),
                Caging::new(0.032, 0.06, 0.01, 0.01).high_density(),
            )
        } else {
            (
                (t[2] - obj[2]).abs(),
                (t[2] - self.obj_init[2]).abs(),
                Caging::new(0.022, 0.05, 0.01, 0.01).high_density(),
            )
        };
        let in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            target_to_obj_init,
            Sigmoid::LongTail,
        );
        let grasped = s.caging_reward(action, obj, self.obj_init, caging);
        let mut reward = hamacher(grasped, Num::Py(in_place));
        let tcp_opened = obs[3];
        let tcp_to_obj = dist(obj, s.tcp_center());
        // The front task compares the handle's y with the box's z, as
        // metaworld does.
        let lifted = if self.side {
            obj[2] - 0.01 > self.obj_init[2]
        } else {
            obj[1] - 0.01 > self.obj_init[2]
        };
        if tcp_to_obj < 0.035 && tcp_opened > 0.0 && lifted {
            reward = reward + (Num::Py(1.0) + Num::Py(5.0) * Num::Py(in_place));
        }
        if target_to_obj < TARGET_RADIUS {
            reward = Num::Py(10.0);
        }
        let success = if self.side {
            target_to_obj <= 0.08
        } else {
            target_to_obj <= TARGET_RADIUS
        };
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(success),
                f64::from(tcp_to_obj <= 0.05),
                f64::from(tcp_opened > 0.0 && obj[2] - 0.03 > self.obj_init[2]),
                grasped.get(),
                in_place,
                target_to_obj,
                reward.get(),
            ],
        }
    }
}
