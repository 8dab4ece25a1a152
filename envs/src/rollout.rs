//! Open-loop rollouts of a raw task and their CSV form, shared by
//! `ctrlbench env rollout` and the parity tests against dm_control.
//!
//! Actions CSV: no header, one row per step, comma-separated floats.
//! Trajectory CSV: header `t,reward,discount,obs_0,...`; row 0 is the reset
//! observation with empty reward and discount; row t is the result of action
//! row t. Floats are written in their shortest round-trip form.

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
    /// Flat observation.
    pub obs: Vec<f64>,
}

/// Errors of reading or writing rollout files.
#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    /// File I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
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
    #[error("step {step}: {source}")]
    Env {
        /// 1-based step (= action row).
        step: usize,
        /// The environment's error.
        source: EnvError,
    },
    /// The environment could not be made or reset.
    #[error(transparent)]
    Make(#[from] EnvError),
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> RolloutError + '_ {
    move |source| RolloutError::Io {
        path: path.display().to_string(),
        source,
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

/// Resets `env` with `seed` and applies `actions` until they run out or the
/// episode ends.
pub fn rollout(
    env: &mut dyn Env,
    seed: u64,
    actions: &[Vec<f64>],
) -> Result<Vec<Row>, RolloutError> {
    let mut obs = vec![0.0; env.spec().obs_dim()];
    env.reset_into(Some(seed), &mut obs)?;
    let mut rows = vec![Row {
        reward: None,
        discount: None,
        obs: obs.clone(),
    }];
    for (i, a) in actions.iter().enumerate() {
        let t = env
            .step_into(a, &mut obs)
            .map_err(|source| RolloutError::Env {
                step: i + 1,
                source,
            })?;
        rows.push(Row {
            reward: Some(t.reward),
            discount: Some(t.info.discount),
            obs: obs.clone(),
        });
        if t.done() {
            break;
        }
    }
    Ok(rows)
}

/// Formats a float in its shortest round-trip form.
pub fn fmt_f64(x: f64) -> String {
    format!("{x:?}")
}

/// Writes a trajectory CSV.
pub fn write_trajectory(path: &Path, rows: &[Row]) -> Result<(), RolloutError> {
    let n = rows.first().map_or(0, |r| r.obs.len());
    let mut s = String::from("t,reward,discount");
    for i in 0..n {
        let _ = write!(s, ",obs_{i}");
    }
    s.push('\n');
    for (t, r) in rows.iter().enumerate() {
        let opt = |x: Option<f64>| x.map(fmt_f64).unwrap_or_default();
        let _ = write!(s, "{t},{},{}", opt(r.reward), opt(r.discount));
        for x in &r.obs {
            let _ = write!(s, ",{}", fmt_f64(*x));
        }
        s.push('\n');
    }
    std::fs::write(path, s).map_err(io_err(path))
}

/// Reads a trajectory CSV (as written by [`write_trajectory`] or by
/// `scripts/dmc_reference.py`).
pub fn read_trajectory(path: &Path) -> Result<Vec<Row>, RolloutError> {
    let text = std::fs::read_to_string(path).map_err(io_err(path))?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        let parse_err = |message: String| RolloutError::Parse {
            path: path.display().to_string(),
            line: i + 1,
            message,
        };
        let fields: Vec<&str> = line.split(',').collect();
        if fields.len() < 3 {
            return Err(parse_err("fewer than 3 columns".into()));
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
            obs: fields[3..]
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
