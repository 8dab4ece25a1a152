//! The cost of `VecEnv`'s own machinery per batch step, apart from physics.
//!
//! Steps a batch of compute-only environments (each step spins for a fixed
//! time and touches no memory beyond its observation row) on one thread and
//! on two. Without memory traffic the ideal two-thread speed-up is 2, so
//! `2-thread time − 1-thread time / 2` is what the engine adds per batch
//! step: the barrier, the hand-over of actions and results between the
//! threads' caches. Beside it, the round trip of one cache line between two
//! threads: the floor of any synchronisation on this machine.
//!
//! ```text
//! cargo run --release -p ctrlbench-envs --example vec_env_overhead [-- ENVS [STEPS]]
//! ```
//! Each figure is the best of 5 measurements of STEPS / 10 batch steps
//! (defaults: 8 environments, 20000 steps).

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use envs::spaces::{BoxSpace, ObsLayout};
use envs::vec_env::VecEnv;
use envs::{Env, EnvError, EnvSpec, Info, Transition};

/// An environment whose step spins for `work` and writes its observation.
struct Spin {
    spec: EnvSpec,
    work: Duration,
}

impl Spin {
    fn boxed(work: Duration) -> Box<dyn Env> {
        let spec = EnvSpec {
            name: "spin".into(),
            observation_space: BoxSpace::unbounded(5),
            action_space: BoxSpace::symmetric_unit(1),
            layout: ObsLayout::default(),
            max_episode_steps: None,
            control_timestep: 0.01,
            action_repeat: 1,
            info_names: vec![],
            reward_range: None,
        };
        Box::new(Spin { spec, work })
    }
}

impl Env for Spin {
    fn spec(&self) -> &EnvSpec {
        &self.spec
    }

    fn reset_into(&mut self, _seed: Option<u64>, obs: &mut [f64]) -> Result<Info, EnvError> {
        obs.fill(0.0);
        Ok(Info::default())
    }

    fn step_into(&mut self, action: &[f64], obs: &mut [f64]) -> Result<Transition, EnvError> {
        let start = Instant::now();
        let mut x = action[0];
        while start.elapsed() < self.work {
            x = black_box(x * 1.000_000_1);
        }
        obs.fill(x);
        Ok(Transition {
            reward: x,
            terminated: false,
            truncated: false,
            info: Info::default(),
        })
    }
}

/// The round trip of one cache line between two threads, in µs (the best
/// of 3 runs of 200,000 round trips).
fn cache_line_round_trip() -> f64 {
    let rounds = 200_000u64;
    let best = (0..3).map(|_| {
        let line = Arc::new(AtomicU64::new(0));
        let other = Arc::clone(&line);
        let echo = std::thread::spawn(move || {
            for i in 0..rounds {
                while other.load(Ordering::Acquire) != 2 * i + 1 {
                    std::hint::spin_loop();
                }
                other.store(2 * i + 2, Ordering::Release);
            }
        });
        let start = Instant::now();
        for i in 0..rounds {
            line.store(2 * i + 1, Ordering::Release);
            while line.load(Ordering::Acquire) != 2 * i + 2 {
                std::hint::spin_loop();
            }
        }
        let elapsed = start.elapsed().as_secs_f64();
        echo.join().expect("the echo thread does not panic");
        elapsed / rounds as f64 * 1e6
    });
    best.fold(f64::INFINITY, f64::min)
}

/// µs per batch step of `n` spinning environments on `threads` threads
/// (the best of 5 measurements of `steps` batch steps).
fn batch_step_us(n: usize, threads: usize, work: Duration, steps: usize) -> Result<f64, EnvError> {
    let mut venv = VecEnv::from_fn(n, threads, |_| Ok(Spin::boxed(work)))?;
    venv.reset(Some(0))?;
    let actions = vec![0.5; n];
    let mut best = f64::INFINITY;
    for _ in 0..5 {
        let start = Instant::now();
        for _ in 0..steps {
            venv.step(&actions)?;
        }
        best = best.min(start.elapsed().as_secs_f64() / steps as f64 * 1e6);
    }
    Ok(best)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>());
    let n = args.next().transpose()?.unwrap_or(8).max(2);
    let steps = args.next().transpose()?.unwrap_or(20_000).max(10) / 10;
    println!(
        "cache-line round trip between two threads: {:.2} us",
        cache_line_round_trip()
    );
    println!("{n} environments; per batch step, best of 5:");
    for work_us in [0.0, 1.0, 3.0, 6.0, 12.0] {
        let work = Duration::from_secs_f64(work_us * 1e-6);
        let one = batch_step_us(n, 1, work, steps)?;
        let two = batch_step_us(n, 2, work, steps)?;
        println!(
            "  step work {work_us:4.1} us: 1 thread {one:7.2} us, 2 threads {two:7.2} us, \
             speed-up {:.3}, engine cost {:5.2} us",
            one / two,
            two - one / 2.0
        );
    }
    Ok(())
}
