//! The official code's parameter layout (aidanscannell/dcmpc, `dcmpc.py`)
//! and the replay that checks this agent against that code step by step
//! (`scripts/dcwm_official_check.py` drives both sides).
//!
//! Layout ([`Dcwm::export_official`], [`Dcwm::import_official`]): every
//! parameter under its name in the official modules' `state_dict`s —
//! `model._encoder.state.*`, `model._trans.*`, `model._reward.*`, `_pi.*`,
//! `_pi_tar.*`, `_Qs.params.<n>`, `Qs_tar.params.<n>` — in the official
//! shapes. Three differ from ours: the dynamics head's rows (ours
//! class-major, unit `c·d + i`; official latent-major, `i·C + c`), the
//! critics' weights (ours `[K, in, out]`, official `[K, out, in]`) and the
//! critics' biases and LayerNorm vectors (ours `[K, 1, out]`, official
//! `[K, out]`). Hidden layer `i` of an MLP is official `i` (its LayerNorm
//! `i.norm`), the head `n_hidden`; critic layer `i` is `params.4i` (weight),
//! `4i+1` (bias), `4i+2`, `4i+3` (LayerNorm), as PyTorch's
//! `stack_module_state` orders a `NormedLinear` stack.
//!
//! Replay ([`replay`]): a work directory holds `config.json` (the DCWM
//! config, sizes, the number of updates, the plans), `weights.safetensors`
//! (official layout) and `inputs.safetensors` (each update's slice batch and
//! noise, `u<k>.*`; each plan's observation and noise, `p<p>.*`). The
//! replay loads the weights, sets the critic-update counter, runs the
//! updates with the given noise (recording encodings, losses, gradients
//! before each optimizer step, TD targets and parameters after each update,
//! all in official names and layouts), then the plans on the updated
//! networks (each iteration's values and elites, the final mean, std and
//! action; a `warm` plan warm-starts from the previous plan of its mode),
//! and writes `rust.safetensors`; with `time_calls > 0` it also times that
//! many updates and plans (after 3 warm-up calls) into `rust.json`.

use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

use serde::Deserialize;
use tch::{Device, Kind, Tensor, nn};

use super::acting::{PlanNets, PlanningModel};
use super::planner::{PlanNoise, PlanTrace, plan};
use super::update::UpdateNoise;
use super::{ConsistencyLoss, Dcwm, DcwmConfig};
use crate::agent::AgentError;
use crate::buffer::SliceBatch;

/// What a traced update records: each optimizer's gradients as its step
/// used them (after clipping), in our names, with the gradient norms
/// (before clipping) and the TD targets.
#[derive(Default)]
pub(super) struct UpdateTrace {
    pub(super) world_model_grads: Vec<(String, Tensor)>,
    pub(super) world_model_grad_norm: Option<Tensor>,
    pub(super) critic_grads: Vec<(String, Tensor)>,
    pub(super) critic_grad_norm: Option<Tensor>,
    pub(super) td_target: Option<Tensor>,
    /// The actor step's gradients, loss and gradient norm, when it stepped.
    pub(super) actor: Option<ActorStepTrace>,
}

/// An actor step's gradients (our names), loss and gradient norm.
pub(super) type ActorStepTrace = (Vec<(String, Tensor)>, Tensor, Tensor);

/// Copies of the defined gradients of a store's variables, by name, times
/// the optimizer's clip coefficient `clip` (the gradients its step used).
pub(super) fn gradients(vs: &nn::VarStore, clip: Option<&Tensor>) -> Vec<(String, Tensor)> {
    let mut out: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter_map(|(name, v)| {
            let g = v.grad();
            g.defined().then(|| {
                let g = g.detach().copy();
                (name, clip.map_or_else(|| g.shallow_clone(), |c| &g * c))
            })
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// The parameter stores of the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    WorldModel,
    Actor,
    ActorTarget,
    Critic,
    CriticTarget,
}

impl Store {
    const ALL: [Store; 5] = [
        Store::WorldModel,
        Store::Actor,
        Store::ActorTarget,
        Store::Critic,
        Store::CriticTarget,
    ];

    fn of(self, a: &Dcwm) -> &nn::VarStore {
        match self {
            Store::WorldModel => &a.wm.vs,
            Store::Actor => &a.ac.actor_vs,
            Store::ActorTarget => &a.ac.actor_target_vs,
            Store::Critic => &a.ac.critic_vs,
            Store::CriticTarget => &a.ac.critic_target_vs,
        }
    }

    /// The official name prefix.
    fn prefix(self) -> &'static str {
        match self {
            Store::WorldModel => "model.",
            Store::Actor => "_pi.",
            Store::ActorTarget => "_pi_tar.",
            Store::Critic => "_Qs.params.",
            Store::CriticTarget => "Qs_tar.params.",
        }
    }
}

/// How a tensor's official shape derives from ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Same,
    /// Dynamics head rows: ours `c·d + i`, official `i·C + c`.
    LatentMajor {
        classes: i64,
        latents: i64,
    },
    /// Ensemble weight `[K, in, out]` → `[K, out, in]`.
    EnsembleWeight,
    /// Ensemble vector `[K, 1, out]` → `[K, out]`.
    EnsembleVector,
}

/// `t` viewed as `[a, b, rest…]`, transposed to `[b, a, rest…]` and
/// flattened back to `[a·b, rest…]`: row `i·b + j` becomes row `j·a + i`.
fn swap_row_blocks(t: &Tensor, a: i64, b: i64) -> Tensor {
    let rest: Vec<i64> = t.size()[1..].to_vec();
    let shape: Vec<i64> = [a, b].iter().chain(&rest).copied().collect();
    let flat: Vec<i64> = [a * b].iter().chain(&rest).copied().collect();
    t.view(shape.as_slice())
        .transpose(0, 1)
        .contiguous()
        .view(flat.as_slice())
}

impl Layout {
    fn to_official(self, t: &Tensor) -> Tensor {
        match self {
            Layout::Same => t.shallow_clone(),
            Layout::LatentMajor { classes, latents } => swap_row_blocks(t, classes, latents),
            Layout::EnsembleWeight => t.transpose(1, 2).contiguous(),
            Layout::EnsembleVector => t.squeeze_dim(1),
        }
    }

    fn to_ours(self, t: &Tensor) -> Tensor {
        match self {
            Layout::Same => t.shallow_clone(),
            Layout::LatentMajor { classes, latents } => swap_row_blocks(t, latents, classes),
            Layout::EnsembleWeight => t.transpose(1, 2).contiguous(),
            Layout::EnsembleVector => t.unsqueeze(1),
        }
    }
}

/// The official name of MLP parameter `rust` (`l<i>.weight`, `ln<i>.bias`,
/// `head.weight`, ...) of an MLP with `n_hidden` hidden layers.
fn mlp_key(rust: &str, n_hidden: usize) -> Option<String> {
    let (layer, param) = rust.split_once('.')?;
    if layer == "head" {
        return Some(format!("{n_hidden}.{param}"));
    }
    if let Some(i) = layer.strip_prefix("ln") {
        return Some(format!("{}.norm.{param}", i.parse::<usize>().ok()?));
    }
    let i = layer.strip_prefix('l')?.parse::<usize>().ok()?;
    Some(format!("{i}.{param}"))
}

/// The official index and layout of critic parameter `rust` (`w<i>`,
/// `b<i>`, `ln<i>_gamma`, `ln<i>_beta`).
fn ensemble_key(rust: &str) -> Option<(usize, Layout)> {
    let (i, offset, layout) = if let Some(rest) = rust.strip_prefix("ln") {
        let (i, which) = rest.split_once('_')?;
        let offset = match which {
            "gamma" => 2,
            "beta" => 3,
            _ => return None,
        };
        (i, offset, Layout::EnsembleVector)
    } else if let Some(i) = rust.strip_prefix('w') {
        (i, 0, Layout::EnsembleWeight)
    } else {
        (rust.strip_prefix('b')?, 1, Layout::EnsembleVector)
    };
    Some((4 * i.parse::<usize>().ok()? + offset, layout))
}

impl Dcwm {
    /// Every parameter: its store, our name, its official name and layout.
    fn official_names(&self) -> Result<Vec<(Store, String, String, Layout)>, AgentError> {
        let n_enc = self.cfg.enc_mlp_dims.len();
        let n_mlp = self.cfg.mlp_dims.len();
        let head_rows = match self.wm.codebook_size() {
            Some(c) if self.cfg.consistency_loss == ConsistencyLoss::CrossEntropy => {
                Layout::LatentMajor {
                    classes: c,
                    latents: self.cfg.latent_dim as i64,
                }
            }
            _ => Layout::Same,
        };
        let unknown = |name: &str| AgentError::Other(format!("no official name for '{name}'"));
        let mut out = Vec::new();
        for store in Store::ALL {
            let mut names: Vec<String> = store.of(self).variables().into_keys().collect();
            names.sort();
            for name in names {
                let (official, layout) = match store {
                    Store::WorldModel => {
                        let (net, rest) = name.split_once('.').ok_or_else(|| unknown(&name))?;
                        let (module, n) = match net {
                            "encoder" => ("_encoder.state", n_enc),
                            "dynamics" => ("_trans", n_mlp),
                            "reward" => ("_reward", n_mlp),
                            _ => return Err(unknown(&name)),
                        };
                        let key = mlp_key(rest, n).ok_or_else(|| unknown(&name))?;
                        let layout = if net == "dynamics" && rest.starts_with("head") {
                            head_rows
                        } else {
                            Layout::Same
                        };
                        (format!("{module}.{key}"), layout)
                    }
                    Store::Actor | Store::ActorTarget => (
                        mlp_key(&name, n_mlp).ok_or_else(|| unknown(&name))?,
                        Layout::Same,
                    ),
                    Store::Critic | Store::CriticTarget => {
                        let (i, layout) = ensemble_key(&name).ok_or_else(|| unknown(&name))?;
                        (i.to_string(), layout)
                    }
                };
                out.push((store, name, format!("{}{official}", store.prefix()), layout));
            }
        }
        Ok(out)
    }

    /// Every parameter (world model, actor, critics and their targets) under
    /// its official name, in the official layout, on the CPU.
    pub fn export_official(&self) -> Result<Vec<(String, Tensor)>, AgentError> {
        let mut out = Vec::new();
        for (store, name, official, layout) in self.official_names()? {
            let v = &store.of(self).variables()[&name];
            // A copy, not a view of the live parameter: a snapshot.
            let t = tch::no_grad(|| {
                layout
                    .to_official(&v.detach())
                    .to_device(Device::Cpu)
                    .copy()
            });
            out.push((official, t));
        }
        Ok(out)
    }

    /// Loads every parameter from official names and layouts (names not
    /// ours, e.g. FSQ buffers, are ignored); a missing name or a shape that
    /// does not fit is an error naming it.
    pub fn import_official(&mut self, tensors: &HashMap<String, Tensor>) -> Result<(), AgentError> {
        for (store, name, official, layout) in self.official_names()? {
            let t = tensors
                .get(&official)
                .ok_or_else(|| AgentError::Other(format!("weights lack '{official}'")))?;
            let mut v = store.of(self).variables()[&name].shallow_clone();
            let ours = layout.to_ours(t);
            if ours.size() != v.size() {
                return Err(AgentError::Other(format!(
                    "'{official}' has shape {:?}, '{name}' needs {:?} in our layout",
                    t.size(),
                    v.size()
                )));
            }
            tch::no_grad(|| v.copy_(&ours.to_kind(Kind::Float)));
        }
        self.plan_nets = None;
        Ok(())
    }

    /// Gradients in our names of `store` → official names and layouts.
    fn official_grads(
        &self,
        store: Store,
        grads: &[(String, Tensor)],
        out: &mut Vec<(String, Tensor)>,
        key: &str,
    ) -> Result<(), AgentError> {
        let names = self.official_names()?;
        for (name, g) in grads {
            let (_, _, official, layout) = names
                .iter()
                .find(|(s, n, _, _)| *s == store && n == name)
                .ok_or_else(|| AgentError::Other(format!("no official name for '{name}'")))?;
            out.push((
                format!("{key}.grad.{official}"),
                layout.to_official(g).contiguous(),
            ));
        }
        Ok(())
    }
}

/// One plan of the replay.
#[derive(Debug, Deserialize)]
struct PlanSpec {
    /// `explore` or `eval`.
    mode: String,
    /// Warm-start from the previous plan of the same mode.
    warm: bool,
}

/// `config.json` of a replay work directory.
#[derive(Debug, Deserialize)]
struct ReplayConfig {
    dcwm: DcwmConfig,
    obs_dim: usize,
    act_dim: usize,
    /// The critic-update counter before the first update.
    critic_updates: u64,
    updates: usize,
    plans: Vec<PlanSpec>,
    /// The exploration std of the plans.
    plan_sigma: f64,
    #[serde(default)]
    time_calls: usize,
}

fn other(e: impl std::fmt::Display) -> AgentError {
    AgentError::Other(e.to_string())
}

/// The named tensors of a safetensors file.
fn read_tensors(path: &Path) -> Result<HashMap<String, Tensor>, AgentError> {
    let named = Tensor::read_safetensors(path)
        .map_err(|e| AgentError::Other(format!("reading {}: {e}", path.display())))?;
    Ok(named.into_iter().collect())
}

fn get<'a>(t: &'a HashMap<String, Tensor>, key: &str) -> Result<&'a Tensor, AgentError> {
    t.get(key)
        .ok_or_else(|| AgentError::Other(format!("inputs lack '{key}'")))
}

fn floats(t: &Tensor) -> Result<Vec<f32>, AgentError> {
    Vec::<f32>::try_from(t.to_kind(Kind::Float).flatten(0, -1)).map_err(other)
}

fn ints(t: &Tensor) -> Result<Vec<i64>, AgentError> {
    Vec::<i64>::try_from(t.to_kind(Kind::Int64).flatten(0, -1)).map_err(other)
}

fn scalar(x: f64) -> Tensor {
    Tensor::from_slice(&[x as f32])
}

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The slice batch and noise of update `k`.
fn update_inputs(
    agent: &Dcwm,
    inputs: &HashMap<String, Tensor>,
    k: usize,
) -> Result<(SliceBatch, UpdateNoise), AgentError> {
    let key = |s: &str| format!("u{k}.{s}");
    let reward = get(inputs, &key("reward"))?;
    let horizon = reward.size()[1] as usize;
    let batch = SliceBatch {
        horizon,
        obs: floats(get(inputs, &key("obs"))?)?,
        action: floats(get(inputs, &key("action"))?)?,
        reward: floats(reward)?,
        terminated: floats(get(inputs, &key("terminated"))?)?,
    };
    let gumbel = match agent.wm.gumbel_shape(reward.size()[0]) {
        Some(_) => Some(get(inputs, &key("gumbel"))?.to_kind(Kind::Float)),
        None => None,
    };
    let noise = UpdateNoise {
        gumbel,
        smoothing: get(inputs, &key("smoothing"))?.to_kind(Kind::Float),
        target_critics: ints(get(inputs, &key("target_critics"))?)?,
        actor_critics: match agent.actor_due() {
            true => Some(ints(get(inputs, &key("actor_critics"))?)?),
            false => None,
        },
    };
    Ok((batch, noise))
}

/// The observation and noise of plan `p`.
fn plan_inputs(
    inputs: &HashMap<String, Tensor>,
    p: usize,
    q: usize,
) -> Result<(Tensor, PlanNoise), AgentError> {
    let key = |s: &str| format!("p{p}.{s}");
    let critics = ints(get(inputs, &key("critics"))?)?
        .chunks(q)
        .map(<[i64]>::to_vec)
        .collect();
    let f =
        |s: &str| -> Result<Tensor, AgentError> { Ok(get(inputs, &key(s))?.to_kind(Kind::Float)) };
    let noise = PlanNoise {
        samples: f("samples")?,
        prior: f("prior")?,
        terminal: f("terminal")?,
        choice: f("choice")?.view([1]),
        explore: f("explore")?,
        critics,
    };
    Ok((f("obs")?.view([1, -1]), noise))
}

/// Runs the replay of `dir` (see the module doc) on the CPU.
pub fn replay(dir: &Path) -> Result<(), AgentError> {
    crate::device::apply_torch_threads();
    let text = std::fs::read_to_string(dir.join("config.json"))
        .map_err(|e| AgentError::Other(format!("reading {}/config.json: {e}", dir.display())))?;
    let rc: ReplayConfig = serde_json::from_str(&text)
        .map_err(|e| AgentError::Other(format!("{}/config.json: {e}", dir.display())))?;
    let weights = read_tensors(&dir.join("weights.safetensors"))?;
    let inputs = read_tensors(&dir.join("inputs.safetensors"))?;
    let mut agent = Dcwm::with_config(rc.dcwm, rc.obs_dim, rc.act_dim, Device::Cpu, 0)?;
    agent.import_official(&weights)?;
    agent.state.critic_updates = rc.critic_updates;
    let mut out: Vec<(String, Tensor)> = Vec::new();

    for k in 0..rc.updates {
        let (batch, noise) = update_inputs(&agent, &inputs, k)?;
        let key = format!("u{k}");
        // The first observation's encoding before the update.
        let (b, t1) = (
            (batch.reward.len() / batch.horizon) as i64,
            batch.horizon as i64 + 1,
        );
        let obs0 = Tensor::from_slice(&batch.obs)
            .view([b, t1, rc.obs_dim as i64])
            .select(1, 0);
        tch::no_grad(|| {
            out.push((format!("{key}.z0"), agent.wm.pre_quantization(&obs0)));
            if let Some(idx) = agent.wm.encode(&agent.wm.nets(), &obs0).indices {
                out.push((format!("{key}.indices"), idx));
            }
        });
        let mut trace = UpdateTrace::default();
        agent.update_traced(&batch, noise, Some(&mut trace));
        agent.settle_metrics();
        let st = &agent.state;
        out.push((
            format!("{key}.consistency_loss"),
            scalar(st.consistency_loss),
        ));
        out.push((format!("{key}.reward_loss"), scalar(st.reward_loss)));
        out.push((format!("{key}.critic_loss"), scalar(st.critic_loss)));
        for (name, norm) in [
            ("world_model_grad_norm", &trace.world_model_grad_norm),
            ("critic_grad_norm", &trace.critic_grad_norm),
        ] {
            if let Some(n) = norm {
                out.push((format!("{key}.{name}"), n.detach().copy().view([1])));
            }
        }
        if let Some(t) = &trace.td_target {
            out.push((format!("{key}.td_target"), t.detach().copy()));
        }
        agent.official_grads(Store::WorldModel, &trace.world_model_grads, &mut out, &key)?;
        agent.official_grads(Store::Critic, &trace.critic_grads, &mut out, &key)?;
        if let Some((grads, loss, norm)) = &trace.actor {
            out.push((format!("{key}.actor_loss"), loss.detach().copy().view([1])));
            out.push((
                format!("{key}.actor_grad_norm"),
                norm.detach().copy().view([1]),
            ));
            agent.official_grads(Store::Actor, grads, &mut out, &key)?;
        }
        for (name, t) in agent.export_official()? {
            out.push((format!("{key}.param.{name}"), t));
        }
    }

    let mppi = agent.cfg.mppi();
    let q = agent.cfg.q_sample_size;
    let sigma = rc.plan_sigma;
    let nets = PlanNets::new(&agent.wm, &agent.ac);
    let model = PlanningModel {
        wm: &agent.wm,
        nets: &nets,
    };
    let mut prev: [Option<Tensor>; 2] = [None, None];
    let run_plan =
        |p: usize, spec: &PlanSpec, prev: &[Option<Tensor>; 2], trace: Option<&mut PlanTrace>| {
            let (obs, noise) = plan_inputs(&inputs, p, q)?;
            let (slot, explore_std) = match spec.mode.as_str() {
                "explore" => (0, sigma),
                "eval" => (1, 0.0),
                m => {
                    return Err(AgentError::Other(format!(
                        "plan mode '{m}': explore or eval"
                    )));
                }
            };
            let warm = if spec.warm { prev[slot].as_ref() } else { None };
            let plan = tch::no_grad(|| {
                let z0 = agent.wm.encode(&nets.wm, &obs).repr;
                plan(&model, &mppi, &z0, warm, &noise, sigma, explore_std, trace)
            });
            Ok::<_, AgentError>((slot, plan))
        };
    for (p, spec) in rc.plans.iter().enumerate() {
        let mut trace = PlanTrace::default();
        let (slot, plan) = run_plan(p, spec, &prev, Some(&mut trace))?;
        let key = format!("p{p}");
        out.push((format!("{key}.action"), plan.action.shallow_clone()));
        out.push((format!("{key}.mean"), plan.mean.shallow_clone()));
        out.push((format!("{key}.std"), plan.std.shallow_clone()));
        out.push((format!("{key}.values"), Tensor::stack(&trace.values, 0)));
        out.push((format!("{key}.elites"), Tensor::stack(&trace.elites, 0)));
        prev[slot] = Some(plan.mean);
    }

    // Timing: plans on the trained weights, then updates (which change them).
    let mut timing = serde_json::Map::new();
    if rc.time_calls > 0 {
        let calls = rc.time_calls + 3;
        let first = rc
            .plans
            .first()
            .ok_or_else(|| AgentError::Other("timing needs a plan".into()))?;
        let mut plan_ms = Vec::new();
        for _ in 0..calls {
            let t = Instant::now();
            let (_, plan) = run_plan(0, first, &[None, None], None)?;
            let _ = Vec::<f32>::try_from(plan.action).map_err(other)?;
            plan_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let mut update_ms = Vec::new();
        for _ in 0..calls {
            let (batch, noise) = update_inputs(&agent, &inputs, 0)?;
            let t = Instant::now();
            agent.update_with(&batch, noise);
            agent.settle_metrics();
            update_ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        plan_ms.drain(..3);
        update_ms.drain(..3);
        timing.insert("median_plan_ms".into(), median_ms(plan_ms.clone()).into());
        timing.insert(
            "median_update_ms".into(),
            median_ms(update_ms.clone()).into(),
        );
        timing.insert("plan_ms".into(), plan_ms.into());
        timing.insert("update_ms".into(), update_ms.into());
        // The plan's FLOP floor: its matmul FLOPs at the machine's rate.
        if let Some(flops) = agent.plan_flops() {
            timing.insert("plan_gflop".into(), (flops / 1e9).into());
        }
        timing.insert(
            "matmul_gflops".into(),
            crate::device::matmul_gflops(agent.device).into(),
        );
    }
    timing.insert("threads".into(), tch::get_num_threads().into());

    let out: Vec<(String, Tensor)> = out
        .into_iter()
        .map(|(k, t)| (k, t.to_device(Device::Cpu).contiguous()))
        .collect();
    Tensor::write_safetensors(&out, dir.join("rust.safetensors")).map_err(other)?;
    let json = serde_json::to_string_pretty(&timing).map_err(other)?;
    std::fs::write(dir.join("rust.json"), json).map_err(other)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::{Agent, Mode};
    use crate::dcwm::RewardBound;

    fn agent(seed: u64) -> Dcwm {
        let cfg = DcwmConfig {
            latent_dim: 4,
            enc_mlp_dims: vec![8],
            mlp_dims: vec![16, 16],
            num_critics: 3,
            r_min: Some(RewardBound::Fixed(0.0)),
            r_max: Some(RewardBound::Fixed(2.0)),
            ..DcwmConfig::default()
        };
        Dcwm::with_config(cfg, 5, 2, Device::Cpu, seed).unwrap()
    }

    #[test]
    fn official_names_and_layouts() {
        let a = agent(1);
        let named: HashMap<String, Tensor> = a.export_official().unwrap().into_iter().collect();
        let shape = |k: &str| named[k].size();
        // Encoder: one hidden layer and its LayerNorm, then the head to d·b.
        assert_eq!(shape("model._encoder.state.0.weight"), [8, 5]);
        assert_eq!(shape("model._encoder.state.0.norm.bias"), [8]);
        assert_eq!(shape("model._encoder.state.1.weight"), [8, 8]);
        // Dynamics: logits of 15 codes for each of 4 latents.
        assert_eq!(shape("model._trans.2.weight"), [60, 16]);
        assert_eq!(shape("_pi_tar.1.norm.weight"), [16]);
        // Critics: [K, out, in] weights, [K, out] vectors, head at 8 and 9.
        assert_eq!(shape("_Qs.params.0"), [3, 16, 10]);
        assert_eq!(shape("_Qs.params.1"), [3, 16]);
        assert_eq!(shape("Qs_tar.params.7"), [3, 16]);
        assert_eq!(shape("_Qs.params.8"), [3, 1, 16]);
        assert_eq!(shape("_Qs.params.9"), [3, 1]);
        // Official row i·C + c of the dynamics head is our row c·d + i.
        let ours = &a.wm.vs.variables()["dynamics.head.weight"];
        let (i, c, d) = (3, 7, 4);
        let diff = (named["model._trans.2.weight"].get(i * 15 + c) - ours.get(c * d + i))
            .abs()
            .max()
            .double_value(&[]);
        assert_eq!(diff, 0.0);
    }

    #[test]
    fn import_of_an_export_gives_the_same_agent() {
        let a = agent(1);
        let mut b = agent(2);
        let exported: HashMap<String, Tensor> = a.export_official().unwrap().into_iter().collect();
        b.import_official(&exported).unwrap();
        for store in Store::ALL {
            let (va, vb) = (store.of(&a).variables(), store.of(&b).variables());
            for (name, t) in va {
                let d = (&t - &vb[&name]).abs().max().double_value(&[]);
                assert_eq!(d, 0.0, "{store:?} {name}");
            }
        }
        let obs = [0.1f32, -0.2, 0.3, 0.0, 0.5];
        let (mut a, mut b) = (a, b);
        a.begin_episode(Mode::Eval(0), 5);
        b.begin_episode(Mode::Eval(0), 5);
        let (x, y) = (
            a.select_action(&obs, Mode::Eval(0)).unwrap(),
            b.select_action(&obs, Mode::Eval(0)).unwrap(),
        );
        assert_eq!(x, y);
        // A missing parameter is an error naming it.
        let mut partial = exported;
        partial.remove("_Qs.params.3");
        let e = b.import_official(&partial).unwrap_err().to_string();
        assert!(e.contains("_Qs.params.3"), "{e}");
    }
}
