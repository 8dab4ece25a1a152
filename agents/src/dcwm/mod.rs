//! DCWM / DC-MPC (Scannell et al., "Discrete Codebook World Models for
//! Continuous Control", ICLR 2025): a discrete codebook world model
//! ([`world_model`]), a TD3-style actor–critic on its codes, and MPPI
//! planning in the latent space ([`planner`]).
//!
//! Defaults are `DCMPCConfig` of the official code (aidanscannell/dcmpc,
//! `dcmpc.py`), per-task settings its `cfgs/env/*.yaml` (in
//! `configs/agents/dcwm.tasks.yaml`). Training schedule (`train.py`): the
//! run's warm-up of uniform random actions (`random_episodes: 10` episodes
//! in the official code: `warmup_steps: 10000` on DMC), then, at the first
//! episode end after it, one pretraining block of `utd_ratio` updates per
//! transition seen so far, then after every episode `utd_ratio × episode
//! length` updates. `update` asks for a block; the run loop runs it in
//! chunks ([`Agent::learn`]) and can checkpoint between chunks. Each update:
//! one world-model step on a slice of `max(horizon, nstep)` transitions, then
//! the critic on the slice's n-step transition (codes from the updated
//! encoder, no gradient), then every `actor_update_freq` critic updates the
//! actor.
//!
//! Actor–critic (TD3, Fujimoto et al. 2018, with a REDQ-style ensemble):
//! deterministic `tanh` policy; `num_critics` Q-networks in one batched pass;
//! target `R + γⁿ min` over `q_sample_size` random target critics at the
//! target policy's action with clipped smoothing noise; the actor maximises
//! the mean of `q_sample_size` random critics; Polyak targets. Exploration
//! noise decays linearly from `exploration_noise_start` to
//! `exploration_noise_end` over `exploration_noise_num_steps` episodes.
//!
//! Where the official code and the paper's text differ, the defaults follow
//! the code that produced the published curves, with a switch to the text:
//! - `td_discount: official` — 1-step targets are undiscounted, `r + Q'`
//!   (its `to_nstep` applies γ only for n > 1; 18 of the 30 DMC tasks use
//!   n = 1); `paper` discounts by `γⁿ` for every n.
//! - `critic_init: pytorch` — the official critics keep PyTorch's default
//!   init (its orthogonal init is handed parameters, not modules, and does
//!   nothing); `orthogonal` is the described init.
//! - `r_min`/`r_max: auto` — the reward head is squashed into `[0, action
//!   repeat]` on dm_control and unbounded elsewhere, as `envs/__init__.py`
//!   sets them (numbers or null override).
//!
//! Kept as ours: slices never cross episodes, and rewards are summed up to
//! and including an episode's last transition; only transitions after a
//! termination are masked. The official replay sampler has no episode ids
//! and DMC (and its Meta-World rollouts, 100 agent steps inside a 200-step
//! time limit) never set `done`, so its slices run across resets there: an
//! artefact of missing flags, not a choice, about 1% of its slices. The
//! same missing flags mean it masks no episode's last transition on either
//! suite, which is what this does for truncated episodes.
//!
//! Device work: an update never waits for the device. Its losses and
//! gradient norms stay device scalars until the end of a block of updates
//! ([`Agent::learn`]) reads them all at once; the optimizers clip with a
//! coefficient computed on the device and step over flat buffers
//! ([`crate::nn::Adam`]); targets move by one `lerp_` per tensor; batches and
//! critic indices go up through pinned memory without blocking. So on a GPU
//! the host assembles the next batch while the device runs the current
//! update, the overlap the official code gets from its 5 prefetching
//! sampler threads. A plan uploads its critic indices once and reads back
//! only the action.
//!
//! All randomness comes from the run seed: host-side draws from [`Rng`],
//! on-device noise from a [`TorchStream`], so CPU runs are reproducible.
//!
//! Files: `config.rs` (hyperparameters), [`world_model`], `actor_critic.rs`
//! (actor, critics and their update steps), `update.rs` (an update's inputs
//! and its noise), [`planner`] (MPPI), `acting.rs` (the action for one
//! observation and a plan's FLOPs), [`official`] (the official code's
//! parameter layout and the step-by-step replay); this one holds the agent
//! and the update's outline ([`Dcwm::update_on`]).

mod acting;
mod actor_critic;
mod config;
pub mod official;
pub mod planner;
mod update;
pub mod world_model;

pub use actor_critic::nstep_return;
pub use config::{
    AutoWord, ConsistencyLoss, CriticInit, DcwmConfig, DiscreteEncoding, RewardBound, TdDiscount,
    UncPropMode, exploration_noise,
};

use std::path::Path;

use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor, nn};

use crate::agent::{
    Agent, AgentError, AgentInit, EvalSlots, Mode, load_json, parse_config, save_json,
};
use crate::buffer::{ReplayBuffer, SliceBatch};
use crate::nn::{Adam, CheckpointPart};
use crate::registry::NamedAgent;
use crate::rng::{Rng, TORCH_RNG_LOCK, TorchStream, derive_seed};
use acting::{EvalEpisode, PlanNets};
use actor_critic::ActorCritic;
use official::{UpdateTrace, gradients};
use update::UpdateNoise;
use world_model::WorldModel;

/// Counters and generators: what a checkpoint needs besides the tensors.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DcwmState {
    /// Finished training episodes.
    episodes: u64,
    /// Agent steps of the current training episode.
    episode_steps: u64,
    /// Learning episodes so far (exploration schedule index).
    schedule_step: usize,
    /// Agent steps seen in training (the pretraining block covers them).
    #[serde(default)]
    steps_seen: u64,
    critic_updates: u64,
    actor_updates: u64,
    act_rng: Rng,
    sample_rng: Rng,
    torch: TorchStream,
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

/// The DCWM agent.
pub struct Dcwm {
    cfg: DcwmConfig,
    device: Device,
    obs_dim: usize,
    act_dim: usize,
    /// The run's warm-up in env steps: no updates before it.
    warmup_steps: u64,
    wm: WorldModel,
    ac: ActorCritic,
    /// The planner's warm start in the training episode.
    train_mean: Option<Tensor>,
    /// Each evaluation episode's warm start and noise streams.
    eval: EvalSlots<EvalEpisode>,
    /// Networks for acting (`None` after an update).
    plan_nets: Option<PlanNets>,
    /// Metrics of the last update still on the device, with the state field
    /// each goes to; [`Dcwm::settle_metrics`] reads them all at once.
    pending: Vec<(Metric, Tensor)>,
    state: DcwmState,
}

/// A metric's field in [`DcwmState`].
type Metric = fn(&mut DcwmState) -> &mut f64;

impl Dcwm {
    /// A DCWM agent from a typed config (no warm-up: it learns from the
    /// first episode end).
    pub fn with_config(
        cfg: DcwmConfig,
        obs_dim: usize,
        act_dim: usize,
        device: Device,
        seed: u64,
    ) -> Result<Self, AgentError> {
        // libtorch's thread count is per thread: the configured one (1 by
        // default) on the thread that makes and runs the agent.
        crate::device::apply_torch_threads();
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
            warmup_steps: 0,
            wm,
            ac,
            train_mean: None,
            eval: EvalSlots::default(),
            plan_nets: None,
            pending: Vec::new(),
            state: DcwmState {
                episodes: 0,
                episode_steps: 0,
                schedule_step: 0,
                steps_seen: 0,
                critic_updates: 0,
                actor_updates: 0,
                act_rng: Rng::new(derive_seed(seed, "dcwm/act")),
                sample_rng: Rng::new(derive_seed(seed, "dcwm/sample")),
                torch: TorchStream::new(derive_seed(seed, "dcwm/torch")),
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

    /// A host slice as a device tensor; on a GPU through pinned memory,
    /// without waiting for the copy.
    fn tensor(&self, v: &[f32], shape: &[i64]) -> Tensor {
        let t = Tensor::from_slice(v).view(shape);
        match self.device {
            Device::Cpu => t,
            d => t.pin_memory(d).to_device_(d, Kind::Float, true, false),
        }
    }

    /// One update of world model, critic and (every `actor_update_freq`)
    /// actor on a slice batch, with noise from the agent's own streams; its
    /// losses are in [`Agent::metrics`] after.
    pub fn update_on(&mut self, batch: &SliceBatch) {
        self.update_drawn(batch);
        self.settle_metrics();
    }

    /// [`Dcwm::update_on`] without reading its metrics back.
    fn update_drawn(&mut self, batch: &SliceBatch) {
        let b = (batch.reward.len() / batch.horizon) as i64;
        let noise = self.draw_update_noise(b, self.actor_due());
        self.update_with(batch, noise);
    }

    /// Reads the metrics of the last update from the device (one
    /// synchronisation) into the state.
    fn settle_metrics(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        let pending = std::mem::take(&mut self.pending);
        let values: Vec<Tensor> = pending
            .iter()
            .map(|(_, t)| t.to_kind(Kind::Double))
            .collect();
        let values = Vec::<f64>::try_from(Tensor::stack(&values, 0).to_device(Device::Cpu))
            .unwrap_or_default();
        for ((field, _), v) in pending.iter().zip(values) {
            *field(&mut self.state) = v;
        }
    }

    /// Whether the next critic update is followed by an actor update.
    fn actor_due(&self) -> bool {
        (self.state.critic_updates + 1).is_multiple_of(self.cfg.actor_update_freq as u64)
    }

    /// [`Dcwm::update_on`] with the update's random numbers given (tests
    /// replace them; [`Dcwm::draw_update_noise`] draws the agent's own).
    fn update_with(&mut self, batch: &SliceBatch, noise: UpdateNoise) {
        self.update_traced(batch, noise, None);
    }

    /// [`Dcwm::update_with`], recording each step's gradients and TD
    /// targets in `trace` when given (the official-code check reads them).
    fn update_traced(
        &mut self,
        batch: &SliceBatch,
        noise: UpdateNoise,
        mut trace: Option<&mut UpdateTrace>,
    ) {
        self.plan_nets = None;
        let kind = self.wm.compute_kind();
        let s = self.slice_tensors(batch);
        let actor_due = self.actor_due();

        // World model: one step on the slice.
        let gumbel = noise.gumbel.as_ref();
        let losses = self
            .wm
            .update(&s.obs, &s.action, &s.reward, &s.alive, gumbel);
        if let Some(t) = trace.as_deref_mut() {
            t.world_model_grads = gradients(&self.wm.vs, self.wm.optimizer().last_clip());
            t.world_model_grad_norm = Some(losses.grad_norm.shallow_clone());
        }
        self.pending = vec![
            (|s| &mut s.consistency_loss, losses.consistency),
            (|s| &mut s.reward_loss, losses.reward),
            (|s| &mut s.world_model_loss, losses.total),
            (|s| &mut s.world_model_grad_norm, losses.grad_norm),
        ];

        // n-step targets: the slice's n-step transition, its codes from the
        // updated encoder.
        let step = self.nstep_batch(batch, &s);

        // Critic.
        let (smoothing, critics) = (noise.smoothing, &noise.target_critics);
        let critic = self
            .ac
            .critic_update(&self.cfg, kind, &step, smoothing, critics);
        self.state.critic_updates += 1;
        if let Some(t) = trace.as_deref_mut() {
            t.critic_grads = gradients(&self.ac.critic_vs, self.ac.critic_opt.last_clip());
            t.critic_grad_norm = Some(critic.grad_norm.shallow_clone());
            t.td_target = Some(critic.target);
        }
        self.pending.push((|s| &mut s.critic_loss, critic.loss));
        self.pending.push((|s| &mut s.q_mean, critic.q_mean));

        // Actor, delayed: every `actor_update_freq` critic updates.
        if let Some(critics) = &noise.actor_critics {
            let (loss, grad_norm) = self.ac.actor_update(kind, &step.z, critics);
            self.state.actor_updates += 1;
            if let Some(t) = trace {
                let grads = gradients(&self.ac.actor_vs, self.ac.actor_opt.last_clip());
                t.actor = Some((grads, loss.shallow_clone(), grad_norm));
            }
            self.pending.push((|s| &mut s.actor_loss, loss));
        }

        // Targets: Polyak averages of the critics and, after an actor step,
        // of the actor.
        self.ac.update_targets(self.cfg.tau, actor_due);
    }

    /// The parameter stores of a checkpoint, each with its file (saved and
    /// loaded in this order, then [`Self::optimizer_files`], then the
    /// counters in `dcwm.json`).
    fn var_store_files() -> [CheckpointPart<Self, nn::VarStore>; 5] {
        [
            ("world_model.safetensors", |a| &a.wm.vs, |a| &mut a.wm.vs),
            (
                "actor.safetensors",
                |a| &a.ac.actor_vs,
                |a| &mut a.ac.actor_vs,
            ),
            (
                "actor_target.safetensors",
                |a| &a.ac.actor_target_vs,
                |a| &mut a.ac.actor_target_vs,
            ),
            (
                "critic.safetensors",
                |a| &a.ac.critic_vs,
                |a| &mut a.ac.critic_vs,
            ),
            (
                "critic_target.safetensors",
                |a| &a.ac.critic_target_vs,
                |a| &mut a.ac.critic_target_vs,
            ),
        ]
    }

    /// The optimizer states of a checkpoint, each with its file.
    fn optimizer_files() -> [CheckpointPart<Self, Adam>; 3] {
        [
            (
                "world_model_opt.ot",
                |a| a.wm.optimizer(),
                |a| a.wm.optimizer_mut(),
            ),
            ("actor_opt.ot", |a| &a.ac.actor_opt, |a| &mut a.ac.actor_opt),
            (
                "critic_opt.ot",
                |a| &a.ac.critic_opt,
                |a| &mut a.ac.critic_opt,
            ),
        ]
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

impl NamedAgent for Dcwm {
    type Config = DcwmConfig;

    /// A DCWM agent for `init.spec` (config from `init.config`), learning
    /// after the run's warm-up.
    fn new(init: &AgentInit) -> Result<Self, AgentError> {
        let cfg = parse_config::<DcwmConfig>("dcwm", init.config)?.for_env(init.spec);
        let dcwm = Self::with_config(
            cfg,
            init.spec.obs_dim(),
            init.spec.action_dim(),
            init.device,
            init.seed,
        )?;
        Ok(Dcwm {
            warmup_steps: init.warmup_steps,
            ..dcwm
        })
    }
}

impl Agent for Dcwm {
    fn begin_episode(&mut self, mode: Mode, seed: u64) {
        match mode {
            Mode::Explore => self.train_mean = None,
            Mode::Eval(slot) => self.eval.begin(slot, EvalEpisode::new(seed)),
        }
    }

    fn act(&mut self, obs: &[f32], mode: Mode) -> Result<Vec<f32>, AgentError> {
        self.select_action(obs, mode)
    }

    fn act_eval(&mut self, obs: &[f32], slots: &[usize]) -> Result<Vec<f32>, AgentError> {
        self.select_eval_actions(obs, slots)
    }

    fn update(
        &mut self,
        _buffer: &ReplayBuffer,
        env_step: u64,
        episode_end: bool,
    ) -> Result<u64, AgentError> {
        self.state.episode_steps += 1;
        self.state.steps_seen += 1;
        if !episode_end {
            return Ok(0);
        }
        self.state.episodes += 1;
        let steps = std::mem::take(&mut self.state.episode_steps);
        if env_step < self.warmup_steps {
            return Ok(0);
        }
        // The pretraining block after the warm-up covers every transition
        // so far (`train.py`), later blocks the episode's.
        let transitions = if self.state.schedule_step == 0 {
            self.state.steps_seen
        } else {
            steps
        };
        self.state.schedule_step += 1;
        Ok((transitions as f64 * self.cfg.utd_ratio).round() as u64)
    }

    fn learn(&mut self, buffer: &ReplayBuffer, n: u64) -> Result<(), AgentError> {
        for _ in 0..n {
            let batch = self.sample(buffer)?;
            self.update_drawn(&batch);
        }
        self.settle_metrics();
        Ok(())
    }

    fn end_episode(&mut self, buffer: &ReplayBuffer) -> Result<(), AgentError> {
        // After each learning episode's block, on a fresh batch.
        if self.state.schedule_step > 0 {
            self.measure_codebook_usage(buffer)?;
        }
        Ok(())
    }

    fn updates_per_agent_step(&self) -> f64 {
        self.cfg.utd_ratio
    }

    fn act_flops(&self) -> Option<f64> {
        self.plan_flops()
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
        crate::nn::save_parts(
            self,
            dir,
            &Self::var_store_files(),
            &Self::optimizer_files(),
        )?;
        save_json(dir, "dcwm.json", &self.state)
    }

    fn load(&mut self, dir: &Path) -> Result<(), AgentError> {
        crate::nn::load_parts(
            self,
            dir,
            &Self::var_store_files(),
            &Self::optimizer_files(),
        )?;
        self.state = load_json(dir, "dcwm.json")?;
        self.train_mean = None;
        self.eval.clear();
        self.plan_nets = None;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
