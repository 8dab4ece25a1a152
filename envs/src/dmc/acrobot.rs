//! Acrobot domain: a two-link pendulum actuated at the elbow, swung up to
//! touch a target above it (dm_control `suite/acrobot.py`).

use super::rewards::Tolerance;
use super::{DmcEnv, Task, TaskDef, put};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 10.0;

/// The acrobot tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("acrobot-swingup", "acrobot", "swingup", |name| load(name, false)),
    TaskDef::dmc("acrobot-swingup-sparse", "acrobot", "swingup_sparse", |name| load(name, true)),
];

fn load(name: &str, sparse: bool) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("acrobot.xml")?;
    let task = Balance::new(&physics, sparse)?;
    DmcEnv::new(name, physics, Box::new(task), DEFAULT_TIME_LIMIT, 1)
}

/// Swing up and keep the tip at the target, with a smooth or sparse reward.
pub struct Balance {
    sparse: bool,
    upper_arm: usize,
    lower_arm: usize,
    shoulder: usize,
    elbow: usize,
    target: usize,
    tip: usize,
}

impl Balance {
    fn new(physics: &Physics, sparse: bool) -> Result<Self, EnvError> {
        Ok(Balance {
            sparse,
            upper_arm: physics.body_id("upper_arm")?,
            lower_arm: physics.body_id("lower_arm")?,
            shoulder: physics.joint_qpos_adr("shoulder")?,
            elbow: physics.joint_qpos_adr("elbow")?,
            target: physics.site_id("target")?,
            tip: physics.site_id("tip")?,
        })
    }
}

impl Task for Balance {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[("orientations", 4), ("velocity", 2)])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        use std::f64::consts::PI;
        let q = random.uniform_n(-PI, PI, 2);
        let qpos = physics.data_mut().qpos_mut();
        qpos[self.shoulder] = q[0];
        qpos[self.elbow] = q[1];
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let (u, l) = (physics.xmat(self.upper_arm), physics.xmat(self.lower_arm));
        let mut at = 0;
        put(
            out,
            &mut at,
            &[u[mat::XZ], l[mat::XZ], u[mat::ZZ], l[mat::ZZ]],
        );
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let radius = physics.model().site_size()[self.target][0];
        let (t, p) = (physics.site_xpos(self.target), physics.site_xpos(self.tip));
        let d = [t[0] - p[0], t[1] - p[1], t[2] - p[2]];
        let dist = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        let margin = if self.sparse { 0.0 } else { 1.0 };
        Tolerance::bounds(0.0, radius).margin(margin).eval(dist)
    }
}
