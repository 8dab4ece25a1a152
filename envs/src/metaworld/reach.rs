//! Reach (`sawyer_reach_v3.py`, `sawyer_reach_wall_v3.py`): bring the tool
//! centre point within 5 cm of a goal drawn at each reset, with a puck on
//! the table (and, for reach-wall, a wall in between) that the reward
//! ignores.

use mujoco_rs::prelude::MjtObjBase;

use super::rewards::{Sigmoid, tolerance};
use super::{Evaluation, MetaWorldEnv, Sawyer, Source, Task, TaskConfig, TaskDef};
use crate::error::EnvError;
use crate::numpy::{numpy_norm, scipy_quat_from_matrix};
use crate::registry::Build;

/// The registered reach tasks.
pub const TASKS: &[TaskDef] = &[
    TaskDef::new(
        "mw-reach",
        "mw",
        "reach",
        Source::MetaWorld,
        Build::MetaWorld(reach),
    ),
    TaskDef::new(
        "mw-reach-wall",
        "mw",
        "reach-wall",
        Source::MetaWorld,
        Build::MetaWorld(reach_wall),
    ),
];

const REACH: TaskConfig = TaskConfig {
    model: "sawyer_reach_v3.xml",
    hand_init_pos: [0.0, 0.6, 0.2],
    mocap_low: [-0.5, 0.40, 0.05],
    mocap_high: [0.5, 1.0, 0.5],
    rand_low: &[-0.1, 0.6, 0.02, -0.1, 0.8, 0.05],
    rand_high: &[0.1, 0.7, 0.02, 0.1, 0.9, 0.3],
    goal_low: [-0.1, 0.8, 0.05],
    goal_high: [0.1, 0.9, 0.3],
};

const REACH_WALL: TaskConfig = TaskConfig {
    model: "sawyer_reach_wall_v3.xml",
    rand_low: &[-0.05, 0.6, 0.015, -0.05, 0.85, 0.05],
    rand_high: &[0.05, 0.65, 0.015, 0.05, 0.9, 0.3],
    goal_low: [-0.05, 0.85, 0.05],
    goal_high: [0.05, 0.9, 0.3],
    ..REACH
};

fn reach(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &REACH, |s| {
        Ok(Box::new(Reach::new(s, &REACH, false)?))
    })
}

fn reach_wall(name: &'static str) -> Result<MetaWorldEnv, EnvError> {
    MetaWorldEnv::new(name, &REACH_WALL, |s| {
        Ok(Box::new(Reach::new(s, &REACH_WALL, true)?))
    })
}

/// Reach and reach-wall: the same task; reach-wall reports fewer info
/// values.
struct Reach {
    config: &'static TaskConfig,
    wall: bool,
    obj: usize,
    obj_geom: usize,
    goal_site: usize,
    target: [f64; 3],
}

impl Reach {
    fn new(s: &Sawyer, config: &'static TaskConfig, wall: bool) -> Result<Self, EnvError> {
        Ok(Reach {
            config,
            wall,
            obj: s.id(MjtObjBase::mjOBJ_BODY, "obj")?,
            obj_geom: s.id(MjtObjBase::mjOBJ_GEOM, "objGeom")?,
            goal_site: s.id(MjtObjBase::mjOBJ_SITE, "goal")?,
            target: [0.0; 3],
        })
    }
}

/// The vector's goal part (`goal_pos[3:]`).
fn goal_of(rand: &[f64]) -> [f64; 3] {
    [rand[3], rand[4], rand[5]]
}

impl Task for Reach {
    fn config(&self) -> &'static TaskConfig {
        self.config
    }

    fn accept(&self, rand: &[f64]) -> bool {
        numpy_norm(&[rand[0] - rand[3], rand[1] - rand[4]]) >= 0.15
    }

    fn move_model(&self, s: &mut Sawyer, rand: &[f64]) {
        s.set_site_model_pos(self.goal_site, goal_of(rand));
    }

    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError> {
        self.target = goal_of(rand);
        s.set_obj_xyz([rand[0], rand[1], rand[2]])?;
        self.move_model(s, rand);
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

    fn evaluate(&self, s: &Sawyer, _obs: &[f64], _action: &[f32; 4]) -> Evaluation {
        let tcp = s.tcp_center();
        let t = self.target;
        let tcp_to_target = numpy_norm(&[tcp[0] - t[0], tcp[1] - t[1], tcp[2] - t[2]]);
        let h = self.config.hand_init_pos;
        let in_place_margin = numpy_norm(&[h[0] - t[0], h[1] - t[1], h[2] - t[2]]);
        let in_place = tolerance(tcp_to_target, 0.0, 0.05, in_place_margin, Sigmoid::LongTail);
        let reward = 10.0 * in_place;
        let success = f64::from(tcp_to_target <= 0.05);
        let (near, grasp, grasp_reward) = if self.wall {
            (0.0, 0.0, 0.0)
        } else {
            (tcp_to_target, 1.0, tcp_to_target)
        };
        Evaluation {
            reward,
            info: [
                success,
                near,
                grasp,
                grasp_reward,
                in_place,
                tcp_to_target,
                reward,
            ],
        }
    }
}
