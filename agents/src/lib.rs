//! ctrlbench agents on libtorch (CUDA when present, CPU otherwise).
//!
//! This crate holds the [`Agent`] trait, the agent registry ([`make`]), the
//! shared [`ReplayBuffer`], and the agents: learning agents (DCWM, SAC, PETS,
//! behavior prior) and the `random` and `scripted` test agents. It links
//! libtorch through `tch`.

pub mod agent;
pub mod buffer;
pub mod device;
pub mod fsq;
pub mod nn;
pub mod registry;
pub mod rng;

// The agents: a module each, and one line each in `AGENTS`.
pub mod bprior;
pub mod dcwm;
pub mod pets;
pub mod random;
pub mod sac;
pub mod scripted;

/// The built-in agents, in listing order (see [`registry`] for agents
/// registered at start-up).
pub static AGENTS: &[AgentEntry] = &[
    AgentEntry::of::<bprior::BPrior>(
        "bprior",
        "behavior prior: actor-critic regularised toward a prior that sees part of the observation (Tirumala et al. 2022)",
    ),
    AgentEntry::of::<dcwm::Dcwm>(
        "dcwm",
        "DCWM / DC-MPC: discrete codebook world model + MPPI planning (Scannell et al. 2025)",
    ),
    AgentEntry::of::<pets::Pets>(
        "pets",
        "PETS: probabilistic ensemble, trajectory sampling and CEM (Chua et al. 2018, as mbrl-lib)",
    ),
    AgentEntry::of::<random::RandomAgent>(
        "random",
        "uniform random actions in [-1, 1] (baseline, test agent)",
    ),
    AgentEntry::of::<sac::Sac>(
        "sac",
        "Soft Actor-Critic with learned temperature (model-free baseline)",
    ),
    AgentEntry::of::<scripted::ScriptedAgent>(
        "scripted",
        "deterministic sinusoid with velocity damping (test agent)",
    ),
];

pub use agent::{Agent, AgentError, AgentInit, EvalSlots, Mode, parse_config};
pub use buffer::{BufferError, ReplayBuffer, SliceBatch, TransitionBatch};
pub use device::{CudaInfo, cuda_info, libtorch_version};
pub use device::{
    DeviceChoice, DeviceError, apply_torch_threads, set_torch_threads, torch_threads,
};
pub use registry::{AgentEntry, NamedAgent, make, register};
pub use rng::Rng;
