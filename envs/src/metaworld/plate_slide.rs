//! Plate slide (`sawyer_plate_slide*_v3.py`): slide a puck (the plate)
//! across the table into a goal, forward, sideways, back, or back and
//! sideways. The puck has two slide joints at `qpos[9..11]`; its observed
//! position is its geom's.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, dist, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::scipy_quat_from_matrix;
use crate::registry::Build;

/// The registered plate-slide tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-plate-slide",
        "mw",
        "plate-slide",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, Variant::Forward)),
    ),
    TaskDef::new(
        "mw-plate-slide-side",
        "mw",
        "plate-slide-side",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, Variant::Side)),
    ),
    TaskDef::new(
        "mw-plate-slide-back",
        "mw",
        "plate-slide-back",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, Variant::Back)),
    ),
    TaskDef::new(
        "mw-plate-slide-back-side",
        "mw",
        "plate-slide-back-side",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, Variant::BackSide)),
    ),
];

const FORWARD: TaskConfig = TaskConfig {
    model: "sawyer_plate_slide.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[0.0, 0.6, 0.0, -0.1, 0.85, 0.0],
    rand_high: &[0.0, 0.6, 0.0, 0.1, 0.9, 0.0],
    goal_low: [-0.1, 0.85, 0.0],
    goal_high: [0.1, 0.9, 0.0],
};

const SIDE: TaskConfig = TaskConfig {
    model: "sawyer_plate_slide_sideway.xml",
    rand_low: &[0.0, 0.6, 0.0, -0.3, 0.54, 0.0],
    rand_high: &[0.0, 0.6, 0.0, -0.25, 0.66, 0.0],
    goal_low: [-0.3, 0.54, 0.0],
    goal_high: [-0.25, 0.66, 0.0],
    ..FORWARD
};

const BACK: TaskConfig = TaskConfig {
    model: "sawyer_plate_slide.xml",
    rand_low: &[0.0, 0.85, 0.0, -0.1, 0.6, 0.015],
    rand_high: &[0.0, 0.85, 0.0, 0.1, 0.6, 0.015],
    goal_low: [-0.1, 0.6, 0.015],
    goal_high: [0.1, 0.6, 0.015],
    ..FORWARD
};

const BACK_SIDE: TaskConfig = TaskConfig {
    model: "sawyer_plate_slide_sideway.xml",
    rand_low: &[-0.25, 0.6, 0.0, -0.05, 0.6, 0.015],
    rand_high: &[-0.25, 0.6, 0.0, 0.15, 0.6, 0.015],
    goal_low: [-0.05, 0.6, 0.015],
    goal_high: [0.15, 0.6, 0.015],
    ..FORWARD
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Forward,
    Side,
    Back,
    BackSide,
}

impl Variant {
    fn config(self) -> &'static TaskConfig {
        match self {
            Variant::Forward => &FORWARD,
            Variant::Side => &SIDE,
            Variant::Back => &BACK,
            Variant::BackSide => &BACK_SIDE,
        }
    }

    /// The puck's slide joints at reset (`_set_obj_xyz`'s argument).
    fn puck_start(self) -> [f64; 2] {
        match self {
            Variant::Forward | Variant::Side => [0.0, 0.0],
            Variant::Back => [0.0, 0.15],
            Variant::BackSide => [-0.15, 0.0],
        }
    }
}

fn build(name: &'static str, variant: Variant) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, variant.config(), |s| {
        Ok(Box::new(PlateSlide {
            variant,
            puck: s.id(MjtObjBase::mjOBJ_GEOM, "puck")?,
            puck_goal: s.id(MjtObjBase::mjOBJ_BODY, "puck_goal")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct PlateSlide {
    variant: Variant,
    puck: usize,
    puck_goal: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

fn split(rand: &[f64]) -> ([f64; 3], [f64; 3]) {
    ([rand[0], rand[1], rand[2]], [rand[3], rand[4], rand[5]])
}

impl Task for PlateSlide {
    fn config(&self) -> &'static TaskConfig {
        self.variant.config()
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        let (obj, target) = split(rand);
        // plate-slide-side and -back write the goal body's data position,
        // which the next forward overwrites; -back-side moves the goal body
        // to the puck's start.
        match self.variant {
            Variant::Forward => s.set_body_model_pos(self.puck_goal, target),
            Variant::BackSide => s.set_body_model_pos(self.puck_goal, obj),
            Variant::Side | Variant::Back => {}
        }
        s.set_site_model_pos(self.goal_site, target);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        (self.obj_init, self.target) = split(rand);
        let start = self.variant.puck_start();
        self.move_model(s, rand);
        s.set_state(|qpos, _| qpos[9..11].copy_from_slice(&start))
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        let data = s.physics().data();
        out[..3].copy_from_slice(&data.geom_xpos()[self.puck]);
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(&data.geom_xmat()[self.puck]));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        const TARGET_RADIUS: f64 = 0.05;
        let tcp = s.tcp_center();
        let obj = [obs[4], obs[5], obs[6]];
        let obj_to_target = dist(obj, self.target);
        let tcp_to_obj = dist(tcp, obj);
        let mut in_place_margin = dist(self.obj_init, self.target);
        let mut grasp_margin = dist(s.init_tcp, self.obj_init);
        if self.variant != Variant::Forward {
            in_place_margin -= TARGET_RADIUS;
            grasp_margin -= TARGET_RADIUS;
        }
        let in_place = tolerance(
            obj_to_target,
            0.0,
            TARGET_RADIUS,
            in_place_margin,
            Sigmoid::LongTail,
        );
        let grasped = tolerance(
            tcp_to_obj,
            0.0,
            TARGET_RADIUS,
            grasp_margin,
            Sigmoid::LongTail,
        );
        let mut reward = if self.variant == Variant::Forward {
            8.0 * hamacher_product(grasped, in_place)
        } else if tcp[2] <= 0.03 && tcp_to_obj < 0.07 {
            2.0 + 7.0 * in_place
        } else {
            1.5 * grasped
        };
        if obj_to_target < TARGET_RADIUS {
            reward = 10.0;
        }
        Evaluation {
            reward,
            info: [
                f64::from(obj_to_target <= 0.07),
                f64::from(tcp_to_obj <= 0.03),
                0.0,
                grasped,
                in_place,
                obj_to_target,
                reward,
            ],
        }
    }
}
