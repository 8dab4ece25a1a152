//! The discrete codebook world model (DCWM): an encoder to FSQ codes, a
//! dynamics network that classifies the next code of every latent dimension,
//! and a reward head (`WorldModel` in the official `dcmpc.py`).
//!
//! - encoder: `mlp(obs, [256], d·b)` (Linear → LayerNorm → Mish hidden
//!   layers), reshaped to `d` latents of `b = len(fsq_levels)` channels and
//!   quantized by FSQ;
//! - dynamics: `mlp(repr + action, [512, 512], d·C)` logits over the `C`
//!   codes of each latent dimension, trained with cross-entropy against the
//!   FSQ indices of the next observation's encoding (no-grad targets from the
//!   same encoder); multi-step rollouts propagate the next latent by a
//!   straight-through Gumbel-softmax sample (training) or the expected code
//!   `softmax(logits) · codebook` (planning);
//! - reward: `mlp(repr + action, [512, 512], 1)`, squashed by `tanh` into
//!   `[r_min, r_max]` when both are set (`auto`: DMC `[0, action_repeat]`,
//!   unbounded elsewhere, as the official code);
//! - loss over a horizon-H slice: `(1/H) Σ_t ρ^t mean_b (c·CE_t + r·MSE_t)`.
//!
//! Ablations (the paper's Figs. 3, 4, 7, 8): `use_fsq: false` (continuous
//! latent, MSE consistency), `consistency_loss: mse` (regress the next code),
//! `unc_prop_mode: weighted-avg` in training, `discrete_encoding`: the
//! representation the networks consume — `codes` (the FSQ code vector,
//! `d·b` values), `label` (each latent's code index scaled to [-1, 1], `d`
//! values) or `one-hot` (`d·C` values).

use tch::{Device, Kind, Tensor, nn, nn::Module};

use super::config::{ConsistencyLoss, DcwmConfig, DiscreteEncoding, UncPropMode};
use crate::fsq::{Fsq, straight_through};
use crate::nn::{Adam, CastMlp, Mlp, MlpSpec};

/// An encoded batch.
#[derive(Debug)]
pub struct Encoded {
    /// What the dynamics, reward, actor and critic consume: `[B, D]`.
    pub repr: Tensor,
    /// FSQ code vectors `[B, d, b]` (the continuous latent `[B, d]` without FSQ).
    pub codes: Tensor,
    /// Code indices `[B, d]` (int64), with FSQ.
    pub indices: Option<Tensor>,
}

/// Losses of one world-model update, as device scalars (read them
/// together, once, to keep the device busy).
#[derive(Debug)]
pub struct WorldModelLosses {
    /// Consistency (cross-entropy or MSE), ρ-weighted.
    pub consistency: Tensor,
    /// Reward MSE, ρ-weighted.
    pub reward: Tensor,
    /// `consistency_coef · consistency + reward_coef · reward`.
    pub total: Tensor,
    /// Global gradient norm before clipping.
    pub grad_norm: Tensor,
}

/// The world model's three networks with their matrix multiplies in one
/// precision ([`WorldModel::nets`]): made once per update or plan and used
/// by every call in it.
#[derive(Debug)]
pub struct WorldModelNets {
    encoder: CastMlp,
    dynamics: CastMlp,
    reward: CastMlp,
}

/// Encoder, dynamics and reward head with their optimizer.
pub struct WorldModel {
    /// Parameters (saved and loaded as one file).
    pub vs: nn::VarStore,
    encoder: Mlp,
    dynamics: Mlp,
    reward: Mlp,
    fsq: Option<Fsq>,
    /// Representation of each code, `[C, e]` (codes, labels or identity).
    embed: Option<Tensor>,
    latent_dim: i64,
    repr_dim: i64,
    opt: Adam,
    cfg: DcwmConfig,
}

/// Gumbel noise `g = −log(−log U)` from uniforms `U` in [0, 1), in place
/// (the noise `F.gumbel_softmax` adds to the logits).
pub fn gumbel_noise(uniform: Tensor) -> Tensor {
    let mut u = uniform;
    let _ = u.clamp_min_(1e-20).log_().neg_().log_().neg_();
    u
}

/// Gumbel-softmax sample with temperature 1 (Jang et al. 2017) over the
/// classes in dimension `dim`: `softmax(log p + g)` for log-probabilities
/// `log_p` and noise `g` from [`gumbel_noise`] (one softmax kernel forward and
/// backward).
pub fn gumbel_softmax(log_p: &Tensor, noise: &Tensor, dim: i64) -> Tensor {
    (log_p + noise).softmax(dim, Kind::Float)
}

/// The one-hot of the largest entry along `dim`, without gradient: a
/// comparison with the max, a reduction that vectorises over a strided class
/// dimension (unlike argmax). Two entries tie only when their floats are
/// equal, which gives two ones.
pub fn one_hot_of_max(y: &Tensor, dim: i64) -> Tensor {
    tch::no_grad(|| {
        let y = y.detach();
        y.ge_tensor(&y.amax([dim], true)).to_kind(Kind::Float)
    })
}

/// Cross-entropy between `logits` `[B, C, d]` (classes in dimension 1) and
/// target classes `[B, d]`, averaged over the `d` latent dimensions: `[B]`.
pub fn cross_entropy(logits: &Tensor, target: &Tensor) -> Tensor {
    cross_entropy_of_log_probs(&logits.log_softmax(1, Kind::Float), target)
}

/// [`cross_entropy`] from log-probabilities `[B, C, d]`.
fn cross_entropy_of_log_probs(logp: &Tensor, target: &Tensor) -> Tensor {
    -logp
        .gather(1, &target.unsqueeze(1), false)
        .squeeze_dim(1)
        .mean_dim(-1, false, Kind::Float)
}

impl WorldModel {
    /// A world model for `obs_dim` observations and `act_dim` actions.
    pub fn new(cfg: &DcwmConfig, obs_dim: usize, act_dim: usize, device: Device) -> Self {
        let vs = nn::VarStore::new(device);
        let d = cfg.latent_dim as i64;
        let fsq = cfg.use_fsq.then(|| Fsq::new(&cfg.fsq_levels, device));
        let (enc_out, repr_dim, embed) = match &fsq {
            None => (d, d, None),
            Some(f) => {
                let c = f.codebook_size();
                let (e, table) = match cfg.discrete_encoding {
                    DiscreteEncoding::Codes => (f.channels(), f.codebook().shallow_clone()),
                    DiscreteEncoding::Label => (1, f.codes_to_label(f.codebook())),
                    DiscreteEncoding::OneHot => (c, Tensor::eye(c, (Kind::Float, device))),
                };
                (d * f.channels(), d * e, Some(table))
            }
        };
        let ce = cfg.consistency_loss == ConsistencyLoss::CrossEntropy;
        let dyn_out = match &fsq {
            Some(f) if ce => d * f.codebook_size(),
            _ => enc_out,
        };
        let a = act_dim as i64;
        let root = vs.root();
        let encoder = Mlp::new(
            &(&root / "encoder"),
            obs_dim,
            enc_out as usize,
            &MlpSpec::normed_mish(&cfg.enc_mlp_dims),
        );
        let dynamics = Mlp::new(
            &(&root / "dynamics"),
            (repr_dim + a) as usize,
            dyn_out as usize,
            &MlpSpec::normed_mish(&cfg.mlp_dims),
        );
        let reward = Mlp::new(
            &(&root / "reward"),
            (repr_dim + a) as usize,
            1,
            &MlpSpec::normed_mish(&cfg.mlp_dims),
        );
        let opt = Adam::adamw(&vs, cfg.enc_lr, cfg.enc_weight_decay)
            .with_max_grad_norm(cfg.grad_clip_norm);
        WorldModel {
            vs,
            encoder,
            dynamics,
            reward,
            fsq,
            embed,
            latent_dim: d,
            repr_dim,
            opt,
            cfg: cfg.clone(),
        }
    }

    /// Size `D` of the representation the other networks consume.
    pub fn repr_dim(&self) -> i64 {
        self.repr_dim
    }

    /// Codes per latent dimension (`Π fsq_levels`), or `None` without FSQ.
    pub fn codebook_size(&self) -> Option<i64> {
        self.fsq.as_ref().map(|f| f.codebook_size())
    }

    /// The optimizer (checkpoints).
    pub fn optimizer(&self) -> &Adam {
        &self.opt
    }

    /// The optimizer (checkpoints).
    pub fn optimizer_mut(&mut self) -> &mut Adam {
        &mut self.opt
    }

    /// The precision of matrix multiplies: bf16 with `use_amp`, else f32.
    pub fn compute_kind(&self) -> Kind {
        if self.cfg.use_amp {
            Kind::BFloat16
        } else {
            Kind::Float
        }
    }

    /// The networks in the compute precision. Differentiable views of the
    /// parameters; call under `no_grad` for a frozen copy (planning), and
    /// make new ones after parameters change.
    pub fn nets(&self) -> WorldModelNets {
        let kind = self.compute_kind();
        WorldModelNets {
            encoder: self.encoder.cast(kind),
            dynamics: self.dynamics.cast(kind),
            reward: self.reward.cast(kind),
        }
    }

    /// The encoder's output before quantization, `[B, d·b]` (`[B, d]`
    /// without FSQ), in f32.
    pub fn pre_quantization(&self, obs: &Tensor) -> Tensor {
        self.encoder.forward(obs)
    }

    /// Encodes observations `[B, obs_dim]`.
    pub fn encode(&self, nets: &WorldModelNets, obs: &Tensor) -> Encoded {
        let z = nets.encoder.forward(obs);
        let Some(fsq) = &self.fsq else {
            return Encoded {
                repr: z.shallow_clone(),
                codes: z,
                indices: None,
            };
        };
        let b = z.size()[0];
        let codes = fsq.quantize(&z.view([b, self.latent_dim, fsq.channels()]));
        let indices = fsq.codes_to_indices(&codes.detach());
        let repr = match self.cfg.discrete_encoding {
            DiscreteEncoding::Codes => codes.view([b, -1]),
            DiscreteEncoding::Label => fsq.codes_to_label(&codes).view([b, -1]),
            DiscreteEncoding::OneHot => {
                // Straight through: one-hot forward, the gradient of the
                // inner products with the codebook backward.
                let soft = codes.matmul(&fsq.codebook().tr());
                let hard = soft
                    .zeros_like()
                    .scatter_value(-1, &indices.unsqueeze(-1), 1.0);
                straight_through(&hard, &soft).view([b, -1])
            }
        };
        Encoded {
            repr,
            codes,
            indices: Some(indices),
        }
    }

    /// The representation of a distribution or one-hot sample over codes
    /// (`[B, C, d]`): `Σ_c w[b, c, i] · table[c]` for each latent `i`,
    /// flattened latent-major like the encoder's codes: `[B, D]`.
    fn embed(&self, weights: &Tensor) -> Tensor {
        let b = weights.size()[0];
        let table = self.embed.as_ref().expect("FSQ world model");
        table.tr().matmul(weights).transpose(1, 2).reshape([b, -1])
    }

    /// Dynamics output for `(z, a)`: logits `[B, C, d]` (cross-entropy) or
    /// the next latent before quantization `[B, d·b]` (MSE). The logits are
    /// laid out class-major so that softmax and cross-entropy reduce over a
    /// strided dimension of size C while vectorising over the `d` latents
    /// (a softmax over a contiguous last dimension of 15 is ~10× slower on a
    /// CPU); each logit is still its own output unit of the last layer.
    fn dynamics_out(&self, nets: &WorldModelNets, z: &Tensor, a: &Tensor) -> Tensor {
        let out = nets.dynamics.forward(&Tensor::cat(&[z, a], -1));
        match (&self.fsq, self.cfg.consistency_loss) {
            (Some(f), ConsistencyLoss::CrossEntropy) => {
                out.view([-1, f.codebook_size(), self.latent_dim])
            }
            _ => out,
        }
    }

    /// Next representation `[B, D]` and, in cross-entropy mode, the
    /// log-probabilities of the codes `[B, C, d]`. `noise` (the logits'
    /// shape, from [`gumbel_noise`]) drives the Gumbel samples of `Sample`.
    pub fn next(
        &self,
        nets: &WorldModelNets,
        z: &Tensor,
        a: &Tensor,
        mode: UncPropMode,
        noise: Option<&Tensor>,
    ) -> (Tensor, Option<Tensor>) {
        let out = self.dynamics_out(nets, z, a);
        match (&self.fsq, self.cfg.consistency_loss) {
            (Some(_), ConsistencyLoss::CrossEntropy) => {
                let logp = out.log_softmax(1, Kind::Float);
                let next = match (mode, noise) {
                    (UncPropMode::Sample, Some(g)) => {
                        let soft = gumbel_softmax(&logp, g, 1);
                        let e = self.embed(&soft);
                        if self.cfg.straight_through_gumbel {
                            // Straight through after the embedding, which is
                            // linear: the same as embedding `hard − soft.detach()
                            // + soft`, on a tensor C/e times smaller.
                            straight_through(&self.embed(&one_hot_of_max(&soft, 1)), &e)
                        } else {
                            e
                        }
                    }
                    _ => self.embed(&logp.exp()),
                };
                (next, Some(logp))
            }
            (Some(f), ConsistencyLoss::Mse) => {
                let b = out.size()[0];
                let codes = f.quantize(&out.view([b, self.latent_dim, f.channels()]));
                (codes.view([b, -1]), None)
            }
            (None, _) => (out, None),
        }
    }

    /// The next representation for planning (`plan_unc_prop_mode:
    /// weighted-avg`): the expected code `softmax(logits) · codebook`.
    pub fn expected_next(&self, nets: &WorldModelNets, z: &Tensor, a: &Tensor) -> Tensor {
        match (&self.fsq, self.cfg.consistency_loss) {
            (Some(_), ConsistencyLoss::CrossEntropy) => {
                let p = self.dynamics_out(nets, z, a).softmax(1, Kind::Float);
                self.embed(&p)
            }
            _ => self.next(nets, z, a, UncPropMode::WeightedAvg, None).0,
        }
    }

    /// Predicted rewards `[B]`.
    pub fn reward(&self, nets: &WorldModelNets, z: &Tensor, a: &Tensor) -> Tensor {
        let r = nets
            .reward
            .forward(&Tensor::cat(&[z, a], -1))
            .squeeze_dim(-1);
        match self.cfg.reward_range() {
            Some((lo, hi)) => r.tanh() * ((hi - lo) / 2.0) + (hi + lo) / 2.0,
            None => r,
        }
    }

    /// The world-model loss on a slice batch (time-major): observations
    /// `[T+1, B, O]`, actions `[T, B, A]`, rewards `[T, B]`, alive masks
    /// `[T, B]` (0 after a terminal transition), `T ≥ horizon`. `noise`
    /// holds the Gumbel noise `[horizon, B, C, d]` for `Sample`.
    pub fn loss(
        &self,
        obs: &Tensor,
        action: &Tensor,
        reward: &Tensor,
        alive: &Tensor,
        noise: Option<&Tensor>,
    ) -> (Tensor, Tensor, Tensor) {
        let h = self.cfg.horizon as i64;
        let bsz = obs.size()[1];
        let o = obs.size()[2];
        let nets = self.nets();
        let targets =
            tch::no_grad(|| self.encode(&nets, &obs.narrow(0, 1, h).reshape([h * bsz, o])));
        let mut z = self.encode(&nets, &obs.get(0)).repr;
        let mut consistency = Tensor::zeros([], (Kind::Float, obs.device()));
        let mut reward_loss = Tensor::zeros([], (Kind::Float, obs.device()));
        let mut weight = 1.0;
        for t in 0..h {
            let a = action.get(t);
            let m = alive.get(t);
            let r_pred = self.reward(&nets, &z, &a);
            reward_loss +=
                (m.shallow_clone() * (r_pred - reward.get(t)).square()).mean(Kind::Float) * weight;
            let (next, log_p) = self.next(
                &nets,
                &z,
                &a,
                self.cfg.unc_prop_mode,
                noise.map(|u| u.get(t)).as_ref(),
            );
            let c_t = match (&log_p, &targets.indices) {
                (Some(l), Some(idx)) => cross_entropy_of_log_probs(l, &idx.narrow(0, t * bsz, bsz)),
                _ => {
                    let tgt = targets.codes.narrow(0, t * bsz, bsz).reshape([bsz, -1]);
                    (next.reshape([bsz, -1]) - tgt)
                        .square()
                        .mean_dim(-1, false, Kind::Float)
                }
            };
            consistency += (m * c_t).mean(Kind::Float) * weight;
            z = next;
            weight *= self.cfg.rho;
        }
        consistency /= h as f64;
        reward_loss /= h as f64;
        let total = &consistency * self.cfg.consistency_coef + &reward_loss * self.cfg.reward_coef;
        (total, consistency, reward_loss)
    }

    /// One AdamW step on [`WorldModel::loss`].
    pub fn update(
        &mut self,
        obs: &Tensor,
        action: &Tensor,
        reward: &Tensor,
        alive: &Tensor,
        noise: Option<&Tensor>,
    ) -> WorldModelLosses {
        let (total, c, r) = self.loss(obs, action, reward, alive, noise);
        let grad_norm = self.opt.step(&total);
        WorldModelLosses {
            consistency: c.detach(),
            reward: r.detach(),
            total: total.detach(),
            grad_norm,
        }
    }

    /// Percentage of the codebook in use, averaged over latent dimensions:
    /// for each dimension, distinct codes among `obs`'s encodings / C · 100
    /// (the paper's `active_percent`). `None` without FSQ.
    pub fn codebook_usage(&self, obs: &Tensor) -> Option<f64> {
        let c = self.codebook_size()?;
        tch::no_grad(|| {
            let idx = self.encode(&self.nets(), obs).indices?;
            let used = Tensor::zeros(
                [idx.size()[0], self.latent_dim, c],
                (Kind::Float, obs.device()),
            )
            .scatter_value(-1, &idx.unsqueeze(-1), 1.0)
            .amax([0], false);
            Some(used.mean(Kind::Float).double_value(&[]) * 100.0)
        })
    }

    /// Shape of the Gumbel noise of one loss evaluation, or `None` when not
    /// sampling.
    pub fn gumbel_shape(&self, batch: i64) -> Option<[i64; 4]> {
        let c = self.codebook_size()?;
        (self.cfg.consistency_loss == ConsistencyLoss::CrossEntropy
            && self.cfg.unc_prop_mode == UncPropMode::Sample)
            .then_some([self.cfg.horizon as i64, batch, c, self.latent_dim])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_entropy_matches_a_hand_computed_case() {
        // One latent dimension, three codes, logits (2, 0, −1), target code 0:
        // CE = −log(e² / (e² + 1 + e⁻¹)).
        let logits = Tensor::from_slice(&[2.0f32, 0.0, -1.0]).view([1, 3, 1]);
        let target = Tensor::from_slice(&[0i64]).view([1, 1]);
        let ce = cross_entropy(&logits, &target).double_value(&[0]);
        let e = std::f64::consts::E;
        let want = -(e.powi(2) / (e.powi(2) + 1.0 + 1.0 / e)).ln();
        assert!((ce - want).abs() < 1e-6, "{ce} vs {want}");
        // Two dimensions: the mean of the two cross-entropies.
        let logits = Tensor::from_slice(&[2.0f32, 0.0, -1.0, 0.0, 0.0, 0.0])
            .view([1, 2, 3])
            .transpose(1, 2);
        let target = Tensor::from_slice(&[0i64, 2]).view([1, 2]);
        let ce2 = cross_entropy(&logits, &target).double_value(&[0]);
        assert!((ce2 - (want + 3f64.ln()) / 2.0).abs() < 1e-6);
    }

    #[test]
    fn gumbel_softmax_equals_the_softmax_of_gumbel_perturbed_logits() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(1);
        let logits = Tensor::randn([6, 4, 7], (Kind::Float, Device::Cpu)) * 3.0;
        let u = Tensor::rand([6, 4, 7], (Kind::Float, Device::Cpu));
        // Textbook form: softmax(l + g), g = −log(−log u).
        let g = -(-u.log()).log();
        let want = (&logits + &g).softmax(1, Kind::Float);
        let log_p = logits.log_softmax(1, Kind::Float);
        let soft = gumbel_softmax(&log_p, &gumbel_noise(u.copy()), 1);
        let err = (&soft - &want).abs().max().double_value(&[]);
        assert!(err < 1e-5, "{err}");
        // The hard sample is the one-hot of the textbook argmax.
        let idx = want.argmax(1, true);
        let one_hot = want.zeros_like().scatter_value(1, &idx, 1.0);
        let hard = one_hot_of_max(&soft, 1);
        assert_eq!((hard - one_hot).abs().max().double_value(&[]), 0.0);
    }

    #[test]
    fn straight_through_gumbel_is_one_hot_with_soft_gradients() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(0);
        let logits = Tensor::randn([4, 3, 5], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let g = gumbel_noise(Tensor::rand([4, 3, 5], (Kind::Float, Device::Cpu)));
        let sample = || gumbel_softmax(&logits.log_softmax(-1, Kind::Float), &g, -1);
        let soft = sample();
        let hard = one_hot_of_max(&soft, -1);
        let y = straight_through(&hard, &soft);
        assert_eq!((&y - &hard).abs().max().double_value(&[]), 0.0);
        let ones = hard.sum_dim_intlist(-1, false, Kind::Float);
        assert!(ones.allclose(&ones.ones_like(), 0.0, 0.0, false));
        // The gradient is the soft sample's.
        let w = Tensor::arange(5, (Kind::Float, Device::Cpu));
        (&y * &w).sum(Kind::Float).backward();
        let g_st = logits.grad().copy();
        let _ = logits.grad().zero_();
        (sample() * &w).sum(Kind::Float).backward();
        assert!(g_st.abs().sum(Kind::Float).double_value(&[]) > 0.0);
        assert!(g_st.allclose(&logits.grad(), 1e-6, 1e-6, false));
        // Sampling frequencies follow softmax(logits).
        let l = Tensor::from_slice(&[1.0f32, 0.0, -1.0])
            .log_softmax(-1, Kind::Float)
            .view([1, 3])
            .expand([20000, 3], false);
        let g = gumbel_noise(Tensor::rand([20000, 3], (Kind::Float, Device::Cpu)));
        let freq = one_hot_of_max(&gumbel_softmax(&l, &g, 1), 1).mean_dim(0, false, Kind::Float);
        let p = Tensor::from_slice(&[1.0f32, 0.0, -1.0]).softmax(-1, Kind::Float);
        assert!((freq - p).abs().max().double_value(&[]) < 0.02);
    }
}
