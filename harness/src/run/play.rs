//! `ctrlbench play`: a finished run's final agent played for some episodes,
//! every agent step written out.
//!
//! The agent is built from the run's config.yaml with the command line's
//! overrides on top (`bprior.act_with=prior` plays a behavior prior as a
//! policy), loads `final/agent/`, and plays on the run's task under the
//! run's protocol. Episode `i` is reset with a seed derived from `--seed`
//! and `i`, so a play is reproducible and independent of the run's own
//! evaluation seeds. Eval mode acts with the agent's best deterministic
//! behaviour; explore mode samples (a prior's action distribution).
//!
//! The CSV has one row per agent step: `episode,step,reward` and the
//! task's named info values (`ctrlbench envs` lists tasks; the sequential
//! navigation's `visits`, `last_visited`, `next_target` give the targets
//! visited).

use std::io::Write;
use std::path::Path;

use agents::{DeviceChoice, Mode};
use anyhow::{Context, Result, bail};

use super::files::{is_complete, read_run_config};
use super::stepper::Stepped;
use super::{episode_seed, final_weights_dir, run_env};
use crate::config::{Override, apply_overrides, other_agents};

/// What [`play`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct Played {
    /// Return of each episode.
    pub returns: Vec<f64>,
    /// Agent steps written.
    pub rows: usize,
}

/// Plays `episodes` episodes of the final agent of the finished run in
/// `dir`, with `overrides` on its config, in `mode`, writing each agent
/// step to `out` (CSV; written to a temporary file and renamed).
pub fn play(
    dir: &Path,
    overrides: &[Override],
    episodes: usize,
    seed: u64,
    mode: Mode,
    device: DeviceChoice,
    out: &Path,
) -> Result<Played> {
    let mut cfg = read_run_config(dir)?;
    if !is_complete(dir) {
        bail!(
            "the run in {} is not finished: only a finished run keeps its final weights \
             (final/agent/); `ctrlbench evaluate` plays a run's latest checkpoint",
            dir.display()
        );
    }
    let others = other_agents(&cfg.agent, &[]);
    let mut run = cfg.run.clone();
    apply_overrides(
        &cfg.agent,
        &mut run,
        &mut cfg.agent_config,
        overrides,
        &others,
        true,
    )?;
    if run != cfg.run {
        bail!(
            "play takes agent settings only (`--set {}.key=value`)",
            cfg.agent
        );
    }
    let tch_device = device.resolve()?;
    agents::apply_torch_threads();
    let mut env = run_env(&cfg, "play")?;
    let mut agent = agents::make(
        &cfg.agent,
        env.spec(),
        &cfg.agent_config,
        tch_device,
        agents::rng::derive_seed(seed, "play/agent"),
        0,
    )?;
    agent
        .load(&final_weights_dir(dir))
        .with_context(|| format!("loading the final weights of {}", dir.display()))?;
    let names: Vec<&str> = env.spec().info_names.clone();
    let tmp = out.with_extension("csv.tmp");
    let file =
        std::fs::File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
    let mut w = std::io::BufWriter::new(file);
    let mut header = String::from("episode,step,reward");
    for n in &names {
        header.push(',');
        header.push_str(n);
    }
    writeln!(w, "{header}")?;
    let mut played = Played {
        returns: Vec::with_capacity(episodes),
        rows: 0,
    };
    for ep in 0..episodes {
        env.reset(episode_seed(seed, &format!("play/{ep}")))?;
        agent.begin_episode(
            mode,
            agents::rng::derive_seed(seed, &format!("play/agent/{ep}")),
        );
        let mut ret = 0.0;
        for step in 1.. {
            let action = agent.act(env.obs(), mode)?;
            let t = match env.step(&action)? {
                Stepped::Moved(t) => t,
                Stepped::Diverged(e) => {
                    tracing::warn!(episode = ep, "episode diverged, ended: {e}");
                    break;
                }
            };
            ret += t.reward;
            let mut row = format!("{ep},{step},{}", t.reward);
            for v in &t.info.values[..names.len()] {
                row.push(',');
                row.push_str(&super::csv_f64(*v));
            }
            writeln!(w, "{row}")?;
            played.rows += 1;
            if t.done() {
                break;
            }
        }
        played.returns.push(ret);
    }
    w.flush()?;
    drop(w);
    std::fs::rename(&tmp, out).with_context(|| format!("writing {}", out.display()))?;
    Ok(played)
}
