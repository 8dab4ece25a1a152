//! LQR domain: a chain of unit masses on springs, moving along one axis, of
//! which the first few are actuated; the reward is a quadratic state and
//! control cost (dm_control `suite/lqr.py`).
//!
//! dm_control generates the model from `lqr.xml` (`_make_model`): a nested
//! chain of bodies, each with a slide joint whose stiffness is drawn uniformly
//! from [15, 25] and damping from [0, 0] (a draw that is always 0), with the
//! environment's own `RandomState` when the environment is built. Episodes then
//! continue drawing from the same stream. Here the chain is generated once and
//! the spring parameters are drawn in [`Task::on_seed`], i.e. whenever the
//! environment is seeded: a reset with seed `s` equals dm_control's
//! environment built with `random=s` and reset, draws included.
//!
//! There is no time limit; an episode terminates (discount 0) once the norm of
//! the state falls below 1e-6.

use super::{DmcEnv, Task, TaskDef, put};
use crate::error::EnvError;
use crate::numpy::numpy_dot_self;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

/// dm_control's `_DEFAULT_TIME_LIMIT`: episodes only end by termination.
const DEFAULT_TIME_LIMIT: f64 = f64::INFINITY;
/// Weight of the control cost.
const CONTROL_COST_COEF: f64 = 0.1;
/// State norm below which the episode terminates.
const TERMINAL_TOL: f64 = 1e-6;
/// Range of the joints' spring stiffness.
const STIFFNESS_RANGE: (f64, f64) = (15.0, 25.0);
/// Range of the joints' damping.
const DAMPING_RANGE: (f64, f64) = (0.0, 0.0);

/// The LQR tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("lqr-lqr-2-1", "lqr", "lqr_2_1", |name| load(name, 2, 1)).aliases(&["lqr-2-1"]),
    TaskDef::dmc("lqr-lqr-6-2", "lqr", "lqr_6_2", |name| load(name, 6, 2)).aliases(&["lqr-6-2"]),
];

fn load(name: &str, n_bodies: usize, n_actuators: usize) -> Result<DmcEnv, EnvError> {
    // The spring parameters written here are placeholders: `on_seed` draws
    // the real ones before the first episode.
    let springs = vec![
        Spring {
            stiffness: (STIFFNESS_RANGE.0 + STIFFNESS_RANGE.1) / 2.0,
            damping: DAMPING_RANGE.0,
        };
        n_bodies
    ];
    let xml = make_model(n_bodies, n_actuators, &springs)?;
    let physics = Physics::from_xml_in_assets(&xml, "lqr.xml")?;
    let task = LqrLevel::new(&physics, n_bodies, CONTROL_COST_COEF)?;
    DmcEnv::new(name, physics, Box::new(task), DEFAULT_TIME_LIMIT, 1)
}

/// A joint's spring parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spring {
    /// Joint stiffness.
    pub stiffness: f64,
    /// Joint damping.
    pub damping: f64,
}

/// Draws the spring of each of `n_bodies` joints as dm_control's `_make_body`
/// does: per body, the stiffness, then the damping.
pub fn draw_springs(n_bodies: usize, random: &mut RandomState) -> Vec<Spring> {
    (0..n_bodies)
        .map(|_| {
            let stiffness = random.uniform(STIFFNESS_RANGE.0, STIFFNESS_RANGE.1);
            let damping = random.uniform(DAMPING_RANGE.0, DAMPING_RANGE.1);
            Spring { stiffness, damping }
        })
        .collect()
}

/// The MJCF of dm_control's `_make_model`: `lqr.xml` with a nested chain of
/// `springs.len()` bodies (`body_i` with `joint_i`, `geom_i`, `site_i`), a
/// motor on each of the first `n_actuators` joints and a tendon between
/// consecutive sites.
pub fn make_model(
    n_bodies: usize,
    n_actuators: usize,
    springs: &[Spring],
) -> Result<String, EnvError> {
    if n_bodies < 1 || n_actuators < 1 {
        return Err(EnvError::Invalid(
            "lqr needs at least 1 body and 1 actuator".into(),
        ));
    }
    if n_actuators > n_bodies {
        return Err(EnvError::Invalid(
            "lqr has at most 1 actuator per body".into(),
        ));
    }
    if springs.len() != n_bodies {
        return Err(EnvError::Invalid(format!(
            "lqr needs one spring per body: {} for {n_bodies} bodies",
            springs.len()
        )));
    }
    let mut chain = String::new();
    for (i, s) in springs.iter().enumerate() {
        let pos = if i == 0 { ".25 0 .1" } else { ".25 0 0" };
        chain += &format!(
            "<body name=\"body_{i}\" pos=\"{pos}\">\
             <joint name=\"joint_{i}\" stiffness=\"{:?}\" damping=\"{:?}\"/>\
             <geom name=\"geom_{i}\"/><site name=\"site_{i}\"/>",
            s.stiffness, s.damping
        );
    }
    chain += &"</body>".repeat(n_bodies);
    let motors: String = (0..n_actuators)
        .map(|i| format!("<motor name=\"motor_{i}\" joint=\"joint_{i}\"/>"))
        .collect();
    let tendons: String = (0..n_bodies - 1)
        .map(|i| {
            format!(
                "<spatial name=\"tendon_{i}\"><site site=\"site_{i}\"/><site site=\"site_{}\"/></spatial>",
                i + 1
            )
        })
        .collect();

    let mut xml = Physics::read_asset("lqr.xml")?;
    let missing = |tag: &str| EnvError::Model(format!("lqr.xml has no {tag}"));
    let at = xml
        .find("</worldbody>")
        .ok_or_else(|| missing("</worldbody>"))?;
    xml.insert_str(at, &chain);
    let at = xml.rfind("</mujoco>").ok_or_else(|| missing("</mujoco>"))?;
    xml.insert_str(
        at,
        &format!("<actuator>{motors}</actuator><tendon>{tendons}</tendon>"),
    );
    Ok(xml)
}

/// Drive the state to zero at a small control cost.
pub struct LqrLevel {
    control_cost_coef: f64,
    joints: Vec<usize>,
    dofs: Vec<usize>,
}

impl LqrLevel {
    fn new(physics: &Physics, n_bodies: usize, control_cost_coef: f64) -> Result<Self, EnvError> {
        if control_cost_coef <= 0.0 {
            return Err(EnvError::Invalid(
                "control_cost_coef must be positive".into(),
            ));
        }
        let mut joints = Vec::with_capacity(n_bodies);
        let mut dofs = Vec::with_capacity(n_bodies);
        for i in 0..n_bodies {
            let name = format!("joint_{i}");
            joints.push(physics.joint_id(&name)?);
            dofs.push(physics.joint_dof_adr(&name)?);
        }
        Ok(LqrLevel {
            control_cost_coef,
            joints,
            dofs,
        })
    }

    /// Norm of the physics state (`qpos`, `qvel`, `act`).
    fn state_norm(physics: &Physics) -> f64 {
        let d = physics.data();
        numpy_dot_self(d.qpos().iter().chain(d.qvel()).chain(d.act()).copied()).sqrt()
    }
}

impl Task for LqrLevel {
    fn observation_layout(&self) -> ObsLayout {
        ObsLayout::new(&[
            ("position", self.joints.len()),
            ("velocity", self.dofs.len()),
        ])
    }

    fn on_seed(&mut self, physics: &mut Physics, random: &mut RandomState) -> Result<(), EnvError> {
        let springs = draw_springs(self.joints.len(), random);
        let model = physics.model_mut();
        for (&j, s) in self.joints.iter().zip(&springs) {
            model.jnt_stiffness_mut()[j] = s.stiffness;
        }
        for (&v, s) in self.dofs.iter().zip(&springs) {
            model.dof_damping_mut()[v] = s.damping;
        }
        Ok(())
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        // A random state on the sphere of radius √2.
        let unit = random.randn(physics.nq());
        let norm = numpy_dot_self(unit.iter().copied()).sqrt();
        let qpos = physics.data_mut().qpos_mut();
        for (q, u) in qpos.iter_mut().zip(&unit) {
            *q = std::f64::consts::SQRT_2 * u / norm;
        }
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        put(out, &mut at, physics.qpos());
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let state_cost = 0.5 * numpy_dot_self(physics.qpos().iter().copied());
        let control_l2_norm = 0.5 * numpy_dot_self(physics.ctrl().iter().copied());
        1.0 - (state_cost + control_l2_norm * self.control_cost_coef)
    }

    fn termination(&self, physics: &Physics) -> Option<f64> {
        (Self::state_norm(physics) < TERMINAL_TOL).then_some(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Env;

    /// Setting the drawn springs on the generated model is the same as
    /// generating the model with them, as dm_control does.
    #[test]
    fn seeded_springs_match_a_model_generated_with_them() {
        for (n_bodies, n_actuators) in [(2, 1), (6, 2)] {
            let seed = 11;
            let springs = draw_springs(n_bodies, &mut RandomState::new(seed));
            assert!(springs.iter().all(|s| (15.0..25.0).contains(&s.stiffness)));
            let xml = make_model(n_bodies, n_actuators, &springs).unwrap();
            let generated = Physics::from_xml_in_assets(&xml, "lqr.xml").unwrap();
            let mut env = load("lqr", n_bodies, n_actuators).unwrap();
            let mut obs = vec![0.0; 2 * n_bodies];
            env.reset_into(Some(seed), &mut obs).unwrap();
            let m = env.physics().model();
            assert_eq!(m.jnt_stiffness(), generated.model().jnt_stiffness());
            assert_eq!(m.dof_damping(), generated.model().dof_damping());
            assert_eq!(env.physics().nu(), n_actuators);
            // The episode starts on the sphere of radius √2, at rest.
            let r = obs[..n_bodies].iter().map(|x| x * x).sum::<f64>().sqrt();
            assert!((r - std::f64::consts::SQRT_2).abs() < 1e-12);
            assert!(obs[n_bodies..].iter().all(|&v| v == 0.0));
        }
    }
}
