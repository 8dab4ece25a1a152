//! Door (`sawyer_door_v3.py`, `sawyer_door_close_v3.py`): swing a door on
//! a hinge placed at each reset open by grasping its handle, or push an
//! open door shut. The hinge is the joint `doorjoint`; the observed object
//! is the handle geom.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, dist, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::scipy_quat_from_matrix;
use crate::registry::Build;

/// metaworld's literal for the joint at reset (not exactly π/2).
#[allow(clippy::approx_constant)]
const OPEN_DOOR_ANGLE: f64 = -1.5708;

/// The registered door tasks.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-door-close",
    "mw",
    "door-close",
    Source::MetaWorld,
    Build::MetaWorld(close),
)];

const CLOSE: TaskConfig = TaskConfig {
    model: "sawyer_door_pull.xml",
    hand_init_pos: f32s([-0.5, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[0.0, 0.85, 0.15],
    rand_high: &[0.1, 0.95, 0.15],
    goal_low: [0.2, 0.65, 0.1499],
    goal_high: [0.3, 0.75, 0.1501],
};

const TARGET_RADIUS: f64 = 0.05;

fn close(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &CLOSE, |s| {
        Ok(Box::new(DoorClose {
            door: s.id(MjtObjBase::mjOBJ_BODY, "door")?,
            handle: s.id(MjtObjBase::mjOBJ_GEOM, "handle")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            door_qpos: s.physics().joint_qpos_adr("doorjoint")?,
            door_qvel: s.physics().joint_dof_adr("doorjoint")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct DoorClose {
    door: usize,
    handle: usize,
    goal_site: usize,
    door_qpos: usize,
    door_qvel: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

/// The goal beside the open door (`obj_pos + [0.2, -0.2, 0]`).
fn target_of(rand: &[f64]) -> [f64; 3] {
    [rand[0] + 0.2, rand[1] + -0.2, rand[2] + 0.0]
}

impl Task for DoorClose {
    fn config(&self) -> &'static TaskConfig {
        &CLOSE
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.door, [rand[0], rand[1], rand[2]]);
        s.set_site_model_pos(self.goal_site, target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.obj_init = [rand[0], rand[1], rand[2]];
        self.target = target_of(rand);
        self.move_model(s, rand);
        let (qpos_adr, qvel_adr) = (self.door_qpos, self.door_qvel);
        s.set_state(|qpos, qvel| {
            qpos[qpos_adr] = OPEN_DOOR_ANGLE;
            qvel[qvel_adr] = 0.0;
        })
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        let data = s.physics().data();
        out[..3].copy_from_slice(&data.geom_xpos()[self.handle]);
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(&data.geom_xmat()[self.handle]));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        let tcp = s.tcp_center();
        let obj = [obs[4], obs[5], obs[6]];
        let t = self.target;
        let tcp_to_target = dist(tcp, t);
        let obj_to_target = dist(obj, t);
        let in_place = tolerance(
            obj_to_target,
            0.0,
            TARGET_RADIUS,
            dist(self.obj_init, t),
            Sigmoid::Gaussian,
        );
        let hand_margin = dist(s.config().hand_init_pos, obj) + 0.1;
        let hand_in_place = tolerance(
            tcp_to_target,
            0.0,
            0.25 * TARGET_RADIUS,
            hand_margin,
            Sigmoid::Gaussian,
        );
        let reward = if obj_to_target < TARGET_RADIUS {
            10.0
        } else {
            3.0 * hand_in_place + 6.0 * in_place
        };
        Evaluation {
            reward,
            info: [
                f64::from(obj_to_target <= 0.08),
                0.0,
                1.0,
                1.0,
                hand_in_place,
                obj_to_target,
                reward,
            ],
        }
    }
}
