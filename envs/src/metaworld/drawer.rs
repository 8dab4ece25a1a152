//! Drawer (`sawyer_drawer_open_v3.py`, `sawyer_drawer_close_v3.py`): pull a
//! drawer placed at each reset open by 0.2 m. The drawer's body moves
//! without a forward at reset, so the reset observation (and the first
//! step's start) see the previous draw's drawer, as in metaworld.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::gripper_effort;
use super::rewards::{Num, Sigmoid, hamacher, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::numpy_norm;
use crate::registry::Build;

/// The registered drawer tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-drawer-close",
        "mw",
        "drawer-close",
        Source::MetaWorld,
        Build::MetaWorld(close),
    ),
    TaskDef::new(
        "mw-drawer-open",
        "mw",
        "drawer-open",
        Source::MetaWorld,
        Build::MetaWorld(open),
    ),
];

const OPEN: TaskConfig = TaskConfig {
    model: "sawyer_drawer.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.9, 0.0],
    rand_high: &[0.1, 0.9, 0.0],
    goal_low: [-0.5, 0.40, 0.05],
    goal_high: [0.5, 1.0, 0.5],
};

/// How far the drawer opens (drawer-open's `maxDist`).
const MAX_DIST: f64 = 0.2;
/// How far open drawer-close starts (its `maxDist`).
const CLOSE_START: f64 = 0.15;
/// `TARGET_RADIUS` (drawer-close defines `_TARGET_RADIUS = 0.04` but reads
/// the base class's).
const TARGET_RADIUS: f64 = 0.05;

fn open(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &OPEN, |s| {
        Ok(Box::new(DrawerOpen {
            drawer: s.id(MjtObjBase::mjOBJ_BODY, "drawer")?,
            drawer_link: s.id(MjtObjBase::mjOBJ_BODY, "drawer_link")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            target: [0.0; 3],
        }))
    })
}

struct DrawerOpen {
    drawer: usize,
    drawer_link: usize,
    goal_site: usize,
    target: [f64; 3],
}

/// The goal: the handle pulled out by [`MAX_DIST`] (`obj_init_pos + [0,
/// -0.16 - maxDist, 0.09]`).
fn target_of(rand: &[f64]) -> [f64; 3] {
    [rand[0] + 0.0, rand[1] + (-0.16 - MAX_DIST), rand[2] + 0.09]
}

fn norm3(v: [f64; 3]) -> f64 {
    numpy_norm(&v)
}

impl Task for DrawerOpen {
    fn config(&self) -> &'static TaskConfig {
        &OPEN
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.drawer, [rand[0], rand[1], rand[2]]);
        s.set_site_model_pos(self.goal_site, target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.target = target_of(rand);
        self.move_model(s, rand);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        let p = s.body_pos(self.drawer_link);
        out[..3].copy_from_slice(&[p[0] + 0.0, p[1] + -0.16, p[2] + 0.0]);
        out[3..7].copy_from_slice(&s.body_quat(self.drawer_link));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        let gripper = [obs[0], obs[1], obs[2]];
        let handle = [obs[4], obs[5], obs[6]];
        let t = self.target;
        let handle_error = norm3([0, 1, 2].map(|i| handle[i] - t[i]));
        let opening = tolerance(handle_error, 0.0, 0.02, MAX_DIST, Sigmoid::LongTail);
        let handle_init = [t[0] + 0.0, t[1] + MAX_DIST, t[2] + 0.0];
        let scale = [3.0, 3.0, 1.0];
        let gripper_error = [0, 1, 2].map(|i| (handle[i] - gripper[i]) * scale[i]);
        let init = s.init_tcp;
        let gripper_error_init = [0, 1, 2].map(|i| (handle_init[i] - init[i]) * scale[i]);
        let caging = tolerance(
            norm3(gripper_error),
            0.0,
            0.01,
            norm3(gripper_error_init),
            Sigmoid::LongTail,
        );
        let reward = (caging + opening) * 5.0;
        let reach = norm3([0, 1, 2].map(|i| handle[i] - gripper[i]));
        Evaluation {
            reward,
            info: [
                f64::from(handle_error <= 0.03),
                f64::from(reach <= 0.03),
                f64::from(obs[3] > 0.0),
                caging,
                opening,
                handle_error,
                reward,
            ],
        }
    }
}

fn close(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &OPEN, |s| {
        Ok(Box::new(DrawerClose {
            drawer: s.id(MjtObjBase::mjOBJ_BODY, "drawer")?,
            drawer_link: s.id(MjtObjBase::mjOBJ_BODY, "drawer_link")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

/// Push an open drawer shut; the goal is the closed handle.
struct DrawerClose {
    drawer: usize,
    drawer_link: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

impl DrawerClose {
    fn handle(&self, s: &Sawyer) -> [f64; 3] {
        let p = s.body_pos(self.drawer_link);
        [p[0] + 0.0, p[1] + -0.16, p[2] + 0.05]
    }
}

impl Task for DrawerClose {
    fn config(&self) -> &'static TaskConfig {
        &OPEN
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.drawer, [rand[0], rand[1], rand[2]]);
        s.set_site_model_pos(
            self.goal_site,
            [rand[0] + 0.0, rand[1] + -0.16, rand[2] + 0.09],
        );
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        s.set_body_model_pos(self.drawer, [rand[0], rand[1], rand[2]]);
        self.target = [rand[0] + 0.0, rand[1] + -0.16, rand[2] + 0.09];
        s.set_state(|qpos, _| qpos[9] = -CLOSE_START)?;
        self.obj_init = self.handle(s);
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&self.handle(s));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let obj = [obs[4], obs[5], obs[6]];
        let tcp = s.tcp_center();
        let t = self.target;
        let target_to_obj = norm3([0, 1, 2].map(|i| obj[i] - t[i]));
        let target_to_obj_init = norm3([0, 1, 2].map(|i| self.obj_init[i] - t[i]));
        let in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            (target_to_obj_init - TARGET_RADIUS).abs(),
            Sigmoid::LongTail,
        );
        const HANDLE_REACH_RADIUS: f64 = 0.005;
        let tcp_to_obj = norm3([0, 1, 2].map(|i| obj[i] - tcp[i]));
        let init = s.init_tcp;
        let tcp_to_obj_init = norm3([0, 1, 2].map(|i| self.obj_init[i] - init[i]));
        let reach = tolerance(
            tcp_to_obj,
            0.0,
            HANDLE_REACH_RADIUS,
            (tcp_to_obj_init - HANDLE_REACH_RADIUS).abs(),
            Sigmoid::Gaussian,
        );
        let gripper_closed = gripper_effort(action, 1.0);
        let reach = hamacher(Num::Py(reach), gripper_closed);
        let closed = target_to_obj <= TARGET_RADIUS + 0.015;
        let reward = if closed {
            Num::Py(1.0)
        } else {
            hamacher(reach, Num::Py(in_place))
        } * Num::Py(10.0);
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(closed),
                f64::from(tcp_to_obj <= 0.01),
                1.0,
                reach.get(),
                in_place,
                target_to_obj,
                reward.get(),
            ],
        }
    }
}
