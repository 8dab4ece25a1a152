//! [`Adam`]: Adam / AdamW with gradient-norm clipping, written here so that
//! its state (moments, step) is saved and restored with the parameters.
//!
//! Contract: each [`Adam::step`] zeroes the gradients, back-propagates the
//! loss, optionally clips the global gradient norm, and updates the
//! parameters as PyTorch's `Adam`/`AdamW` do; [`Adam::save`] and
//! [`Adam::load`] round-trip the moments and the step count exactly. A clip
//! of 0 (or less) means no clipping.
//!
//! Layout: the optimizer keeps its parameters, moments and a gradient copy
//! in flat buffers — each parameter becomes a view of the flat parameter
//! buffer — so that a step is a fixed handful of kernels over all
//! parameters rather than ~8 per tensor (what PyTorch's fused and foreach
//! optimizers do on a GPU). The arithmetic per element is PyTorch's, in the
//! same order. The clip coefficient `min(1, max / (‖g‖ + 1e-6))` stays on
//! the device, as `clip_grad_norm_` keeps it, so a step never waits for the
//! device; the returned norm is a device scalar. A parameter left without a
//! gradient by the loss is stepped with a zero gradient (its moments decay),
//! where PyTorch would skip it. One optimizer per parameter set: a second
//! optimizer over the same parameters takes their storage over, and the
//! first copies it back before its next step.

use std::path::Path;

use tch::{Kind, Tensor, nn};

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
    /// L2 penalty added to the gradient (PyTorch `Adam(weight_decay=..)`,
    /// coupled); 0 for none.
    pub l2: f64,
    /// Clip the global gradient norm to this value before each step
    /// (`None`: no clipping).
    pub max_grad_norm: Option<f64>,
    params: Vec<(String, Tensor)>,
    /// All parameters, flat; each of `params` is a view of it.
    flat: Tensor,
    /// Moments, flat, and their per-parameter views (for saving).
    m_flat: Tensor,
    v_flat: Tensor,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// The clip coefficient of the last step (a device scalar; 1 without
    /// clipping).
    last_clip: Option<Tensor>,
    step: i64,
}

/// Views of `flat` shaped as `params`, in order.
fn views(flat: &Tensor, params: &[(String, Tensor)]) -> Vec<Tensor> {
    let mut offset = 0;
    params
        .iter()
        .map(|(_, p)| {
            let n = p.numel() as i64;
            let v = flat.narrow(0, offset, n).view(p.size().as_slice());
            offset += n;
            v
        })
        .collect()
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
        let n: i64 = params.iter().map(|(_, p)| p.numel() as i64).sum();
        let opts = (Kind::Float, vs.device());
        let (m_flat, v_flat) = (Tensor::zeros([n], opts), Tensor::zeros([n], opts));
        let mut adam = Adam {
            lr,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
            l2: 0.0,
            max_grad_norm: None,
            m: views(&m_flat, &params),
            v: views(&v_flat, &params),
            flat: Tensor::zeros([n], opts),
            m_flat,
            v_flat,
            params,
            last_clip: None,
            step: 0,
        };
        adam.bind();
        adam
    }

    /// Copies the parameters into the flat buffer and makes each a view of
    /// it.
    fn bind(&mut self) {
        let views = views(&self.flat, &self.params);
        tch::no_grad(|| {
            for ((_, p), mut v) in self.params.iter_mut().zip(views) {
                v.copy_(p);
                p.set_data(&v);
            }
        });
    }

    /// Whether the parameters are still views of the flat buffer.
    fn bound(&self) -> bool {
        self.params
            .first()
            .is_none_or(|(_, p)| p.data_ptr() == self.flat.data_ptr())
    }

    /// AdamW with decoupled weight decay (PyTorch's AdamW default is 0.01).
    pub fn adamw(vs: &nn::VarStore, lr: f64, weight_decay: f64) -> Self {
        Adam {
            weight_decay,
            ..Adam::new(vs, lr)
        }
    }

    /// The same optimizer with a coupled L2 penalty `l2` (PyTorch's
    /// `Adam(weight_decay=l2)`: the gradient gains `l2 · param`).
    pub fn with_l2(mut self, l2: f64) -> Self {
        self.l2 = l2;
        self
    }

    /// The same optimizer with gradient-norm clipping to `max`; `max` of 0
    /// or less (or NaN) means no clipping, so a config's "0: none" can be
    /// passed as it is.
    pub fn with_max_grad_norm(mut self, max: f64) -> Self {
        self.max_grad_norm = (max > 0.0).then_some(max);
        self
    }

    /// The clip coefficient the last step applied to the gradients (a
    /// device scalar; `None` before the first step or without clipping):
    /// the gradients it used are the parameters' `grad()` times this.
    pub fn last_clip(&self) -> Option<&Tensor> {
        self.last_clip.as_ref()
    }

    /// Zeroes the gradients, back-propagates `loss`, clips, and updates the
    /// parameters. Returns the global gradient norm before clipping, as a
    /// device scalar (reading it waits for the device).
    pub fn step(&mut self, loss: &Tensor) -> Tensor {
        if !self.bound() {
            self.bind();
        }
        for (_, p) in &self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
        loss.backward();
        tch::no_grad(|| {
            let grads: Vec<Tensor> = self
                .params
                .iter()
                .map(|(_, p)| {
                    let g = p.grad();
                    if g.defined() { g } else { p.zeros_like() }
                })
                .collect();
            let norms: Vec<Tensor> = grads.iter().map(|g| g.norm()).collect();
            let norm = match norms.len() {
                0 => Tensor::zeros([], (Kind::Float, self.flat.device())),
                _ => Tensor::stack(&norms, 0).norm(),
            };
            let flat: Vec<Tensor> = grads.iter().map(|g| g.reshape([-1])).collect();
            let mut g = Tensor::cat(&flat, 0);
            self.last_clip = self.max_grad_norm.map(|max| {
                let coef = (&norm + 1e-6).reciprocal().g_mul_scalar(max).clamp_max(1.0);
                g *= &coef;
                coef
            });
            if self.l2 > 0.0 {
                // PyTorch's Adam: grad ← grad + λ·param, after any clipping.
                g += &self.flat * self.l2;
            }
            self.step += 1;
            let (b1, b2) = self.betas;
            let bias1 = 1.0 - b1.powi(self.step as i32);
            let bias2 = 1.0 - b2.powi(self.step as i32);
            if self.weight_decay > 0.0 {
                let _ = self.flat.g_mul_scalar_(1.0 - self.lr * self.weight_decay);
            }
            // In place, few passes over memory: m ← β1 m + (1−β1) g,
            // v ← β2 v + (1−β2) g², p ← p − lr/bias1 · m / (√v/√bias2 + ε)
            // with the step size folded into the denominator.
            let _ = self.m_flat.lerp_(&g, 1.0 - b1);
            let _ = self.v_flat.lerp_(&g.square(), 1.0 - b2);
            let k = -bias1 / self.lr;
            let mut denom = self.v_flat.sqrt();
            let _ = denom
                .g_mul_scalar_(k / bias2.sqrt())
                .g_add_scalar_(k * self.eps);
            let _ = self.flat.addcdiv_(&self.m_flat, &denom);
            norm
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{Device, Kind};

    #[test]
    fn adam_matches_the_update_rule_and_clips() {
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[2], nn::Init::Const(1.0));
        let mut opt = Adam::new(&vs, 0.1);
        // loss = 3 w0 + 4 w1: gradient (3, 4), norm 5.
        let norm = opt.step(&(&w * Tensor::from_slice(&[3.0f32, 4.0])).sum(Kind::Float));
        assert!((norm.double_value(&[]) - 5.0).abs() < 1e-6);
        // First Adam step moves each parameter by lr (m̂/√v̂ = ±1).
        let got = Vec::<f32>::try_from(&w).unwrap();
        assert!(
            (got[0] - 0.9).abs() < 1e-6 && (got[1] - 0.9).abs() < 1e-6,
            "{got:?}"
        );

        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[2], nn::Init::Const(0.0));
        let mut sgd_like = Adam::new(&vs, 1.0).with_max_grad_norm(1.0);
        let _ = sgd_like.step(&(&w * Tensor::from_slice(&[30.0f32, 40.0])).sum(Kind::Float));
        // Clipping scales the gradient, Adam normalises it: still ±lr.
        let got = Vec::<f32>::try_from(&w).unwrap();
        assert!((got[0] + 1.0).abs() < 1e-5, "{got:?}");
    }

    #[test]
    fn a_max_grad_norm_of_zero_or_less_does_not_clip() {
        let vs = nn::VarStore::new(Device::Cpu);
        let _w = vs.root().var("w", &[2], nn::Init::Const(1.0));
        for max in [0.0, -1.0, f64::NAN] {
            let opt = Adam::new(&vs, 0.1).with_max_grad_norm(max);
            assert_eq!(opt.max_grad_norm, None, "{max}");
        }
        let opt = Adam::new(&vs, 0.1).with_max_grad_norm(20.0);
        assert_eq!(opt.max_grad_norm, Some(20.0));
    }

    #[test]
    fn adam_state_round_trips() {
        let dir = std::env::temp_dir().join(format!("ctrlbench-adam-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let vs = nn::VarStore::new(Device::Cpu);
        let w = vs.root().var("w", &[2], nn::Init::Const(1.0));
        let mut opt = Adam::adamw(&vs, 0.01, 0.1);
        for _ in 0..3 {
            let _ = opt.step(&w.pow_tensor_scalar(2).sum(Kind::Float));
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
}
