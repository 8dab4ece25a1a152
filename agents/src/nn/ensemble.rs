//! [`EnsembleMlp`]: K MLPs of one shape evaluated in one batched matmul per
//! layer (what `torch.vmap` over stacked parameters does in TD-MPC2/DCWM),
//! not a loop over K modules.
//!
//! Contract: member `m` computes what an [`Mlp`](super::Mlp) with that
//! member's slice of the stacked parameters computes; parameters are named
//! `w{i}`, `b{i}`, `ln{i}_gamma`, `ln{i}_beta` (checkpoints depend on them);
//! [`EnsembleMlp::forward_members`] evaluates only the chosen members, in
//! the order given.

use tch::{Kind, Tensor, nn};

use super::mlp::{Activation, MlpSpec, WeightInit};

/// One layer of an ensemble: stacked weights `[K, in, out]`, biases
/// `[K, 1, out]`, optional LayerNorm affine `[K, 1, out]`.
#[derive(Debug)]
struct EnsembleLayer {
    weight: Tensor,
    bias: Tensor,
    norm: Option<(Tensor, Tensor)>,
}

/// K MLPs of the same shape evaluated together: each layer is one batched
/// matrix multiply (`baddbmm`) over the stacked parameters.
#[derive(Debug)]
pub struct EnsembleMlp {
    k: i64,
    layers: Vec<EnsembleLayer>,
    activation: Activation,
}

impl EnsembleMlp {
    /// `k` MLPs from `in_dim` to `out_dim` under `p`.
    pub fn new(p: &nn::Path, k: usize, in_dim: usize, out_dim: usize, spec: &MlpSpec) -> Self {
        let k = k as i64;
        let mut dims: Vec<i64> = vec![in_dim as i64];
        dims.extend(spec.hidden.iter().map(|&w| w as i64));
        dims.push(out_dim as i64);
        let n_layers = dims.len() - 1;
        let layers = (0..n_layers)
            .map(|i| {
                let (fan_in, fan_out) = (dims[i], dims[i + 1]);
                let bound = 1.0 / (fan_in as f64).sqrt();
                let (weight, bias) = match spec.init {
                    WeightInit::Default => (
                        p.var(
                            &format!("w{i}"),
                            &[k, fan_in, fan_out],
                            nn::Init::Uniform {
                                lo: -bound,
                                up: bound,
                            },
                        ),
                        p.var(
                            &format!("b{i}"),
                            &[k, 1, fan_out],
                            nn::Init::Uniform {
                                lo: -bound,
                                up: bound,
                            },
                        ),
                    ),
                    WeightInit::Orthogonal => {
                        let w = p.zeros(&format!("w{i}"), &[k, fan_in, fan_out]);
                        tch::no_grad(|| {
                            for m in 0..k {
                                let q = nn::init::f_init(
                                    nn::Init::Orthogonal { gain: 1.0 },
                                    &[fan_out, fan_in],
                                    w.device(),
                                    Kind::Float,
                                )
                                .expect("orthogonal init of a 2-d weight");
                                w.get(m).copy_(&q.tr());
                            }
                        });
                        (w, p.zeros(&format!("b{i}"), &[k, 1, fan_out]))
                    }
                };
                let hidden = i + 1 < n_layers;
                let norm = (hidden && spec.layer_norm).then(|| {
                    (
                        p.ones(&format!("ln{i}_gamma"), &[k, 1, fan_out]),
                        p.zeros(&format!("ln{i}_beta"), &[k, 1, fan_out]),
                    )
                });
                EnsembleLayer { weight, bias, norm }
            })
            .collect();
        EnsembleMlp {
            k,
            layers,
            activation: spec.activation,
        }
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.k as usize
    }

    /// Whether the ensemble has no members.
    pub fn is_empty(&self) -> bool {
        self.k == 0
    }

    /// Evaluates every member: `x` is `[B, in]` (the same input for all
    /// members) or `[K, B, in]`; the result is `[K, B, out]`.
    pub fn forward(&self, x: &Tensor) -> Tensor {
        self.forward_layers(x, self.k, |t| t.shallow_clone())
    }

    /// Evaluates only the members `members` (indices into the ensemble, in
    /// that order): `x` is `[B, in]` or `[M, B, in]`; the result is
    /// `[M, B, out]`. Used where an algorithm samples a few members (e.g.
    /// REDQ-style "2 random critics") so the others cost nothing.
    pub fn forward_members(&self, x: &Tensor, members: &[i64]) -> Tensor {
        let idx = Tensor::from_slice(members);
        let idx = match x.device() {
            tch::Device::Cpu => idx,
            // Through pinned memory, so that the host does not wait.
            d => idx.pin_memory(d).to_device_(d, Kind::Int64, true, false),
        };
        self.forward_index(x, &idx)
    }

    /// [`EnsembleMlp::forward_members`] with the indices already a 1-d int64
    /// tensor on the device (no upload, no synchronisation).
    pub fn forward_index(&self, x: &Tensor, members: &Tensor) -> Tensor {
        self.forward_layers(x, members.size()[0], |t| t.index_select(0, members))
    }

    /// The ensemble with the matrix multiplies of its hidden layers in `kind`
    /// (e.g. bf16), LayerNorm, activations and the output layer in f32 (its
    /// parameters shared), otherwise as [`Mlp::cast`]. The output layer stays in f32
    /// because ensembles here are value heads, where the absolute size of an
    /// output matters: a bf16 result has 8 significant bits, so a Q-value
    /// near 150 would come out rounded to a multiple of 1, as large as the
    /// differences between actions that planning and the TD target compare.
    ///
    /// [`Mlp::cast`]: super::Mlp::cast
    pub fn cast(&self, kind: Kind) -> EnsembleMlp {
        let n = self.layers.len();
        EnsembleMlp {
            k: self.k,
            layers: self
                .layers
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let kind = if i + 1 < n { kind } else { Kind::Float };
                    EnsembleLayer {
                        weight: l.weight.to_kind(kind),
                        bias: l.bias.to_kind(kind),
                        norm: l
                            .norm
                            .as_ref()
                            .map(|(g, b)| (g.shallow_clone(), b.shallow_clone())),
                    }
                })
                .collect(),
            activation: self.activation,
        }
    }

    fn forward_layers(&self, x: &Tensor, k: i64, pick: impl Fn(&Tensor) -> Tensor) -> Tensor {
        let mut h = if x.dim() == 2 {
            x.unsqueeze(0).expand([k, -1, -1], false)
        } else {
            x.shallow_clone()
        };
        let n = self.layers.len();
        for (i, l) in self.layers.iter().enumerate() {
            let kind = l.weight.kind();
            h = pick(&l.bias)
                .baddbmm(&h.to_kind(kind), &pick(&l.weight), 1.0, 1.0)
                .to_kind(Kind::Float);
            if let Some((gamma, beta)) = &l.norm {
                let (gamma, beta) = (pick(gamma), pick(beta));
                let last = *h
                    .size()
                    .last()
                    .expect("ensemble activations have a last dim");
                h = h.layer_norm([last], None::<&Tensor>, None::<&Tensor>, 1e-5, false) * &gamma
                    + &beta;
            }
            if i + 1 < n {
                h = self.activation.apply(&h);
            }
        }
        h
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn cast_ensemble_matches_the_ensemble() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(2);
        let vs = nn::VarStore::new(Device::Cpu);
        let ens = EnsembleMlp::new(&vs.root(), 3, 6, 1, &MlpSpec::normed_mish(&[32, 32]));
        let x = Tensor::randn([9, 6], (Kind::Float, Device::Cpu));
        let y = ens.forward(&x);
        let same = ens.cast(Kind::Float).forward_members(&x, &[0, 1, 2]);
        assert_eq!((&y - &same).abs().max().double_value(&[]), 0.0);
        let low = ens.cast(Kind::BFloat16).forward(&x);
        assert_eq!(low.kind(), Kind::Float);
        let rel = (&y - &low).abs().max().double_value(&[]) / y.abs().max().double_value(&[]);
        assert!(rel > 0.0 && rel < 0.05, "relative error {rel}");
    }

    #[test]
    fn cast_ensemble_keeps_large_outputs_to_f32_resolution() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let ens = EnsembleMlp::new(&vs.root(), 2, 6, 1, &MlpSpec::normed_mish(&[32, 32]));
        // Q-values near 150, where bf16 numbers are 1 apart.
        tch::no_grad(|| {
            let _ = ens.layers[2].bias.shallow_clone().fill_(150.3);
        });
        let x = Tensor::randn([64, 6], (Kind::Float, Device::Cpu));
        let y = ens.forward(&x);
        let low = tch::no_grad(|| ens.cast(Kind::BFloat16)).forward(&x);
        let err = (&y - &low).abs().max().double_value(&[]);
        // Only the hidden layers' bf16 rounding, scaled by the small head
        // weights; a bf16 head would be off by up to 0.5.
        assert!(err < 0.05, "max abs error {err}");
        // The outputs still tell apart inputs whose values differ by < 1.
        let spread = (y.max() - y.min()).double_value(&[]);
        assert!(spread < 5.0, "spread {spread}");
        let mut values = Vec::<f32>::try_from(low.flatten(0, -1)).unwrap();
        values.sort_by(f32::total_cmp);
        values.dedup();
        assert!(values.len() > 32, "{} distinct values of 128", values.len());
    }

    #[test]
    fn ensemble_members_equal_separate_networks() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(0);
        let vs = nn::VarStore::new(Device::Cpu);
        let spec = MlpSpec::normed_mish(&[8]);
        let ens = EnsembleMlp::new(&vs.root(), 3, 4, 2, &spec);
        let x = Tensor::randn([5, 4], (Kind::Float, Device::Cpu));
        let y = ens.forward(&x);
        assert_eq!(y.size(), vec![3, 5, 2]);
        // Member 1 computed by hand from its slice of the stacked parameters.
        let l0 = &ens.layers[0];
        let h = x.matmul(&l0.weight.get(1)) + l0.bias.get(1);
        let (g, b) = l0.norm.as_ref().unwrap();
        let h =
            h.layer_norm([8], None::<&Tensor>, None::<&Tensor>, 1e-5, false) * g.get(1) + b.get(1);
        let h = h.mish();
        let l1 = &ens.layers[1];
        let expected = h.matmul(&l1.weight.get(1)) + l1.bias.get(1);
        let diff = (y.get(1) - expected).abs().max().double_value(&[]);
        assert!(diff < 1e-6, "{diff}");
        // Members differ.
        assert!((y.get(0) - y.get(1)).abs().max().double_value(&[]) > 1e-3);
    }

    #[test]
    fn ensemble_subset_equals_the_members_of_the_full_pass() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let ens = EnsembleMlp::new(&vs.root(), 5, 4, 2, &MlpSpec::normed_mish(&[8]));
        let x = Tensor::randn([6, 4], (Kind::Float, Device::Cpu));
        let all = ens.forward(&x);
        let some = ens.forward_members(&x, &[3, 0]);
        assert_eq!(some.size(), vec![2, 6, 2]);
        let diff = (some - Tensor::stack(&[all.get(3), all.get(0)], 0))
            .abs()
            .max();
        assert!(diff.double_value(&[]) < 1e-6);
    }

    #[test]
    fn orthogonal_ensemble_weights_are_orthogonal() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let vs = nn::VarStore::new(Device::Cpu);
        let spec = MlpSpec {
            init: WeightInit::Orthogonal,
            ..MlpSpec::relu(&[6])
        };
        let ens = EnsembleMlp::new(&vs.root(), 2, 6, 6, &spec);
        let w = ens.layers[0].weight.get(1);
        let eye = Tensor::eye(6, (Kind::Float, Device::Cpu));
        let err = (w.tr().matmul(&w) - eye).abs().max().double_value(&[]);
        assert!(err < 1e-5, "{err}");
    }
}
