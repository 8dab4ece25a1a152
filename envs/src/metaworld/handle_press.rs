//! Handle press (`sawyer_handle_press*_v3.py`): press a handle on a box
//! placed at each reset down to a goal height, from the front or the side.
//! The handle is the slide joint `qpos[9]`; its observed position is the
//! `handleStart` site, with zeros for the quaternion.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, dist, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::registry::Build;

/// The registered handle-press tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-handle-press-side",
        "mw",
        "handle-press-side",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, &SIDE)),
    ),
    TaskDef::new(
        "mw-handle-press",
        "mw",
        "handle-press",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, &FRONT)),
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
    goal_high: [0.1, 0.70, 0.08],
};

const SIDE: TaskConfig = TaskConfig {
    model: "sawyer_handle_press_sideways.xml",
    rand_low: &[-0.35, 0.65, -0.001],
    rand_high: &[-0.25, 0.75, 0.001],
    goal_low: [-0.5, 0.40, 0.05],
    goal_high: [0.5, 1.0, 0.5],
    ..FRONT
};

/// The classes' `TARGET_RADIUS` (the base class's is 0.05).
const TARGET_RADIUS: f64 = 0.02;
const HANDLE_RADIUS: f64 = 0.02;

fn build(name: &'static str, config: &'static TaskConfig) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, config, |s| {
        Ok(Box::new(HandlePress {
            config,
            box_body: s.id(MjtObjBase::mjOBJ_BODY, "box")?,
            handle_start: s.id(MjtObjBase::mjOBJ_SITE, "handleStart")?,
            goal_press: s.id(MjtObjBase::mjOBJ_SITE, "goalPress")?,
            target: [0.0; 3],
            handle_init: [0.0; 3],
        }))
    })
}

struct HandlePress {
    config: &'static TaskConfig,
    box_body: usize,
    handle_start: usize,
    goal_press: usize,
    target: [f64; 3],
    handle_init: [f64; 3],
}

impl Task for HandlePress {
    fn config(&self) -> &'static TaskConfig {
        self.config
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.box_body, [rand[0], rand[1], rand[2]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.move_model(s, rand);
        s.set_state(|qpos, qvel| {
            qpos[9] = -0.001;
            qvel[9] = 0.0;
        })?;
        self.target = s.site_pos(self.goal_press);
        self.handle_init = s.site_pos(self.handle_start);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.site_pos(self.handle_start));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, _obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        // The reward reads the handle's site, not the (clipped) observation.
        let obj = s.site_pos(self.handle_start);
        let tcp = s.tcp_center();
        // `np.linalg.norm` of one value is its absolute value.
        let target_to_obj = (obj[2] - self.target[2]).abs();
        let target_to_obj_init = (self.handle_init[2] - self.target[2]).abs();
        let in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            (target_to_obj_init - TARGET_RADIUS).abs(),
            Sigmoid::LongTail,
        );
        let tcp_to_obj = dist(obj, tcp);
        let tcp_to_obj_init = dist(self.handle_init, s.init_tcp);
        let reach = tolerance(
            tcp_to_obj,
            0.0,
            HANDLE_RADIUS,
            (tcp_to_obj_init - HANDLE_RADIUS).abs(),
            Sigmoid::LongTail,
        );
        let pressed = target_to_obj <= TARGET_RADIUS;
        let reward = 10.0
            * if pressed {
                1.0
            } else {
                hamacher_product(reach, in_place)
            };
        Evaluation {
            reward,
            info: [
                f64::from(pressed),
                f64::from(tcp_to_obj <= 0.05),
                1.0,
                reach,
                in_place,
                target_to_obj,
                reward,
            ],
        }
    }
}
