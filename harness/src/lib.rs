//! The ctrlbench harness: the `ctrlbench` command line and what it runs.

pub mod bench;
pub mod cli;
pub mod commands;
