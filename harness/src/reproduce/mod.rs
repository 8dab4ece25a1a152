//! `ctrlbench reproduce`: a paper's figure with one command, beside the
//! published data, at a budget the user chooses.
//!
//! - [`registry`]: what a figure is (tasks, variants as config overrides,
//!   published data, panels, budgets) and its cost; `figures`: the table of
//!   the paper's figures;
//! - [`published`]: the shipped published results (`data/published/`),
//!   normalised, and the alignment of evaluation steps;
//! - [`build`]: observations to panels and the comparison table;
//! - [`page`]: `comparison.csv` and `index.html`;
//! - [`staged`]: figures of this project's own experiments (behavior
//!   priors), run in stages from `configs/experiments/` and reported.
//!
//! # Contract
//!
//! `reproduce FIG --budget B` writes the figure's experiment to
//! `<results>/reproduce/FIG/B/experiment.yaml` (one named variant per
//! runnable variant of the figure), runs or resumes it through the sweep
//! machinery into `<results>/reproduce/FIG/B/runs/`, then draws
//! `figure.{png,svg}` (and `curves.{png,svg}` and `aggregates.csv` for
//! aggregate figures), `comparison.csv` and `index.html` in
//! `<results>/reproduce/FIG/B/`.
//! `--published-only` draws from the published data alone into
//! `.../FIG/published-only/`; `--slurm` writes the Slurm array script of the
//! sweep instead of running it. Every figure and page carries the budget.
//!
//! The behavior-prior figures ([`staged`]) have no published data: their
//! stages' experiment files run in order into `.../FIG/B/runs/`, and the
//! last stage is reported into `.../FIG/B/report/` (see that module).

pub mod build;
mod figures;
pub mod page;
pub mod published;
pub mod registry;
pub mod staged;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use agents::DeviceChoice;
use anyhow::{Context, Result, bail};
use clap::Args;

use crate::config::{LoadedExperiment, load_experiment};
use crate::sweep::{self, SlurmOptions, SweepOptions};
use published::Observation;
use registry::{BudgetSpec, FigureSpec};

/// Arguments of `ctrlbench reproduce`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ctrlbench reproduce --list
  ctrlbench reproduce dmc30 --published-only
  ctrlbench reproduce sac-cartpole-swingup --budget short --jobs 2
  ctrlbench reproduce fig7-codebook-size --budget smoke
  ctrlbench reproduce bprior-transfer --budget full --jobs 2 --device cpu
  ctrlbench reproduce dmc30 --budget paper --slurm --shards 90 --device cuda")]
pub struct ReproduceArgs {
    /// Figure id (see --list).
    pub figure: Option<String>,
    /// List the figures with their variants, budgets and costs.
    #[arg(long)]
    pub list: bool,
    /// smoke (a pipeline check with small networks, minutes), short (100k
    /// env steps at paper sizes) or paper (the paper's steps and seeds);
    /// the behavior-prior figures (bprior-*): smoke or full (their
    /// experiment files as written).
    #[arg(long, default_value = "smoke")]
    pub budget: String,
    /// Draw the figure from the published data alone; runs nothing.
    #[arg(
        long,
        conflicts_with_all = ["budget", "jobs", "shard", "device", "slurm", "shards"]
    )]
    pub published_only: bool,
    /// Runs at a time (one libtorch thread each on CPU).
    #[arg(long, default_value_t = 1, value_parser = crate::cli::count::<1024>)]
    pub jobs: usize,
    /// This process's slice of the runs, i/n.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Device for the runs.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Results root; the figure goes to <results>/reproduce/<figure>/<budget>/.
    #[arg(long, default_value = "results")]
    pub results: PathBuf,
    /// Write the Slurm array script of the runs (then submit it, and run this
    /// command again to draw).
    #[arg(long)]
    pub slurm: bool,
    /// Slurm array tasks (with --slurm).
    #[arg(long, default_value_t = 1, value_parser = crate::cli::count::<1_000_000>)]
    pub shards: usize,
    /// Bootstrap replications of the aggregate bars (rliable's 50,000 as
    /// the paper's notebooks); curves use at most 2,000, and the reports of
    /// the behavior-prior figures at most 10,000.
    #[arg(long, default_value_t = 50_000, value_parser = crate::cli::count::<1_000_000>)]
    pub reps: usize,
}

/// `ctrlbench reproduce`.
pub fn reproduce(args: &ReproduceArgs) -> Result<()> {
    if args.list {
        print!("{}", list());
        return Ok(());
    }
    let Some(id) = &args.figure else {
        bail!("name a figure (see `ctrlbench reproduce --list`)");
    };
    if let Some(fig) = staged::find(id) {
        return staged::reproduce(fig, args);
    }
    let fig = registry::find(id).map_err(|_| {
        let ids: Vec<&str> = registry::FIGURES
            .iter()
            .map(|f| f.id)
            .chain(staged::STAGED.iter().map(|f| f.id))
            .collect();
        anyhow::anyhow!("unknown figure '{id}' (known: {})", ids.join(", "))
    })?;
    let published = published::load_figure(fig, &published::data_dir())?;
    if args.published_only {
        let dir = args
            .results
            .join("reproduce")
            .join(fig.id)
            .join("published-only");
        let title = format!("{} [published data only]", fig.title);
        let index = draw(
            fig,
            &published,
            &dir,
            &title,
            "published data only",
            true,
            args.reps,
        )?;
        println!("{}", index.display());
        return Ok(());
    }
    let budget = fig.budget(&args.budget).ok_or_else(|| {
        if fig.budgets.is_empty() {
            anyhow::anyhow!(
                "{}: this project cannot run it ({}); draw it with --published-only",
                fig.id,
                missing(fig)
            )
        } else {
            let names: Vec<&str> = fig.budgets.iter().map(|b| b.name).collect();
            anyhow::anyhow!(
                "{}: unknown budget '{}' (known: {})",
                fig.id,
                args.budget,
                names.join(", ")
            )
        }
    })?;
    if !fig.can_run() {
        bail!(
            "{}: this project cannot run it yet ({}); draw it with --published-only",
            fig.id,
            missing(fig)
        );
    }
    let dir = args
        .results
        .join("reproduce")
        .join(fig.id)
        .join(budget.name);
    let exp = write_experiment(fig, budget, &dir)?;
    let shard = args
        .shard
        .as_deref()
        .map(str::parse::<crate::config::Shard>)
        .transpose()
        .map_err(|e| anyhow::anyhow!(e))?;
    let opts = SweepOptions {
        budget: None,
        jobs: args.jobs.max(1),
        shard,
        device: args.device,
        results: dir.clone(),
        overrides: Vec::new(),
    };
    if args.slurm {
        let script = sweep::slurm_script(
            &exp,
            &SlurmOptions {
                shards: args.shards.max(1),
                sweep: opts,
                time: "48:00:00".into(),
                cpus: 4,
                partition: None,
            },
        )?;
        let path = dir.join("slurm.sh");
        std::fs::write(&path, script).with_context(|| format!("writing {}", path.display()))?;
        let (runs, cpu, gpu) = registry::cost(fig, budget);
        println!(
            "{} ({runs} runs, about {cpu:.0} CPU-hours{}). Submit with `sbatch {}`; then run `ctrlbench reproduce {} --budget {}` to draw.",
            path.display(),
            gpu.map(|g| format!(" or {g:.0} GPU-hours"))
                .unwrap_or_default(),
            path.display(),
            fig.id,
            budget.name
        );
        return Ok(());
    }
    let swept = sweep::sweep(&exp, &opts);
    let ours = load_ours(fig, &exp, &dir)?;
    if ours.is_empty() {
        swept?;
        bail!("{}: no evaluations under {}", fig.id, dir.display());
    }
    let mut all = ours;
    all.extend(published);
    let title = format!("{} [{}]", fig.title, budget.says);
    let index = draw(
        fig,
        &all,
        &dir,
        &title,
        budget.says,
        budget.name == "smoke",
        args.reps,
    )?;
    println!("{}", index.display());
    swept
}

/// Why some variants or tasks cannot run.
fn missing(fig: &FigureSpec) -> String {
    let mut why: Vec<String> = fig
        .variants
        .iter()
        .filter(|v| v.set.is_none())
        .map(|v| format!("{}: {}", v.label, v.missing))
        .collect();
    if fig.runnable_tasks().is_empty() {
        why.push("its tasks are not registered environments".into());
    }
    why.join("; ")
}

/// The slug of a variant label: its directory name (`L=[5,3]` -> `l-5-3`).
pub fn slug(label: &str) -> String {
    let mut s = String::new();
    for c in label.chars() {
        if c.is_ascii_alphanumeric() {
            s.push(c.to_ascii_lowercase());
        } else if !s.ends_with('-') && !s.is_empty() {
            s.push('-');
        }
    }
    s.trim_end_matches('-').to_string()
}

/// The experiment of a figure at a budget, written to `dir/experiment.yaml`
/// and loaded (validated) as any experiment file.
pub fn write_experiment(fig: &FigureSpec, b: &BudgetSpec, dir: &Path) -> Result<LoadedExperiment> {
    use serde_yaml::{Mapping, Value};
    let parse =
        |v: &str| serde_yaml::from_str::<Value>(v).unwrap_or_else(|_| Value::String(v.into()));
    let tasks: Vec<&str> = match b.tasks {
        Some(t) => t.to_vec(),
        None => fig.runnable_tasks(),
    };
    let mut variants = Mapping::new();
    for v in fig.runnable() {
        let mut set = Mapping::new();
        for (k, val) in v.set.unwrap_or(&[]) {
            set.insert(Value::from(*k), parse(val));
        }
        variants.insert(Value::from(slug(v.label)), Value::Mapping(set));
    }
    let mut set = Mapping::new();
    for (k, v) in b.set {
        set.insert(Value::from(*k), parse(v));
    }
    let mut m = Mapping::new();
    m.insert("name".into(), "runs".into());
    m.insert("agents".into(), Value::Sequence(vec![fig.agent.into()]));
    m.insert(
        "tasks".into(),
        Value::Sequence(tasks.iter().map(|t| Value::from(*t)).collect()),
    );
    m.insert("seeds".into(), Value::from(b.seeds));
    m.insert("steps".into(), Value::from(b.steps));
    m.insert("eval_every".into(), Value::from(b.eval_every));
    if !b.eval_at.is_empty() {
        let at = b.eval_at.iter().map(|s| Value::from(*s)).collect();
        m.insert("eval_at".into(), Value::Sequence(at));
    }
    m.insert("eval_episodes".into(), Value::from(b.eval_episodes));
    let checkpoint = if b.eval_every > 0 { b.eval_every } else { 2000 };
    m.insert("checkpoint_every".into(), Value::from(checkpoint));
    m.insert("set".into(), Value::Mapping(set));
    m.insert("variants".into(), Value::Mapping(variants));
    let text = format!(
        "# ctrlbench reproduce {} --budget {}: {}\n# Written by `ctrlbench reproduce`; runs land in runs/ beside this file.\n{}",
        fig.id,
        b.name,
        b.says,
        serde_yaml::to_string(&Value::Mapping(m))?
    );
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join("experiment.yaml");
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    load_experiment(&path)
}

/// Our evaluations: each planned run's `eval.csv`, with the codebook's
/// active codes from its `train.csv` (the last training row at or before
/// each evaluation).
fn load_ours(fig: &FigureSpec, exp: &LoadedExperiment, dir: &Path) -> Result<Vec<Observation>> {
    let runs = exp.expand(None, &[], dir)?;
    let labels: BTreeMap<String, &str> = fig.runnable().map(|v| (slug(v.label), v.label)).collect();
    let mut out = Vec::new();
    for r in runs {
        let eval = r.dir.join("eval.csv");
        if !eval.is_file() {
            continue;
        }
        let series = r
            .config
            .variant
            .as_deref()
            .and_then(|v| labels.get(v).copied())
            .unwrap_or(fig.agent)
            .to_string();
        let active =
            read_columns(&r.dir.join("train.csv"), "codebook_active_percent").unwrap_or_default();
        let metaworld = r.config.task.starts_with("mw-");
        let col = if metaworld {
            "episode_success"
        } else {
            "episode_reward"
        };
        let hours = read_columns(&eval, "wall_time_s")?;
        for (step, score) in read_columns(&eval, col)? {
            let hours = hours
                .iter()
                .find(|(s, _)| *s == step)
                .map(|(_, t)| t / 3600.0);
            let active = active
                .iter()
                .rev()
                .find(|(s, _)| *s <= step)
                .map(|(_, a)| *a);
            out.push(Observation {
                series: series.clone(),
                published: false,
                task: r.config.task.clone(),
                run: r.config.seed as i64,
                step,
                score,
                active,
                hours,
            });
        }
    }
    Ok(out)
}

/// (env_step, value) of the rows of a CSV that have a value in `column`.
fn read_columns(path: &Path, column: &str) -> Result<Vec<(i64, f64)>> {
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let header = reader
        .headers()
        .with_context(|| format!("reading {}", path.display()))?
        .clone();
    let find = |c: &str| header.iter().position(|h| h == c);
    let (Some(step), Some(value)) = (find("env_step"), find(column)) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for row in reader.records() {
        let row = row.with_context(|| format!("reading {}", path.display()))?;
        let (Some(s), Some(v)) = (row.get(step), row.get(value)) else {
            continue;
        };
        if let (Ok(s), Ok(v)) = (s.parse::<f64>(), v.parse::<f64>()) {
            out.push((s as i64, v));
        }
    }
    Ok(out)
}

/// Draws the figure and writes the page; returns the path of `index.html`.
fn draw(
    fig: &FigureSpec,
    obs: &[Observation],
    dir: &Path,
    title: &str,
    budget_says: &str,
    smoke: bool,
    reps: usize,
) -> Result<PathBuf> {
    let built = build::build(fig, obs, title, smoke, reps);
    crate::report::figures::paper::render_paper(&built.figure, dir, "figure")?;
    if let Some(c) = &built.curves {
        crate::report::figures::paper::render_paper(c, dir, "curves")?;
    }
    let comparison = page::comparison_csv(&built.comparison);
    page::write_atomic(&dir.join("comparison.csv"), &comparison)?;
    if !built.aggregates.is_empty() {
        let aggregates = page::aggregates_csv(&built.aggregates);
        page::write_atomic(&dir.join("aggregates.csv"), &aggregates)?;
    }
    let index = dir.join("index.html");
    page::write_atomic(&index, &page::html(fig, &built, budget_says, reps))?;
    Ok(index)
}

/// The `--list` text: one figure id per line, then a table of what each
/// shows, its variants and its budgets' costs.
pub fn list() -> String {
    let mut s = String::new();
    for f in registry::FIGURES {
        s.push_str(f.id);
        s.push('\n');
    }
    for f in staged::STAGED {
        s.push_str(f.id);
        s.push('\n');
    }
    s.push('\n');
    for f in registry::FIGURES {
        s.push_str(&format!("{}: {}\n  shows: {}\n", f.id, f.title, f.shows));
        let variants: Vec<String> = f
            .variants
            .iter()
            .map(|v| {
                if v.set.is_some() {
                    v.label.to_string()
                } else {
                    format!("{} (published only)", v.label)
                }
            })
            .collect();
        s.push_str(&format!(
            "  tasks: {}; variants: {}\n",
            f.tasks.len(),
            variants.join(", ")
        ));
        if !f.can_run() || f.runnable().count() < f.variants.len() {
            let m = missing(f);
            if !m.is_empty() {
                s.push_str(&format!("  missing: {m}\n"));
            }
        }
        for b in f.budgets.iter().filter(|_| f.can_run()) {
            let (runs, cpu, gpu) = registry::cost(f, b);
            s.push_str(&format!(
                "  --budget {:<5} {runs:>4} runs x {:>5} env steps: ~{cpu:.1} CPU-hours (one core per run){}\n",
                b.name,
                crate::report::figures::fmt_steps(b.steps as f64),
                gpu.map(|g| format!(", ~{g:.0} GPU-hours on the authors' GPU")).unwrap_or_default()
            ));
        }
        if !f.can_run() {
            s.push_str("  --published-only (nothing to run yet)\n");
        }
        if !f.notes.is_empty() {
            s.push_str(&format!("  note: {}\n", f.notes));
        }
    }
    for f in staged::STAGED {
        s.push_str(&format!("{}: {}\n  shows: {}\n", f.id, f.title, f.shows));
        let stages: Vec<&str> = f.stages.iter().map(|st| st.0).collect();
        s.push_str(&format!(
            "  stages (configs/experiments/): {}\n",
            stages.join(" -> ")
        ));
        for b in staged::BUDGETS {
            let Ok(size) = staged::size(f, b) else {
                continue;
            };
            let runs: usize = size.iter().map(|x| x.0).sum();
            let steps: i64 = size.iter().map(|x| x.1).sum();
            let cpu = steps as f64 * registry::cpu_seconds_per_env_step("bprior", b) / 3600.0;
            s.push_str(&format!(
                "  --budget {b:<5} {runs:>4} runs, {:>5} env steps in all: ~{cpu:.1} CPU-hours (one core per run)\n",
                crate::report::figures::fmt_steps(steps as f64),
            ));
        }
    }
    s
}
