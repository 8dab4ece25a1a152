//! Reports and exports of evaluation results: `ctrlbench report` and
//! `ctrlbench export`.
//!
//! - [`load`]: polars loading of every `eval.csv` under a results directory
//!   and of published reference CSVs (DCWM and TD-MPC2 formats);
//! - [`stats`]: rliable's estimators and stratified bootstrap CIs;
//! - [`analysis`]: learning curves, aggregates and performance profiles;
//! - [`figures`]: PNG and SVG figures (plotters);
//! - [`html`]: the `index.html` page.

pub mod analysis;
pub mod figures;
pub mod html;
pub mod load;
pub mod stats;
pub mod visits;

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;

use analysis::{Analysis, metric_name};
use stats::{Bootstrap, Estimate};

/// Arguments of `ctrlbench report`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ctrlbench report results/dmc-main
  ctrlbench report results/dmc-main --out report/ --reps 5000
  ctrlbench report results/dmc-main \\
      --reference shared/reference/dcwm/dmc-dcmpc.csv \\
      --reference shared/reference/tdmpc2/tdmpc2/walker-walk.csv")]
pub struct ReportArgs {
    /// Directory holding `.../eval.csv` files (searched recursively), e.g.
    /// results/<experiment>.
    pub results_dir: PathBuf,
    /// Published curves to overlay (repeatable): DCWM format
    /// (agent,env,env_step,episode_reward[,episode_success],seed) or TD-MPC2
    /// format (step,reward|success,seed; task = file name, agent = directory name).
    #[arg(long, value_name = "FILE")]
    pub reference: Vec<PathBuf>,
    /// Output directory [default: RESULTS_DIR/report].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Bootstrap replications for the confidence intervals.
    #[arg(long, default_value_t = 2000, value_parser = crate::cli::count::<1_000_000>)]
    pub reps: usize,
    /// Seed of the bootstrap resampling.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
}

/// Arguments of `ctrlbench export`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  ctrlbench export results/dmc-main --out dmc-main.csv
  ctrlbench export results/ --out all-runs.parquet")]
pub struct ExportArgs {
    /// Directory holding `.../eval.csv` files (searched recursively).
    pub results_dir: PathBuf,
    /// Output file; the format follows the extension: .csv or .parquet.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

/// What `report` wrote.
#[derive(Debug)]
pub struct ReportOutput {
    /// The output directory.
    pub dir: PathBuf,
    /// Figure names under `figures/` (each as .png and .svg).
    pub figures: Vec<String>,
    /// Number of evaluation rows read.
    pub rows: usize,
}

/// `ctrlbench report`: tables, figures and an HTML page for a results directory.
pub fn report(args: &ReportArgs) -> Result<ReportOutput> {
    if args.reps == 0 {
        anyhow::bail!("--reps must be at least 1");
    }
    let df = load::load_results(&args.results_dir)?;
    let records = load::records(&df)?;
    let mut reference = Vec::new();
    for r in &args.reference {
        let rdf = load::load_reference(r)?;
        reference.extend(load::records(&rdf)?);
    }
    let boot = Bootstrap {
        reps: args.reps,
        confidence: 0.95,
        seed: args.seed,
    };
    let a = analysis::analyze(&records, &reference, &boot)?;
    for w in &a.warnings {
        tracing::warn!("{w}");
    }
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| args.results_dir.join("report"));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("cannot create output directory {}", dir.display()))?;
    write_summary(&a, &dir.join("summary.csv"))?;
    write_profile(&a, &dir.join("profile.csv"))?;
    write_runs(&records, &dir.join("runs.csv"))?;
    let figures = figures::render(&a, &dir.join("figures"))?;
    let refs: Vec<String> = args
        .reference
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    let page = html::render(&a, &figures, args.reps, &refs);
    let index = dir.join("index.html");
    std::fs::write(&index, page).with_context(|| format!("writing {}", index.display()))?;
    Ok(ReportOutput {
        dir,
        figures,
        rows: df.height(),
    })
}

/// `ctrlbench export`: the long-format table of all runs as CSV or Parquet.
/// Returns the number of rows written.
pub fn export(args: &ExportArgs) -> Result<usize> {
    // Check the extension before reading anything.
    match args
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("csv" | "parquet") => {}
        _ => anyhow::bail!(
            "{}: unsupported output format; use a .csv or .parquet file name",
            args.out.display()
        ),
    }
    let mut df = load::load_results(&args.results_dir)?;
    df = df
        .sort(
            ["env", "agent", "variant", "seed", "env_step"],
            Default::default(),
        )
        .context("sorting the results")?;
    load::export(&mut df, &args.out)?;
    Ok(df.height())
}

fn f(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        String::new()
    }
}

fn e3(e: &Estimate) -> [String; 3] {
    [f(e.point), f(e.lo), f(e.hi)]
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Columns of `summary.csv`.
pub const SUMMARY_COLUMNS: &str = "scope,task,agent,variant,env_step,metric,n_tasks,n_runs,mean,mean_ci_low,mean_ci_high,std,median,median_ci_low,median_ci_high,iqm,iqm_ci_low,iqm_ci_high,optimality_gap,optimality_gap_ci_low,optimality_gap_ci_high";

/// Writes `summary.csv`: rows with `scope=task` (per task x agent x variant x
/// step, over seeds, in the task's metric) then rows with `scope=aggregate`
/// (per agent x variant x step, across tasks, normalized scores, rliable
/// estimators; `task` is `all`).
pub fn write_summary(a: &Analysis, path: &Path) -> Result<()> {
    let mut out = String::new();
    out.push_str(SUMMARY_COLUMNS);
    out.push('\n');
    for c in &a.curves {
        for p in &c.points {
            let s = &p.stats;
            let mut row = vec![
                "task".to_string(),
                csv_field(&c.task),
                csv_field(&c.series.agent),
                csv_field(&c.series.variant),
                p.step.to_string(),
                metric_name(&c.task).to_string(),
                "1".to_string(),
                s.n.to_string(),
            ];
            row.extend(e3(&s.mean));
            row.push(f(s.std));
            row.extend(e3(&s.median));
            row.extend(e3(&s.iqm));
            row.extend([String::new(), String::new(), String::new()]);
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    for g in &a.aggregates {
        for p in &g.points {
            let mut row = vec![
                "aggregate".to_string(),
                "all".to_string(),
                csv_field(&g.series.agent),
                csv_field(&g.series.variant),
                p.step.to_string(),
                "normalized_score".to_string(),
                p.n_tasks.to_string(),
                p.n_runs.to_string(),
            ];
            row.extend(e3(&p.agg.mean));
            row.push(String::new());
            row.extend(e3(&p.agg.median));
            row.extend(e3(&p.agg.iqm));
            row.extend(e3(&p.agg.optimality_gap));
            out.push_str(&row.join(","));
            out.push('\n');
        }
    }
    write_atomic(path, &out)
}

/// Columns of `runs.csv`.
pub const RUNS_COLUMNS: &str =
    "task,agent,variant,seed,metric,evaluations,last_env_step,last,best,best_env_step";

/// Writes `runs.csv`, the per-seed table: one row per run (task × agent ×
/// variant × seed, sorted), with its last evaluation and its best one in
/// the task's metric.
pub fn write_runs(records: &[load::Record], path: &Path) -> Result<()> {
    use std::collections::BTreeMap;
    // (task, agent, variant, seed) -> step -> value; a repeated step keeps
    // its last row, as the analysis does.
    let mut runs: BTreeMap<(&str, &str, &str, i64), BTreeMap<i64, f64>> = BTreeMap::new();
    for r in records {
        if let Some(v) = r.metric() {
            runs.entry((&r.task, &r.agent, &r.variant, r.seed))
                .or_default()
                .insert(r.env_step, v);
        }
    }
    let mut out = format!("{RUNS_COLUMNS}\n");
    for ((task, agent, variant, seed), steps) in &runs {
        let Some((&last_step, &last)) = steps.last_key_value() else {
            continue;
        };
        let (best_step, best) =
            steps
                .iter()
                .fold((last_step, f64::NEG_INFINITY), |(bs, b), (&s, &v)| {
                    if v > b { (s, v) } else { (bs, b) }
                });
        out.push_str(&format!(
            "{},{},{},{seed},{},{},{last_step},{},{},{best_step}\n",
            csv_field(task),
            csv_field(agent),
            csv_field(variant),
            metric_name(task),
            steps.len(),
            f(last),
            f(best)
        ));
    }
    write_atomic(path, &out)
}

/// Writes `profile.csv`: the performance profile of each series at its last
/// aggregate step (`agent,variant,env_step,tau,fraction,ci_low,ci_high`).
pub fn write_profile(a: &Analysis, path: &Path) -> Result<()> {
    let mut out = String::from("agent,variant,env_step,tau,fraction,ci_low,ci_high\n");
    for g in &a.aggregates {
        let Some(p) = g.points.last() else { continue };
        for (tau, e) in a.taus.iter().zip(&g.profile) {
            out.push_str(&format!(
                "{},{},{},{},{},{},{}\n",
                csv_field(&g.series.agent),
                csv_field(&g.series.variant),
                p.step,
                tau,
                f(e.point),
                f(e.lo),
                f(e.hi)
            ));
        }
    }
    write_atomic(path, &out)
}

fn write_atomic(path: &Path, text: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file =
        std::fs::File::create(&tmp).with_context(|| format!("cannot write {}", tmp.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", tmp.display()))?;
    drop(file);
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}
