//! Cartpole domain: swing up and balance an unactuated pole by applying forces
//! to a cart (dm_control `suite/cartpole.py`).

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, put};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 10.0;
const CART_RANGE: (f64, f64) = (-0.25, 0.25);
const ANGLE_COSINE_RANGE: (f64, f64) = (0.995, 1.0);

/// The cartpole tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("cartpole-balance", "cartpole", "balance", |name| load(name, false, false)),
    TaskDef::dmc("cartpole-balance-sparse", "cartpole", "balance_sparse",
        |name| load(name, false, true)),
    TaskDef::dmc("cartpole-swingup", "cartpole", "swingup", |name| load(name, true, false)),
    TaskDef::dmc("cartpole-swingup-sparse", "cartpole", "swingup_sparse",
        |name| load(name, true, true)),
];

fn load(name: &str, swing_up: bool, sparse: bool) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("cartpole.xml")?;
    let task = Balance::new(&physics, swing_up, sparse)?;
    DmcEnv::new(name, physics, Box::new(task), DEFAULT_TIME_LIMIT, 1)
}

/// Balance the pole, starting near upright (`balance`) or hanging down
/// (`swingup`), with a smooth or sparse reward.
pub struct Balance {
    swing_up: bool,
    sparse: bool,
    slider: usize,
    hinge: usize,
    /// Pole bodies (`xmat[2:]` in dm_control).
    poles: std::ops::Range<usize>,
}

impl Balance {
    fn new(physics: &Physics, swing_up: bool, sparse: bool) -> Result<Self, EnvError> {
        Ok(Balance {
            swing_up,
            sparse,
            slider: physics.joint_qpos_adr("slider")?,
            hinge: physics.joint_qpos_adr("hinge_1")?,
            poles: 2..physics.model().ffi().nbody as usize,
        })
    }

    fn cart_position(&self, physics: &Physics) -> f64 {
        physics.qpos()[self.slider]
    }
}

impl Task for Balance {
    fn observation_layout(&self) -> ObsLayout {
        let n = self.poles.len();
        ObsLayout::new(&[("position", 1 + 2 * n), ("velocity", 1 + n)])
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        let nv = physics.nv();
        let qpos = physics.data_mut().qpos_mut();
        if self.swing_up {
            qpos[self.slider] = 0.01 * random.standard_normal();
            qpos[self.hinge] = std::f64::consts::PI + 0.01 * random.standard_normal();
            for (q, r) in qpos[2..].iter_mut().zip(random.randn(nv - 2)) {
                *q = 0.1 * r;
            }
        } else {
            qpos[self.slider] = random.uniform(-0.1, 0.1);
            for (q, r) in qpos[1..]
                .iter_mut()
                .zip(random.uniform_n(-0.034, 0.034, nv - 1))
            {
                *q = r;
            }
        }
        let qvel = random.randn(nv);
        for (v, r) in physics.data_mut().qvel_mut().iter_mut().zip(qvel) {
            *v = 0.01 * r;
        }
        Ok(())
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        put(out, &mut at, &[self.cart_position(physics)]);
        for b in self.poles.clone() {
            let m = physics.xmat(b);
            put(out, &mut at, &[m[mat::ZZ], m[mat::XZ]]);
        }
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let cart = self.cart_position(physics);
        if self.sparse {
            let cart_in_bounds = Tolerance::bounds(CART_RANGE.0, CART_RANGE.1).eval(cart);
            let angle = Tolerance::bounds(ANGLE_COSINE_RANGE.0, ANGLE_COSINE_RANGE.1);
            let angle_in_bounds: f64 = self
                .poles
                .clone()
                .map(|b| angle.eval(physics.xmat(b)[mat::ZZ]))
                .product();
            cart_in_bounds * angle_in_bounds
        } else {
            let n = self.poles.len() as f64;
            let upright: f64 = self
                .poles
                .clone()
                .map(|b| (physics.xmat(b)[mat::ZZ] + 1.0) / 2.0)
                .sum::<f64>()
                / n;
            let centered = (1.0 + Tolerance::bounds(0.0, 0.0).margin(2.0).eval(cart)) / 2.0;
            let control = Tolerance::bounds(0.0, 0.0)
                .margin(1.0)
                .value_at_margin(0.0)
                .sigmoid(Sigmoid::Quadratic)
                .eval(physics.ctrl()[0]);
            let small_control = (4.0 + control) / 5.0;
            let velocity = Tolerance::bounds(0.0, 0.0).margin(5.0);
            let small_velocity = physics.qvel()[1..]
                .iter()
                .map(|&w| velocity.eval(w))
                .fold(f64::INFINITY, f64::min);
            let small_velocity = (1.0 + small_velocity) / 2.0;
            upright * small_control * small_velocity * centered
        }
    }
}
