//! Nut assembly and disassembly (`sawyer_assembly_peg_v3.py`,
//! `sawyer_disassemble_peg_v3.py`): put a wrench's round nut over a peg
//! placed at each reset (assembly), or lift it off the peg it starts on
//! (disassembly). Both use `sawyer_assembly_peg.xml`; the observed object
//! is the wrench's handle site (`RoundNut-8`) and the nut's orientation.
//!
//! The rewards grade the wrench's orientation against lying flat, cage the
//! handle with the base class's caging reward (the handle's x snapped to the
//! hand's within half the handle's length), and measure the nut's centre
//! against the peg: assembly through a funnel around the peg (NumPy's
//! `np.log`), disassembly against a point above it. The caging reward is
//! float32 once the gripper closes on the handle (see
//! [`super::grasp::gripper_effort`]), and the reward with it.
//!
//! disassembly moves the peg, runs a forward, then places the nut; assembly
//! places the nut, then moves the peg and its top site without a forward.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::{numpy_log, numpy_norm};
use crate::registry::Build;

/// The registered nut tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-assembly",
        "mw",
        "assembly",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, false)),
    ),
    TaskDef::new(
        "mw-disassemble",
        "mw",
        "disassemble",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, true)),
    ),
];

const ASSEMBLY: TaskConfig = TaskConfig {
    model: "sawyer_assembly_peg.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[0.0, 0.6, 0.02, -0.1, 0.75, 0.1],
    rand_high: &[0.0, 0.6, 0.02, 0.1, 0.85, 0.1],
    goal_low: [-0.1, 0.75, 0.1],
    goal_high: [0.1, 0.85, 0.1],
};

const DISASSEMBLE: TaskConfig = TaskConfig {
    model: "sawyer_assembly_peg.xml",
    hand_init_pos: f32s([0.0, 0.4, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[0.0, 0.6, 0.025, -0.1, 0.6, 0.1699],
    rand_high: &[0.1, 0.75, 0.02501, 0.1, 0.75, 0.1701],
    // `np.array(goal_low) + np.array([0.0, 0.0, 0.005])`, and the same for
    // the upper bound.
    goal_low: [-0.1 + 0.0, 0.6 + 0.0, 0.1699 + 0.005],
    goal_high: [0.1 + 0.0, 0.75 + 0.0, 0.1701 + 0.005],
};

/// The class's `WRENCH_HANDLE_LENGTH`.
const WRENCH_HANDLE_LENGTH: f64 = 0.02;
/// `_gripper_caging_reward`'s arguments: assembly averages with a reach
/// term (`medium_density=True`), disassembly with the caging term.
const ASSEMBLY_CAGING: Caging = Caging::new(0.015, 0.02, 0.01, 0.01).medium_density();
const DISASSEMBLE_CAGING: Caging = Caging::new(0.015, 0.02, 0.01, 0.01).high_density();

fn build(name: &'static str, disassemble: bool) -> Result<MetaWorldEnv, EnvError> {
    let config = if disassemble { &DISASSEMBLE } else { &ASSEMBLY };
    MetaWorldEnv::new(name, config, |s| {
        let site = |name: &str| s.id(MjtObjBase::mjOBJ_SITE, name);
        Ok(Box::new(Nut {
            disassemble,
            nut: s.id(MjtObjBase::mjOBJ_BODY, "RoundNut")?,
            nut_center: site("RoundNut")?,
            handle: site("RoundNut-8")?,
            peg: s.id(MjtObjBase::mjOBJ_BODY, "peg")?,
            peg_top: site("pegTop")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct Nut {
    disassemble: bool,
    /// The wrench's body (`RoundNut`), for its orientation.
    nut: usize,
    /// The nut's centre site (`RoundNut`).
    nut_center: usize,
    /// The handle site (`RoundNut-8`), the observed position.
    handle: usize,
    peg: usize,
    peg_top: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

/// `_reward_quat`: 1 when the wrench lies flat (`[.707, 0, 0, .707]`),
/// falling linearly with the quaternion's distance from it.
fn reward_quat(obs: &[f64]) -> f64 {
    let ideal = [0.707, 0.0, 0.0, 0.707];
    let error = numpy_norm(&[0, 1, 2, 3].map(|i| obs[7 + i] - ideal[i]));
    let q = 1.0 - error / 0.4;
    // max(q, 0.0)
    if 0.0 > q { 0.0 } else { q }
}

/// assembly's `_reward_pos(wrench_center, target)`: the in-place term (a
/// Python float) and success (the nut centred on the peg and below its
/// top). The height target is a funnel around the peg, widened on success.
fn assembly_in_place(center: [f64; 3], target: [f64; 3]) -> (f64, bool) {
    let mut pos_error = [0, 1, 2].map(|i| target[i] - center[i]);
    let radius = numpy_norm(&pos_error[..2]);
    let aligned = radius < 0.02;
    let hooked = pos_error[2] > 0.0;
    let success = aligned && hooked;
    let threshold = if success { 0.02 } else { 0.01 };
    let mut target_height = 0.0;
    if radius > threshold {
        target_height = 0.02 * numpy_log(radius - threshold) + 0.2;
    }
    pos_error[2] = target_height - center[2];
    let scale = [1.0, 1.0, 3.0];
    let lifted = center[2] > 0.02 || radius < threshold;
    let in_place = 0.1 * f64::from(lifted)
        + 0.9
            * tolerance(
                numpy_norm(&[0, 1, 2].map(|i| pos_error[i] * scale[i])),
                0.0,
                0.02,
                0.4,
                Sigmoid::LongTail,
            );
    (in_place, success)
}

/// disassembly's `_reward_pos(wrench_center, target)`: the nut's centre
/// against a point 0.1 above the target (a Python float).
fn disassemble_in_place(center: [f64; 3], target: [f64; 3]) -> f64 {
    let above = [target[0] + 0.0, target[1] + 0.0, target[2] + 0.1];
    let pos_error = [0, 1, 2].map(|i| above[i] - center[i]);
    let lifted = center[2] > 0.02;
    0.1 * f64::from(lifted)
        + 0.9 * tolerance(numpy_norm(&pos_error), 0.0, 0.02, 0.2, Sigmoid::LongTail)
}

impl Task for Nut {
    fn config(&self) -> &'static TaskConfig {
        if self.disassemble {
            &DISASSEMBLE
        } else {
            &ASSEMBLY
        }
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.1
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        if self.disassemble {
            // The peg under the nut's start, its top site 0.08 above it.
            s.set_body_model_pos(self.peg, [rand[0] + 0.0, rand[1] + 0.0, rand[2] + 0.03]);
            s.set_site_model_pos(self.peg_top, [rand[0] + 0.0, rand[1] + 0.0, rand[2] + 0.08]);
        } else {
            // The peg under the goal (`_target_pos - [0, 0, 0.05]`), its top
            // site at the goal.
            s.set_body_model_pos(self.peg, [rand[3] - 0.0, rand[4] - 0.0, rand[5] - 0.05]);
            s.set_site_model_pos(self.peg_top, [rand[3], rand[4], rand[5]]);
        }
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.obj_init = [rand[0], rand[1], rand[2]];
        if self.disassemble {
            self.target = [rand[0] + 0.0, rand[1] + 0.0, rand[2] + 0.15];
            self.move_model(s, rand);
            s.physics_mut().forward()?;
            s.set_obj_xyz(self.obj_init)?;
        } else {
            self.target = [rand[3], rand[4], rand[5]];
            s.set_obj_xyz(self.obj_init)?;
            // The peg moves after the forward.
            self.move_model(s, rand);
        }
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.site_pos(self.handle));
        out[3..7].copy_from_slice(&s.body_quat(self.nut));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let hand = [obs[0], obs[1], obs[2]];
        let wrench = [obs[4], obs[5], obs[6]];
        let center = s.site_pos(self.nut_center);
        // The handle is no sphere: its x counts as the hand's when within
        // half the handle's length.
        let mut wrench_threshed = wrench;
        if (wrench[0] - hand[0]).abs() < WRENCH_HANDLE_LENGTH / 2.0 {
            wrench_threshed[0] = hand[0];
        }
        let quat = reward_quat(obs);
        let caging = if self.disassemble {
            DISASSEMBLE_CAGING
        } else {
            ASSEMBLY_CAGING
        };
        // float32 once the gripper closes on the handle.
        let grab = s.caging_reward(action, wrench_threshed, self.obj_init, caging);
        let (in_place, success) = if self.disassemble {
            (
                disassemble_in_place(center, self.target),
                obs[6] > self.target[2],
            )
        } else {
            assembly_in_place(center, self.target)
        };
        // (2.0 * reward_grab + 6.0 * reward_in_place) * reward_quat
        let mut reward = (Num::Py(2.0) * grab + Num::Py(6.0 * in_place)) * Num::Py(quat);
        if success {
            reward = Num::Py(10.0);
        }
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(success),
                quat,
                f64::from(grab.get() >= 0.5),
                grab.get(),
                in_place,
                0.0,
                reward.get(),
            ],
        }
    }
}
