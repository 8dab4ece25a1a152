//! Faucet (`sawyer_faucet_open_v3.py`, `sawyer_faucet_close_v3.py`): turn
//! the handle of a faucet placed at each reset to the left (open) or the
//! right (close). Both use `sawyer_faucet.xml`; the observed object is the
//! handle's start site (lowered by 1 cm) and the base's orientation.
//!
//! faucet-open moves the base without a forward at reset, so its reset
//! observation sees the previous draw's faucet, as in metaworld;
//! faucet-close runs a forward after the move.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, dist, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::registry::Build;

/// The registered faucet tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-faucet-open",
        "mw",
        "faucet-open",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, false)),
    ),
    TaskDef::new(
        "mw-faucet-close",
        "mw",
        "faucet-close",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, true)),
    ),
];

const OPEN: TaskConfig = TaskConfig {
    model: "sawyer_faucet.xml",
    // float64 in both classes.
    hand_init_pos: [0.0, 0.4, 0.2],
    mocap_low: [-0.5, 0.40, -0.15],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.05, 0.8, 0.0],
    rand_high: &[0.05, 0.85, 0.0],
    // The goal space is the hand space.
    goal_low: [-0.5, 0.40, -0.15],
    goal_high: [0.5, 1.0, 0.5],
};

const CLOSE: TaskConfig = TaskConfig {
    rand_low: &[-0.1, 0.8, 0.0],
    rand_high: &[0.1, 0.85, 0.0],
    ..OPEN
};

/// `_handle_length`.
const HANDLE_LENGTH: f64 = 0.175;
/// `_target_radius`.
const TARGET_RADIUS: f64 = 0.07;
const FAUCET_REACH_RADIUS: f64 = 0.01;

fn build(name: &'static str, close: bool) -> Result<MetaWorldEnv, EnvError> {
    let config = if close { &CLOSE } else { &OPEN };
    MetaWorldEnv::new(name, config, |s| {
        Ok(Box::new(Faucet {
            close,
            base: s.id(MjtObjBase::mjOBJ_BODY, "faucetBase")?,
            handle: s.id(
                MjtObjBase::mjOBJ_SITE,
                if close {
                    "handleStartClose"
                } else {
                    "handleStartOpen"
                },
            )?,
            goal_site: s.id(
                MjtObjBase::mjOBJ_SITE,
                if close { "goal_close" } else { "goal_open" },
            )?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct Faucet {
    close: bool,
    base: usize,
    handle: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

impl Faucet {
    /// The goal beside the base: `obj_init_pos + [±handle_length, 0, 0.125]`.
    fn target_of(&self, rand: &[f64]) -> [f64; 3] {
        let dx = if self.close {
            -HANDLE_LENGTH
        } else {
            HANDLE_LENGTH
        };
        [rand[0] + dx, rand[1] + 0.0, rand[2] + 0.125]
    }
}

impl Task for Faucet {
    fn config(&self) -> &'static TaskConfig {
        if self.close { &CLOSE } else { &OPEN }
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.base, [rand[0], rand[1], rand[2]]);
        s.set_site_model_pos(self.goal_site, self.target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.obj_init = [rand[0], rand[1], rand[2]];
        s.set_body_model_pos(self.base, self.obj_init);
        self.target = self.target_of(rand);
        if self.close {
            s.physics_mut().forward()?;
        }
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        let p = s.site_pos(self.handle);
        out[..3].copy_from_slice(&[p[0] + 0.0, p[1] + 0.0, p[2] + -0.01]);
        out[3..7].copy_from_slice(&s.body_quat(self.base));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    /// The v2 reward of both classes (no float32: the action is unused).
    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        let obj = if self.close {
            [obs[4], obs[5], obs[6]]
        } else {
            // obs[4:7] + [-0.04, 0.0, 0.03]
            [obs[4] + -0.04, obs[5] + 0.0, obs[6] + 0.03]
        };
        let tcp = s.tcp_center();
        let t = self.target;
        let target_to_obj = dist(obj, t);
        let target_to_obj_init = dist(self.obj_init, t);
        let in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            (target_to_obj_init - TARGET_RADIUS).abs(),
            Sigmoid::LongTail,
        );
        let tcp_to_obj = dist(obj, tcp);
        let tcp_to_obj_init = dist(self.obj_init, s.init_tcp);
        let reach = tolerance(
            tcp_to_obj,
            0.0,
            FAUCET_REACH_RADIUS,
            (tcp_to_obj_init - FAUCET_REACH_RADIUS).abs(),
            Sigmoid::Gaussian,
        );
        let reward = if target_to_obj <= TARGET_RADIUS {
            10.0
        } else {
            (2.0 * reach + 3.0 * in_place) * 2.0
        };
        Evaluation {
            reward,
            info: [
                f64::from(target_to_obj <= 0.07),
                f64::from(tcp_to_obj <= 0.01),
                1.0,
                reach,
                in_place,
                target_to_obj,
                reward,
            ],
        }
    }
}
