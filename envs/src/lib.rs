//! ctrlbench environments: the DeepMind Control Suite and Meta-World on
//! MuJoCo behind one Gymnasium-style [`Env`] trait.
//!
//! ```no_run
//! use envs::Env;
//! let mut env = envs::benchmark_env("cartpole-swingup", 1)?; // [-1,1] actions, repeat 2, 500 steps
//! let (obs, _info) = env.reset(None)?;
//! let step = env.step(&vec![0.0; env.spec().action_dim()])?;
//! println!("{} obs, reward {}", obs.len(), step.reward);
//! # Ok::<(), envs::EnvError>(())
//! ```
//!
//! Raw tasks ([`make`]) are exactly dm_control's (`suite.load(domain, task,
//! task_kwargs={'random': seed})`): same model, stepping, observation order,
//! reward and discount, and the same initial state for the same seed. Raw
//! Meta-World tasks (`mw-reach`, ...) are metaworld 3.1.1's v3 classes as
//! TD-MPC2 and DCWM build them (see [`metaworld`]).

pub mod dmc;
pub mod env;
pub mod error;
pub mod metaworld;
pub mod mujoco_log;
pub mod numpy;
pub mod pcg64;
pub mod physics;
pub mod registry;
pub mod rng;
pub mod rollout;
pub mod spaces;
pub mod vec_env;
pub mod wrappers;

pub use env::{Env, EnvSpec, Info, MAX_INFO_VALUES, Step, Transition};
pub use error::{EnvError, PhysicsError};
pub use physics::Physics;
pub use registry::{TaskDef, find, list, make, make_raw, protocol_of, tasks};
pub use rng::RandomState;
pub use spaces::{BoxSpace, ObsGroup, ObsLayout};
pub use vec_env::{AutoReset, VecEnv};
pub use wrappers::{
    ActionRepeat, DMC_PROTOCOL, METAWORLD_PROTOCOL, Metric, PROTOCOLS, Protocol, RescaleAction,
    TimeLimit, benchmark_env, protocol_env,
};

/// Version of the MuJoCo library in use (e.g. `"3.17.0"`).
pub fn mujoco_version() -> String {
    // SAFETY: mj_versionString returns a static NUL-terminated string.
    unsafe { std::ffi::CStr::from_ptr(mujoco_rs::mujoco_c::mj_versionString()) }
        .to_string_lossy()
        .into_owned()
}
