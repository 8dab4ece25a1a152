//! metaworld's `SawyerXYZEnv`: the arm, its mocap control, the reset
//! sequence and the observation, shared by every task.
//!
//! Reset, as metaworld 3.1.1 with an unfrozen goal: `reset()` first runs
//! `reset_model()` on the previous episode's data, then `mj_resetData` and
//! `reset_model()` again. The first call's simulation is wiped by the reset,
//! but its draw advances the generator and its model edits (goal sites,
//! object bodies) are still in place while the second call settles the hand.
//! [`MetaWorldEnv`] therefore draws the first vector and applies its model
//! edits, resets the data, then runs the whole second call: the same state
//! as metaworld's, without the first call's 250 physics steps.

use std::path::PathBuf;

use mujoco_rs::prelude::MjtObjBase;

use super::{Evaluation, INFO_NAMES, MAX_PATH_LENGTH, Task, TaskConfig, draw};
use crate::env::{Env, EnvSpec, Info, MAX_INFO_VALUES, Transition, check_action, check_obs_buffer};
use crate::error::EnvError;
use crate::numpy::numpy_norm;
use crate::pcg64::Pcg64;
use crate::physics::Physics;
use crate::rng::RandomState;
use crate::spaces::{BoxSpace, ObsLayout};

/// Environment variable that overrides where the Meta-World assets live.
pub const ASSETS_ENV: &str = "CTRLBENCH_METAWORLD_ASSETS";

/// Physics steps per environment step (metaworld's `frame_skip`).
pub const FRAME_SKIP: usize = 5;
/// Mocap displacement per unit action (`action_scale`), applied in float32.
const ACTION_SCALE: f32 = 0.01;
/// The mocap orientation metaworld writes every step (MuJoCo normalises it).
const MOCAP_QUAT: [f64; 4] = [1.0, 0.0, 1.0, 0.0];
/// The weld row `reset_mocap_welds` writes (anchor, relative pose, torque
/// scale 5); MuJoCo 3.17's twelfth value keeps its compiled default.
const WELD: [f64; 11] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 5.0];
/// Bounds of the observed hand position (`_HAND_SPACE`).
const HAND_LOW: [f64; 3] = [-0.525, 0.348, -0.0525];
const HAND_HIGH: [f64; 3] = [0.525, 1.025, 0.7];
/// Values of one frame: hand (3), gripper opening (1), objects (14).
const FRAME: usize = 18;
/// Observation length: this frame, the previous one, the goal.
pub const OBS_DIM: usize = 2 * FRAME + 3;

/// The directory holding metaworld's `assets/` (`sawyer_xyz/`, `objects/`,
/// `scene/`): `$CTRLBENCH_METAWORLD_ASSETS` if set, else the folder `make
/// setup` prepared for this checkout.
pub fn assets_dir() -> Result<PathBuf, EnvError> {
    let dir = std::env::var_os(ASSETS_ENV)
        .map(PathBuf::from)
        .or_else(|| option_env!("CTRLBENCH_METAWORLD_ASSET_DIR").map(PathBuf::from));
    match dir {
        Some(d) if d.join("sawyer_xyz").is_dir() => Ok(d),
        Some(d) => Err(EnvError::Assets(format!(
            "Meta-World assets not found in {}: run `make setup` (or point {ASSETS_ENV} at metaworld/assets)",
            d.display()
        ))),
        None => Err(EnvError::Assets(format!(
            "Meta-World assets are not configured: run `make setup` (or set {ASSETS_ENV})"
        ))),
    }
}

/// The Sawyer arm in its scene: the simulation and the named parts every
/// task reads.
pub struct Sawyer {
    physics: Physics,
    config: &'static TaskConfig,
    hand: usize,
    right_claw: usize,
    left_claw: usize,
    right_effector: usize,
    left_effector: usize,
    pub(super) left_pad: usize,
    pub(super) right_pad: usize,
    pub(super) left_pad_geom: usize,
    pub(super) right_pad_geom: usize,
    /// The tool centre point when the hand reset finished (`init_tcp`).
    pub init_tcp: [f64; 3],
}

impl Sawyer {
    fn load(config: &'static TaskConfig) -> Result<Self, EnvError> {
        let path = assets_dir()?.join("sawyer_xyz").join(config.model);
        let mut physics = Physics::from_xml_path(&path)?;
        let model = physics.model_mut();
        if model.ffi().nmocap != 1 || model.ffi().nu != 2 {
            return Err(EnvError::Model(format!(
                "{}: expected one mocap body and two gripper actuators",
                path.display()
            )));
        }
        let welds: Vec<bool> = model
            .eq_type()
            .iter()
            .map(|t| *t == mujoco_rs::mujoco_c::mjtEq::mjEQ_WELD)
            .collect();
        // SAFETY: only the values of the weld's data row change.
        for (row, weld) in unsafe { model.eq_data_mut() }.iter_mut().zip(welds) {
            if weld {
                row[..WELD.len()].copy_from_slice(&WELD);
            }
        }
        Ok(Sawyer {
            hand: physics.body_id("hand")?,
            right_claw: physics.body_id("rightclaw")?,
            left_claw: physics.body_id("leftclaw")?,
            right_effector: physics.site_id("rightEndEffector")?,
            left_effector: physics.site_id("leftEndEffector")?,
            left_pad: physics.body_id("leftpad")?,
            right_pad: physics.body_id("rightpad")?,
            left_pad_geom: physics.geom_id("leftpad_geom")?,
            right_pad_geom: physics.geom_id("rightpad_geom")?,
            physics,
            config,
            init_tcp: [0.0; 3],
        })
    }

    /// The task's fixed parameters.
    pub fn config(&self) -> &'static TaskConfig {
        self.config
    }

    /// The simulation.
    pub fn physics(&self) -> &Physics {
        &self.physics
    }

    /// Mutable access to the simulation (model edits at reset).
    pub fn physics_mut(&mut self) -> &mut Physics {
        &mut self.physics
    }

    /// A body's position (`get_body_com` in v3 is `xpos`).
    pub fn body_pos(&self, body: usize) -> [f64; 3] {
        *self.physics.xpos(body)
    }

    /// A site's position.
    pub fn site_pos(&self, site: usize) -> [f64; 3] {
        *self.physics.site_xpos(site)
    }

    /// A body's orientation quaternion (w, x, y, z).
    pub fn body_quat(&self, body: usize) -> [f64; 4] {
        self.physics.data().xquat()[body]
    }

    /// Index of a named body, site or geom.
    pub fn id(&self, kind: MjtObjBase, name: &str) -> Result<usize, EnvError> {
        self.physics
            .model()
            .name_to_id(kind, name)
            .ok_or_else(|| EnvError::Model(format!("the model has no {kind:?} named '{name}'")))
    }

    /// The midpoint of the two finger sites (`tcp_center`).
    pub fn tcp_center(&self) -> [f64; 3] {
        let r = self.site_pos(self.right_effector);
        let l = self.site_pos(self.left_effector);
        [0, 1, 2].map(|i| (r[i] + l[i]) / 2.0)
    }

    /// Sets a model body's position (`model.body(name).pos = p`).
    pub fn set_body_model_pos(&mut self, body: usize, p: [f64; 3]) {
        self.physics.model_mut().body_pos_mut()[body] = p;
    }

    /// Sets a model site's position (`model.site(name).pos = p`).
    pub fn set_site_model_pos(&mut self, site: usize, p: [f64; 3]) {
        self.physics.model_mut().site_pos_mut()[site] = p;
    }

    /// Edits `qpos` and `qvel`, then `mj_forward` (`set_state`).
    pub fn set_state(&mut self, edit: impl FnOnce(&mut [f64], &mut [f64])) -> Result<(), EnvError> {
        let data = self.physics.data_mut();
        let mut qpos = data.qpos().to_vec();
        let mut qvel = data.qvel().to_vec();
        edit(&mut qpos, &mut qvel);
        data.qpos_mut().copy_from_slice(&qpos);
        data.qvel_mut().copy_from_slice(&qvel);
        Ok(self.physics.forward()?)
    }

    /// The base `_set_obj_xyz`: the object's free joint at `qpos[9..12]`,
    /// its six velocities zeroed.
    pub fn set_obj_xyz(&mut self, pos: [f64; 3]) -> Result<(), EnvError> {
        self.set_state(|qpos, qvel| {
            qpos[9..12].copy_from_slice(&pos);
            qvel[9..15].fill(0.0);
        })
    }

    /// `do_simulation([ctrl, -ctrl]...)`: sets the gripper's controls and
    /// takes the physics steps.
    fn simulate(&mut self, ctrl: [f64; 2]) -> Result<(), EnvError> {
        self.physics.data_mut().ctrl_mut().copy_from_slice(&ctrl);
        Ok(self.physics.step_plain(FRAME_SKIP)?)
    }

    /// `_reset_hand`: fifty steps holding the mocap at the initial hand
    /// position with the gripper open, then `init_tcp`.
    pub fn reset_hand(&mut self) -> Result<(), EnvError> {
        for _ in 0..50 {
            let data = self.physics.data_mut();
            data.mocap_pos_mut()[0] = self.config.hand_init_pos;
            data.mocap_quat_mut()[0] = MOCAP_QUAT;
            self.simulate([-1.0, 1.0])?;
        }
        self.init_tcp = self.tcp_center();
        Ok(())
    }

    /// `set_xyz_action`: the mocap moves by the float32 product of the
    /// clipped action and the scale, within the mocap bounds.
    fn set_xyz_action(&mut self, a: &[f32; 4]) {
        let (low, high) = (self.config.mocap_low, self.config.mocap_high);
        let data = self.physics.data_mut();
        let pos = &mut data.mocap_pos_mut()[0];
        for i in 0..3 {
            let delta = a[i].clamp(-1.0, 1.0) * ACTION_SCALE;
            pos[i] = (pos[i] + delta as f64).max(low[i]).min(high[i]);
        }
        data.mocap_quat_mut()[0] = MOCAP_QUAT;
    }

    /// The current frame (`_get_curr_obs_combined_no_goal`).
    fn frame(&self, task: &dyn Task, out: &mut [f64]) {
        out[..3].copy_from_slice(&self.body_pos(self.hand));
        let r = self.body_pos(self.right_claw);
        let l = self.body_pos(self.left_claw);
        let apart = numpy_norm(&[r[0] - l[0], r[1] - l[1], r[2] - l[2]]);
        out[3] = (apart / 0.1).clamp(0.0, 1.0);
        out[4..FRAME].fill(0.0);
        task.objects(self, &mut out[4..FRAME]);
    }
}

/// Where a reset's random vector comes from.
enum Goals {
    /// Fresh draws from the generator at every reset (goal-observable
    /// classes with `_freeze_rand_vec = False`, as TD-MPC2 and DCWM run them).
    Unfrozen,
    /// metaworld's benchmark tasks (`Meta-World/MT1`): 50 vectors drawn once
    /// from `np.random.seed(seed)`, one of them chosen at each reset by
    /// `np_random.choice(50)`.
    Benchmark { tasks: Vec<Vec<f64>>, choice: Pcg64 },
}

/// Tasks per environment in metaworld's benchmarks (`_N_GOALS`).
pub const BENCHMARK_TASKS: usize = 50;

/// A Meta-World task on its Sawyer, behind the [`Env`] interface.
pub struct MetaWorldEnv {
    sawyer: Sawyer,
    task: Box<dyn Task>,
    random: RandomState,
    goals: Goals,
    spec: EnvSpec,
    prev: [f64; FRAME],
    path_length: usize,
    needs_reset: bool,
}

impl MetaWorldEnv {
    /// Loads `config`'s model and builds the task on it.
    pub fn new(
        name: &str,
        config: &'static TaskConfig,
        task: impl FnOnce(&Sawyer) -> Result<Box<dyn Task>, EnvError>,
    ) -> Result<Self, EnvError> {
        let sawyer = Sawyer::load(config)?;
        let task = task(&sawyer)?;
        let control_timestep = sawyer.physics.timestep() * FRAME_SKIP as f64;
        let layout = ObsLayout::new(&[
            ("hand_pos", 3),
            ("gripper_distance", 1),
            ("objects", 14),
            ("prev_hand_pos", 3),
            ("prev_gripper_distance", 1),
            ("prev_objects", 14),
            ("goal", 3),
        ]);
        let spec = EnvSpec {
            name: name.to_string(),
            observation_space: BoxSpace::unbounded(OBS_DIM),
            action_space: BoxSpace::symmetric_unit(4),
            layout,
            max_episode_steps: Some(MAX_PATH_LENGTH),
            control_timestep,
            action_repeat: 1,
            info_names: INFO_NAMES.to_vec(),
            reward_range: Some((0.0, 10.0)),
        };
        Ok(MetaWorldEnv {
            sawyer,
            task,
            random: RandomState::from_entropy(),
            goals: Goals::Unfrozen,
            spec,
            prev: [0.0; FRAME],
            path_length: 0,
            needs_reset: true,
        })
    }

    /// The environment in metaworld's benchmark mode (`gym.make(
    /// 'Meta-World/MT1', env_name=..., seed=s)`): `reset(Some(s))` draws the
    /// 50 task vectors as `_make_tasks` does with seed `s` (two
    /// `reset_model` draws per reset, rejections included, keeping the
    /// second) and seeds the task choice with `s` (`PCG64(SeedSequence(s))`);
    /// every reset then picks one of the 50 with `choice(50)` and resets to
    /// it. Unlike metaworld, which ignores `reset(seed=...)`, a seeded reset
    /// starts again from that seed's tasks and choice stream.
    pub fn benchmark_mode(mut self) -> Self {
        self.goals = Goals::Benchmark {
            tasks: Vec::new(),
            choice: Pcg64::from_seed(0),
        };
        self
    }

    fn seed(&mut self, seed: u64) {
        self.random = RandomState::new(seed);
        if let Goals::Benchmark { tasks, choice } = &mut self.goals {
            *tasks = (0..BENCHMARK_TASKS)
                .map(|_| {
                    draw(&*self.task, &mut self.random);
                    draw(&*self.task, &mut self.random)
                })
                .collect();
            *choice = Pcg64::from_seed(seed);
        }
    }

    /// The two vectors of a reset's two `reset_model` calls.
    fn next_vectors(&mut self) -> (Vec<f64>, Vec<f64>) {
        match &mut self.goals {
            Goals::Unfrozen => {
                let first = draw(&*self.task, &mut self.random);
                (first, draw(&*self.task, &mut self.random))
            }
            Goals::Benchmark { tasks, choice } => {
                let v = tasks[choice.choice(BENCHMARK_TASKS as i64) as usize].clone();
                (v.clone(), v)
            }
        }
    }

    /// The Sawyer and its simulation.
    pub fn sawyer(&self) -> &Sawyer {
        &self.sawyer
    }

    /// Mutable access to the simulation (benchmarks, robustness tests).
    pub fn physics_mut(&mut self) -> &mut Physics {
        &mut self.sawyer.physics
    }

    /// Writes `[this frame, previous frame, goal]` and makes this frame the
    /// previous one.
    fn observe(&mut self, obs: &mut [f64]) {
        let mut frame = [0.0; FRAME];
        self.sawyer.frame(&*self.task, &mut frame);
        obs[..FRAME].copy_from_slice(&frame);
        obs[FRAME..2 * FRAME].copy_from_slice(&self.prev);
        obs[2 * FRAME..].copy_from_slice(&self.task.goal(&self.sawyer));
        self.prev = frame;
    }

    fn reset_episode(&mut self, obs: &mut [f64]) -> Result<(), EnvError> {
        let (first, second) = self.next_vectors();
        // The first reset_model: its model edits.
        self.task.move_model(&mut self.sawyer, &first);
        self.sawyer.physics.reset_data();
        // The second, in full.
        self.sawyer.reset_hand()?;
        self.task.place(&mut self.sawyer, &second)?;
        let mut frame = [0.0; FRAME];
        self.sawyer.frame(&*self.task, &mut frame);
        self.prev = frame;
        self.observe(obs);
        Ok(())
    }
}

/// `np.clip` of a step's observation to the Sawyer's observation space.
fn clip_observation(obs: &mut [f64], config: &TaskConfig) {
    for offset in [0, FRAME] {
        for i in 0..3 {
            obs[offset + i] = obs[offset + i].max(HAND_LOW[i]).min(HAND_HIGH[i]);
        }
        obs[offset + 3] = obs[offset + 3].clamp(-1.0, 1.0);
    }
    for i in 0..3 {
        let g = &mut obs[2 * FRAME + i];
        *g = g.max(config.goal_low[i]).min(config.goal_high[i]);
    }
}

impl Env for MetaWorldEnv {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset_into(&mut self, seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        check_obs_buffer(&self.spec, obs)?;
        self.needs_reset = true;
        if let Some(seed) = seed {
            self.seed(seed);
        } else if matches!(&self.goals, Goals::Benchmark { tasks, .. } if tasks.is_empty()) {
            let seed = self.random.next_u32() as u64;
            self.seed(seed);
        }
        self.path_length = 0;
        self.reset_episode(obs)?;
        self.needs_reset = false;
        Ok(Info::default())
    }

    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        if self.needs_reset {
            return Err(EnvError::NeedsReset);
        }
        check_action(&self.spec, action)?;
        check_obs_buffer(&self.spec, obs)?;
        let a: [f32; 4] = [0, 1, 2, 3].map(|i| action[i] as f32);
        self.sawyer.set_xyz_action(&a);
        let grip = a[3] as f64;
        if let Err(e) = self.sawyer.simulate([grip, -grip]) {
            self.needs_reset = true;
            return Err(e);
        }
        self.path_length += 1;
        if let Err(e) = self.sawyer.physics.forward() {
            self.needs_reset = true;
            return Err(e.into());
        }
        self.observe(obs);
        clip_observation(obs, self.sawyer.config);
        let Evaluation { reward, info } = self.task.evaluate(&self.sawyer, obs, &a);
        let truncated = self.path_length == MAX_PATH_LENGTH;
        self.needs_reset = truncated;
        let mut values = [f64::NAN; MAX_INFO_VALUES];
        values[..info.len()].copy_from_slice(&info);
        Ok(Transition {
            reward,
            terminated: false,
            truncated,
            info: Info {
                discount: 1.0,
                success: Some(info[0] != 0.0),
                values,
            },
        })
    }
}
