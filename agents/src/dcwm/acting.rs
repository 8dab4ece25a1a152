//! DCWM acting: the frozen networks a plan uses ([`PlanNets`]), the
//! planner's view of them ([`PlanningModel`]), the action for one
//! observation (MPPI, or the policy with `mpc: false`), and the count of a
//! plan's matrix-multiply FLOPs (`bench agent`'s FLOP floor).
//!
//! Contract: acting draws its noise from the agent's `act_rng` (sampled
//! critics) and its [`TorchStream`](crate::rng::TorchStream) (the plan's
//! noise, drawn before the plan) in the training episode, from its
//! [`EvalEpisode`]'s own streams in an evaluation episode, keeps one warm
//! start per episode, and reads back only the action.

use tch::{Device, Kind, Tensor};

use super::actor_critic::{ActorCritic, pi, sample_members};
use super::planner::{self, LatentModel, PlanNoise};
use super::world_model::{WorldModel, WorldModelNets};
use super::{ConsistencyLoss, Dcwm, DcwmConfig};
use crate::agent::{AgentError, Mode, check_rows};
use crate::nn::{CastMlp, EnsembleMlp};
use crate::rng::{Rng, TorchStream, derive_seed};

/// Frozen copies of every network planning uses, in the compute precision;
/// made at the first plan after the parameters change.
pub(super) struct PlanNets {
    pub(super) wm: WorldModelNets,
    pub(super) actor: CastMlp,
    pub(super) critic: EnsembleMlp,
}

impl PlanNets {
    /// Frozen copies of the networks of `wm` and `ac`.
    pub(super) fn new(wm: &WorldModel, ac: &ActorCritic) -> Self {
        tch::no_grad(|| {
            let kind = wm.compute_kind();
            PlanNets {
                wm: wm.nets(),
                actor: ac.actor.cast(kind),
                critic: ac.critic.cast(kind),
            }
        })
    }
}

/// The planner's view of the world model and actor–critic. Planning
/// propagates the expected code (`plan_unc_prop_mode: weighted-avg`).
pub(super) struct PlanningModel<'a> {
    pub(super) wm: &'a WorldModel,
    pub(super) nets: &'a PlanNets,
}

impl LatentModel for PlanningModel<'_> {
    fn reward(&self, z: &Tensor, a: &Tensor) -> Tensor {
        self.wm.reward(&self.nets.wm, z, a)
    }
    fn next(&self, z: &Tensor, a: &Tensor) -> Tensor {
        self.wm.expected_next(&self.nets.wm, z, a)
    }
    fn policy(&self, z: &Tensor) -> Tensor {
        pi(&self.nets.actor, z)
    }
    fn value(&self, z: &Tensor, a: &Tensor, members: &Tensor) -> Tensor {
        self.nets
            .critic
            .forward_index(&Tensor::cat(&[z, a], -1), members)
            .mean_dim(0, false, Kind::Float)
            .squeeze_dim(-1)
    }
}

/// One plan's noise from an episode's streams: each iteration's sampled
/// critics from `rng`, then the plan's samples from `torch`.
fn draw_plan_noise(
    cfg: &DcwmConfig,
    act_dim: usize,
    device: Device,
    rng: &mut Rng,
    torch: &mut TorchStream,
) -> PlanNoise {
    let mppi = cfg.mppi();
    let critics: Vec<Vec<i64>> = (0..mppi.iterations)
        .map(|_| sample_members(rng, cfg.num_critics, cfg.q_sample_size))
        .collect();
    torch.draw(|| PlanNoise::draw(&mppi, act_dim, device, critics))
}

/// An evaluation episode's planner state: its warm start and the streams
/// its noise comes from, seeded by `begin_episode` (evaluation never draws
/// from the training streams).
pub(super) struct EvalEpisode {
    mean: Option<Tensor>,
    rng: Rng,
    torch: TorchStream,
}

impl EvalEpisode {
    pub(super) fn new(seed: u64) -> Self {
        EvalEpisode {
            mean: None,
            rng: Rng::new(derive_seed(seed, "dcwm/act")),
            torch: TorchStream::new(derive_seed(seed, "dcwm/torch")),
        }
    }
}

impl Dcwm {
    /// Plans (or queries the policy) for one observation.
    pub(super) fn select_action(
        &mut self,
        obs: &[f32],
        mode: Mode,
    ) -> Result<Vec<f32>, AgentError> {
        if obs.len() != self.obs_dim {
            return Err(AgentError::Other(format!(
                "dcwm: expected {} observation values, got {}",
                self.obs_dim,
                obs.len()
            )));
        }
        let sigma = self.exploration_noise();
        let explore_std = if mode == Mode::Explore { sigma } else { 0.0 };
        let obs = self.tensor(obs, &[1, self.obs_dim as i64]);
        // The episode's warm start and noise streams.
        let (mean, rng, torch) = match mode {
            Mode::Explore => (
                &mut self.train_mean,
                &mut self.state.act_rng,
                &mut self.state.torch,
            ),
            Mode::Eval(slot) => {
                let e = self.eval.get_mut("dcwm", slot)?;
                (&mut e.mean, &mut e.rng, &mut e.torch)
            }
        };
        // The networks for acting, made if the parameters changed since.
        let (wm, ac) = (&self.wm, &self.ac);
        let nets: &PlanNets = self.plan_nets.get_or_insert_with(|| PlanNets::new(wm, ac));
        let action = if self.cfg.mpc {
            let mppi = self.cfg.mppi();
            let noise = draw_plan_noise(&self.cfg, self.act_dim, self.device, rng, torch);
            let plan = tch::no_grad(|| {
                let z0 = self.wm.encode(&nets.wm, &obs).repr;
                let model = PlanningModel { wm: &self.wm, nets };
                planner::plan(
                    &model,
                    &mppi,
                    &z0,
                    mean.as_ref(),
                    &noise,
                    sigma,
                    explore_std,
                    None,
                )
            });
            *mean = Some(plan.mean);
            plan.action
        } else {
            let act_dim = self.act_dim as i64;
            let device = self.device;
            let eps = torch.draw(|| Tensor::randn([act_dim], (Kind::Float, device)));
            tch::no_grad(|| {
                let z = self.wm.encode(&nets.wm, &obs).repr;
                (pi(&nets.actor, &z).get(0) + eps * explore_std).clamp(-1.0, 1.0)
            })
        };
        Ok(Vec::<f32>::try_from(action.to_device(Device::Cpu))?)
    }

    /// Evaluation actions for the episodes in `slots` (row `i` of `obs` is
    /// slot `slots[i]`'s observation): one batched MPPI plan over every
    /// episode's samples ([`planner::plan_batch`]), each episode's noise
    /// drawn from its own streams in slot order, as sequential plans would.
    /// Without MPC, the policy acts row by row.
    pub(super) fn select_eval_actions(
        &mut self,
        obs: &[f32],
        slots: &[usize],
    ) -> Result<Vec<f32>, AgentError> {
        check_rows(obs, slots.len(), self.obs_dim)?;
        if !self.cfg.mpc || slots.len() < 2 {
            let mut actions = Vec::with_capacity(slots.len() * self.act_dim);
            for (row, &slot) in obs.chunks(self.obs_dim).zip(slots) {
                actions.extend(self.select_action(row, Mode::Eval(slot))?);
            }
            return Ok(actions);
        }
        let sigma = self.exploration_noise();
        let mppi = self.cfg.mppi();
        let (device, act_dim) = (self.device, self.act_dim);
        let mut noises = Vec::with_capacity(slots.len());
        let mut means = Vec::with_capacity(slots.len());
        for &slot in slots {
            let e = self.eval.get_mut("dcwm", slot)?;
            noises.push(draw_plan_noise(
                &self.cfg,
                act_dim,
                device,
                &mut e.rng,
                &mut e.torch,
            ));
            means.push(e.mean.as_ref().map(Tensor::shallow_clone));
        }
        let obs = self.tensor(obs, &[slots.len() as i64, self.obs_dim as i64]);
        let (wm, ac) = (&self.wm, &self.ac);
        let nets: &PlanNets = self.plan_nets.get_or_insert_with(|| PlanNets::new(wm, ac));
        let plans = tch::no_grad(|| {
            let z0 = self.wm.encode(&nets.wm, &obs).repr;
            let model = PlanningModel { wm: &self.wm, nets };
            planner::plan_batch(
                &model,
                &mppi,
                &z0,
                &means.iter().map(Option::as_ref).collect::<Vec<_>>(),
                &noises.iter().collect::<Vec<_>>(),
                sigma,
                0.0,
                None,
            )
        });
        let mut actions = Vec::with_capacity(plans.len());
        for (plan, &slot) in plans.into_iter().zip(slots) {
            self.eval.get_mut("dcwm", slot)?.mean = Some(plan.mean);
            actions.push(plan.action);
        }
        Ok(Vec::<f32>::try_from(
            Tensor::stack(&actions, 0).to_device(Device::Cpu).view([-1]),
        )?)
    }

    /// One MPPI plan: the policy-prior rollouts, then per iteration every
    /// sample through `plan_horizon` reward and dynamics steps (with the
    /// expected code), the terminal policy and the sampled critics.
    pub(super) fn plan_flops(&self) -> Option<f64> {
        if !self.cfg.mpc {
            return None;
        }
        let mlp = |inp: i64, out: i64| {
            let mut dims = vec![inp];
            dims.extend(self.cfg.mlp_dims.iter().map(|&w| w as i64));
            dims.push(out);
            dims.windows(2)
                .map(|w| 2.0 * (w[0] * w[1]) as f64)
                .sum::<f64>()
        };
        let (d, a) = (self.wm.repr_dim(), self.act_dim as i64);
        let latent = self.cfg.latent_dim as i64;
        let channels = self.cfg.fsq_levels.len() as i64;
        // The dynamics head and, with logits, the expected code.
        let dynamics = match (self.wm.codebook_size(), self.cfg.consistency_loss) {
            (Some(c), ConsistencyLoss::CrossEntropy) => {
                mlp(d + a, latent * c) + 2.0 * (latent * c * channels) as f64
            }
            (Some(_), ConsistencyLoss::Mse) => mlp(d + a, latent * channels),
            (None, _) => mlp(d + a, latent),
        };
        let (reward, policy, critic) = (mlp(d + a, 1), mlp(d, a), mlp(d + a, 1));
        let h = self.cfg.plan_horizon as f64;
        let (n, n_pi) = (self.cfg.num_samples as f64, self.cfg.num_pi_trajs as f64);
        let q = self.cfg.q_sample_size as f64;
        let iteration = n * (h * (reward + dynamics) + policy + q * critic);
        let prior = n_pi * (h * policy + (h - 1.0) * dynamics);
        Some(self.cfg.iterations as f64 * iteration + prior)
    }
}
