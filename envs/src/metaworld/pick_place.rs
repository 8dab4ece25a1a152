//! Pick and place (`sawyer_pick_place_v3.py`, `sawyer_pick_place_wall_v3.py`):
//! grasp a puck and carry it to a goal in the air, drawn at each reset
//! (over a wall for pick-place-wall).
//!
//! pick-place has its own caging reward. Its "initial" pad positions are
//! live views of the simulation in metaworld (`init_left_pad` aliases
//! `data.xpos`), so they are read from the current state here too.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::{Caging, gripper_effort};
use super::rewards::{Num, Sigmoid, dist, hamacher, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered pick-and-place tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-pick-place-wall",
        "mw",
        "pick-place-wall",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, true)),
    ),
    TaskDef::new(
        "mw-pick-place",
        "mw",
        "pick-place",
        Source::MetaWorld,
        Build::MetaWorld(|name| build(name, false)),
    ),
];

const PICK_PLACE: TaskConfig = TaskConfig {
    model: "sawyer_pick_place_v3.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.6, 0.02, -0.1, 0.8, 0.05],
    rand_high: &[0.1, 0.7, 0.02, 0.1, 0.9, 0.3],
    goal_low: [-0.1, 0.8, 0.05],
    goal_high: [0.1, 0.9, 0.3],
};

const WALL: TaskConfig = TaskConfig {
    model: "sawyer_pick_place_wall_v3.xml",
    rand_low: &[-0.05, 0.6, 0.015, -0.05, 0.85, 0.05],
    rand_high: &[0.05, 0.65, 0.015, 0.05, 0.9, 0.3],
    goal_low: [-0.05, 0.85, 0.05],
    goal_high: [0.05, 0.9, 0.3],
    ..PICK_PLACE
};

const TARGET_RADIUS: f64 = 0.05;

fn build(name: &'static str, wall: bool) -> Result<MetaWorldEnv, EnvError> {
    let config = if wall { &WALL } else { &PICK_PLACE };
    MetaWorldEnv::new(name, config, |s| {
        Ok(Box::new(PickPlace {
            wall,
            obj: s.id(MjtObjBase::mjOBJ_BODY, "obj")?,
            obj_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct PickPlace {
    wall: bool,
    obj: usize,
    obj_geom: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

/// `v + [0, -v[1], 0]`: the point projected on the x-z plane.
fn xz(v: [f64; 3]) -> [f64; 3] {
    [v[0] + 0.0, v[1] + -v[1], v[2] + 0.0]
}

impl PickPlace {
    /// pick-place's own `_gripper_caging_reward(action, obj)`.
    fn caging(&self, s: &Sawyer, action: &[f32; 4], obj: [f64; 3]) -> Num {
        const PAD_SUCCESS_MARGIN: f64 = 0.05;
        const XZ_SUCCESS_MARGIN: f64 = 0.005;
        const OBJ_RADIUS: f64 = 0.015;
        let tcp = s.tcp_center();
        let left = s.body_pos(s.left_pad);
        let right = s.body_pos(s.right_pad);
        let side = |delta: f64, pad_y: f64| {
            let margin = ((obj[1] - pad_y).abs() - PAD_SUCCESS_MARGIN).abs();
            tolerance(
                delta,
                OBJ_RADIUS,
                PAD_SUCCESS_MARGIN,
                margin,
                Sigmoid::LongTail,
            )
        };
        let right_caging = side(obj[1] - right[1], right[1]);
        let left_caging = side(left[1] - obj[1], left[1]);
        let y_caging = hamacher(Num::Py(left_caging), Num::Py(right_caging));
        let tcp_obj_xz = dist(xz(tcp), xz(obj));
        let margin = dist(xz(self.obj_init), xz(s.init_tcp)) - XZ_SUCCESS_MARGIN;
        let xz_caging = tolerance(
            tcp_obj_xz,
            0.0,
            XZ_SUCCESS_MARGIN,
            margin,
            Sigmoid::LongTail,
        );
        let gripper_closed = gripper_effort(action, 1.0);
        let caging = hamacher(y_caging, Num::Py(xz_caging));
        let gripping = if caging.get() > 0.97 {
            gripper_closed
        } else {
            Num::Py(0.0)
        };
        (hamacher(caging, gripping) + caging) / Num::Py(2.0)
    }
}

impl Task for PickPlace {
    fn config(&self) -> &'static TaskConfig {
        if self.wall { &WALL } else { &PICK_PLACE }
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.15
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_site_model_pos(self.goal_site, [rand[3], rand[4], rand[5]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.target = [rand[3], rand[4], rand[5]];
        self.obj_init = [rand[0], rand[1], rand[2]];
        s.set_obj_xyz(self.obj_init)?;
        self.move_model(s, rand);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        let data = s.physics().data();
        // pick-place observes the body, pick-place-wall the geom.
        let pos = if self.wall {
            data.geom_xpos()[self.obj_geom]
        } else {
            s.body_pos(self.obj)
        };
        out[..3].copy_from_slice(&pos);
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(&data.geom_xmat()[self.obj_geom]));
    }

    fn goal(&self, _s: &Sawyer) -> [f64; 3] {
        self.target
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let tcp = s.tcp_center();
        let obj = [obs[4], obs[5], obs[6]];
        let tcp_opened = obs[3];
        let t = self.target;
        let obj_to_target = dist(obj, t);
        let tcp_to_obj = dist(obj, tcp);
        let (reward, grasped, in_place) = if self.wall {
            let midpoint = [t[0], 0.77, 0.25];
            let scale = [1.0, 1.0, 3.0];
            let scaled =
                |p: [f64; 3]| numpy_norm(&[0, 1, 2].map(|i| (p[i] - midpoint[i]) * scale[i]));
            let part1 = tolerance(
                scaled(obj),
                0.0,
                TARGET_RADIUS,
                scaled(self.obj_init),
                Sigmoid::LongTail,
            );
            let part2 = tolerance(
                obj_to_target,
                0.0,
                TARGET_RADIUS,
                dist(self.obj_init, t),
                Sigmoid::LongTail,
            );
            let grasped = s.caging_reward(
                action,
                obj,
                self.obj_init,
                Caging::new(0.015, 0.05, 0.01, 0.005),
            );
            let both = hamacher(grasped, Num::Py(part1));
            let mut reward = both;
            if tcp_to_obj < 0.02 && tcp_opened > 0.0 && obj[2] - 0.015 > self.obj_init[2] {
                reward = both + Num::Py(1.0) + Num::Py(4.0 * part1);
                if obj[1] > 0.75 {
                    reward = both + Num::Py(1.0) + Num::Py(4.0) + Num::Py(3.0 * part2);
                }
            }
            (reward, grasped, part2)
        } else {
            let in_place = tolerance(
                obj_to_target,
                0.0,
                TARGET_RADIUS,
                dist(self.obj_init, t),
                Sigmoid::LongTail,
            );
            let grasped = self.caging(s, action, obj);
            let mut reward = hamacher(grasped, Num::Py(in_place));
            if tcp_to_obj < 0.02 && tcp_opened > 0.0 && obj[2] - 0.01 > self.obj_init[2] {
                reward = reward + Num::Py(1.0 + 5.0 * in_place);
            }
            (reward, grasped, in_place)
        };
        let reward = if obj_to_target < TARGET_RADIUS {
            Num::Py(10.0)
        } else {
            reward
        };
        let grasp_success = s.touching_object(self.obj_geom)
            && tcp_opened > 0.0
            && obj[2] - 0.02 > self.obj_init[2];
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(obj_to_target <= 0.07),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                grasped.get(),
                in_place,
                obj_to_target,
                reward.get(),
            ],
        }
    }
}
