//! Box close (`sawyer_box_close_v3.py`): pick up a lid by its handle and
//! put it on a box placed at each reset. The observed object is the lid
//! (`top_link`).
//!
//! The reset moves the box (keeping its height), takes five plain
//! `mj_step` with the hand reset's controls, then places the lid with a
//! forward and moves the goal site. The lid's start height is the class's
//! float32 `obj_init_pos[-1]` (0.02), widened.
//!
//! The reward's grab term is the gripper action mapped to [0, 1] in
//! float32 (then a Python float); the hand is kept above a funnel-shaped
//! floor around the handle (NumPy's `np.log`) until it reaches it, and the
//! whole reward is scaled by the lid's uprightness.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, hamacher_product, tolerance};
use super::{
    Evaluation, FRAME_SKIP, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s,
};
use crate::error::EnvError;
use crate::numpy::{numpy_log, numpy_norm};
use crate::registry::Build;

/// The registered box-close task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-box-close",
    "mw",
    "box-close",
    Source::MetaWorld,
    Build::MetaWorld(box_close),
)];

const BOX_CLOSE: TaskConfig = TaskConfig {
    model: "sawyer_box.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.05, 0.5, 0.02, -0.1, 0.7, 0.133],
    rand_high: &[0.05, 0.55, 0.02, 0.1, 0.8, 0.133],
    goal_low: [-0.1, 0.7, 0.133],
    goal_high: [0.1, 0.8, 0.133],
};

/// The lid's start height: `init_config["obj_init_pos"][-1]`, a float32.
const OBJ_INIT_Z: f64 = 0.02f32 as f64;

fn box_close(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &BOX_CLOSE, |s| {
        Ok(Box::new(BoxClose {
            box_body: s.id(MjtObjBase::mjOBJ_BODY, "boxbody")?,
            lid: s.id(MjtObjBase::mjOBJ_BODY, "top_link")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            target: [0.0; 3],
        }))
    })
}

struct BoxClose {
    box_body: usize,
    lid: usize,
    goal_site: usize,
    target: [f64; 3],
}

/// The box at the goal's x and y, at its current height
/// (`get_body_com("boxbody")[2]`). The box is a fixed body whose height is
/// never changed, so the height read here is the one metaworld's first
/// `reset_model` reads after its hand reset.
fn box_pos(s: &Sawyer, box_body: usize, rand: &[f64]) -> [f64; 3] {
    let box_height = s.body_pos(box_body)[2];
    [rand[3], rand[4], box_height]
}

/// `_reward_grab_effort`: `float(np.clip((np.clip(a3, -1, 1) + 1.0) / 2.0,
/// 0.0, 1.0))`, where the clips of the float32 action stay float32 and the
/// Python floats are weak (NEP 50), so the arithmetic is float32, widened
/// at the end.
fn grab_effort(action: &[f32; 4]) -> f64 {
    ((action[3].clamp(-1.0, 1.0) + 1.0f32) / 2.0f32).clamp(0.0, 1.0) as f64
}

/// `_reward_quat`: 1 when the lid is upright (`[.707, 0, 0, .707]`),
/// falling linearly with the quaternion's distance from it.
fn reward_quat(obs: &[f64]) -> f64 {
    let ideal = [0.707, 0.0, 0.0, 0.707];
    let error = numpy_norm(&[0, 1, 2, 3].map(|i| obs[7 + i] - ideal[i]));
    let q = 1.0 - error / 0.2;
    // max(q, 0.0)
    if 0.0 > q { 0.0 } else { q }
}

/// `_reward_pos(obs, target)`: (ready to lift, lifted), Python floats.
fn reward_pos(obs: &[f64], target: [f64; 3]) -> (f64, f64) {
    let hand = [obs[0], obs[1], obs[2]];
    // obs[4:7] + np.array([0.0, 0.0, 0.02]): the handle.
    let lid = [obs[4] + 0.0, obs[5] + 0.0, obs[6] + 0.02];
    let threshold = 0.02;
    // A 3-D funnel centred on the handle.
    let radius = numpy_norm(&[hand[0] - lid[0], hand[1] - lid[1]]);
    let floor = if radius <= threshold {
        0.0
    } else {
        0.04 * numpy_log(radius - threshold) + 0.4
    };
    let above_floor = if hand[2] >= floor {
        1.0
    } else {
        tolerance(floor - hand[2], 0.0, 0.01, floor / 2.0, Sigmoid::LongTail)
    };
    let in_place = tolerance(
        numpy_norm(&[0, 1, 2].map(|i| hand[i] - lid[i])),
        0.0,
        0.02,
        0.5,
        Sigmoid::LongTail,
    );
    let ready_to_lift = hamacher_product(above_floor, in_place);
    let pos_error = [0, 1, 2].map(|i| target[i] - lid[i]);
    let error_scale = [1.0, 1.0, 3.0];
    let lifted = 0.2 * f64::from(lid[2] > 0.04)
        + 0.8
            * tolerance(
                numpy_norm(&[0, 1, 2].map(|i| pos_error[i] * error_scale[i])),
                0.0,
                0.05,
                0.25,
                Sigmoid::LongTail,
            );
    (ready_to_lift, lifted)
}

impl Task for BoxClose {
    fn config(&self) -> &'static TaskConfig {
        &BOX_CLOSE
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.25
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        let pos = box_pos(s, self.box_body, rand);
        s.set_body_model_pos(self.box_body, pos);
        s.set_site_model_pos(self.goal_site, [rand[3], rand[4], rand[5]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        let pos = box_pos(s, self.box_body, rand);
        let obj_init = [rand[0], rand[1], OBJ_INIT_Z];
        self.target = [rand[3], rand[4], rand[5]];
        s.set_body_model_pos(self.box_body, pos);
        // `for _ in range(self.frame_skip): mj_step`, with the hand reset's
        // controls and mocap.
        s.physics_mut().step_plain(FRAME_SKIP)?;
        s.set_obj_xyz(obj_init)?;
        // The goal site moves after the forward.
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.lid));
        out[3..7].copy_from_slice(&s.body_quat(self.lid));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    /// No float32 reaches the reward: the grab term is widened to a Python
    /// float after its float32 arithmetic.
    fn evaluate(&self, _s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let t = self.target;
        let grab = grab_effort(action);
        let quat = reward_quat(obs);
        let (ready_to_lift, lifted) = reward_pos(obs, t);
        // sum((2.0 * hamacher_product(grab, ready), 8.0 * lifted)), from 0
        let mut reward = 2.0 * hamacher_product(grab, ready_to_lift) + 8.0 * lifted;
        let success = numpy_norm(&[0, 1, 2].map(|i| obs[4 + i] - t[i])) < 0.08;
        if success {
            reward = 10.0;
        }
        // The lid's orientation scales everything (no kick-flipping it on).
        reward *= quat;
        Evaluation {
            reward,
            info: [
                f64::from(success),
                ready_to_lift,
                f64::from(grab >= 0.5),
                grab,
                lifted,
                0.0,
                reward,
            ],
        }
    }
}
