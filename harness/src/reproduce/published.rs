//! The published per-seed results shipped under `data/published/` (gzipped
//! CSVs; sources in its README), normalised by one loader into
//! [`Observation`]s, and the alignment of evaluation steps.
//!
//! # Contract
//!
//! The files do not share a schema; [`load_source`] reads each into the same
//! shape:
//! - DCWM's files: `env,env_step,seed` with `episode_reward`, maybe
//!   `episode_success`, `active_percent`, `time`, and one variant column
//!   (`agent`, `discrete_encoding_type`, `fsq_levels` or `latent_dim`);
//!   TD-MPC2's: `step,reward|success,seed`, one file per task and agent;
//!   TD-MPC's own: `seed,step,return`, one file per task.
//! - Task names become the registry's (`finger-turn_hard` → `finger-turn-hard`).
//! - A run is a block of consecutive rows of one (variant, task, seed) with
//!   non-decreasing steps: a seed id that appears again after other rows, or
//!   whose steps start over, is another run (the ablation files and TD-MPC's
//!   dog and humanoid files hold two runs under some seed ids), and a step
//!   repeated within a block keeps its last row (some runs log their final
//!   evaluation twice).
//! - Each run's steps are floored to its evaluation grid (the most common
//!   step difference of the run): runs start at offsets 0, 200, 1000 or 5000
//!   (1k, 26k, ... becomes 0, 25k, ...), so that runs of one figure share
//!   steps; an evaluation missing inside a run (TD-MPC2's DreamerV3 runs skip
//!   many) is the linear interpolation of its neighbours on that grid, so
//!   that aggregates over tasks have every task at every step.
//! - Only the figure's seeds are kept, as the plotting notebooks do.
//!
//! Steps of different grids (0/25k, 1k/26k, 100k) are compared through
//! [`align`]: the nearest published step within [`ALIGN_TOLERANCE`].

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};

use super::registry::{FigureSpec, Source};

/// One evaluation of one run: ours or published.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    /// Series in the figure (`DCWM`, `L=[8]`, `TD-MPC2`).
    pub series: String,
    /// Published data rather than this project's run.
    pub published: bool,
    /// Task, as the registry names it.
    pub task: String,
    /// The run: its seed, made unique where a published file repeats seed ids.
    pub run: i64,
    /// Env steps.
    pub step: i64,
    /// The task's metric: episode return (DMC) or success rate (Meta-World).
    pub score: f64,
    /// Codebook active codes (%), where recorded.
    pub active: Option<f64>,
    /// Wall-clock hours of the run at this step, where recorded.
    pub hours: Option<f64>,
}

/// Steps of two grids closer than this are the same evaluation (the
/// ablations evaluate at 1k, 26k, ..., the main runs at 0, 25k, ...).
pub const ALIGN_TOLERANCE: i64 = 1000;

/// The published step nearest to `step` within [`ALIGN_TOLERANCE`] (the
/// earlier one on a tie).
pub fn align(step: i64, published: &[i64]) -> Option<i64> {
    published
        .iter()
        .copied()
        .filter(|p| (p - step).abs() <= ALIGN_TOLERANCE)
        .min_by_key(|p| ((p - step).abs(), *p))
}

/// `data/published/` of the project (or of a bundle).
pub fn data_dir() -> PathBuf {
    crate::project_dir().join("data").join("published")
}

/// A published task name in the registry's spelling.
pub fn normalize_task(name: &str) -> String {
    name.trim().replace('_', "-")
}

/// The published observations of a figure: every source, on its tasks and
/// published seeds, series named as in the figure.
pub fn load_figure(fig: &FigureSpec, dir: &Path) -> Result<Vec<Observation>> {
    let mut out = Vec::new();
    for src in fig.sources {
        out.extend(load_source(fig, src, dir)?);
    }
    Ok(out)
}

fn read_gz(path: &Path) -> Result<String> {
    let file = std::fs::File::open(path).with_context(|| {
        format!(
            "published data {} is missing (the project's data/published/ folder)",
            path.display()
        )
    })?;
    let mut text = String::new();
    flate2::read::GzDecoder::new(file)
        .read_to_string(&mut text)
        .with_context(|| format!("{}: not a gzipped text file", path.display()))?;
    Ok(text)
}

/// Reads one source of a figure.
pub fn load_source(fig: &FigureSpec, src: &Source, dir: &Path) -> Result<Vec<Observation>> {
    let mut out = Vec::new();
    if src.file.contains("{task}") {
        for task in fig.tasks {
            let path = dir.join(format!("{}.csv.gz", src.file.replace("{task}", task)));
            if !path.is_file() {
                continue; // this baseline did not run the task
            }
            let series = src.series.unwrap_or("reference");
            out.extend(parse(fig, &read_gz(&path)?, &path, Some((series, task)))?);
        }
    } else {
        let path = dir.join(format!("{}.csv.gz", src.file));
        let rows = parse(fig, &read_gz(&path)?, &path, None)?;
        out.extend(rows.into_iter().map(|mut o| {
            if let Some(s) = src.series {
                o.series = s.to_string();
            }
            o
        }));
    }
    Ok(out)
}

const VARIANT_COLUMNS: [&str; 4] = [
    "agent",
    "discrete_encoding_type",
    "fsq_levels",
    "latent_dim",
];

/// Parses one published CSV. `fixed`: (series, task) of a TD-MPC2 file.
fn parse(
    fig: &FigureSpec,
    text: &str,
    path: &Path,
    fixed: Option<(&str, &str)>,
) -> Result<Vec<Observation>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .with_context(|| format!("{}: no CSV header", path.display()))?
        .iter()
        .map(str::to_string)
        .collect();
    let index = |c: &str| header.iter().position(|h| h == c);
    let need = |c: &str| {
        index(c).ok_or_else(|| {
            anyhow!(
                "{}: missing column '{c}' (found {})",
                path.display(),
                header.join(",")
            )
        })
    };
    let metaworld = |task: &str| task.starts_with("mw-");
    let (step_col, seed_col) = match fixed {
        Some(_) => (need("step")?, need("seed")?),
        None => (need("env_step")?, need("seed")?),
    };
    let (reward_col, success_col) = match fixed {
        // TD-MPC's own files call the return `return`.
        Some(_) => (
            index("reward").or_else(|| index("return")),
            index("success"),
        ),
        None => (index("episode_reward"), index("episode_success")),
    };
    let env_col = if fixed.is_none() {
        Some(need("env")?)
    } else {
        None
    };
    let variant_col = VARIANT_COLUMNS.iter().find_map(|c| index(c));
    let active_col = index("active_percent");
    let time_col = index("time");

    // Runs: blocks of consecutive rows of one key; step -> observation.
    type Key = (String, String, i64);
    let mut blocks: Vec<(Key, BTreeMap<i64, Observation>)> = Vec::new();
    let mut seen: BTreeMap<Key, i64> = BTreeMap::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.with_context(|| format!("{}: row {}", path.display(), line + 2))?;
        let field = |i: usize| record.get(i).unwrap_or("").trim();
        let number = |i: usize| -> Result<Option<f64>> {
            let v = field(i);
            if v.is_empty() || v.eq_ignore_ascii_case("nan") {
                return Ok(None);
            }
            v.parse::<f64>().map(Some).map_err(|_| {
                anyhow!(
                    "{}: row {}: '{v}' in column '{}' is not a number",
                    path.display(),
                    line + 2,
                    header[i]
                )
            })
        };
        let (series, task) = match fixed {
            Some((s, t)) => (s.to_string(), t.to_string()),
            None => {
                let task = normalize_task(field(env_col.unwrap_or(0)));
                let label = variant_col.map(field).unwrap_or("");
                // Rows of variants the figure does not show are skipped.
                let series = match (variant_col, fig.series_of_published(label)) {
                    (Some(_), Some(s)) => s.to_string(),
                    (Some(_), None) if !label.is_empty() => {
                        if fig.variants.iter().all(|v| v.published.is_some()) {
                            continue;
                        }
                        label.to_string()
                    }
                    _ => label.to_string(),
                };
                (series, task)
            }
        };
        if !fig.tasks.contains(&task.as_str()) {
            continue;
        }
        let Some(seed) = number(seed_col)? else {
            bail!("{}: row {}: empty seed", path.display(), line + 2);
        };
        let seed = seed as i64;
        if !fig.published_seeds.contains(&seed) {
            continue;
        }
        let Some(step) = number(step_col)? else {
            bail!("{}: row {}: empty step", path.display(), line + 2);
        };
        let col = if metaworld(&task) {
            success_col
        } else {
            reward_col
        };
        let Some(score) = col.map(number).transpose()?.flatten() else {
            continue; // no value of this task's metric on this row
        };
        let active = active_col.map(number).transpose()?.flatten();
        // Seconds; some files hold zeros where they did not record it.
        let hours = time_col
            .map(number)
            .transpose()?
            .flatten()
            .filter(|t| *t > 0.0)
            .map(|t| t / 3600.0);
        let key: Key = (series.clone(), task.clone(), seed);
        let step = step.round() as i64;
        let new_block = blocks.last().is_none_or(|(k, b)| {
            k != &key || b.last_key_value().is_some_and(|(&last, _)| step < last)
        });
        if new_block {
            let n = seen.entry(key.clone()).or_insert(0);
            *n += 1;
            blocks.push((key, BTreeMap::new()));
        }
        let repeat = seen[&blocks.last().expect("a block").0];
        // The k-th run under one seed id gets id seed + 1000 (k - 1).
        let run = seed + 1000 * (repeat - 1);
        let obs = Observation {
            series,
            published: true,
            task,
            run,
            step,
            score,
            active,
            hours,
        };
        blocks.last_mut().expect("a block").1.insert(obs.step, obs);
    }
    Ok(blocks.into_iter().flat_map(|(_, b)| on_grid(b)).collect())
}

/// A run's observations with steps floored to its grid: the most common
/// difference between consecutive steps (the smallest on a tie); later rows
/// win where two steps floor to one.
fn on_grid(run: BTreeMap<i64, Observation>) -> Vec<Observation> {
    let steps: Vec<i64> = run.keys().copied().collect();
    let mut counts: BTreeMap<i64, usize> = BTreeMap::new();
    for w in steps.windows(2) {
        *counts.entry(w[1] - w[0]).or_default() += 1;
    }
    let spacing = counts
        .iter()
        .max_by_key(|(d, n)| (**n, std::cmp::Reverse(**d)))
        .map_or(1, |(d, _)| *d);
    let spacing = spacing.max(1);
    let mut out: BTreeMap<i64, Observation> = BTreeMap::new();
    for (step, mut o) in run {
        o.step = step - step.rem_euclid(spacing);
        out.insert(o.step, o);
    }
    let points: Vec<Observation> = out.into_values().collect();
    let mut filled = Vec::with_capacity(points.len());
    for (i, o) in points.iter().enumerate() {
        if let Some(next) = points.get(i + 1) {
            filled.push(o.clone());
            let gap = next.step - o.step;
            for k in 1..(gap / spacing) {
                let w = (k * spacing) as f64 / gap as f64;
                let lerp = |a: f64, b: f64| a + w * (b - a);
                filled.push(Observation {
                    step: o.step + k * spacing,
                    score: lerp(o.score, next.score),
                    active: o.active.zip(next.active).map(|(a, b)| lerp(a, b)),
                    hours: o.hours.zip(next.hours).map(|(a, b)| lerp(a, b)),
                    ..o.clone()
                });
            }
        } else {
            filled.push(o.clone());
        }
    }
    filled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reproduce::registry;

    #[test]
    fn steps_align_to_the_nearest_published_step_within_a_thousand() {
        let published = [0, 25_000, 50_000, 100_000];
        assert_eq!(align(26_000, &published), Some(25_000));
        assert_eq!(align(24_000, &published), Some(25_000));
        assert_eq!(align(27_000, &published), None);
        assert_eq!(align(1000, &published), Some(0));
        assert_eq!(align(75_000, &published), None);
        // A tie takes the earlier step.
        assert_eq!(align(500, &[0, 1000]), Some(0));
    }

    #[test]
    fn repeated_seed_ids_become_runs_and_repeated_steps_keep_the_last_row() {
        let fig = registry::find("fig11-redq").unwrap();
        let text = "agent,env,env_step,episode_reward,seed\n\
            $N_q=2$,walker_walk,0,10,1\n\
            $N_q=2$,walker_walk,1000,20,1\n\
            $N_q=2$,walker_walk,1000,25,1\n\
            $N_q=5$,walker_walk,0,30,1\n\
            $N_q=2$,walker_walk,0,40,1\n\
            $N_q=2$,walker_walk,0,50,4\n\
            other,walker_walk,0,60,1\n\
            $N_q=5$,walker_walk,1000,70,2\n\
            $N_q=5$,walker_walk,26000,80,2\n\
            $N_q=5$,walker_walk,51000,90,2\n\
            $N_q=5$,walker_walk,1000,95,2\n";
        let obs = parse(fig, text, Path::new("t.csv"), None).unwrap();
        let got: Vec<(&str, i64, i64, f64)> = obs
            .iter()
            .map(|o| (o.series.as_str(), o.run, o.step, o.score))
            .collect();
        assert_eq!(
            got,
            [
                ("N_q=2", 1, 0, 10.0),
                ("N_q=2", 1, 1000, 25.0),
                ("N_q=5 (DCWM)", 1, 0, 30.0),
                ("N_q=2", 1001, 0, 40.0),
                ("N_q=5 (DCWM)", 2, 0, 70.0),
                ("N_q=5 (DCWM)", 2, 25_000, 80.0),
                ("N_q=5 (DCWM)", 2, 50_000, 90.0),
                ("N_q=5 (DCWM)", 1002, 1000, 95.0),
            ]
        );
        // A missing evaluation inside a run is interpolated on its grid.
        let text = "agent,env,env_step,episode_reward,seed\n\
            $N_q=2$,walker_walk,0,0,3\n\
            $N_q=2$,walker_walk,100,10,3\n\
            $N_q=2$,walker_walk,200,20,3\n\
            $N_q=2$,walker_walk,500,80,3\n";
        let obs = parse(fig, text, Path::new("t.csv"), None).unwrap();
        let got: Vec<(i64, f64)> = obs.iter().map(|o| (o.step, o.score)).collect();
        assert_eq!(
            got,
            [
                (0, 0.0),
                (100, 10.0),
                (200, 20.0),
                (300, 40.0),
                (400, 60.0),
                (500, 80.0)
            ]
        );
        assert!(obs.iter().all(|o| o.task == "walker-walk" && o.published));
    }

    #[test]
    fn every_shipped_source_loads_with_values_on_the_figure_tasks() {
        let dir = data_dir();
        for fig in registry::FIGURES {
            for src in fig.sources {
                let obs = load_source(fig, src, &dir)
                    .unwrap_or_else(|e| panic!("{} {}: {e:#}", fig.id, src.file));
                assert!(!obs.is_empty(), "{}: {} has no rows", fig.id, src.file);
                assert!(obs.iter().all(|o| o.score.is_finite()));
            }
        }
    }
}
