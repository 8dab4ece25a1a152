//! Sweeps: an experiment expanded into runs, run N at a time, resumable,
//! shardable, surviving individual failures.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use agents::DeviceChoice;
use anyhow::{Context, Result, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::config::{LoadedExperiment, Override, PlannedRun, Shard};
use crate::run::{self, Outcome, Progress};

/// What to sweep and how.
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// Named budget (`smoke`, `short`, `paper`, or one from the file).
    pub budget: Option<String>,
    /// Runs at a time.
    pub jobs: usize,
    /// This process's slice.
    pub shard: Option<Shard>,
    /// Device for all runs.
    pub device: DeviceChoice,
    /// Results root.
    pub results: PathBuf,
    /// `--set` overrides.
    pub overrides: Vec<Override>,
}

/// The runs of `exp` for these options: expanded, then this shard's slice.
pub fn plan(exp: &LoadedExperiment, opts: &SweepOptions) -> Result<Vec<PlannedRun>> {
    let runs = exp.expand(opts.budget.as_deref(), &opts.overrides, &opts.results)?;
    Ok(match opts.shard {
        Some(s) => s.select(runs),
        None => runs,
    })
}

/// A progress bar style for one run.
fn run_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix:40!} {bar:20.cyan/blue} {pos:>8}/{len:8} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
}

/// The bar message: env steps/s and the last evaluation.
pub fn progress_message(p: &Progress) -> String {
    match p.last_eval {
        Some(r) => format!("{:>7.0} steps/s  eval {r:.1}", p.steps_per_s),
        None => format!("{:>7.0} steps/s", p.steps_per_s),
    }
}

/// Runs a sweep. Complete runs are skipped, partial ones resumed. Failures
/// are appended to `<results>/<experiment>/failed.txt`; the others go on and
/// the sweep returns an error at the end.
pub fn sweep(exp: &LoadedExperiment, opts: &SweepOptions) -> Result<()> {
    let runs = plan(exp, opts)?;
    let exp_dir = opts.results.join(&exp.experiment.name);
    std::fs::create_dir_all(&exp_dir)
        .with_context(|| format!("cannot create the results directory {}", exp_dir.display()))?;
    let (done, todo): (Vec<_>, Vec<_>) = runs
        .iter()
        .partition(|r| run::is_complete_run(&r.dir, &r.config));
    tracing::info!(
        experiment = %exp.experiment.name,
        runs = runs.len(),
        complete = done.len(),
        to_run = todo.len(),
        jobs = opts.jobs,
        "sweep"
    );
    let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(4));
    let overall = multi.add(ProgressBar::new(runs.len() as u64));
    overall.set_style(
        ProgressStyle::with_template("{prefix:40!} {bar:20.green/white} {pos}/{len} runs {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    overall.set_prefix(exp.experiment.name.clone());
    overall.set_position(done.len() as u64);
    overall.enable_steady_tick(Duration::from_millis(500));

    let next = AtomicUsize::new(0);
    let failures: Mutex<Vec<(String, String)>> = Mutex::new(Vec::new());
    let jobs = opts.jobs.max(1).min(todo.len().max(1));
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(r) = todo.get(i) else { break };
                    let bar = multi.insert_before(&overall, ProgressBar::new(r.config.run.steps));
                    bar.set_style(run_style());
                    bar.set_prefix(r.label());
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        run::execute(&r.config, &r.dir, opts.device, &mut |p| {
                            bar.set_position(p.env_step);
                            bar.set_message(progress_message(p));
                        })
                    }))
                    .unwrap_or_else(|panic| {
                        let msg = panic
                            .downcast_ref::<String>()
                            .cloned()
                            .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_else(|| "panic".into());
                        Err(anyhow::anyhow!("panicked: {msg}"))
                    });
                    bar.finish_and_clear();
                    multi.remove(&bar);
                    overall.inc(1);
                    match result {
                        Ok(Outcome::Finished) => {
                            multi.suspend(|| tracing::info!(run = %r.label(), "finished"));
                        }
                        Ok(Outcome::AlreadyComplete) => {}
                        Err(e) => {
                            let msg = format!("{e:#}");
                            multi.suspend(|| tracing::error!(run = %r.label(), "failed: {msg}"));
                            if let Ok(mut f) = failures.lock() {
                                f.push((r.label(), msg));
                            }
                        }
                    }
                }
            });
        }
    });
    overall.finish_and_clear();
    let failures = failures.into_inner().unwrap_or_default();
    if failures.is_empty() {
        tracing::info!(experiment = %exp.experiment.name, runs = runs.len(), "sweep complete");
        return Ok(());
    }
    let failed = exp_dir.join("failed.txt");
    record_failures(&failed, &failures)?;
    bail!(
        "{} of {} runs failed (listed in {})",
        failures.len(),
        runs.len(),
        failed.display()
    );
}

/// Appends `time<TAB>run<TAB>error` lines to `path`, one write per line.
fn record_failures(path: &Path, failures: &[(String, String)]) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("opening {}", path.display()))?;
    let now = run::utc_now();
    for (label, msg) in failures {
        let line = format!("{now}\t{label}\t{}\n", msg.replace(['\n', '\t'], " "));
        f.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// Options of `ctrlbench slurm`.
#[derive(Debug, Clone)]
pub struct SlurmOptions {
    /// Number of array tasks (shards).
    pub shards: usize,
    /// Forwarded to each `ctrlbench sweep`.
    pub sweep: SweepOptions,
    /// `#SBATCH --time`.
    pub time: String,
    /// `#SBATCH --cpus-per-task`.
    pub cpus: usize,
    /// `#SBATCH --partition`, if any.
    pub partition: Option<String>,
}

/// Environment variable naming the command that starts ctrlbench, set by a
/// bundle's launcher (`bin/ctrlbench`); Slurm scripts call it instead of the
/// binary itself.
pub const LAUNCHER_ENV: &str = "CTRLBENCH_LAUNCHER";

/// The Slurm array script for `exp`: one array task per shard, each running
/// `ctrlbench sweep ... --shard $SLURM_ARRAY_TASK_ID/n`.
pub fn slurm_script(exp: &LoadedExperiment, opts: &SlurmOptions) -> Result<String> {
    // Both land verbatim on `#SBATCH` lines.
    let plain = |s: &str, extra: &str| {
        !s.is_empty() && (s.chars()).all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
    };
    if !plain(&opts.time, ":-") {
        bail!(
            "--time {:?} is not a Slurm time limit (e.g. 48:00:00, 2-00:00:00, UNLIMITED)",
            opts.time
        );
    }
    if let Some(p) = opts.partition.as_deref().filter(|p| !plain(p, "_-.,")) {
        bail!("--partition {p:?} is not a partition name (letters, digits, '_', '-', '.', ',')");
    }
    let runs = plan(exp, &opts.sweep)?;
    if runs.is_empty() {
        bail!("the experiment expands to no runs");
    }
    let n = opts.shards.clamp(1, runs.len());
    // From a bundle (scripts/bundle.sh) the binary needs its launcher, which
    // finds libtorch; `CTRLBENCH_LAUNCHER` names it.
    let exe = match std::env::var_os(LAUNCHER_ENV) {
        Some(launcher) => std::path::PathBuf::from(launcher),
        None => std::env::current_exe().context("locating the ctrlbench binary")?,
    };
    let abs = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    let results = abs(&opts.sweep.results);
    let mut args = vec![
        "sweep".to_string(),
        shell_quote(&abs(&exp.path).display().to_string()),
        "--shard".into(),
        format!("${{SLURM_ARRAY_TASK_ID}}/{n}"),
        "--jobs".into(),
        opts.sweep.jobs.to_string(),
        "--device".into(),
        opts.sweep.device.to_string(),
        "--results".into(),
        shell_quote(&results.display().to_string()),
    ];
    if let Some(b) = &opts.sweep.budget {
        args.extend(["--budget".into(), shell_quote(b)]);
    }
    for o in &opts.sweep.overrides {
        let v = crate::config::yaml_inline(&o.value);
        args.extend(["--set".into(), shell_quote(&format!("{}={v}", o.key))]);
    }
    let name = &exp.experiment.name;
    let mut s = String::new();
    s.push_str("#!/bin/bash\n");
    s.push_str(&format!(
        "# ctrlbench sweep '{name}' ({} runs) as a Slurm array of {n} shards.\n# Submit with: sbatch THIS_FILE. Re-submitting resumes: complete runs are skipped.\n",
        runs.len()
    ));
    s.push_str(&format!("#SBATCH --job-name=ctrlbench-{name}\n"));
    s.push_str(&format!("#SBATCH --array=0-{}\n", n - 1));
    s.push_str(&format!("#SBATCH --cpus-per-task={}\n", opts.cpus));
    s.push_str(&format!("#SBATCH --time={}\n", opts.time));
    if opts.sweep.device != DeviceChoice::Cpu {
        s.push_str("#SBATCH --gres=gpu:1\n");
    }
    if let Some(p) = &opts.partition {
        s.push_str(&format!("#SBATCH --partition={p}\n"));
    }
    s.push_str(&format!(
        "#SBATCH --output={}/{name}/slurm-%A_%a.out\n",
        results.display()
    ));
    s.push_str("set -euo pipefail\n");
    s.push_str(&format!(
        "mkdir -p {}\n",
        shell_quote(&results.join(name).display().to_string())
    ));
    s.push_str(&format!(
        "export CTRLBENCH_HOME={}\n",
        shell_quote(
            &std::fs::canonicalize(crate::project_dir())
                .unwrap_or_else(|_| abs(&crate::project_dir()))
                .display()
                .to_string()
        )
    ));
    s.push_str(&format!(
        "{} {}\n",
        shell_quote(&exe.display().to_string()),
        args.join(" ")
    ));
    Ok(s)
}

/// Single-quotes `s` for bash unless it is plainly safe (the shard argument
/// with `${SLURM_ARRAY_TASK_ID}` is never passed here).
fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}
