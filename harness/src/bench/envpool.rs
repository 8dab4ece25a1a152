//! EnvPool's speed on the same task, for `ctrlbench bench env --envpool`.
//!
//! EnvPool (Weng et al., NeurIPS 2022; PyPI `envpool`) is the batched C++
//! engine users compare environment throughput against. Version
//! [`ENVPOOL_VERSION`] ships dm_control's suite and Meta-World v3. It is
//! installed on first use into its own virtual environment under the cache
//! (`<cache>/envpool-1.2.5-venv`, from PyPI), never by `make setup` or
//! `make test`, and `scripts/envpool_speed.py` times its synchronous pool
//! there.
//!
//! What its figure is and is not:
//! - it includes the Python call per batch (EnvPool's API is Python): the
//!   call into the pool, the wait for its threads and the NumPy arrays
//!   returned; resets happen inside the timed steps;
//! - EnvPool links its own MuJoCo build and its own port of the task code,
//!   so "the same task" is the same model file and task definition, not the
//!   same physics binary or the same floating-point results.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

/// The EnvPool release compared with.
pub const ENVPOOL_VERSION: &str = "1.2.5";

/// EnvPool's throughput on one task, control steps/s.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct EnvPoolSpeed {
    /// EnvPool's task id (`CartpoleSwingup-v1`, `MetaWorld/Reach-v3`).
    pub task_id: String,
    /// EnvPool's version.
    pub envpool: String,
    /// Environments in the pool.
    pub envs: usize,
    /// Its threads.
    pub threads: usize,
    /// Median of the repeats, total steps/s.
    pub steps_per_s: f64,
    /// Each repeat's total steps/s.
    pub repeats: Vec<f64>,
}

/// EnvPool's id of a registered task: dm_control's `domain`/`task` in
/// CamelCase with `-v1` (`ball_in_cup`/`catch` -> `BallInCupCatch-v1`),
/// Meta-World's `MetaWorld/<Task>-v3`.
pub fn envpool_task_id(task: &str) -> Result<String> {
    let def = envs::find(task)?;
    let camel = |s: &str| -> String {
        s.split(['_', '-'])
            .map(|w| {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect()
    };
    match def.source {
        envs::registry::Source::DmControl => {
            Ok(format!("{}{}-v1", camel(def.domain), camel(def.task)))
        }
        envs::registry::Source::MetaWorld => Ok(format!("MetaWorld/{}-v3", camel(def.task))),
        envs::registry::Source::TdMpc2 => {
            bail!("{task} is one of TD-MPC2's tasks: EnvPool does not have it")
        }
        envs::registry::Source::Ctrlbench => {
            bail!("{task} is defined by ctrlbench itself: EnvPool does not have it")
        }
    }
}

/// The cache directory (`$CTRLBENCH_CACHE`, else `$XDG_CACHE_HOME/ctrlbench`,
/// else `~/.cache/ctrlbench`), as `make setup` chooses it.
fn cache_dir() -> Result<PathBuf> {
    let var = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(c) = var("CTRLBENCH_CACHE") {
        return Ok(c);
    }
    let base = var("XDG_CACHE_HOME")
        .or_else(|| var("HOME").map(|h| h.join(".cache")))
        .context("no cache directory: set CTRLBENCH_CACHE")?;
    Ok(base.join("ctrlbench"))
}

/// Runs a command, failing with its stderr's last lines.
fn run(cmd: &mut Command, what: &str) -> Result<Vec<u8>> {
    let out = cmd
        .output()
        .with_context(|| format!("{what}: cannot start"))?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        bail!("{what} failed: {}", tail.join(" | "));
    }
    Ok(out.stdout)
}

/// The interpreter of EnvPool's virtual environment, created and filled
/// from PyPI on first use (`python3` ≥ 3.11, as EnvPool 1.2.5 requires;
/// `CTRLBENCH_ENVPOOL_PYTHON` names another base interpreter).
pub fn envpool_python() -> Result<PathBuf> {
    let venv = cache_dir()?.join(format!("envpool-{ENVPOOL_VERSION}-venv"));
    let python = venv.join("bin").join("python");
    let ready = venv.join(".installed");
    if ready.is_file() {
        return Ok(python);
    }
    let base = std::env::var("CTRLBENCH_ENVPOOL_PYTHON").unwrap_or_else(|_| "python3".into());
    tracing::info!(
        "installing EnvPool {ENVPOOL_VERSION} into {} (first use)",
        venv.display()
    );
    let cannot = |e: anyhow::Error| {
        e.context(format!(
            "cannot install EnvPool {ENVPOOL_VERSION} into {} (it needs Python >= 3.11 \
             and PyPI; set CTRLBENCH_ENVPOOL_PYTHON to another python3)",
            venv.display()
        ))
    };
    // `--clear`: a venv left by an interrupted or failed install starts
    // over, with the interpreter named now.
    run(
        Command::new(&base)
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python3 -m venv",
    )
    .map_err(cannot)?;
    run(
        Command::new(&python).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            &format!("envpool=={ENVPOOL_VERSION}"),
        ]),
        "pip install envpool",
    )
    .map_err(cannot)?;
    std::fs::write(&ready, ENVPOOL_VERSION)
        .with_context(|| format!("writing {}", ready.display()))?;
    Ok(python)
}

/// Times EnvPool's pool of `envs` environments on `threads` threads on
/// `task` (`steps` control steps in all, median of `repeats`).
pub fn envpool_speed(
    task: &str,
    envs: usize,
    threads: usize,
    steps: usize,
    repeats: usize,
    seed: u64,
) -> Result<EnvPoolSpeed> {
    let id = envpool_task_id(task)?;
    let python = envpool_python()?;
    let script: &Path = &crate::project_dir().join("scripts/envpool_speed.py");
    let out = run(
        Command::new(&python)
            .arg(script)
            .args(["--task-id", &id])
            .args(["--envs", &envs.to_string()])
            .args(["--threads", &threads.to_string()])
            .args(["--steps", &steps.to_string()])
            .args(["--repeats", &repeats.to_string()])
            .args(["--seed", &seed.to_string()]),
        &format!("{} --task-id {id}", script.display()),
    )?;
    serde_json::from_slice(&out).with_context(|| format!("reading {} output", script.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_follow_envpools_registration() {
        assert_eq!(
            envpool_task_id("cartpole-swingup").unwrap(),
            "CartpoleSwingup-v1"
        );
        assert_eq!(envpool_task_id("cup-catch").unwrap(), "BallInCupCatch-v1");
        assert_eq!(
            envpool_task_id("finger-turn-hard").unwrap(),
            "FingerTurnHard-v1"
        );
        assert_eq!(
            envpool_task_id("mw-button-press-topdown-wall").unwrap(),
            "MetaWorld/ButtonPressTopdownWall-v3"
        );
        assert!(envpool_task_id("pendulum-spin").is_err());
        assert!(envpool_task_id("pointmass-seqnav").is_err());
        assert!(envpool_task_id("no-such-task").is_err());
    }
}
