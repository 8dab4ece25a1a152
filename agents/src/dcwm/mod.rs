//! DCWM / DC-MPC (Scannell et al., "Discrete Codebook World Models for
//! Continuous Control", ICLR 2025): a discrete codebook world model
//! ([`world_model`]), a TD3-style actor–critic on its codes, and MPPI
//! planning in the latent space ([`planner`]).
//!
//! Defaults are `DCMPCConfig` of the official code (aidanscannell/dcmpc,
//! `dcmpc.py`), per-task settings its `cfgs/env/*.yaml` (in
//! `configs/agents/dcwm.tasks.yaml`). Training schedule (`train.py`):
//! `random_episodes` episodes of uniform random actions, then one
//! pretraining block of `random_episodes × episode length` updates, then
//! after every episode `utd_ratio × episode length` updates. `update`
//! schedules a block; the run loop drains it in chunks
//! ([`Agent::run_pending_updates`]) and can checkpoint between chunks. Each
//! update:
//! one world-model step on a slice of `max(horizon, nstep)` transitions, then
//! the critic on the slice's n-step transition (codes from the updated
//! encoder, no gradient), then every `actor_update_freq` critic updates the
//! actor.
//!
//! Actor–critic (TD3, Fujimoto et al. 2018, with a REDQ-style ensemble):
//! deterministic `tanh` policy; `num_critics` Q-networks in one batched pass
//! (orthogonal init); target `R + γⁿ min` over `q_sample_size` random target
//! critics at the target policy's action with clipped smoothing noise; the
//! actor maximises the mean of `q_sample_size` random critics; Polyak
//! targets. Exploration noise decays linearly from `exploration_noise_start`
//! to `exploration_noise_end` over `exploration_noise_num_steps` episodes.
//!
//! Where the official code differs from its own description, this follows
//! the description: the n-step target is discounted by `γⁿ` (the official
//! `to_nstep` leaves the 1-step target undiscounted), rewards are summed up
//! to and including an episode's last transition, and only transitions after
//! a termination are masked (slices never cross episodes).
//!
//! All randomness comes from the run seed: host-side draws from [`Rng`],
//! on-device noise from a [`TorchStream`], so CPU runs are reproducible.

pub mod planner;
pub mod world_model;

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor, nn, nn::Module};

use crate::agent::{Agent, AgentError, AgentInit, Mode, load_json, parse_config, save_json};
use crate::buffer::{ReplayBuffer, SliceBatch};
use crate::nn::{Adam, CastMlp, EnsembleMlp, Mlp, MlpSpec, WeightInit, copy_params, polyak_update};
use crate::rng::{Rng, TORCH_RNG_LOCK, TorchStream, derive_seed};
use planner::{LatentModel, MppiConfig, PlanNoise};
use world_model::{WorldModel, WorldModelLosses, WorldModelNets};

/// Consistency loss of the dynamics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConsistencyLoss {
    /// Classify the next code of each latent dimension (DCWM).
    CrossEntropy,
    /// Regress the next code (or continuous latent) with MSE.
    Mse,
}

/// How the next latent is propagated in multi-step rollouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UncPropMode {
    /// A straight-through Gumbel-softmax sample of each latent's code.
    Sample,
    /// The expected code, `softmax(logits) · codebook`.
    WeightedAvg,
}

/// What the networks consume for each latent dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DiscreteEncoding {
    /// The FSQ code (`b` values in [-1, 1]).
    Codes,
    /// The code's index, scaled to [-1, 1] (one value).
    Label,
    /// A one-hot vector over the `C` codes.
    OneHot,
}

/// DCWM hyperparameters (defaults: `DCMPCConfig`, aidanscannell/dcmpc).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DcwmConfig {
    // World model.
    /// Latent dimensions `d` (independent codes).
    pub latent_dim: usize,
    /// FSQ levels per channel ([5, 3]: 15 codes).
    pub fsq_levels: Vec<i64>,
    /// Quantize with FSQ (false: continuous latent, MSE consistency).
    pub use_fsq: bool,
    /// Encoder hidden widths.
    pub enc_mlp_dims: Vec<usize>,
    /// Hidden widths of dynamics, reward, actor and critics.
    pub mlp_dims: Vec<usize>,
    /// Rollout horizon of the world-model loss.
    pub horizon: usize,
    /// Per-step weight ρ of the world-model loss (and planning discount).
    pub rho: f64,
    /// World-model learning rate (AdamW).
    pub enc_lr: f64,
    /// AdamW weight decay (PyTorch's default).
    pub enc_weight_decay: f64,
    /// Gradient-norm clip of every optimizer (0: none).
    pub grad_clip_norm: f64,
    /// Weight of the consistency loss.
    pub consistency_coef: f64,
    /// Weight of the reward loss.
    pub reward_coef: f64,
    /// `cross-entropy` or `mse`.
    pub consistency_loss: ConsistencyLoss,
    /// Propagation in training rollouts: `sample` or `weighted-avg`.
    pub unc_prop_mode: UncPropMode,
    /// Hard (straight-through) Gumbel samples.
    pub straight_through_gumbel: bool,
    /// `codes`, `label` or `one-hot`.
    pub discrete_encoding: DiscreteEncoding,
    /// Lower bound of predicted rewards (with `r_max`; null: unbounded).
    pub r_min: Option<f64>,
    /// Upper bound of predicted rewards.
    pub r_max: Option<f64>,
    /// Mixed precision: matrix multiplies in bf16 (f32 accumulation);
    /// the critics' output layer, LayerNorm, activations, losses and
    /// parameters in f32; in training and planning. The official `use_amp` autocasts the world-model loss to
    /// fp16 with a gradient scaler; bf16 keeps f32's exponent range, so no
    /// scaler is needed, and it is what CPUs with AMX/AVX-512-BF16 run
    /// several times faster than f32.
    pub use_amp: bool,
    // Planning.
    /// Plan with MPPI (false: act with the policy).
    pub mpc: bool,
    /// MPPI iterations.
    pub iterations: usize,
    /// Action sequences per iteration.
    pub num_samples: usize,
    /// Elites.
    pub num_elites: usize,
    /// Policy-prior sequences.
    pub num_pi_trajs: usize,
    /// Planning horizon.
    pub plan_horizon: usize,
    /// Minimum sampling std.
    pub min_std: f64,
    /// Maximum (initial) sampling std.
    pub max_std: f64,
    /// Softmax temperature of elite weights.
    pub temperature: f64,
    /// Execute the MPPI mean instead of a sampled elite.
    pub use_mppi_mean: bool,
    // Actor–critic.
    /// Actor and critic learning rate (Adam).
    pub lr: f64,
    /// Batch size of world model and actor–critic.
    pub batch_size: usize,
    /// Updates per environment transition (agent step).
    pub utd_ratio: f64,
    /// Actor updated every this many critic updates.
    pub actor_update_freq: usize,
    /// Discount γ.
    pub gamma: f64,
    /// Polyak rate of target actor and critics.
    pub tau: f64,
    /// Critics in the ensemble.
    pub num_critics: usize,
    /// Critics sampled for targets (min) and the actor loss (mean).
    pub q_sample_size: usize,
    /// n-step returns.
    pub nstep: usize,
    /// Exploration noise std at the first learning episode.
    pub exploration_noise_start: f64,
    /// Exploration noise std after the decay.
    pub exploration_noise_end: f64,
    /// Episodes over which the noise decays linearly.
    pub exploration_noise_num_steps: usize,
    /// Target policy smoothing noise std.
    pub policy_noise: f64,
    /// Clip of the smoothing noise.
    pub noise_clip: f64,
    // Schedule.
    /// Episodes of uniform random actions before learning.
    pub random_episodes: usize,
}

impl Default for DcwmConfig {
    fn default() -> Self {
        DcwmConfig {
            latent_dim: 512,
            fsq_levels: vec![5, 3],
            use_fsq: true,
            enc_mlp_dims: vec![256],
            mlp_dims: vec![512, 512],
            horizon: 5,
            rho: 0.9,
            enc_lr: 1e-4,
            enc_weight_decay: 0.01,
            grad_clip_norm: 20.0,
            consistency_coef: 1.0,
            reward_coef: 1.0,
            consistency_loss: ConsistencyLoss::CrossEntropy,
            unc_prop_mode: UncPropMode::Sample,
            straight_through_gumbel: true,
            discrete_encoding: DiscreteEncoding::Codes,
            // DMC rewards lie in [0, 1] per env step; with action repeat 2 an
            // agent step's reward lies in [0, 2] (envs/__init__.py).
            r_min: Some(0.0),
            r_max: Some(2.0),
            use_amp: false,
            mpc: true,
            iterations: 6,
            num_samples: 512,
            num_elites: 64,
            num_pi_trajs: 24,
            plan_horizon: 3,
            min_std: 0.05,
            max_std: 2.0,
            temperature: 0.5,
            use_mppi_mean: false,
            lr: 3e-4,
            batch_size: 512,
            utd_ratio: 1.0,
            actor_update_freq: 2,
            gamma: 0.99,
            tau: 0.005,
            num_critics: 5,
            q_sample_size: 2,
            nstep: 1,
            exploration_noise_start: 1.0,
            exploration_noise_end: 0.1,
            exploration_noise_num_steps: 50,
            policy_noise: 0.2,
            noise_clip: 0.3,
            random_episodes: 10,
        }
    }
}

impl DcwmConfig {
    fn check(&self) -> Result<(), String> {
        let positive = [
            ("latent_dim", self.latent_dim),
            ("horizon", self.horizon),
            ("batch_size", self.batch_size),
            ("actor_update_freq", self.actor_update_freq),
            ("num_critics", self.num_critics),
            ("q_sample_size", self.q_sample_size),
            ("nstep", self.nstep),
            ("plan_horizon", self.plan_horizon),
            ("num_elites", self.num_elites),
            (
                "exploration_noise_num_steps",
                self.exploration_noise_num_steps,
            ),
        ];
        if let Some((k, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(format!("{k} must be at least 1"));
        }
        if self.q_sample_size > self.num_critics {
            return Err(format!(
                "q_sample_size ({}) exceeds num_critics ({})",
                self.q_sample_size, self.num_critics
            ));
        }
        if self.num_pi_trajs >= self.num_samples || self.num_elites > self.num_samples {
            return Err("need num_pi_trajs < num_samples and num_elites <= num_samples".into());
        }
        if self.use_fsq && (self.fsq_levels.is_empty() || self.fsq_levels.iter().any(|&l| l < 2)) {
            return Err("fsq_levels must be a non-empty list of integers >= 2".into());
        }
        if !self.use_fsq && self.consistency_loss == ConsistencyLoss::CrossEntropy {
            return Err(
                "consistency_loss: cross-entropy needs use_fsq: true (use mse for a continuous latent)"
                    .into(),
            );
        }
        if self.discrete_encoding != DiscreteEncoding::Codes
            && (!self.use_fsq || self.consistency_loss == ConsistencyLoss::Mse)
        {
            return Err(
                "discrete_encoding label/one-hot needs use_fsq: true and consistency_loss: cross-entropy"
                    .into(),
            );
        }
        if !(0.0..=1.0).contains(&self.gamma) || !(0.0..=1.0).contains(&self.tau) {
            return Err("gamma and tau must lie in [0, 1]".into());
        }
        if self.min_std <= 0.0 || self.min_std > self.max_std {
            return Err("need 0 < min_std <= max_std".into());
        }
        if self.r_min.is_some() != self.r_max.is_some() {
            return Err("set both r_min and r_max, or neither".into());
        }
        if !(self.utd_ratio >= 0.0 && self.utd_ratio.is_finite()) {
            return Err("utd_ratio must be a non-negative number".into());
        }
        Ok(())
    }

    fn mppi(&self) -> MppiConfig {
        MppiConfig {
            iterations: self.iterations,
            num_samples: self.num_samples,
            num_elites: self.num_elites,
            num_pi_trajs: self.num_pi_trajs,
            horizon: self.plan_horizon,
            min_std: self.min_std,
            max_std: self.max_std,
            temperature: self.temperature,
            discount: self.rho,
            use_mppi_mean: self.use_mppi_mean,
        }
    }
}

/// The linear exploration-noise schedule, stepped once per learning
/// episode (`h.LinearSchedule` in the official code).
pub fn exploration_noise(cfg: &DcwmConfig, step: usize) -> f64 {
    let n = cfg.exploration_noise_num_steps;
    if n <= 1 {
        return cfg.exploration_noise_start;
    }
    let i = step.min(n - 1) as f64;
    let f = i / (n - 1) as f64;
    cfg.exploration_noise_start + f * (cfg.exploration_noise_end - cfg.exploration_noise_start)
}

/// The n-step target pieces from a slice (batch-major rewards and terminal
/// flags `[B, T]`, `T ≥ n`): `Σ_{k<n} γ^k r_k` and the bootstrap factor
/// `γ^n` (0 when a terminal transition is among the `n`).
pub fn nstep_return(
    reward: &[f32],
    terminated: &[f32],
    horizon: usize,
    n: usize,
    gamma: f64,
) -> (Vec<f32>, Vec<f32>) {
    let batch = reward.len() / horizon;
    let mut ret = Vec::with_capacity(batch);
    let mut disc = Vec::with_capacity(batch);
    for b in 0..batch {
        let (mut g, mut d) = (0.0f64, 1.0f64);
        for k in 0..n {
            let i = b * horizon + k;
            g += d * reward[i] as f64;
            d *= gamma;
            if terminated[i] != 0.0 {
                d = 0.0;
                break;
            }
        }
        ret.push(g as f32);
        disc.push(d as f32);
    }
    (ret, disc)
}

/// `k` distinct indices out of `0..n`, uniformly (a random permutation's
/// prefix, as `torch.randperm(n)[:k]` in the official code).
fn sample_members(rng: &mut Rng, n: usize, k: usize) -> Vec<i64> {
    let mut idx: Vec<i64> = (0..n as i64).collect();
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx
}

/// Counters and generators: what a checkpoint needs besides the tensors.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DcwmState {
    /// Finished training episodes.
    episodes: u64,
    /// Agent steps of the current training episode.
    episode_steps: u64,
    /// Learning episodes so far (exploration schedule index).
    schedule_step: usize,
    critic_updates: u64,
    actor_updates: u64,
    act_rng: Rng,
    sample_rng: Rng,
    torch: TorchStream,
    /// Set by `train_step`: act with the learned agent from now on.
    forced_learning: bool,
    /// Updates of the scheduled block not yet run.
    #[serde(default)]
    pending_updates: u64,
    #[serde(with = "crate::agent::nan_as_null")]
    consistency_loss: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    reward_loss: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    world_model_loss: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    world_model_grad_norm: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    critic_loss: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    actor_loss: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    q_mean: f64,
    #[serde(with = "crate::agent::nan_as_null")]
    codebook_usage: f64,
}

/// Actor and critics with their targets and optimizers.
struct ActorCritic {
    actor_vs: nn::VarStore,
    actor: Mlp,
    actor_target_vs: nn::VarStore,
    actor_target: Mlp,
    critic_vs: nn::VarStore,
    critic: EnsembleMlp,
    critic_target_vs: nn::VarStore,
    critic_target: EnsembleMlp,
    actor_opt: Adam,
    critic_opt: Adam,
}

impl ActorCritic {
    fn new(cfg: &DcwmConfig, repr_dim: usize, act_dim: usize, device: Device) -> Self {
        let pi_spec = MlpSpec::normed_mish(&cfg.mlp_dims);
        let q_spec = MlpSpec {
            init: WeightInit::Orthogonal,
            ..MlpSpec::normed_mish(&cfg.mlp_dims)
        };
        let actor_vs = nn::VarStore::new(device);
        let actor = Mlp::new(&actor_vs.root(), repr_dim, act_dim, &pi_spec);
        let mut actor_target_vs = nn::VarStore::new(device);
        let actor_target = Mlp::new(&actor_target_vs.root(), repr_dim, act_dim, &pi_spec);
        copy_params(&actor_target_vs, &actor_vs);
        actor_target_vs.freeze();
        let k = cfg.num_critics;
        let critic_vs = nn::VarStore::new(device);
        let critic = EnsembleMlp::new(&critic_vs.root(), k, repr_dim + act_dim, 1, &q_spec);
        let mut critic_target_vs = nn::VarStore::new(device);
        let critic_target =
            EnsembleMlp::new(&critic_target_vs.root(), k, repr_dim + act_dim, 1, &q_spec);
        copy_params(&critic_target_vs, &critic_vs);
        critic_target_vs.freeze();
        let clip = |o: Adam| {
            if cfg.grad_clip_norm > 0.0 {
                o.with_max_grad_norm(cfg.grad_clip_norm)
            } else {
                o
            }
        };
        ActorCritic {
            actor_opt: clip(Adam::new(&actor_vs, cfg.lr)),
            critic_opt: clip(Adam::new(&critic_vs, cfg.lr)),
            actor_vs,
            actor,
            actor_target_vs,
            actor_target,
            critic_vs,
            critic,
            critic_target_vs,
            critic_target,
        }
    }
}

/// `tanh` of the actor network's output: the deterministic policy.
fn pi(actor: &impl Module, z: &Tensor) -> Tensor {
    actor.forward(z).tanh()
}

/// Frozen copies of every network planning uses, in the compute precision;
/// made at the first plan after the parameters change.
struct PlanNets {
    wm: WorldModelNets,
    actor: CastMlp,
    critic: EnsembleMlp,
}

/// The DCWM agent.
pub struct Dcwm {
    cfg: DcwmConfig,
    device: Device,
    obs_dim: usize,
    act_dim: usize,
    episode_len: u64,
    wm: WorldModel,
    ac: ActorCritic,
    /// Warm starts of the planner for training and evaluation episodes.
    prev_mean: [Option<Tensor>; 2],
    /// Networks for acting (`None` after an update).
    plan_nets: Option<PlanNets>,
    state: DcwmState,
}

/// The planner's view of the world model and actor–critic. Planning
/// propagates the expected code (`plan_unc_prop_mode: weighted-avg`).
struct Models<'a> {
    wm: &'a WorldModel,
    nets: &'a PlanNets,
}

impl LatentModel for Models<'_> {
    fn reward(&self, z: &Tensor, a: &Tensor) -> Tensor {
        self.wm.reward(&self.nets.wm, z, a)
    }
    fn next(&self, z: &Tensor, a: &Tensor) -> Tensor {
        self.wm.expected_next(&self.nets.wm, z, a)
    }
    fn policy(&self, z: &Tensor) -> Tensor {
        pi(&self.nets.actor, z)
    }
    fn value(&self, z: &Tensor, a: &Tensor, members: &[i64]) -> Tensor {
        self.nets
            .critic
            .forward_members(&Tensor::cat(&[z, a], -1), members)
            .mean_dim(0, false, Kind::Float)
            .squeeze_dim(-1)
    }
}

fn mode_slot(mode: Mode) -> usize {
    match mode {
        Mode::Explore => 0,
        Mode::Eval => 1,
    }
}

impl Dcwm {
    /// A DCWM agent for `init.spec` (config from `init.config`).
    pub fn new(init: &AgentInit) -> Result<Self, AgentError> {
        let cfg: DcwmConfig = parse_config("dcwm", init.config)?;
        // Agent steps per episode, from the task's protocol (the time limit).
        let episode_len = init
            .spec
            .max_episode_steps
            .ok_or_else(|| AgentError::Config {
                agent: "dcwm".into(),
                message: "the task needs a time limit (the pretraining covers the first \
                          random_episodes episodes)"
                    .into(),
            })? as u64;
        Self::with_config(
            cfg,
            init.spec.obs_dim(),
            init.spec.action_dim(),
            episode_len,
            init.device,
            init.seed,
        )
    }

    /// A DCWM agent from a typed config; `episode_len` in agent steps.
    pub fn with_config(
        cfg: DcwmConfig,
        obs_dim: usize,
        act_dim: usize,
        episode_len: u64,
        device: Device,
        seed: u64,
    ) -> Result<Self, AgentError> {
        cfg.check().map_err(|message| AgentError::Config {
            agent: "dcwm".into(),
            message,
        })?;
        if cfg.use_amp && device == Device::Cpu {
            let slowdown = crate::device::cpu_bf16_matmul_slowdown();
            if slowdown > 2.0 {
                tracing::warn!(
                    "dcwm: use_amp on a CPU without native bf16 (AMX or AVX-512-BF16): \
                     bf16 matrix multiplies run {slowdown:.0}x slower than f32 here; \
                     set use_amp: false"
                );
            }
        }
        let (wm, ac) = {
            // libtorch's initialisation draws from its process-wide generator.
            let _guard = TORCH_RNG_LOCK.lock().unwrap_or_else(|e| e.into_inner());
            tch::manual_seed(derive_seed(seed, "dcwm/init") as i64);
            let wm = WorldModel::new(&cfg, obs_dim, act_dim, device);
            let ac = ActorCritic::new(&cfg, wm.repr_dim() as usize, act_dim, device);
            (wm, ac)
        };
        Ok(Dcwm {
            device,
            obs_dim,
            act_dim,
            episode_len: episode_len.max(1),
            wm,
            ac,
            prev_mean: [None, None],
            plan_nets: None,
            state: DcwmState {
                episodes: 0,
                episode_steps: 0,
                schedule_step: 0,
                critic_updates: 0,
                actor_updates: 0,
                act_rng: Rng::new(derive_seed(seed, "dcwm/act")),
                sample_rng: Rng::new(derive_seed(seed, "dcwm/sample")),
                torch: TorchStream::new(derive_seed(seed, "dcwm/torch")),
                forced_learning: false,
                pending_updates: 0,
                consistency_loss: f64::NAN,
                reward_loss: f64::NAN,
                world_model_loss: f64::NAN,
                world_model_grad_norm: f64::NAN,
                critic_loss: f64::NAN,
                actor_loss: f64::NAN,
                q_mean: f64::NAN,
                codebook_usage: f64::NAN,
            },
            cfg,
        })
    }

    /// The configuration in use.
    pub fn config(&self) -> &DcwmConfig {
        &self.cfg
    }

    /// The world model.
    pub fn world_model(&self) -> &WorldModel {
        &self.wm
    }

    /// Current exploration noise std.
    pub fn exploration_noise(&self) -> f64 {
        exploration_noise(&self.cfg, self.state.schedule_step)
    }

    fn learning(&self) -> bool {
        self.state.forced_learning || self.state.episodes >= self.cfg.random_episodes as u64
    }

    fn tensor(&self, v: &[f32], shape: &[i64]) -> Tensor {
        Tensor::from_slice(v).view(shape).to_device(self.device)
    }

    /// The networks for acting, made if the parameters changed since.
    fn plan_nets(&mut self) -> &PlanNets {
        let (wm, ac) = (&self.wm, &self.ac);
        self.plan_nets.get_or_insert_with(|| {
            tch::no_grad(|| {
                let kind = wm.compute_kind();
                PlanNets {
                    wm: wm.nets(),
                    actor: ac.actor.cast(kind),
                    critic: ac.critic.cast(kind),
                }
            })
        })
    }

    /// Plans (or queries the policy) for one observation.
    fn select_action(&mut self, obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
        let obs = self.tensor(obs, &[1, self.obs_dim as i64]);
        self.plan_nets();
        let nets = self.plan_nets.as_ref().expect("made above");
        let sigma = self.exploration_noise();
        let explore_std = if mode == Mode::Explore { sigma } else { 0.0 };
        let action = if self.cfg.mpc {
            let mppi = self.cfg.mppi();
            let critics: Vec<Vec<i64>> = (0..mppi.iterations)
                .map(|_| {
                    sample_members(
                        &mut self.state.act_rng,
                        self.cfg.num_critics,
                        self.cfg.q_sample_size,
                    )
                })
                .collect();
            let (device, act_dim) = (self.device, self.act_dim);
            let noise = self
                .state
                .torch
                .draw(|| PlanNoise::draw(&mppi, act_dim, device, critics));
            let slot = mode_slot(mode);
            let plan = tch::no_grad(|| {
                let z0 = self.wm.encode(&nets.wm, &obs).repr;
                let models = Models { wm: &self.wm, nets };
                planner::plan(
                    &models,
                    &mppi,
                    &z0,
                    self.prev_mean[slot].as_ref(),
                    &noise,
                    sigma,
                    explore_std,
                )
            });
            self.prev_mean[slot] = Some(plan.mean);
            plan.action
        } else {
            let act_dim = self.act_dim as i64;
            let device = self.device;
            let eps = self
                .state
                .torch
                .draw(|| Tensor::randn([act_dim], (Kind::Float, device)));
            tch::no_grad(|| {
                let z = self.wm.encode(&nets.wm, &obs).repr;
                (pi(&nets.actor, &z).get(0) + eps * explore_std).clamp(-1.0, 1.0)
            })
        };
        Ok(Vec::<f32>::try_from(action.to_device(Device::Cpu))?)
    }

    /// One update of world model, critic and (every `actor_update_freq`)
    /// actor on a slice batch.
    pub fn update_on(&mut self, batch: &SliceBatch) -> WorldModelLosses {
        self.plan_nets = None;
        let kind = self.wm.compute_kind();
        let t = batch.horizon as i64;
        let b = (batch.reward.len() / batch.horizon) as i64;
        let (o, a) = (self.obs_dim as i64, self.act_dim as i64);
        let obs = self.tensor(&batch.obs, &[b, t + 1, o]).transpose(0, 1);
        let action = self.tensor(&batch.action, &[b, t, a]).transpose(0, 1);
        let reward = self.tensor(&batch.reward, &[b, t]).transpose(0, 1);
        let terminated = self.tensor(&batch.terminated, &[b, t]).transpose(0, 1);
        // alive_t = Π_{k<t} (1 − terminated_k).
        let alive = Tensor::cat(
            &[
                Tensor::ones([1, b], (Kind::Float, self.device)),
                (terminated.ones_like() - &terminated)
                    .cumprod(0, Kind::Float)
                    .narrow(0, 0, t - 1),
            ],
            0,
        );

        // World model.
        let noise = self.wm.gumbel_shape(b).map(|s| {
            let device = self.device;
            let uniform = self
                .state
                .torch
                .draw(|| Tensor::rand(s, (Kind::Float, device)));
            world_model::gumbel_noise(uniform)
        });
        let losses = self
            .wm
            .update(&obs, &action, &reward, &alive, noise.as_ref());

        // Critic on the n-step transition, codes from the updated encoder.
        let n = self.cfg.nstep;
        let (ret, disc) = nstep_return(
            &batch.reward,
            &batch.terminated,
            batch.horizon,
            n,
            self.cfg.gamma,
        );
        let ret = self.tensor(&ret, &[b]);
        let disc = self.tensor(&disc, &[b]);
        let (z, z_next) = tch::no_grad(|| {
            let nets = self.wm.nets();
            (
                self.wm.encode(&nets, &obs.get(0)).repr,
                self.wm.encode(&nets, &obs.get(n as i64)).repr,
            )
        });
        let a0 = action.get(0);
        let smoothing = {
            let device = self.device;
            self.state
                .torch
                .draw(|| Tensor::randn([b, a], (Kind::Float, device)))
        };
        let target_critics = sample_members(
            &mut self.state.sample_rng,
            self.cfg.num_critics,
            self.cfg.q_sample_size,
        );
        let target = tch::no_grad(|| {
            let noise = (smoothing * self.cfg.policy_noise)
                .clamp(-self.cfg.noise_clip, self.cfg.noise_clip);
            let a_next = (pi(&self.ac.actor_target.cast(kind), &z_next) + noise).clamp(-1.0, 1.0);
            let q_next = self
                .ac
                .critic_target
                .cast(kind)
                .forward_members(&Tensor::cat(&[&z_next, &a_next], -1), &target_critics)
                .amin([0], false)
                .squeeze_dim(-1);
            &ret + &disc * q_next
        });
        let q = self
            .ac
            .critic
            .cast(kind)
            .forward(&Tensor::cat(&[&z, &a0], -1))
            .squeeze_dim(-1);
        let critic_loss = (&q - target.unsqueeze(0)).square().mean(Kind::Float);
        self.ac.critic_opt.step(&critic_loss);
        polyak_update(&self.ac.critic_target_vs, &self.ac.critic_vs, self.cfg.tau);
        self.state.critic_updates += 1;
        self.state.critic_loss = critic_loss.double_value(&[]);
        self.state.q_mean = q.mean(Kind::Float).double_value(&[]);

        // Actor, delayed.
        if self
            .state
            .critic_updates
            .is_multiple_of(self.cfg.actor_update_freq as u64)
        {
            let members = sample_members(
                &mut self.state.sample_rng,
                self.cfg.num_critics,
                self.cfg.q_sample_size,
            );
            let pi = pi(&self.ac.actor.cast(kind), &z);
            let q_pi = self
                .ac
                .critic
                .cast(kind)
                .forward_members(&Tensor::cat(&[&z, &pi], -1), &members)
                .mean_dim(0, false, Kind::Float);
            let actor_loss = -q_pi.mean(Kind::Float);
            self.ac.actor_opt.step(&actor_loss);
            polyak_update(&self.ac.actor_target_vs, &self.ac.actor_vs, self.cfg.tau);
            self.state.actor_updates += 1;
            self.state.actor_loss = actor_loss.double_value(&[]);
        }
        self.state.consistency_loss = losses.consistency;
        self.state.reward_loss = losses.reward;
        self.state.world_model_loss = losses.total;
        self.state.world_model_grad_norm = losses.grad_norm;
        losses
    }

    fn sample(&mut self, buffer: &ReplayBuffer) -> Result<SliceBatch, AgentError> {
        let h = self.cfg.horizon.max(self.cfg.nstep);
        Ok(buffer.sample_slices(self.cfg.batch_size, h, &mut self.state.sample_rng)?)
    }

    /// The codebook usage on a fresh batch (after each update block).
    fn measure_codebook_usage(&mut self, buffer: &ReplayBuffer) -> Result<(), AgentError> {
        let batch = self.sample(buffer)?;
        let b = (batch.reward.len() / batch.horizon) as i64;
        let obs = self
            .tensor(
                &batch.obs,
                &[b, batch.horizon as i64 + 1, self.obs_dim as i64],
            )
            .select(1, 0);
        self.state.codebook_usage = self.wm.codebook_usage(&obs).unwrap_or(f64::NAN);
        Ok(())
    }
}

impl Agent for Dcwm {
    fn begin_episode(&mut self, mode: Mode) {
        self.prev_mean[mode_slot(mode)] = None;
    }

    fn act(&mut self, obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
        if mode == Mode::Explore && !self.learning() {
            return Ok(self.state.act_rng.uniform_action(self.act_dim));
        }
        self.select_action(obs, mode)
    }

    fn update(
        &mut self,
        buffer: &ReplayBuffer,
        _env_step: u64,
        episode_end: bool,
    ) -> Result<(), AgentError> {
        self.state.episode_steps += 1;
        if !episode_end {
            return Ok(());
        }
        self.state.episodes += 1;
        let steps = std::mem::take(&mut self.state.episode_steps);
        let random = self.cfg.random_episodes as u64;
        if self.state.episodes < random.max(1) {
            return Ok(());
        }
        // The pretraining block after the random episodes covers all of
        // their transitions (`train.py`), later blocks the episode's.
        let transitions = if self.state.episodes == random.max(1) {
            random.max(1) * self.episode_len
        } else {
            steps
        };
        let n = (transitions as f64 * self.cfg.utd_ratio).round() as u64;
        self.state.pending_updates += n;
        self.state.schedule_step += 1;
        if n == 0 {
            self.measure_codebook_usage(buffer)?;
        }
        Ok(())
    }

    fn pending_updates(&self) -> u64 {
        self.state.pending_updates
    }

    fn run_pending_updates(&mut self, buffer: &ReplayBuffer, max: u64) -> Result<u64, AgentError> {
        let n = max.min(self.state.pending_updates);
        for _ in 0..n {
            let batch = self.sample(buffer)?;
            self.update_on(&batch);
            self.state.pending_updates -= 1;
        }
        if n > 0 && self.state.pending_updates == 0 {
            self.measure_codebook_usage(buffer)?;
        }
        Ok(n)
    }

    fn train_step(&mut self, buffer: &ReplayBuffer) -> Result<bool, AgentError> {
        self.state.forced_learning = true;
        let batch = self.sample(buffer)?;
        self.update_on(&batch);
        Ok(true)
    }

    fn updates_per_agent_step(&self) -> f64 {
        self.cfg.utd_ratio
    }

    fn metrics(&self) -> Vec<(String, f64)> {
        let s = &self.state;
        vec![
            ("critic_updates".into(), s.critic_updates as f64),
            ("consistency_loss".into(), s.consistency_loss),
            ("reward_loss".into(), s.reward_loss),
            ("world_model_loss".into(), s.world_model_loss),
            ("world_model_grad_norm".into(), s.world_model_grad_norm),
            ("critic_loss".into(), s.critic_loss),
            ("actor_loss".into(), s.actor_loss),
            ("q_mean".into(), s.q_mean),
            ("exploration_noise".into(), self.exploration_noise()),
            ("codebook_active_percent".into(), s.codebook_usage),
        ]
    }

    fn save(&self, dir: &Path) -> Result<(), AgentError> {
        self.wm.vs.save(dir.join("world_model.safetensors"))?;
        self.ac.actor_vs.save(dir.join("actor.safetensors"))?;
        self.ac
            .actor_target_vs
            .save(dir.join("actor_target.safetensors"))?;
        self.ac.critic_vs.save(dir.join("critic.safetensors"))?;
        self.ac
            .critic_target_vs
            .save(dir.join("critic_target.safetensors"))?;
        self.wm.optimizer().save(&dir.join("world_model_opt.ot"))?;
        self.ac.actor_opt.save(&dir.join("actor_opt.ot"))?;
        self.ac.critic_opt.save(&dir.join("critic_opt.ot"))?;
        save_json(dir, "dcwm.json", &self.state)
    }

    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        self.wm.vs.load(dir.join("world_model.safetensors"))?;
        self.ac.actor_vs.load(dir.join("actor.safetensors"))?;
        self.ac
            .actor_target_vs
            .load(dir.join("actor_target.safetensors"))?;
        self.ac.critic_vs.load(dir.join("critic.safetensors"))?;
        self.ac
            .critic_target_vs
            .load(dir.join("critic_target.safetensors"))?;
        self.wm
            .optimizer_mut()
            .load(&dir.join("world_model_opt.ot"))?;
        self.ac.actor_opt.load(&dir.join("actor_opt.ot"))?;
        self.ac.critic_opt.load(&dir.join("critic_opt.ot"))?;
        self.state = load_json(dir, "dcwm.json")?;
        self.prev_mean = [None, None];
        self.plan_nets = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
