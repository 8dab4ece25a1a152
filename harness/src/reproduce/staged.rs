//! Figures of this project's own experiments: experiment files run in
//! stages into one results root, then reported.
//!
//! A [`StagedFigure`] has no published data to sit beside. Its stages are
//! the experiment files of `configs/experiments/` (compiled into the
//! binary), run in order through the sweep machinery; a later stage names an
//! earlier stage's runs through `{results}` (the behavior-prior transfers
//! load the source run of the same seed). The last stage is the figure:
//! `ctrlbench report` of its runs (learning curves with rliable's interval
//! estimates, per-task and aggregate tables) and, for the sequential
//! navigation, the next-target statistics of each run's prior played as a
//! policy (`ctrlbench play` + `ctrlbench visits`).
//!
//! # Contract
//!
//! `reproduce FIG --budget B` (B: `smoke`, the files' own pipeline check, or
//! `full`, the files as written) writes each stage's file into
//! `<results>/reproduce/FIG/B/`, runs or resumes its runs under `runs/`, then
//! writes `report/` (index.html, summary.csv, figures/) for the last stage
//! and, where the figure has one, `plays/<variant>/seed-<n>.csv` (kept: a
//! rerun plays only what is missing) and `visits/`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

use super::ReproduceArgs;
use crate::config::{LoadedExperiment, Override, load_experiment};
use crate::report::visits::{self, VisitsArgs};
use crate::sweep::{self, SweepOptions};

/// An experiment file: its name under `configs/experiments/` and its text.
pub type Stage = (&'static str, &'static str);

/// The next-target statistics of the last stage's priors.
#[derive(Debug, Clone, Copy)]
pub struct VisitsStep {
    /// Episodes each prior plays, by budget (`smoke`, `full`).
    pub episodes: (usize, usize),
    /// Current target of the figure.
    pub target: &'static str,
}

/// A figure of this project's experiments.
#[derive(Debug, Clone, Copy)]
pub struct StagedFigure {
    /// Id on the command line.
    pub id: &'static str,
    /// Title.
    pub title: &'static str,
    /// What it shows.
    pub shows: &'static str,
    /// Experiment files, run in this order.
    pub stages: &'static [Stage],
    /// After the runs: the priors' next-target statistics.
    pub visits: Option<VisitsStep>,
}

macro_rules! stage {
    ($name:literal) => {
        (
            $name,
            include_str!(concat!("../../../configs/experiments/", $name)),
        )
    };
}

/// The behavior-prior figures (Tirumala et al., JMLR 2022, and the talk).
pub static STAGED: &[StagedFigure] = &[
    StagedFigure {
        id: "bprior-transfer",
        title: "Behavior priors: a cartpole-swingup prior reused on cartpole-swingup-sparse",
        shows: "returns on cartpole-swingup-sparse of SAC and of bprior with a frozen \
                transferred prior, a frozen random prior and a prior learned online",
        stages: &[
            stage!("bprior-transfer-source.yaml"),
            stage!("bprior-transfer.yaml"),
        ],
        visits: None,
    },
    StagedFigure {
        id: "bprior-reacher",
        title: "Behavior priors: information asymmetry, reacher-easy to reacher-hard",
        shows: "returns on reacher-hard of SAC and of bprior with a frozen reacher-easy \
                prior that saw only the arm or everything",
        stages: &[
            stage!("bprior-reacher-source.yaml"),
            stage!("bprior-reacher.yaml"),
        ],
        visits: None,
    },
    StagedFigure {
        id: "bprior-seqnav",
        title: "Behavior priors: sequential navigation, priors without and with memory",
        shows: "the next target each prior visits given the last two, beside the \
                task's second-order chain (an MLP prior that sees the last two targets, \
                not the talk's LSTM), and the returns of both agents",
        stages: &[stage!("bprior-seqnav.yaml")],
        visits: Some(VisitsStep {
            episodes: (5, 100),
            target: "green",
        }),
    },
];

/// The staged figure with this id.
pub fn find(id: &str) -> Option<&'static StagedFigure> {
    STAGED.iter().find(|f| f.id == id)
}

/// The budgets of a staged figure.
pub const BUDGETS: &[&str] = &["smoke", "full"];

/// The sweep budget of a staged figure's budget (`full`: the file as is).
fn sweep_budget(budget: &str) -> Result<Option<String>> {
    match budget {
        "smoke" => Ok(Some("smoke".into())),
        "full" => Ok(None),
        other => bail!(
            "unknown budget '{other}' for this figure (known: {})",
            BUDGETS.join(", ")
        ),
    }
}

/// A stage's experiment, written into `dir` and loaded (validated).
fn write_stage(stage: &Stage, dir: &Path) -> Result<LoadedExperiment> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(stage.0);
    std::fs::write(&path, stage.1).with_context(|| format!("writing {}", path.display()))?;
    load_experiment(&path)
}

/// Runs and env steps of each stage at a budget: `(runs, env steps)`.
pub fn size(fig: &StagedFigure, budget: &str) -> Result<Vec<(usize, i64)>> {
    static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "ctrlbench-staged-{}-{call}-{}-{budget}",
        std::process::id(),
        fig.id
    ));
    let b = sweep_budget(budget)?;
    let sized = fig
        .stages
        .iter()
        .map(|stage| {
            let exp = write_stage(stage, &dir)?;
            let runs = exp.expand(b.as_deref(), &[], &dir.join("runs"))?;
            let steps = runs.iter().map(|r| r.config.run.steps as i64).sum();
            Ok((runs.len(), steps))
        })
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    sized
}

/// `ctrlbench reproduce` of a staged figure.
pub fn reproduce(fig: &StagedFigure, args: &ReproduceArgs) -> Result<()> {
    if args.published_only {
        bail!(
            "{}: there is no published data for this figure; run it",
            fig.id
        );
    }
    if args.shard.is_some() {
        bail!(
            "{}: a staged figure's later stages need its earlier stages' runs of the same \
             seed; run it without --shard (--jobs runs several at a time)",
            fig.id
        );
    }
    if args.slurm {
        bail!(
            "{}: a staged figure runs its stages in order; write a Slurm script per stage \
             with `ctrlbench slurm configs/experiments/<stage>.yaml` instead",
            fig.id
        );
    }
    let budget = sweep_budget(&args.budget).with_context(|| fig.id.to_string())?;
    let dir = args
        .results
        .join("reproduce")
        .join(fig.id)
        .join(&args.budget);
    // Absolute, so that `{results}` in a stage's settings (recorded in each
    // run's config.yaml) is the same however `--results` is spelled.
    let runs = dir.join("runs");
    std::fs::create_dir_all(&runs).with_context(|| format!("creating {}", runs.display()))?;
    let runs = runs
        .canonicalize()
        .with_context(|| format!("resolving {}", runs.display()))?;
    let opts = SweepOptions {
        budget: budget.clone(),
        jobs: args.jobs.max(1),
        shard: None,
        device: args.device,
        results: runs.clone(),
        overrides: Vec::new(),
    };
    // Earlier stages must finish; the last one is reported as far as it
    // got, and its error returned after the report.
    let Some((last_stage, earlier)) = fig.stages.split_last() else {
        bail!("{}: no stages", fig.id);
    };
    for stage in earlier {
        let exp = write_stage(stage, &dir)?;
        sweep::sweep(&exp, &opts).with_context(|| format!("{}: stage {}", fig.id, stage.0))?;
    }
    let exp = write_stage(last_stage, &dir)?;
    let swept =
        sweep::sweep(&exp, &opts).with_context(|| format!("{}: stage {}", fig.id, last_stage.0));
    let shown = runs.join(&exp.experiment.name);
    if !shown.is_dir() {
        swept?;
        bail!("{}: no runs under {}", fig.id, shown.display());
    }
    let report = crate::report::report(&crate::report::ReportArgs {
        results_dir: shown.clone(),
        reference: Vec::new(),
        out: Some(dir.join("report")),
        // The report's bootstrap covers every curve point: capped so that
        // the paper figures' 50,000 default stays quick here.
        reps: args.reps.min(10_000),
        seed: 0,
    })?;
    println!("{}", report.dir.join("index.html").display());
    if let Some(v) = fig.visits {
        let episodes = if args.budget == "smoke" {
            v.episodes.0
        } else {
            v.episodes.1
        };
        let plays = play_priors(&exp, budget.as_deref(), &runs, &dir, episodes, args)?;
        if plays.is_empty() {
            bail!(
                "{}: no finished run to play under {}",
                fig.id,
                shown.display()
            );
        }
        let out = dir.join("visits");
        visits::run(&VisitsArgs {
            plays,
            out,
            target: v.target.into(),
            count_column: visits::COUNT_COLUMN.into(),
            id_column: visits::ID_COLUMN.into(),
        })?;
    }
    swept
}

/// Whether `file` exists and was written after `than` last changed.
fn is_newer(file: &Path, than: &Path) -> Result<bool> {
    let modified = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .with_context(|| format!("reading {}", p.display()))
    };
    if !file.is_file() {
        return Ok(false);
    }
    Ok(modified(file)? >= modified(than)?)
}

/// Plays the prior of each finished bprior run of `exp` (explore mode,
/// seed 1) into `dir/plays/<variant>/seed-<n>.csv`, skipping plays written
/// after the run finished; returns them as `variant=path` sources.
fn play_priors(
    exp: &LoadedExperiment,
    budget: Option<&str>,
    runs: &Path,
    dir: &Path,
    episodes: usize,
    args: &ReproduceArgs,
) -> Result<Vec<String>> {
    let prior = Override::parse_cli("bprior.act_with=prior")?;
    let mut sources = Vec::new();
    for r in exp.expand(budget, &[], runs)? {
        if r.config.agent != "bprior" || !crate::run::is_complete(&r.dir) {
            continue;
        }
        let label = r.config.variant.clone().unwrap_or_else(|| "prior".into());
        let out: PathBuf = dir
            .join("plays")
            .join(&label)
            .join(format!("seed-{}.csv", r.config.seed));
        if !is_newer(&out, &r.dir.join("final"))? {
            if let Some(parent) = out.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            crate::run::play(
                &r.dir,
                std::slice::from_ref(&prior),
                episodes,
                1,
                agents::Mode::Explore,
                args.device,
                &out,
            )?;
        }
        sources.push(format!("{label}={}", out.display()));
    }
    Ok(sources)
}
