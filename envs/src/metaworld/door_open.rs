//! Door open (`sawyer_door_v3.py`): swing a door on a hinge placed at each
//! reset open by pulling its handle. The model is door-close's
//! (`sawyer_door_pull.xml`); the hinge is the joint `doorjoint`, the
//! observed object the handle geom. The reward is a funnel towards the
//! handle (a floor that rises with the distance, in NumPy's `log`) times
//! the gripper effort, plus the door's angle.

use std::f64::consts::PI;

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_log, numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered door-open task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-door-open",
    "mw",
    "door-open",
    Source::MetaWorld,
    Build::MetaWorld(open),
)];

const OPEN: TaskConfig = TaskConfig {
    model: "sawyer_door_pull.xml",
    // float64 in this class (door-close's is float32).
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[0.0, 0.85, 0.15],
    rand_high: &[0.1, 0.95, 0.15],
    goal_low: [-0.3, 0.4, 0.1499],
    goal_high: [-0.2, 0.5, 0.1501],
};

fn open(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &OPEN, |s| {
        Ok(Box::new(DoorOpen {
            door: s.id(MjtObjBase::mjOBJ_BODY, "door")?,
            handle: s.id(MjtObjBase::mjOBJ_GEOM, "handle")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            door_qpos: s.physics().joint_qpos_adr("doorjoint")?,
            door_qvel: s.physics().joint_dof_adr("doorjoint")?,
            target: [0.0; 3],
        }))
    })
}

struct DoorOpen {
    door: usize,
    handle: usize,
    goal_site: usize,
    door_qpos: usize,
    door_qvel: usize,
    target: [f64; 3],
}

/// The goal in front of the swung door (`obj_init_pos + [-0.3, -0.45, 0]`).
fn target_of(rand: &[f64]) -> [f64; 3] {
    [rand[0] + -0.3, rand[1] + -0.45, rand[2] + 0.0]
}

/// `_reward_grab_effort`: `float((np.clip(a3, -1, 1) + 1.0) / 2.0)`, where
/// the clip of the float32 action stays float32 and the Python floats are
/// weak (NEP 50), so the arithmetic is float32, widened at the end.
fn grab_effort(action: &[f32; 4]) -> f64 {
    ((action[3].clamp(-1.0, 1.0) + 1.0f32) / 2.0f32) as f64
}

/// `_reward_pos(obs, theta)`: (ready to open, opened), Python floats.
fn reward_pos(obs: &[f64], theta: f64) -> (f64, f64) {
    let hand = [obs[0], obs[1], obs[2]];
    // obs[4:7] + np.array([-0.05, 0, 0])
    let door = [obs[4] + -0.05, obs[5] + 0.0, obs[6] + 0.0];
    let threshold = 0.12;
    // A 3-D funnel centred on the handle.
    let radius = numpy_norm(&[hand[0] - door[0], hand[1] - door[1]]);
    let floor = if radius <= threshold {
        0.0
    } else {
        // np.log of a NumPy float64 scalar.
        0.04 * numpy_log(radius - threshold) + 0.4
    };
    let above_floor = if hand[2] >= floor {
        1.0
    } else {
        tolerance(floor - hand[2], 0.0, 0.01, floor / 2.0, Sigmoid::LongTail)
    };
    // hand - door - [0.05, 0.03, -0.01]
    let offset = [0.05, 0.03, -0.01];
    let in_place = tolerance(
        numpy_norm(&[0, 1, 2].map(|i| hand[i] - door[i] - offset[i])),
        0.0,
        threshold / 2.0,
        0.5,
        Sigmoid::LongTail,
    );
    let ready_to_open = hamacher_product(above_floor, in_place);
    let door_angle = -theta;
    let (a, b) = (0.2, 0.8);
    let opened = a * f64::from(theta < -PI / 90.0)
        + b * tolerance(
            PI / 2.0 + PI / 6.0 - door_angle,
            0.0,
            0.5,
            PI / 3.0,
            Sigmoid::LongTail,
        );
    (ready_to_open, opened)
}

impl Task for DoorOpen {
    fn config(&self) -> &'static TaskConfig {
        &OPEN
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.door, [rand[0], rand[1], rand[2]]);
        s.set_site_model_pos(self.goal_site, target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.target = target_of(rand);
        self.move_model(s, rand);
        // _set_obj_xyz(np.array(0)): the door closed, then a forward.
        let (qpos_adr, qvel_adr) = (self.door_qpos, self.door_qvel);
        s.set_state(|qpos, qvel| {
            qpos[qpos_adr] = 0.0;
            qvel[qvel_adr] = 0.0;
        })?;
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        let data = s.physics().data();
        out[..3].copy_from_slice(&data.geom_xpos()[self.handle]);
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(&data.geom_xmat()[self.handle]));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        // float(data.joint("doorjoint").qpos.item()), read live.
        let theta = s.physics().qpos()[self.door_qpos];
        let grab = grab_effort(action);
        let (ready, opened) = reward_pos(obs, theta);
        // sum((2.0 * hamacher(ready, grab), 8.0 * opened)), all Python floats.
        let success = (obs[4] - self.target[0]).abs() <= 0.08;
        let reward = if success {
            10.0
        } else {
            2.0 * hamacher_product(ready, grab) + 8.0 * opened
        };
        Evaluation {
            reward,
            info: [
                f64::from(success),
                ready,
                f64::from(grab >= 0.5),
                grab,
                opened,
                0.0,
                reward,
            ],
        }
    }
}
