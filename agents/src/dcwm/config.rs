//! DCWM's hyperparameters: [`DcwmConfig`] (defaults: `DCMPCConfig` of the
//! official code, aidanscannell/dcmpc), the options its ablations choose
//! between ([`ConsistencyLoss`], [`UncPropMode`], [`DiscreteEncoding`]),
//! the switches between the official code and the paper's text where the two
//! differ ([`TdDiscount`], [`CriticInit`]), the reward head's bounds
//! ([`RewardBound`], resolved from the environment by [`DcwmConfig::for_env`]),
//! and the exploration-noise schedule ([`exploration_noise`]).
//!
//! Contract: a config is plain data (serde, `deny_unknown_fields`, every
//! field defaulted); `check` rejects inconsistent settings, and bounds still
//! `auto`, before any network is built; the planner's settings, the
//! bootstrap discount and the exploration noise are pure functions of the
//! config (and the learning episode).

use serde::{Deserialize, Serialize};

use super::planner::MppiConfig;

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

/// How the TD target discounts its bootstrap (the paper's text and the
/// official code differ for 1-step targets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TdDiscount {
    /// As the official code: rewards `Σ_{k<n} γ^k r_k` and bootstrap `γⁿ`
    /// for `n > 1`, but an undiscounted 1-step target (`r + Q'`): its
    /// `to_nstep` (`utils/buffers.py`) applies γ only when `nstep > 1`, and
    /// the sampler's `next_state_gammas` are 1.
    Official,
    /// As the paper describes: `γⁿ` for every n, 1 included.
    Paper,
}

/// Initialisation of the critics' weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CriticInit {
    /// PyTorch's `nn.Linear` default, `U(±1/√fan_in)` for weights and
    /// biases: what the official critics get, since its
    /// `orthogonal_init(mlp.parameters())` (`utils/layers.py`) receives
    /// parameters, not modules, and changes nothing.
    Pytorch,
    /// Orthogonal weights (gain 1) and zero biases, as the paper describes.
    Orthogonal,
}

/// One bound of the reward head: a number, or `auto` — resolved from the
/// environment by [`DcwmConfig::for_env`]. YAML `null` (the `Option` around
/// it) leaves the head unbounded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RewardBound {
    /// A fixed bound.
    Fixed(f64),
    /// From the environment (the word `auto`).
    Auto(AutoWord),
}

/// The word `auto` in a config.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AutoWord {
    /// `auto`.
    Auto,
}

impl RewardBound {
    /// `auto`.
    pub const AUTO: RewardBound = RewardBound::Auto(AutoWord::Auto);
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
    /// Lower bound of predicted rewards (with `r_max`; null: unbounded;
    /// `auto`: from the environment, see [`DcwmConfig::for_env`]).
    pub r_min: Option<RewardBound>,
    /// Upper bound of predicted rewards.
    pub r_max: Option<RewardBound>,
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
    /// `official` (undiscounted 1-step targets) or `paper` (`γⁿ` always).
    pub td_discount: TdDiscount,
    /// `pytorch` (the official critics' effective init) or `orthogonal`.
    pub critic_init: CriticInit,
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
            r_min: Some(RewardBound::AUTO),
            r_max: Some(RewardBound::AUTO),
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
            td_discount: TdDiscount::Official,
            critic_init: CriticInit::Pytorch,
            tau: 0.005,
            num_critics: 5,
            q_sample_size: 2,
            nstep: 1,
            exploration_noise_start: 1.0,
            exploration_noise_end: 0.1,
            exploration_noise_num_steps: 50,
            policy_noise: 0.2,
            noise_clip: 0.3,
        }
    }
}

/// The largest FSQ codebook a config may ask for (`Π fsq_levels`).
const MAX_FSQ_CODES: i64 = 1 << 16;

impl DcwmConfig {
    /// `Err` with a message naming the offending settings.
    pub(super) fn check(&self) -> Result<(), String> {
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
        // The implicit codebook is materialised (`Π levels` rows); the FSQ
        // paper's largest is 8·8·8·5·5·5 = 64,000 codes.
        let codes = (self.fsq_levels.iter()).try_fold(1i64, |n, &l| n.checked_mul(l));
        if self.use_fsq && codes.is_none_or(|n| n > MAX_FSQ_CODES) {
            return Err(format!(
                "fsq_levels {:?} make more than {MAX_FSQ_CODES} codes",
                self.fsq_levels
            ));
        }
        crate::nn::check_widths("enc_mlp_dims", &self.enc_mlp_dims)?;
        crate::nn::check_widths("mlp_dims", &self.mlp_dims)?;
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
        match (self.r_min, self.r_max) {
            (None, None) => {}
            (Some(RewardBound::Fixed(lo)), Some(RewardBound::Fixed(hi))) => {
                if lo.partial_cmp(&hi) != Some(std::cmp::Ordering::Less) {
                    return Err(format!("need r_min < r_max (got {lo} and {hi})"));
                }
            }
            (Some(RewardBound::Auto(_)), Some(RewardBound::Auto(_))) => {
                return Err(
                    "r_min/r_max: auto is resolved from the environment (DcwmConfig::for_env); \
                     give numbers or null here"
                        .into(),
                );
            }
            _ => {
                return Err(
                    "set r_min and r_max both to numbers, both to auto, or both to null".into(),
                );
            }
        }
        if !(self.utd_ratio >= 0.0 && self.utd_ratio.is_finite()) {
            return Err("utd_ratio must be a non-negative number".into());
        }
        Ok(())
    }

    /// The config for an environment: `auto` reward bounds become the
    /// suite's, as the official code sets them (`envs/__init__.py`): for a
    /// suite whose raw step reward lies in a known range (dm_control: [0, 1])
    /// that range times the action repeat (DMC at repeat 2: [0, 2]);
    /// unbounded for the others (Meta-World: the official head is unbounded).
    pub fn for_env(mut self, spec: &envs::EnvSpec) -> Self {
        if let (Some(RewardBound::Auto(_)), Some(RewardBound::Auto(_))) = (self.r_min, self.r_max) {
            let repeat = spec.action_repeat as f64;
            let range = spec.reward_range.map(|(lo, hi)| (lo * repeat, hi * repeat));
            self.r_min = range.map(|(lo, _)| RewardBound::Fixed(lo));
            self.r_max = range.map(|(_, hi)| RewardBound::Fixed(hi));
        }
        self
    }

    /// The reward head's bounds after [`DcwmConfig::for_env`] (`None`:
    /// unbounded).
    pub fn reward_range(&self) -> Option<(f64, f64)> {
        match (self.r_min, self.r_max) {
            (Some(RewardBound::Fixed(lo)), Some(RewardBound::Fixed(hi))) => Some((lo, hi)),
            _ => None,
        }
    }

    /// The discount of the TD target's rewards (`γ`, or 1 for an official
    /// 1-step target: see [`TdDiscount`]).
    pub fn td_gamma(&self) -> f64 {
        match (self.td_discount, self.nstep) {
            (TdDiscount::Official, 1) => 1.0,
            _ => self.gamma,
        }
    }

    /// The planner's settings.
    pub(super) fn mppi(&self) -> MppiConfig {
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
