//! Neural-network building blocks shared by the agents (libtorch via `tch`).
//!
//! * [`Mlp`]: Linear → (LayerNorm) → activation blocks and a plain Linear head
//!   (TD-MPC2's and DCWM's `mlp`, whose hidden layers are `NormedLinear`:
//!   Linear → LayerNorm → Mish).
//! * [`EnsembleMlp`]: K such networks evaluated in one batched matmul per
//!   layer (what `torch.vmap` over stacked parameters does in TD-MPC2/DCWM),
//!   not a loop over K modules.
//! * [`Adam`]: Adam / AdamW with gradient-norm clipping, written here so that
//!   its state (moments, step) is saved and restored with the parameters.
//! * [`TanhGaussian`]: the tanh-squashed Gaussian of SAC with its exact
//!   log-density.
//! * [`polyak_update`]: target networks.

use std::path::Path;

use tch::{Kind, Tensor, nn, nn::Module};

/// Hidden-layer activation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Activation {
    /// `x tanh(softplus(x))` (TD-MPC2, DCWM).
    Mish,
    /// `max(x, 0)`.
    Relu,
    /// `x sigmoid(x)`.
    Silu,
    /// Exponential linear unit.
    Elu,
    /// `tanh(x)`.
    Tanh,
}

impl Activation {
    /// Applies the activation.
    pub fn apply(self, x: &Tensor) -> Tensor {
        match self {
            Activation::Mish => x.mish(),
            Activation::Relu => x.relu(),
            Activation::Silu => x.silu(),
            Activation::Elu => x.elu(),
            Activation::Tanh => x.tanh(),
        }
    }
}

/// Weight initialisation.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WeightInit {
    /// PyTorch's `nn.Linear` default: weights and biases uniform in
    /// ±1/sqrt(fan_in).
    Default,
    /// Orthogonal weights with gain 1, zero biases (DCWM's critics).
    Orthogonal,
}

/// Shape of an [`Mlp`] or [`EnsembleMlp`].
#[derive(Debug, Clone, PartialEq)]
pub struct MlpSpec {
    /// Widths of the hidden layers.
    pub hidden: Vec<usize>,
    /// LayerNorm after each hidden Linear.
    pub layer_norm: bool,
    /// Hidden activation.
    pub activation: Activation,
    /// Weight initialisation.
    pub init: WeightInit,
}

impl MlpSpec {
    /// Hidden layers of the given widths with LayerNorm and Mish (DCWM's `mlp`).
    pub fn normed_mish(hidden: &[usize]) -> Self {
        MlpSpec {
            hidden: hidden.to_vec(),
            layer_norm: true,
            activation: Activation::Mish,
            init: WeightInit::Default,
        }
    }

    /// Hidden layers of the given widths with ReLU and no normalisation.
    pub fn relu(hidden: &[usize]) -> Self {
        MlpSpec {
            hidden: hidden.to_vec(),
            layer_norm: false,
            activation: Activation::Relu,
            init: WeightInit::Default,
        }
    }
}

fn linear(p: nn::Path, fan_in: i64, fan_out: i64, init: WeightInit) -> nn::Linear {
    let bound = 1.0 / (fan_in as f64).sqrt();
    let config = match init {
        WeightInit::Default => nn::LinearConfig {
            ws_init: nn::Init::Uniform {
                lo: -bound,
                up: bound,
            },
            bs_init: Some(nn::Init::Uniform {
                lo: -bound,
                up: bound,
            }),
            bias: true,
        },
        WeightInit::Orthogonal => nn::LinearConfig {
            ws_init: nn::Init::Orthogonal { gain: 1.0 },
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        },
    };
    nn::linear(p, fan_in, fan_out, config)
}

/// A multilayer perceptron: hidden blocks Linear → (LayerNorm) → activation,
/// then a plain Linear head.
#[derive(Debug)]
pub struct Mlp {
    hidden: Vec<(nn::Linear, Option<nn::LayerNorm>)>,
    head: nn::Linear,
    activation: Activation,
}

impl Mlp {
    /// An MLP from `in_dim` to `out_dim` under `p`.
    pub fn new(p: &nn::Path, in_dim: usize, out_dim: usize, spec: &MlpSpec) -> Self {
        let mut fan_in = in_dim as i64;
        let mut hidden = Vec::new();
        for (i, &w) in spec.hidden.iter().enumerate() {
            let l = linear(p / format!("l{i}"), fan_in, w as i64, spec.init);
            let ln = spec
                .layer_norm
                .then(|| nn::layer_norm(p / format!("ln{i}"), vec![w as i64], Default::default()));
            hidden.push((l, ln));
            fan_in = w as i64;
        }
        let head = linear(p / "head", fan_in, out_dim as i64, spec.init);
        Mlp {
            hidden,
            head,
            activation: spec.activation,
        }
    }
}

impl Module for Mlp {
    fn forward(&self, x: &Tensor) -> Tensor {
        let mut h = x.shallow_clone();
        for (l, ln) in &self.hidden {
            h = l.forward(&h);
            if let Some(ln) = ln {
                h = ln.forward(&h);
            }
            h = self.activation.apply(&h);
        }
        self.head.forward(&h)
    }
}

/// Weight, bias and LayerNorm affine parameters of one [`CastMlp`] layer.
type CastLayer = (Tensor, Option<Tensor>, Option<(Tensor, Tensor)>);

/// An [`Mlp`] whose matrix multiplies run in `kind` (e.g. bf16) while
/// LayerNorm, activations and the output stay in f32, the split that
/// PyTorch's autocast makes. The cast weights are views of the MLP's
/// parameters: differentiable (gradients reach the f32 parameters) when made
/// with gradients on, plain copies outside autograd when made under
/// `no_grad`; either way they are a snapshot, to be made again after the
/// parameters change. Casting once and reusing the result across the calls
/// of one update or one plan avoids converting the weights at every call.
/// With `Kind::Float` it computes exactly what [`Mlp`] computes, sharing its
/// tensors.
#[derive(Debug)]
pub struct CastMlp {
    /// Per layer: weight `[out, in]` and bias in `kind`, LayerNorm affine
    /// parameters in f32 (none for the head).
    layers: Vec<CastLayer>,
    activation: Activation,
    kind: Kind,
}

impl Mlp {
    /// The MLP with its matrix multiplies in `kind` (see [`CastMlp`]).
    pub fn cast(&self, kind: Kind) -> CastMlp {
        let linear = |l: &nn::Linear| (l.ws.to_kind(kind), l.bs.as_ref().map(|b| b.to_kind(kind)));
        let mut layers: Vec<_> = self
            .hidden
            .iter()
            .map(|(l, ln)| {
                let (w, b) = linear(l);
                let norm = ln.as_ref().map(|ln| {
                    (
                        ln.ws.as_ref().expect("affine LayerNorm").shallow_clone(),
                        ln.bs.as_ref().expect("affine LayerNorm").shallow_clone(),
                    )
                });
                (w, b, norm)
            })
            .collect();
        let (w, b) = linear(&self.head);
        layers.push((w, b, None));
        CastMlp {
            layers,
            activation: self.activation,
            kind,
        }
    }
}

impl Module for CastMlp {
    fn forward(&self, x: &Tensor) -> Tensor {
        let n = self.layers.len();
        let mut h = x.shallow_clone();
        for (i, (w, b, norm)) in self.layers.iter().enumerate() {
            h = h
                .to_kind(self.kind)
                .linear(w, b.as_ref())
                .to_kind(Kind::Float);
            if let Some((gamma, beta)) = norm {
                h = h.layer_norm([w.size()[0]], Some(gamma), Some(beta), 1e-5, false);
            }
            if i + 1 < n {
                h = self.activation.apply(&h);
            }
        }
        h
    }
}

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
        let idx = Tensor::from_slice(members).to_device(x.device());
        self.forward_layers(x, members.len() as i64, |t| t.index_select(0, &idx))
    }

    /// The ensemble with the matrix multiplies of its hidden layers in `kind`
    /// (e.g. bf16), LayerNorm, activations and the output layer in f32 (its
    /// parameters shared), otherwise as [`Mlp::cast`]. The output layer stays in f32
    /// because ensembles here are value heads, where the absolute size of an
    /// output matters: a bf16 result has 8 significant bits, so a Q-value
    /// near 150 would come out rounded to a multiple of 1, as large as the
    /// differences between actions that planning and the TD target compare.
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

/// `target ← (1 − τ) target + τ online` for every variable of `online`
/// (matched by name).
pub fn polyak_update(target: &nn::VarStore, online: &nn::VarStore, tau: f64) {
    let online = online.variables();
    let mut target = target.variables();
    tch::no_grad(|| {
        for (name, src) in online {
            if let Some(dst) = target.get_mut(&name) {
                dst.copy_(&(&*dst * (1.0 - tau) + src * tau));
            }
        }
    });
}

/// Copies every variable of `src` into `dst` (a hard target update).
pub fn copy_params(dst: &nn::VarStore, src: &nn::VarStore) {
    polyak_update(dst, src, 1.0);
}

/// Adam (Kingma & Ba 2015) or, with `weight_decay > 0`, AdamW (Loshchilov &
/// Hutter 2019, decoupled decay), as PyTorch implements them, with optional
/// clipping of the global gradient norm before the update.
#[derive(Debug)]
pub struct Adam {
    /// Learning rate.
    pub lr: f64,
    /// β1, β2.
    pub betas: (f64, f64),
    /// ε added to the denominator.
    pub eps: f64,
    /// Decoupled weight decay (AdamW); 0 for Adam.
    pub weight_decay: f64,
    /// Clip the global gradient norm to this value before each step.
    pub max_grad_norm: Option<f64>,
    params: Vec<(String, Tensor)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    step: i64,
}

impl Adam {
    /// An optimizer over the trainable variables of `vs`, with PyTorch's
    /// defaults (β = (0.9, 0.999), ε = 1e-8).
    pub fn new(vs: &nn::VarStore, lr: f64) -> Self {
        let mut params: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let m = params.iter().map(|(_, t)| t.zeros_like()).collect();
        let v = params.iter().map(|(_, t)| t.zeros_like()).collect();
        Adam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            max_grad_norm: None,
            params,
            m,
            v,
            step: 0,
        }
    }

    /// AdamW with decoupled weight decay (PyTorch's AdamW default is 0.01).
    pub fn adamw(vs: &nn::VarStore, lr: f64, weight_decay: f64) -> Self {
        Adam {
            weight_decay,
            ..Adam::new(vs, lr)
        }
    }

    /// The same optimizer with gradient-norm clipping.
    pub fn with_max_grad_norm(mut self, max: f64) -> Self {
        self.max_grad_norm = Some(max);
        self
    }

    /// Zeroes the gradients, back-propagates `loss`, clips, and updates the
    /// parameters. Returns the global gradient norm before clipping.
    pub fn step(&mut self, loss: &Tensor) -> f64 {
        for (_, p) in &self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        loss.backward();
        let grads: Vec<Tensor> = self.params.iter().map(|(_, p)| p.grad()).collect();
        let norm = tch::no_grad(|| {
            let norms: Vec<Tensor> = grads
                .iter()
                .filter(|g| g.defined())
                .map(|g| g.norm())
                .collect();
            if norms.is_empty() {
                0.0
            } else {
                Tensor::stack(&norms, 0).norm().double_value(&[])
            }
        });
        let scale = match self.max_grad_norm {
            Some(max) if norm > max => max / (norm + 1e-6),
            _ => 1.0,
        };
        self.step += 1;
        let (b1, b2) = self.betas;
        let bias1 = 1.0 - b1.powi(self.step as i32);
        let bias2 = 1.0 - b2.powi(self.step as i32);
        tch::no_grad(|| {
            for (i, ((_, p), g)) in self.params.iter_mut().zip(&grads).enumerate() {
                if !g.defined() {
                    continue;
                }
                let mut g = g.shallow_clone();
                if scale != 1.0 {
                    let _ = g.g_mul_scalar_(scale);
                }
                if self.weight_decay > 0.0 {
                    let _ = p.g_mul_scalar_(1.0 - self.lr * self.weight_decay);
                }
                // In place, few passes over memory: m ← β1 m + (1−β1) g,
                // v ← β2 v + (1−β2) g², p ← p − lr/bias1 · m / (√v/√bias2 + ε)
                // with the step size folded into the denominator.
                let m = &mut self.m[i];
                let _ = m.lerp_(&g, 1.0 - b1);
                let v = &mut self.v[i];
                let _ = v.lerp_(&g.square(), 1.0 - b2);
                let k = -bias1 / self.lr;
                let mut denom = v.sqrt();
                let _ = denom
                    .g_mul_scalar_(k / bias2.sqrt())
                    .g_add_scalar_(k * self.eps);
                let _ = p.addcdiv_(m, &denom);
            }
        });
        norm
    }

    /// Number of steps taken.
    pub fn steps(&self) -> i64 {
        self.step
    }

    /// Saves the moments and the step count.
    pub fn save(&self, path: &Path) -> Result<(), tch::TchError> {
        let mut named: Vec<(String, Tensor)> = Vec::new();
        for (i, (name, _)) in self.params.iter().enumerate() {
            named.push((format!("m.{name}"), self.m[i].shallow_clone()));
            named.push((format!("v.{name}"), self.v[i].shallow_clone()));
        }
        named.push(("step".into(), Tensor::from(self.step)));
        Tensor::save_multi(&named, path)
    }

    /// Restores what [`Adam::save`] wrote (same parameters, same names).
    pub fn load(&mut self, path: &Path) -> Result<(), tch::TchError> {
        let named = Tensor::load_multi(path)?;
        let find = |key: &str| {
            named
                .iter()
                .find(|(n, _)| n == key)
                .map(|(_, t)| t.shallow_clone())
                .ok_or_else(|| tch::TchError::FileFormat(format!("optimizer state lacks {key}")))
        };
        tch::no_grad(|| -> Result<(), tch::TchError> {
            for (i, (name, _)) in self.params.iter().enumerate() {
                self.m[i].copy_(&find(&format!("m.{name}"))?);
                self.v[i].copy_(&find(&format!("v.{name}"))?);
            }
            Ok(())
        })?;
        self.step = find("step")?.int64_value(&[]);
        Ok(())
    }
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
    fn mlp_shapes_and_layer_norm() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let vs = nn::VarStore::new(Device::Cpu);
        let mlp = Mlp::new(&vs.root(), 5, 3, &MlpSpec::normed_mish(&[16, 16]));
        let y = mlp.forward(&Tensor::randn([7, 5], (Kind::Float, Device::Cpu)));
        assert_eq!(y.size(), vec![7, 3]);
        // 2 hidden Linear + 2 LayerNorm + head, each with weight and bias.
        assert_eq!(vs.variables().len(), 10);
    }

    #[test]
    fn cast_mlp_matches_the_mlp_and_trains_its_parameters() {
        let _rng = crate::rng::TORCH_RNG_LOCK
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        tch::manual_seed(1);
        let vs = nn::VarStore::new(Device::Cpu);
        let mlp = Mlp::new(&vs.root(), 6, 4, &MlpSpec::normed_mish(&[32, 32]));
        let x = Tensor::randn([9, 6], (Kind::Float, Device::Cpu));
        let y = mlp.forward(&x);
        // f32: the same computation.
        let same = mlp.cast(Kind::Float).forward(&x);
        assert_eq!((&y - &same).abs().max().double_value(&[]), 0.0);
        // bf16 matmuls: f32 output within bf16 rounding of the f32 result.
        let low = mlp.cast(Kind::BFloat16).forward(&x);
        assert_eq!(low.kind(), Kind::Float);
        let rel = (&y - &low).abs().max().double_value(&[]) / y.abs().max().double_value(&[]);
        assert!(rel > 0.0 && rel < 0.05, "relative error {rel}");
        // Gradients reach the f32 parameters through the cast.
        low.square().sum(Kind::Float).backward();
        for (name, v) in vs.variables() {
            assert_eq!(v.grad().kind(), Kind::Float, "{name}");
            assert!(
                v.grad().abs().sum(Kind::Float).double_value(&[]) > 0.0,
                "{name}"
            );
        }
        // Made under no_grad: weight copies outside autograd.
        let frozen = tch::no_grad(|| mlp.cast(Kind::BFloat16));
        assert!(frozen.layers.iter().all(|(w, _, _)| !w.requires_grad()));
    }

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
    fn adam_matches_the_update_rule_and_clips() {
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[2], nn::Init::Const(1.0));
        let mut opt = Adam::new(&vs, 0.1);
        // loss = 3 w0 + 4 w1: gradient (3, 4), norm 5.
        let norm = opt.step(&(&w * Tensor::from_slice(&[3.0f32, 4.0])).sum(Kind::Float));
        assert!((norm - 5.0).abs() < 1e-6);
        // First Adam step moves each parameter by lr (m̂/√v̂ = ±1).
        let got = Vec::<f32>::try_from(&w).unwrap();
        assert!(
            (got[0] - 0.9).abs() < 1e-6 && (got[1] - 0.9).abs() < 1e-6,
            "{got:?}"
        );

        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[2], nn::Init::Const(0.0));
        let mut sgd_like = Adam::new(&vs, 1.0).with_max_grad_norm(1.0);
        sgd_like.step(&(&w * Tensor::from_slice(&[30.0f32, 40.0])).sum(Kind::Float));
        // Clipping scales the gradient, Adam normalises it: still ±lr.
        let got = Vec::<f32>::try_from(&w).unwrap();
        assert!((got[0] + 1.0).abs() < 1e-5, "{got:?}");
    }

    #[test]
    fn adam_state_round_trips() {
        let dir = std::env::temp_dir().join(format!("ctrlbench-adam-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[2], nn::Init::Const(1.0));
        let mut opt = Adam::adamw(&vs, 0.01, 0.1);
        for _ in 0..3 {
            opt.step(&w.pow_tensor_scalar(2).sum(Kind::Float));
        }
        opt.save(&dir.join("opt.ot")).unwrap();
        let mut other = Adam::adamw(&vs, 0.01, 0.1);
        other.load(&dir.join("opt.ot")).unwrap();
        assert_eq!(other.steps(), 3);
        assert_eq!(
            Vec::<f32>::try_from(&other.m[0]).unwrap(),
            Vec::<f32>::try_from(&opt.m[0]).unwrap()
        );
        std::fs::remove_dir_all(dir).ok();
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
