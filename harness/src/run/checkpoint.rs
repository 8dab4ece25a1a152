//! Checkpoints of a run in progress, and resuming from them.
//!
//! `checkpoint/` holds the agent (`agent/`), the replay buffer
//! (`buffer.bin`) and the loop's own state (`state.json`: step, episode,
//! seed-step generator, CSV byte lengths, the updates still owed to the
//! agent's block). It is
//! written as `checkpoint.tmp/` and renamed into place, the previous one
//! kept as `checkpoint.old/` until the rename is done, so a crash at any
//! moment leaves one whole checkpoint.

use std::path::Path;

use agents::{Agent, ReplayBuffer, Rng};
use anyhow::{Context, Result, anyhow};
use serde::{Deserialize, Serialize};

use super::Runner;

/// A finished training episode whose train.csv row waits for the agent's
/// update block.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub(super) struct EpisodeEnd {
    pub env_step: u64,
    pub episode: u64,
    pub ret: f64,
    pub len: u64,
}

/// The loop's own state, saved with each checkpoint.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct LoopState {
    pub env_step: u64,
    pub episode: u64,
    pub next_eval: u64,
    pub last_eval_step: Option<u64>,
    pub last_eval: Option<f64>,
    pub last_checkpoint: u64,
    /// Draws the uniform random actions of the seed steps.
    #[serde(rename = "rng")]
    pub seed_step_rng: Rng,
    pub wall_time_s: f64,
    pub eval_csv_bytes: u64,
    pub train_csv_bytes: u64,
    pub train_columns: Vec<String>,
    /// Set while the agent's update block after this episode runs.
    #[serde(default)]
    pub episode_end: Option<EpisodeEnd>,
    /// Updates the agent asked for that have not run yet (a block in
    /// progress).
    #[serde(default)]
    pub owed_updates: u64,
    /// The largest training-episode return so far (train.csv's
    /// [`MAX_RETURN_COLUMN`]).
    #[serde(default)]
    pub max_return: Option<f64>,
}

/// The train.csv column of the largest training-episode return so far (the
/// curve the PETS paper plots); runs started before it existed lack it.
pub const MAX_RETURN_COLUMN: &str = "episode_reward_max";

impl LoopState {
    /// The state of a run starting from scratch.
    /// `train_columns`: the agent's metrics, after [`MAX_RETURN_COLUMN`].
    pub fn start(seed: u64, train_columns: Vec<String>) -> Self {
        let train_columns = std::iter::once(MAX_RETURN_COLUMN.to_string())
            .chain(train_columns)
            .collect();
        LoopState {
            env_step: 0,
            episode: 0,
            next_eval: 0,
            last_eval_step: None,
            last_eval: None,
            last_checkpoint: 0,
            seed_step_rng: Rng::new(agents::rng::derive_seed(seed, "seed-steps")),
            wall_time_s: 0.0,
            eval_csv_bytes: 0,
            train_csv_bytes: 0,
            train_columns,
            episode_end: None,
            owed_updates: 0,
            max_return: None,
        }
    }
}

/// Whether `dir` holds a checkpoint to resume from.
pub fn has_checkpoint(dir: &Path) -> bool {
    dir.join("checkpoint").is_dir() || dir.join("checkpoint.old").is_dir()
}

/// Loads the checkpoint of the run in `dir` into `agent`, and returns the
/// replay buffer and loop state saved with it; `None` when the run has no
/// checkpoint. A half-installed checkpoint (a crash between the renames)
/// is completed first.
pub(super) fn resume(
    dir: &Path,
    agent: &mut dyn Agent,
) -> Result<Option<(ReplayBuffer, LoopState)>> {
    let ckpt = dir.join("checkpoint");
    let old = dir.join("checkpoint.old");
    let _ = std::fs::remove_dir_all(dir.join("checkpoint.tmp"));
    if !ckpt.is_dir() && old.is_dir() {
        std::fs::rename(&old, &ckpt)?;
    }
    if !ckpt.is_dir() {
        return Ok(None);
    }
    let state: LoopState = serde_json::from_slice(
        &std::fs::read(ckpt.join("state.json")).context("reading checkpoint/state.json")?,
    )
    .context("reading checkpoint/state.json")?;
    agent.load(&ckpt.join("agent"))?;
    let buffer = ReplayBuffer::load(&ckpt.join("buffer.bin"))?;
    Ok(Some((buffer, state)))
}

/// The loop state of `dir`'s checkpoint, if it has one.
pub(super) fn checkpoint_state(dir: &Path) -> Result<Option<LoopState>> {
    let path = dir.join("checkpoint").join("state.json");
    match std::fs::read(&path) {
        Ok(bytes) => Ok(Some(
            serde_json::from_slice(&bytes)
                .with_context(|| format!("reading {}", path.display()))?,
        )),
        Err(_) => Ok(None),
    }
}

impl Runner<'_> {
    /// Writes `checkpoint.tmp/` and renames it to `checkpoint/`.
    pub(super) fn checkpoint(&mut self) -> Result<()> {
        let tmp = self.dir.join("checkpoint.tmp");
        let ckpt = self.dir.join("checkpoint");
        let old = self.dir.join("checkpoint.old");
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(tmp.join("agent"))
            .with_context(|| format!("creating {}", tmp.display()))?;
        self.agent.save(&tmp.join("agent"))?;
        self.buffer.save(&tmp.join("buffer.bin"))?;
        self.eval_csv.file.sync_data()?;
        self.train_csv.file.sync_data()?;
        self.state.last_checkpoint = self.state.env_step;
        self.state.wall_time_s = self.wall_time();
        self.state.eval_csv_bytes = self.eval_csv.bytes;
        self.state.train_csv_bytes = self.train_csv.bytes;
        std::fs::write(
            tmp.join("state.json"),
            serde_json::to_vec_pretty(&self.state)?,
        )?;
        if ckpt.is_dir() {
            let _ = std::fs::remove_dir_all(&old);
            std::fs::rename(&ckpt, &old)?;
        }
        std::fs::rename(&tmp, &ckpt).map_err(|e| anyhow!("installing checkpoint: {e}"))?;
        let _ = std::fs::remove_dir_all(&old);
        tracing::debug!(run = %self.dir.display(), env_step = self.state.env_step, "checkpoint");
        Ok(())
    }
}
