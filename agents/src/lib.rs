//! ctrlbench agents on libtorch (CUDA when present, CPU otherwise).
//!
//! This crate holds the learning agents (DCWM, SAC, PETS, behavior prior) and
//! their shared building blocks. It links libtorch through `tch`.

pub mod device;
pub mod nn;

pub use device::{CudaInfo, cuda_info, libtorch_version};

pub use device::{DeviceChoice, DeviceError};
