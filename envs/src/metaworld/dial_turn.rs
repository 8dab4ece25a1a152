//! Dial turn (`sawyer_dial_turn_v3.py`): turn a dial placed at each reset
//! by pushing a point on its rim. The dial's hinge is `knob_Joint_1`; the
//! observed object is the rim point `dial + 0.05 · [sin q, -cos q, 0]` and
//! the dial's orientation.
//!
//! The dial moves without a forward at reset, so the reset observation and
//! the rim point the reward starts from (`dial_push_position`) use the
//! previous draw's dial position (with the current hinge angle), as in
//! metaworld. The reach term is gated by the float32 gripper action, so
//! the reward is a NumPy float32 whenever the gripper closes.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::gripper_effort;
use super::rewards::{Num, Sigmoid, dist, hamacher, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::registry::Build;

/// The registered dial task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-dial-turn",
    "mw",
    "dial-turn",
    Source::MetaWorld,
    Build::MetaWorld(dial_turn),
)];

const DIAL: TaskConfig = TaskConfig {
    model: "sawyer_dial.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.7, 0.0],
    rand_high: &[0.1, 0.8, 0.0],
    goal_low: [-0.1, 0.73, 0.0299],
    goal_high: [0.1, 0.83, 0.0301],
};

/// The class's `TARGET_RADIUS`.
const TARGET_RADIUS: f64 = 0.07;
const DIAL_REACH_RADIUS: f64 = 0.005;
const DIAL_RADIUS: f64 = 0.05;
/// Where the fingers push, from the rim point.
const PUSH_OFFSET: [f64; 3] = [0.05, 0.02, 0.09];

fn dial_turn(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &DIAL, |s| {
        Ok(Box::new(DialTurn {
            dial: s.id(MjtObjBase::mjOBJ_BODY, "dial")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            knob_qpos: s.physics().joint_qpos_adr("knob_Joint_1")?,
            target: [0.0; 3],
            push_init: [0.0; 3],
        }))
    })
}

struct DialTurn {
    dial: usize,
    goal_site: usize,
    knob_qpos: usize,
    target: [f64; 3],
    /// `dial_push_position`, set at reset.
    push_init: [f64; 3],
}

/// The goal above the dial (`rand + [0, 0.03, 0.03]`).
fn target_of(rand: &[f64]) -> [f64; 3] {
    [rand[0] + 0.0, rand[1] + 0.03, rand[2] + 0.03]
}

impl DialTurn {
    /// `_get_pos_objects`: the dial's `xpos` plus the rim offset at the
    /// hinge's current `qpos` (np.sin/np.cos match libm).
    fn rim(&self, s: &Sawyer) -> [f64; 3] {
        let center = s.body_pos(self.dial);
        let q = s.physics().qpos()[self.knob_qpos];
        // offset = [sin q, -cos q, 0.0]; offset *= dial_radius
        let offset = [
            q.sin() * DIAL_RADIUS,
            -q.cos() * DIAL_RADIUS,
            0.0 * DIAL_RADIUS,
        ];
        [0, 1, 2].map(|i| center[i] + offset[i])
    }

    fn push_position(&self, s: &Sawyer) -> [f64; 3] {
        let rim = self.rim(s);
        [0, 1, 2].map(|i| rim[i] + PUSH_OFFSET[i])
    }
}

impl Task for DialTurn {
    fn config(&self) -> &'static TaskConfig {
        &DIAL
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.dial, [rand[0], rand[1], rand[2]]);
        s.set_site_model_pos(self.goal_site, target_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.target = target_of(rand);
        s.set_body_model_pos(self.dial, [rand[0], rand[1], rand[2]]);
        // No forward since the move: the dial's xpos is still the hand
        // reset's (the previous draw's position).
        self.push_init = self.push_position(s);
        s.set_site_model_pos(self.goal_site, self.target);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&self.rim(s));
        out[3..7].copy_from_slice(&s.body_quat(self.dial));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, _obs: &[f64], action: &[f32; 4]) -> Evaluation {
        // The reward recomputes the rim point from the simulation.
        let obj = self.rim(s);
        let push = self.push_position(s);
        let tcp = s.tcp_center();
        let t = self.target;
        let target_to_obj = dist(obj, t);
        let target_to_obj_init = dist(self.push_init, t);
        let in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            (target_to_obj_init - TARGET_RADIUS).abs(),
            Sigmoid::LongTail,
        );
        let tcp_to_obj = dist(push, tcp);
        let tcp_to_obj_init = dist(self.push_init, s.init_tcp);
        let reach = tolerance(
            tcp_to_obj,
            0.0,
            DIAL_REACH_RADIUS,
            (tcp_to_obj_init - DIAL_REACH_RADIUS).abs(),
            Sigmoid::Gaussian,
        );
        // min(max(0, action[-1]), 1): the float32 action or the int 0 / 1;
        // the products below are float32 when it is the action.
        let gripper_closed = gripper_effort(action, 1.0);
        let reach = hamacher(Num::Py(reach), gripper_closed);
        let reward = Num::Py(10.0) * hamacher(reach, Num::Py(in_place));
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(target_to_obj <= TARGET_RADIUS),
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
