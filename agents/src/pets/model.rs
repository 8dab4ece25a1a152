//! The probabilistic ensemble of PETS, as mbrl-lib builds and trains it
//! (`mbrl/models/gaussian_mlp.py`, `models/model_trainer.py`,
//! `util/math.py`; facebookresearch/mbrl-lib, MIT).
//!
//! # Contract
//!
//! - `E` members, each an MLP of `num_layers` hidden layers of `hidden`
//!   units with SiLU, and an output layer of `2·out` units: the first `out`
//!   are the mean, the last `out` the log-variance. Layer `l` holds
//!   `layer{l}.weight` `[E, in, out]` and `layer{l}.bias` `[E, 1, out]`
//!   (`x · W + b`), initialised from a normal truncated at ±2σ with
//!   σ = 1 / (2√in), biases 0.
//! - The log-variance is bounded softly between constants `min_logvar` and
//!   `max_logvar`: `lv ← max − softplus(max − lv)`, then
//!   `lv ← min + softplus(lv − min)`.
//! - The loss is the Gaussian NLL without ½ or log 2π,
//!   `(μ − y)² e^{−lv} + lv`, averaged over the batch and the outputs,
//!   summed over members, plus `0.01 (Σ max − Σ min)` (a constant here, as
//!   mbrl-lib's bounds are not learned).
//! - Inputs are `concat(obs, action)` normalised by the [`Normalizer`] of the
//!   whole buffer (double precision, as mbrl-lib's
//!   `normalize_double_precision`); targets are `(next_obs − obs, reward)`,
//!   not normalised.
//! - [`Ensemble::train`] is `ModelTrainer.train` with a validation ratio of
//!   0: each member draws a bootstrap sample of the data (with replacement,
//!   new at every retrain); each epoch shuffles the order and steps Adam on
//!   each batch; after each epoch the score is each member's MSE of the mean
//!   on the whole data; any member improving by more than
//!   `improvement_threshold` (relative) keeps a snapshot of all weights;
//!   training stops after `patience` epochs without one, or `num_epochs`;
//!   the best snapshot is restored and the `num_elites` best members by
//!   score become the elites.

use tch::{Device, Kind, Tensor, nn};

use crate::nn::Adam;
use crate::rng::{Rng, TorchStream};

/// Sizes and bounds of the ensemble.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EnsembleSpec {
    /// Members.
    pub members: usize,
    /// Input width (`obs + action`).
    pub in_dim: usize,
    /// Output width (`obs + 1`: state delta and reward).
    pub out_dim: usize,
    /// Hidden width.
    pub hidden: usize,
    /// Hidden layers.
    pub num_layers: usize,
    /// Log-variance bounds.
    pub logvar_bounds: (f64, f64),
}

/// The ensemble's parameters.
pub struct Ensemble {
    /// Its variables (`layer{l}.weight`, `layer{l}.bias`).
    pub vs: nn::VarStore,
    /// (weight `[E, in, out]`, bias `[E, 1, out]`) per layer.
    layers: Vec<(Tensor, Tensor)>,
    /// Lower log-variance bound `[1, out]` (a constant).
    pub min_logvar: Tensor,
    /// Upper log-variance bound `[1, out]` (a constant).
    pub max_logvar: Tensor,
    /// Sizes.
    pub spec: EnsembleSpec,
    /// Indices of the elite members, best first.
    pub elites: Vec<i64>,
}

/// A normal truncated at ±2σ (values outside redrawn), as mbrl-lib's
/// `truncated_normal_`; drawn by inverse CDF, which has the same law.
pub fn truncated_normal(shape: &[i64], std: f64, device: Device) -> Tensor {
    // Φ(±2) and z = √2 erfinv(2u − 1) for u uniform in [Φ(−2), Φ(2)].
    let (lo, hi) = (0.022_750_131_948_179_2_f64, 0.977_249_868_051_820_8_f64);
    let u = Tensor::rand(shape, (Kind::Float, device)) * (hi - lo) + lo;
    (u * 2.0 - 1.0).erfinv() * (std::f64::consts::SQRT_2 * std)
}

impl Ensemble {
    /// A freshly initialised ensemble on `device`; `init` draws its weights.
    pub fn new(spec: EnsembleSpec, device: Device, init: &mut TorchStream) -> Self {
        let vs = nn::VarStore::new(device);
        let root = vs.root();
        let mut widths = vec![spec.in_dim];
        widths.extend(std::iter::repeat_n(spec.hidden, spec.num_layers));
        widths.push(2 * spec.out_dim);
        let e = spec.members as i64;
        let layers: Vec<(Tensor, Tensor)> = widths
            .windows(2)
            .enumerate()
            .map(|(l, w)| {
                let (i, o) = (w[0] as i64, w[1] as i64);
                let layer = &root / format!("layer{l}");
                let weight = layer.zeros("weight", &[e, i, o]);
                let bias = layer.zeros("bias", &[e, 1, o]);
                (weight, bias)
            })
            .collect();
        init.draw(|| {
            tch::no_grad(|| {
                for (w, _) in &layers {
                    let size = w.size();
                    let std = 1.0 / (2.0 * (size[1] as f64).sqrt());
                    let mut w = w.shallow_clone();
                    w.copy_(&truncated_normal(&size, std, device));
                }
            })
        });
        let out = spec.out_dim as i64;
        let opts = (Kind::Float, device);
        Ensemble {
            vs,
            layers,
            min_logvar: Tensor::full([1, out], spec.logvar_bounds.0, opts),
            max_logvar: Tensor::full([1, out], spec.logvar_bounds.1, opts),
            spec,
            elites: (0..spec.members as i64).collect(),
        }
    }

    /// Mean and bounded log-variance of `x` `[M, B, in]` through the members
    /// `members` (all `E` when `None`), each `[M, B, out]`.
    pub fn forward(&self, x: &Tensor, members: Option<&Tensor>) -> (Tensor, Tensor) {
        let last = self.layers.len() - 1;
        let mut h = x.shallow_clone();
        for (l, (w, b)) in self.layers.iter().enumerate() {
            let (w, b) = match members {
                Some(m) => (w.index_select(0, m), b.index_select(0, m)),
                None => (w.shallow_clone(), b.shallow_clone()),
            };
            h = b.baddbmm(&h, &w, 1.0, 1.0);
            if l < last {
                h = h.silu();
            }
        }
        let out = self.spec.out_dim as i64;
        let mean = h.narrow(2, 0, out);
        let lv = h.narrow(2, out, out);
        let lv = &self.max_logvar - (&self.max_logvar - lv).softplus();
        let lv = &self.min_logvar + (lv - &self.min_logvar).softplus();
        (mean, lv)
    }

    /// The training loss of `x` `[E, B, in]` against `y` `[E, B, out]`.
    pub fn nll(&self, x: &Tensor, y: &Tensor) -> Tensor {
        let (mean, lv) = self.forward(x, None);
        let per_member = ((mean - y).square() * (-&lv).exp() + lv).mean_dim(
            [1i64, 2].as_slice(),
            false,
            Kind::Float,
        );
        per_member.sum(Kind::Float)
            + (self.max_logvar.sum(Kind::Float) - self.min_logvar.sum(Kind::Float)) * 0.01
    }

    /// Each member's MSE of its mean on `x` `[N, in]` against `y` `[N, out]`.
    pub fn mse(&self, x: &Tensor, y: &Tensor) -> Tensor {
        tch::no_grad(|| {
            let e = self.spec.members as i64;
            let xs = x.unsqueeze(0).expand([e, -1, -1], false);
            let (mean, _) = self.forward(&xs, None);
            (mean - y.unsqueeze(0))
                .square()
                .mean_dim([1i64, 2].as_slice(), false, Kind::Float)
        })
    }

    fn snapshot(&self) -> Vec<Tensor> {
        self.layers
            .iter()
            .flat_map(|(w, b)| [w.detach().copy(), b.detach().copy()])
            .collect()
    }

    fn restore(&self, snapshot: &[Tensor]) {
        tch::no_grad(|| {
            for ((w, b), s) in self.layers.iter().zip(snapshot.chunks(2)) {
                w.shallow_clone().copy_(&s[0]);
                b.shallow_clone().copy_(&s[1]);
            }
        });
    }

    /// One retrain on inputs `x` `[N, in]` (normalised) and targets `y`
    /// `[N, out]` (see the module contract).
    pub fn train(
        &mut self,
        x: &Tensor,
        y: &Tensor,
        schedule: &TrainSchedule,
        opt: &mut Adam,
        rng: &mut Rng,
    ) -> TrainReport {
        let n = x.size()[0] as usize;
        let e = self.spec.members;
        let device = x.device();
        // Each member's bootstrap sample of the data, drawn once per retrain.
        let boot: Vec<i64> = (0..e * n).map(|_| rng.below(n as u64) as i64).collect();
        let boot = Tensor::from_slice(&boot)
            .view([e as i64, n as i64])
            .to(device);
        let mut best = self.mse(x, y);
        let mut best_weights: Option<Vec<Tensor>> = None;
        let mut since = 0;
        let mut epochs = 0;
        let mut last_nll = f64::NAN;
        for _ in 0..schedule.num_epochs {
            epochs += 1;
            let order = shuffled(n, rng);
            let mut losses = Vec::new();
            for batch in order.chunks(schedule.batch_size) {
                let pos = Tensor::from_slice(batch).to(device);
                let idx = boot.index_select(1, &pos); // [E, b]
                let flat = idx.reshape([-1]);
                let b = batch.len() as i64;
                let xb = x.index_select(0, &flat).view([e as i64, b, -1]);
                let yb = y.index_select(0, &flat).view([e as i64, b, -1]);
                let loss = self.nll(&xb, &yb);
                let _ = opt.step(&loss);
                losses.push(loss.detach());
            }
            last_nll = Tensor::stack(&losses, 0)
                .mean(Kind::Float)
                .double_value(&[])
                / e as f64;
            let score = self.mse(x, y);
            let improvement = (&best - &score) / best.abs();
            let improved = improvement.gt(schedule.improvement_threshold);
            if improved.any().int64_value(&[]) != 0 {
                best = score.where_self(&improved, &best);
                best_weights = Some(self.snapshot());
                since = 0;
            } else {
                since += 1;
            }
            if schedule.patience > 0 && since >= schedule.patience {
                break;
            }
        }
        if let Some(w) = &best_weights {
            self.restore(w);
        }
        let scores: Vec<f64> =
            Vec::<f64>::try_from(best.to_kind(Kind::Double).to(Device::Cpu)).unwrap_or_default();
        let mut order: Vec<usize> = (0..e).collect();
        order.sort_by(|a, b| scores[*a].total_cmp(&scores[*b]));
        self.elites = order
            .iter()
            .take(schedule.num_elites.min(e))
            .map(|&i| i as i64)
            .collect();
        let elite_mse = self.elites.iter().map(|&i| scores[i as usize]).sum::<f64>()
            / self.elites.len().max(1) as f64;
        TrainReport {
            epochs,
            nll: last_nll,
            mse: elite_mse,
        }
    }
}

/// A random permutation of `0..n` (Fisher–Yates).
fn shuffled(n: usize, rng: &mut Rng) -> Vec<i64> {
    let mut v: Vec<i64> = (0..n as i64).collect();
    for i in (1..n).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        v.swap(i, j);
    }
    v
}

/// mbrl-lib's `ModelTrainer.train` settings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainSchedule {
    /// Transitions per batch.
    pub batch_size: usize,
    /// Epoch cap.
    pub num_epochs: usize,
    /// Epochs without improvement before stopping (0: never).
    pub patience: usize,
    /// Relative improvement of a member's score that counts.
    pub improvement_threshold: f64,
    /// Members used for planning.
    pub num_elites: usize,
}

/// What a retrain did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TrainReport {
    /// Epochs run.
    pub epochs: usize,
    /// Mean training NLL per member over the last epoch's batches.
    pub nll: f64,
    /// Mean best MSE of the elites.
    pub mse: f64,
}

/// Input normalisation from the whole buffer, in double precision
/// (mbrl-lib's `Normalizer`: a standard deviation below 1e-12 becomes 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Normalizer {
    /// Per-input mean.
    pub mean: Vec<f64>,
    /// Per-input standard deviation.
    pub std: Vec<f64>,
}

impl Normalizer {
    /// The identity for `dim` inputs.
    pub fn identity(dim: usize) -> Self {
        Normalizer {
            mean: vec![0.0; dim],
            std: vec![1.0; dim],
        }
    }

    /// Statistics of the rows of `data` (`rows × dim`, row-major), with
    /// PyTorch's `std` (unbiased), as mbrl-lib's `update_stats`.
    pub fn fit(data: &[f64], dim: usize) -> Self {
        let n = data.len() / dim.max(1);
        let mut mean = vec![0.0; dim];
        for row in data.chunks(dim) {
            for (m, v) in mean.iter_mut().zip(row) {
                *m += v;
            }
        }
        mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);
        let mut var = vec![0.0; dim];
        for row in data.chunks(dim) {
            for ((s, v), m) in var.iter_mut().zip(row).zip(&mean) {
                *s += (v - m) * (v - m);
            }
        }
        let std = var
            .iter()
            .map(|s| {
                let sd = (s / (n.saturating_sub(1)).max(1) as f64).sqrt();
                if sd < 1e-12 { 1.0 } else { sd }
            })
            .collect();
        Normalizer { mean, std }
    }

    /// `(x − mean) / std` in double precision, returned as f32; `x` is
    /// `[.., dim]`.
    pub fn apply(&self, x: &Tensor) -> Tensor {
        let device = x.device();
        let mean = Tensor::from_slice(&self.mean).to(device);
        let std = Tensor::from_slice(&self.std).to(device);
        ((x.to_kind(Kind::Double) - mean) / std).to_kind(Kind::Float)
    }
}
