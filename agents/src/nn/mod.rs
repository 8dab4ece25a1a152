//! Neural-network building blocks shared by the agents (libtorch via `tch`).
//!
//! * [`Mlp`]: Linear → (LayerNorm) → activation blocks and a plain Linear head
//!   (TD-MPC2's and DCWM's `mlp`, whose hidden layers are `NormedLinear`:
//!   Linear → LayerNorm → Mish), and [`CastMlp`], its matrix multiplies in
//!   another precision (`mlp.rs`).
//! * [`EnsembleMlp`]: K such networks evaluated in one batched matmul per
//!   layer (what `torch.vmap` over stacked parameters does in TD-MPC2/DCWM),
//!   not a loop over K modules (`ensemble.rs`).
//! * [`Adam`]: Adam / AdamW with gradient-norm clipping, written here so that
//!   its state (moments, step) is saved and restored with the parameters
//!   (`adam.rs`).
//! * [`TanhGaussian`]: the tanh-squashed Gaussian of SAC with its exact
//!   log-density.
//! * [`polyak_update`], [`copy_params`]: target networks.
//! * [`CheckpointPart`], [`save_parts`], [`load_parts`]: how an agent lists,
//!   writes and reads the files of its checkpoint.
//! * [`rows`], [`normal_noise`]: host data and the agent's own noise as
//!   tensors.
//!
//! Every item keeps its path `crate::nn::X`; the submodules are private.

mod adam;
mod ensemble;
mod mlp;

pub use adam::Adam;
pub use ensemble::EnsembleMlp;
pub use mlp::{Activation, CastMlp, Mlp, MlpSpec, WeightInit, check_widths};

use std::path::Path;

use tch::{Device, Tensor, nn};

use crate::rng::Rng;

/// One file of an agent's checkpoint: its name and the part of the agent `A`
/// it holds (a parameter store or an optimizer), read to save and written to
/// load. An agent lists its parts once, so that `save` and `load` name each
/// file once and in the same order.
pub type CheckpointPart<A, T> = (&'static str, fn(&A) -> &T, fn(&mut A) -> &mut T);

/// Writes every listed part of `agent` into `dir`: the parameter stores,
/// then the optimizers, each as its file.
pub fn save_parts<A>(
    agent: &A,
    dir: &Path,
    stores: &[CheckpointPart<A, nn::VarStore>],
    optimizers: &[CheckpointPart<A, Adam>],
) -> Result<(), tch::TchError> {
    for (file, part, _) in stores {
        part(agent).save(dir.join(file))?;
    }
    for (file, part, _) in optimizers {
        part(agent).save(&dir.join(file))?;
    }
    Ok(())
}

/// Reads back the parts [`save_parts`] wrote.
pub fn load_parts<A>(
    agent: &mut A,
    dir: &Path,
    stores: &[CheckpointPart<A, nn::VarStore>],
    optimizers: &[CheckpointPart<A, Adam>],
) -> Result<(), tch::TchError> {
    for (file, _, part) in stores {
        part(agent).load(dir.join(file))?;
    }
    for (file, _, part) in optimizers {
        part(agent).load(&dir.join(file))?;
    }
    Ok(())
}

/// Row-major `f32` values as a `[rows, cols]` tensor on `device`.
pub fn rows(values: &[f32], cols: usize, device: Device) -> Tensor {
    Tensor::from_slice(values)
        .view([-1, cols as i64])
        .to_device(device)
}

/// Standard normal noise `[rows, cols]` drawn from the agent's own `rng`
/// (not libtorch's generator, so a CPU run is reproducible and its
/// checkpoint holds the stream), on `device`.
pub fn normal_noise(rng: &mut Rng, rows: usize, cols: usize, device: Device) -> Tensor {
    let v: Vec<f32> = (0..rows * cols).map(|_| rng.normal() as f32).collect();
    Tensor::from_slice(&v)
        .view([rows as i64, cols as i64])
        .to_device(device)
}

/// `target ← target + τ (online − target)` for every variable of `online`
/// (matched by name): one `lerp_` kernel per tensor, as PyTorch's
/// `lerp_`-based soft updates (TD-MPC2, DCWM) compute it.
pub fn polyak_update(target: &nn::VarStore, online: &nn::VarStore, tau: f64) {
    let online = online.variables();
    let mut target = target.variables();
    tch::no_grad(|| {
        for (name, src) in online {
            if let Some(dst) = target.get_mut(&name) {
                let _ = dst.lerp_(&src, tau);
            }
        }
    });
}

/// Copies every variable of `src` into `dst` (a hard target update).
pub fn copy_params(dst: &nn::VarStore, src: &nn::VarStore) {
    let src = src.variables();
    let mut dst = dst.variables();
    tch::no_grad(|| {
        for (name, s) in src {
            if let Some(d) = dst.get_mut(&name) {
                d.copy_(&s);
            }
        }
    });
}

/// A Gaussian squashed by tanh (SAC's policy distribution).
#[derive(Debug)]
pub struct TanhGaussian {
    /// Mean of the pre-tanh Gaussian, `[B, A]`.
    pub mean: Tensor,
    /// Log standard deviation of the pre-tanh Gaussian, `[B, A]`.
    pub log_std: Tensor,
}

impl TanhGaussian {
    /// The distribution a policy head's `[B, 2A]` output describes: the
    /// means, then log standard deviations squashed into `bounds` by tanh
    /// (SAC's parameterisation).
    pub fn from_head(out: &Tensor, (lo, hi): (f64, f64)) -> Self {
        let parts = out.chunk(2, -1);
        TanhGaussian {
            mean: parts[0].shallow_clone(),
            log_std: (parts[1].tanh() + 1.0) * (0.5 * (hi - lo)) + lo,
        }
    }

    /// A reparameterised sample `a = tanh(μ + σ ε)` and its log-density
    /// (summed over action dimensions, shape `[B, 1]`).
    pub fn rsample(&self) -> (Tensor, Tensor) {
        let eps = self.mean.randn_like();
        let u = &self.mean + self.log_std.exp() * eps;
        let log_prob = self.log_prob_pre_tanh(&u);
        (u.tanh(), log_prob)
    }

    /// The most likely action, `tanh(μ)` (evaluation).
    pub fn mode(&self) -> Tensor {
        self.mean.tanh()
    }

    /// log p(tanh(u)) for pre-tanh values `u`: the Gaussian log-density minus
    /// log|d tanh/du| = log(1 − tanh²u), written stably as
    /// 2 (log 2 − u − softplus(−2u)).
    pub fn log_prob_pre_tanh(&self, u: &Tensor) -> Tensor {
        let z = (u - &self.mean) / self.log_std.exp();
        let gauss =
            z.pow_tensor_scalar(2) * -0.5 - &self.log_std - 0.5 * (2.0 * std::f64::consts::PI).ln();
        let log_det = (-u * 2.0).softplus() + u - std::f64::consts::LN_2;
        (gauss + log_det * 2.0).sum_dim_intlist(-1, true, u.kind())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn polyak_update_mixes_parameters() {
        let online = nn::VarStore::new(Device::Cpu);
        let target = nn::VarStore::new(Device::Cpu);
        let a = online.root().var("w", &[3], nn::Init::Const(1.0));
        let b = target.root().var("w", &[3], nn::Init::Const(0.0));
        polyak_update(&target, &online, 0.25);
        assert_eq!(Vec::<f32>::try_from(&b).unwrap(), vec![0.25; 3]);
        polyak_update(&target, &online, 0.5);
        assert_eq!(Vec::<f32>::try_from(&b).unwrap(), vec![0.625; 3]);
        copy_params(&target, &online);
        assert_eq!(
            Vec::<f32>::try_from(&b).unwrap(),
            Vec::<f32>::try_from(&a).unwrap()
        );
    }

    #[test]
    fn squashed_gaussian_log_prob_is_a_density() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Integrate p(a) over a in (-1, 1) numerically: it must be 1, and
        // log p must match the change of variables computed by finite
        // differences of the pre-tanh Gaussian's CDF.
        let d = TanhGaussian {
            mean: Tensor::from_slice(&[0.3f64]).view([1, 1]),
            log_std: Tensor::from_slice(&[-0.2f64]).view([1, 1]),
        };
        let n = 20_000;
        let mut total = 0.0;
        for i in 0..n {
            let a = -1.0 + (i as f64 + 0.5) * 2.0 / n as f64;
            let u = Tensor::from_slice(&[a.atanh()]).view([1, 1]);
            let lp = d.log_prob_pre_tanh(&u).double_value(&[0, 0]);
            total += lp.exp() * 2.0 / n as f64;
        }
        assert!((total - 1.0).abs() < 1e-3, "integral {total}");
        // Point check against p_u(u) / (1 - tanh(u)^2).
        let u: f64 = 0.7;
        let (mu, sigma) = (0.3, (-0.2f64).exp());
        let pu = (-0.5 * ((u - mu) / sigma).powi(2)).exp()
            / (sigma * (2.0 * std::f64::consts::PI).sqrt());
        let expected = (pu / (1.0 - u.tanh().powi(2))).ln();
        let got = d
            .log_prob_pre_tanh(&Tensor::from_slice(&[u]).view([1, 1]))
            .double_value(&[0, 0]);
        assert!((got - expected).abs() < 1e-9, "{got} vs {expected}");
        let (a, lp) = d.rsample();
        assert!(a.abs().max().double_value(&[]) < 1.0);
        assert_eq!(lp.size(), vec![1, 1]);
    }
}
