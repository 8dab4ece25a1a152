//! Benchmarks: `ctrlbench bench env` ([`env`], and EnvPool beside it:
//! [`envpool`]) and `ctrlbench bench agent` ([`agent`]). Each measures the things it compares back to back in one
//! process, so their ratios hold on a shared machine; results print as a
//! table (`Display`) or as one JSON object (`--json`).

pub mod agent;
pub mod env;
pub mod envpool;

pub use agent::{AgentBench, AgentBenchOptions, Timings, bench_agent};
pub use env::{EnvBench, ReferenceSpeed, bench_env, reference_speed};
pub use envpool::{EnvPoolSpeed, envpool_speed};
