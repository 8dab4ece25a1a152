//! Fish domain: a 3D fish that turns upright or swims to a target
//! (dm_control `suite/fish.py`).

use super::rewards::Tolerance;
use super::{DmcEnv, Task, TaskDef, put};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 40.0;
const CONTROL_TIMESTEP: f64 = 0.04;

/// The fish's actuated and coupled joints, in observation order.
const JOINTS: [&str; 7] = [
    "tail1",
    "tail_twist",
    "tail2",
    "finright_roll",
    "finright_pitch",
    "finleft_roll",
    "finleft_pitch",
];

/// The fish tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("fish-upright", "fish", "upright", |name| load(name, false)),
    TaskDef::dmc("fish-swim", "fish", "swim", |name| load(name, true)),
];

fn load(name: &str, swim: bool) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("fish.xml")?;
    let task = Fish::new(&physics, swim)?;
    DmcEnv::with_control_timestep(
        name,
        physics,
        Box::new(task),
        DEFAULT_TIME_LIMIT,
        CONTROL_TIMESTEP,
    )
}

/// Turn the torso upright (`Upright`), or swim the mouth into a randomly
/// placed target while staying upright (`Swim`).
pub struct Fish {
    swim: bool,
    torso: usize,
    mouth: usize,
    target: usize,
    root_qpos: usize,
    joint_qpos: [usize; 7],
}

impl Fish {
    fn new(physics: &Physics, swim: bool) -> Result<Self, EnvError> {
        let mut joint_qpos = [0; 7];
        for (i, name) in JOINTS.iter().enumerate() {
            joint_qpos[i] = physics.joint_qpos_adr(name)?;
        }
        Ok(Fish {
            swim,
            torso: physics.body_id("torso")?,
            mouth: physics.geom_id("mouth")?,
            target: physics.geom_id("target")?,
            root_qpos: physics.joint_qpos_adr("root")?,
            joint_qpos,
        })
    }

    /// The z component of the torso's z axis.
    fn upright(&self, physics: &Physics) -> f64 {
        physics.xmat(self.torso)[mat::ZZ]
    }

    /// The vector from mouth to target in the mouth's frame.
    fn mouth_to_target(&self, physics: &Physics) -> [f64; 3] {
        let t = physics.geom_xpos(self.target);
        let m = physics.geom_xpos(self.mouth);
        let d = [t[0] - m[0], t[1] - m[1], t[2] - m[2]];
        let r = &physics.data().geom_xmat()[self.mouth];
        let mut out = [0.0; 3];
        for (j, o) in out.iter_mut().enumerate() {
            *o = d[0] * r[j] + d[1] * r[3 + j] + d[2] * r[6 + j];
        }
        out
    }
}

impl Task for Fish {
    fn observation_layout(&self) -> ObsLayout {
        if self.swim {
            ObsLayout::new(&[
                ("joint_angles", 7),
                ("upright", 1),
                ("target", 3),
                ("velocity", 13),
            ])
        } else {
            ObsLayout::new(&[("joint_angles", 7), ("upright", 1), ("velocity", 13)])
        }
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        let q = random.randn(4);
        let norm = crate::numpy::numpy_norm(&q);
        let adr = self.root_qpos + 3;
        let qpos = physics.data_mut().qpos_mut();
        for (dst, &x) in qpos[adr..adr + 4].iter_mut().zip(&q) {
            *dst = x / norm;
        }
        for &j in &self.joint_qpos {
            let v = random.uniform(-0.2, 0.2);
            physics.data_mut().qpos_mut()[j] = v;
        }
        if self.swim {
            // Randomize the target position.
            let x = random.uniform(-0.4, 0.4);
            let y = random.uniform(-0.4, 0.4);
            let z = random.uniform(0.1, 0.3);
            physics.model_mut().geom_pos_mut()[self.target] = [x, y, z];
        } else {
            // Hide the target: it is irrelevant for this task.
            physics.model_mut().geom_rgba_mut()[self.target][3] = 0.0;
        }
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        let qpos = physics.qpos();
        for &j in &self.joint_qpos {
            out[at] = qpos[j];
            at += 1;
        }
        put(out, &mut at, &[self.upright(physics)]);
        if self.swim {
            put(out, &mut at, &self.mouth_to_target(physics));
        }
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        if !self.swim {
            return Tolerance::bounds(1.0, 1.0)
                .margin(1.0)
                .eval(self.upright(physics));
        }
        let size = physics.model().geom_size();
        let radii = size[self.mouth][0] + size[self.target][0];
        let d = self.mouth_to_target(physics);
        let dist = (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]).sqrt();
        let in_target = Tolerance::bounds(0.0, radii).margin(2.0 * radii).eval(dist);
        let is_upright = 0.5 * (self.upright(physics) + 1.0);
        (7.0 * in_target + is_upright) / 8.0
    }
}
