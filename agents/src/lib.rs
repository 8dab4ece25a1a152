//! ctrlbench agents on libtorch (CUDA when present, CPU otherwise).
//!
//! This crate holds the [`Agent`] trait, the agent registry ([`make`]), the
//! shared [`ReplayBuffer`], and the agents: learning agents (DCWM, SAC, PETS,
//! behavior prior) and the `random` and `scripted` test agents. It links
//! libtorch through `tch`.

pub mod agent;
pub mod buffer;
pub mod dcwm;
pub mod device;
pub mod fsq;
pub mod nn;
pub mod random;
pub mod registry;
pub mod rng;
pub mod sac;
pub mod scripted;

pub use agent::{Agent, AgentError, AgentInit, Mode, parse_config};
pub use buffer::{BufferError, ReplayBuffer, SliceBatch, TransitionBatch};
pub use device::{CudaInfo, cuda_info, libtorch_version};
pub use device::{
    DeviceChoice, DeviceError, apply_torch_threads, set_torch_threads, torch_threads,
};
pub use registry::{AGENTS, AgentEntry, make};
pub use rng::Rng;
