//! Humanoid domain: a 21-joint 3D humanoid that stands up, walks or runs
//! (dm_control `suite/humanoid.py`).

use super::rewards::{Sigmoid, Tolerance};
use super::{DmcEnv, Task, TaskDef, put, randomize_limited_and_rotational_joints};
use crate::error::EnvError;
use crate::physics::{Physics, mat};
use crate::rng::RandomState;
use crate::spaces::ObsLayout;

const DEFAULT_TIME_LIMIT: f64 = 25.0;
const CONTROL_TIMESTEP: f64 = 0.025;

/// Height of the head above which the stand reward is 1.
const STAND_HEIGHT: f64 = 1.4;

/// Horizontal speed above which the walk reward is 1.
const WALK_SPEED: f64 = 1.0;
/// Horizontal speed above which the run reward is 1.
const RUN_SPEED: f64 = 10.0;

/// Rejection sampling of the initial pose gives up after this many tries
/// (dm_control loops forever; a collision-free pose is found in a few tries).
const MAX_INIT_ATTEMPTS: usize = 100_000;

/// The humanoid tasks.
#[rustfmt::skip]
pub const TASKS: &[TaskDef] = &[
    TaskDef::dmc("humanoid-stand", "humanoid", "stand", |name| load(name, 0.0, false)),
    TaskDef::dmc("humanoid-walk", "humanoid", "walk", |name| load(name, WALK_SPEED, false)),
    TaskDef::dmc("humanoid-run", "humanoid", "run", |name| load(name, RUN_SPEED, false)),
    TaskDef::dmc("humanoid-run-pure-state", "humanoid", "run_pure_state",
        |name| load(name, RUN_SPEED, true)),
];

fn load(name: &str, move_speed: f64, pure_state: bool) -> Result<DmcEnv, EnvError> {
    let physics = Physics::load("humanoid.xml")?;
    let task = Humanoid::new(&physics, move_speed, pure_state)?;
    DmcEnv::with_control_timestep(
        name,
        physics,
        Box::new(task),
        DEFAULT_TIME_LIMIT,
        CONTROL_TIMESTEP,
    )
}

/// Stand (`move_speed == 0`) or move horizontally at `move_speed` while
/// keeping the head high and the torso upright, with a small-control bonus.
pub struct Humanoid {
    move_speed: f64,
    pure_state: bool,
    torso: usize,
    head: usize,
    /// Bodies of the extremities: left hand, left foot, right hand, right foot.
    limbs: [usize; 4],
    com_velocity: usize,
}

impl Humanoid {
    fn new(physics: &Physics, move_speed: f64, pure_state: bool) -> Result<Self, EnvError> {
        let com = physics.sensor_range("torso_subtreelinvel")?;
        if com.len() != 3 {
            return Err(EnvError::Model(
                "sensor 'torso_subtreelinvel' must have 3 values".into(),
            ));
        }
        if physics.nq() < 7 {
            return Err(EnvError::Model(
                "the humanoid must have a free root joint".into(),
            ));
        }
        Ok(Humanoid {
            move_speed,
            pure_state,
            torso: physics.body_id("torso")?,
            head: physics.body_id("head")?,
            limbs: [
                physics.body_id("left_hand")?,
                physics.body_id("left_foot")?,
                physics.body_id("right_hand")?,
                physics.body_id("right_foot")?,
            ],
            com_velocity: com.start,
        })
    }

    fn head_height(&self, physics: &Physics) -> f64 {
        physics.xpos(self.head)[2]
    }

    fn torso_upright(&self, physics: &Physics) -> f64 {
        physics.xmat(self.torso)[mat::ZZ]
    }

    fn center_of_mass_velocity<'a>(&self, physics: &'a Physics) -> &'a [f64] {
        &physics.sensordata()[self.com_velocity..self.com_velocity + 3]
    }
}

/// numpy's float64 `sum` of a contiguous array (pairwise summation with
/// eight accumulators; blocks of at most 128 values).
fn numpy_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        let mut s = -0.0;
        for &x in a {
            s += x;
        }
        s
    } else if n <= 128 {
        let mut r = [0.0; 8];
        r.copy_from_slice(&a[..8]);
        let mut i = 8;
        while i < n - n % 8 {
            for j in 0..8 {
                r[j] += a[i + j];
            }
            i += 8;
        }
        let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &a[i..] {
            s += x;
        }
        s
    } else {
        let half = (n / 2) / 8 * 8;
        numpy_sum(&a[..half]) + numpy_sum(&a[half..])
    }
}

impl Task for Humanoid {
    fn observation_layout(&self) -> ObsLayout {
        if self.pure_state {
            ObsLayout::new(&[("position", 28), ("velocity", 27)])
        } else {
            ObsLayout::new(&[
                ("joint_angles", 21),
                ("head_height", 1),
                ("extremities", 12),
                ("torso_vertical", 3),
                ("com_velocity", 3),
                ("velocity", 27),
            ])
        }
    }

    fn initialize_episode(
        &mut self,
        physics: &mut Physics,
        random: &mut RandomState,
    ) -> Result<(), EnvError> {
        // Find a collision-free random initial configuration.
        for _ in 0..MAX_INIT_ATTEMPTS {
            randomize_limited_and_rotational_joints(physics, random);
            // Warnings are ignored here as in dm_control's reset context.
            let _ = physics.after_reset();
            if physics.data().ncon() == 0 {
                return Ok(());
            }
        }
        Err(EnvError::Invalid(
            "no collision-free initial pose found for the humanoid".into(),
        ))
    }

    fn observation(&self, physics: &Physics, out: &mut [f64]) {
        let mut at = 0;
        if self.pure_state {
            put(out, &mut at, physics.qpos());
            put(out, &mut at, physics.qvel());
            return;
        }
        // Joint angles: the state without the free root joint.
        put(out, &mut at, &physics.qpos()[7..]);
        put(out, &mut at, &[self.head_height(physics)]);
        // Extremities in the torso's egocentric frame: (limb - torso) · R.
        let frame = physics.xmat(self.torso);
        let torso_pos = physics.xpos(self.torso);
        for &limb in &self.limbs {
            let p = physics.xpos(limb);
            let d = [
                p[0] - torso_pos[0],
                p[1] - torso_pos[1],
                p[2] - torso_pos[2],
            ];
            for j in 0..3 {
                out[at + j] = d[0] * frame[j] + d[1] * frame[3 + j] + d[2] * frame[6 + j];
            }
            at += 3;
        }
        put(
            out,
            &mut at,
            &[frame[mat::ZX], frame[mat::ZY], frame[mat::ZZ]],
        );
        put(out, &mut at, self.center_of_mass_velocity(physics));
        put(out, &mut at, physics.qvel());
    }

    fn reward(&self, physics: &Physics) -> f64 {
        let standing = Tolerance::bounds(STAND_HEIGHT, f64::INFINITY)
            .margin(STAND_HEIGHT / 4.0)
            .eval(self.head_height(physics));
        let upright = Tolerance::bounds(0.9, f64::INFINITY)
            .sigmoid(Sigmoid::Linear)
            .margin(1.9)
            .value_at_margin(0.0)
            .eval(self.torso_upright(physics));
        let stand_reward = standing * upright;
        let control = Tolerance::bounds(0.0, 0.0)
            .margin(1.0)
            .value_at_margin(0.0)
            .sigmoid(Sigmoid::Quadratic);
        let ctrl = physics.ctrl();
        let mut values = [0.0; 32];
        let n = ctrl.len().min(values.len());
        for (v, &u) in values.iter_mut().zip(ctrl) {
            *v = control.eval(u);
        }
        let small_control = numpy_sum(&values[..n]) / n as f64;
        let small_control = (4.0 + small_control) / 5.0;
        let com_velocity = self.center_of_mass_velocity(physics);
        let (vx, vy) = (com_velocity[0], com_velocity[1]);
        if self.move_speed == 0.0 {
            let still = Tolerance::bounds(0.0, 0.0).margin(2.0);
            let dont_move = (still.eval(vx) + still.eval(vy)) / 2.0;
            small_control * stand_reward * dont_move
        } else {
            let speed = (vx * vx + vy * vy).sqrt();
            let moving = Tolerance::bounds(self.move_speed, f64::INFINITY)
                .margin(self.move_speed)
                .value_at_margin(0.0)
                .sigmoid(Sigmoid::Linear)
                .eval(speed);
            let moving = (5.0 * moving + 1.0) / 6.0;
            small_control * stand_reward * moving
        }
    }
}
