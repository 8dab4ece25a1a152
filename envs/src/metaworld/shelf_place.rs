//! Shelf placing (`sawyer_shelf_place_v3.py`): pick a block up from the
//! table and put it on a shelf placed at each reset. The goal is the shelf's
//! goal site (0.3 m above the shelf's base), computed from the model.
//!
//! The reward's in-place term is cut down while the block is low and in
//! front of the shelf, and zeroed while it is low and behind it; once cut,
//! it is a NumPy float64 (`np.clip`), which decides the type of the grasp
//! bonus added to a float32 caging reward.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, hamacher, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered shelf-placing task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-shelf-place",
    "mw",
    "shelf-place",
    Source::MetaWorld,
    Build::MetaWorld(shelf_place),
)];

const SHELF_PLACE: TaskConfig = TaskConfig {
    model: "sawyer_shelf_placing.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.5, 0.019, -0.1, 0.8, 0.299],
    rand_high: &[0.1, 0.6, 0.021, 0.1, 0.9, 0.301],
    goal_low: [-0.1, 0.8, 0.299],
    goal_high: [0.1, 0.9, 0.301],
};

/// `compute_reward`'s local `_TARGET_RADIUS`.
const TARGET_RADIUS: f64 = 0.05;
const CAGING: Caging = Caging::new(0.02, 0.05, 0.01, 0.01);

fn shelf_place(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &SHELF_PLACE, |s| {
        Ok(Box::new(ShelfPlace {
            obj: s.id(MjtObjBase::mjOBJ_BODY, "obj")?,
            obj_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            shelf: s.id(MjtObjBase::mjOBJ_BODY, "shelf")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
            target: [0.0; 3],
        }))
    })
}

struct ShelfPlace {
    obj: usize,
    obj_geom: usize,
    shelf: usize,
    goal_site: usize,
    obj_init: [f64; 3],
    target: [f64; 3],
}

/// The shelf's base: `goal_pos[-3:] - [0, 0, 0.3]`.
fn shelf_of(rand: &[f64]) -> [f64; 3] {
    [rand[3] - 0.0, rand[4] - 0.0, rand[5] - 0.3]
}

impl Task for ShelfPlace {
    fn config(&self) -> &'static TaskConfig {
        &SHELF_PLACE
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.1
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.shelf, shelf_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        // `adjust_initObjPos` keeps only the block body's height (x and y
        // are replaced below).
        let obj_z = s.body_pos(self.obj)[2];
        self.obj_init = [rand[0] - 0.0, rand[1] - 0.0, obj_z];
        self.move_model(s, rand);
        s.physics_mut().forward()?;
        // `model.site("goal").pos + model.body("shelf").pos`
        let site = s.physics().model().site_pos()[self.goal_site];
        let shelf = s.physics().model().body_pos()[self.shelf];
        self.target = [0, 1, 2].map(|i| site[i] + shelf[i]);
        s.set_obj_xyz(self.obj_init)?;
        // `_set_pos_site("goal", ...)` writes the site's data position, which
        // the next forward overwrites: nothing to do.
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.obj));
        let xmat = &s.physics().data().geom_xmat()[self.obj_geom];
        out[3..7].copy_from_slice(&scipy_quat_from_matrix(xmat));
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
        // `in_place_margin` is a NumPy float64 here, but `tolerance` of a
        // Python float returns a Python float.
        let mut in_place = Num::Py(tolerance(
            obj_to_target,
            0.0,
            TARGET_RADIUS,
            dist(self.obj_init, t),
            Sigmoid::LongTail,
        ));
        // float32 once the gripper closes on the block.
        let object_grasped = s.caging_reward(action, obj, self.obj_init, CAGING);
        let mut reward = hamacher(object_grasped, in_place);
        let low = 0.0 < obj[2] && obj[2] < 0.24;
        let in_front_x = t[0] - 0.15 < obj[0] && obj[0] < t[0] + 0.15;
        // `3 * _TARGET_RADIUS`
        let depth = 3.0 * TARGET_RADIUS;
        if low && in_front_x && (t[1] - depth) < obj[1] && obj[1] < t[1] {
            // NumPy float64 scalars (elements of `obs` and `_target_pos`).
            let z_scaling = (0.24 - obj[2]) / 0.24;
            let y_scaling = (obj[1] - (t[1] - depth)) / depth;
            let bound_loss = hamacher(Num::F64(y_scaling), Num::F64(z_scaling));
            // `np.clip(in_place - bound_loss, 0.0, 1.0)`: a NumPy float64.
            in_place = Num::F64((in_place - bound_loss).get().clamp(0.0, 1.0));
        }
        if low && in_front_x && obj[1] > t[1] {
            in_place = Num::Py(0.0);
        }
        if tcp_to_obj < 0.025 && tcp_opened > 0.0 && obj[2] - 0.01 > self.obj_init[2] {
            // `reward += 1.0 + 5.0 * in_place`: float64 if in_place is.
            reward = reward + (Num::Py(1.0) + Num::Py(5.0) * in_place);
        }
        if obj_to_target < TARGET_RADIUS {
            reward = Num::Py(10.0);
        }
        let grasp_success = s.touching_object(self.obj_geom)
            && tcp_opened > 0.0
            && obj[2] - 0.02 > self.obj_init[2];
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(obj_to_target <= 0.07),
                f64::from(tcp_to_obj <= 0.03),
                f64::from(grasp_success),
                object_grasped.get(),
                in_place.get(),
                obj_to_target,
                reward.get(),
            ],
        }
    }
}
