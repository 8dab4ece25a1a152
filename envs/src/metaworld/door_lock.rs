//! Door lock and unlock (`sawyer_door_lock_v3.py`,
//! `sawyer_door_unlock_v3.py`): turn the lock of a door placed at each
//! reset down (lock) or sideways (unlock). Both use `sawyer_door_lock.xml`,
//! whose unnamed lock hinge is `qpos[9]`; the observed object is the lock's
//! start site and the door link's orientation.
//!
//! door-lock's reset moves the door and takes five plain `mj_step` with no
//! forward after them, so its reset observation and goal use the
//! kinematics of the last step's start, as in metaworld. Its reward's
//! "initial" pad position is metaworld's `init_left_pad`, a live view of
//! the left pad's `xpos`, so it is the current pad position. door-unlock's
//! `obj_init_pos` is likewise a live view of the `lock_link` body's `xpos`,
//! read at each step.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::numpy_norm;
use crate::registry::Build;

/// metaworld's literal for the joint at reset (not exactly π/2).
#[allow(clippy::approx_constant)]
const UNLOCKED_ANGLE: f64 = 1.5708;

/// The registered door-lock tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-door-lock",
        "mw",
        "door-lock",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, false)),
    ),
    TaskDef::new(
        "mw-door-unlock",
        "mw",
        "door-unlock",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, true)),
    ),
];

const LOCK: TaskConfig = TaskConfig {
    model: "sawyer_door_lock.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, -0.15],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.8, 0.15],
    rand_high: &[0.1, 0.85, 0.15],
    // door-lock's goal space is the hand space.
    goal_low: [-0.5, 0.40, -0.15],
    goal_high: [0.5, 1.0, 0.5],
};

const UNLOCK: TaskConfig = TaskConfig {
    goal_low: [0.0, 0.64, 0.2100],
    goal_high: [0.2, 0.7, 0.2111],
    ..LOCK
};

/// `_lock_length`: the margin of the lock's in-place term.
const LOCK_LENGTH: f64 = 0.1;
/// Reset's physics steps in door-lock (`self.frame_skip`).
const FRAME_SKIP: usize = 5;

fn build(name: &'static str, unlock: bool) -> Result<MetaWorldEnv, EnvError> {
    let config = if unlock { &UNLOCK } else { &LOCK };
    MetaWorldEnv::new(name, config, |s| {
        Ok(Box::new(DoorLock {
            unlock,
            door: s.id(MjtObjBase::mjOBJ_BODY, "door")?,
            door_link: s.id(MjtObjBase::mjOBJ_BODY, "door_link")?,
            lock_link: s.id(MjtObjBase::mjOBJ_BODY, "lock_link")?,
            left_pad: s.id(MjtObjBase::mjOBJ_BODY, "leftpad")?,
            lock_start: s.id(
                MjtObjBase::mjOBJ_SITE,
                if unlock {
                    "lockStartUnlock"
                } else {
                    "lockStartLock"
                },
            )?,
            target: [0.0; 3],
        }))
    })
}

struct DoorLock {
    unlock: bool,
    door: usize,
    door_link: usize,
    lock_link: usize,
    left_pad: usize,
    lock_start: usize,
    target: [f64; 3],
}

impl Task for DoorLock {
    fn config(&self) -> &'static TaskConfig {
        if self.unlock { &UNLOCK } else { &LOCK }
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.door, [rand[0], rand[1], rand[2]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.move_model(s, rand);
        if self.unlock {
            // _set_obj_xyz(np.array(1.5708)): the lock turned, then a forward.
            s.set_state(|qpos, qvel| {
                qpos[9] = UNLOCKED_ANGLE;
                qvel[9] = 0.0;
            })?;
            let lock = s.body_pos(self.lock_link);
            self.target = [lock[0] + 0.1, lock[1] + -0.04, lock[2] + 0.0];
        } else {
            // Five mj_step with the hand reset's controls and mocap, and no
            // forward: xpos is that of the last step's start.
            s.physics_mut().step_plain(FRAME_SKIP)?;
            let lock = s.body_pos(self.lock_link);
            self.target = [lock[0] + 0.0, lock[1] + -0.04, lock[2] + -0.1];
        }
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.site_pos(self.lock_start));
        out[3..7].copy_from_slice(&s.body_quat(self.door_link));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        if self.unlock {
            self.evaluate_unlock(s, obs)
        } else {
            self.evaluate_lock(s, obs)
        }
    }
}

impl DoorLock {
    /// door-lock's v2 reward (no float32: the action is unused).
    fn evaluate_lock(&self, s: &Sawyer, obs: &[f64]) -> Evaluation {
        let obj = [obs[4], obs[5], obs[6]];
        let tcp = s.body_pos(self.left_pad);
        let scale = [0.25, 1.0, 0.5];
        let tcp_to_obj = numpy_norm(&[0, 1, 2].map(|i| (obj[i] - tcp[i]) * scale[i]));
        // init_left_pad is a live view of the same xpos: the same value.
        let init_left_pad = s.body_pos(self.left_pad);
        let tcp_to_obj_init =
            numpy_norm(&[0, 1, 2].map(|i| (obj[i] - init_left_pad[i]) * scale[i]));
        let obj_to_target = (self.target[2] - obj[2]).abs();
        // max(obs[3], 0.0)
        let tcp_opened = if 0.0 > obs[3] { 0.0 } else { obs[3] };
        let near_lock = tolerance(tcp_to_obj, 0.0, 0.01, tcp_to_obj_init, Sigmoid::LongTail);
        let lock_pressed = tolerance(obj_to_target, 0.0, 0.005, LOCK_LENGTH, Sigmoid::LongTail);
        let mut reward = 2.0 * hamacher_product(tcp_opened, near_lock);
        reward += 8.0 * lock_pressed;
        Evaluation {
            reward,
            info: [
                f64::from(obj_to_target <= 0.02),
                f64::from(tcp_to_obj <= 0.05),
                f64::from(obs[3] > 0.0),
                near_lock,
                lock_pressed,
                obj_to_target,
                reward,
            ],
        }
    }

    /// door-unlock's v2 reward (no float32: the action is unused).
    fn evaluate_unlock(&self, s: &Sawyer, obs: &[f64]) -> Evaluation {
        let gripper = [obs[0], obs[1], obs[2]];
        let lock = [obs[4], obs[5], obs[6]];
        // The gripper's shoulder rather than its fingers.
        let offset = [0.0, 0.055, 0.07];
        let scale = [0.25, 1.0, 0.5];
        let shoulder_to_lock = [0, 1, 2].map(|i| (gripper[i] + offset[i] - lock[i]) * scale[i]);
        // obj_init_pos: a live view of lock_link's xpos.
        let lock_init = s.body_pos(self.lock_link);
        let init = s.init_tcp;
        let shoulder_to_lock_init =
            [0, 1, 2].map(|i| (init[i] + offset[i] - lock_init[i]) * scale[i]);
        let shoulder_dist = numpy_norm(&shoulder_to_lock);
        let ready_to_push = tolerance(
            shoulder_dist,
            0.0,
            0.02,
            numpy_norm(&shoulder_to_lock_init),
            Sigmoid::LongTail,
        );
        let obj_to_target = (self.target[0] - lock[0]).abs();
        let pushed = tolerance(obj_to_target, 0.0, 0.005, LOCK_LENGTH, Sigmoid::LongTail);
        let reward = 2.0 * ready_to_push + 8.0 * pushed;
        Evaluation {
            reward,
            info: [
                f64::from(obj_to_target <= 0.02),
                f64::from(shoulder_dist <= 0.05),
                f64::from(obs[3] > 0.0),
                ready_to_push,
                pushed,
                obj_to_target,
                reward,
            ],
        }
    }
}
