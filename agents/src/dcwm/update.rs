//! The inputs of one DCWM update ([`Dcwm::update_on`]): the slice batch on
//! the device ([`SliceTensors`]), its n-step transition for the
//! actor–critic, and every random number the update uses ([`UpdateNoise`]).
//!
//! Contract: [`Dcwm::draw_update_noise`] is the only place an update draws
//! random numbers. It draws, in this order, the Gumbel noise and the
//! smoothing noise from the agent's
//! [`TorchStream`](crate::rng::TorchStream), then the sampled critics from
//! its `sample_rng`. Nothing else in an update draws from libtorch's
//! generator or from those streams, so the update is a function of its
//! batch, its noise and the agent's parameters; tests give their own noise.
//! The other helpers are deterministic.

use tch::{Kind, Tensor};

use super::actor_critic::{NstepBatch, nstep_return, sample_members};
use super::{Dcwm, world_model};
use crate::buffer::SliceBatch;

/// The random numbers of one update, drawn together before it in the order
/// the update uses them ([`Dcwm::draw_update_noise`]), so that the update
/// itself draws nothing.
pub(super) struct UpdateNoise {
    /// Gumbel noise of the world model's rollout, `[horizon, B, C, d]`
    /// (`unc_prop_mode: sample` with cross-entropy consistency), from the
    /// agent's [`TorchStream`](crate::rng::TorchStream).
    pub(super) gumbel: Option<Tensor>,
    /// Standard normals of the target policy smoothing, `[B, A]`, from the
    /// agent's [`TorchStream`](crate::rng::TorchStream).
    pub(super) smoothing: Tensor,
    /// The critics whose minimum makes the TD target (from `sample_rng`).
    pub(super) target_critics: Vec<i64>,
    /// The critics whose mean the actor maximises (from `sample_rng`), when
    /// the actor updates.
    pub(super) actor_critics: Option<Vec<i64>>,
}

/// A slice batch on the device, time-major.
pub(super) struct SliceTensors {
    /// Batch size `B`.
    pub(super) batch: i64,
    /// Observations `[T+1, B, O]`.
    pub(super) obs: Tensor,
    /// Actions `[T, B, A]`.
    pub(super) action: Tensor,
    /// Rewards `[T, B]`.
    pub(super) reward: Tensor,
    /// `alive_t = Π_{k<t} (1 − terminated_k)`, `[T, B]`.
    pub(super) alive: Tensor,
}

impl Dcwm {
    /// Draws the noise of one update on `b` slices ([`UpdateNoise`]): the
    /// Gumbel noise, the smoothing noise, the target critics, then (when
    /// `actor_due`) the actor's critics.
    pub(super) fn draw_update_noise(&mut self, b: i64, actor_due: bool) -> UpdateNoise {
        let device = self.device;
        let gumbel = self.wm.gumbel_shape(b).map(|s| {
            let uniform = self
                .state
                .torch
                .draw(|| Tensor::rand(s, (Kind::Float, device)));
            world_model::gumbel_noise(uniform)
        });
        let a = self.act_dim as i64;
        let smoothing = self
            .state
            .torch
            .draw(|| Tensor::randn([b, a], (Kind::Float, device)));
        let (n, k) = (self.cfg.num_critics, self.cfg.q_sample_size);
        let rng = &mut self.state.sample_rng;
        let target_critics = sample_members(rng, n, k);
        let actor_critics = actor_due.then(|| sample_members(rng, n, k));
        UpdateNoise {
            gumbel,
            smoothing,
            target_critics,
            actor_critics,
        }
    }

    /// A slice batch as device tensors, time-major, with its alive masks.
    pub(super) fn slice_tensors(&self, batch: &SliceBatch) -> SliceTensors {
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
        SliceTensors {
            batch: b,
            obs,
            action,
            reward,
            alive,
        }
    }

    /// The slice's n-step transition for the critic, its codes from the
    /// current encoder without gradient.
    pub(super) fn nstep_batch(&self, batch: &SliceBatch, slice: &SliceTensors) -> NstepBatch {
        let n = self.cfg.nstep;
        let (ret, disc) = nstep_return(
            &batch.reward,
            &batch.terminated,
            batch.horizon,
            n,
            self.cfg.td_gamma(),
        );
        let ret = self.tensor(&ret, &[slice.batch]);
        let disc = self.tensor(&disc, &[slice.batch]);
        let (z, z_next) = tch::no_grad(|| {
            let nets = self.wm.nets();
            (
                self.wm.encode(&nets, &slice.obs.get(0)).repr,
                self.wm.encode(&nets, &slice.obs.get(n as i64)).repr,
            )
        });
        NstepBatch {
            z,
            action: slice.action.get(0),
            ret,
            disc,
            z_next,
        }
    }
}
