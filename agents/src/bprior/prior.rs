//! The prior's inputs and its files: which observation groups it sees
//! (`prior_obs`), what a saved prior records (`prior.json`), and loading
//! another run's prior with the checks that make reuse safe.

use std::path::{Path, PathBuf};

use envs::EnvSpec;
use serde::{Deserialize, Serialize};

use super::{BPrior, PriorObs};
use crate::agent::{AgentError, load_json};
use crate::nn::copy_params;

/// Observation groups that carry task information (targets, goals, objects
/// to move, which target comes next) or sense the surroundings, rather than
/// the body's own state: `prior_obs: auto` gives the prior every group
/// except these.
pub const TASK_GROUPS: &[&str] = &[
    // dm_control: reacher, swimmer, finger, fish, manipulator, stacker.
    "to_target",
    "target",
    "target_position",
    "dist_to_target",
    "target_pos",
    "object_pos",
    "object_vel",
    "box_pos",
    "box_vel",
    // quadruped and dog: the ball to fetch, the way out, the terrain.
    "ball_state",
    "origin",
    "rangefinder",
    // Meta-World.
    "objects",
    "prev_objects",
    "goal",
    // pointmass-seqnav.
    "next_target",
    "last_targets",
];

/// The groups the prior sees, with their sizes, for `spec`'s layout.
pub fn prior_groups(spec: &EnvSpec, sel: &PriorObs) -> Result<Vec<(String, usize)>, AgentError> {
    let layout = &spec.layout;
    let bad = |message: String| AgentError::Config {
        agent: "bprior".into(),
        message,
    };
    let known = || {
        layout
            .groups
            .iter()
            .map(|g| g.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let names: Vec<String> = match sel {
        PriorObs::Keyword(k) if k == "all" => {
            layout.groups.iter().map(|g| g.name.clone()).collect()
        }
        PriorObs::Keyword(k) if k == "auto" => layout
            .groups
            .iter()
            .filter(|g| !TASK_GROUPS.contains(&g.name.as_str()))
            .map(|g| g.name.clone())
            .collect(),
        PriorObs::Keyword(k) => {
            return Err(bad(format!(
                "prior_obs: '{k}' is neither `auto`, `all` nor a list of groups of {} ({})",
                spec.name,
                known()
            )));
        }
        PriorObs::Groups(g) => g.clone(),
    };
    if names.is_empty() {
        return Err(bad(format!(
            "prior_obs selects no observation group of {} ({})",
            spec.name,
            known()
        )));
    }
    names
        .into_iter()
        .map(|n| match layout.group(&n) {
            Some(g) => Ok((n, g.len)),
            None => Err(bad(format!(
                "prior_obs: {} has no observation group '{n}' (its groups: {})",
                spec.name,
                known()
            ))),
        })
        .collect()
}

/// What `prior.json` records beside the prior's weights: enough to check
/// that another run can reuse it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PriorMeta {
    /// The task the prior was trained on.
    pub task: String,
    /// Its observation groups and their sizes, in input order.
    pub groups: Vec<(String, usize)>,
    /// Action dimension.
    pub action_dim: usize,
    /// Hidden widths.
    pub hidden: Vec<usize>,
    /// LayerNorm in hidden layers.
    pub layer_norm: bool,
    /// Bounds of its log standard deviation.
    pub log_std_bounds: (f64, f64),
}

/// The prior's weights in a saved agent.
pub const PRIOR_WEIGHTS: &str = "prior.safetensors";
/// The prior's [`PriorMeta`] in a saved agent.
pub const PRIOR_META: &str = "prior.json";

impl BPrior {
    /// Loads the prior of a finished run (`dir/final/agent/`, or `dir`
    /// itself when it holds `prior.json`) into the prior and the target
    /// prior, after checking that it saw the same observation groups and
    /// acts in the same action space.
    pub fn load_prior_from(&mut self, dir: &Path) -> Result<(), AgentError> {
        let run_final: PathBuf = dir.join("final").join("agent");
        let from = if run_final.join(PRIOR_META).is_file() {
            run_final
        } else if dir.join(PRIOR_META).is_file() {
            dir.to_path_buf()
        } else {
            return Err(AgentError::Config {
                agent: "bprior".into(),
                message: format!(
                    "prior_from: {} holds no prior (no final/agent/{PRIOR_META}); is it a \
                     finished bprior run?",
                    dir.display()
                ),
            });
        };
        let meta: PriorMeta = load_json(&from, PRIOR_META)?;
        let mine = &self.meta;
        let mismatch = |what: &str, theirs: String, ours: String| AgentError::Config {
            agent: "bprior".into(),
            message: format!(
                "prior_from: the prior in {} ({}) has {what} {theirs}, this run needs {ours}",
                from.display(),
                meta.task
            ),
        };
        let show = |g: &[(String, usize)]| {
            g.iter()
                .map(|(n, k)| format!("{n}({k})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if meta.groups != mine.groups {
            return Err(mismatch(
                "observation groups",
                show(&meta.groups),
                show(&mine.groups),
            ));
        }
        if meta.action_dim != mine.action_dim {
            return Err(mismatch(
                "action dimension",
                meta.action_dim.to_string(),
                mine.action_dim.to_string(),
            ));
        }
        if meta.hidden != mine.hidden || meta.layer_norm != mine.layer_norm {
            return Err(mismatch(
                "hidden layers",
                format!("{:?} (layer_norm {})", meta.hidden, meta.layer_norm),
                format!("{:?} (layer_norm {})", mine.hidden, mine.layer_norm),
            ));
        }
        if meta.log_std_bounds != mine.log_std_bounds {
            return Err(mismatch(
                "log_std_bounds",
                format!("{:?}", meta.log_std_bounds),
                format!("{:?}", mine.log_std_bounds),
            ));
        }
        self.prior_vs.load(from.join(PRIOR_WEIGHTS))?;
        copy_params(&self.prior_target_vs, &self.prior_vs);
        Ok(())
    }
}
