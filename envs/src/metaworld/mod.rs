//! Meta-World v3 (metaworld 3.1.1) on MuJoCo: the Sawyer tasks, one file per
//! family as in metaworld's `envs/`.
//!
//! Contract: a raw task ([`crate::make`]`("mw-reach")`) is metaworld's
//! goal-observable v3 class with its goal unfrozen, as TD-MPC2 and DCWM build
//! it: `reset(Some(s))` equals constructing the class with `seed=s`, calling
//! `np.random.seed(s)`, setting `_freeze_rand_vec = False` and resetting;
//! `reset(None)` continues the same stream, as metaworld's later resets draw
//! from the global NumPy generator. Each environment owns its generator
//! (metaworld's is process-global). A step takes the action as float32 (as
//! both agents' wrappers pass it), moves the mocap by `clip(a, -1, 1) ·
//! 0.01` in float32, drives the gripper with the unclipped fourth value, runs
//! five `mj_step` and an `mj_forward`, and returns the 39-value observation
//! (hand, gripper opening, objects; the previous frame's 18 values; the
//! goal) clipped to the Sawyer's observation bounds, the v2 reward (0..10)
//! and metaworld's seven info values ([`INFO_NAMES`]). Episodes truncate at
//! 500 steps; a step after that is [`crate::EnvError::NeedsReset`]. The
//! reset observation is not clipped and repeats the current frame as the
//! previous one. [`make_benchmark`] gives metaworld's benchmark mode
//! instead (50 fixed task vectors per seed, one chosen at each reset).
//!
//! The shared Sawyer machinery (control, reset, observation) is in
//! `sawyer.rs`, metaworld's `reward_utils` in [`rewards`]; each family file
//! defines its [`Task`]s and a `TASKS` table.

pub mod assembly;
pub mod basketball;
pub mod bin_picking;
pub mod box_close;
pub mod button_press;
pub mod coffee;
pub mod dial_turn;
pub mod door;
pub mod door_lock;
pub mod door_open;
pub mod drawer;
pub mod faucet;
pub mod grasp;
pub mod hammer;
pub mod hand_insert;
pub mod handle_press;
pub mod handle_pull;
pub mod lever_pull;
pub mod peg_insert_side;
pub mod peg_unplug_side;
pub mod pick_out_of_hole;
pub mod pick_place;
pub mod plate_slide;
pub mod push;
pub mod push_back;
pub mod push_wall;
pub mod reach;
pub mod rewards;
mod sawyer;
pub mod shelf_place;
pub mod soccer;
pub mod stick;
pub mod sweep;
pub mod window;

pub use self::sawyer::{BENCHMARK_TASKS, FRAME_SKIP, MetaWorldEnv, Sawyer, assets_dir};
pub use crate::registry::{Source, TaskDef};

use crate::error::EnvError;
use crate::rng::RandomState;

/// metaworld's info keys, in the order of [`crate::Info::values`].
pub const INFO_NAMES: [&str; 7] = [
    "success",
    "near_object",
    "grasp_success",
    "grasp_reward",
    "in_place_reward",
    "obj_to_target",
    "unscaled_reward",
];

/// Raw environment steps per episode (metaworld's `max_path_length`).
pub const MAX_PATH_LENGTH: usize = 500;

/// Every Meta-World task, family by family.
pub fn tasks() -> impl Iterator<Item = &'static TaskDef> {
    [
        reach::TASKS,
        button_press::TASKS,
        handle_press::TASKS,
        handle_pull::TASKS,
        plate_slide::TASKS,
        drawer::TASKS,
        window::TASKS,
        push::TASKS,
        pick_place::TASKS,
        door::TASKS,
        door_open::TASKS,
        door_lock::TASKS,
        faucet::TASKS,
        dial_turn::TASKS,
        lever_pull::TASKS,
        coffee::TASKS,
        push_wall::TASKS,
        push_back::TASKS,
        soccer::TASKS,
        peg_insert_side::TASKS,
        peg_unplug_side::TASKS,
        pick_out_of_hole::TASKS,
        shelf_place::TASKS,
        bin_picking::TASKS,
        basketball::TASKS,
        hand_insert::TASKS,
        assembly::TASKS,
        box_close::TASKS,
        hammer::TASKS,
        stick::TASKS,
        sweep::TASKS,
    ]
    .into_iter()
    .flatten()
}

/// The raw task `name` in metaworld's benchmark mode (one of 50 fixed task
/// vectors per reset, as `gym.make('Meta-World/MT1', env_name=..., seed=s)`;
/// see [`MetaWorldEnv::benchmark_mode`]); an error for a task of another
/// suite.
pub fn make_benchmark(name: &str) -> Result<MetaWorldEnv, EnvError> {
    let def = crate::registry::find(name)?;
    match def.build {
        crate::registry::Build::MetaWorld(build) => Ok(build(def.name)?.benchmark_mode()),
        _ => Err(EnvError::Invalid(format!(
            "{} is not a Meta-World task: it has no benchmark mode",
            def.name
        ))),
    }
}

/// The fixed parameters of a task, from its class's `__init__`.
#[derive(Debug, Clone, Copy)]
pub struct TaskConfig {
    /// Model file under the assets' `sawyer_xyz/`.
    pub model: &'static str,
    /// Where `_reset_hand` holds the mocap, widened from the class's dtype
    /// (several classes store it as float32: see [`f32s`]).
    pub hand_init_pos: [f64; 3],
    /// The mocap's bounds (`mocap_low/high`, else `hand_low/high`).
    pub mocap_low: [f64; 3],
    /// Upper mocap bound.
    pub mocap_high: [f64; 3],
    /// Lower bound of the random reset vector (`_random_reset_space`).
    pub rand_low: &'static [f64],
    /// Upper bound of the random reset vector.
    pub rand_high: &'static [f64],
    /// The goal's bounds (`goal_space`), to which a step's observed goal is
    /// clipped.
    pub goal_low: [f64; 3],
    /// Upper goal bound.
    pub goal_high: [f64; 3],
}

/// A float32 constant as metaworld's float32 arrays hold it, widened.
pub const fn f32s(v: [f32; 3]) -> [f64; 3] {
    [v[0] as f64, v[1] as f64, v[2] as f64]
}

/// What `evaluate_state` returns: the reward and the seven info values.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Evaluation {
    /// The step's reward.
    pub reward: f64,
    /// The info values in [`INFO_NAMES`] order.
    pub info: [f64; 7],
}

/// What a Meta-World task defines on top of the Sawyer.
pub trait Task: Send {
    /// The task's fixed parameters.
    fn config(&self) -> &'static TaskConfig;

    /// Whether a drawn reset vector is kept (`reset_model`'s rejection loop
    /// redraws the whole vector while this is false).
    fn accept(&self, _rand: &[f64]) -> bool {
        true
    }

    /// The model edits `reset_model` makes from the vector (body and site
    /// positions), which persist through `mj_resetData`.
    fn move_model(&self, s: &mut Sawyer, rand: &[f64]);

    /// The rest of `reset_model` after the hand reset and the draw: object
    /// placement and the task's constants, in metaworld's order (calling
    /// [`Task::move_model`] where metaworld edits the model).
    fn place(&mut self, s: &mut Sawyer, rand: &[f64]) -> Result<(), EnvError>;

    /// Object positions and quaternions, in pairs, into the 14 object values
    /// of the observation (`out` is zeroed).
    fn objects(&self, s: &Sawyer, out: &mut [f64]);

    /// The goal position (`_target_pos`).
    fn goal(&self, s: &Sawyer) -> [f64; 3];

    /// `evaluate_state(obs, action)` with the step's clipped observation
    /// and the float32 action.
    fn evaluate(&self, s: &Sawyer, obs: &[f64], action: &[f32; 4]) -> Evaluation;
}

/// `_get_state_rand_vec` with the task's rejection loop: uniform draws from
/// the global-style generator (`np.random.uniform(low, high, size=n)`).
pub(crate) fn draw(task: &dyn Task, random: &mut RandomState) -> Vec<f64> {
    let c = task.config();
    loop {
        let v: Vec<f64> = c
            .rand_low
            .iter()
            .zip(c.rand_high)
            .map(|(&lo, &hi)| random.uniform(lo, hi))
            .collect();
        if task.accept(&v) {
            return v;
        }
    }
}
