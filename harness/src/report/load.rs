//! Loading evaluation results with polars: every `eval.csv` under a results
//! directory, and published reference curves (DCWM or TD-MPC2 CSV format).

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use polars::prelude::*;

/// `anyhow`'s `with_context` under another name (polars' prelude has a
/// `PolarsContext` trait with the same method names).
trait Ctx<T> {
    fn ctx<F: FnOnce() -> String>(self, f: F) -> Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> Ctx<T> for std::result::Result<T, E> {
    fn ctx<F: FnOnce() -> String>(self, f: F) -> Result<T> {
        self.map_err(|e| anyhow::Error::new(e).context(f()))
    }
}

/// Columns of the long-format results table, in order: those of `eval.csv`
/// ([`crate::run::EvalRow`]); files without the later ones (published
/// CSVs) get empty values.
pub fn columns() -> Vec<String> {
    crate::run::EvalRow::columns()
}

/// One evaluation of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Agent name.
    pub agent: String,
    /// Variant of the agent (a grid point of a sweep); empty if none.
    pub variant: String,
    /// Task name (`walker-walk`, `mw-pick-place`).
    pub task: String,
    /// Seed of the run.
    pub seed: i64,
    /// Environment steps (action repeat included) at this evaluation.
    pub env_step: i64,
    /// Mean evaluation episode return.
    pub reward: Option<f64>,
    /// Evaluation success rate (Meta-World).
    pub success: Option<f64>,
    /// Environment steps per agent step of the run (unknown for published
    /// data).
    pub action_repeat: Option<i64>,
    /// Success rate at the episodes' final step (TD-MPC2's Meta-World
    /// metric; TD-MPC2's published success is this one).
    pub final_success: Option<f64>,
}

impl Record {
    /// Whether the task is a Meta-World task (`mw-` prefix).
    pub fn is_metaworld(&self) -> bool {
        is_metaworld(&self.task)
    }

    /// The task's metric: success rate for Meta-World, episode return otherwise.
    pub fn metric(&self) -> Option<f64> {
        if self.is_metaworld() {
            self.success
        } else {
            self.reward
        }
    }

    /// The metric normalized to [0, 1]: DMC return / 1000, Meta-World success rate.
    pub fn normalized(&self) -> Option<f64> {
        if self.is_metaworld() {
            self.success
        } else {
            self.reward.map(|r| r / 1000.0)
        }
    }
}

/// Whether a task name is a Meta-World task (`mw-` prefix).
pub fn is_metaworld(task: &str) -> bool {
    task.starts_with("mw-")
}

/// All files named `eval.csv` under `dir`, sorted by path.
pub fn find_eval_csvs(dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        bail!("{} is not a directory", dir.display());
    }
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).ctx(|| format!("reading directory {}", d.display()))?;
        for e in entries {
            let e = e.ctx(|| format!("reading directory {}", d.display()))?;
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.file_name().is_some_and(|n| n == "eval.csv") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

fn scan(path: &Path) -> Result<LazyFrame> {
    let s = path
        .to_str()
        .ok_or_else(|| anyhow!("{}: path is not UTF-8", path.display()))?;
    LazyCsvReader::new(PlRefPath::new(s))
        .with_has_header(true)
        .with_infer_schema_length(None)
        .finish()
        .ctx(|| format!("{}: cannot read as CSV", path.display()))
}

fn f64_col(name: &str) -> Expr {
    col(name).strict_cast(DataType::Float64)
}

fn null_of(dtype: DataType, name: &str) -> Expr {
    lit(NULL).cast(dtype).alias(name)
}

/// Reads one results CSV (the run loop's `eval.csv` or the DCWM published
/// format) into the canonical long-format columns ([`columns`]).
fn results_frame(path: &Path, lf: LazyFrame, names: &[String]) -> Result<LazyFrame> {
    let has = |c: &str| names.iter().any(|n| n == c);
    for c in ["agent", "env", "env_step", "seed"] {
        if !has(c) {
            bail!(
                "{}: missing column '{c}' (expected columns agent,env,env_step,episode_reward,episode_success,seed[,variant,...]; found {})",
                path.display(),
                names.join(",")
            );
        }
    }
    if !has("episode_reward") && !has("episode_success") {
        bail!(
            "{}: needs a column 'episode_reward' or 'episode_success' (found {})",
            path.display(),
            names.join(",")
        );
    }
    let opt_f64 = |c: &str| {
        if has(c) {
            f64_col(c)
        } else {
            null_of(DataType::Float64, c)
        }
    };
    let opt_i64 = |c: &str| {
        if has(c) {
            f64_col(c).strict_cast(DataType::Int64)
        } else {
            null_of(DataType::Int64, c)
        }
    };
    let variant = if has("variant") {
        col("variant")
            .strict_cast(DataType::String)
            .fill_null(lit(""))
    } else {
        lit("").alias("variant")
    };
    Ok(lf.select([
        col("agent").strict_cast(DataType::String),
        col("env").strict_cast(DataType::String),
        f64_col("env_step").strict_cast(DataType::Int64),
        opt_f64("episode_reward"),
        opt_f64("episode_success"),
        f64_col("seed").strict_cast(DataType::Int64),
        variant,
        opt_f64("wall_time_s"),
        opt_i64("episodes"),
        opt_i64("action_repeat"),
        opt_f64("final_success"),
    ]))
}

fn column_names(path: &Path, lf: &mut LazyFrame) -> Result<Vec<String>> {
    let schema = lf
        .collect_schema()
        .ctx(|| format!("{}: cannot read as CSV", path.display()))?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

fn collect_one(path: &Path, lf: LazyFrame) -> Result<DataFrame> {
    let df = lf
        .collect()
        .ctx(|| format!("{}: malformed results CSV", path.display()))?;
    if let Some(problem) = bad_values(&df)? {
        bail!("{}: {problem}", path.display());
    }
    Ok(df)
}

/// What no evaluation can hold, described, or None: an empty agent, task,
/// step or seed; a negative step or seed; a return or success rate that is
/// not a finite number (statistics over it would be NaN).
fn bad_values(df: &DataFrame) -> Result<Option<String>> {
    for c in ["agent", "env", "env_step", "seed"] {
        let n = df.column(c)?.null_count();
        if n > 0 {
            return Ok(Some(format!("column '{c}' has {n} empty value(s)")));
        }
    }
    for c in ["env_step", "seed"] {
        let n = (df.column(c)?.i64()?.iter().flatten())
            .filter(|&v| v < 0)
            .count();
        if n > 0 {
            return Ok(Some(format!("column '{c}' has {n} negative value(s)")));
        }
    }
    for c in ["episode_reward", "episode_success"] {
        let n = (df.column(c)?.f64()?.iter().flatten())
            .filter(|v| !v.is_finite())
            .count();
        if n > 0 {
            return Ok(Some(format!(
                "column '{c}' has {n} value(s) that are not finite numbers"
            )));
        }
    }
    Ok(None)
}

/// Loads every `eval.csv` under `dir` into one long-format table with the
/// columns [`columns`]. Errors name the offending file.
pub fn load_results(dir: &Path) -> Result<DataFrame> {
    let files = find_eval_csvs(dir)?;
    if files.is_empty() {
        bail!(
            "no eval.csv found under {} (expected results/<experiment>/<task>/<agent>[/<variant>]/seed-<n>/eval.csv)",
            dir.display()
        );
    }
    let mut frames = Vec::with_capacity(files.len());
    for f in &files {
        let mut lf = scan(f)?;
        let names = column_names(f, &mut lf)?;
        frames.push((f, results_frame(f, lf, &names)?));
    }
    concat_frames(frames)
}

/// Concatenates per-file frames lazily; on failure, collects each file alone
/// to name the one that is malformed.
fn concat_frames(frames: Vec<(&PathBuf, LazyFrame)>) -> Result<DataFrame> {
    let lfs: Vec<LazyFrame> = frames.iter().map(|(_, lf)| lf.clone()).collect();
    let all = concat(lfs, UnionArgs::default()).and_then(|lf| lf.collect());
    match all {
        Ok(df) => {
            if bad_values(&df)?.is_some() {
                // Find the file with the bad value.
                for (p, lf) in frames {
                    collect_one(p, lf)?;
                }
            }
            Ok(df)
        }
        Err(e) => {
            for (p, lf) in frames {
                collect_one(p, lf)?;
            }
            Err(e).ctx(|| "concatenating results".to_string())
        }
    }
}

/// Loads a published reference CSV: the DCWM format
/// (`agent,env,env_step,episode_reward[,episode_success],seed`, extra columns
/// ignored) or the TD-MPC2 format (`step,reward,seed` or `step,success,seed`;
/// the task is the file name, the agent its directory name).
pub fn load_reference(path: &Path) -> Result<DataFrame> {
    if !path.is_file() {
        bail!("reference file {} does not exist", path.display());
    }
    let mut lf = scan(path)?;
    let names = column_names(path, &mut lf)?;
    let has = |c: &str| names.iter().any(|n| n == c);
    let lf = if has("agent") && has("env") && has("env_step") {
        results_frame(path, lf, &names)?
    } else if has("step") && has("seed") && (has("reward") || has("success")) {
        let task = path
            .file_stem()
            .and_then(|s| s.to_str())
            .ok_or_else(|| anyhow!("{}: no task name in the file name", path.display()))?;
        let agent = path
            .parent()
            .and_then(|p| p.file_name())
            .and_then(|s| s.to_str())
            .unwrap_or("reference");
        let opt = |c: &str, out: &str| {
            if has(c) {
                f64_col(c).alias(out)
            } else {
                null_of(DataType::Float64, out)
            }
        };
        lf.select([
            lit(agent).alias("agent"),
            lit(task).alias("env"),
            f64_col("step")
                .strict_cast(DataType::Int64)
                .alias("env_step"),
            opt("reward", "episode_reward"),
            opt("success", "episode_success"),
            f64_col("seed").strict_cast(DataType::Int64),
            lit("").alias("variant"),
            null_of(DataType::Float64, "wall_time_s"),
            null_of(DataType::Int64, "episodes"),
            null_of(DataType::Int64, "action_repeat"),
            // TD-MPC2 evaluates success at an episode's final step.
            opt("success", "final_success"),
        ])
    } else {
        bail!(
            "{}: unknown reference format (columns {}); expected agent,env,env_step,episode_reward[,episode_success],seed (DCWM) or step,reward|success,seed (TD-MPC2)",
            path.display(),
            names.join(",")
        );
    };
    collect_one(path, lf)
}

fn strs(df: &DataFrame, c: &str) -> Result<Vec<String>> {
    Ok(df
        .column(c)?
        .str()?
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect())
}

fn i64s(df: &DataFrame, c: &str) -> Result<Vec<Option<i64>>> {
    Ok(df.column(c)?.i64()?.iter().collect())
}

fn f64s(df: &DataFrame, c: &str) -> Result<Vec<Option<f64>>> {
    Ok(df.column(c)?.f64()?.iter().collect())
}

/// Converts a long-format table ([`columns`]) into records.
pub fn records(df: &DataFrame) -> Result<Vec<Record>> {
    let agent = strs(df, "agent")?;
    let variant = strs(df, "variant")?;
    let env = strs(df, "env")?;
    let seed = i64s(df, "seed")?;
    let step = i64s(df, "env_step")?;
    let reward = f64s(df, "episode_reward")?;
    let success = f64s(df, "episode_success")?;
    let repeat = i64s(df, "action_repeat")?;
    let final_success = f64s(df, "final_success")?;
    Ok((0..df.height())
        .map(|i| Record {
            agent: agent[i].clone(),
            variant: variant[i].clone(),
            task: env[i].clone(),
            seed: seed[i].unwrap_or_default(),
            env_step: step[i].unwrap_or_default(),
            reward: reward[i],
            success: success[i],
            action_repeat: repeat[i],
            final_success: final_success[i],
        })
        .collect())
}

/// Writes a long-format table as CSV or Parquet, chosen by the extension of `out`.
pub fn export(df: &mut DataFrame, out: &Path) -> Result<()> {
    let ext = out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let kind = match ext.as_deref() {
        Some("csv") => "csv",
        Some("parquet") => "parquet",
        _ => bail!(
            "{}: unsupported output format; use a .csv or .parquet file name",
            out.display()
        ),
    };
    if let Some(parent) = out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .ctx(|| format!("creating directory {}", parent.display()))?;
    }
    let file = std::fs::File::create(out).ctx(|| format!("cannot write {}", out.display()))?;
    match kind {
        "csv" => CsvWriter::new(file)
            .include_header(true)
            .finish(df)
            .ctx(|| format!("writing {}", out.display()))?,
        _ => {
            ParquetWriter::new(file)
                .finish(df)
                .ctx(|| format!("writing {}", out.display()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::EvalRow;

    #[test]
    fn eval_csv_and_published_csvs_load_into_the_eval_row_columns() {
        let dir = std::env::temp_dir().join(format!("ctrlbench-load-{}", std::process::id()));
        let run = dir.join("results/exp/cartpole-swingup/sac/seed-1");
        std::fs::create_dir_all(&run).unwrap();
        let row = EvalRow {
            agent: "sac".into(),
            env: "cartpole-swingup".into(),
            env_step: 2000,
            episode_reward: 250.5,
            seed: 1,
            variant: "lr=0.001,tau=0.01".into(),
            episodes: 3,
            action_repeat: 8,
            ..EvalRow::default()
        };
        let text = format!("{}\n{}\n", EvalRow::header(), row.line().unwrap());
        std::fs::write(run.join("eval.csv"), text).unwrap();
        let df = load_results(&dir.join("results")).unwrap();
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, columns());
        let r = &records(&df).unwrap()[0];
        assert_eq!((r.reward, r.action_repeat), (Some(250.5), Some(8)));
        assert_eq!(r.variant, "lr=0.001,tau=0.01");

        let published = dir.join("dcwm.csv");
        std::fs::write(
            &published,
            "agent,env,env_step,episode_reward,episode_success,seed\n\
             dcmpc,walker-walk,10000,300,,1\n",
        )
        .unwrap();
        let df = load_reference(&published).unwrap();
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|n| n.to_string())
            .collect();
        assert_eq!(names, columns());
        assert_eq!(records(&df).unwrap()[0].action_repeat, None);
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn values_no_evaluation_can_hold_are_errors_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("ctrlbench-bad-{}", std::process::id()));
        let header = "agent,env,env_step,episode_reward,episode_success,seed";
        let good = "sac,walker-walk,0,30.5,,1";
        for (row, says) in [
            ("sac,walker-walk,-2000,30.5,,1", "'env_step' has 1 negative"),
            (
                "sac,walker-walk,2000,NaN,,1",
                "'episode_reward' has 1 value(s) that are not finite",
            ),
            (
                "sac,walker-walk,2000,inf,,1",
                "'episode_reward' has 1 value(s) that are not finite",
            ),
            ("sac,walker-walk,2000,30.5,,-1", "'seed' has 1 negative"),
            ("sac,,2000,30.5,,1", "'env' has 1 empty"),
        ] {
            let _ = std::fs::remove_dir_all(&dir);
            for (seed, body) in [(1, good), (2, row)] {
                let run = dir.join(format!("exp/walker-walk/sac/seed-{seed}"));
                std::fs::create_dir_all(&run).unwrap();
                std::fs::write(run.join("eval.csv"), format!("{header}\n{good}\n{body}\n"))
                    .unwrap();
            }
            let e = format!("{:#}", load_results(&dir).unwrap_err());
            assert!(
                e.contains("seed-2/eval.csv: ") && e.contains(says),
                "{row}: {e}"
            );
        }
        std::fs::remove_dir_all(dir).ok();
    }
}
