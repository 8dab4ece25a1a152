//! Soft Actor-Critic (Haarnooja et al. 2018, "Soft Actor-Critic Algorithms
//! and Applications": twin soft Q-functions, tanh-Gaussian policy, learned
//! temperature with target entropy −|A|).
//!
//! The update reads top to bottom as in CleanRL's `sac_continuous_action.py`,
//! whose defaults (a published state-based setup that trains in minutes on a
//! CPU) are this agent's defaults: 256×2 ReLU networks, batch 256, critic lr
//! 1e-3, actor lr 3e-4, temperature lr 1e-3 starting at α = 1, τ = 0.005,
//! γ = 0.99, the policy and temperature updated twice every second step,
//! 5,000 steps of uniform random actions before learning, log σ squashed into
//! [−5, 2]. Every field can be overridden from `configs/agents/sac.yaml` or
//! `--set sac.key=value`; `num_q` > 2 gives a larger ensemble (minimum over
//! all members), evaluated in one batched pass.
//!
//! All randomness (initialisation, exploration, replay sampling, policy
//! noise) comes from the agent's seed, so a run on the CPU is reproducible.

use std::path::Path;

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

/// SAC hyperparameters (defaults: CleanRL `sac_continuous_action.py`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SacConfig {
    /// Hidden layer widths of the actor and of each critic.
    pub hidden: Vec<usize>,
    /// Number of Q-functions (2 = twin Q); targets use their minimum.
    pub num_q: usize,
    /// Discount γ.
    pub gamma: f64,
    /// Polyak rate τ of the target critics.
    pub tau: f64,
    /// Critic learning rate.
    pub critic_lr: f64,
    /// Actor learning rate.
    pub actor_lr: f64,
    /// Temperature learning rate.
    pub alpha_lr: f64,
    /// Initial temperature α.
    pub init_alpha: f64,
    /// Learn α towards the target entropy −|A| (else keep `init_alpha`).
    pub learn_alpha: bool,
    /// Transitions per gradient step.
    pub batch_size: usize,
    /// Gradient steps per agent step (update-to-data ratio).
    pub utd: usize,
    /// Update the policy (and α) every this many critic updates, then as many
    /// times (CleanRL's delayed, compensated policy updates).
    pub policy_frequency: usize,
    /// Polyak-update the targets every this many critic updates.
    pub target_frequency: usize,
    /// n-step returns.
    pub n_step: usize,
    /// Bounds of the policy's log standard deviation.
    pub log_std_bounds: (f64, f64),
    /// LayerNorm in hidden layers.
    pub layer_norm: bool,
    /// Clip the global gradient norm of each loss (0: no clipping).
    pub max_grad_norm: f64,
}

impl Default for SacConfig {
    fn default() -> Self {
        SacConfig {
            hidden: vec![256, 256],
            num_q: 2,
            gamma: 0.99,
            tau: 0.005,
            critic_lr: 1e-3,
            actor_lr: 3e-4,
            alpha_lr: 1e-3,
            init_alpha: 1.0,
            learn_alpha: true,
            batch_size: 256,
            utd: 1,
            policy_frequency: 2,
            target_frequency: 1,
            n_step: 1,
            log_std_bounds: (-5.0, 2.0),
            layer_norm: false,
            max_grad_norm: 0.0,
        }
    }
}

/// The soft TD target `r + d (min_i Q̄_i(s', a') − α log π(a'|s'))` with
/// `d = γ^n` (0 after a terminal state: no bootstrap through termination;
/// a time limit keeps `d > 0`).
pub fn soft_td_target(
    reward: &Tensor,
    discount: &Tensor,
    next_q_min: &Tensor,
    next_log_prob: &Tensor,
    alpha: f64,
) -> Tensor {
    reward + discount * (next_q_min - next_log_prob * alpha)
}

/// Counters and generators: what a checkpoint needs besides the tensors.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct SacState {
    env_step: u64,
    updates: u64,
    sample_rng: Rng,
    noise_rng: Rng,
    #[serde(with = "crate::agent::nan_as_null")]
    critic_loss: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    actor_loss: f64,
    alpha: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    entropy: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    q_mean: f64,
}

/// The SAC agent.
pub struct Sac {
    cfg: SacConfig,
    device: Device,
    obs_dim: usize,
    act_dim: usize,
    actor_vs: nn::VarStore,
    actor: Mlp,
    critic_vs: nn::VarStore,
    critic: EnsembleMlp,
    target_vs: nn::VarStore,
    target: EnsembleMlp,
    alpha_vs: nn::VarStore,
    log_alpha: Tensor,
    actor_opt: Adam,
    critic_opt: Adam,
    alpha_opt: Adam,
    target_entropy: f64,
    /// The run's warm-up (env steps of random actions the loop plays): no
    /// updates before it.
    warmup_steps: u64,
    state: SacState,
}

impl Sac {
    /// A SAC agent from a typed config.
    pub fn with_config(
        cfg: SacConfig,
        obs_dim: usize,
        act_dim: usize,
        device: Device,
        seed: u64,
    ) -> Result<Self, AgentError> {
        // libtorch's thread count is per thread: the configured one (1 by
        // default) on the thread that makes and runs the agent.
        crate::device::apply_torch_threads();
        let bad = |m: &str| AgentError::Config {
            agent: "sac".into(),
            message: m.into(),
        };
        if cfg.num_q < 1
            || cfg.batch_size == 0
            || cfg.n_step == 0
            || cfg.policy_frequency == 0
            || cfg.target_frequency == 0
        {
            return Err(bad(
                "num_q, batch_size, n_step, policy_frequency and target_frequency must be at least 1",
            ));
        }
        if !(0.0..=1.0).contains(&cfg.tau)
            || !(0.0..=1.0).contains(&cfg.gamma)
            || cfg.init_alpha <= 0.0
        {
            return Err(bad(
                "tau and gamma must lie in [0, 1] and init_alpha must be positive",
            ));
        }
        crate::nn::check_widths("hidden", &cfg.hidden).map_err(|m| bad(&m))?;
        let spec = MlpSpec {
            hidden: cfg.hidden.clone(),
            layer_norm: cfg.layer_norm,
            activation: Activation::Relu,
            init: WeightInit::Default,
        };
        // libtorch's initialisation draws from its process-wide generator.
        let _guard = TORCH_RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(derive_seed(seed, "sac/init") as i64);
        let actor_vs = nn::VarStore::new(device);
        let actor = Mlp::new(&actor_vs.root(), obs_dim, 2 * act_dim, &spec);
        let critic_vs = nn::VarStore::new(device);
        let critic = EnsembleMlp::new(&critic_vs.root(), cfg.num_q, obs_dim + act_dim, 1, &spec);
        let mut target_vs = nn::VarStore::new(device);
        let target = EnsembleMlp::new(&target_vs.root(), cfg.num_q, obs_dim + act_dim, 1, &spec);
        copy_params(&target_vs, &critic_vs);
        target_vs.freeze();
        let alpha_vs = nn::VarStore::new(device);
        let log_alpha =
            alpha_vs
                .root()
                .var("log_alpha", &[1], nn::Init::Const(cfg.init_alpha.ln()));
        drop(_guard);
        let actor_opt = Adam::new(&actor_vs, cfg.actor_lr).with_max_grad_norm(cfg.max_grad_norm);
        let critic_opt = Adam::new(&critic_vs, cfg.critic_lr).with_max_grad_norm(cfg.max_grad_norm);
        let alpha_opt = Adam::new(&alpha_vs, cfg.alpha_lr);
        Ok(Sac {
            target_entropy: -(act_dim as f64),
            device,
            obs_dim,
            act_dim,
            actor_vs,
            actor,
            critic_vs,
            critic,
            target_vs,
            target,
            alpha_vs,
            log_alpha,
            actor_opt,
            critic_opt,
            alpha_opt,
            warmup_steps: 0,
            state: SacState {
                env_step: 0,
                updates: 0,
                sample_rng: Rng::new(derive_seed(seed, "sac/sample")),
                noise_rng: Rng::new(derive_seed(seed, "sac/noise")),
                critic_loss: f64::NAN,
                actor_loss: f64::NAN,
                alpha: cfg.init_alpha,
                entropy: f64::NAN,
                q_mean: f64::NAN,
            },
            cfg,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &SacConfig {
        &self.cfg
    }

    fn alpha(&self) -> f64 {
        self.log_alpha.exp().double_value(&[0])
    }

    /// Standard normal noise of the given shape from the agent's generator.
    fn noise(&mut self, rows: usize, cols: usize) -> Tensor {
        normal_noise(&mut self.state.noise_rng, rows, cols, self.device)
    }

    /// The policy distribution at `obs` (`[B, obs_dim]`).
    fn policy(&self, obs: &Tensor) -> TanhGaussian {
        TanhGaussian::from_head(&self.actor.forward(obs), self.cfg.log_std_bounds)
    }

    /// A reparameterised action and its log-probability, with noise `eps`.
    fn sample_policy(&self, obs: &Tensor, eps: &Tensor) -> (Tensor, Tensor) {
        let d = self.policy(obs);
        let u = &d.mean + d.log_std.exp() * eps;
        let log_prob = d.log_prob_pre_tanh(&u);
        (u.tanh(), log_prob)
    }

    /// `Q_i(s, a)` for every ensemble member: `[K, B, 1]`.
    fn q(critic: &EnsembleMlp, obs: &Tensor, action: &Tensor) -> Tensor {
        critic.forward(&Tensor::cat(&[obs, action], -1))
    }

    fn to_tensor(&self, v: &[f32], cols: usize) -> Tensor {
        rows(v, cols, self.device)
    }

    /// A batch of `n_step` transitions for one update.
    fn sample(&mut self, buffer: &ReplayBuffer) -> Result<TransitionBatch, AgentError> {
        Ok(buffer.sample_nstep(
            self.cfg.batch_size,
            self.cfg.n_step,
            self.cfg.gamma as f32,
            &mut self.state.sample_rng,
        )?)
    }

    /// One gradient step on a batch: critics, then (every
    /// `policy_frequency` updates) the actor and the temperature, then the
    /// targets. Returns the critic loss.
    pub fn update_on(&mut self, batch: &TransitionBatch) -> f64 {
        let n = batch.reward.len();
        let obs = self.to_tensor(&batch.obs, self.obs_dim);
        let action = self.to_tensor(&batch.action, self.act_dim);
        let reward = self.to_tensor(&batch.reward, 1);
        let discount = self.to_tensor(&batch.discount, 1);
        let next_obs = self.to_tensor(&batch.next_obs, self.obs_dim);
        let alpha = self.alpha();

        // Critic: regress every Q_i onto the soft TD target.
        let eps = self.noise(n, self.act_dim);
        let target = tch::no_grad(|| {
            let (next_action, next_log_prob) = self.sample_policy(&next_obs, &eps);
            let next_q = Self::q(&self.target, &next_obs, &next_action)
                .min_dim(0, false)
                .0;
            soft_td_target(&reward, &discount, &next_q, &next_log_prob, alpha)
        });
        let q = Self::q(&self.critic, &obs, &action);
        let critic_loss = (&q - target.unsqueeze(0))
            .pow_tensor_scalar(2)
            .mean(Kind::Float)
            * self.cfg.num_q as f64;
        let _ = self.critic_opt.step(&critic_loss);
        self.state.critic_loss = critic_loss.double_value(&[]);
        self.state.q_mean = q.mean(Kind::Float).double_value(&[]);
        self.state.updates += 1;

        // Actor and temperature, delayed and compensated.
        if self
            .state
            .updates
            .is_multiple_of(self.cfg.policy_frequency as u64)
        {
            for _ in 0..self.cfg.policy_frequency {
                let eps = self.noise(n, self.act_dim);
                let (pi, log_prob) = self.sample_policy(&obs, &eps);
                let q_pi = Self::q(&self.critic, &obs, &pi).min_dim(0, false).0;
                let actor_loss = (&log_prob * self.alpha() - q_pi).mean(Kind::Float);
                let _ = self.actor_opt.step(&actor_loss);
                self.state.actor_loss = actor_loss.double_value(&[]);
                self.state.entropy = -log_prob.mean(Kind::Float).double_value(&[]);
                if self.cfg.learn_alpha {
                    let log_prob = log_prob.detach();
                    let alpha_loss = (-self.log_alpha.exp() * (log_prob + self.target_entropy))
                        .mean(Kind::Float);
                    let _ = self.alpha_opt.step(&alpha_loss);
                }
            }
        }
        self.state.alpha = self.alpha();
        if self
            .state
            .updates
            .is_multiple_of(self.cfg.target_frequency as u64)
        {
            polyak_update(&self.target_vs, &self.critic_vs, self.cfg.tau);
        }
        self.state.critic_loss
    }

    /// The parameter stores of a checkpoint, each with its file (saved and
    /// loaded in this order, then [`Self::optimizer_files`], then the
    /// counters in `sac.json`).
    fn var_store_files() -> [CheckpointPart<Self, nn::VarStore>; 4] {
        [
            ("actor.safetensors", |a| &a.actor_vs, |a| &mut a.actor_vs),
            ("critic.safetensors", |a| &a.critic_vs, |a| &mut a.critic_vs),
            (
                "critic_target.safetensors",
                |a| &a.target_vs,
                |a| &mut a.target_vs,
            ),
            ("alpha.safetensors", |a| &a.alpha_vs, |a| &mut a.alpha_vs),
        ]
    }

    /// The optimizer states of a checkpoint, each with its file.
    fn optimizer_files() -> [CheckpointPart<Self, Adam>; 3] {
        [
            ("actor_opt.ot", |a| &a.actor_opt, |a| &mut a.actor_opt),
            ("critic_opt.ot", |a| &a.critic_opt, |a| &mut a.critic_opt),
            ("alpha_opt.ot", |a| &a.alpha_opt, |a| &mut a.alpha_opt),
        ]
    }
}

impl NamedAgent for Sac {
    type Config = SacConfig;

    /// A SAC agent for `init.spec` (config from `init.config`).
    fn new(init: &AgentInit) -> Result<Self, AgentError> {
        let cfg: SacConfig = parse_config("sac", init.config)?;
        let sac = Self::with_config(
            cfg,
            init.spec.obs_dim(),
            init.spec.action_dim(),
            init.device,
            init.seed,
        )?;
        Ok(Sac {
            warmup_steps: init.warmup_steps,
            ..sac
        })
    }
}

impl Agent for Sac {
    fn act(&mut self, obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
        let obs = self.to_tensor(obs, self.obs_dim);
        let action = tch::no_grad(|| match mode {
            Mode::Eval(_) => self.policy(&obs).mode(),
            Mode::Explore => {
                let eps = self.noise(1, self.act_dim);
                self.sample_policy(&obs, &eps).0
            }
        });
        Ok(Vec::<f32>::try_from(
            action.to_device(Device::Cpu).view([-1]),
        )?)
    }

    /// One forward pass for every row: evaluation acts with the policy's
    /// mode, which keeps no per-episode state.
    fn act_eval(&mut self, obs: &[f32], slots: &[usize]) -> Result<Vec<f32>, AgentError> {
        check_rows(obs, slots.len(), self.obs_dim)?;
        let obs = self.to_tensor(obs, self.obs_dim);
        let action = tch::no_grad(|| self.policy(&obs).mode());
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
            let batch = self.sample(buffer)?;
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
            ("entropy".into(), s.entropy),
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
        save_json(dir, "sac.json", &self.state)
    }

    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        load_parts(
            self,
            dir,
            &Self::var_store_files(),
            &Self::optimizer_files(),
        )?;
        self.state = load_json(dir, "sac.json")?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> SacConfig {
        SacConfig {
            hidden: vec![32, 32],
            batch_size: 16,
            ..SacConfig::default()
        }
    }

    fn batch(n: usize, obs_dim: usize, act_dim: usize, seed: u64) -> TransitionBatch {
        let mut r = Rng::new(seed);
        let mut v = |k: usize| {
            (0..k)
                .map(|_| r.uniform(-1.0, 1.0) as f32)
                .collect::<Vec<_>>()
        };
        TransitionBatch {
            obs: v(n * obs_dim),
            action: v(n * act_dim),
            reward: v(n),
            next_obs: v(n * obs_dim),
            discount: vec![0.99; n],
        }
    }

    #[test]
    fn td_target_bootstraps_through_truncation_only() {
        let r = Tensor::from_slice(&[1.0f32, 1.0]);
        // The buffer gives discount γ for a truncated (time-limit) transition
        // and 0 for a terminal one.
        let d = Tensor::from_slice(&[0.99f32, 0.0]);
        let q = Tensor::from_slice(&[10.0f32, 10.0]);
        let lp = Tensor::from_slice(&[-1.0f32, -1.0]);
        let y = Vec::<f32>::try_from(soft_td_target(&r, &d, &q, &lp, 0.5)).unwrap();
        assert!((y[0] - (1.0 + 0.99 * (10.0 + 0.5))).abs() < 1e-5, "{y:?}");
        assert_eq!(y[1], 1.0);
    }

    #[test]
    fn same_seed_same_updates_and_save_load_gives_identical_actions() {
        let mut a = Sac::with_config(tiny(), 5, 2, Device::Cpu, 7).unwrap();
        let mut b = Sac::with_config(tiny(), 5, 2, Device::Cpu, 7).unwrap();
        let mut la = Vec::new();
        let mut lb = Vec::new();
        for i in 0..20 {
            let bt = batch(16, 5, 2, i);
            la.push(a.update_on(&bt));
            lb.push(b.update_on(&bt));
        }
        assert_eq!(la, lb);
        assert!(la.iter().all(|l| l.is_finite()));
        let dir = std::env::temp_dir().join(format!("ctrlbench-sac-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        a.save(&dir).unwrap();
        let mut c = Sac::with_config(tiny(), 5, 2, Device::Cpu, 99).unwrap();
        c.load(&dir).unwrap();
        let obs = [0.1f32, -0.2, 0.3, 0.0, 0.5];
        for mode in [Mode::Eval(0), Mode::Explore] {
            assert_eq!(a.act(&obs, mode).unwrap(), c.act(&obs, mode).unwrap());
        }
        // A batch of evaluation rows gives each row's own action.
        let other = [0.4f32, 0.0, -0.3, 0.2, 0.1];
        let batched = a.act_eval(&[obs, other].concat(), &[0, 1]).unwrap();
        let single = [obs, other]
            .map(|o| a.act(&o, Mode::Eval(0)).unwrap())
            .concat();
        for (x, y) in batched.iter().zip(&single) {
            assert!((x - y).abs() < 1e-6, "{batched:?} vs {single:?}");
        }
        assert!(a.act_eval(&obs, &[0, 1]).is_err());
        // And they keep learning identically after the reload.
        let bt = batch(16, 5, 2, 100);
        assert_eq!(a.update_on(&bt), c.update_on(&bt));
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn checkpoint_before_learning_loads() {
        // Metrics are NaN until the first update; the checkpoint still loads.
        let a = Sac::with_config(tiny(), 3, 1, Device::Cpu, 2).unwrap();
        let dir = std::env::temp_dir().join(format!("ctrlbench-sac0-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        a.save(&dir).unwrap();
        let mut b = Sac::with_config(tiny(), 3, 1, Device::Cpu, 3).unwrap();
        b.load(&dir).unwrap();
        assert!(b.state.critic_loss.is_nan());
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn critic_learns_a_constant_reward() {
        // With reward 1 and no bootstrap, Q → 1.
        let mut s = Sac::with_config(tiny(), 3, 1, Device::Cpu, 1).unwrap();
        let mut bt = batch(16, 3, 1, 0);
        bt.reward = vec![1.0; 16];
        bt.discount = vec![0.0; 16];
        let first = s.update_on(&bt);
        let mut last = first;
        for _ in 0..300 {
            last = s.update_on(&bt);
        }
        assert!(
            last < 0.01 * first.max(1e-3),
            "critic loss {first} -> {last}"
        );
        assert!((s.state.q_mean - 1.0).abs() < 0.05, "q {}", s.state.q_mean);
    }

    #[test]
    fn bad_config_is_an_error() {
        let cfg = SacConfig { num_q: 0, ..tiny() };
        assert!(Sac::with_config(cfg, 3, 1, Device::Cpu, 0).is_err());
        let y: serde_yaml::Value = serde_yaml::from_str("hiden: [4]").unwrap();
        assert!(parse_config::<SacConfig>("sac", &y).is_err());
    }
}
