//! Agent speed measurements (`ctrlbench bench agent`): gradient updates,
//! acting (planning), the training loop at the agent's update-to-data
//! ratio, on a task's protocol environment, and an evaluation played side
//! by side against the same episodes played one at a time.

use std::fmt;
use std::time::Instant;

use anyhow::{Context, Result};

use crate::config::RunConfig;
use crate::run::{AgentEnv, EvalEnvs, Stepped, play_evaluation};

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
    pub update_ms: Option<Timings>,
    /// Time of one `act` in training mode (ms): planning for planners.
    pub act_ms: Timings,
    /// Time of one environment step of the protocol env (ms), action repeat included.
    pub env_ms: Timings,
    /// Env steps per second of the measured training loop (act, env step,
    /// buffer, updates at the agent's UTD ratio).
    pub loop_env_steps_per_s: f64,
    /// Gradient updates per agent step in that loop.
    pub updates_per_agent_step: f64,
    /// Env steps per agent step (action repeat).
    pub action_repeat: u64,
    /// Matrix-multiply GFLOP of one act, where the agent counts them.
    pub act_gflop: Option<f64>,
    /// The machine's f32 matrix-multiply rate on the device, GFLOP/s,
    /// measured in the same run ([`matmul_gflops`]).
    pub matmul_gflops: f64,
    /// The evaluation path, when measured.
    pub eval: Option<EvalTiming>,
}

/// One evaluation of N episodes played side by side (as runs evaluate)
/// against the same N episodes played one at a time, by the trained agent.
#[derive(Debug, Clone, serde::Serialize)]
pub struct EvalTiming {
    /// Episodes of each evaluation.
    pub episodes: usize,
    /// Wall time of the side-by-side evaluation (s).
    pub side_by_side_s: f64,
    /// Wall time of the one-at-a-time evaluation (s).
    pub one_at_a_time_s: f64,
    /// Mean return of each (equal up to floating-point rounding).
    pub returns: [f64; 2],
}

/// Times [`play_evaluation`] of `episodes` episodes on `episodes`
/// environments, then on one.
fn time_evaluation(
    run: &RunConfig,
    agent: &mut dyn agents::Agent,
    episodes: usize,
) -> Result<EvalTiming> {
    let mut timed = |batch: usize| -> Result<(f64, f64)> {
        let mut envs = EvalEnvs::new(run, batch)?;
        let length = envs.spec().max_episode_steps.unwrap_or(0) as u64;
        let bar = indicatif::ProgressBar::new(episodes as u64 * length)
            .with_message(format!("evaluation, {batch} side by side"));
        let t0 = Instant::now();
        let played = play_evaluation(run, agent, &mut envs, 0, episodes, &mut || bar.inc(1))?;
        let s = t0.elapsed().as_secs_f64();
        bar.finish_and_clear();
        Ok((s, played.mean()))
    };
    let (side_by_side_s, a) = timed(episodes)?;
    let (one_at_a_time_s, b) = timed(1)?;
    Ok(EvalTiming {
        episodes,
        side_by_side_s,
        one_at_a_time_s,
        returns: [a, b],
    })
}

pub use agents::device::matmul_gflops;

/// Median and spread of repeated timings, in milliseconds.
#[derive(Debug, Clone, Copy, serde::Serialize)]
pub struct Timings {
    /// Median.
    pub median: f64,
    /// 10th percentile.
    pub p10: f64,
    /// 90th percentile.
    pub p90: f64,
}

impl Timings {
    /// Summarises samples (ms); `samples` must not be empty.
    pub fn of(samples: &mut [f64]) -> Timings {
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        Timings {
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
    /// Episodes of the timed evaluations (0: none).
    pub eval_episodes: usize,
}

fn ms(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e3
}

/// Measures an agent's update, act and training-loop speed on a task.
/// The run `run` gives the agent, its config, the task, the protocol (its
/// action repeat) and the seed of env, agent and random data.
pub fn bench_agent(
    run: &RunConfig,
    device: agents::DeviceChoice,
    opts: &AgentBenchOptions,
) -> Result<AgentBench> {
    use agents::Mode;
    let tch_device = device.resolve()?;
    agents::apply_torch_threads();
    let (agent_name, agent_config) = (run.agent.as_str(), &run.agent_config);
    let seed = run.seed;
    let mut env = AgentEnv::new(
        envs::protocol_env(&run.task, seed, run.protocol()?)?,
        agent_name,
    );
    let spec = env.spec().clone();
    let repeat = env.action_repeat();
    let mut agent = agents::make(
        agent_name,
        &spec,
        agent_config,
        tch_device,
        agents::rng::derive_seed(seed, "agent"),
        0, // the benchmark fills the buffer and learns outside the schedule
    )?;
    let (obs_dim, act_dim) = (spec.obs_dim(), spec.action_dim());
    let agent_steps = (opts.fill_steps / repeat) as usize + opts.loop_steps + opts.acts + 2;
    let mut buffer = agents::ReplayBuffer::new(obs_dim, act_dim, agent_steps * 2 + 16)?;
    let mut rng = agents::Rng::new(agents::rng::derive_seed(seed, "bench"));
    let mut episode = 0u64;
    let mut reset = |env: &mut AgentEnv, buffer: &mut agents::ReplayBuffer| -> Result<()> {
        env.reset_recorded(seed + episode, buffer)?;
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

    // Updates (two untimed warm-ups), outside the agent's own schedule.
    let learns = agent.updates_per_agent_step() > 0.0;
    let update_ms = if learns {
        (agent.learn(&buffer, 2))
            .with_context(|| format!("updating on the {} env steps of --fill", opts.fill_steps))?;
        let bar = indicatif::ProgressBar::new(opts.updates as u64).with_message("updates");
        let mut t = Vec::with_capacity(opts.updates);
        for _ in 0..opts.updates {
            let t0 = Instant::now();
            agent.learn(&buffer, 1)?;
            t.push(ms(t0));
            bar.inc(1);
        }
        bar.finish_and_clear();
        Some(Timings::of(&mut t))
    } else {
        None
    };

    // Acting (training mode), on the states it visits.
    agent.begin_episode(Mode::Explore, 0);
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
            agent.begin_episode(Mode::Explore, 0);
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
        if owed >= 1.0 {
            agent.learn(&buffer, owed as u64)?;
            owed = owed.fract();
        }
        if done {
            reset(&mut env, &mut buffer)?;
            agent.begin_episode(Mode::Explore, 0);
        }
    }
    let loop_s = t0.elapsed().as_secs_f64().max(1e-9);
    let eval = match opts.eval_episodes {
        0 => None,
        n => Some(time_evaluation(run, agent.as_mut(), n)?),
    };
    let matmul = matmul_gflops(tch_device);
    Ok(AgentBench {
        act_gflop: agent.act_flops().map(|f| f / 1e9),
        matmul_gflops: matmul,
        agent: agent_name.to_string(),
        task: spec.name.clone(),
        device: format!("{tch_device:?}").to_lowercase(),
        update_ms,
        act_ms: Timings::of(&mut act_t),
        env_ms: Timings::of(&mut env_t),
        loop_env_steps_per_s: (opts.loop_steps as u64 * repeat) as f64 / loop_s,
        updates_per_agent_step: utd,
        action_repeat: repeat,
        eval,
    })
}

impl fmt::Display for AgentBench {
    /// The table `ctrlbench bench agent` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let r = self;
        let stats = |s: &Timings| {
            format!(
                "{:>10.2} ms median  (p10 {:.2}, p90 {:.2})",
                s.median, s.p10, s.p90
            )
        };
        writeln!(
            f,
            "agent             {} on {} ({})",
            r.agent, r.task, r.device
        )?;
        let threads = match agents::torch_threads() {
            0 => "libtorch default".to_string(),
            n => n.to_string(),
        };
        writeln!(f, "torch threads     {threads}")?;
        match &r.update_ms {
            Some(u) => {
                writeln!(f, "update            {}", stats(u))?;
                writeln!(f, "updates/s         {:>10.1}", 1e3 / u.median)?;
            }
            None => writeln!(f, "update            (agent does not learn)")?,
        }
        writeln!(
            f,
            "act               {}  per agent step ({} env steps)",
            stats(&r.act_ms),
            r.action_repeat
        )?;
        if let Some(g) = r.act_gflop {
            let floor_ms = g / r.matmul_gflops * 1e3;
            writeln!(
                f,
                "act FLOP floor    {:>10.2} ms  ({g:.1} GFLOP per act at the matmul rate of \
                 {:.1} GFLOP/s measured here: the act takes {:.2}x its floor)",
                floor_ms,
                r.matmul_gflops,
                r.act_ms.median / floor_ms
            )?;
        }
        writeln!(f, "env step          {}", stats(&r.env_ms))?;
        writeln!(
            f,
            "training loop     {:>10.1} env steps/s  ({} updates per agent step)",
            r.loop_env_steps_per_s, r.updates_per_agent_step
        )?;
        if let Some(e) = &r.eval {
            writeln!(
                f,
                "evaluation        {:>10.2} s for {n} episodes side by side, {:.2} s one at a \
                 time ({:.2}x; mean returns {:.1} and {:.1})",
                e.side_by_side_s,
                e.one_at_a_time_s,
                e.one_at_a_time_s / e.side_by_side_s.max(1e-9),
                e.returns[0],
                e.returns[1],
                n = e.episodes
            )?;
        }
        writeln!(
            f,
            "per 100k env steps {:>9.2} h at the loop's speed, {:.2} h from the medians",
            r.projected_hours_from_loop() / 10.0,
            r.projected_hours_from_parts() / 10.0
        )?;
        writeln!(
            f,
            "per 1M env steps  {:>10.2} h at the loop's speed, {:.2} h from the medians",
            r.projected_hours_from_loop(),
            r.projected_hours_from_parts()
        )
    }
}
