//! Stick tools (`sawyer_stick_push_v3.py`, `sawyer_stick_pull_v3.py`):
//! grasp a stick and use it to push a thermos to a goal, or hook it into
//! the thermos's handle and pull it to a goal. The stick and the goal are
//! drawn at each reset; the thermos starts in place. Both use
//! `sawyer_stick_obj.xml`: the stick's free joint follows the arm
//! (`qpos[9..16]`), the thermos slides on `obj_slidex/y` (`qpos[16..18]`,
//! dofs 15 and 16).
//!
//! The observation holds the stick (body position, scipy quaternion) and
//! the thermos's `insertion` site (stick-push shifts it by 0.09 in y), whose
//! quaternion is zeros. Placing the thermos copies metaworld's
//! `_set_obj_xyz` quirk: `qvel[16:18] = 0` zeroes only dof 16 (nv is 17).
//!
//! stick-push's own caging reward is the base one measured from the
//! stick's start (`stick_init_pos`); stick-pull uses the base one, measured
//! from the thermos's start. Both are float32 once the gripper closes on
//! the stick (see `grasp::gripper_effort`); stick-push's success needs the
//! pads to touch the stick.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, hamacher, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered stick tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-stick-push",
        "mw",
        "stick-push",
        Source::MetaWorld,
        Build::MetaWorld(stick_push),
    ),
    TaskDef::new(
        "mw-stick-pull",
        "mw",
        "stick-pull",
        Source::MetaWorld,
        Build::MetaWorld(stick_pull),
    ),
];

const STICK_PUSH: TaskConfig = TaskConfig {
    model: "sawyer_stick_obj.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.08, 0.58, 0.000, 0.399, 0.55, 0.1319],
    rand_high: &[-0.03, 0.62, 0.001, 0.401, 0.6, 0.1321],
    goal_low: [0.399, 0.55, 0.1319],
    goal_high: [0.401, 0.6, 0.1321],
};

const STICK_PULL: TaskConfig = TaskConfig {
    model: "sawyer_stick_obj.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.35, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.55, 0.000, 0.35, 0.45, 0.0199],
    rand_high: &[0.0, 0.65, 0.001, 0.45, 0.55, 0.0201],
    goal_low: [0.35, 0.45, 0.0199],
    goal_high: [0.45, 0.55, 0.0201],
};

/// The stick's start height: `init_config["stick_init_pos"][-1]`.
const STICK_Z: f64 = 0.02;
/// stick-push's `_TARGET_RADIUS` (also its success radius).
const PUSH_TARGET_RADIUS: f64 = 0.12;
/// stick-pull's `_TARGET_RADIUS`.
const PULL_TARGET_RADIUS: f64 = 0.05;
const PUSH_CAGING: Caging = Caging::new(0.04, 0.05, 0.01, 0.01).high_density();
const PULL_CAGING: Caging = Caging::new(0.014, 0.05, 0.01, 0.01).high_density();

fn stick_push(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    build(name, false)
}

fn stick_pull(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    build(name, true)
}

fn build(name: &'static str, pull: bool) -> Result<MetaWorldEnv, EnvError> {
    let config = if pull { &STICK_PULL } else { &STICK_PUSH };
    MetaWorldEnv::new(name, config, |s| {
        let site = |name: &str| s.id(MjtObjBase::mjOBJ_SITE, name);
        Ok(Box::new(Stick {
            pull,
            stick: s.id(MjtObjBase::mjOBJ_BODY, "stick")?,
            stick_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            thermos: s.id(MjtObjBase::mjOBJ_BODY, "object")?,
            insertion: site("insertion")?,
            stick_end: site("stick_end")?,
            goal_site: site("goal")?,
            stick_init: [0.0; 3],
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct Stick {
    pull: bool,
    stick: usize,
    /// The stick's collision box (`objGeom`, the main object).
    stick_geom: usize,
    /// The thermos body (`object`).
    thermos: usize,
    insertion: usize,
    stick_end: usize,
    goal_site: usize,
    /// `stick_init_pos`.
    stick_init: [f64; 3],
    /// `obj_init_pos`: the thermos body where the reset placed it.
    obj_init: [f64; 3],
    target: [f64; 3],
}

/// stick-pull's `_stick_is_inserted(handle, end_of_stick)`.
fn stick_is_inserted(handle: [f64; 3], end_of_stick: [f64; 3]) -> bool {
    end_of_stick[0] >= handle[0]
        && (end_of_stick[1] - handle[1]).abs() <= 0.040
        && (end_of_stick[2] - handle[2]).abs() <= 0.060
}

impl Stick {
    /// `_target_pos`: the drawn x and y; stick-push takes the height of the
    /// thermos's `insertion` site in the current data, stick-pull the
    /// stick's start height.
    fn target_of(&self, s: &Sawyer, rand: &[f64]) -> [f64; 3] {
        let z = if self.pull {
            STICK_Z
        } else {
            s.site_pos(self.insertion)[2]
        };
        [rand[3], rand[4], z]
    }

    fn evaluate_push(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let tcp = s.tcp_center();
        // `obs[4:7] + [0.015, 0.0, 0.0]`
        let stick = [obs[4] + 0.015, obs[5] + 0.0, obs[6] + 0.0];
        let container = [obs[11], obs[12], obs[13]];
        let tcp_opened = obs[3];
        let t = self.target;
        let tcp_to_stick = dist(stick, tcp);
        let stick_to_target = dist(stick, t);
        let stick_in_place_margin = dist(self.stick_init, t) - PUSH_TARGET_RADIUS;
        let stick_in_place = tolerance(
            stick_to_target,
            0.0,
            PUSH_TARGET_RADIUS,
            stick_in_place_margin,
            Sigmoid::LongTail,
        );
        let container_to_target = dist(container, t);
        let container_in_place_margin = dist(self.obj_init, t) - PUSH_TARGET_RADIUS;
        let container_in_place = tolerance(
            container_to_target,
            0.0,
            PUSH_TARGET_RADIUS,
            container_in_place_margin,
            Sigmoid::LongTail,
        );
        // stick-push's own caging is the base one measured from the stick's
        // start; float32 once the gripper closes on the stick.
        let mut object_grasped = s.caging_reward(action, stick, self.stick_init, PUSH_CAGING);
        let mut reward = object_grasped;
        if tcp_to_stick < 0.02 && tcp_opened > 0.0 && stick[2] - 0.01 > self.stick_init[2] {
            object_grasped = Num::Py(1.0);
            reward = Num::Py(2.0 + 5.0 * stick_in_place + 3.0 * container_in_place);
            if container_to_target <= PUSH_TARGET_RADIUS {
                reward = Num::Py(10.0);
            }
        }
        let success = dist(container, t) <= 0.12;
        let grasp_success = s.touching_object(self.stick_geom)
            && tcp_opened > 0.0
            && obs[6] - 0.01 > self.stick_init[2];
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(grasp_success && success),
                f64::from(tcp_to_stick <= 0.03),
                f64::from(grasp_success),
                object_grasped.get(),
                stick_in_place,
                container_to_target,
                reward.get(),
            ],
        }
    }

    fn evaluate_pull(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let tcp = s.tcp_center();
        let stick = [obs[4], obs[5], obs[6]];
        let end_of_stick = s.site_pos(self.stick_end);
        // `obs[11:14] + [0.05, 0.0, 0.0]` and the same for the start.
        let container = [obs[11] + 0.05, obs[12] + 0.0, obs[13] + 0.0];
        let oi = self.obj_init;
        let container_init = [oi[0] + 0.05, oi[1] + 0.0, oi[2] + 0.0];
        let handle = [obs[11], obs[12], obs[13]];
        let tcp_opened = obs[3];
        let t = self.target;
        let tcp_to_stick = dist(stick, tcp);
        let handle_to_target = dist(handle, t);
        let yz_scaling = [1.0, 1.0, 2.0];
        let scaled = |a: [f64; 3], b: [f64; 3]| {
            numpy_norm(&[0, 1, 2].map(|i| (a[i] - b[i]) * yz_scaling[i]))
        };
        let stick_to_container = scaled(stick, container);
        let stick_in_place_margin = scaled(self.stick_init, container_init);
        let stick_in_place = tolerance(
            stick_to_container,
            0.0,
            PULL_TARGET_RADIUS,
            stick_in_place_margin,
            Sigmoid::LongTail,
        );
        let stick_to_target = dist(stick, t);
        let stick_in_place_2 = tolerance(
            stick_to_target,
            0.0,
            PULL_TARGET_RADIUS,
            dist(self.stick_init, t),
            Sigmoid::LongTail,
        );
        let container_to_target = dist(container, t);
        let container_in_place = tolerance(
            container_to_target,
            0.0,
            PULL_TARGET_RADIUS,
            dist(self.obj_init, t),
            Sigmoid::LongTail,
        );
        // The base caging, measured from the thermos's start (metaworld's
        // `obj_init_pos`); float32 once the gripper closes on the stick.
        let caging = s.caging_reward(action, stick, self.obj_init, PULL_CAGING);
        let lifted =
            tcp_to_stick < 0.02 && tcp_opened > 0.0 && stick[2] - 0.01 > self.stick_init[2];
        let object_grasped = if lifted { Num::Py(1.0) } else { caging };
        let in_place_and_object_grasped = hamacher(object_grasped, Num::Py(stick_in_place));
        let mut reward = in_place_and_object_grasped;
        if lifted {
            // A Python float here: the grasp term is the int 1.
            reward = Num::Py(1.0) + in_place_and_object_grasped + Num::Py(5.0 * stick_in_place);
            if stick_is_inserted(handle, end_of_stick) {
                reward = Num::Py(1.0)
                    + in_place_and_object_grasped
                    + Num::Py(5.0)
                    + Num::Py(2.0 * stick_in_place_2)
                    // `1.0 * container_in_place`, exact.
                    + Num::Py(container_in_place);
                if handle_to_target <= 0.12 {
                    reward = Num::Py(10.0);
                }
            }
        }
        let success = dist(handle, t) <= 0.12 && stick_is_inserted(handle, end_of_stick);
        let grasp_success = s.touching_object(self.stick_geom)
            && tcp_opened > 0.0
            && stick[2] - 0.02 > self.obj_init[2];
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(success),
                f64::from(tcp_to_stick <= 0.03),
                f64::from(grasp_success),
                object_grasped.get(),
                stick_in_place,
                handle_to_target,
                reward.get(),
            ],
        }
    }
}

impl Task for Stick {
    fn config(&self) -> &'static TaskConfig {
        if self.pull { &STICK_PULL } else { &STICK_PUSH }
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.1
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        let target = self.target_of(s, rand);
        s.set_site_model_pos(self.goal_site, target);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.stick_init = [rand[0], rand[1], STICK_Z];
        // Read after the hand reset, before the stick moves.
        self.target = self.target_of(s, rand);
        // `_set_stick_xyz`: the stick's free joint, as the base
        // `_set_obj_xyz`.
        s.set_obj_xyz(self.stick_init)?;
        // `_set_obj_xyz(obj_init_qpos)`: the thermos's slides; NumPy's
        // `qvel[16:18]` holds only dof 16.
        let slides = if self.pull { [0.0, 0.09] } else { [0.0, 0.0] };
        s.set_state(|qpos, qvel| {
            qpos[16..18].copy_from_slice(&slides);
            let n = qvel.len();
            qvel[n.min(16)..n.min(18)].fill(0.0);
        })?;
        self.obj_init = s.body_pos(self.thermos);
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.stick));
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(s.physics().xmat(self.stick)));
        let p = s.site_pos(self.insertion);
        let p = if self.pull {
            p
        } else {
            // `_get_site_pos("insertion") + [0.0, 0.09, 0.0]`
            [p[0] + 0.0, p[1] + 0.09, p[2] + 0.0]
        };
        out[7..10].copy_from_slice(&p);
        // out[10..14]: the second quaternion is zeros.
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        if self.pull {
            self.evaluate_pull(s, obs, action)
        } else {
            self.evaluate_push(s, obs, action)
        }
    }
}
