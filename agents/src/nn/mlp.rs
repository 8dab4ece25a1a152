//! Multilayer perceptrons: [`Mlp`] (hidden blocks Linear → (LayerNorm) →
//! activation, then a plain Linear head) and its mixed-precision view
//! [`CastMlp`], with the [`MlpSpec`] ([`Activation`], [`WeightInit`]) that
//! shapes them and ensembles ([`EnsembleMlp`](super::EnsembleMlp)).
//!
//! Contract: parameters are created under the given [`nn::Path`] with names
//! `l{i}`, `ln{i}` and `head` (checkpoints depend on them), drawing their
//! initial values from libtorch's generator in layer order; a [`CastMlp`]
//! in `Kind::Float` computes exactly what its [`Mlp`] computes.

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

/// Shape of an [`Mlp`] or [`EnsembleMlp`](super::EnsembleMlp).
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

/// `Err` naming `key` when one of its hidden-layer `widths` is 0 (a layer
/// without units cannot be built); agents call it on every width list of
/// their config before building a network.
pub fn check_widths(key: &str, widths: &[usize]) -> Result<(), String> {
    if widths.contains(&0) {
        return Err(format!(
            "{key} lists hidden-layer widths, each at least 1, got {widths:?}"
        ));
    }
    Ok(())
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
        // The thread count every agent sets (MKL's is process-wide): two
        // products of the same matrices then round the same way.
        crate::device::apply_torch_threads();
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
}
