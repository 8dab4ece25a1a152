//! Coffee (`sawyer_coffee_button_v3.py`, `sawyer_coffee_pull_v3.py`,
//! `sawyer_coffee_push_v3.py`): a coffee machine and a mug on the table.
//! coffee-button presses the machine's button (a slide joint, 0.03 m of
//! travel); coffee-pull drags the mug from under the spout to a goal;
//! coffee-push pushes it under the spout of a machine placed at the goal.
//!
//! In `sawyer_coffee.xml` the mug's free joint comes first: its position
//! is `qpos[0..3]`, the arm follows at `qpos[7..16]` and the button joint
//! is last. The coffee classes' `_set_obj_xyz` writes the mug's position
//! but zeroes `qvel[9..15]`, which are arm and finger velocities (the
//! base class's indices): copied as is.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, hamacher, hamacher_product, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered coffee tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-coffee-button",
        "mw",
        "coffee-button",
        Source::MetaWorld,
        Build::MetaWorld(button),
    ),
    TaskDef::new(
        "mw-coffee-pull",
        "mw",
        "coffee-pull",
        Source::MetaWorld,
        Build::MetaWorld(|name| mug(name, false)),
    ),
    TaskDef::new(
        "mw-coffee-push",
        "mw",
        "coffee-push",
        Source::MetaWorld,
        Build::MetaWorld(|name| mug(name, true)),
    ),
];

/// coffee-button's `max_dist`: the button's travel.
const MAX_DIST: f64 = 0.03;

const BUTTON: TaskConfig = TaskConfig {
    model: "sawyer_coffee.xml",
    hand_init_pos: [0.0, 0.4, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.8, -0.001],
    rand_high: &[0.1, 0.9, 0.001],
    // `obj_low + np.array([-0.001, -0.22 + max_dist, 0.299])`, and the
    // same for the upper bound.
    goal_low: [-0.1 + -0.001, 0.8 + (-0.22 + MAX_DIST), -0.001 + 0.299],
    goal_high: [0.1 + 0.001, 0.9 + (-0.22 + MAX_DIST), 0.001 + 0.301],
};

const PULL: TaskConfig = TaskConfig {
    rand_low: &[-0.05, 0.7, -0.001, -0.1, 0.55, -0.001],
    rand_high: &[0.05, 0.75, 0.001, 0.1, 0.65, 0.001],
    goal_low: [-0.1, 0.55, -0.001],
    goal_high: [0.1, 0.65, 0.001],
    ..BUTTON
};

const PUSH: TaskConfig = TaskConfig {
    rand_low: &[-0.1, 0.55, -0.001, -0.05, 0.7, -0.001],
    rand_high: &[0.1, 0.65, 0.001, 0.05, 0.75, 0.001],
    goal_low: [-0.05, 0.7, -0.001],
    goal_high: [0.05, 0.75, 0.001],
    ..BUTTON
};

/// The mug tasks' `_gripper_caging_reward` arguments (object_reach_radius
/// 0.04, obj_radius 0.02, pad_success_thresh 0.05, xz_thresh 0.05,
/// desired_gripper_effort 0.7, medium_density).
const MUG_CAGING: Caging = Caging {
    desired_gripper_effort: 0.7,
    ..Caging::new(0.02, 0.05, 0.04, 0.05).medium_density()
};

/// The coffee classes' `_set_obj_xyz`: the mug at `qpos[0..3]`,
/// `qvel[9..15]` zeroed (arm dofs in this model), then a forward.
fn set_mug_xyz(s: &mut Sawyer, pos: [f64; 3]) -> Result<(), EnvError> {
    s.set_state(|qpos, qvel| {
        qpos[0..3].copy_from_slice(&pos);
        qvel[9..15].fill(0.0);
    })
}

fn button(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &BUTTON, |s| {
        Ok(Box::new(CoffeeButton {
            machine: s.id(MjtObjBase::mjOBJ_BODY, "coffee_machine")?,
            button_start: s.id(MjtObjBase::mjOBJ_SITE, "buttonStart")?,
            target: [0.0; 3],
        }))
    })
}

/// Press the machine's button; the observed object is the button's front
/// (the site `buttonStart`), the goal 0.03 m behind its rest position.
struct CoffeeButton {
    machine: usize,
    button_start: usize,
    target: [f64; 3],
}

impl Task for CoffeeButton {
    fn config(&self) -> &'static TaskConfig {
        &BUTTON
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.machine, [rand[0], rand[1], rand[2]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        // The machine moves before the mug's forward.
        self.move_model(s, rand);
        // pos_mug = obj_init_pos + [0, -0.22, 0]
        set_mug_xyz(s, [rand[0] + 0.0, rand[1] + -0.22, rand[2] + 0.0])?;
        // pos_button = obj_init_pos + [0, -0.22, 0.3];
        // _target_pos = pos_button + [0, max_dist, 0]
        let button = [rand[0] + 0.0, rand[1] + -0.22, rand[2] + 0.3];
        self.target = [button[0] + 0.0, button[1] + MAX_DIST, button[2] + 0.0];
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.site_pos(self.button_start));
        out[3..7].copy_from_slice(&[1.0, 0.0, 0.0, 0.0]);
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        // No float32 here: the action is not used.
        let obj = [obs[4], obs[5], obs[6]];
        let tcp_to_obj = dist(obj, s.tcp_center());
        let tcp_to_obj_init = dist(obj, s.init_tcp);
        let obj_to_target = (self.target[1] - obj[1]).abs();
        let tcp_closed = obs[3].max(0.0);
        let near_button = tolerance(tcp_to_obj, 0.0, 0.05, tcp_to_obj_init, Sigmoid::LongTail);
        let button_pressed = tolerance(obj_to_target, 0.0, 0.005, MAX_DIST, Sigmoid::LongTail);
        let mut reward = 2.0 * hamacher_product(tcp_closed, near_button);
        if tcp_to_obj <= 0.05 {
            reward += 8.0 * button_pressed;
        }
        Evaluation {
            reward,
            info: [
                f64::from(obj_to_target <= 0.02),
                f64::from(tcp_to_obj <= 0.05),
                f64::from(obs[3] > 0.0),
                near_button,
                button_pressed,
                obj_to_target,
                reward,
            ],
        }
    }
}

fn mug(name: &'static str, push: bool) -> Result<MetaWorldEnv, EnvError> {
    let config = if push { &PUSH } else { &PULL };
    MetaWorldEnv::new(name, config, |s| {
        Ok(Box::new(CoffeeMug {
            push,
            obj: s.id(MjtObjBase::mjOBJ_BODY, "obj")?,
            mug_geom: s.id(MjtObjBase::mjOBJ_GEOM, "mug")?,
            machine: s.id(MjtObjBase::mjOBJ_BODY, "coffee_machine")?,
            mug_goal: s.id(MjtObjBase::mjOBJ_SITE, "mug_goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

/// Move the mug to a goal: out from under the spout (pull; the machine
/// stands behind the mug's start) or under it (push; the machine stands
/// behind the goal).
struct CoffeeMug {
    push: bool,
    obj: usize,
    mug_geom: usize,
    machine: usize,
    mug_goal: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

impl Task for CoffeeMug {
    fn config(&self) -> &'static TaskConfig {
        if self.push { &PUSH } else { &PULL }
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.15
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        // pos_machine = (pos_mug_goal if push else pos_mug_init) + [0, 0.22, 0]
        let at = if self.push { 3 } else { 0 };
        let machine = [rand[at] + 0.0, rand[at + 1] + 0.22, rand[at + 2] + 0.0];
        s.set_body_model_pos(self.machine, machine);
        s.set_site_model_pos(self.mug_goal, [rand[3], rand[4], rand[5]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        let init = [rand[0], rand[1], rand[2]];
        // The mug's forward runs with the previous draw's machine; the
        // machine and the goal site move after it, without a forward.
        set_mug_xyz(s, init)?;
        self.obj_init = init;
        self.target = [rand[3], rand[4], rand[5]];
        self.move_model(s, rand);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.obj));
        let xmat = &s.physics().data().geom_xmat()[self.mug_geom];
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(xmat));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let obj = [obs[4], obs[5], obs[6]];
        let t = self.target;
        // (obj - target) * [2, 2, 1]: x and y errors count double.
        let scale = [2.0, 2.0, 1.0];
        let target_to_obj = numpy_norm(&[0, 1, 2].map(|i| (obj[i] - t[i]) * scale[i]));
        let target_to_obj_init =
            numpy_norm(&[0, 1, 2].map(|i| (self.obj_init[i] - t[i]) * scale[i]));
        // tolerance returns a Python float.
        let in_place = tolerance(
            target_to_obj,
            0.0,
            0.05,
            target_to_obj_init,
            Sigmoid::LongTail,
        );
        let tcp_opened = obs[3];
        let tcp_to_obj = dist(obj, s.tcp_center());
        // float32 once the gripper closes on the caged mug (effort 0.7).
        let grasped = s.caging_reward(action, obj, self.obj_init, MUG_CAGING);
        let mut reward = hamacher(grasped, Num::Py(in_place));
        if tcp_to_obj < 0.04 && tcp_opened > 0.0 {
            // reward += 1.0 + 5.0 * in_place: a Python float added.
            reward = reward + Num::Py(1.0 + 5.0 * in_place);
        }
        if target_to_obj < 0.05 {
            reward = Num::Py(10.0);
        }
        let obj_to_target = dist(obj, t);
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(obj_to_target <= 0.07),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(s.touching_object(self.mug_geom) && tcp_opened > 0.0),
                grasped.get(),
                in_place,
                obj_to_target,
                reward.get(),
            ],
        }
    }
}
