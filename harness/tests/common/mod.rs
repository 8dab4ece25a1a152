//! Helpers shared by the harness's integration tests: the `ctrlbench`
//! binary and the reference helpers of the envs tests.
#![allow(dead_code)] // each test binary uses a different subset

use std::process::{Command, Output};

#[path = "../../../envs/tests/common/mod.rs"]
mod envs_common;

#[allow(unused_imports)] // not every test binary uses them
pub use envs_common::*;

/// Runs the `ctrlbench` binary with `args`, logging warnings and errors
/// only.
pub fn ctrlbench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ctrlbench"))
        .args(args)
        .env("CTRLBENCH_LOG", "warn")
        .output()
        .expect("run ctrlbench")
}

/// A command's standard error as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Fails the test with the command's standard error unless it succeeded.
pub fn ok(o: &Output) {
    assert!(o.status.success(), "{}", stderr(o));
}
