//! Button press (`sawyer_button_press*_v3.py`): push a button on a box
//! placed at each reset, from the front or from above, with or without a
//! wall in front of it. The button is the model's slide joint `qpos[9]`;
//! its observed position is the button body's plus the button's length.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, hamacher_product, scalar_square, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::numpy_norm;
use crate::registry::Build;

/// The registered button-press tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-button-press-topdown",
        "mw",
        "button-press-topdown",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, Variant::Topdown)),
    ),
    TaskDef::new(
        "mw-button-press-topdown-wall",
        "mw",
        "button-press-topdown-wall",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, Variant::TopdownWall)),
    ),
    TaskDef::new(
        "mw-button-press",
        "mw",
        "button-press",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, Variant::Front)),
    ),
    TaskDef::new(
        "mw-button-press-wall",
        "mw",
        "button-press-wall",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, Variant::FrontWall)),
    ),
];

const FRONT: TaskConfig = TaskConfig {
    model: "sawyer_button_press.xml",
    hand_init_pos: f32s([0.0, 0.4, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.85, 0.115],
    rand_high: &[0.1, 0.9, 0.115],
    goal_low: [-0.5, 0.40, 0.05],
    goal_high: [0.5, 1.0, 0.5],
};

const FRONT_WALL: TaskConfig = TaskConfig {
    model: "sawyer_button_press_wall.xml",
    rand_low: &[-0.05, 0.85, 0.1149],
    rand_high: &[0.05, 0.9, 0.1151],
    ..FRONT
};

const TOPDOWN: TaskConfig = TaskConfig {
    model: "sawyer_button_press_topdown.xml",
    rand_low: &[-0.1, 0.8, 0.115],
    rand_high: &[0.1, 0.9, 0.115],
    ..FRONT
};

const TOPDOWN_WALL: TaskConfig = TaskConfig {
    model: "sawyer_button_press_topdown_wall.xml",
    ..TOPDOWN
};

/// The four tasks' differences: direction of the press, reward shape and
/// success threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Variant {
    Front,
    FrontWall,
    Topdown,
    TopdownWall,
}

impl Variant {
    fn config(self) -> &'static TaskConfig {
        match self {
            Variant::Front => &FRONT,
            Variant::FrontWall => &FRONT_WALL,
            Variant::Topdown => &TOPDOWN,
            Variant::TopdownWall => &TOPDOWN_WALL,
        }
    }

    fn topdown(self) -> bool {
        matches!(self, Variant::Topdown | Variant::TopdownWall)
    }

    /// The axis along which the button moves (y from the front, z from
    /// above).
    fn axis(self) -> usize {
        if self.topdown() { 2 } else { 1 }
    }

    fn success_threshold(self) -> f64 {
        match self {
            Variant::Front => 0.02,
            Variant::FrontWall => 0.03,
            Variant::Topdown | Variant::TopdownWall => 0.024,
        }
    }
}

fn build(name: &'static str, variant: Variant) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, variant.config(), |s| {
        Ok(Box::new(ButtonPress {
            variant,
            box_body: s.id(MjtObjBase::mjOBJ_BODY, "box")?,
            button: s.id(MjtObjBase::mjOBJ_BODY, "button")?,
            hole: s.id(MjtObjBase::mjOBJ_SITE, "hole")?,
            button_start: s.id(MjtObjBase::mjOBJ_SITE, "buttonStart")?,
            target: [0.0; 3],
            obj_to_target_init: 0.0,
        }))
    })
}

struct ButtonPress {
    variant: Variant,
    box_body: usize,
    button: usize,
    hole: usize,
    button_start: usize,
    target: [f64; 3],
    obj_to_target_init: f64,
}

impl Task for ButtonPress {
    fn config(&self) -> &'static TaskConfig {
        self.variant.config()
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.box_body, [rand[0], rand[1], rand[2]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.move_model(s, rand);
        if self.variant.topdown() {
            s.physics_mut().forward()?;
        } else {
            s.set_state(|qpos, qvel| {
                qpos[9] = 0.0;
                qvel[9] = 0.0;
            })?;
        }
        self.target = s.site_pos(self.hole);
        let axis = self.variant.axis();
        self.obj_to_target_init = (self.target[axis] - s.site_pos(self.button_start)[axis]).abs();
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        let mut p = s.body_pos(self.button);
        if self.variant.topdown() {
            p[2] += 0.193;
        } else {
            p[1] += -0.193;
        }
        out[..3].copy_from_slice(&p);
        out[3..7].copy_from_slice(&s.body_quat(self.button));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        let obj = [obs[4], obs[5], obs[6]];
        let tcp = s.tcp_center();
        let init = s.init_tcp;
        let tcp_to_obj = numpy_norm(&[obj[0] - tcp[0], obj[1] - tcp[1], obj[2] - tcp[2]]);
        let tcp_to_obj_init = numpy_norm(&[obj[0] - init[0], obj[1] - init[1], obj[2] - init[2]]);
        let axis = self.variant.axis();
        let obj_to_target = (self.target[axis] - obj[axis]).abs();
        let gripper = obs[3];
        let near_radius = if self.variant == Variant::Front {
            0.05
        } else {
            0.01
        };
        let near_button = tolerance(
            tcp_to_obj,
            0.0,
            near_radius,
            tcp_to_obj_init,
            Sigmoid::LongTail,
        );
        let button_pressed = tolerance(
            obj_to_target,
            0.0,
            0.005,
            self.obj_to_target_init,
            Sigmoid::LongTail,
        );
        let reward = match self.variant {
            Variant::Front => {
                let closed = gripper.max(0.0);
                let mut r = 2.0 * hamacher_product(closed, near_button);
                if tcp_to_obj <= 0.05 {
                    r += 8.0 * button_pressed;
                }
                r
            }
            Variant::FrontWall => {
                if tcp_to_obj > 0.07 {
                    let open = (1.0 - gripper) / 2.0;
                    2.0 * hamacher_product(open, near_button)
                } else {
                    2.0 + 2.0 * (1.0 + gripper) + 4.0 * scalar_square(button_pressed)
                }
            }
            Variant::Topdown | Variant::TopdownWall => {
                let closed = if self.variant == Variant::Topdown {
                    1.0 - gripper
                } else {
                    gripper.max(0.0)
                };
                let mut r = 5.0 * hamacher_product(closed, near_button);
                if tcp_to_obj <= 0.03 {
                    r += 5.0 * button_pressed;
                }
                r
            }
        };
        Evaluation {
            reward,
            info: [
                f64::from(obj_to_target <= self.variant.success_threshold()),
                f64::from(tcp_to_obj <= 0.05),
                f64::from(gripper > 0.0),
                near_button,
                button_pressed,
                obj_to_target,
                reward,
            ],
        }
    }
}
