//! Open-loop rollouts of a raw task and their CSV form, shared by
//! `ctrlbench env rollout` and the parity tests against dm_control and
//! metaworld.
//!
//! Actions CSV: no header, one row per step, comma-separated floats.
//! Trajectory CSV: header `t,reward,discount[,info names...],obs_0,...`; the
//! first row is the reset observation with empty reward, discount and info
//! values; each further row is the result of the next action row. When an
//! episode ends and actions remain, the environment is reset without a seed
//! (its random stream continues) and the reset row is written before the
//! next step, so one file can hold several episodes. The info columns are
//! the suite's named values (Meta-World's `success`, `near_object`, ...;
//! none for DMC). Floats are written in their shortest round-trip form.

use std::fmt::Write as _;
use std::path::Path;

use crate::env::Env;
use crate::error::EnvError;

/// One row of a trajectory.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Reward (None for the reset row).
    pub reward: Option<f64>,
    /// Discount (None for the reset row).
    pub discount: Option<f64>,
    /// The suite's named info values (NaN in a reset row).
    pub info: Vec<f64>,
    /// Flat observation.
    pub obs: Vec<f64>,
}

/// Errors of reading or writing rollout files.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// File I/O failed.
    #[error("{path}: {cause}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error (in the message, not a separate source, so that
        /// it is printed once).
        cause: std::io::Error,
    },
    /// A row could not be parsed or has the wrong width.
    #[error("{path}:{line}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The environment refused an action.
    #[error("step {step}: {cause}")]
    Env {
        /// 1-based step (= action row).
        step: usize,
        /// The environment's error (in the message only).
        cause: EnvError,
    },
    /// The environment could not be made or reset.
    #[error(transparent)]
    Make(#[from] EnvError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RolloutError + '_ {
    move |cause| RolloutError::Io {
        path: path.display().to_string(),
        cause,
    }
}

/// Reads an actions CSV, checking that every row has `width` finite values.
pub fn read_actions(path: &Path, width: usize) -> Result<Vec<Vec<f64>>, RolloutError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let parse_err = |message: String| RolloutError::Parse {
            path: path.display().to_string(),
            line: i + 1,
            message,
        };
        let row = line
            .split(',')
            .map(|f| {
                f.trim()
                    .parse::<f64>()
                    .map_err(|_| parse_err(format!("'{}' is not a number", f.trim())))
            })
            .collect::<Result<Vec<f64>, _>>()?;
        if row.len() != width {
            return Err(parse_err(format!(
                "{} values, the task's action has {width}",
                row.len()
            )));
        }
        if let Some(v) = row.iter().find(|v| !v.is_finite()) {
            return Err(parse_err(format!("{v} is not a finite action value")));
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Resets `env` with `seed` and applies `actions`, resetting without a seed
/// whenever an episode ends and actions remain.
pub fn rollout(
    env: &mut dyn Env,
    seed: u64,
    actions: &[Vec<f64>],
) -> Result<Vec<Row>, RolloutError> {
    let n_info = env.spec().info_names.len();
    let mut obs = vec![0.0; env.spec().obs_dim()];
    let reset_row = |obs: &[f64]| Row {
        reward: None,
        discount: None,
        info: vec![f64::NAN; n_info],
        obs: obs.to_vec(),
    };
    env.reset_into(Some(seed), &mut obs)?;
    let mut rows = vec![reset_row(&obs)];
    let mut ended = false;
    for (i, a) in actions.iter().enumerate() {
        if ended {
            env.reset_into(None, &mut obs)?;
            rows.push(reset_row(&obs));
        }
        let t = env
            .step_into(a, &mut obs)
            .map_err(|cause| RolloutError::Env { step: i + 1, cause })?;
        rows.push(Row {
            reward: Some(t.reward),
            discount: Some(t.info.discount),
            info: t.info.values[..n_info].to_vec(),
            obs: obs.clone(),
        });
        ended = t.done();
    }
    Ok(rows)
}

/// Formats a float in its shortest round-trip form.
pub fn fmt_f64(x: f64) -> String {
    format!("{x:?}")
}

/// Writes a trajectory CSV; `info_names` name the info columns (the
/// environment's [`crate::EnvSpec::info_names`]).
pub fn write_trajectory(
    path: &Path,
    info_names: &[&str],
    rows: &[Row],
) -> Result<(), RolloutError> {
    let n = rows.first().map_or(0, |r| r.obs.len());
    let mut s = String::from("t,reward,discount");
    for name in info_names {
        let _ = write!(s, ",{name}");
    }
    for i in 0..n {
        let _ = write!(s, ",obs_{i}");
    }
    s.push('\n');
    for (t, r) in rows.iter().enumerate() {
        let opt = |x: Option<f64>| x.map(fmt_f64).unwrap_or_default();
        let _ = write!(s, "{t},{},{}", opt(r.reward), opt(r.discount));
        for x in &r.info {
            let v = if x.is_nan() && r.reward.is_none() {
                String::new()
            } else {
                fmt_f64(*x)
            };
            let _ = write!(s, ",{v}");
        }
        for x in &r.obs {
            let _ = write!(s, ",{}", fmt_f64(*x));
        }
        s.push('\n');
    }
    std::fs::write(path, s).map_err(io_err(path))
}

/// Reads a trajectory CSV (as written by [`write_trajectory`] or by the
/// reference scripts): the columns between `discount` and `obs_0` are info
/// values.
pub fn read_trajectory(path: &Path) -> Result<Vec<Row>, RolloutError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let header: Vec<&str> = text.lines().next().unwrap_or_default().split(',').collect();
    let n_info = header
        .iter()
        .position(|h| h.starts_with("obs_"))
        .unwrap_or(header.len())
        .saturating_sub(3);
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let parse_err = |message: String| RolloutError::Parse {
            path: path.display().to_string(),
            line: i + 1,
            message,
        };
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() < 3 + n_info {
            return Err(parse_err(format!("fewer than {} columns", 3 + n_info)));
        }
        let num = |f: &str| {
            f.parse::<f64>()
                .map_err(|_| parse_err(format!("'{f}' is not a number")))
        };
        let opt = |f: &str| {
            if f.is_empty() {
                Ok(None)
            } else {
                num(f).map(Some)
            }
        };
        rows.push(Row {
            reward: opt(fields[1])?,
            discount: opt(fields[2])?,
            info: fields[3..3 + n_info]
                .iter()
                .map(|f| opt(f).map(|v| v.unwrap_or(f64::NAN)))
                .collect::<Result<_, _>>()?,
            obs: fields[3 + n_info..]
                .iter()
                .map(|f| num(f))
                .collect::<Result<_, _>>()?,
        });
    }
    Ok(rows)
}

/// Largest absolute difference between two trajectories, or a description
/// of the first structural mismatch (length, missing reward, width).
pub fn max_abs_diff(a: &[Row], b: &[Row]) -> Result<f64, String> {
    if a.len() != b.len() {
        return Err(format!("{} rows vs {} rows", a.len(), b.len()));
    }
    let mut worst: f64 = 0.0;
    for (t, (x, y)) in a.iter().zip(b).enumerate() {
        if x.obs.len() != y.obs.len() {
            return Err(format!(
                "row {t}: {} vs {} observations",
                x.obs.len(),
                y.obs.len()
            ));
        }
        if x.info.len() != y.info.len() {
            return Err(format!(
                "row {t}: {} vs {} info values",
                x.info.len(),
                y.info.len()
            ));
        }
        for (p, q) in x.info.iter().zip(&y.info) {
            worst = worst.max(diff(*p, *q));
        }
        let pairs = [(x.reward, y.reward), (x.discount, y.discount)];
        for (p, q) in pairs {
            match (p, q) {
                (Some(p), Some(q)) => worst = worst.max(diff(p, q)),
                (None, None) => {}
                _ => return Err(format!("row {t}: reward/discount present on one side only")),
            }
        }
        for (p, q) in x.obs.iter().zip(&y.obs) {
            worst = worst.max(diff(*p, *q));
        }
    }
    Ok(worst)
}

fn diff(a: f64, b: f64) -> f64 {
    if a == b || (a.is_nan() && b.is_nan()) {
        0.0
    } else if a.is_nan() || b.is_nan() {
        f64::INFINITY
    } else {
        (a - b).abs()
    }
}
