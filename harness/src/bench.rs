//! Environment throughput measurements (`ctrlbench bench env`).
//!
//! All three measurements use the same pre-drawn random actions, so random
//! number generation is not timed, and run back to back in one process so
//! their ratios are comparable on a shared machine.

use std::time::Instant;

use anyhow::Result;
use envs::{Env, RandomState, VecEnv};

use crate::run::{AgentEnv, Stepped};

/// Results of one `bench env` run, in control steps per second.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EnvBench {
    /// Task name.
    pub task: String,
    /// Physics steps per control step.
    pub n_sub_steps: usize,
    /// Raw MuJoCo loop: `mj_step` × n_sub_steps per control step.
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
    /// each, no synchronisation), total steps/s.
    pub raw_parallel_steps_per_s: f64,
    /// dm_control's speed on the same task, when measured.
    pub dm_control: Option<DmControlSpeed>,
}

/// dm_control's own throughput (`scripts/dmc_speed.py`), control steps/s.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct DmControlSpeed {
    /// dm_control's `env.step`.
    pub env_step: f64,
    /// A Python `mujoco.mj_step` × n_sub_steps loop.
    pub mj_step: f64,
}

/// Runs `scripts/dmc_speed.py` in the reference venv for the task.
pub fn dm_control_speed(
    task: &str,
    steps: usize,
    repeats: usize,
    seed: u64,
) -> Result<DmControlSpeed> {
    use anyhow::Context;
    let def = envs::find(task)?;
    let python = std::env::var_os("CTRLBENCH_REFERENCE_PYTHON")
        .map(std::path::PathBuf::from)
        .or_else(|| option_env!("CTRLBENCH_REFERENCE_PYTHON").map(std::path::PathBuf::from))
        .filter(|p| p.exists())
        .context("the Python reference environment is missing: run `make setup`")?;
    let script = crate::project_dir().join("scripts/dmc_speed.py");
    let out = std::process::Command::new(python)
        .arg(&script)
        .args(["--domain", def.domain, "--task", def.task])
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
    serde_json::from_slice(&out.stdout).context("reading dmc_speed.py output")
}

impl EnvBench {
    /// env.step over the raw loop.
    pub fn env_over_raw(&self) -> f64 {
        self.env_steps_per_s / self.raw_steps_per_s
    }

    /// VecEnv on `threads` threads over the same VecEnv on one thread.
    pub fn threads_speedup(&self) -> f64 {
        self.vec_steps_per_s / self.vec1_steps_per_s
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

/// Measures the three throughputs for `task`; each is the best of `repeats`.
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
    let mut env = envs::make_raw(task)?;
    let actions = random_actions(&env, 1024, seed);
    let n_sub = env.n_sub_steps();
    let name = env.spec().name.clone();

    let best = |f: &mut dyn FnMut() -> Result<f64>| -> Result<f64> {
        let mut best: f64 = 0.0;
        for _ in 0..repeats.max(1) {
            best = best.max(f()?);
        }
        Ok(best)
    };

    // Raw MuJoCo loop on the task's model, from the task's initial state.
    let raw = best(&mut || {
        env.reset(Some(seed))?;
        let data = env.physics_mut().data_mut();
        let start = Instant::now();
        for i in 0..steps {
            data.ctrl_mut().copy_from_slice(&actions[i % actions.len()]);
            for _ in 0..n_sub {
                data.step();
            }
        }
        Ok(steps as f64 / start.elapsed().as_secs_f64())
    })?;

    // env.step: control, legacy physics step, reward, observation. Resets
    // (some tasks settle the physics for hundreds of steps there) are timed
    // apart and reported per episode.
    let mut obs = vec![0.0; env.spec().obs_dim()];
    let mut reset_s = (0.0, 0usize);
    let single = best(&mut || {
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
    })?;
    let reset_ms = if reset_s.1 > 0 {
        Some(1e3 * reset_s.0 / reset_s.1 as f64)
    } else {
        None
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
    let vec_bench = |t: usize| -> Result<f64> {
        let mut venv = VecEnv::from_fn(n_envs, t, |_| envs::make(task))?;
        best(&mut || {
            venv.reset(Some(seed))?;
            let start = Instant::now();
            for i in 0..per_env {
                venv.step(&batch[i % batch.len()])?;
            }
            Ok((per_env * n_envs) as f64 / start.elapsed().as_secs_f64())
        })
    };
    let vec1 = vec_bench(1)?;
    let vec = vec_bench(threads)?;

    // The machine's parallel limit: independent raw loops on `threads` threads.
    let mut models = (0..threads)
        .map(|_| envs::make_raw(task))
        .collect::<Result<Vec<_>, _>>()?;
    let raw_parallel = best(&mut || {
        let start = Instant::now();
        std::thread::scope(|s| {
            for env in models.iter_mut() {
                let actions = &actions;
                s.spawn(move || {
                    let data = env.physics_mut().data_mut();
                    for i in 0..per_env {
                        data.ctrl_mut().copy_from_slice(&actions[i % actions.len()]);
                        for _ in 0..n_sub {
                            data.step();
                        }
                    }
                });
            }
        });
        Ok((per_env * threads) as f64 / start.elapsed().as_secs_f64())
    })?;

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
        dm_control: None,
    })
}

/// Results of `ctrlbench bench agent`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AgentBench {
    /// Agent name.
    pub agent: String,
    /// Task name.
    pub task: String,
    /// libtorch device used.
    pub device: String,
    /// Median time of one gradient update (ms), if the agent learns.
    pub update_ms: Option<Stats>,
    /// Time of one `act` in training mode (ms): planning for planners.
    pub act_ms: Stats,
    /// Time of one environment step of the protocol env (ms), action repeat included.
    pub env_ms: Stats,
    /// Env steps per second of the measured training loop (act, env step,
    /// buffer, updates at the agent's UTD ratio).
    pub loop_env_steps_per_s: f64,
    /// Gradient updates per agent step in that loop.
    pub updates_per_agent_step: f64,
    /// Env steps per agent step (action repeat).
    pub action_repeat: u64,
}

/// Median and spread of repeated timings, in milliseconds.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Stats {
    /// Median.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
}

impl Stats {
    /// Summarises samples (ms); `samples` must not be empty.
    pub fn of(samples: &mut [f64]) -> Stats {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Stats {
            median: at(0.5),
            p10: at(0.1),
            p90: at(0.9),
        }
    }
}

impl AgentBench {
    /// Hours per 1M env steps projected from the component medians.
    pub fn projected_hours_from_parts(&self) -> f64 {
        let per_agent_step = self.act_ms.median
            + self.env_ms.median
            + self.updates_per_agent_step * self.update_ms.map_or(0.0, |u| u.median);
        1e6 / self.action_repeat as f64 * per_agent_step / 3.6e6
    }

    /// Hours per 1M env steps at the measured training-loop speed.
    pub fn projected_hours_from_loop(&self) -> f64 {
        1e6 / self.loop_env_steps_per_s / 3600.0
    }
}

/// What `bench_agent` measures and how much.
#[derive(Debug, Clone)]
pub struct AgentBenchOptions {
    /// Env steps of uniform random data put in the buffer first.
    pub fill_steps: u64,
    /// Timed gradient updates.
    pub updates: usize,
    /// Timed `act` calls.
    pub acts: usize,
    /// Agent steps of the timed training loop.
    pub loop_steps: usize,
    /// Env steps per agent step; `None`: the suite's protocol.
    pub action_repeat: Option<u64>,
    /// Seed of env, agent and random data.
    pub seed: u64,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Measures an agent's update, act and training-loop speed on a task.
pub fn bench_agent(
    agent_name: &str,
    task: &str,
    agent_config: &serde_yaml::Value,
    device: agents::DeviceChoice,
    opts: &AgentBenchOptions,
) -> Result<AgentBench> {
    use agents::Mode;
    let tch_device = device.resolve()?;
    agents::apply_torch_threads();
    let mut protocol = envs::protocol_of(task)?;
    if let Some(k) = opts.action_repeat {
        protocol = protocol.with_action_repeat(k as usize);
    }
    let mut env = AgentEnv::new(envs::protocol_env(task, opts.seed, protocol)?, agent_name);
    let spec = env.spec().clone();
    let repeat = env.action_repeat();
    let mut agent = agents::make(
        agent_name,
        &spec,
        agent_config,
        tch_device,
        agents::rng::derive_seed(opts.seed, "agent"),
    )?;
    let (obs_dim, act_dim) = (spec.obs_dim(), spec.action_dim());
    let agent_steps = (opts.fill_steps / repeat) as usize + opts.loop_steps + opts.acts + 2;
    let mut buffer = agents::ReplayBuffer::new(obs_dim, act_dim, agent_steps * 2 + 16)?;
    let mut rng = agents::Rng::new(agents::rng::derive_seed(opts.seed, "bench"));
    let mut episode = 0u64;
    let mut reset = |env: &mut AgentEnv, buffer: &mut agents::ReplayBuffer| -> Result<()> {
        env.reset_recorded(opts.seed + episode, buffer)?;
        episode += 1;
        Ok(())
    };
    // One environment step with `action`, recorded in the buffer: whether
    // the episode ended, and the time of the step alone.
    let step = |env: &mut AgentEnv,
                buffer: &mut agents::ReplayBuffer,
                action: &[f32]|
     -> Result<(bool, f64)> {
        let t0 = Instant::now();
        let stepped = env.step(action)?;
        let env_ms = ms(t0);
        match stepped {
            Stepped::Moved(t) => {
                env.record(action, &t, buffer)?;
                Ok((t.done(), env_ms))
            }
            Stepped::Diverged(_) => Ok((true, env_ms)),
        }
    };

    // Random data.
    reset(&mut env, &mut buffer)?;
    for _ in 0..opts.fill_steps / repeat {
        let a = rng.uniform_action(act_dim);
        if step(&mut env, &mut buffer, &a)?.0 {
            reset(&mut env, &mut buffer)?;
        }
    }

    // Updates (two untimed warm-ups).
    let learns = agent.train_step(&buffer)?;
    let update_ms = if learns {
        agent.train_step(&buffer)?;
        let bar = indicatif::ProgressBar::new(opts.updates as u64).with_message("updates");
        let mut t = Vec::with_capacity(opts.updates);
        for _ in 0..opts.updates {
            let t0 = Instant::now();
            agent.train_step(&buffer)?;
            t.push(ms(t0));
            bar.inc(1);
        }
        bar.finish_and_clear();
        Some(Stats::of(&mut t))
    } else {
        None
    };

    // Acting (training mode), on the states it visits.
    agent.begin_episode(Mode::Explore);
    let _ = agent.act(env.obs(), Mode::Explore)?;
    let mut act_t = Vec::with_capacity(opts.acts);
    let mut env_t = Vec::with_capacity(opts.acts);
    for _ in 0..opts.acts {
        let t0 = Instant::now();
        let a = agent.act(env.obs(), Mode::Explore)?;
        act_t.push(ms(t0));
        let (done, e) = step(&mut env, &mut buffer, &a)?;
        env_t.push(e);
        if done {
            reset(&mut env, &mut buffer)?;
            agent.begin_episode(Mode::Explore);
        }
    }

    // The training loop at the agent's UTD ratio.
    let utd = if learns {
        agent.updates_per_agent_step()
    } else {
        0.0
    };
    let mut owed = 0.0f64;
    let t0 = Instant::now();
    for _ in 0..opts.loop_steps {
        let a = agent.act(env.obs(), Mode::Explore)?;
        let (done, _) = step(&mut env, &mut buffer, &a)?;
        owed += utd;
        while owed >= 1.0 {
            agent.train_step(&buffer)?;
            owed -= 1.0;
        }
        if done {
            reset(&mut env, &mut buffer)?;
            agent.begin_episode(Mode::Explore);
        }
    }
    let loop_s = t0.elapsed().as_secs_f64().max(1e-9);
    Ok(AgentBench {
        agent: agent_name.to_string(),
        task: spec.name.clone(),
        device: format!("{tch_device:?}").to_lowercase(),
        update_ms,
        act_ms: Stats::of(&mut act_t),
        env_ms: Stats::of(&mut env_t),
        loop_env_steps_per_s: (opts.loop_steps as u64 * repeat) as f64 / loop_s,
        updates_per_agent_step: utd,
        action_repeat: repeat,
    })
}
