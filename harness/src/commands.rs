//! What each command does.

use anyhow::{Context, Result};

use crate::cli::{
    BenchAgentArgs, BenchCommand, BenchEnvArgs, Cli, Command, EnvCommand, EvaluateArgs, PlayArgs,
    RolloutArgs, SlurmArgs, SweepArgs, TrainArgs,
};
use envs::Env;

/// Runs a parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    agents::set_torch_threads(cli.torch_threads);
    match cli.command {
        Command::Info => info(),
        Command::Envs => list_envs(),
        Command::Env(EnvCommand::Rollout(args)) => rollout(&args),
        Command::Bench(BenchCommand::Env(a)) => bench_env(&a),
        Command::Bench(BenchCommand::Agent(a)) => bench_agent(&a),
        Command::Agents => list_agents(),
        Command::Train(a) => train(&a),
        Command::Sweep(a) => sweep(&a),
        Command::Evaluate(a) => evaluate(&a),
        Command::Play(a) => play(&a),
        Command::Slurm(a) => slurm(&a),
        Command::Report(a) => report(&a),
        Command::Export(a) => export(&a),
        Command::Visits(a) => crate::report::visits::run(&a),
        Command::Reproduce(a) => crate::reproduce::reproduce(&a),
        Command::DcwmReplay(a) => agents::dcwm::official::replay(&a.dir)
            .with_context(|| format!("replaying {}", a.dir.display())),
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
    match envs::metaworld::assets_dir() {
        Ok(d) => println!("Meta-World assets {}", d.display()),
        Err(e) => println!("Meta-World assets missing: {e}"),
    }
    println!("tasks           {}", envs::list().len());
    Ok(())
}

fn list_envs() -> Result<()> {
    println!(
        "{:<30} {:<32} {:>4} {:>4} {:>6} {:>10}",
        "task", "suite task", "obs", "act", "steps", "control_dt"
    );
    for def in envs::registry::tasks() {
        let env = def
            .make()
            .with_context(|| format!("building {}", def.name))?;
        let s = env.spec();
        println!(
            "{:<30} {:<32} {:>4} {:>4} {:>6} {:>10}",
            def.name,
            match def.source {
                envs::registry::Source::MetaWorld => format!("Meta-World/{}-v3", def.task),
                _ => format!("{}/{}", def.domain, def.task),
            },
            s.obs_dim(),
            s.action_dim(),
            s.max_episode_steps.map_or("-".into(), |n| n.to_string()),
            s.control_timestep
        );
    }
    for p in envs::PROTOCOLS {
        println!(
            "\nBenchmark protocol of suite '{}' (envs::benchmark_env): actions in [-1, 1], action repeat {} \
             (run setting action_repeat), {} env steps = {} agent steps per episode, score: {:?}.",
            p.suite,
            p.action_repeat,
            p.episode_env_steps,
            p.episode_length(),
            p.metric
        );
    }
    Ok(())
}

fn rollout(a: &RolloutArgs) -> Result<()> {
    let mut env = if a.benchmark_mode {
        Box::new(envs::metaworld::make_benchmark(&a.task)?)
    } else {
        envs::make(&a.task)?
    };
    let actions = envs::rollout::read_actions(&a.actions, env.spec().action_dim())?;
    let rows = envs::rollout::rollout(&mut *env, a.seed, &actions)?;
    envs::rollout::write_trajectory(&a.out, &env.spec().info_names, &rows)?;
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
        "{} evaluation rows -> {}/index.html, summary.csv, profile.csv, runs.csv, figures/{{{}}}.{{png,svg}}",
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
        "measuring {} ({} steps, median of {})",
        a.task,
        a.steps,
        a.repeats
    );
    let mut r = crate::bench::bench_env(&a.task, a.steps, a.envs, a.threads, a.repeats, a.seed)?;
    if a.dm_control || a.metaworld {
        tracing::info!("measuring the Python reference on {}", a.task);
        r.reference = Some(crate::bench::reference_speed(
            &a.task, a.steps, a.repeats, a.seed,
        )?);
    }
    if a.envpool {
        tracing::info!("measuring EnvPool on {}", a.task);
        r.envpool = Some(crate::bench::envpool_speed(
            &a.task, a.envs, a.threads, a.steps, a.repeats, a.seed,
        )?);
    }
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    print!("{r}");
    Ok(())
}

fn bench_agent(a: &BenchAgentArgs) -> Result<()> {
    let device = a.device;
    let run = crate::config::single_run(&a.agent, &a.task, a.seed, 0, &parse_overrides(&a.set)?)?;
    let opts = crate::bench::AgentBenchOptions {
        fill_steps: a.fill,
        updates: a.updates,
        acts: a.acts,
        loop_steps: a.loop_steps,
        eval_episodes: a.eval_episodes,
    };
    tracing::info!(agent = %a.agent, task = %run.task, "measuring");
    let r = crate::bench::bench_agent(&run, device, &opts)?;
    if a.json {
        println!("{}", serde_json::to_string(&r)?);
        return Ok(());
    }
    print!("{r}");
    Ok(())
}

fn list_agents() -> Result<()> {
    for a in agents::registry::all() {
        println!("{:<12} {}", a.name, a.about);
    }
    Ok(())
}

fn parse_overrides(set: &[String]) -> Result<Vec<crate::config::Override>> {
    set.iter()
        .map(|s| crate::config::Override::parse_cli(s))
        .collect()
}

/// A progress bar for one run (hidden when stderr is not a terminal).
fn run_bar(total: u64, label: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new(total);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} {bar:30.cyan/blue} {pos}/{len} env steps [{elapsed_precise}<{eta_precise}] {msg}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_prefix(label.to_string());
    bar
}

fn train(a: &TrainArgs) -> Result<()> {
    let device = a.device;
    let overrides = parse_overrides(&a.set)?;
    let config = crate::config::single_run(&a.agent, &a.task, a.seed, a.steps, &overrides)?;
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| crate::config::run_dir(std::path::Path::new("results"), &config));
    tracing::info!(agent = %config.agent, task = %config.task, seed = config.seed, steps = config.run.steps, out = %dir.display(), "train");
    config.run.warn_unreached_eval_at("train");
    let bar = run_bar(
        config.run.steps,
        &format!("{}/{}", config.task, config.agent),
    );
    let outcome = crate::run::execute(&config, &dir, device, &mut |p| {
        bar.set_position(p.env_step);
        bar.set_message(crate::sweep::progress_message(p));
        if p.evaluated
            && let Some(r) = p.last_eval
        {
            bar.suspend(|| tracing::info!(env_step = p.env_step, episode_reward = r, "eval"));
        }
    });
    bar.finish_and_clear();
    match outcome? {
        crate::run::Outcome::Finished => {
            tracing::info!(out = %dir.display(), "finished");
        }
        crate::run::Outcome::AlreadyComplete => {
            tracing::info!(out = %dir.display(), "already complete; nothing to do");
        }
    }
    Ok(())
}

fn play(a: &PlayArgs) -> Result<()> {
    let mode = if a.explore {
        agents::Mode::Explore
    } else {
        agents::Mode::Eval(0)
    };
    let played = crate::run::play(
        &a.run,
        &parse_overrides(&a.set)?,
        a.episodes,
        a.seed,
        mode,
        a.device,
        &a.out,
    )?;
    let n = played.returns.len().max(1) as f64;
    println!(
        "{} episodes, mean return {:.1}; {} agent steps written to {}",
        played.returns.len(),
        played.returns.iter().sum::<f64>() / n,
        played.rows,
        a.out.display()
    );
    Ok(())
}

fn evaluate(a: &EvaluateArgs) -> Result<()> {
    let device = a.device;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {pos} agent steps [{elapsed_precise}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    let result = crate::run::evaluate_checkpoint(&a.run, device, a.episodes, &mut || bar.inc(1));
    bar.finish_and_clear();
    let r = result?;
    let c = &r.config;
    println!(
        "run       {} ({} on {}, seed {})",
        a.run.display(),
        c.agent,
        c.task,
        c.seed
    );
    println!("env step  {} (checkpoint)", r.env_step);
    if r.pending_updates > 0 {
        println!(
            "          taken inside an update block, {} updates before it ends",
            r.pending_updates
        );
    }
    for (i, ret) in r.evaluation.returns.iter().enumerate() {
        println!("episode {i:<2} {ret:.1}");
    }
    println!(
        "mean      {:.1} over {} episodes",
        r.evaluation.mean(),
        r.evaluation.returns.len()
    );
    if let Some(s) = r.evaluation.success_rate() {
        println!("success   {s:.2}");
    }
    Ok(())
}

fn sweep_options(
    spec: &crate::cli::SweepSpec,
    shard: Option<&str>,
    device: agents::DeviceChoice,
) -> Result<crate::sweep::SweepOptions> {
    let shard = shard
        .map(|s| s.parse::<crate::config::Shard>())
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    Ok(crate::sweep::SweepOptions {
        budget: spec.budget.clone(),
        jobs: spec.jobs,
        shard,
        device,
        results: spec.results.clone(),
        overrides: parse_overrides(&spec.set)?,
    })
}

fn sweep(a: &SweepArgs) -> Result<()> {
    let opts = sweep_options(&a.spec, a.shard.as_deref(), a.device)?;
    let exp = crate::config::load_experiment(&a.spec.experiment)?;
    if a.dry_run {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        for r in crate::sweep::plan(&exp, &opts)? {
            let state = if crate::run::is_complete_run(&r.dir, &r.config) {
                "complete"
            } else if crate::run::has_checkpoint(&r.dir) {
                "partial"
            } else {
                "todo"
            };
            let line = writeln!(out, "{}\t{state}\t{}", r.label(), r.dir.display());
            if line.is_err() {
                break; // stdout closed (e.g. piped into `head`)
            }
        }
        return Ok(());
    }
    crate::sweep::sweep(&exp, &opts)
}

fn slurm(a: &SlurmArgs) -> Result<()> {
    let sweep = sweep_options(&a.spec, None, a.device)?;
    let exp = crate::config::load_experiment(&a.spec.experiment)?;
    let opts = crate::sweep::SlurmOptions {
        shards: a.shards,
        sweep,
        time: a.time.clone(),
        cpus: a.cpus,
        partition: a.partition.clone(),
    };
    let script = crate::sweep::slurm_script(&exp, &opts)?;
    // Slurm needs the --output directory to exist at submission.
    let log_dir = a.spec.results.join(&exp.experiment.name);
    std::fs::create_dir_all(&log_dir).with_context(|| format!("creating {}", log_dir.display()))?;
    std::fs::write(&a.out, script).with_context(|| format!("writing {}", a.out.display()))?;
    println!(
        "wrote {} (submit with: sbatch {})",
        a.out.display(),
        a.out.display()
    );
    Ok(())
}
