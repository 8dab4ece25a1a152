//! Build-time check that `make setup` has prepared MuJoCo, libtorch and the
//! dm_control assets (see `build.rs`). The `envs` crate depends on this crate,
//! so the check runs before the build scripts of `mujoco-rs` and `torch-sys`,
//! whose own messages do not mention the setup.
