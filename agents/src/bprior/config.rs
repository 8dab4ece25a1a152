//! The agent's settings: what `bprior:` accepts in a run or experiment
//! config (`configs/agents/bprior.yaml` cites each default).

use serde::{Deserialize, Serialize};

/// Which observation groups the prior sees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PriorObs {
    /// `auto` (every group not in [`TASK_GROUPS`]) or `all`.
    Keyword(String),
    /// These groups, in this order.
    Groups(Vec<String>),
}

/// What acts: the policy (training and evaluation) or the prior (a saved
/// prior rolled out as a policy).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ActWith {
    /// The policy π.
    Policy,
    /// The prior π0 (on its own inputs).
    Prior,
}

/// Behavior-prior hyperparameters (`configs/agents/bprior.yaml` cites each).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct BPriorConfig {
    /// Hidden widths of the policy and of each critic.
    pub hidden: Vec<usize>,
    /// Number of Q-functions; targets use their minimum.
    pub num_q: usize,
    /// Discount γ.
    pub gamma: f64,
    /// Polyak rate of the target critics.
    pub tau: f64,
    /// Critic learning rate.
    pub critic_lr: f64,
    /// Policy learning rate.
    pub actor_lr: f64,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// Gradient steps per agent step.
    pub utd: usize,
    /// Update the policy every this many critic updates, then as many times.
    pub policy_frequency: usize,
    /// Polyak-update the target critics every this many updates.
    pub target_frequency: usize,
    /// n-step returns.
    pub n_step: usize,
    /// Bounds of the log standard deviation of π and π0 (the lower one is
    /// the std floor).
    pub log_std_bounds: (f64, f64),
    /// LayerNorm in hidden layers (all networks).
    pub layer_norm: bool,
    /// Clip the global gradient norm of each loss (0: no clipping).
    pub max_grad_norm: f64,
    /// The KL weight α (the initial one when `target_kl` is set).
    pub alpha: f64,
    /// Tune α toward this mean KL per agent step (nats); `null`: α fixed.
    pub target_kl: Option<f64>,
    /// Learning rate of log α when tuned.
    pub alpha_lr: f64,
    /// The prior's observation groups: `auto`, `all` or a list.
    pub prior_obs: PriorObs,
    /// Hidden widths of the prior.
    pub prior_hidden: Vec<usize>,
    /// Prior learning rate (distillation).
    pub prior_lr: f64,
    /// Polyak rate of the target prior.
    pub prior_tau: f64,
    /// Update the target prior every this many updates.
    pub prior_target_period: usize,
    /// Train the prior by distillation (false: frozen, as loaded or as
    /// initialised).
    pub prior_train: bool,
    /// Start from the prior of this finished run (its directory, or the
    /// directory holding `prior.json`); `null`: a fresh prior.
    pub prior_from: Option<String>,
    /// What acts.
    pub act_with: ActWith,
}

impl Default for BPriorConfig {
    fn default() -> Self {
        BPriorConfig {
            hidden: vec![256, 256],
            num_q: 2,
            gamma: 0.99,
            tau: 0.005,
            critic_lr: 1e-3,
            actor_lr: 3e-4,
            batch_size: 256,
            utd: 1,
            policy_frequency: 2,
            target_frequency: 1,
            n_step: 1,
            log_std_bounds: (0.1f64.ln(), 2.0),
            layer_norm: false,
            max_grad_norm: 0.0,
            alpha: 0.03,
            target_kl: None,
            alpha_lr: 1e-3,
            prior_obs: PriorObs::Keyword("auto".into()),
            prior_hidden: vec![256, 256],
            prior_lr: 3e-4,
            prior_tau: 0.005,
            prior_target_period: 1,
            prior_train: true,
            prior_from: None,
            act_with: ActWith::Policy,
        }
    }
}
