//! What each command does.

use anyhow::{Context, Result};

use crate::cli::{BenchCommand, BenchEnvArgs, Cli, Command, EnvCommand, RolloutArgs};
use envs::Env;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Info => info(),
        Command::Envs => list_envs(),
        Command::Env(EnvCommand::Rollout(args)) => rollout(&args),
        Command::Bench(BenchCommand::Env(a)) => bench_env(&a),
        Command::Report(a) => report(&a),
        Command::Export(a) => export(&a),
    }
}

fn info() -> Result<()> {
    let cuda = agents::cuda_info();
    println!("ctrlbench {}", env!("CARGO_PKG_VERSION"));
    println!("MuJoCo          {}", envs::mujoco_version());
    println!("libtorch        {}", agents::libtorch_version());
    println!(
        "CUDA            {} (devices: {}, cuDNN: {})",
        if cuda.available {
            "available"
        } else {
            "not available"
        },
        cuda.device_count,
        cuda.cudnn
    );
    match envs::physics::assets_dir() {
        Ok(d) => println!("dm_control assets {}", d.display()),
        Err(e) => println!("dm_control assets missing: {e}"),
    }
    println!("tasks           {}", envs::list().len());
    Ok(())
}

fn list_envs() -> Result<()> {
    println!(
        "{:<26} {:<28} {:>4} {:>4} {:>6} {:>10}",
        "task", "dm_control", "obs", "act", "steps", "control_dt"
    );
    for def in envs::registry::dmc_tasks() {
        let env = (def.build)().with_context(|| format!("building {}", def.name))?;
        let s = env.spec();
        println!(
            "{:<26} {:<28} {:>4} {:>4} {:>6} {:>10}",
            def.name,
            format!("{}/{}", def.domain, def.task),
            s.obs_dim(),
            s.action_dim(),
            s.max_episode_steps.map_or("-".into(), |n| n.to_string()),
            s.control_timestep
        );
    }
    println!(
        "\nBenchmark protocol (envs::benchmark_env): actions in [-1, 1], action repeat {}, {} agent steps per episode.",
        envs::DMC_PROTOCOL.action_repeat,
        envs::DMC_PROTOCOL.episode_length
    );
    Ok(())
}

fn rollout(a: &RolloutArgs) -> Result<()> {
    let mut env = envs::make_raw(&a.task)?;
    let actions = envs::rollout::read_actions(&a.actions, env.spec().action_dim())?;
    let rows = envs::rollout::rollout(&mut env, a.seed, &actions)?;
    envs::rollout::write_trajectory(&a.out, &rows)?;
    tracing::info!(
        "{} steps of {} written to {}",
        rows.len() - 1,
        a.task,
        a.out.display()
    );
    Ok(())
}

fn report(a: &crate::report::ReportArgs) -> Result<()> {
    let out = crate::report::report(a)?;
    println!(
        "{} evaluation rows -> {}/index.html, summary.csv, profile.csv, figures/{{{}}}.{{png,svg}}",
        out.rows,
        out.dir.display(),
        out.figures.join(",")
    );
    Ok(())
}

fn export(a: &crate::report::ExportArgs) -> Result<()> {
    let rows = crate::report::export(a)?;
    println!("{rows} rows -> {}", a.out.display());
    Ok(())
}

fn bench_env(a: &BenchEnvArgs) -> Result<()> {
    tracing::info!(
        "measuring {} ({} steps, best of {})",
        a.task,
        a.steps,
        a.repeats
    );
    let mut r = crate::bench::bench_env(&a.task, a.steps, a.envs, a.threads, a.repeats, a.seed)?;
    if a.dm_control {
        tracing::info!("measuring dm_control on {}", a.task);
        r.dm_control = Some(crate::bench::dm_control_speed(
            &a.task, a.steps, a.repeats, a.seed,
        )?);
    }
    println!(
        "task              {} (n_sub_steps {})",
        r.task, r.n_sub_steps
    );
    println!("raw mj_step         {:>11.0} steps/s", r.raw_steps_per_s);
    println!(
        "env.step            {:>11.0} steps/s   {:.3}x raw mj_step",
        r.env_steps_per_s,
        r.env_over_raw()
    );
    if let Some(d) = &r.dm_control {
        println!(
            "dm_control env.step {:>11.0} steps/s   ctrlbench is {:.2}x faster",
            d.env_step,
            r.env_steps_per_s / d.env_step
        );
        println!("python mj_step loop {:>11.0} steps/s", d.mj_step);
    }
    println!(
        "VecEnv {}x1 thread   {:>11.0} steps/s",
        r.envs, r.vec1_steps_per_s
    );
    println!(
        "VecEnv {}x{} threads  {:>11.0} steps/s   {:.3}x one thread",
        r.envs,
        r.threads,
        r.vec_steps_per_s,
        r.threads_speedup()
    );
    println!(
        "machine limit       {:>11.0} steps/s   {:.3}x: {} independent raw loops on {} threads",
        r.raw_parallel_steps_per_s,
        r.raw_parallel_steps_per_s / r.raw_steps_per_s,
        r.threads,
        r.threads
    );
    Ok(())
}
