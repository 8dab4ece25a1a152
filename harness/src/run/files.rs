//! The files of a run directory besides its checkpoint: `meta.json`,
//! `eval.csv` (one [`EvalRow`] per evaluation), `train.csv`, and the atomic
//! writes and append-only logs they are written with.
//!
//! CSV lines are appended whole and flushed one by one; a log reopened at a
//! checkpoint's byte length is cut back to it first, so an interrupted run
//! never leaves a half or duplicated row.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::config::RunConfig;

/// One row of `eval.csv`: one evaluation of one run.
///
/// The first six columns are those of the DCWM paper's published CSVs, so
/// published baselines and our results load the same way; the header is
/// the field names in order ([`EvalRow::header`]). Floats are written in
/// their shortest round-trip form, an undefined value (NaN, no success
/// metric) as an empty cell; a cell with a comma (a variant of several grid
/// keys) is quoted.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvalRow {
    /// Agent name.
    pub agent: String,
    /// Task name.
    pub env: String,
    /// Environment steps (action repeat included) at this evaluation.
    pub env_step: u64,
    /// Mean return over the evaluation episodes.
    #[serde(serialize_with = "float_cell", deserialize_with = "float_or_nan")]
    pub episode_reward: f64,
    /// Success rate, for tasks that define success (Meta-World); empty for
    /// DMC, as in DCWM's published DMC CSVs.
    #[serde(serialize_with = "optional_float_cell")]
    pub episode_success: Option<f64>,
    /// The run's seed.
    pub seed: u64,
    /// Grid variant of a sweep (`latent_dim=128`), empty if none.
    pub variant: String,
    /// Seconds of the run (training and evaluation) up to this row.
    #[serde(serialize_with = "millis_cell")]
    pub wall_time_s: f64,
    /// Evaluation episodes averaged.
    pub episodes: usize,
    /// Environment steps per agent step in this run (files written before
    /// the column existed ran with DMC's 2).
    #[serde(default = "dmc_action_repeat")]
    pub action_repeat: u64,
    /// Share of episodes that succeeded at their final step (TD-MPC2's
    /// Meta-World metric: the last raw step's `success`), for tasks that
    /// define success; empty otherwise. `episode_success` is DCWM's
    /// "success at any step".
    #[serde(default, serialize_with = "optional_float_cell")]
    pub final_success: Option<f64>,
}

fn dmc_action_repeat() -> u64 {
    envs::DMC_PROTOCOL.action_repeat as u64
}

impl EvalRow {
    /// The CSV header: the field names, comma-separated.
    pub fn header() -> String {
        let mut w = csv::WriterBuilder::new()
            .has_headers(true)
            .from_writer(Vec::new());
        // Serializing a row with headers on writes the header line first.
        w.serialize(EvalRow::default())
            .expect("an EvalRow serializes");
        let bytes = w.into_inner().expect("writing to memory");
        let text = String::from_utf8(bytes).expect("field names are UTF-8");
        text.lines().next().unwrap_or_default().to_string()
    }

    /// The column names, in order.
    pub fn columns() -> Vec<String> {
        Self::header().split(',').map(String::from).collect()
    }

    /// The row as one CSV line (no newline); cells with commas are quoted.
    pub fn line(&self) -> Result<String> {
        let mut w = csv::WriterBuilder::new()
            .has_headers(false)
            .from_writer(Vec::new());
        w.serialize(self)?;
        let bytes = w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok(String::from_utf8(bytes)?.trim_end().to_string())
    }

    /// Reads every row of an `eval.csv`.
    pub fn read_all(path: &Path) -> Result<Vec<EvalRow>> {
        let mut r =
            csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
        r.deserialize()
            .map(|row| row.with_context(|| format!("reading {}", path.display())))
            .collect()
    }
}

/// A float for CSV: shortest round-trip form, empty for NaN.
pub fn csv_f64(x: f64) -> String {
    if x.is_nan() {
        String::new()
    } else {
        format!("{x}")
    }
}

fn float_cell<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&csv_f64(*x))
}

fn optional_float_cell<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&x.map(csv_f64).unwrap_or_default())
}

fn millis_cell<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{x:.3}"))
}

fn float_or_nan<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
}

/// `meta.json`: versions, device, host, times, and the commits built from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct Meta {
    pub ctrlbench_version: String,
    pub mujoco_version: String,
    pub libtorch_version: String,
    pub device: String,
    /// The commit the binary was built from, at the run's start.
    pub git_commit: Option<String>,
    pub host: String,
    pub start_time: String,
    pub resumed_at: Vec<String>,
    /// The commit the binary was built from, at each resume (in the order
    /// of `resumed_at`; `null` where it is unknown).
    #[serde(default)]
    pub resumed_git_commits: Vec<Option<String>>,
    pub end_time: Option<String>,
    pub complete: bool,
    /// The `configs/` directory the run's agent defaults were read from.
    #[serde(default)]
    pub configs_dir: Option<String>,
}

impl Meta {
    /// The run's `meta.json`, if there is a readable one.
    pub fn read(path: &Path) -> Option<Meta> {
        std::fs::read(path)
            .ok()
            .and_then(|b| serde_json::from_slice::<Meta>(&b).ok())
    }

    /// The run's `meta.json`, or a new one for a run starting now.
    pub fn read_or_new(path: &Path, device: &str) -> Meta {
        Meta::read(path).unwrap_or_else(|| Meta {
            ctrlbench_version: env!("CARGO_PKG_VERSION").into(),
            mujoco_version: envs::mujoco_version(),
            libtorch_version: agents::libtorch_version().into(),
            device: device.into(),
            git_commit: git_commit(),
            host: host(),
            start_time: utc_now(),
            resumed_at: vec![],
            resumed_git_commits: vec![],
            end_time: None,
            complete: false,
            configs_dir: None,
        })
    }

    /// Records a start from scratch at `now`.
    pub fn started(&mut self, now: String) {
        self.start_time = now;
        self.configs_dir = Some(crate::config::configs_dir().display().to_string());
        self.git_commit = git_commit();
        self.resumed_at.clear();
        self.resumed_git_commits.clear();
    }

    /// Records a resume at `now`.
    pub fn resumed(&mut self, now: String) {
        // meta.json files from before the commits were recorded lack them.
        let unknown = self
            .resumed_at
            .len()
            .saturating_sub(self.resumed_git_commits.len());
        self.resumed_git_commits
            .splice(0..0, std::iter::repeat_n(None, unknown));
        self.resumed_at.push(now);
        self.resumed_git_commits.push(git_commit());
    }

    /// Writes it to `path`.
    pub fn write(&self, path: &Path) -> Result<()> {
        write_atomic(path, &serde_json::to_vec_pretty(self)?)
    }
}

/// Whether the run in `dir` finished (meta.json says complete).
pub fn is_complete(dir: &Path) -> bool {
    Meta::read(&dir.join("meta.json")).is_some_and(|m| m.complete)
}

/// Whether `path` (an eval.csv) holds at least one row below its header.
pub(super) fn holds_rows(path: &Path) -> bool {
    std::fs::read_to_string(path).is_ok_and(|t| t.lines().nth(1).is_some_and(|l| !l.is_empty()))
}

/// Whether `dir` holds a complete run of exactly `cfg` (a complete run with
/// another config is not: running it reports the conflict).
pub fn is_complete_run(dir: &Path, cfg: &RunConfig) -> bool {
    is_complete(dir) && read_run_config(dir).is_ok_and(|c| c.same_run(cfg))
}

/// The run configuration in `dir`'s config.yaml.
pub fn read_run_config(dir: &Path) -> Result<RunConfig> {
    let path = dir.join("config.yaml");
    let text = std::fs::read_to_string(&path).with_context(|| {
        format!(
            "{} is not a run directory (cannot read its config.yaml)",
            dir.display()
        )
    })?;
    serde_yaml::from_str(&text).with_context(|| format!("reading {}", path.display()))
}

/// Appends whole lines to a CSV file and tracks its length.
pub(super) struct CsvLog {
    pub file: File,
    pub bytes: u64,
    path: PathBuf,
}

impl CsvLog {
    /// Opens `path` cut to `bytes` (0: new file with `header`).
    pub fn open(path: PathBuf, bytes: u64, header: &str) -> Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .with_context(|| format!("opening {}", path.display()))?;
        file.set_len(bytes)
            .with_context(|| format!("truncating {}", path.display()))?;
        let mut log = CsvLog { file, bytes, path };
        if bytes == 0 {
            log.line(header)?;
        }
        Ok(log)
    }

    /// Appends `line` + newline in one write.
    pub fn line(&mut self, line: &str) -> Result<()> {
        let s = format!("{line}\n");
        self.file
            .write_all(s.as_bytes())
            .and_then(|()| self.file.flush())
            .with_context(|| format!("writing {}", self.path.display()))?;
        self.bytes += s.len() as u64;
        Ok(())
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("writing {}", path.display()))
}

/// Current UTC time as RFC 3339 (`2025-01-31T12:00:00Z`).
pub fn utc_now() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The git commit this binary was built from (build.rs), if it was built
/// from a git checkout.
pub(super) fn git_commit() -> Option<String> {
    option_env!("CTRLBENCH_GIT_COMMIT").map(String::from)
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_now_is_rfc3339() {
        let t = utc_now();
        assert_eq!(t.len(), 20, "{t}");
        assert!(t.ends_with('Z') && t.starts_with("20"), "{t}");
    }

    #[test]
    fn eval_rows_write_the_published_columns_first_and_read_back() {
        assert_eq!(
            EvalRow::header(),
            "agent,env,env_step,episode_reward,episode_success,seed,variant,wall_time_s,\
             episodes,action_repeat,final_success"
        );
        let row = EvalRow {
            agent: "sac".into(),
            env: "cartpole-swingup".into(),
            env_step: 2000,
            episode_reward: 181.25,
            episode_success: None,
            seed: 5,
            variant: "lr=0.001,tau=0.01".into(),
            wall_time_s: 12.34567,
            episodes: 3,
            action_repeat: 2,
            final_success: None,
        };
        assert_eq!(
            row.line().unwrap(),
            "sac,cartpole-swingup,2000,181.25,,5,\"lr=0.001,tau=0.01\",12.346,3,2,"
        );
        let nan = EvalRow {
            episode_reward: f64::NAN,
            episode_success: Some(0.5),
            final_success: Some(0.25),
            ..row.clone()
        };
        assert!(nan.line().unwrap().contains(",,0.5,"));
        let dir = std::env::temp_dir().join(format!("ctrlbench-evalrow-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("eval.csv");
        let mut log = CsvLog::open(path.clone(), 0, &EvalRow::header()).unwrap();
        log.line(&row.line().unwrap()).unwrap();
        log.line(&nan.line().unwrap()).unwrap();
        let back = EvalRow::read_all(&path).unwrap();
        assert_eq!(
            back[0],
            EvalRow {
                wall_time_s: 12.346,
                ..row
            }
        );
        assert!(back[1].episode_reward.is_nan());
        assert_eq!(back[1].episode_success, Some(0.5));
        assert_eq!(back[1].final_success, Some(0.25));
        std::fs::remove_dir_all(dir).ok();
    }
}
