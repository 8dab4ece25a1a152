//! Environment throughput measurements (`ctrlbench bench env`).
//!
//! All measurements use the same pre-drawn random actions, so random
//! number generation is not timed, and run in one process, in rounds of
//! one repeat of each; each figure is the median of `repeats` repeats. Each
//! ratio is taken within a round and then the median over the rounds, so
//! that a shared machine's speed drifting between rounds (a neighbour
//! taking the second core for a while) cancels out of it. The raw loop is the
//! least a step can do on the task's model: dm_control's `n_sub_steps`
//! `mj_step`s; for Meta-World the mocap move, five `mj_step`s and the
//! `mj_forward` the observation needs.
//!
//! The machine's parallel limit is `threads` raw loops side by side, each
//! doing one VecEnv thread's share of the steps: with one model each (what
//! the hardware reaches at best), and with a VecEnv thread's slice of
//! models each, stepped in turn (the same memory footprint as the VecEnv,
//! so what remains between the two is the engine's own cost).

use std::fmt;
use std::time::Instant;

use anyhow::Result;
use envs::{Env, RandomState, VecEnv};

use super::envpool::EnvPoolSpeed;
use crate::report::stats::median;

/// Results of one `bench env` run, in control steps per second.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvBench {
    /// Task name.
    pub task: String,
    /// Physics steps per control step.
    pub n_sub_steps: usize,
    /// Raw MuJoCo loop: `mj_step` × n_sub_steps per control step (and the
    /// mocap move and `mj_forward` for Meta-World).
    pub raw_steps_per_s: f64,
    /// The raw task's `env.step` (observation + reward; resets excluded).
    pub env_steps_per_s: f64,
    /// Mean time of one `reset` in milliseconds, when an episode ended.
    pub reset_ms: Option<f64>,
    /// VecEnv of `envs` environments on one thread, total steps/s.
    pub vec1_steps_per_s: f64,
    /// The same VecEnv on `threads` threads, total steps/s.
    pub vec_steps_per_s: f64,
    /// Environments in the VecEnv.
    pub envs: usize,
    /// Threads of the parallel VecEnv measurement.
    pub threads: usize,
    /// The machine's own limit: `threads` independent raw loops (one model
    /// each, no synchronisation, each doing one VecEnv thread's share of
    /// the steps), total steps/s.
    pub raw_parallel_steps_per_s: f64,
    /// The same with VecEnv's memory footprint: `threads` raw loops, each
    /// stepping `envs / threads` models in turn, total steps/s.
    pub raw_slices_steps_per_s: f64,
    /// The ratios, each the median over the rounds of its value within a
    /// round.
    pub ratios: Ratios,
    /// The reference implementation's speed on the same task (dm_control's
    /// or metaworld's), when measured.
    pub reference: Option<ReferenceSpeed>,
    /// EnvPool's pool of the same size on the same task, when measured.
    pub envpool: Option<EnvPoolSpeed>,
}

/// The Python reference's own throughput (`scripts/dmc_speed.py`,
/// `scripts/metaworld_speed.py`), control steps/s.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct ReferenceSpeed {
    /// Which reference (`dm_control 1.0.50`, `metaworld 3.1.1`).
    #[serde(default)]
    pub name: String,
    /// The reference's `env.step` (resets excluded).
    pub env_step: f64,
    /// A Python loop of the same raw physics steps.
    pub mj_step: f64,
    /// Mean time of one reset in milliseconds, when measured.
    #[serde(default)]
    pub reset_ms: Option<f64>,
}

/// Runs the task's reference speed script (dm_control's or metaworld's) in
/// the reference venv.
pub fn reference_speed(
    task: &str,
    steps: usize,
    repeats: usize,
    seed: u64,
) -> Result<ReferenceSpeed> {
    use anyhow::Context;
    let def = envs::find(task)?;
    let (script, name, task_args) = match def.source {
        envs::registry::Source::DmControl => (
            "scripts/dmc_speed.py",
            "dm_control",
            vec!["--domain", def.domain, "--task", def.task],
        ),
        envs::registry::Source::MetaWorld => (
            "scripts/metaworld_speed.py",
            "metaworld",
            vec!["--task", def.task],
        ),
        envs::registry::Source::TdMpc2 => {
            anyhow::bail!(
                "{task} is one of TD-MPC2's tasks: it has no installable reference to time"
            )
        }
        envs::registry::Source::Ctrlbench => {
            anyhow::bail!("{task} is defined by ctrlbench itself: it has no reference to time")
        }
    };
    let python = std::env::var_os("CTRLBENCH_REFERENCE_PYTHON")
        .map(std::path::PathBuf::from)
        .or_else(|| option_env!("CTRLBENCH_REFERENCE_PYTHON").map(std::path::PathBuf::from))
        .filter(|p| p.exists())
        .context("the Python reference environment is missing: run `make setup`")?;
    let script = crate::project_dir().join(script);
    let out = std::process::Command::new(python)
        .arg(&script)
        .args(task_args)
        .args([
            "--steps",
            &steps.to_string(),
            "--repeats",
            &repeats.to_string(),
            "--seed",
            &seed.to_string(),
        ])
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let mut speed: ReferenceSpeed = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("reading {} output", script.display()))?;
    speed.name = name.to_string();
    Ok(speed)
}

/// A raw task with access to its physics, for the raw loops.
enum RawTask {
    Dmc(Box<envs::dmc::DmcEnv>),
    MetaWorld(Box<envs::metaworld::MetaWorldEnv>),
}

impl RawTask {
    fn make(task: &str) -> Result<Self> {
        let def = envs::find(task)?;
        Ok(match def.build {
            envs::registry::Build::Dmc(build) => RawTask::Dmc(Box::new(build(def.name)?)),
            envs::registry::Build::MetaWorld(build) => {
                RawTask::MetaWorld(Box::new(build(def.name)?))
            }
            envs::registry::Build::Env(_) => {
                anyhow::bail!("{task} has no raw physics loop to compare with")
            }
        })
    }

    fn env(&mut self) -> &mut dyn Env {
        match self {
            RawTask::Dmc(e) => e.as_mut(),
            RawTask::MetaWorld(e) => e.as_mut(),
        }
    }

    /// Physics steps per control step.
    fn n_sub_steps(&self) -> usize {
        match self {
            RawTask::Dmc(e) => e.n_sub_steps(),
            RawTask::MetaWorld(_) => envs::metaworld::FRAME_SKIP,
        }
    }

    /// One control step of bare physics: the controls, the physics steps
    /// (and for Meta-World the mocap move and the forward).
    fn raw_step(&mut self, action: &[f64]) {
        match self {
            RawTask::Dmc(e) => {
                let n = e.n_sub_steps();
                let data = e.physics_mut().data_mut();
                data.ctrl_mut().copy_from_slice(action);
                for _ in 0..n {
                    data.step();
                }
            }
            RawTask::MetaWorld(e) => {
                let config = e.sawyer().config();
                let data = e.physics_mut().data_mut();
                let mocap = &mut data.mocap_pos_mut()[0];
                for i in 0..3 {
                    mocap[i] = (mocap[i] + action[i] * 0.01)
                        .clamp(config.mocap_low[i], config.mocap_high[i]);
                }
                data.ctrl_mut().copy_from_slice(&[action[3], -action[3]]);
                for _ in 0..envs::metaworld::FRAME_SKIP {
                    data.step();
                }
                data.forward();
            }
        }
    }
}

/// Ratios between the measurements of a round (see the module
/// documentation).
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Ratios {
    /// env.step over the raw loop.
    pub env_over_raw: f64,
    /// VecEnv on `threads` threads over the same VecEnv on one thread.
    pub threads_speedup: f64,
    /// The machine's own speed-up: its parallel raw loops over one raw loop.
    pub machine_speedup: f64,
    /// The same with VecEnv's footprint: the parallel raw loops over the
    /// models of a VecEnv thread's slice, over one raw loop.
    pub footprint_speedup: f64,
    /// VecEnv's speed-up over the machine's.
    pub share_of_limit: f64,
    /// VecEnv's speed-up over the same footprint's.
    pub share_of_footprint: f64,
}

impl Ratios {
    /// The ratios of one round's steps/s: raw loop, env.step, VecEnv on one
    /// thread and on K, K raw loops of one model and of a slice each.
    fn of_round([raw, single, vec1, vec, parallel, slices]: [f64; 6]) -> Self {
        let threads_speedup = vec / vec1;
        Ratios {
            env_over_raw: single / raw,
            threads_speedup,
            machine_speedup: parallel / raw,
            footprint_speedup: slices / raw,
            share_of_limit: threads_speedup * raw / parallel,
            share_of_footprint: threads_speedup * raw / slices,
        }
    }

    /// The median of each ratio over `rounds`.
    fn median(rounds: &[Ratios]) -> Self {
        let m = |f: fn(&Ratios) -> f64| median(&rounds.iter().map(f).collect::<Vec<_>>());
        Ratios {
            env_over_raw: m(|r| r.env_over_raw),
            threads_speedup: m(|r| r.threads_speedup),
            machine_speedup: m(|r| r.machine_speedup),
            footprint_speedup: m(|r| r.footprint_speedup),
            share_of_limit: m(|r| r.share_of_limit),
            share_of_footprint: m(|r| r.share_of_footprint),
        }
    }
}

/// Random actions inside the task's bounds (unbounded dimensions use [-1, 1]).
fn random_actions(env: &dyn Env, n: usize, seed: u64) -> Vec<Vec<f64>> {
    let space = &env.spec().action_space;
    let mut r = RandomState::new(seed);
    (0..n)
        .map(|_| {
            space
                .low
                .iter()
                .zip(&space.high)
                .map(|(&lo, &hi)| {
                    let (lo, hi) = if lo.is_finite() && hi.is_finite() {
                        (lo, hi)
                    } else {
                        (-1.0, 1.0)
                    };
                    r.uniform(lo, hi)
                })
                .collect()
        })
        .collect()
}

/// Raw MuJoCo steps/s of `models` (copies of one task) stepped in turn, as
/// a VecEnv thread steps its slice, for `rounds` rounds (`rounds × models`
/// steps) from the task's initial state: `ready` runs after the first
/// reset, then the clock starts; episodes restart every `episode` rounds
/// (resets untimed), as env.step's do, so both loops simulate the same kind
/// of states.
fn raw_loop(
    models: &mut [RawTask],
    actions: &[Vec<f64>],
    rounds: usize,
    episode: usize,
    seed: u64,
    ready: impl FnOnce(),
) -> Result<f64> {
    let reset_all = |models: &mut [RawTask], seed: Option<u64>| -> Result<()> {
        for m in models.iter_mut() {
            m.env().reset(seed)?;
        }
        Ok(())
    };
    // `ready` runs even when the reset fails, so no barrier waits forever.
    let reset = reset_all(models, Some(seed));
    ready();
    reset?;
    let mut timed = 0.0;
    let mut start = Instant::now();
    for r in 0..rounds {
        if r > 0 && r % episode == 0 {
            timed += start.elapsed().as_secs_f64();
            reset_all(models, None)?;
            start = Instant::now();
        }
        for (k, m) in models.iter_mut().enumerate() {
            m.raw_step(&actions[(r + k) % actions.len()]);
        }
    }
    timed += start.elapsed().as_secs_f64();
    Ok((rounds * models.len()) as f64 / timed)
}

/// `threads` raw loops side by side, each over its own models (see
/// [`raw_loop`]) for `rounds` rounds; the sum of their steps/s. Each thread
/// times its own loop from a common start (a barrier), so thread start-up
/// is not timed and the threads run side by side on their cores before the
/// clock starts.
fn raw_loops_in_parallel(
    slices: &mut [Vec<RawTask>],
    actions: &[Vec<f64>],
    rounds: usize,
    episode: usize,
    seed: u64,
) -> Result<f64> {
    let barrier = std::sync::Barrier::new(slices.len());
    let rates = std::thread::scope(|s| {
        let loops: Vec<_> = slices
            .iter_mut()
            .map(|models| {
                let barrier = &barrier;
                s.spawn(move || {
                    raw_loop(models, actions, rounds, episode, seed, || {
                        barrier.wait();
                    })
                })
            })
            .collect();
        loops
            .into_iter()
            .map(|l| {
                l.join()
                    .map_err(|_| anyhow::anyhow!("a raw loop panicked"))?
            })
            .collect::<Result<Vec<f64>>>()
    })?;
    Ok(rates.iter().sum())
}

/// Measures the throughputs for `task`; each is the median of `repeats`.
pub fn bench_env(
    task: &str,
    steps: usize,
    n_envs: usize,
    threads: usize,
    repeats: usize,
    seed: u64,
) -> Result<EnvBench> {
    let steps = steps.max(1);
    let threads = threads.max(1);
    let n_envs = n_envs.max(1);
    let mut raw_task = RawTask::make(task)?;
    let actions = random_actions(raw_task.env(), 1024, seed);
    let n_sub = raw_task.n_sub_steps();
    let name = raw_task.env().spec().name.clone();

    // Raw MuJoCo loop on the task's model, from the task's initial state.
    // Episodes restart as env.step's do (resets untimed), so both loops
    // simulate the same kind of states.
    let episode = raw_task
        .env()
        .spec()
        .max_episode_steps
        .unwrap_or(usize::MAX);
    let raw = || {
        let models = std::slice::from_mut(&mut raw_task);
        raw_loop(models, &actions, steps, episode, seed, || ())
    };

    // env.step: control, legacy physics step, reward, observation. Resets
    // (some tasks settle the physics for hundreds of steps there) are timed
    // apart and reported per episode.
    let mut env_task = RawTask::make(task)?;
    let env = env_task.env();
    let mut obs = vec![0.0; env.spec().obs_dim()];
    let mut reset_s = (0.0, 0usize);
    let single = || -> Result<f64> {
        env.reset_into(Some(seed), &mut obs)?;
        let (mut in_resets, mut resets) = (0.0, 0usize);
        let start = Instant::now();
        for i in 0..steps {
            let t = env.step_into(&actions[i % actions.len()], &mut obs)?;
            if t.done() {
                let r = Instant::now();
                env.reset_into(None, &mut obs)?;
                in_resets += r.elapsed().as_secs_f64();
                resets += 1;
            }
        }
        let total = start.elapsed().as_secs_f64();
        if resets > 0 {
            reset_s = (in_resets, resets);
        }
        Ok(steps as f64 / (total - in_resets))
    };

    // VecEnv of n_envs environments (autoreset), on one thread and on `threads`.
    // Each environment does steps / n_envs steps, so the total work equals the
    // single-environment measurement.
    let per_env = steps.div_ceil(n_envs);
    let batch: Vec<Vec<f64>> = (0..actions.len())
        .map(|i| {
            (0..n_envs)
                .flat_map(|k| actions[(i + k) % actions.len()].clone())
                .collect()
        })
        .collect();
    let vec_bench = |mut venv: VecEnv| {
        let batch = &batch;
        move || -> Result<f64> {
            venv.reset(Some(seed))?;
            let start = Instant::now();
            for i in 0..per_env {
                venv.step(&batch[i % batch.len()])?;
            }
            Ok((per_env * n_envs) as f64 / start.elapsed().as_secs_f64())
        }
    };
    let vec1 = vec_bench(VecEnv::from_fn(n_envs, 1, |_| envs::make(task))?);
    let vec = vec_bench(VecEnv::from_fn(n_envs, threads, |_| envs::make(task))?);

    // The machine's parallel limit: independent raw loops on `threads`
    // threads, one model each, each doing the work of one VecEnv thread
    // (steps / threads steps, episodes restarted as in the raw loop).
    let mut singles = (0..threads)
        .map(|_| Ok(vec![RawTask::make(task)?]))
        .collect::<Result<Vec<_>>>()?;
    let per_thread = steps.div_ceil(threads);
    let raw_parallel = || raw_loops_in_parallel(&mut singles, &actions, per_thread, episode, seed);
    // The same loops with VecEnv's memory footprint: each thread steps a
    // VecEnv thread's slice of the environments' models in turn.
    let slice = n_envs.div_ceil(threads);
    let mut slices = (0..threads)
        .map(|_| (0..slice).map(|_| RawTask::make(task)).collect())
        .collect::<Result<Vec<Vec<_>>>>()?;
    let raw_slices = || raw_loops_in_parallel(&mut slices, &actions, per_env, episode, seed);

    // Repeats in rounds, one of each measurement per round, so that all
    // six see the same machine (a shared machine's second core comes and
    // goes); each figure is the median of its repeats.
    let mut measures: [Box<dyn FnMut() -> Result<f64> + '_>; 6] = [
        Box::new(raw),
        Box::new(single),
        Box::new(vec1),
        Box::new(vec),
        Box::new(raw_parallel),
        Box::new(raw_slices),
    ];
    let mut rounds = Vec::with_capacity(repeats.max(1));
    for _ in 0..repeats.max(1) {
        let mut round = [0.0; 6];
        for (m, out) in measures.iter_mut().zip(round.iter_mut()) {
            *out = m()?;
        }
        rounds.push(round);
    }
    drop(measures);
    let ratios = Ratios::median(
        &rounds
            .iter()
            .copied()
            .map(Ratios::of_round)
            .collect::<Vec<_>>(),
    );
    let [raw, single, vec1, vec, raw_parallel, raw_slices] =
        std::array::from_fn(|k| median(&rounds.iter().map(|r| r[k]).collect::<Vec<_>>()));
    let reset_ms = if reset_s.1 > 0 {
        Some(1e3 * reset_s.0 / reset_s.1 as f64)
    } else {
        None
    };

    Ok(EnvBench {
        task: name,
        n_sub_steps: n_sub,
        raw_steps_per_s: raw,
        env_steps_per_s: single,
        reset_ms,
        vec1_steps_per_s: vec1,
        vec_steps_per_s: vec,
        envs: n_envs,
        threads,
        raw_parallel_steps_per_s: raw_parallel,
        raw_slices_steps_per_s: raw_slices,
        ratios,
        reference: None,
        envpool: None,
    })
}

impl fmt::Display for EnvBench {
    /// The table `ctrlbench bench env` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self;
        let q = &r.ratios;
        writeln!(
            f,
            "task              {} (n_sub_steps {})",
            r.task, r.n_sub_steps
        )?;
        writeln!(f, "raw mj_step         {:>11.0} steps/s", r.raw_steps_per_s)?;
        writeln!(
            f,
            "env.step            {:>11.0} steps/s   {:.3}x raw mj_step",
            r.env_steps_per_s, q.env_over_raw
        )?;
        if let Some(ms) = r.reset_ms {
            writeln!(
                f,
                "reset               {ms:>11.3} ms per episode (not in env.step)"
            )?;
        }
        if let Some(d) = &r.reference {
            writeln!(
                f,
                "{:<19} {:>11.0} steps/s   ctrlbench is {:.2}x faster",
                format!("{} env.step", d.name),
                d.env_step,
                r.env_steps_per_s / d.env_step
            )?;
            writeln!(f, "python raw loop     {:>11.0} steps/s", d.mj_step)?;
            if let Some(ms) = d.reset_ms {
                writeln!(f, "{:<19} {ms:>11.3} ms", format!("{} reset", d.name))?;
            }
        }
        writeln!(
            f,
            "VecEnv {}x1 thread   {:>11.0} steps/s",
            r.envs, r.vec1_steps_per_s
        )?;
        writeln!(
            f,
            "VecEnv {}x{} threads  {:>11.0} steps/s   {:.3}x one thread",
            r.envs, r.threads, r.vec_steps_per_s, q.threads_speedup
        )?;
        writeln!(
            f,
            "machine limit       {:>11.0} steps/s   {:.3}x: {} independent raw loops on {} threads",
            r.raw_parallel_steps_per_s, q.machine_speedup, r.threads, r.threads
        )?;
        writeln!(
            f,
            "  same footprint    {:>11.0} steps/s   {:.3}x: {} raw loops over {} models each, as VecEnv's threads",
            r.raw_slices_steps_per_s,
            q.footprint_speedup,
            r.threads,
            r.envs.div_ceil(r.threads)
        )?;
        writeln!(
            f,
            "share of the limit  {:>11.3}         VecEnv's speed-up over the machine's ({:.3} over the same footprint's)",
            q.share_of_limit, q.share_of_footprint
        )?;
        if let Some(p) = &r.envpool {
            writeln!(
                f,
                "{:<19} {:>11.0} steps/s   ctrlbench's VecEnv is {:.2}x EnvPool ({}, {} envs x {} threads, Python call per batch)",
                format!("EnvPool {}", p.envpool),
                p.steps_per_s,
                r.vec_steps_per_s / p.steps_per_s,
                p.task_id,
                p.envs,
                p.threads
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ratios_are_taken_within_rounds() {
        // Steps/s of raw, env.step, VecEnv 1 and 2 threads, parallel raw
        // loops, slices: the machine runs at full speed in the first round,
        // at a third in the second, and its second core is gone for the
        // measurements after VecEnv's in the third.
        let full = [100.0, 90.0, 80.0, 152.0, 190.0, 180.0];
        let slow = full.map(|v| v / 3.0);
        let mut lost = full;
        lost[4] = 100.0;
        lost[5] = 95.0;
        let rounds: Vec<Ratios> = [full, slow, lost].map(Ratios::of_round).into();
        let r = Ratios::median(&rounds);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12;
        assert!(close(r.env_over_raw, 0.9));
        assert!(close(r.threads_speedup, 1.9));
        assert!(close(r.machine_speedup, 1.9));
        assert!(close(r.footprint_speedup, 1.8));
        assert!(close(r.share_of_limit, 1.0));
        // (From medians of the steps/s themselves, the parallel loops' would
        // be the third round's 100 and the share 1.9.)
        assert!(close(r.share_of_footprint, 1.9 / 1.8));
    }
}
