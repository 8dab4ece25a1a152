//! Basketball (`sawyer_basketball_v3.py`): pick up a ball and drop it
//! through a hoop placed at each reset.
//!
//! The goal is the hoop's `goal` site, which metaworld holds as a live view
//! of the simulation (`_target_pos = data.site("goal").xpos`), so it is
//! read from the current state here too. At reset metaworld also writes the
//! site's world position into its model position; the site is compiled in
//! its body's frame (`site_sameframe`), so MuJoCo ignores that write, and
//! the goal stays at the hoop. The write is replicated all the same.
//!
//! The ball's start height is the class's float32 `obj_init_pos[-1]`
//! (0.03), widened.

use mujoco_rs::prelude::MjtObjBase;

use super::grasp::Caging;
use super::rewards::{Num, Sigmoid, dist, hamacher, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef, f32s};
use crate::error::EnvError;
use crate::numpy::numpy_norm;
use crate::registry::Build;

/// The registered basketball task.
pub const TASKS: &[TaskDef] = &[TaskDef::new(
    "mw-basketball",
    "mw",
    "basketball",
    Source::MetaWorld,
    Build::MetaWorld(basketball),
)];

const BASKETBALL: TaskConfig = TaskConfig {
    model: "sawyer_basketball.xml",
    hand_init_pos: f32s([0.0, 0.6, 0.2]),
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.6, 0.0299, -0.1, 0.85, 0.0],
    rand_high: &[0.1, 0.7, 0.0301, 0.1, 0.9 + 1e-7, 0.0],
    // `np.array(goal_low) + np.array([0, -0.083, 0.2499])` and
    // `np.array(goal_high) + np.array([0, -0.083, 0.2501])`.
    goal_low: [-0.1 + 0.0, 0.85 + -0.083, 0.0 + 0.2499],
    goal_high: [0.1 + 0.0, 0.9 + 1e-7 + -0.083, 0.0 + 0.2501],
};

/// The class's `TARGET_RADIUS`.
const TARGET_RADIUS: f64 = 0.08;
/// The ball's start height: `init_config["obj_init_pos"][-1]`, a float32.
const OBJ_INIT_Z: f64 = 0.03f32 as f64;
const CAGING: Caging = Caging::new(0.025, 0.06, 0.01, 0.005).high_density();

fn basketball(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &BASKETBALL, |s| {
        Ok(Box::new(Basketball {
            ball: s.id(MjtObjBase::mjOBJ_BODY, "bsktball")?,
            basket: s.id(MjtObjBase::mjOBJ_BODY, "basket_goal")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            obj_init: [0.0; 3],
        }))
    })
}

struct Basketball {
    ball: usize,
    basket: usize,
    goal_site: usize,
    obj_init: [f64; 3],
}

impl Task for Basketball {
    fn config(&self) -> &'static TaskConfig {
        &BASKETBALL
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.15
    }

    /// The hoop moves. (The first `reset_model` also writes the goal site's
    /// model position, which the site's compiled frame ignores and the
    /// second call overwrites.)
    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_body_model_pos(self.basket, [rand[3], rand[4], rand[5]]);
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.obj_init = [rand[0], rand[1], OBJ_INIT_Z];
        self.move_model(s, rand);
        s.set_obj_xyz(self.obj_init)?;
        // `model.site("goal").pos = _target_pos`, the site's world position
        // after the forward.
        let goal = s.site_pos(self.goal_site);
        s.set_site_model_pos(self.goal_site, goal);
        Ok(())
    }

    fn objects(&self, s: &Sawyer, out: &mut [f64]) {
        out[..3].copy_from_slice(&s.body_pos(self.ball));
        out[3..7].copy_from_slice(&s.body_quat(self.ball));
    }

    fn goal(&self, s: &Sawyer) -> [f64; 3] {
        s.site_pos(self.goal_site)
    }

    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation {
        let obj = [obs[4], obs[5], obs[6]];
        // Slightly above the hoop.
        let mut target = s.site_pos(self.goal_site);
        target[2] = 0.3;
        let scale = [1.0, 1.0, 2.0];
        let target_to_obj = numpy_norm(&[0, 1, 2].map(|i| (obj[i] - target[i]) * scale[i]));
        // A NumPy float64 margin; `tolerance` still returns a Python float.
        let target_to_obj_init =
            numpy_norm(&[0, 1, 2].map(|i| (self.obj_init[i] - target[i]) * scale[i]));
        let in_place = tolerance(
            target_to_obj,
            0.0,
            TARGET_RADIUS,
            target_to_obj_init,
            Sigmoid::LongTail,
        );
        let tcp_opened = obs[3];
        let tcp_to_obj = dist(obj, s.tcp_center());
        // float32 once the gripper closes on the ball.
        let mut object_grasped = s.caging_reward(action, obj, self.obj_init, CAGING);
        let lifted = tcp_to_obj < 0.035 && tcp_opened > 0.0 && obj[2] - 0.01 > self.obj_init[2];
        if lifted {
            object_grasped = Num::Py(1.0);
        }
        let mut reward = hamacher(object_grasped, Num::Py(in_place));
        if lifted {
            reward = reward + Num::Py(1.0 + 5.0 * in_place);
        }
        if target_to_obj < TARGET_RADIUS {
            reward = Num::Py(10.0);
        }
        Evaluation {
            reward: reward.get(),
            info: [
                f64::from(target_to_obj <= TARGET_RADIUS),
                f64::from(tcp_to_obj <= 0.05),
                f64::from(tcp_opened > 0.0 && obj[2] - 0.03 > self.obj_init[2]),
                object_grasped.get(),
                in_place,
                target_to_obj,
                reward.get(),
            ],
        }
    }
}
