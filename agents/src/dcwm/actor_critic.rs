//! DCWM's actor–critic (TD3, Fujimoto et al. 2018, with a REDQ-style
//! ensemble) on the world model's representation: a deterministic `tanh`
//! policy, `num_critics` Q-networks evaluated in one batched pass
//! (`critic_init`: PyTorch's default, or orthogonal), their target copies, and their optimizers; with the
//! n-step target pieces ([`nstep_return`]) and the critic sampling
//! (`sample_members`) the update uses.
//!
//! Contract: [`ActorCritic::critic_update`] and [`ActorCritic::actor_update`]
//! each take exactly one optimizer step and draw no random numbers — the
//! smoothing noise and the sampled critics come from the caller, drawn with
//! the rest of an update's noise; targets move only in
//! [`ActorCritic::update_targets`]. Parameters are created (from libtorch's
//! generator, seeded by the caller) in the order actor, target actor,
//! critics, target critics, and the targets start as copies.

use tch::{Device, Kind, Tensor, nn, nn::Module};

use super::config::{CriticInit, DcwmConfig};
use crate::nn::{Adam, EnsembleMlp, Mlp, MlpSpec, WeightInit, copy_params, polyak_update};
use crate::rng::Rng;

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
pub(super) fn sample_members(rng: &mut Rng, n: usize, k: usize) -> Vec<i64> {
    let mut idx: Vec<i64> = (0..n as i64).collect();
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx
}

/// `tanh` of the actor network's output: the deterministic policy.
pub(super) fn pi(actor: &impl Module, z: &Tensor) -> Tensor {
    actor.forward(z).tanh()
}

/// The n-step transition of a slice batch, as the actor–critic consumes it.
pub(super) struct NstepBatch {
    /// Representation of the first observation, `[B, D]` (no gradient).
    pub(super) z: Tensor,
    /// The first action, `[B, A]`.
    pub(super) action: Tensor,
    /// `Σ_{k<n} γ^k r_k`, `[B]` (see [`nstep_return`]).
    pub(super) ret: Tensor,
    /// The bootstrap factor `γ^n` (0 after a termination), `[B]`.
    pub(super) disc: Tensor,
    /// Representation of the observation `n` steps later, `[B, D]` (no
    /// gradient).
    pub(super) z_next: Tensor,
}

/// What one critic step did (device scalars, read later).
pub(super) struct CriticStep {
    /// The mean squared TD error over critics and batch.
    pub(super) loss: Tensor,
    /// The mean Q over critics and batch.
    pub(super) q_mean: Tensor,
    /// The gradient norm before clipping.
    pub(super) grad_norm: Tensor,
    /// The TD targets `[B]`.
    pub(super) target: Tensor,
}

/// Actor and critics with their targets and optimizers.
pub(super) struct ActorCritic {
    pub(super) actor_vs: nn::VarStore,
    pub(super) actor: Mlp,
    pub(super) actor_target_vs: nn::VarStore,
    actor_target: Mlp,
    pub(super) critic_vs: nn::VarStore,
    pub(super) critic: EnsembleMlp,
    pub(super) critic_target_vs: nn::VarStore,
    critic_target: EnsembleMlp,
    pub(super) actor_opt: Adam,
    pub(super) critic_opt: Adam,
}

impl ActorCritic {
    /// Networks for `repr_dim` representations and `act_dim` actions (draws
    /// from libtorch's generator: seed it first).
    pub(super) fn new(cfg: &DcwmConfig, repr_dim: usize, act_dim: usize, device: Device) -> Self {
        let pi_spec = MlpSpec::normed_mish(&cfg.mlp_dims);
        let q_spec = MlpSpec {
            init: match cfg.critic_init {
                CriticInit::Pytorch => WeightInit::Default,
                CriticInit::Orthogonal => WeightInit::Orthogonal,
            },
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
        ActorCritic {
            actor_opt: Adam::new(&actor_vs, cfg.lr).with_max_grad_norm(cfg.grad_clip_norm),
            critic_opt: Adam::new(&critic_vs, cfg.lr).with_max_grad_norm(cfg.grad_clip_norm),
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

    /// One critic step: every critic regresses onto `ret + disc · min Q̄`,
    /// the minimum over the target critics `target_critics` at the target
    /// policy's action with clipped smoothing noise (`smoothing`: standard
    /// normals `[B, A]`, scaled by `policy_noise`, clipped to `noise_clip`).
    /// Matrix multiplies in `kind`; nothing waits for the device.
    pub(super) fn critic_update(
        &mut self,
        cfg: &DcwmConfig,
        kind: Kind,
        batch: &NstepBatch,
        smoothing: Tensor,
        target_critics: &[i64],
    ) -> CriticStep {
        let target = tch::no_grad(|| {
            let noise = (smoothing * cfg.policy_noise).clamp(-cfg.noise_clip, cfg.noise_clip);
            let a_next =
                (pi(&self.actor_target.cast(kind), &batch.z_next) + noise).clamp(-1.0, 1.0);
            let q_next = self
                .critic_target
                .cast(kind)
                .forward_members(&Tensor::cat(&[&batch.z_next, &a_next], -1), target_critics)
                .amin([0], false)
                .squeeze_dim(-1);
            &batch.ret + &batch.disc * q_next
        });
        let q = self
            .critic
            .cast(kind)
            .forward(&Tensor::cat(&[&batch.z, &batch.action], -1))
            .squeeze_dim(-1);
        let critic_loss = (&q - target.unsqueeze(0)).square().mean(Kind::Float);
        let grad_norm = self.critic_opt.step(&critic_loss);
        CriticStep {
            loss: critic_loss.detach(),
            q_mean: q.detach().mean(Kind::Float),
            grad_norm,
            target,
        }
    }

    /// One actor step: maximise the mean of the critics `members` at the
    /// policy's action for the representations `z` (`[B, D]`). Matrix
    /// multiplies in `kind`. Returns the loss and the gradient norm (before
    /// clipping), as device scalars.
    pub(super) fn actor_update(
        &mut self,
        kind: Kind,
        z: &Tensor,
        members: &[i64],
    ) -> (Tensor, Tensor) {
        let pi = pi(&self.actor.cast(kind), z);
        let q_pi = self
            .critic
            .cast(kind)
            .forward_members(&Tensor::cat(&[z, &pi], -1), members)
            .mean_dim(0, false, Kind::Float);
        let actor_loss = -q_pi.mean(Kind::Float);
        let grad_norm = self.actor_opt.step(&actor_loss);
        (actor_loss.detach(), grad_norm)
    }

    /// Polyak updates with rate `tau`: the target critics, and the target
    /// actor when `actor` (after an actor step).
    pub(super) fn update_targets(&self, tau: f64, actor: bool) {
        polyak_update(&self.critic_target_vs, &self.critic_vs, tau);
        if actor {
            polyak_update(&self.actor_target_vs, &self.actor_vs, tau);
        }
    }
}
