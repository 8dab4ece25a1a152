//! Window (`sawyer_window_open_v3.py`, `sawyer_window_close_v3.py`): slide
//! a window placed at each reset open by 0.2 m, or shut. The window's body moves and
//! its slide joint is zeroed without a forward at reset, as in metaworld, so
//! the reset observation and the handle's initial position are the
//! previous draw's.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::numpy_norm;
use crate::registry::Build;

/// The registered window tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-window-open",
        "mw",
        "window-open",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, false)),
    ),
    TaskDef::new(
        "mw-window-close",
        "mw",
        "window-close",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, true)),
    ),
];

const OPEN: TaskConfig = TaskConfig {
    model: "sawyer_window_horizontal.xml",
    hand_init_pos: f32s([0.0, 0.4, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.7, 0.16],
    rand_high: &[0.1, 0.9, 0.16],
    goal_low: [-0.5, 0.40, 0.05],
    goal_high: [0.5, 1.0, 0.5],
};

const CLOSE: TaskConfig = TaskConfig {
    rand_low: &[0.0, 0.75, 0.2],
    rand_high: &[0.0, 0.9, 0.2],
    ..OPEN
};

const TARGET_RADIUS: f64 = 0.05;
const HANDLE_RADIUS: f64 = 0.02;

fn build(name: &'static str, close: bool) -> Result<MetaWorldEnv, EnvError> {
    let config = if close { &CLOSE } else { &OPEN };
    MetaWorldEnv::new(name, config, |s| {
        Ok(Box::new(Window {
            close,
            window: s.id(MjtObjBase::mjOBJ_BODY, "window")?,
            handle: s.id(
                MjtObjBase::mjOBJ_SITE,
                if close {
                    "handleCloseStart"
                } else {
                    "handleOpenStart"
                },
            )?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            slide_qpos: s.physics().joint_qpos_adr("window_slide")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
            handle_init: [0.0; 3],
        }))
    })
}

/// window-open starts closed and slides the window 0.2 m; window-close
/// starts open (the slide at 0.2) and shuts it.
struct Window {
    close: bool,
    window: usize,
    handle: usize,
    goal_site: usize,
    slide_qpos: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
    handle_init: [f64; 3],
}

impl Window {
    fn target_of(&self, rand: &[f64]) -> [f64; 3] {
        if self.close {
            [rand[0], rand[1], rand[2]]
        } else {
            [rand[0] + 0.2, rand[1] + 0.0, rand[2] + 0.0]
        }
    }
}

impl Task for Window {
    fn config(&self) -> &'static TaskConfig {
        if self.close { &CLOSE } else { &OPEN }
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.window, [rand[0], rand[1], rand[2]]);
        s.set_site_model_pos(self.goal_site, self.target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.obj_init = [rand[0], rand[1], rand[2]];
        self.target = self.target_of(rand);
        s.set_body_model_pos(self.window, self.obj_init);
        let handle = s.site_pos(self.handle);
        self.handle_init = if self.close {
            [handle[0] + 0.2, handle[1] + 0.0, handle[2] + 0.0]
        } else {
            handle
        };
        s.physics_mut().data_mut().qpos_mut()[self.slide_qpos] = if self.close { 0.2 } else { 0.0 };
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.site_pos(self.handle));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, _obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        let obj = s.site_pos(self.handle);
        let tcp = s.tcp_center();
        let target_to_obj = (obj[0] - self.target[0]).abs();
        let start = if self.close {
            self.handle_init[0]
        } else {
            self.obj_init[0]
        };
        let target_to_obj_init = (start - self.target[0]).abs();
        let in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            (target_to_obj_init - TARGET_RADIUS).abs(),
            Sigmoid::LongTail,
        );
        let tcp_to_obj = numpy_norm(&[0, 1, 2].map(|i| obj[i] - tcp[i]));
        let init = s.init_tcp;
        let tcp_to_obj_init = numpy_norm(&[0, 1, 2].map(|i| self.handle_init[i] - init[i]));
        let reach = tolerance(
            tcp_to_obj,
            0.0,
            HANDLE_RADIUS,
            (tcp_to_obj_init - HANDLE_RADIUS).abs(),
            if self.close {
                Sigmoid::Gaussian
            } else {
                Sigmoid::LongTail
            },
        );
        let reward = 10.0 * hamacher_product(reach, in_place);
        Evaluation {
            reward,
            info: [
                f64::from(target_to_obj <= TARGET_RADIUS),
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
