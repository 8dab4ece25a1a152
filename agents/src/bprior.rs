//! Behavior priors: a KL-regularised actor–critic whose prior sees only part
//! of the observation (Tirumala et al., "Behavior Priors for Efficient
//! Reinforcement Learning", JMLR 23(221), 2022).
//!
//! The objective is `E[Σ γ^t (r_t − α KL(π(·|x_t) ‖ π0(·|x^D_t)))]`: the
//! policy π sees the whole observation x, the prior π0 only the groups x^D
//! named by `prior_obs` (information asymmetry), and π0 is learned by
//! distilling π, so it keeps the behaviour that does not depend on what it
//! cannot see and can be reused on another task (`prior_from`).
//!
//! The update reads top to bottom in SAC's frame (`crate::sac`, CleanRL's
//! defaults), with SAC's entropy bonus replaced by the KL to the prior, as
//! acme's `svg0_prior` learner does (`acme/agents/tf/svg0_prior/learning.py`):
//! - critic: `y = r + γ (min_i Q̄_i(s', a') − α KL(π(·|s') ‖ π̄0(·|s'^D)))`,
//!   `a' ~ π(·|s')`: the online policy's KL to the *target* prior;
//! - actor: `E_{a~π}[−min_i Q_i(s, a)] + α KL(π(·|s) ‖ π̄0(·|s^D))`;
//! - prior: `KL(sg π(·|s) ‖ π0(·|s^D))` on the same replay states, minimised
//!   over the prior's parameters only (distillation; mode-covering);
//! - target prior π̄0: Polyak `prior_tau` every `prior_target_period`
//!   updates (`prior_tau: 1`, `prior_target_period: 100` is acme's hard
//!   copy every 100 learner steps);
//! - α fixed, or (`target_kl`) tuned so that the mean KL approaches a
//!   target divergence, as SPiRL does (Pertsch et al. 2020): the loss
//!   `α (target_kl − KL)` on log α.
//!
//! Both π and π0 are tanh-squashed Gaussians on the same action bounds, so
//! the KL between them equals the KL between their pre-tanh Gaussians (KL is
//! invariant under a shared bijection) and is computed in closed form
//! ([`squashed_gaussian_kl`]); no sampling.
//!
//! Where this agent differs from acme's SVG(0) with Retrace: the policy is
//! tanh-squashed (acme samples unsquashed and clips), the critic is SAC's
//! 1-step (`n_step`) TD target with twin Q-functions instead of Retrace over
//! length-10 sequences, targets are Polyak-averaged instead of hard-copied,
//! the actor differentiates through the online critic (acme: the target
//! critic), there is no entropy term (acme's `entropy_cost` term has zero
//! expected gradient), and the networks are SAC's ReLU MLPs (acme:
//! LayerNorm MLPs of 200, 100 for π and π0, 400, 300 for Q). Closest to
//! acme: `layer_norm: true`, `prior_tau: 1`, `prior_target_period: 100`,
//! `tau: 1`, `target_frequency: 100`, learning rates 1e-4. The policy's
//! standard deviation has a floor of 0.1 (acme's `min_scale`): once π0
//! matches π the KL no longer pushes toward entropy, and nothing else would
//! keep π from collapsing.
//!
//! The prior's inputs are chosen by observation group names of the task's
//! [`envs::ObsLayout`]: a list (`[position, velocity]`), `all` (the symmetric
//! case, DISTRAL-like reuse), or `auto`: every group that describes the
//! body rather than the task ([`TASK_GROUPS`] lists the groups left out), so
//! reacher's prior sees `position` and `velocity` but not `to_target`.
//!
//! A run keeps its prior in `final/agent/` as `prior.safetensors` with
//! `prior.json` (the groups it saw, the action size, its shape); another
//! run starts from it with `prior_from: <run dir>`, frozen or further
//! trained (`prior_train`), and the groups and action size must match.
//! `act_with: prior` acts with the prior instead of the policy (rolling out
//! a saved prior).

use std::path::Path;

use envs::EnvSpec;
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor, nn, nn::Module};

use crate::agent::{
    Agent, AgentError, AgentInit, Mode, check_rows, load_json, parse_config, save_json,
};
use crate::buffer::{ReplayBuffer, TransitionBatch};
use crate::nn::{
    Activation, Adam, CheckpointPart, EnsembleMlp, Mlp, MlpSpec, TanhGaussian, WeightInit,
    copy_params, load_parts, normal_noise, polyak_update, rows, save_parts,
};
use crate::registry::NamedAgent;
use crate::rng::{Rng, TORCH_RNG_LOCK, derive_seed};

mod config;
mod prior;

pub use config::{ActWith, BPriorConfig, PriorObs};
pub use prior::{PRIOR_META, PRIOR_WEIGHTS, PriorMeta, TASK_GROUPS, prior_groups};

/// `KL(p ‖ q)` of two tanh-squashed Gaussians on the same bounds: the KL
/// of their pre-tanh diagonal Gaussians, summed over action dimensions,
/// `[B, 1]`.
pub fn squashed_gaussian_kl(p: &TanhGaussian, q: &TanhGaussian) -> Tensor {
    let var_ratio = (&p.log_std - &q.log_std).exp().pow_tensor_scalar(2);
    let mean_term = ((&p.mean - &q.mean) / q.log_std.exp()).pow_tensor_scalar(2);
    ((var_ratio + mean_term) * 0.5 - 0.5 - (&p.log_std - &q.log_std)).sum_dim_intlist(
        -1,
        true,
        Kind::Float,
    )
}

/// The KL-regularised TD target `r + d (min_i Q̄_i(s', a') − α KL(s'))`
/// with `d = γ^n` (0 after a terminal state).
pub fn kl_td_target(
    reward: &Tensor,
    discount: &Tensor,
    next_q_min: &Tensor,
    next_kl: &Tensor,
    alpha: f64,
) -> Tensor {
    reward + discount * (next_q_min - next_kl * alpha)
}

/// Counters and generators: what a checkpoint needs besides the tensors.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BPriorState {
    env_step: u64,
    updates: u64,
    sample_rng: Rng,
    noise_rng: Rng,
    #[serde(with = "crate::agent::nan_as_null")]
    critic_loss: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    actor_loss: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    kl: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    prior_loss: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    prior_std: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    policy_std: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    q_mean: f64,
    alpha: f64,
}

/// The behavior-prior agent.
pub struct BPrior {
    cfg: BPriorConfig,
    device: Device,
    obs_dim: usize,
    act_dim: usize,
    /// Flat observation indices the prior sees, `[D]` (int64).
    prior_index: Tensor,
    meta: PriorMeta,
    actor_vs: nn::VarStore,
    actor: Mlp,
    critic_vs: nn::VarStore,
    critic: EnsembleMlp,
    target_vs: nn::VarStore,
    target: EnsembleMlp,
    prior_vs: nn::VarStore,
    prior: Mlp,
    prior_target_vs: nn::VarStore,
    prior_target: Mlp,
    alpha_vs: nn::VarStore,
    log_alpha: Tensor,
    actor_opt: Adam,
    critic_opt: Adam,
    prior_opt: Adam,
    alpha_opt: Adam,
    warmup_steps: u64,
    state: BPriorState,
}

impl BPrior {
    /// An agent for `spec` from a typed config.
    pub fn with_config(
        cfg: BPriorConfig,
        spec: &EnvSpec,
        device: Device,
        seed: u64,
    ) -> Result<Self, AgentError> {
        crate::device::apply_torch_threads();
        let bad = |m: String| AgentError::Config {
            agent: "bprior".into(),
            message: m,
        };
        if cfg.num_q < 1
            || cfg.batch_size == 0
            || cfg.n_step == 0
            || cfg.policy_frequency == 0
            || cfg.target_frequency == 0
            || cfg.prior_target_period == 0
        {
            return Err(bad(
                "num_q, batch_size, n_step, policy_frequency, target_frequency and \
                 prior_target_period must be at least 1"
                    .into(),
            ));
        }
        for (name, v) in [
            ("tau", cfg.tau),
            ("prior_tau", cfg.prior_tau),
            ("gamma", cfg.gamma),
        ] {
            if !(0.0..=1.0).contains(&v) {
                return Err(bad(format!("{name} must lie in [0, 1], not {v}")));
            }
        }
        if !(cfg.alpha > 0.0 && cfg.alpha.is_finite()) {
            return Err(bad(format!("alpha must be positive, not {}", cfg.alpha)));
        }
        if cfg.target_kl.is_some_and(|t| !(t >= 0.0 && t.is_finite())) {
            return Err(bad("target_kl must be a non-negative number or null".into()));
        }
        let (lo, hi) = cfg.log_std_bounds;
        if !(lo < hi && lo.is_finite() && hi.is_finite()) {
            return Err(bad(format!(
                "log_std_bounds must be two finite numbers, low < high, not ({lo}, {hi})"
            )));
        }
        crate::nn::check_widths("hidden", &cfg.hidden).map_err(bad)?;
        crate::nn::check_widths("prior_hidden", &cfg.prior_hidden).map_err(bad)?;
        let groups = prior_groups(spec, &cfg.prior_obs)?;
        let names: Vec<&str> = groups.iter().map(|(n, _)| n.as_str()).collect();
        let index: Vec<i64> = spec
            .layout
            .indices(&names)
            .ok_or_else(|| bad("prior_obs names a group twice or not at all".into()))?
            .into_iter()
            .map(|i| i as i64)
            .collect();
        let (obs_dim, act_dim) = (spec.obs_dim(), spec.action_dim());
        let meta = PriorMeta {
            task: spec.name.clone(),
            groups,
            action_dim: act_dim,
            hidden: cfg.prior_hidden.clone(),
            layer_norm: cfg.layer_norm,
            log_std_bounds: cfg.log_std_bounds,
        };
        let net = |hidden: &[usize]| MlpSpec {
            hidden: hidden.to_vec(),
            layer_norm: cfg.layer_norm,
            activation: Activation::Relu,
            init: WeightInit::Default,
        };
        // libtorch's initialisation draws from its process-wide generator.
        let guard = TORCH_RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(derive_seed(seed, "bprior/init") as i64);
        let actor_vs = nn::VarStore::new(device);
        let actor = Mlp::new(&actor_vs.root(), obs_dim, 2 * act_dim, &net(&cfg.hidden));
        let critic_vs = nn::VarStore::new(device);
        let critic = EnsembleMlp::new(
            &critic_vs.root(),
            cfg.num_q,
            obs_dim + act_dim,
            1,
            &net(&cfg.hidden),
        );
        let mut target_vs = nn::VarStore::new(device);
        let target = EnsembleMlp::new(
            &target_vs.root(),
            cfg.num_q,
            obs_dim + act_dim,
            1,
            &net(&cfg.hidden),
        );
        copy_params(&target_vs, &critic_vs);
        target_vs.freeze();
        let prior_vs = nn::VarStore::new(device);
        let prior = Mlp::new(
            &prior_vs.root(),
            index.len(),
            2 * act_dim,
            &net(&cfg.prior_hidden),
        );
        let mut prior_target_vs = nn::VarStore::new(device);
        let prior_target = Mlp::new(
            &prior_target_vs.root(),
            index.len(),
            2 * act_dim,
            &net(&cfg.prior_hidden),
        );
        copy_params(&prior_target_vs, &prior_vs);
        prior_target_vs.freeze();
        let alpha_vs = nn::VarStore::new(device);
        let log_alpha = alpha_vs
            .root()
            .var("log_alpha", &[1], nn::Init::Const(cfg.alpha.ln()));
        drop(guard);
        let actor_opt = Adam::new(&actor_vs, cfg.actor_lr).with_max_grad_norm(cfg.max_grad_norm);
        let critic_opt = Adam::new(&critic_vs, cfg.critic_lr).with_max_grad_norm(cfg.max_grad_norm);
        let prior_opt = Adam::new(&prior_vs, cfg.prior_lr).with_max_grad_norm(cfg.max_grad_norm);
        let alpha_opt = Adam::new(&alpha_vs, cfg.alpha_lr);
        let mut agent = BPrior {
            device,
            obs_dim,
            act_dim,
            prior_index: Tensor::from_slice(&index).to_device(device),
            meta,
            actor_vs,
            actor,
            critic_vs,
            critic,
            target_vs,
            target,
            prior_vs,
            prior,
            prior_target_vs,
            prior_target,
            alpha_vs,
            log_alpha,
            actor_opt,
            critic_opt,
            prior_opt,
            alpha_opt,
            warmup_steps: 0,
            state: BPriorState {
                env_step: 0,
                updates: 0,
                sample_rng: Rng::new(derive_seed(seed, "bprior/sample")),
                noise_rng: Rng::new(derive_seed(seed, "bprior/noise")),
                critic_loss: f64::NAN,
                actor_loss: f64::NAN,
                kl: f64::NAN,
                prior_loss: f64::NAN,
                prior_std: f64::NAN,
                policy_std: f64::NAN,
                q_mean: f64::NAN,
                alpha: cfg.alpha,
            },
            cfg,
        };
        if let Some(from) = agent.cfg.prior_from.clone() {
            agent.load_prior_from(Path::new(&from))?;
        }
        Ok(agent)
    }

    /// The configuration in use.
    pub fn config(&self) -> &BPriorConfig {
        &self.cfg
    }

    /// What the prior sees and its shape (written as `prior.json`).
    pub fn prior_meta(&self) -> &PriorMeta {
        &self.meta
    }

    fn alpha(&self) -> f64 {
        self.log_alpha.exp().double_value(&[0])
    }

    /// Standard normal noise of the given shape from the agent's generator.
    fn noise(&mut self, rows: usize, cols: usize) -> Tensor {
        normal_noise(&mut self.state.noise_rng, rows, cols, self.device)
    }

    /// A squashed Gaussian from a network's `[B, 2A]` output.
    fn head(&self, out: Tensor) -> TanhGaussian {
        TanhGaussian::from_head(&out, self.cfg.log_std_bounds)
    }

    /// π(·|s) for observations `[B, obs_dim]`.
    fn policy(&self, obs: &Tensor) -> TanhGaussian {
        self.head(self.actor.forward(obs))
    }

    /// The prior's inputs x^D of observations `[B, obs_dim]`.
    fn prior_input(&self, obs: &Tensor) -> Tensor {
        obs.index_select(1, &self.prior_index)
    }

    /// π0(·|s^D) (online prior).
    fn prior(&self, obs: &Tensor) -> TanhGaussian {
        self.head(self.prior.forward(&self.prior_input(obs)))
    }

    /// π̄0(·|s^D) (target prior), without gradients.
    fn target_prior(&self, obs: &Tensor) -> TanhGaussian {
        tch::no_grad(|| self.head(self.prior_target.forward(&self.prior_input(obs))))
    }

    /// `a = tanh(μ + σ ε)` of `d` with noise `eps`.
    fn sample(d: &TanhGaussian, eps: &Tensor) -> Tensor {
        (&d.mean + d.log_std.exp() * eps).tanh()
    }

    /// `Q_i(s, a)` for every member: `[K, B, 1]`.
    fn q(critic: &EnsembleMlp, obs: &Tensor, action: &Tensor) -> Tensor {
        critic.forward(&Tensor::cat(&[obs, action], -1))
    }

    fn to_tensor(&self, v: &[f32], cols: usize) -> Tensor {
        rows(v, cols, self.device)
    }

    /// The critics' target for a batch, without gradients: [`kl_td_target`]
    /// with `a' = tanh(μ + σ eps)` drawn from π(·|s') and the KL of π(·|s')
    /// to the target prior.
    fn td_target(
        &self,
        reward: &Tensor,
        discount: &Tensor,
        next_obs: &Tensor,
        eps: &Tensor,
        alpha: f64,
    ) -> Tensor {
        tch::no_grad(|| {
            let pi = self.policy(next_obs);
            let next_action = Self::sample(&pi, eps);
            let next_kl = squashed_gaussian_kl(&pi, &self.target_prior(next_obs));
            let next_q = Self::q(&self.target, next_obs, &next_action)
                .min_dim(0, false)
                .0;
            kl_td_target(reward, discount, &next_q, &next_kl, alpha)
        })
    }

    /// One gradient step on a batch: critics, then (every
    /// `policy_frequency` updates) the policy and α, then the prior, then
    /// the targets. Returns the critic loss.
    pub fn update_on(&mut self, batch: &TransitionBatch) -> f64 {
        let n = batch.reward.len();
        let obs = self.to_tensor(&batch.obs, self.obs_dim);
        let action = self.to_tensor(&batch.action, self.act_dim);
        let reward = self.to_tensor(&batch.reward, 1);
        let discount = self.to_tensor(&batch.discount, 1);
        let next_obs = self.to_tensor(&batch.next_obs, self.obs_dim);
        let alpha = self.alpha();

        // Critic: regress every Q_i onto the KL-regularised TD target.
        let eps = self.noise(n, self.act_dim);
        let target = self.td_target(&reward, &discount, &next_obs, &eps, alpha);
        let q = Self::q(&self.critic, &obs, &action);
        let critic_loss = (&q - target.unsqueeze(0))
            .pow_tensor_scalar(2)
            .mean(Kind::Float)
            * self.cfg.num_q as f64;
        let _ = self.critic_opt.step(&critic_loss);
        self.state.critic_loss = critic_loss.double_value(&[]);
        self.state.q_mean = q.mean(Kind::Float).double_value(&[]);
        self.state.updates += 1;

        // Policy (and α), delayed and compensated as SAC's.
        if self
            .state
            .updates
            .is_multiple_of(self.cfg.policy_frequency as u64)
        {
            let prior = self.target_prior(&obs);
            for _ in 0..self.cfg.policy_frequency {
                let eps = self.noise(n, self.act_dim);
                let pi = self.policy(&obs);
                let q_pi = Self::q(&self.critic, &obs, &Self::sample(&pi, &eps))
                    .min_dim(0, false)
                    .0;
                let kl = squashed_gaussian_kl(&pi, &prior);
                let actor_loss = (&kl * self.alpha() - q_pi).mean(Kind::Float);
                let _ = self.actor_opt.step(&actor_loss);
                self.state.actor_loss = actor_loss.double_value(&[]);
                let mean_kl = kl.mean(Kind::Float).detach();
                self.state.kl = mean_kl.double_value(&[]);
                self.state.policy_std = pi.log_std.exp().mean(Kind::Float).double_value(&[]);
                if let Some(target_kl) = self.cfg.target_kl {
                    let alpha_loss =
                        (self.log_alpha.exp() * (target_kl - mean_kl)).sum(Kind::Float);
                    let _ = self.alpha_opt.step(&alpha_loss);
                }
            }
        }
        self.state.alpha = self.alpha();

        // Prior: distil the policy on the same states.
        if self.cfg.prior_train {
            self.distil(&obs);
        } else {
            let prior = tch::no_grad(|| self.prior(&obs));
            self.state.prior_std = prior.log_std.exp().mean(Kind::Float).double_value(&[]);
        }

        // Targets.
        let updates = self.state.updates;
        if updates.is_multiple_of(self.cfg.target_frequency as u64) {
            polyak_update(&self.target_vs, &self.critic_vs, self.cfg.tau);
        }
        if self.cfg.prior_train && updates.is_multiple_of(self.cfg.prior_target_period as u64) {
            polyak_update(&self.prior_target_vs, &self.prior_vs, self.cfg.prior_tau);
        }
        self.state.critic_loss
    }

    /// One distillation step of the prior toward the policy on `obs`:
    /// minimises `KL(sg π(·|s) ‖ π0(·|s^D))` over the prior's parameters
    /// only. Returns the loss before the step.
    fn distil(&mut self, obs: &Tensor) -> f64 {
        let pi = tch::no_grad(|| self.policy(obs));
        let prior = self.prior(obs);
        let prior_loss = squashed_gaussian_kl(&pi, &prior).mean(Kind::Float);
        let _ = self.prior_opt.step(&prior_loss);
        self.state.prior_loss = prior_loss.double_value(&[]);
        self.state.prior_std = prior.log_std.exp().mean(Kind::Float).double_value(&[]);
        self.state.prior_loss
    }

    /// The parameter stores of a checkpoint, each with its file.
    fn var_store_files() -> [CheckpointPart<Self, nn::VarStore>; 6] {
        [
            ("actor.safetensors", |a| &a.actor_vs, |a| &mut a.actor_vs),
            ("critic.safetensors", |a| &a.critic_vs, |a| &mut a.critic_vs),
            (
                "critic_target.safetensors",
                |a| &a.target_vs,
                |a| &mut a.target_vs,
            ),
            (PRIOR_WEIGHTS, |a| &a.prior_vs, |a| &mut a.prior_vs),
            (
                "prior_target.safetensors",
                |a| &a.prior_target_vs,
                |a| &mut a.prior_target_vs,
            ),
            ("alpha.safetensors", |a| &a.alpha_vs, |a| &mut a.alpha_vs),
        ]
    }

    /// The optimizer states of a checkpoint, each with its file.
    fn optimizer_files() -> [CheckpointPart<Self, Adam>; 4] {
        [
            ("actor_opt.ot", |a| &a.actor_opt, |a| &mut a.actor_opt),
            ("critic_opt.ot", |a| &a.critic_opt, |a| &mut a.critic_opt),
            ("prior_opt.ot", |a| &a.prior_opt, |a| &mut a.prior_opt),
            ("alpha_opt.ot", |a| &a.alpha_opt, |a| &mut a.alpha_opt),
        ]
    }
}

impl NamedAgent for BPrior {
    type Config = BPriorConfig;

    fn new(init: &AgentInit) -> Result<Self, AgentError> {
        let cfg: BPriorConfig = parse_config("bprior", init.config)?;
        let agent = Self::with_config(cfg, init.spec, init.device, init.seed)?;
        Ok(BPrior {
            warmup_steps: init.warmup_steps,
            ..agent
        })
    }
}

impl Agent for BPrior {
    fn act(&mut self, obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
        let obs = self.to_tensor(obs, self.obs_dim);
        let eps = match mode {
            Mode::Explore => Some(self.noise(1, self.act_dim)),
            Mode::Eval(_) => None,
        };
        let action = tch::no_grad(|| {
            let d = match self.cfg.act_with {
                ActWith::Policy => self.policy(&obs),
                ActWith::Prior => self.prior(&obs),
            };
            match &eps {
                Some(eps) => Self::sample(&d, eps),
                None => d.mode(),
            }
        });
        Ok(Vec::<f32>::try_from(
            action.to_device(Device::Cpu).view([-1]),
        )?)
    }

    /// One forward pass for every row (evaluation keeps no per-episode state).
    fn act_eval(&mut self, obs: &[f32], slots: &[usize]) -> Result<Vec<f32>, AgentError> {
        check_rows(obs, slots.len(), self.obs_dim)?;
        let obs = self.to_tensor(obs, self.obs_dim);
        let action = tch::no_grad(|| match self.cfg.act_with {
            ActWith::Policy => self.policy(&obs).mode(),
            ActWith::Prior => self.prior(&obs).mode(),
        });
        Ok(Vec::<f32>::try_from(
            action.to_device(Device::Cpu).view([-1]),
        )?)
    }

    fn update(
        &mut self,
        buffer: &ReplayBuffer,
        env_step: u64,
        _episode_end: bool,
    ) -> Result<u64, AgentError> {
        self.state.env_step = env_step;
        if env_step < self.warmup_steps || buffer.len() < self.cfg.batch_size {
            return Ok(0);
        }
        Ok(self.cfg.utd as u64)
    }

    fn learn(&mut self, buffer: &ReplayBuffer, n: u64) -> Result<(), AgentError> {
        for _ in 0..n {
            let batch = buffer.sample_nstep(
                self.cfg.batch_size,
                self.cfg.n_step,
                self.cfg.gamma as f32,
                &mut self.state.sample_rng,
            )?;
            self.update_on(&batch);
        }
        Ok(())
    }

    fn updates_per_agent_step(&self) -> f64 {
        self.cfg.utd as f64
    }

    fn metrics(&self) -> Vec<(String, f64)> {
        let s = &self.state;
        vec![
            ("updates".into(), s.updates as f64),
            ("critic_loss".into(), s.critic_loss),
            ("actor_loss".into(), s.actor_loss),
            ("alpha".into(), s.alpha),
            ("kl".into(), s.kl),
            ("prior_loss".into(), s.prior_loss),
            ("prior_std".into(), s.prior_std),
            ("policy_std".into(), s.policy_std),
            ("q_mean".into(), s.q_mean),
        ]
    }

    fn save(&self, dir: &Path) -> Result<(), AgentError> {
        save_parts(
            self,
            dir,
            &Self::var_store_files(),
            &Self::optimizer_files(),
        )?;
        save_json(dir, PRIOR_META, &self.meta)?;
        save_json(dir, "bprior.json", &self.state)
    }

    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        load_parts(
            self,
            dir,
            &Self::var_store_files(),
            &Self::optimizer_files(),
        )?;
        self.state = load_json(dir, "bprior.json")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
